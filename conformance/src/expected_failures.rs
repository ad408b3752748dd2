//! The strict expected-failures baseline of a server under test. One case per line:
//! `<scenario id>` (every transport) or `<scenario id> <transport>`; `#` starts a comment, which
//! is the place for the reason:
//!
//! ```text
//! # other-mcp: answers batches with 415
//! protocol/batch__rejected  http   # returns 415 plain text
//! lifecycle/initialize__unknown_version
//! ```
//!
//! Strict both ways: a listed case that fails is an expected failure (counted as passed), a
//! listed case that passes is STALE (counted as failed: delete the line), an unlisted failure
//! fails. A line naming no known scenario or transport is itself a failure, so typos do not
//! silently excuse anything.

use crate::driver::Transport;
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
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let id = words.next().unwrap_or_default().to_string();
            let transport = match words.next() {
                None => None,
                Some(t) => Some(
                    Transport::parse(t)
                        .with_context(|| format!("line {}: unknown transport `{t}` (stdio, http, sse)", i + 1))?,
                ),
            };
            if words.next().is_some() {
                bail!("line {}: expected `<scenario id> [transport]`", i + 1);
            }
            if !id.contains('/') {
                bail!(
                    "line {}: `{id}` is not a scenario id (<category>/<tool>__<case>)",
                    i + 1
                );
            }
            if !seen.insert((id.clone(), transport)) {
                bail!("line {}: `{line}` is listed twice", i + 1);
            }
            entries.push(Entry {
                id,
                transport,
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

    fn lists(&self, id: &str, transport: Transport) -> bool {
        self.entries
            .iter()
            .any(|e| e.id == id && e.transport.is_none_or(|t| t == transport))
    }

    /// Applies the baseline to judged cases. `known_ids` are all scenario ids that exist (not
    /// only those selected by `--only`). Returns problems with the file itself (each counts as
    /// one failure).
    pub fn apply(&self, outcomes: &mut [CaseOutcome], known_ids: &BTreeSet<String>) -> Vec<String> {
        for o in outcomes.iter_mut() {
            if !self.lists(&o.id, o.transport) {
                continue;
            }
            match o.status {
                Status::Failed => o.status = Status::ExpectedFailure,
                Status::Passed => {
                    o.status = Status::Stale;
                    o.note = Some(format!(
                        "listed in the expected-failures file but passed on {}: delete the line",
                        o.transport
                    ));
                }
                Status::ExpectedFailure | Status::Stale => {}
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
        let f = ExpectedFailures::parse("# header\n\nlifecycle/a__b   # why\nprotocol/c__d http\n").expect("parses");
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[1].transport, Some(Transport::Http));
        assert!(ExpectedFailures::parse("lifecycle/a__b carrier-pigeon").is_err());
        assert!(ExpectedFailures::parse("a__b").is_err());
        assert!(ExpectedFailures::parse("x/a__b\nx/a__b").is_err());
    }
}
