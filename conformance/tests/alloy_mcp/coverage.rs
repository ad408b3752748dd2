//! Scenario coverage of the tool surface: every tool `alloy-mcp` lists has at least one success
//! case (a `tools/call` answered with `isError: false`) and one error case (`isError: true` or a
//! JSON-RPC error) among the committed expected transcripts, which the scenario test keeps equal
//! to what the server does; and no expected transcript is left without its scenario file.

use crate::support::{Server, timeouts};
use alloy_conformance::driver::Transport;
use alloy_conformance::era::Era;
use alloy_conformance::expected;
use alloy_conformance::runner::{self, Fixtures};
use alloy_conformance::scenario::{self, DEFAULT_PROTOCOL_VERSION};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How a tool call ended in a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Success,
    Error,
}

/// Every `tools/call` of a transcript with how it was answered.
fn tool_calls(transcript: &Value) -> Vec<(String, Verdict)> {
    let mut calls = Vec::new();
    let exchanges = transcript
        .get("exchanges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for ex in exchanges {
        let Some(sent) = ex.get("send") else { continue };
        if sent.get("method").and_then(Value::as_str) != Some("tools/call") {
            continue;
        }
        let Some(name) = sent.pointer("/params/name").and_then(Value::as_str) else {
            continue;
        };
        let id = sent.get("id");
        let answer = ex
            .get("recv")
            .and_then(Value::as_array)
            .and_then(|r| r.iter().find(|m| m.get("id") == id && m.get("method").is_none()));
        let verdict = match answer {
            Some(m) if m.get("error").is_some() => Verdict::Error,
            Some(m) if m.pointer("/result/isError") == Some(&Value::Bool(true)) => Verdict::Error,
            Some(m) if m.get("result").is_some() => Verdict::Success,
            _ => continue,
        };
        calls.push((name.to_string(), verdict));
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_tool_has_a_success_and_an_error_scenario() {
    let server = Server::find().await;
    let list = runner::list_tools(&server.launch(Transport::Stdio), DEFAULT_PROTOCOL_VERSION, timeouts())
        .await
        .expect("a tool list");
    let fixtures = Fixtures::repository();
    let mut seen: BTreeMap<String, BTreeSet<Verdict>> = BTreeMap::new();
    for s in scenario::load_dir(&fixtures.scenarios).expect("the scenario files load") {
        if let Some(t) = expected::read(&fixtures.expected, &s, Era::Handshake).expect("readable") {
            for (tool, verdict) in tool_calls(&t) {
                seen.entry(tool).or_default().insert(verdict);
            }
        }
    }
    let mut missing = Vec::new();
    for name in alloy_conformance::shapes::tool_artifacts(&list.tools).0 {
        let got = seen.get(&name).cloned().unwrap_or_default();
        for (v, what) in [(Verdict::Success, "success"), (Verdict::Error, "error")] {
            if !got.contains(&v) {
                missing.push(format!("{name}: no {what} case"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} gaps (add fixtures/scenarios/<category>/<tool>__<case>.json and record its expected transcript):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn every_expected_transcript_belongs_to_a_scenario_file() {
    let fixtures = Fixtures::repository();
    let scenarios = scenario::load_dir(&fixtures.scenarios).expect("the scenario files load");
    let wanted: BTreeSet<std::path::PathBuf> = scenarios
        .iter()
        .flat_map(|s| {
            Era::ALL
                .into_iter()
                .filter(|e| s.runs_in(*e))
                .map(|e| expected::path_for(&fixtures.expected, s, e))
        })
        .collect();
    let mut orphans = Vec::new();
    for dir in std::fs::read_dir(&fixtures.expected)
        .expect("fixtures/expected exists")
        .filter_map(Result::ok)
    {
        // `schemas/` holds the tool-list snapshots of tools_list.rs, not transcripts.
        if !dir.path().is_dir() || dir.file_name() == "schemas" {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).expect("readable").filter_map(Result::ok) {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "snap") && !wanted.contains(&p) {
                orphans.push(p.display().to_string());
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "expected transcripts without a scenario file (delete them): {orphans:#?}"
    );
}
