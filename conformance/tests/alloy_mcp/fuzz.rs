//! `alloy-conformance fuzz` against the real `alloy-mcp`: with no target flags it starts the
//! binary next to itself against the embedded mock, over stdio, Streamable HTTP and legacy SSE,
//! and every case holds (the issue asks 2,000 cases per transport of the command; here a bounded
//! run per transport keeps `cargo test` within its budget, `ALLOY_FUZZ_SCALE` raises it).

use crate::support::{Server, notice};
use std::process::Command;

/// Runs the command over `transport` with `cases` and checks the closing line.
fn fuzz_passes(transport: &str, cases: u32) {
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args(["fuzz", "--transport", transport, "--seed", "11"])
        .args(["--cases", &cases.to_string()])
        .args(["--timeout", "30", "--handshake-timeout", "30"])
        .output()
        .expect("the CLI runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    assert_eq!(
        text.lines().last(),
        Some(format!("{cases} passed, 0 failed").as_str()),
        "{text}"
    );
    assert!(text.contains("(protocol 2025-11-25)"), "{text}");
    // Destructive tools are left alone without --allow-destructive, and said so.
    assert!(text.contains("NOT CALLED\n- delete_ticket: destructive"), "{text}");
    notice(&format!("fuzz over {transport}: {cases} passed, 0 failed"));
}

fn cases() -> u32 {
    let scale: f64 = std::env::var("ALLOY_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((200.0 * scale).round() as u32).max(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_without_target_flags_passes_alloy_mcp_over_every_transport() {
    let server = Server::find().await;
    for transport in ["stdio", "http", "sse"] {
        if let Some((_, why)) = server.offered.missing.iter().find(|(t, _)| t.name() == transport) {
            notice(&format!("SKIPPED fuzz over {transport}: {why}"));
            continue;
        }
        fuzz_passes(transport, cases());
    }
}
