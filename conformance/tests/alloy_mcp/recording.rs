//! `record`, `replay` and `verify` end to end, every part a real process: a scripted client
//! session goes through `alloy-conformance record` to the real `alloy-mcp` (stdio in both eras;
//! Streamable HTTP in both eras and legacy HTTP+SSE through one proxy), and then
//!
//! - the client saw exactly what it sees without the recorder (normalized, stdio);
//! - `alloy-conformance run --fixtures <out>` passes the recording against `alloy-mcp`
//!   unchanged;
//! - `alloy-conformance replay` answers the same client session identically, with no API and
//!   no `alloy-mcp`;
//! - `alloy-conformance verify` passes against `alloy-mcp` and fails with a readable diff
//!   against `alloy-mcp --read-only`;
//! - no file of the recording holds an API key: not one the mock knows (seeded or created
//!   during the session) nor an `Authorization` value the client sent; nor what `--redact`
//!   names;
//! - the recorder passes bytes it cannot parse, the server's stderr and its exit code through.

use crate::support::notice;
use alloy_conformance::driver::http::HttpDriver;
use alloy_conformance::driver::sse::SseDriver;
use alloy_conformance::driver::{Driver, Frame, Incoming, Timeouts};
use alloy_conformance::era::{self, Era};
use alloy_conformance::transcript::{self, Exchange, FrameExchange, Received, Sent, Transcript};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The limit of every wait in these tests (debug builds on a busy machine).
const WAIT: Duration = Duration::from_secs(60);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_alloy-conformance")
}

fn timeouts() -> Timeouts {
    Timeouts {
        handshake: WAIT,
        request: WAIT,
    }
}

/// The seeded key of `role` (the mock's and the sandbox's).
fn key(role: &str) -> String {
    alloy_conformance::seeded::seeded_key_names()
        .iter()
        .find(|(_, r)| r == role)
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| panic!("the bundled seed has no {role} key"))
}

/// A folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("alloy-rec-{}-{name}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A spawned process whose stderr is read line by line; killed when dropped if still running.
struct Proc {
    child: Child,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

/// The lines of `pipe`, read on a thread of their own until it closes (or nobody listens).
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd.stderr(Stdio::piped()).spawn().expect("the process starts");
        let pipe = child.stderr.take().expect("stderr pipe");
        Proc {
            child,
            stderr: lines_of(pipe),
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `marker`; returns the line.
    fn line_with(&mut self, marker: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(marker)) {
            return l.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(marker) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stderr line with {marker:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Sends SIGTERM (the way a terminal's user or a supervisor stops a server).
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was delivered");
    }

    /// Waits for the exit (killing after [`WAIT`]); the status and all of stderr.
    fn finish(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the process did not exit within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread ends with the pipe.
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status, self.seen.join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The URL in a stderr line after `marker` (up to the next space).
fn url_after(line: &str, marker: &str) -> String {
    let rest = &line[line.find(marker).expect("marker") + marker.len()..];
    rest.split_whitespace()
        .next()
        .expect("a URL")
        .trim_end_matches([',', ';'])
        .to_string()
}

/// One thing the scripted client does.
#[derive(Clone, Debug)]
enum Act {
    /// A request; the client waits for its answer.
    Request(Value),
    /// A notification; nothing to wait for.
    Notify(Value),
    /// A malformed frame; the client waits for the parse error.
    Raw(String),
}

/// The session of a client that initializes (2025-06-18 unless `version` says), lists, reads,
/// writes (a ticket and an API key, whose secret comes back) and sends a malformed line.
fn handshake_script(version: &str) -> Vec<Act> {
    vec![
        Act::Request(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "scripted-client", "version": "1.0"}}})),
        Act::Notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
        Act::Request(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})),
        Act::Request(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "get_ticket", "arguments": {"ticket_id": "WEB-1"}}})),
        Act::Request(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "create_ticket", "arguments": {"project_id": "WEB", "title": "Recorded by a client", "priority": "High"}}})),
        Act::Request(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "create_api_key", "arguments": {"name": "client key", "scopes": ["read"], "expires_at": "2026-12-31T00:00:00Z", "environment": "test"}}})),
        Act::Raw("{\"jsonrpc\": \"2.0\", \"id\": 6, \"method\"".into()),
        Act::Request(
            json!({"jsonrpc": "2.0", "id": "seven", "method": "resources/read", "params": {"uri": "alloy://tickets/WEB-19"}}),
        ),
        Act::Request(json!({"jsonrpc": "2.0", "id": 8, "method": "ping"})),
    ]
}

