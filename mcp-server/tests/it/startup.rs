//! Startup: configuration errors, the token prefix check (before any network call), and the
//! identity check with the troubleshooting table's words. Each failure is one line on stderr,
//! exit code 1, nothing on stdout.

use crate::support::{UNKNOWN_KEY, bin, key_of, spawn_api};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{Fault, FaultKind};
use assert_cmd::Command;
use std::time::Duration;

fn cmd(url: &str, token: &str) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("ALLOY_API_URL", url)
        .env("ALLOY_API_TOKEN", token)
        .timeout(Duration::from_secs(30))
        .write_stdin("");
    c
}

/// Runs the command off the async runtime (the mock keeps serving meanwhile).
async fn run(mut c: Command) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = c.output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .expect("joins")
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_with_the_wrong_prefix_is_refused_before_any_network_call() {
    let api = spawn_api().await;
    api.mock.take_journal();
    let (code, stdout, stderr) = run(cmd(&api.mock.base_url(), "sk_live_supersecret")).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("invalid API token"), "{stderr}");
    assert!(stderr.contains("ALLOY_API_TOKEN"), "{stderr}");
    assert!(
        stderr.contains("alloy_live_") && stderr.contains("alloy_test_"),
        "{stderr}"
    );
    assert!(!stderr.contains("supersecret"), "the token was echoed: {stderr}");
    assert!(api.mock.journal().is_empty(), "the API was contacted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_token_or_url_is_named() {
    let mut c = Command::new(bin());
    c.env_clear().env("ALLOY_API_URL", "http://127.0.0.1:1").write_stdin("");
    let (code, _, stderr) = run(c).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("ALLOY_API_TOKEN"), "{stderr}");
    let mut c = Command::new(bin());
    c.env_clear().env("ALLOY_API_TOKEN", "alloy_test_x").write_stdin("");
    let (code, _, stderr) = run(c).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("ALLOY_API_URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_is_reported_as_unauthorized() {
    let api = spawn_api().await;
    let (code, stdout, stderr) = run(cmd(&api.mock.base_url(), UNKNOWN_KEY)).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("unauthorized"), "{stderr}");
    assert!(stderr.contains("create a new"), "{stderr}");
    assert!(!stderr.contains(UNKNOWN_KEY), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forbidden_identity_check_names_the_missing_scopes() {
    let api = spawn_api().await;
    let _f = api
        .mock
        .fault(Fault::new(FaultKind::Status(403)).path("/api/v1/auth/me"))
        .await;
    let (code, _, stderr) = run(cmd(&api.mock.base_url(), &key_of(OrgRole::Owner))).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("forbidden") && stderr.contains("read/write"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_api_running_is_reported_as_connection_refused() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (code, stdout, stderr) = run(cmd(&url, &key_of(OrgRole::Owner))).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("connection refused: start the Alloy API or fix ALLOY_API_URL"),
        "{stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line, as the README promises: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_startup_failure_is_one_line() {
    let api = spawn_api().await;
    let url = api.mock.base_url();
    let cases: [(&str, &str); 3] = [
        (url.as_str(), "alloy_test_doesnotexist000000000000000000000"),
        (url.as_str(), "sk_live_nope"),
        (url.as_str(), "alloy_test_abc\ndef"),
    ];
    for (u, token) in cases {
        let (code, _, stderr) = run(cmd(u, token)).await;
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{token:?}: {stderr}");
    }
    // A line break inside the key is the key's fault, not the URL's.
    let (_, _, stderr) = run(cmd(&url, "alloy_test_abc\ndef")).await;
    assert!(
        stderr.contains("ALLOY_API_TOKEN") && !stderr.contains("ALLOY_API_URL"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_api_is_reported_as_a_timeout() {
    let api = spawn_api().await;
    let _f = api
        .mock
        .fault(Fault::new(FaultKind::Delay(Duration::from_secs(5))))
        .await;
    let mut c = cmd(&api.mock.base_url(), &key_of(OrgRole::Owner));
    c.args(["--timeout", "1"]);
    let (code, _, stderr) = run(c).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("timed out") && stderr.contains("ALLOY_API_URL"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_version_work_without_configuration() {
    let mut c = Command::new(bin());
    c.env_clear().arg("--help");
    let (code, stdout, _) = run(c).await;
    assert_eq!(code, 0);
    for flag in ["--api-url", "--api-token", "--read-only", "--toolsets", "--timeout"] {
        assert!(stdout.contains(flag), "{flag} missing from --help");
    }
    let mut c = Command::new(bin());
    c.env_clear().arg("--version");
    let (code, stdout, _) = run(c).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("alloy-mcp {}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_toolset_is_a_usage_error_naming_the_valid_ids() {
    let api = spawn_api().await;
    api.mock.take_journal();
    let mut c = cmd(&api.mock.base_url(), &key_of(OrgRole::Owner));
    c.env("ALLOY_MCP_TOOLSETS", "tickets, bogus");
    let (code, stdout, stderr) = run(c).await;
    assert_eq!(code, 2, "a malformed setting is a usage error: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("bogus") && stderr.contains("possible values: connectivity, tickets"),
        "{stderr}"
    );
    assert!(api.mock.journal().is_empty(), "the API was contacted");
}
