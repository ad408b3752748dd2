//! The `alloy-conformance run` command end to end, judging the fake over stdio: exit status,
//! the closing line, the diff of a failure, the strict baseline, JSON and JUnit output, and a
//! clear message when the server binary is missing.

use crate::support::{conformance_cli, fake_bin, fake_fixtures, stdout};
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(mode: &str, extra: &[&str]) -> Output {
    let fixtures = fake_fixtures();
    let dir = fixtures.scenarios.parent().expect("fixtures dir").to_path_buf();
    conformance_cli("run", fake_bin(), Some(&dir), mode, extra)
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("alloy-conformance-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn run_passes_the_correct_fake_and_ends_with_the_closing_line() {
    let out = run("correct", &["--only", "lifecycle/"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // Both lifecycle cases are about the handshake: they run in that era only.
    assert_eq!(text.lines().last(), Some("2 passed, 0 failed"), "{text}");
    assert!(!text.contains("stdio/stateless"), "{text}");
    assert!(text.starts_with("lifecycle"), "{text}");
}

#[test]
fn run_fails_a_wrong_id_fake_with_a_diff_and_a_non_zero_exit() {
    let out = run("wrong-id", &["--only", "lifecycle/ping__after_initialize"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ lifecycle/ping__after_initialize [stdio] FAIL"),
        "{text}"
    );
    assert!(text.contains("transcript (- expected, + actual):"), "{text}");
    assert!(text.contains("+          \"id\": 1001,"), "{text}");
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"), "{text}");
}

#[test]
fn run_honours_a_strict_expected_failures_file_both_ways() {
    let baseline = temp_file(
        "xfail.txt",
        "lifecycle/ping__after_initialize  # answers with the wrong id\n",
    );
    let excused = run(
        "wrong-id",
        &[
            "--only",
            "lifecycle/ping__after_initialize",
            "--expected-failures",
            &baseline.to_string_lossy(),
        ],
    );
    assert!(excused.status.success(), "{}", stdout(&excused));
    assert_eq!(stdout(&excused).lines().last(), Some("1 passed, 0 failed"));

    let stale = run(
        "correct",
        &[
            "--only",
            "lifecycle/ping__after_initialize",
            "--expected-failures",
            &baseline.to_string_lossy(),
        ],
    );
    let text = stdout(&stale);
    assert_eq!(stale.status.code(), Some(1), "{text}");
    assert!(text.contains("STALE") && text.contains("delete the line"), "{text}");
    let _ = std::fs::remove_file(baseline);
}

#[test]
fn run_writes_junit_and_json_with_the_closing_line_on_stderr() {
    let junit = run("correct", &["--only", "protocol/unknown__method", "--format", "junit"]);
    assert!(junit.status.success());
    let xml = stdout(&junit);
    roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(String::from_utf8_lossy(&junit.stderr).contains("2 passed, 0 failed"));

    let json = run("correct", &["--only", "protocol/unknown__method", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(v["passed"], 2);
    assert!(
        v["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .any(|c| c["era"] == "stateless")
    );
}

#[test]
fn run_without_a_server_binary_says_how_to_get_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args(["run", "--server", "/nonexistent/alloy-mcp"])
        .output()
        .expect("the CLI runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server /nonexistent/alloy-mcp: no such file"));
}

#[test]
fn run_with_a_pattern_that_matches_nothing_fails() {
    let out = run("correct", &["--only", "no-such-category/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no case matches --only no-such-category/"));
}

#[test]
fn sandbox_prints_the_mock_url_and_a_key_per_role_and_keeps_running() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args([
            "sandbox",
            "--api-addr",
            &format!("127.0.0.1:{port}"),
            "--server",
            "/nonexistent/alloy-mcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(30)) {
        let done = line.starts_with("Running;");
        seen.push(line);
        if done {
            break;
        }
    }
    let text = seen.join("\n");
    assert!(
        text.contains(&format!("Mock Alloy API: http://127.0.0.1:{port}")),
        "{text}"
    );
    for role in ["Owner", "Admin", "Member", "Reporter", "Viewer"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(role)), "{role}: {text}");
    }
    assert!(text.contains("Running; Ctrl-C or SIGTERM stops everything."), "{text}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "the mock API listens"
    );
    assert!(child.try_wait().expect("status").is_none(), "the sandbox keeps running");
    child.kill().expect("stops");
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Kills the fake when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn run_judges_servers_started_separately_over_http_and_sse_against_the_mock_on_a_fixed_address() {
    let (mcp_port, mock_port) = (free_port(), free_port());
    let _server = Running(
        Command::new(fake_bin())
            .args(["--http", &format!("127.0.0.1:{mcp_port}")])
            .env("ALLOY_API_URL", format!("http://127.0.0.1:{mock_port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the fake starts"),
    );
    let dir = fake_fixtures().scenarios.parent().expect("fixtures dir").to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .arg("run")
        .args(["--http", &format!("http://127.0.0.1:{mcp_port}/mcp")])
        .args(["--sse", &format!("http://127.0.0.1:{mcp_port}/sse")])
        .args(["--mock-addr", &format!("127.0.0.1:{mock_port}")])
        .args(["--wait-for-server", "30", "--only", "tools/fetch_api__"])
        .arg("--fixtures")
        .arg(dir)
        .output()
        .expect("the CLI runs");
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    // Two cases on SSE (handshake era only) and two per era on Streamable HTTP.
    assert_eq!(text.lines().last(), Some("6 passed, 0 failed"), "{text}");
    assert!(
        err.contains(&format!("ALLOY_API_URL=http://127.0.0.1:{mock_port}")),
        "the CLI says what to set: {err}"
    );
}

#[test]
fn run_with_an_era_judges_only_that_era() {
    let out = run(
        "correct",
        &["--only", "lifecycle/ping__after_initialize", "--era", "handshake"],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 0 failed"), "{text}");
    assert!(!text.contains("stateless"), "{text}");
}

#[test]
fn the_protocol_suite_passes_the_correct_fake_and_catches_the_era_confused_one() {
    let suite = |mode: &str| {
        Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
            .args(["run", "--suite", "protocol", "--stdio"])
            .arg(fake_bin())
            .args(["--timeout", "20", "--handshake-timeout", "20"])
            .env("FAKE_MCP_MODE", mode)
            .output()
            .expect("the CLI runs")
    };
    let good = suite("correct");
    let text = stdout(&good);
    assert!(
        good.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(text.contains("removed") && text.contains("discover"), "{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{text}");
    assert!(!text.contains("N/A"), "the fake declares what every rule needs: {text}");

    let bad = suite("era-confused");
    let text = stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ removed/ping [stdio/stateless] FAIL"), "{text}");
    assert!(
        text.contains("✗ caching/result_type_and_hints [stdio/stateless] FAIL"),
        "{text}"
    );
    assert!(
        text.contains("✗ subscriptions/listen_acknowledges_first [stdio/stateless] FAIL")
            && text.contains("carries no io.modelcontextprotocol/subscriptionId"),
        "{text}"
    );
}

#[test]
fn a_rule_whose_prerequisite_fails_is_not_verified_and_never_counts_as_a_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args([
            "run",
            "--suite",
            "protocol",
            "--era",
            "handshake",
            "--only",
            "lifecycle/ping_is_answered",
        ])
        .arg("--stdio")
        .arg(fake_bin())
        .args(["--timeout", "0.5", "--handshake-timeout", "0.5", "--no-progress"])
        .env("FAKE_MCP_MODE", "silent")
        .output()
        .expect("the CLI runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ lifecycle/ping_is_answered [stdio] NOT-VERIFIED"),
        "{text}"
    );
    assert!(
        text.contains("NOT-VERIFIED: initialize at 2025-11-25 got no result"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"), "{text}");
}

#[test]
fn the_protocol_suite_judges_a_server_over_http_in_both_eras_with_its_statuses_and_headers() {
    let port = free_port();
    let _server = Running(
        Command::new(fake_bin())
            .args(["--http", &format!("127.0.0.1:{port}")])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the fake starts"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args(["run", "--suite", "protocol", "--no-progress", "--wait-for-server", "30"])
        .args(["--http", &format!("http://127.0.0.1:{port}/mcp")])
        .args(["--timeout", "20", "--handshake-timeout", "20"])
        .output()
        .expect("the CLI runs");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for rule in [
        "session_lifecycle",
        "foreign_origin_is_refused",
        "method_mismatch",
        "name_mismatch",
        "no_session_at_the_stateless_wire",
        "listen_acknowledges_first",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(rule) && l.contains("pass")),
            "{rule}: {text}"
        );
    }
}
