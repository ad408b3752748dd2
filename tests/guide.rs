//! The public Alloy MCP Guide, step by step, against the two shipped binaries: each command of
//! its Quick Start and Troubleshooting that applies to this toolkit runs as written, through
//! `sh`, with the API started by `alloy-mock-api serve` instead of `alloy serve`. When the
//! guide and the toolkit disagree, the failing assertion names the step.
//!
//! Deviations from the guide's text, each for a reason: the HTTP step binds port 0 instead of
//! 3001 (tests run in parallel on shared machines; the printed port is used), and where `curl`
//! is not installed the same request is made by the test itself (said in the output).
//!
//! The binaries come from the workspace build (`cargo test --workspace` builds them); run
//! `cargo build --workspace` first when running this package alone.

mod common;

use common::{Running, binary, start_mock};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Step 2 ("Start the Alloy API server"), with the mock: its URL and the Owner's key, the
/// credential the guide's curl authenticates with.
fn start_api() -> (Running, String, String) {
    start_mock(&[])
}

/// Runs one shell command as the guide writes it, with `env` set; waits at most two minutes.
fn sh(command: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new("sh");
    c.arg("-c").arg(command).stdin(Stdio::null());
    c.env("PATH", path_with_binaries());
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the command finishes")
        .expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `PATH` with the built binaries first, so the guide's `alloy-mcp` is ours.
fn path_with_binaries() -> String {
    let dir = binary("alloy-mcp")
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

fn has_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Step 3 ("Create an API key", via curl): `POST $BASE_URL/api/v1/api-keys`. Returns the
/// status and the answer.
fn create_key(base: &str, token: &str) -> (u16, Value) {
    let body = r#"{"name": "MCP Server", "scopes": ["read", "write"]}"#;
    if has_curl() {
        let cmd = format!(
            "curl -s -w '\\n%{{http_code}}' -X POST \"$BASE_URL/api/v1/api-keys\" \
             -H \"Authorization: Bearer $TOKEN\" -H \"Content-Type: application/json\" -d '{body}'"
        );
        let (code, out, err) = sh(&cmd, &[("BASE_URL", base), ("TOKEN", token)]);
        assert_eq!(code, 0, "step 3: curl failed: {err}");
        let (json, status) = out.trim_end().rsplit_once('\n').expect("body and status");
        let status = status.trim().parse().expect("an HTTP status");
        return (status, serde_json::from_str(json).unwrap_or(Value::Null));
    }
    eprintln!("curl is not installed: step 3's request is made by the test itself");
    raw_http::post_api_key(base, token, body)
}

/// The guide's request without curl: the same method, path, headers and body.
mod raw_http {
    use serde_json::Value;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub fn post_api_key(base: &str, token: &str, body: &str) -> (u16, Value) {
        let host = base.trim_start_matches("http://");
        let mut tcp = TcpStream::connect(host).expect("connect to the API");
        let request = format!(
            "POST /api/v1/api-keys HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).expect("read");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        (status, serde_json::from_str(json).unwrap_or(Value::Null))
    }
}

#[test]
fn quick_start_step_3_creates_a_key_at_the_documented_path_and_the_key_works() {
    let (_api, base, owner) = start_api();
    let (status, key) = create_key(&base, &owner);
    assert_eq!(status, 201, "step 3: POST /api/v1/api-keys answers 201: {key}");
    for field in [
        "id",
        "name",
        "key",
        "key_prefix",
        "scopes",
        "project_ids",
        "created_at",
        "expires_at",
    ] {
        assert!(key.get(field).is_some(), "step 3: the answer lacks `{field}`: {key}");
    }
    assert_eq!(key["name"], "MCP Server");
    assert_eq!(key["scopes"], json!(["read", "write"]));
    assert_eq!(key["project_ids"], json!([]));
    assert_eq!(key["expires_at"], Value::Null);
    let secret = key["key"].as_str().expect("step 3: the full key is shown");
    assert!(
        secret.starts_with("alloy_live_") || secret.starts_with("alloy_test_"),
        "step 3: {secret:.12}…"
    );
    assert!(secret.starts_with(key["key_prefix"].as_str().unwrap_or("-")));

    // Troubleshooting, "check the key": GET /api/v1/auth/me names the key's identity.
    if has_curl() {
        let (code, out, err) = sh(
            "curl -s \"$ALLOY_API_URL/api/v1/auth/me\" -H \"Authorization: Bearer $ALLOY_API_TOKEN\"",
            &[("ALLOY_API_URL", &base), ("ALLOY_API_TOKEN", secret)],
        );
        assert_eq!(code, 0, "{err}");
        let me: Value = serde_json::from_str(&out).expect("auth/me answers JSON");
        for field in ["user_id", "org_id", "email", "role"] {
            assert!(me.get(field).is_some(), "auth/me lacks `{field}`: {me}");
        }
        assert_eq!(me["role"], "Owner");
    }

    // The smoke test of the guide with the key step 3 made.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"test","version":"1.0"}}}"#;
    let (code, out, err) = sh(
        &format!("echo '{init}' | alloy-mcp"),
        &[("ALLOY_API_URL", &base), ("ALLOY_API_TOKEN", secret)],
    );
    assert_eq!(code, 0, "smoke test: exit 0 when stdin closes; stderr: {err}");
    let answer: Value = serde_json::from_str(out.trim()).expect("smoke test: one JSON-RPC line");
    assert_eq!(answer["result"]["protocolVersion"], "2024-11-05", "{answer}");
    assert_eq!(answer["result"]["serverInfo"]["name"], "alloy-mcp");
    assert!(!err.contains(secret), "the key is never logged");
}

#[test]
fn debugging_mcp_communication_prints_the_tool_list_without_a_handshake() {
    let (_api, base, owner) = start_api();
    let dir = std::env::temp_dir().join(format!("alloy-guide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let command = format!(
        "cd '{}' && echo '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{}}}}' | \
         ALLOY_API_URL=$URL ALLOY_API_TOKEN=$KEY alloy-mcp 2>mcp-stderr.log",
        dir.display()
    );
    let (code, out, _) = sh(&command, &[("URL", &base), ("KEY", &owner)]);
    let log = std::fs::read_to_string(dir.join("mcp-stderr.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "debugging: exit 0; mcp-stderr.log:\n{log}");
    let answer: Value = serde_json::from_str(out.trim()).expect("debugging: one JSON-RPC line on stdout");
    assert_eq!(answer["id"], 1, "{answer}");
    let tools = answer["result"]["tools"].as_array().expect("debugging: a tool list");
    assert_eq!(tools.len(), 71, "debugging: every tool");
    // Served as the documented revision (2024-11-05) serves it: no annotations.
    assert!(tools.iter().all(|t| t.get("annotations").is_none()));
    assert!(
        log.contains("without a handshake"),
        "debugging: stderr says the request was served without a handshake:\n{log}"
    );
    assert!(!log.contains(&owner), "the key is never logged");
}

#[test]
fn http_mode_serves_the_discovery_document_and_wants_a_key() {
    let (_api, base, owner) = start_api();
    let mut child = Command::new(binary("alloy-mcp"))
        .args(["--http", "0.0.0.0:0"])
        .env("ALLOY_API_URL", &base)
        .env("ALLOY_API_TOKEN", &owner)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alloy-mcp --http starts");
    let stderr = child.stderr.take().expect("stderr");
    let _server = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let port = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("HTTP mode logs where it listens");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or("");
            break addr.rsplit(':').next().unwrap_or("").to_string();
        }
    };
    let url = format!("http://127.0.0.1:{port}");
    if !has_curl() {
        eprintln!("curl is not installed: the HTTP step is checked by the mcp-server tests only");
        return;
    }
    let (code, out, err) = sh(
        "curl -s \"$URL/.well-known/oauth-protected-resource\"",
        &[("URL", &url)],
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("the discovery document is JSON");
    assert_eq!(doc["resource_name"], "alloy-mcp", "{doc}");
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    let (_, out, _) = sh(
        "curl -s -o /dev/null -w '%{http_code}' -X POST \"$URL/mcp\" -H 'Content-Type: application/json' -d '{}'",
        &[("URL", &url)],
    );
    assert_eq!(out.trim(), "401", "HTTP mode: a request without a key is refused");
}

#[test]
fn troubleshooting_symptoms_print_their_documented_words() {
    let (_api, base, _owner) = start_api();
    let cases: [(&str, &str, &str); 3] = [
        // "invalid API token": a key without the documented prefix.
        (base.as_str(), "sk_live_12345", "invalid API token"),
        // "unauthorized": a key the API does not know (revoked or mistyped).
        (
            base.as_str(),
            "alloy_test_doesnotexist0000000000000000000",
            "unauthorized",
        ),
        // "connection refused": nothing listens at ALLOY_API_URL.
        (
            "http://127.0.0.1:9",
            "alloy_test_doesnotexist0000000000000000000",
            "connection refused",
        ),
    ];
    for (url, token, words) in cases {
        let (code, out, err) = sh(
            "echo '' | ALLOY_API_URL=$URL ALLOY_API_TOKEN=$TOKEN alloy-mcp",
            &[("URL", url), ("TOKEN", token)],
        );
        assert_eq!(code, 1, "troubleshooting `{words}`: exit 1; {err}");
        assert!(out.is_empty(), "nothing on stdout: {out}");
        assert!(err.contains(words), "troubleshooting `{words}`: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains(token), "the key is never echoed: {err}");
    }
}