/// The same at the 2026-07-28 wire: every request carries `_meta`; `server/discover` first
/// when `discover` (else the recorder asks it itself).
fn stateless_script(discover: bool) -> Vec<Act> {
    let meta = |v: Value| {
        let mut v = era::with_request_meta(&v, era::STATELESS_VERSION);
        v["params"]["_meta"][era::META_CLIENT_INFO] = json!({"name": "scripted-client", "version": "1.0"});
        Act::Request(v)
    };
    let mut acts = Vec::new();
    if discover {
        acts.push(meta(json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"})));
    }
    acts.extend([
        meta(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})),
        meta(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "get_ticket", "arguments": {"ticket_id": "WEB-2"}}})),
        meta(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "create_ticket", "arguments": {"project_id": "WEB", "title": "Recorded statelessly"}}})),
        meta(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "create_api_key", "arguments": {"name": "stateless key", "scopes": ["read"], "environment": "live"}}})),
    ]);
    acts
}

/// What the client saw: each frame sent and the messages that came back for it.
#[derive(Clone, Debug, Default)]
struct View(Vec<(Sent, Vec<Value>)>);

impl View {
    /// THE normalization of what the client saw, to compare two sessions.
    fn normalized(&self) -> Value {
        self.normalized_redacting(&[])
    }

    /// The same with the members of a `--redact` list redacted.
    fn normalized_redacting(&self, redact: &[String]) -> Value {
        let mut t = Transcript::new("client/view__session", "what the client saw");
        for (sent, recv) in &self.0 {
            t.exchanges.push(Exchange::Frame(FrameExchange {
                sent: sent.clone(),
                recv: recv.iter().cloned().map(Received::Message).collect(),
                upstream: Vec::new(),
            }));
        }
        transcript::normalize_redacting(&t, redact).to_value()
    }

    /// Every API key that appears in what the client received.
    fn keys(&self) -> Vec<String> {
        let re = regex::Regex::new(r"alloy_(?:live|test)_[A-Za-z0-9]{20,}").expect("regex");
        let text = serde_json::to_string(&self.0.iter().map(|(_, r)| r).collect::<Vec<_>>()).expect("json");
        re.find_iter(&text).map(|m| m.as_str().to_string()).collect()
    }

    fn answer_to(&self, id: &Value) -> &Value {
        self.0
            .iter()
            .flat_map(|(_, r)| r)
            .find(|m| m.get("id") == Some(id) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no answer to {id} in {:?}", self.0))
    }
}

fn is_answer_to(m: &Value, id: Option<&Value>) -> bool {
    m.get("method").is_none() && m.get("id").unwrap_or(&Value::Null) == id.unwrap_or(&Value::Null)
}

/// The script over stdio, one line at a time, against a spawned command.
struct StdioClient {
    proc: Proc,
    stdin: Option<ChildStdin>,
    stdout: mpsc::Receiver<String>,
}

impl StdioClient {
    fn spawn(cmd: &mut Command) -> StdioClient {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut proc = Proc::spawn(cmd);
        let stdin = proc.child.stdin.take();
        let out = proc.child.stdout.take().expect("stdout pipe");
        StdioClient {
            proc,
            stdin,
            stdout: lines_of(out),
        }
    }

