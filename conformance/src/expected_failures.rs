//! The strict expected-failures baseline of a server under test. One case per line:
//! `<scenario id> [transport] [era]` (a missing transport or era means every one); `#` starts
//! a comment, which is the place for the reason, and a line must have one:
//!
//! ```text
//! # other-mcp: answers batches with 415
//! protocol/batch__rejected  http             # returns 415 plain text
//! lifecycle/initialize__unknown_version      # picks 2025-03-26 instead of its latest
//! tools/get_ticket__ok      stateless        # no resultType in results
//! ```
//!
//! Strict both ways: a listed case that fails is an expected failure (counted as passed), a
//! listed case that passes is STALE (counted as failed: delete the line), an unlisted failure
//! fails. A line naming no known scenario or transport is itself a failure, so typos do not
//! silently excuse anything.

use crate::driver::Transport;
use crate::era::Era;
use crate::runner::{CaseOutcome, Status};
use anyhow::{Context, bail};
use std::collections::BTreeSet;
use std::path::Path;

/// One line of the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Scenario id, `<category>/<tool>__<case>`.
    pub id: String,
    /// `None` = every transport.
    pub transport: Option<Transport>,
    /// `None` = every era.
    pub era: Option<Era>,
    /// The reason (the comment).
    pub reason: String,
    /// 1-based line number, for messages.
    pub line: usize,
}

/// A parsed baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectedFailures {
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

impl ExpectedFailures {
    /// Parses the file format.
    pub fn parse(text: &str) -> anyhow::Result<ExpectedFailures> {
        let mut entries = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let (line, reason) = raw.split_once('#').unwrap_or((raw, ""));
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                bail!("line {}: `{line}` has no reason: add `# why it fails`", i + 1);
            }
            let mut words = line.split_whitespace();
            let id = words.next().unwrap_or_default().to_string();
            let (mut transport, mut era) = (None, None);
            for w in words {
                match (Transport::parse(w), Era::parse(w)) {
                    (Some(t), _) if transport.is_none() => transport = Some(t),
                    (_, Some(e)) if era.is_none() => era = Some(e),
                    _ => bail!(
                        "line {}: `{w}` is not a transport (stdio, http, sse) or an era (handshake, stateless), or is given twice; expected `<scenario id> [transport] [era]  # reason`",
                        i + 1
                    ),
                }
            }
            if !id.contains('/') {
                bail!(
                    "line {}: `{id}` is not a scenario id (<category>/<tool>__<case>)",
                    i + 1
                );
            }
            if !seen.insert((id.clone(), transport, era)) {
                bail!("line {}: `{line}` is listed twice", i + 1);
            }
            entries.push(Entry {
                id,
                transport,
                era,
                reason,
                line: i + 1,
            });
        }
        Ok(ExpectedFailures { entries })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> anyhow::Result<ExpectedFailures> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the expected-failures file {}", path.display()))?;
        ExpectedFailures::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// The entry that covers a case, if any.
    pub fn entry_for(&self, id: &str, transport: Transport, era: Era) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.id == id && e.transport.is_none_or(|t| t == transport) && e.era.is_none_or(|x| x == era))
    }

    /// Applies the baseline to judged cases. `known_ids` are all scenario ids that exist (not
    /// only those selected by `--only`). Returns problems with the file itself (each counts as
    /// one failure).
    pub fn apply(&self, outcomes: &mut [CaseOutcome], known_ids: &BTreeSet<String>) -> Vec<String> {
        for o in outcomes.iter_mut() {
            if self.entry_for(&o.id, o.transport, o.era).is_none() {
                continue;
            }
            match o.status {
                Status::Failed | Status::NotVerified => o.status = Status::ExpectedFailure,
                Status::Passed => {
                    o.status = Status::Stale;
                    o.note = Some(format!(
                        "listed in the expected-failures file but passed on {} in the {} era: delete the line",
                        o.transport, o.era
                    ));
                }
                Status::ExpectedFailure | Status::Stale | Status::NotApplicable => {}
            }
        }
        self.entries
            .iter()
            .filter(|e| !known_ids.contains(&e.id))
            .map(|e| format!("expected-failures line {}: no scenario `{}` exists", e.line, e.id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_transports_are_understood() {
        let f = ExpectedFailures::parse(
            "# header\n\nlifecycle/a__b   # why\nprotocol/c__d http # because\nprotocol/c__d stateless stdio # so\n",
        )
        .expect("parses");
        assert_eq!(f.entries.len(), 3);
        assert_eq!(f.entries[1].transport, Some(Transport::Http));
        assert_eq!(f.entries[1].reason, "because");
        assert_eq!(f.entries[2].era, Some(Era::Stateless));
        assert!(f.entry_for("protocol/c__d", Transport::Stdio, Era::Stateless).is_some());
        assert!(f.entry_for("protocol/c__d", Transport::Stdio, Era::Handshake).is_none());
        assert!(ExpectedFailures::parse("lifecycle/a__b carrier-pigeon # x").is_err());
        assert!(ExpectedFailures::parse("lifecycle/a__b http http # x").is_err());
        assert!(ExpectedFailures::parse("a__b # x").is_err());
        assert!(ExpectedFailures::parse("x/a__b # x\nx/a__b # y").is_err());
        let no_reason = ExpectedFailures::parse("x/a__b http").expect_err("a reason is required");
        assert!(no_reason.to_string().contains("no reason"), "{no_reason}");
    }
}
