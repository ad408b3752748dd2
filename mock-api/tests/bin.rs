//! End-to-end tests of the `alloy-mock-api` binary as a user runs it: `serve` prints the base
//! URL and the seeded keys, a Member key can create a project and a ticket and read them back, a
//! Viewer key gets 403 with the error envelope, SIGTERM and Ctrl-C (SIGINT) stop it with exit
//! code 0, and startup failures (missing or broken seed, port in use) are one line on stderr
//! with exit code 1. Signals are sent with the system `kill` command, so no signal crate is
//! needed.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const MEMBER_KEY: &str = "alloy_test_MmbrAcmeSeed00000000000000000001";
const VIEWER_KEY: &str = "alloy_test_VwerAcmeSeed00000000000000000001";
const OWNER_KEY: &str = "alloy_test_OwnrAcmeSeed00000000000000000001";

/// Generous bound on how long startup and shutdown may take on a loaded CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_alloy-mock-api"));
    cmd.args(args);
    for var in [
        "ALLOY_MOCK_BIND",
        "ALLOY_MOCK_SEED",
        "ALLOY_DETERMINISTIC",
        "ALLOY_FIXED_NOW",
        "ALLOY_RATE_LIMIT_PER_MINUTE",
        "ALLOY_AUTH_RATE_LIMIT_PER_MINUTE",
        "ALLOY_REGISTRATION",
        "ALLOY_MOCK_JOURNAL_MAX_ENTRIES",
        "ALLOY_MOCK_JOURNAL_MAX_BYTES",
        "ALLOY_MOCK_JOURNAL_MAX_BODY_BYTES",
        "ALLOY_MOCK_ADMIN_BIND",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A running binary and the lines it printed up to its banner's end.
struct Running {
    child: Child,
    url: String,
    banner: Vec<String>,
}

impl Running {
    /// Starts the binary and waits for the `export ALLOY_API_URL=` line and the end of the banner.
    fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // The reader keeps draining stdout until the process ends, so the pipe never fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        loop {
            let line = rx.recv_timeout(PATIENCE).unwrap_or_else(|e| {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut s) = child.stderr.take() {
                    let _ = s.read_to_string(&mut err);
                }
                panic!("no banner from the binary ({e}); stdout so far: {banner:?}; stderr: {err}")
            });
            let done = line.starts_with("# Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        let url = banner
            .iter()
            .find_map(|l| l.strip_prefix("export ALLOY_API_URL="))
            .expect("the banner exports ALLOY_API_URL")
            .to_string();
        Running { child, url, banner }
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits for the process to exit and returns its status and stderr.
    fn wait(mut self) -> (ExitStatus, String) {
        let stderr = self.child.stderr.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let status = self.child.wait();
            let mut err = String::new();
            if let Some(mut s) = stderr {
                let _ = s.read_to_string(&mut err);
            }
            let _ = tx.send((status, err));
        });
        let (status, err) = rx.recv_timeout(PATIENCE).expect("the binary exits after the signal");
        (status.expect("wait succeeds"), err)
    }
}

/// Runs the binary to completion (for startup failures) and returns its status and stderr.
fn run_to_exit(args: &[&str]) -> (ExitStatus, String) {
    let mut child = command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut err = String::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_string(&mut err);
        }
        let _ = tx.send((child.wait(), err));
    });
    let (status, err) = rx.recv_timeout(PATIENCE).expect("the binary exits on its own");
    (status.expect("wait succeeds"), err)
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("the binary answers");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// GETs `path` from the API at `base` with `key`: the status and the body as JSON.
async fn get(base: &str, key: &str, path: &str) -> (u16, Value) {
    call(
        &reqwest::Client::new(),
        reqwest::Method::GET,
        format!("{base}{path}"),
        key,
        None,
    )
    .await
}

/// POSTs `body` to `path` of the API at `base` with `key`: the status and the body as JSON.
async fn post(base: &str, key: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{base}{path}");
    call(&reqwest::Client::new(), reqwest::Method::POST, url, key, Some(body)).await
}