    fn play(&mut self, script: &[Act]) -> View {
        let mut view = View::default();
        for act in script {
            let (sent, text, wait_for) = match act {
                Act::Request(v) => (Sent::Send(v.clone()), v.to_string(), Some(v.get("id").cloned())),
                Act::Notify(v) => (Sent::Send(v.clone()), v.to_string(), None),
                Act::Raw(t) => (Sent::SendRaw(t.clone()), t.clone(), Some(None)),
            };
            let stdin = self.stdin.as_mut().expect("stdin open");
            writeln!(stdin, "{text}")
                .and_then(|()| stdin.flush())
                .expect("the line is written");
            let mut recv = Vec::new();
            if let Some(id) = wait_for {
                loop {
                    let line = self
                        .stdout
                        .recv_timeout(WAIT)
                        .unwrap_or_else(|_| panic!("no answer to {text} within {WAIT:?}"));
                    let m: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    let done = is_answer_to(&m, id.as_ref());
                    recv.push(m);
                    if done {
                        break;
                    }
                }
            }
            view.0.push((sent, recv));
        }
        view
    }

    /// Closes stdin (the client's end of the session) and waits for the exit.
    fn close(mut self) -> (ExitStatus, String) {
        self.stdin = None;
        self.proc.finish()
    }
}

/// The script over an HTTP driver (Streamable HTTP or legacy SSE).
async fn play_driver(driver: &mut dyn Driver, script: &[Act]) -> View {
    let mut view = View::default();
    for act in script {
        let (sent, frame, wait_for) = match act {
            Act::Request(v) => (
                Sent::Send(v.clone()),
                Frame::Json(v.clone()),
                Some(v.get("id").cloned()),
            ),
            Act::Notify(v) => (Sent::Send(v.clone()), Frame::Json(v.clone()), None),
            Act::Raw(t) => (Sent::SendRaw(t.clone()), Frame::Raw(t.clone()), Some(None)),
        };
        driver
            .send(&frame)
            .await
            .unwrap_or_else(|e| panic!("{sent:?}: {e}\n{}", driver.diagnostics()));
        let mut recv = Vec::new();
        if let Some(id) = wait_for {
            loop {
                match driver.recv(WAIT).await {
                    Ok(Incoming::Message(m)) => {
                        let done = is_answer_to(&m, id.as_ref());
                        recv.push(m);
                        if done {
                            break;
                        }
                    }
                    other => panic!("{sent:?}: {other:?}\n{}", driver.diagnostics()),
                }
            }
        }
        if let Some(v) = recv
            .last()
            .and_then(|m| m.pointer("/result/protocolVersion"))
            .and_then(Value::as_str)
        {
            driver.set_protocol_version(v);
        }
        view.0.push((sent, recv));
    }
    view
}

/// Runs the CLI with `args`.
fn cli(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("the CLI runs")
}

/// `alloy-conformance record --stdio <server> --out <dir> --name <name>`, to be spawned.
fn record_stdio(server: &str, dir: &str, name: &str) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["record", "--stdio", server, "--out", dir, "--name", name]);
    cmd
}

