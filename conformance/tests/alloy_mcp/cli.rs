//! `alloy-conformance run` against the real `alloy-mcp`: with no target flags it finds the
//! binary next to itself, asks it which transports it offers and passes a category on each,
//! ending with the closing line; and a deliberately crippled server (`alloy-mcp --read-only`,
//! which hides every write tool) is caught with a readable diff and a non-zero exit.

use crate::support::{Server, WANTED};
use alloy_conformance::era::Era;
use alloy_conformance::runner::Fixtures;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .arg("run")
        .args(["--timeout", "30", "--handshake-timeout", "30", "--no-progress"])
        .args(args)
        .output()
        .expect("the CLI runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_without_target_flags_passes_alloy_mcp_on_every_offered_transport() {
    let server = Server::find().await;
    let offered = server.transports("run_without_target_flags_passes_alloy_mcp");
    let out = run(&["--only", "connectivity/"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    let header = text.lines().next().unwrap_or_default();
    assert!(header.starts_with("connectivity"), "{text}");
    for t in WANTED {
        assert_eq!(header.contains(t.name()), offered.contains(&t), "{t} column: {header}");
    }
    if offered.len() < WANTED.len() {
        assert!(err.contains("SKIPPED transport http"), "the skip is announced: {err}");
    }
    let scenarios = alloy_conformance::scenario::load_dir(&Fixtures::repository().scenarios).expect("loads");
    let cases: usize = scenarios
        .iter()
        .filter(|s| s.category == "connectivity")
        .map(|s| {
            Era::ALL
                .into_iter()
                .filter(|e| s.runs_in(*e))
                .map(|e| offered.iter().filter(|t| s.runs_on(**t) && t.speaks(e)).count())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        text.lines().last(),
        Some(format!("{cases} passed, 0 failed").as_str()),
        "{text}"
    );
}

#[test]
fn run_catches_a_read_only_alloy_mcp_with_a_readable_diff() {
    let binary = alloy_conformance::local::locate(None, false).expect("alloy-mcp is built");
    let command = format!("{} --read-only", binary.display());
    let out = run(&["--stdio", &command, "--only", "tickets/create_ticket__ok"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ tickets/create_ticket__ok [stdio] FAIL"), "{text}");
    assert!(
        text.contains("✗ tickets/create_ticket__ok [stdio/stateless] FAIL"),
        "{text}"
    );
    assert!(
        text.contains("tool `create_ticket` is not in the server's tools/list"),
        "the violation names the missing tool: {text}"
    );
    assert!(text.contains("transcript (- expected, + actual):"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with('-') && l.contains("\"isError\": false")),
        "the diff shows the expected success as removed: {text}"
    );
    assert_eq!(text.lines().last(), Some("0 passed, 2 failed"), "{text}");
}