#[tokio::test]
async fn the_binary_serves_the_seed_and_a_member_creates_a_project_and_a_ticket() {
    let running = Running::start(&mut command(&["serve", "--bind", "127.0.0.1:0", "--deterministic"]));
    assert!(
        running.url.starts_with("http://127.0.0.1:") && !running.url.ends_with(":0"),
        "{}",
        running.url
    );
    let banner = running.banner.join("\n");
    assert!(
        banner.contains(&format!("export ALLOY_API_TOKEN={OWNER_KEY}")),
        "{banner}"
    );
    for (role, key) in [("Member", MEMBER_KEY), ("Viewer", VIEWER_KEY)] {
        assert!(
            running.banner.iter().any(|l| l.contains(role) && l.contains(key)),
            "{banner}"
        );
    }
    let base = &running.url;

    let (status, me) = get(base, MEMBER_KEY, "/api/v1/auth/me").await;
    assert_eq!(
        (status, me["role"].clone(), me["email"].clone()),
        (200, json!("Member"), json!("maya@acme.test"))
    );

    let body = json!({"key": "DEMO", "name": "Demo"});
    let (status, project) = post(base, MEMBER_KEY, "/api/v1/projects", body).await;
    assert_eq!(status, 201, "{project}");
    let (status, read) = get(base, MEMBER_KEY, "/api/v1/projects/DEMO").await;
    assert_eq!(
        (status, read["id"].clone(), read["name"].clone()),
        (200, project["id"].clone(), json!("Demo"))
    );

    let body = json!({"title": "First ticket", "priority": "High"});
    let (status, ticket) = post(base, MEMBER_KEY, "/api/v1/projects/DEMO/tickets", body).await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["key"], "DEMO-1");
    let (status, read) = get(base, MEMBER_KEY, "/api/v1/tickets/DEMO-1").await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(
        (read["id"].clone(), read["title"].clone()),
        (ticket["id"].clone(), json!("First ticket"))
    );

    let body = json!({"key": "NOPE", "name": "No"});
    let (status, refused) = post(base, VIEWER_KEY, "/api/v1/projects", body).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert_eq!(refused["error"]["details"]["reason"], "insufficient_role");
    assert!(refused["error"]["message"].is_string());
    let (status, refused) = post(base, VIEWER_KEY, "/api/v1/projects/DEMO/tickets", json!({"title": "x"})).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("forbidden")));

    running.signal("TERM");
    let (status, stderr) = running.wait();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn the_guides_api_key_curl_answers_201_with_the_documented_fields() {
    // MCP Guide, Quick Start step 3, against `alloy-mock-api serve` instead of `alloy serve`:
    // curl -X POST $BASE/api/v1/api-keys -H "Authorization: Bearer $TOKEN" \
    //      -H "Content-Type: application/json" -d '{"name": "MCP Server", "scopes": ["read", "write"]}'
    let running = Running::start(&mut command(&["serve", "--bind", "127.0.0.1:0"]));
    let body = json!({"name": "MCP Server", "scopes": ["read", "write"]});
    let (status, key) = post(&running.url, OWNER_KEY, "/api/v1/api-keys", body).await;
    assert_eq!(status, 201, "{key}");
    for field in "id name key key_prefix scopes project_ids created_at expires_at".split(' ') {
        assert!(key.get(field).is_some(), "documented field {field} missing: {key}");
    }
    assert_eq!(
        (key["name"].clone(), key["scopes"].clone(), key["project_ids"].clone()),
        (json!("MCP Server"), json!(["read", "write"]), json!([]))
    );
    let raw = key["key"].as_str().expect("the key is shown once").to_string();
    let (status, me) = get(&running.url, &raw, "/api/v1/auth/me").await;
    assert_eq!((status, me["role"].clone()), (200, json!("Owner")), "{me}");
    running.signal("TERM");
    assert_eq!(running.wait().0.code(), Some(0));
}

#[test]
fn ctrl_c_stops_the_binary_cleanly() {
    // Live clock and random ids: the bundled seed loads outside deterministic mode too.
    let running = Running::start(&mut command(&["serve", "--bind", "127.0.0.1:0"]));
    assert!(
        running.banner.iter().any(|l| l.contains(MEMBER_KEY)),
        "{:?}",
        running.banner
    );
    running.signal("INT");
    let (status, stderr) = running.wait();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[tokio::test]
async fn no_seed_starts_an_empty_installation() {
    let running = Running::start(&mut command(&["serve", "--bind", "127.0.0.1:0", "--no-seed"]));
    assert!(
        !running.banner.iter().any(|l| l.contains("alloy_test_")),
        "no seed, no keys: {:?}",
        running.banner
    );
    let r = reqwest::get(format!("{}/api/v1/onboard", running.url))
        .await
        .expect("onboard state");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["needs_onboarding"], true);
    running.signal("TERM");
    assert_eq!(running.wait().0.code(), Some(0));
}

#[tokio::test]
async fn environment_variables_configure_serve_and_it_is_the_default_command() {
    let mut cmd = command(&[]);
    cmd.env("ALLOY_MOCK_BIND", "127.0.0.1:0")
        .env("ALLOY_DETERMINISTIC", "1")
        .env("ALLOY_FIXED_NOW", "2026-05-01T00:00:00Z");
    let running = Running::start(&mut cmd);
    assert!(running.banner[0].contains("deterministic"), "{:?}", running.banner);
    let (status, me) = get(&running.url, OWNER_KEY, "/api/v1/auth/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["user_id"], "00000000-0000-4000-8000-000000000001",
        "deterministic ids"
    );
    let r = reqwest::get(format!("{}/health", running.url)).await.expect("health");
    assert_eq!(r.status().as_u16(), 200);
    running.signal("TERM");
    assert_eq!(running.wait().0.code(), Some(0));
}