/// [`cli`] with 60 s for the handshake and for each answer (debug builds on a busy machine).
fn cli_patient(args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--timeout", "60", "--handshake-timeout", "60"]);
    cli(&all)
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `run --fixtures <dir> --only <id>` against the local alloy-mcp passes, one case.
fn run_passes(dir: &Path, id: &str, transports: &str) {
    let out = cli_patient(&[
        "run",
        "--fixtures",
        &dir.display().to_string(),
        "--only",
        id,
        "--transports",
        transports,
        "--no-progress",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "run does not pass the recording {id}:\n{t}");
    assert!(t.contains("1 passed, 0 failed"), "{t}");
}

/// The files of a recording: scenario and expected transcript.
fn files(dir: &Path, id: &str, era: Era) -> (PathBuf, PathBuf) {
    let (category, name) = id.split_once('/').expect("category/name");
    let scenario = dir.join("scenarios").join(category).join(format!("{name}.json"));
    let snap = match era {
        Era::Handshake => format!("{name}.snap"),
        Era::Stateless => format!("{name}@stateless.snap"),
    };
    let expected = dir.join("expected").join(category).join(snap);
    assert!(scenario.is_file(), "{} exists", scenario.display());
    assert!(expected.is_file(), "{} exists", expected.display());
    (scenario, expected)
}

/// No file under `dir` holds any of `secrets`, nor any key of the seed.
/// [`holds_no_key`], then the time `what` took since `started`.
fn holds_no_key_then_notice(dir: &Path, secrets: &[String], what: &str, started: Instant) {
    holds_no_key(dir, secrets);
    notice(&format!("{what} checked in {:.1} s", started.elapsed().as_secs_f64()));
}

fn holds_no_key(dir: &Path, secrets: &[String]) {
    let mut all: Vec<String> = alloy_conformance::seeded::seeded_key_names()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    all.extend(secrets.iter().cloned());
    assert!(
        secrets.iter().any(|s| s.starts_with("alloy_")),
        "the session produced keys to look for: {secrets:?}"
    );
    let mut stack = vec![dir.to_path_buf()];
    let mut checked = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let mut text = String::new();
            std::fs::File::open(&p)
                .and_then(|mut f| f.read_to_string(&mut text))
                .expect("a text file");
            for s in &all {
                assert!(!text.contains(s.as_str()), "{} holds a key: {s}", p.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "a scenario and an expected transcript were checked");
}

/// The local alloy-mcp binary (next to this test, or `$ALLOY_MCP_BIN`).
fn alloy_mcp() -> String {
    let explicit = std::env::var_os("ALLOY_MCP_BIN").map(PathBuf::from);
    alloy_conformance::local::locate(explicit.as_deref(), false)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .display()
        .to_string()
}

/// `verify` passes against alloy-mcp and fails readably against a read-only one.
fn verify_against_alloy_mcp(scenario: &Path, server: &str) {
    let scenario = scenario.display().to_string();
    let out = cli_patient(&["verify", &scenario, "--stdio", server]);
    let t = text(&out);
    assert!(out.status.success(), "verify against alloy-mcp:\n{t}");
    assert!(t.contains("verify: every answer as recorded"), "{t}");

    let read_only = format!("{server} --read-only");
    let out = cli_patient(&["verify", &scenario, "--stdio", &read_only]);
    let t = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "verify against a read-only alloy-mcp fails:\n{t}"
    );
    assert!(
        t.contains("result.tools[name=create_ticket]: missing"),
        "the tool list names the missing write tool: {t}"
    );
    assert!(
        t.contains("tools/call create_ticket (id 4)"),
        "the failed call is named: {t}"
    );
    assert!(t.contains("steps answered differently"), "{t}");
    // Ignoring what a read-only server cannot do leaves only the steps that depend on it.
    let out = cli_patient(&["verify", &scenario, "--stdio", &read_only, "--ignore", "result.tools"]);
    let t = text(&out);
    assert!(!t.contains("result.tools[name=create_ticket]"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_session_recorded_in_the_handshake_era_passes_run_replays_identically_and_verifies() {
    let started = Instant::now();
    let server = alloy_mcp();
    let out = TempDir::new("stdio-handshake");
    let dir = out.path().display().to_string();
    let script = handshake_script("2025-06-18");

    // The client through the recorder (which starts the mock and hands alloy-mcp its key).
    let mut client =
        StdioClient::spawn(record_stdio(&server, &dir, "client/stdio__handshake").args(["--role", "Owner"]));
    let recorded = client.play(&script);
    let (status, stderr) = client.close();
    assert!(
        status.success(),
        "the recorder exits as the server did: {status}\n{stderr}"
    );
    assert!(
        stderr.contains("wrote client/stdio__handshake (9 steps, handshake era, stdio, as Owner)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("serve_inner"),
        "the server's stderr passes through: {stderr}"
    );
    assert!(
        !stderr.contains("in flight"),
        "a client that waits for each answer is recorded in order: {stderr}"
    );

    // The same client straight against alloy-mcp on the same kind of mock sees the same.
    let mock = alloy_mock_api::MockAlloy::start_with(alloy_conformance::runner::mock_options(None).0)
        .await
        .expect("a mock");
    let mut direct = StdioClient::spawn(
        Command::new(&server)
            .env("ALLOY_API_URL", mock.base_url())
            .env("ALLOY_API_TOKEN", key("Owner")),
    );
    let seen = direct.play(&script);
    let _ = direct.close();
    assert_eq!(
        recorded.normalized(),
        seen.normalized(),
        "the recorder changes nothing the client sees"
    );

    let (scenario, _) = files(out.path(), "client/stdio__handshake", Era::Handshake);
    run_passes(out.path(), "client/stdio__handshake", "stdio");

    // Replay: the same client, no API, no alloy-mcp.
    let mut replay =
        StdioClient::spawn(Command::new(bin()).args(["replay", &scenario.display().to_string(), "--stdio"]));
    let replayed = replay.play(&script);
    let (status, stderr) = replay.close();
    assert_eq!(
        replayed.normalized(),
        recorded.normalized(),
        "replay answers as recorded"
    );
    assert_eq!(
        replayed.answer_to(&json!("seven"))["id"],
        "seven",
        "answers carry the client's ids"
    );
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("7 request(s) answered from the recording (7 recorded, 0 answered again), 0 unmatched"),
        "{stderr}"
    );

    // Replay says what it expected when the client strays.
    let mut stray = StdioClient::spawn(Command::new(bin()).args([
        "replay",
        &scenario.display().to_string(),
        "--stdio",
        "--match",
        "sequence",
    ]));
    let view = stray.play(&[Act::Request(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))]);
    let (status, stderr) = stray.close();
    let error = &view.answer_to(&json!(1))["error"];
    assert_eq!(error["code"], -32010, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("step 1 of 9") && message.contains("initialize"),
        "{message}"
    );
    assert_eq!(status.code(), Some(1), "{stderr}");

    verify_against_alloy_mcp(&scenario, &server);

    let mut secrets = recorded.keys();
    secrets.push(key("Owner"));
    holds_no_key_then_notice(out.path(), &secrets, "stdio handshake recording", started);
}

#[test]
fn a_stdio_session_at_the_stateless_wire_without_discover_is_recorded_with_the_servers_versions() {
    let started = Instant::now();
    let server = alloy_mcp();
    let out = TempDir::new("stdio-stateless");
    let dir = out.path().display().to_string();
    let script = stateless_script(false);
    let mut client = StdioClient::spawn(
        record_stdio(&server, &dir, "client/stdio__stateless")
            .args(["--redact", "title"])
            // The client's own key picks the role: the Member's.
            .env("ALLOY_API_TOKEN", key("Member")),
    );
    let recorded = client.play(&script);
    let (status, stderr) = client.close();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("(4 steps, stateless era, stdio, as Member)"),
        "{stderr}"
    );
    let (scenario, expected) = files(out.path(), "client/stdio__stateless", Era::Stateless);
    let snap = std::fs::read_to_string(&expected).expect("readable");
    assert!(
        snap.contains("\"supported\": [") && snap.contains("\"2026-07-28\""),
        "{snap}"
    );
    assert!(
        !snap.contains("alloy-conformance-record-discover"),
        "the recorder's own question stays out"
    );
    // `--redact title`: the ticket titles the client sent and got back are not in the files,
    // and `run` redacts its own transcript the same way.
    for file in [&scenario, &expected] {
        let text = std::fs::read_to_string(file).expect("readable");
        assert!(
            !text.contains("Recorded statelessly") && !text.contains("Add Apple Pay"),
            "{text}"
        );
    }
    run_passes(out.path(), "client/stdio__stateless", "stdio");

    let mut replay =
        StdioClient::spawn(Command::new(bin()).args(["replay", &scenario.display().to_string(), "--stdio"]));
    let replayed = replay.play(&script);
    let (status, stderr) = replay.close();
    assert!(status.success(), "{stderr}");
    let title = ["title".to_string()];
    assert_eq!(
        replayed.normalized_redacting(&title),
        recorded.normalized_redacting(&title)
    );

    let mut secrets = recorded.keys();
    secrets.push(key("Member"));
    holds_no_key_then_notice(out.path(), &secrets, "stdio stateless recording", started);
}

/// A loopback port nobody listens on, below the ephemeral ranges (as the runner picks them).
fn free_port() -> u16 {
    let seed = std::process::id() as u64 * 7919
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
    for i in 0..12_000u64 {
        let port = 20_000 + ((seed + i * 37) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port");
}

/// Waits until something accepts connections on `port`.
fn wait_listening(port: u16, server: &mut Proc) {
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "the server exited before listening: {status}\n{}",
                server.seen.join("\n")
            );
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// One recorder for alloy-mcp --http: the recorder starts the mock, alloy-mcp is started
/// against it, clients connect to the recorder.
struct HttpRecording {
    recorder: Proc,
    server: Proc,
    proxy: String,
}

impl HttpRecording {
    async fn start(dir: &Path, name: &str) -> HttpRecording {
        let port = free_port();
        let mut recorder = Proc::spawn(Command::new(bin()).args([
            "record",
            "--http",
            &format!("http://127.0.0.1:{port}/mcp"),
            "--listen",
            "127.0.0.1:0",
            "--mock-addr",
            "127.0.0.1:0",
            "--out",
            &dir.display().to_string(),
            "--name",
            name,
        ]));
        let mock = url_after(&recorder.line_with("mock Alloy API on "), "mock Alloy API on ");
        let proxy = url_after(&recorder.line_with("recording proxy on "), "recording proxy on ");
        let mut server = Proc::spawn(
            Command::new(alloy_mcp())
                .args(["--http", &format!("127.0.0.1:{port}")])
                .env("ALLOY_API_URL", &mock)
                .env("ALLOY_API_TOKEN", key("Owner"))
                .stdin(Stdio::null()),
        );
        wait_listening(port, &mut server);
        HttpRecording {
            recorder,
            server,
            proxy,
        }
    }

    /// Stops the recorder (SIGTERM writes the open sessions) and the server; the recorder's
    /// stderr.
    fn stop(self) -> String {
        self.recorder.terminate();
        let (status, stderr) = self.recorder.finish();
        assert!(status.success(), "the recorder stops cleanly: {status}\n{stderr}");
        drop(self.server);
        stderr
    }
}

/// `replay --http` of `scenario` for a client made by `connect`; the view and the summary.
async fn replay_over_http(scenario: &Path, legacy: bool, script: &[Act], key: &str, era: Era) -> (View, String) {
    let mut replay =
        Proc::spawn(Command::new(bin()).args(["replay", &scenario.display().to_string(), "--http", "127.0.0.1:0"]));
    let base = url_after(&replay.line_with(" on http://"), " on ");
    let view = if legacy {
        let sse = base.replace("/mcp", "/sse");
        let mut d = SseDriver::connect(&sse, Some(key), timeouts())
            .await
            .expect("replay's /sse");
        let v = play_driver(&mut d, script).await;
        Box::new(d).close().await;
        v
    } else {
        let mut d = HttpDriver::connect(&base, Some(key), timeouts()).expect("replay's /mcp");
        d.set_era(era);
        let v = play_driver(&mut d, script).await;
        Box::new(d).close().await;
        v
    };
    replay.terminate();
    let (status, stderr) = replay.finish();
    assert!(status.success(), "replay matched everything: {stderr}");
    (view, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sessions_in_both_eras_and_over_legacy_sse_are_recorded_run_replayed_and_keyless() {
    let started = Instant::now();
    let out = TempDir::new("http");
    let member = key("Member");

    // Streamable HTTP, handshake era, as the Member: the session ends with the client's DELETE.
    let rec = HttpRecording::start(out.path(), "client/http__handshake").await;
    let script = handshake_script("2025-06-18");
    let mut d = HttpDriver::connect(&rec.proxy, Some(&member), timeouts()).expect("the proxy's URL");
    let handshake = play_driver(&mut d, &script).await;
    Box::new(d).close().await;
    let stderr = rec.stop();
    assert!(
        stderr.contains("wrote client/http__handshake (9 steps, handshake era, http, as Member)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("note:"),
        "nothing to warn about for a well-behaved client: {stderr}"
    );

    // Streamable HTTP at the 2026-07-28 wire: no session; written when the recorder stops.
    let rec = HttpRecording::start(out.path(), "client/http__stateless").await;
    let stateless_acts = stateless_script(true);
    let mut d = HttpDriver::connect(&rec.proxy, Some(&member), timeouts()).expect("the proxy's URL");
    d.set_era(Era::Stateless);
    let stateless = play_driver(&mut d, &stateless_acts).await;
    Box::new(d).close().await;
    let stderr = rec.stop();
    assert!(
        stderr.contains("wrote client/http__stateless (5 steps, stateless era, http, as Member)"),
        "{stderr}"
    );

    // Legacy HTTP+SSE (2024-11-05): the endpoint event leads the client's POSTs through the
    // proxy; the session is written when the recorder stops (or the stream ends).
    let rec = HttpRecording::start(out.path(), "client/sse__legacy").await;
    let legacy_acts = handshake_script("2024-11-05");
    let sse_url = rec.proxy.replace("/mcp", "/sse");
    let mut d = SseDriver::connect(&sse_url, Some(&member), timeouts())
        .await
        .expect("the proxy's /sse");
    let legacy = play_driver(&mut d, &legacy_acts).await;
    Box::new(d).close().await;
    let stderr = rec.stop();
    assert!(
        stderr.contains("wrote client/sse__legacy (9 steps, handshake era, sse, as Member)"),
        "{stderr}"
    );

    // run passes each recording against alloy-mcp, on the transport it was recorded on.
    files(out.path(), "client/http__handshake", Era::Handshake);
    files(out.path(), "client/http__stateless", Era::Stateless);
    files(out.path(), "client/sse__legacy", Era::Handshake);
    run_passes(out.path(), "client/http__handshake", "http");
    run_passes(out.path(), "client/http__stateless", "http");
    run_passes(out.path(), "client/sse__legacy", "sse");

    // replay answers the same clients identically over HTTP and legacy SSE.
    let scenarios = out.path().join("scenarios").join("client");
    let replays = [
        (
            "http__handshake.json",
            false,
            &script[..],
            Era::Handshake,
            &handshake,
            "Streamable HTTP, handshake era",
        ),
        (
            "http__stateless.json",
            false,
            &stateless_acts[..],
            Era::Stateless,
            &stateless,
            "Streamable HTTP, stateless",
        ),
        (
            "sse__legacy.json",
            true,
            &legacy_acts[..],
            Era::Handshake,
            &legacy,
            "legacy SSE",
        ),
    ];
    for (file, over_sse, acts, era, recorded, what) in replays {
        let (view, _) = replay_over_http(&scenarios.join(file), over_sse, acts, &member, era).await;
        assert_eq!(view.normalized(), recorded.normalized(), "{what}");
    }

    let mut secrets = handshake.keys();
    secrets.extend(stateless.keys());
    secrets.extend(legacy.keys());
    secrets.push(member);
    holds_no_key_then_notice(out.path(), &secrets, "HTTP recordings", started);
}

#[test]
fn the_recorder_passes_every_byte_stderr_and_the_exit_code_through() {
    let out = TempDir::new("bytes");
    let dir = out.path().display().to_string();
    // `cat` echoes: what the client gets back is exactly what the server received.
    let server = "sh -c 'echo from-the-server >&2; cat; exit 7'";
    let mut child = Command::new(bin())
        .args([
            "record",
            "--no-mock",
            "--stdio",
            server,
            "--out",
            &dir,
            "--name",
            "bytes__echo",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the recorder starts");
    let sent: &[u8] =
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n\n{ not json \xff\xfe\n{\"unterminated\":";
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(sent).expect("written");
    }
    let deadline = Instant::now() + WAIT;
    while matches!(child.try_wait(), Ok(None)) {
        assert!(Instant::now() < deadline, "the recorder exits after the client's EOF");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.stdout, sent, "every byte came back unchanged");
    assert_eq!(
        output.status.code(),
        Some(7),
        "the server's exit code is the recorder's"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("from-the-server"), "{stderr}");
    assert!(stderr.contains("wrote recorded/bytes__echo"), "{stderr}");
    let scenario = std::fs::read_to_string(out.path().join("scenarios/recorded/bytes__echo.json")).expect("written");
    assert!(scenario.contains(r#"{"raw":"{ not json"#), "{scenario}");
}
