//! End-to-end quick start across the two shipped binaries, as a person runs them: start
//! `alloy-mock-api serve`, read the URL and the Owner key it prints, then pipe JSON-RPC lines
//! into `alloy-mcp` (the documented smoke test) and check the answers and the exit status.
//!
//! The binaries come from the workspace build (`cargo test --workspace` builds them); run
//! `cargo build --workspace` first when running this package alone.

mod common;

use common::{binary, start_mock};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn piping_initialize_and_ping_into_alloy_mcp_against_the_mock_binary_answers_both_and_exits_0() {
    let (_mock, url, owner_key) = start_mock(&["--deterministic"]);
    let mut mcp = Command::new(binary("alloy-mcp"))
        .env("ALLOY_API_URL", &url)
        .env("ALLOY_API_TOKEN", &owner_key)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alloy-mcp starts");
    {
        let mut stdin = mcp.stdin.take().expect("stdin");
        let lines = [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"quickstart","version":"1"}}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ping","arguments":{}}}"#,
        ];
        for l in lines {
            writeln!(stdin, "{l}").expect("write a line");
        }
        // Dropping stdin closes it: the server answers what it owes, then exits.
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(mcp.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("alloy-mcp exits after stdin closes")
        .expect("output");
    assert!(
        out.status.success(),
        "exit {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout carries only JSON-RPC lines"))
        .collect();
    let init = answers.iter().find(|a| a["id"] == 1).expect("initialize answered");
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(init["result"]["serverInfo"]["name"], "alloy-mcp");
    let ping = answers.iter().find(|a| a["id"] == 2).expect("ping answered");
    assert_eq!(ping["result"]["isError"], false, "{ping}");
    let text = ping["result"]["content"][0]["text"].as_str().expect("text content");
    let body: serde_json::Value = serde_json::from_str(text).expect("ping returns JSON");
    assert_eq!(body["api_reachable"], true);
    assert_eq!(body["identity"]["email"], "olivia@acme.test");
    assert_eq!(body["identity"]["role"], "Owner");
}

#[test]
fn alloy_mcp_refuses_a_token_without_the_documented_prefix_before_any_network_call() {
    let out = Command::new(binary("alloy-mcp"))
        // Port 9 (discard) on loopback: nothing listens, and the prefix check must come first anyway.
        .env("ALLOY_API_URL", "http://127.0.0.1:9")
        .env("ALLOY_API_TOKEN", "sk_not_an_alloy_key_12345")
        .stdin(Stdio::null())
        .output()
        .expect("alloy-mcp runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid API token"), "{stderr}");
    assert!(
        stderr.contains("ALLOY_API_TOKEN") && stderr.contains("alloy_live_") && stderr.contains("alloy_test_"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sk_not_an_alloy_key_12345"),
        "the token is never echoed: {stderr}"
    );
    assert!(
        !stderr.contains("connection refused"),
        "no network call was made: {stderr}"
    );
}