/// Runs the binary with `args` to its exit, which must be status 1; returns its stderr.
fn exits_1(args: &[&str]) -> String {
    let (status, stderr) = run_to_exit(args);
    assert_eq!(status.code(), Some(1), "{stderr}");
    stderr
}

/// Asserts that `stderr` is one line that names every one of `needles`.
fn one_line_naming(stderr: &str, needles: &[&str]) {
    for needle in needles {
        assert!(stderr.contains(needle), "{needle} missing: {stderr}");
    }
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_missing_seed_directory_exits_1_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("alloy-no-seed-{}", std::process::id()));
    let stderr = exits_1(&["serve", "--bind", "127.0.0.1:0", "--seed", &dir.display().to_string()]);
    one_line_naming(&stderr, &[&dir.join("seed.json").display().to_string()]);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_seed_with_a_misspelt_field_exits_1_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("alloy-bad-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = include_str!("../../fixtures/seed/seed.json");
    std::fs::write(
        dir.join("seed.json"),
        good.replacen("\"display_name\"", "\"display_nmae\"", 1),
    )
    .expect("write");
    let (status, stderr) = run_to_exit(&["serve", "--bind", "127.0.0.1:0", "--seed", &dir.display().to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.code(), Some(1), "{stderr}");
    one_line_naming(&stderr, &["display_nmae", "seed.json"]);
}

#[test]
fn a_port_in_use_exits_1_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let stderr = exits_1(&["serve", "--bind", &addr]);
    assert!(stderr.contains("cannot bind") && stderr.contains(&addr), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    drop(taken);
}

#[test]
fn journal_limits_that_cannot_work_together_exit_1_in_one_line() {
    let stderr = exits_1(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--journal-max-bytes",
        "1KiB",
        "--journal-max-body-bytes",
        "4KiB",
    ]);
    one_line_naming(&stderr, &["--journal-max-body-bytes"]);
}

#[test]
fn a_bad_flag_value_exits_1_in_one_line_naming_the_flag() {
    let stderr = exits_1(&["serve", "--bind", "127.0.0.1:0", "--journal-max-bytes", "lots"]);
    one_line_naming(&stderr, &["--journal-max-bytes", "lots"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_help_shows_the_fault_controls() {
    let out = command(&["serve", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for part in [
        "--admin-bind <ADDR>",
        "POST   /faults",
        "\"kind\": \"rate_limited\", \"retry_after\": 30",
        "drop_connection",
        "malformed_body",
        "\"delay_ms\"",
        "DELETE /journal",
        "--journal-max-body-bytes",
    ] {
        assert!(help.contains(part), "{part} missing from serve --help:\n{help}");
    }
}

#[tokio::test]
async fn the_binary_injects_faults_and_shows_its_journal_through_the_admin_listener() {
    let running = Running::start(&mut command(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--admin-bind",
        "127.0.0.1:0",
    ]));
    let admin = running
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("# Admin (faults, journal): "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the banner names the admin listener")
        .to_string();
    assert_ne!(admin, running.url, "never on the API's port");
    let http = reqwest::Client::new();
    // As the README's curl does it: no Content-Type.
    let add_fault = async |body: &'static str| {
        let r = http
            .post(format!("{admin}/faults"))
            .body(body)
            .send()
            .await
            .expect("admin answers");
        assert_eq!(r.status().as_u16(), 201);
    };
    add_fault(r#"{"kind": "status", "status": 503, "path": "/api/v1/auth/me", "times": 1}"#).await;
    let me = format!("{}/api/v1/auth/me", running.url);
    let (status, body) = call(&http, reqwest::Method::GET, me.clone(), MEMBER_KEY, None).await;
    assert_eq!((status, body["error"]["code"].clone()), (503, json!("unavailable")));
    let (status, _) = call(&http, reqwest::Method::GET, me.clone(), MEMBER_KEY, None).await;
    assert_eq!(status, 200, "the fault was used up");
    add_fault(r#"{"kind": "rate_limited", "retry_after": 7}"#).await;
    let r = http.get(&me).bearer_auth(MEMBER_KEY).send().await.expect("answer");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    let delete = async |what: &str| -> Value {
        let r = http.delete(format!("{admin}/{what}")).send().await;
        r.expect("admin answers").json().await.expect("json")
    };
    assert_eq!(delete("faults").await, json!({"removed": 1}));
    let journal = delete("journal").await;
    let statuses: Vec<Value> = journal["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(503), json!(200), json!(429)]);
    running.signal("TERM");
    assert_eq!(running.wait().0.code(), Some(0));
}

#[test]
fn an_admin_listener_on_the_apis_address_exits_1_in_one_line() {
    // Refused before anything is bound, so the port number needs to be free for nothing.
    let stderr = exits_1(&["serve", "--bind", "127.0.0.1:3977", "--admin-bind", "0.0.0.0:3977"]);
    one_line_naming(&stderr, &["cannot share the API's address", "--admin-bind"]);
}
