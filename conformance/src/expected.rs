//! Expected transcripts: the one source of truth shared by `cargo test` and the CLI. They are
//! insta snapshot files, `fixtures/expected/<category>/<tool>__<case>.snap` for the handshake
//! era and `<tool>__<case>@stateless.snap` beside it for the stateless era (the wire differs:
//! `server/discover` instead of `initialize`, `_meta` on every request, `resultType` and
//! caching hints in results), written and
//! reviewed with `cargo insta test` / `cargo insta review` (the test suite asserts them with
//! `insta::assert_json_snapshot!`), and read here by the CLI, which parses the JSON body after
//! insta's `---` header. A missing file is reported with the command that creates it.

use crate::era::Era;
use crate::scenario::Scenario;
use anyhow::{Context, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The snapshot name of `scenario` in `era` (the file name without `.snap`).
pub fn snapshot_name(scenario: &Scenario, era: Era) -> String {
    match era {
        Era::Handshake => scenario.name(),
        Era::Stateless => format!("{}@{}", scenario.name(), era.name()),
    }
}

/// Where the expected transcript of `scenario` in `era` lives under `root`.
pub fn path_for(root: &Path, scenario: &Scenario, era: Era) -> PathBuf {
    root.join(&scenario.category)
        .join(format!("{}.snap", snapshot_name(scenario, era)))
}

/// Reads an expected transcript; `Ok(None)` when the file does not exist.
pub fn read(root: &Path, scenario: &Scenario, era: Era) -> anyhow::Result<Option<Value>> {
    let path = path_for(root, scenario, era);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    parse_snap(&text)
        .with_context(|| format!("{} is not an insta JSON snapshot", path.display()))
        .map(Some)
}

/// The JSON body of an insta snapshot file (header `---` … `---`, then the content).
pub fn parse_snap(text: &str) -> anyhow::Result<Value> {
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(end) => &rest[end + "\n---\n".len()..],
            None => bail!("the header has no closing `---`"),
        },
        None => text,
    };
    serde_json::from_str(body).context("the snapshot body is not JSON")
}

/// Writes `transcript` as an insta-compatible snapshot (used to seed expected files for a new
/// server outside `cargo test`; `cargo insta review` accepts them like its own).
pub fn write(root: &Path, scenario: &Scenario, era: Era, transcript: &Value) -> anyhow::Result<PathBuf> {
    let path = path_for(root, scenario, era);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = format!(
        "---\nsource: conformance/tests/alloy_mcp/scenarios.rs\nexpression: transcript\n---\n{}",
        crate::transcript::pretty(transcript)
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_after_the_insta_header_is_read() {
        let text = "---\nsource: x.rs\nexpression: transcript\n---\n{\n  \"a\": 1\n}\n";
        assert_eq!(parse_snap(text).expect("parses"), serde_json::json!({"a": 1}));
        assert!(parse_snap("---\nsource: x\n").is_err());
    }
}
