//! The runner: plays one scenario on one transport against a server, with a fresh
//! deterministic mock Alloy API behind it, and judges the result. A case passes when the
//! normalized transcript equals the expected one (see [`crate::expected`]) and no protocol
//! check failed: every answer has the id of its request, every result has the shape of the
//! negotiated revision, every `tools/list` schema is valid JSON Schema, tool-call arguments in
//! the scenario fit the server's own schema, nothing timed out.
//!
//! Per case: start (or reset) the mock; start or connect the server ([`Launch`]), handing a
//! spawned one `ALLOY_API_URL` and `ALLOY_API_TOKEN` (the seeded key of the scenario's `role`,
//! the Owner's by default; over HTTP the same key is the Bearer token); unless the scenario
//! says `"handshake": false`, `initialize` with the scenario's version (id 0, so scenario ids
//! start at 1) and send `notifications/initialized`; fetch `tools/list` (unrecorded) when a step
//! calls a tool; then send each step, wait as the step says, and record what came back plus the
//! mock's journal. The first timeout or a closed connection ends the case.

use crate::driver::http::HttpDriver;
use crate::driver::sse::SseDriver;
use crate::driver::stdio::{CommandSpec, StdioDriver};
use crate::driver::{Driver, DriverError, Frame, Incoming, Timeouts, Transport};
use crate::scenario::{self, Await, Role, Scenario, Step};
use crate::shapes;
use crate::transcript::{self, Recorder};
use alloy_mock_api::{MockAlloy, MockOptions, Store, default_seed_dir};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How the server under test is reached.
#[derive(Clone, Debug)]
pub enum Launch {
    /// Spawned per case; newline-delimited JSON-RPC on stdio.
    Stdio(CommandSpec),
    /// Spawned per case as `<command> --http 127.0.0.1:<free port>`, then reached over
    /// Streamable HTTP at `/mcp` (transport `Http`) or legacy SSE at `/sse` (transport `Sse`).
    SpawnedHttp {
        /// The server command (without `--http`).
        command: CommandSpec,
        /// `Http` or `Sse`.
        transport: Transport,
    },
    /// Already running (the user started it against the mock on a fixed address).
    Remote {
        /// MCP endpoint (`Http`) or event-stream URL (`Sse`).
        url: String,
        /// Bearer token; the seeded Owner key when `None`.
        token: Option<String>,
        /// `Http` or `Sse`.
        transport: Transport,
    },
}

impl Launch {
    /// The transport this launch speaks.
    pub fn transport(&self) -> Transport {
        match self {
            Launch::Stdio(_) => Transport::Stdio,
            Launch::SpawnedHttp { transport, .. } | Launch::Remote { transport, .. } => *transport,
        }
    }

    /// Whether the server is started by someone else (then one mock on a fixed address serves
    /// the whole run and is reset between cases).
    pub fn is_remote(&self) -> bool {
        matches!(self, Launch::Remote { .. })
    }
}

/// Options of the deterministic mock used for every case: the bundled seed when
/// `fixtures/seed/seed.json` exists (otherwise an empty deterministic store, with a warning).
pub fn mock_options(bind: Option<SocketAddr>) -> (MockOptions, Option<String>) {
    let mut opts = MockOptions::seeded_deterministic();
    let mut warning = None;
    if !default_seed_dir().join("seed.json").exists() {
        opts.seed_dir = None;
        warning = Some(format!(
            "no seed at {}: the mock API starts empty (no org, no keys)",
            default_seed_dir().join("seed.json").display()
        ));
    }
    opts.bind = bind;
    (opts, warning)
}

/// The mock behind a run: a fresh one per case, or one shared instance reset per case.
pub enum MockPolicy {
    /// Start a new mock on a random loopback port for every case.
    FreshPerCase,
    /// Use this mock (on a fixed address) and replace its store before every case.
    Shared(MockAlloy),
}

/// What one case produced before judging.
#[derive(Clone, Debug)]
pub struct CaseRun {
    /// The normalized transcript.
    pub transcript: Value,
    /// Protocol checks that failed (empty = none).
    pub violations: Vec<String>,
    /// Transport facts for the failure report (stderr, session, statuses).
    pub diagnostics: String,
    /// Wall time of the case.
    pub duration: Duration,
}

/// The verdict on one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Transcript as expected, no violation.
    Passed,
    /// Differs from the expected transcript or broke a protocol rule.
    Failed,
    /// Failed, and listed in the expected-failures file.
    ExpectedFailure,
    /// Passed although listed in the expected-failures file.
    Stale,
}

impl Status {
    /// Whether the case counts as passed in the closing line.
    pub fn counts_as_passed(self) -> bool {
        matches!(self, Status::Passed | Status::ExpectedFailure)
    }

    /// Short name for tables and machine-readable output.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "FAIL",
            Status::ExpectedFailure => "xfail",
            Status::Stale => "STALE",
        }
    }
}

/// One judged case (one scenario on one transport).
#[derive(Clone, Debug)]
pub struct CaseOutcome {
    /// Scenario id, `<category>/<tool>__<case>`.
    pub id: String,
    /// Category (folder).
    pub category: String,
    /// `<tool>__<case>`.
    pub name: String,
    /// Transport.
    pub transport: Transport,
    /// Verdict.
    pub status: Status,
    /// Protocol checks that failed.
    pub violations: Vec<String>,
    /// Expected vs actual (`-` expected, `+` actual), or why there is nothing to compare.
    pub diff: Option<String>,
    /// Transport diagnostics (shown for failures).
    pub diagnostics: String,
    /// Extra explanation (e.g. why a case is stale).
    pub note: Option<String>,
    /// The normalized transcript.
    pub transcript: Value,
    /// Wall time.
    pub duration: Duration,
}

/// Judges a run against the expected transcript (`None` = no expected file yet).
pub fn judge(scenario: &Scenario, transport: Transport, run: CaseRun, expected: Option<&Value>) -> CaseOutcome {
    let diff = match expected {
        None => Some(format!(
            "no expected transcript for {} (record it with `cargo insta test -p alloy-conformance` and `cargo insta review`, or inspect this run's with `--write-actual DIR`)",
            scenario.id
        )),
        Some(e) if *e == run.transcript => None,
        Some(e) => Some(transcript::diff(e, &run.transcript)),
    };
    let status = if diff.is_none() && run.violations.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    CaseOutcome {
        id: scenario.id.clone(),
        category: scenario.category.clone(),
        name: scenario.name(),
        transport,
        status,
        violations: run.violations,
        diff,
        diagnostics: run.diagnostics,
        note: None,
        transcript: run.transcript,
        duration: run.duration,
    }
}

/// Runs `scenario` over `launch` with a fresh deterministic mock, or with `shared` reset.
pub async fn run_case(scenario: &Scenario, launch: &Launch, shared: Option<&MockAlloy>, timeouts: Timeouts) -> CaseRun {
    let started = Instant::now();
    let fresh;
    let mock = match shared {
        Some(m) => {
            if let Err(e) = reset_mock(m).await {
                return setup_failure(scenario, format!("cannot reset the mock API: {e:#}"), started);
            }
            m
        }
        None => {
            let (opts, _) = mock_options(None);
            match MockAlloy::start_with(opts).await {
                Ok(m) => {
                    fresh = m;
                    &fresh
                }
                Err(e) => return setup_failure(scenario, format!("cannot start the mock API: {e:#}"), started),
            }
        }
    };
    let mut case = Case::new(scenario, mock, timeouts);
    let connected = connect(launch, mock, scenario.role(), timeouts).await;
    let (mut driver, process) = match connected {
        Ok(pair) => pair,
        Err((e, process)) => {
            case.violations.push(format!("cannot connect: {e}"));
            case.rec.push(json!({"event": "connect_failed"}));
            let diagnostics = process.map(|p| p.diagnostics()).unwrap_or_default();
            return case.finish(diagnostics, started);
        }
    };
    case.play(driver.as_mut()).await;
    let mut diagnostics = driver.diagnostics();
    driver.close().await;
    if let Some(p) = process {
        diagnostics.push_str(&p.diagnostics());
    }
    case.finish(diagnostics, started)
}

/// A server's full `tools/list` (every page) after a handshake at `version`, with the protocol
/// checks it failed (shape, schema meta-validation, annotations). The material for the sorted
/// name list and the one schema snapshot per tool.
#[derive(Clone, Debug)]
pub struct ToolList {
    /// The tools, in the server's order.
    pub tools: Vec<Value>,
    /// Protocol checks that failed.
    pub violations: Vec<String>,
}

/// Starts (or connects to) the server with a fresh mock and fetches its tool list.
pub async fn list_tools(launch: &Launch, version: &str, timeouts: Timeouts) -> anyhow::Result<ToolList> {
    let (opts, _) = mock_options(None);
    let mock = MockAlloy::start_with(opts).await?;
    let scenario = Scenario {
        id: "tools/tools_list__all_pages".into(),
        category: "tools".into(),
        tool: "tools_list".into(),
        case: "all_pages".into(),
        path: PathBuf::new(),
        file: scenario::ScenarioFile {
            description: "the full tool list".into(),
            protocol_version: Some(version.to_string()),
            handshake: true,
            transports: None,
            role: None,
            steps: Vec::new(),
        },
    };
    let (mut driver, process) = connect(launch, &mock, Role::default(), timeouts)
        .await
        .map_err(|(e, p)| {
            anyhow::anyhow!(
                "cannot connect: {e}\n{}",
                p.map(|p| p.diagnostics()).unwrap_or_default()
            )
        })?;
    let mut case = Case::new(&scenario, &mock, timeouts);
    let tools = if case.handshake(driver.as_mut()).await {
        case.fetch_tools(driver.as_mut()).await
    } else {
        None
    };
    let diagnostics = driver.diagnostics();
    driver.close().await;
    drop(process);
    match tools {
        Some(tools) => Ok(ToolList {
            tools,
            violations: case.violations,
        }),
        None => anyhow::bail!("no tool list: {:?}\n{diagnostics}", case.violations),
    }
}

fn setup_failure(scenario: &Scenario, message: String, started: Instant) -> CaseRun {
    let mut rec = Recorder::new(&scenario.id, &scenario.file.description);
    rec.push(json!({"event": "setup_failed"}));
    CaseRun {
        transcript: transcript::normalize(&rec.finish()),
        violations: vec![message],
        diagnostics: String::new(),
        duration: started.elapsed(),
    }
}

/// Replaces the store of a shared mock with a freshly seeded one (built by starting a second,
/// throwaway mock with the same options, so seeding follows the mock's own code).
async fn reset_mock(mock: &MockAlloy) -> anyhow::Result<()> {
    let (opts, _) = mock_options(None);
    let donor = MockAlloy::start_with(opts).await?;
    let store = donor.with_store(|s| std::mem::replace(s, Store::new(Default::default(), s.clock.clone())));
    mock.with_store(|s| *s = store);
    mock.take_journal();
    Ok(())
}

type Connected = (Box<dyn Driver>, Option<StdioDriver>);

async fn connect(
    launch: &Launch,
    mock: &MockAlloy,
    role: Role,
    timeouts: Timeouts,
) -> Result<Connected, (DriverError, Option<StdioDriver>)> {
    let key = role.key(mock.keys()).to_string();
    let with_env = |c: &CommandSpec| {
        c.clone()
            .with_env("ALLOY_API_URL", mock.base_url())
            .with_env("ALLOY_API_TOKEN", key.clone())
    };
    match launch {
        Launch::Stdio(command) => {
            let d = StdioDriver::spawn(&with_env(command), timeouts).map_err(|e| (e, None))?;
            Ok((Box::new(d), None))
        }
        Launch::SpawnedHttp { command, transport } => {
            // A server that exits before it listens (e.g. it lost its port to another process
            // after all) is started again on another port, twice at most.
            let mut attempt = 0;
            let (addr, process) = loop {
                attempt += 1;
                let port = free_port().map_err(|e| (e, None))?;
                let addr = format!("127.0.0.1:{port}");
                let mut spec = with_env(command);
                spec.args.push("--http".into());
                spec.args.push(addr.clone());
                let mut process = StdioDriver::spawn(&spec, timeouts).map_err(|e| (e, None))?;
                match wait_listening(&addr, &mut process, timeouts.handshake).await {
                    Ok(()) => break (addr, process),
                    Err(DriverError::Connect(m)) if m.contains("exited before listening") && attempt < 3 => continue,
                    Err(e) => return Err((e, Some(process))),
                }
            };
            let driver: Box<dyn Driver> = match transport {
                Transport::Sse => match SseDriver::connect(&format!("http://{addr}/sse"), Some(&key), timeouts).await {
                    Ok(d) => Box::new(d),
                    Err(e) => return Err((e, Some(process))),
                },
                _ => match HttpDriver::connect(&format!("http://{addr}/mcp"), Some(&key), timeouts) {
                    Ok(d) => Box::new(d),
                    Err(e) => return Err((e, Some(process))),
                },
            };
            Ok((driver, Some(process)))
        }
        Launch::Remote { url, token, transport } => {
            // A case that names a role acts with that role's key; others with the given token.
            let token = match token {
                Some(t) if role == Role::default() => t.clone(),
                _ => key,
            };
            let driver: Box<dyn Driver> = match transport {
                Transport::Sse => Box::new(
                    SseDriver::connect(url, Some(&token), timeouts)
                        .await
                        .map_err(|e| (e, None))?,
                ),
                _ => Box::new(HttpDriver::connect(url, Some(&token), timeouts).map_err(|e| (e, None))?),
            };
            Ok((driver, None))
        }
    }
}

/// Ports handed to spawned servers come from below every common ephemeral range (Linux
/// 32768-60999, BSD/macOS/Windows 49152-65535), so no socket bound to port 0 meanwhile (a mock
/// API, another server) can take the port between this check and the server's own bind; a
/// process-wide counter keeps concurrent cases of this run on different ports.
const SERVER_PORTS: std::ops::Range<u16> = 20_000..32_000;

fn free_port() -> Result<u16, DriverError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = u32::from(SERVER_PORTS.end - SERVER_PORTS.start);
    // Start at an offset that differs between processes (several harness runs at once).
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    let _ = NEXT.compare_exchange(u32::MAX, seed % span, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::SeqCst) % span;
        let port = SERVER_PORTS.start + offset as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(DriverError::Connect(format!(
        "no free loopback port in {}..{}",
        SERVER_PORTS.start, SERVER_PORTS.end
    )))
}

/// Waits (bounded) until something accepts TCP connections on `addr`, failing early when the
/// process exits.
async fn wait_listening(addr: &str, process: &mut StdioDriver, within: Duration) -> Result<(), DriverError> {
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(25));
    loop {
        tick.tick().await;
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(Incoming::Closed) = process.try_recv() {
            return Err(DriverError::Connect(format!(
                "the server exited before listening on {addr}"
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DriverError::Connect(format!(
                "nothing listens on {addr} after {} ms",
                within.as_millis()
            )));
        }
    }
}

/// The state of one case while it plays.
struct Case<'a> {
    scenario: &'a Scenario,
    mock: &'a MockAlloy,
    timeouts: Timeouts,
    rec: Recorder,
    violations: Vec<String>,
    negotiated: Option<String>,
    /// Method of every request sent, by its id (compact JSON), to check answers.
    methods: HashMap<String, String>,
}

impl<'a> Case<'a> {
    fn new(scenario: &'a Scenario, mock: &'a MockAlloy, timeouts: Timeouts) -> Case<'a> {
        Case {
            scenario,
            mock,
            timeouts,
            rec: Recorder::new(&scenario.id, &scenario.file.description),
            violations: Vec::new(),
            negotiated: None,
            methods: HashMap::new(),
        }
    }

    fn finish(self, diagnostics: String, started: Instant) -> CaseRun {
        CaseRun {
            transcript: transcript::normalize(&self.rec.finish()),
            violations: self.violations,
            diagnostics,
            duration: started.elapsed(),
        }
    }

    async fn play(&mut self, driver: &mut dyn Driver) {
        if self.scenario.file.handshake && !self.handshake(driver).await {
            return;
        }
        let tools = if self.scenario.calls_tools() {
            match self.fetch_tools(driver).await {
                Some(t) => Some(t),
                None => return,
            }
        } else {
            None
        };
        // Whatever the server asked upstream while starting and shaking hands is not part of a
        // step.
        self.mock.take_journal();
        let steps = &self.scenario.file.steps;
        for (i, step) in steps.iter().enumerate() {
            if let Some(tools) = &tools
                && let Err(e) = scenario::check_tool_arguments(step, tools)
            {
                self.violations.push(format!("step {}: {e}", i + 1));
            }
            if !self.step(driver, i + 1, step).await {
                let skipped = steps.len() - i - 1;
                if skipped > 0 {
                    self.rec.push(json!({"event": "aborted", "skipped_steps": skipped}));
                }
                return;
            }
        }
    }

    /// `initialize` + `notifications/initialized`; recorded compactly when all is well.
    async fn handshake(&mut self, driver: &mut dyn Driver) -> bool {
        let requested = self.scenario.protocol_version().to_string();
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": requested,
            "capabilities": {},
            "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")},
        }});
        self.methods.insert("0".into(), "initialize".into());
        let before = self.violations.len();
        let (recv, ok) = self
            .exchange(
                driver,
                &Frame::Json(init.clone()),
                Await::Response,
                Some(json!(0)),
                self.timeouts.handshake,
                "handshake",
            )
            .await;
        let negotiated = recv
            .last()
            .and_then(|m| m.get("result"))
            .and_then(|r| r.get("protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(v) = &negotiated
            && !shapes::KNOWN_VERSIONS.contains(&v.as_str())
        {
            self.violations.push(format!(
                "handshake: the server chose protocol version `{v}`, which no MCP revision has"
            ));
        }
        let clean = ok && negotiated.is_some() && recv.len() == 1 && self.violations.len() == before;
        if clean {
            self.rec
                .push(json!({"handshake": {"requested": requested, "negotiated": negotiated}}));
        } else {
            self.rec.push(transcript::exchange(("send", init), recv, Vec::new()));
            if !ok || negotiated.is_none() {
                self.violations
                    .push("handshake: no successful initialize result; the scenario was not played".into());
                return false;
            }
        }
        let v = negotiated.unwrap_or_default();
        driver.set_protocol_version(&v);
        self.negotiated = Some(v);
        let initialized = Frame::Json(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        if let Err(e) = driver.send(&initialized).await {
            self.violations
                .push(format!("handshake: cannot send notifications/initialized: {e}"));
            return false;
        }
        true
    }

    /// `tools/list` (all pages) for argument validation; not recorded.
    async fn fetch_tools(&mut self, driver: &mut dyn Driver) -> Option<Vec<Value>> {
        let mut tools = Vec::new();
        let mut cursor: Option<Value> = None;
        for page in 0..20 {
            let id = format!("alloy-conformance-tools-{page}");
            let mut request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
            if let Some(c) = &cursor {
                request["params"] = json!({"cursor": c});
            }
            self.methods.insert(canonical_id(&json!(id)), "tools/list".into());
            let (recv, ok) = self
                .exchange(
                    driver,
                    &Frame::Json(request),
                    Await::Response,
                    Some(json!(id)),
                    self.timeouts.request,
                    "tools/list for argument checks",
                )
                .await;
            let result = recv.last().and_then(|m| m.get("result"));
            let Some(list) = result
                .and_then(|r| r.get("tools"))
                .and_then(Value::as_array)
                .filter(|_| ok)
            else {
                self.violations.push(
                    "tools/list (needed to check tool arguments) gave no tool list; the scenario was not played".into(),
                );
                self.rec.push(json!({"event": "tools_list_failed"}));
                return None;
            };
            tools.extend(list.iter().cloned());
            cursor = result
                .and_then(|r| r.get("nextCursor"))
                .filter(|c| !c.is_null())
                .cloned();
            if cursor.is_none() {
                break;
            }
        }
        Some(tools)
    }

    /// Plays one step; `false` ends the case.
    async fn step(&mut self, driver: &mut dyn Driver, n: usize, step: &Step) -> bool {
        let (sent, frame) = match (&step.send, &step.raw, &step.oversized) {
            (Some(v), _, _) => (("send", v.clone()), Frame::Json(v.clone())),
            (_, Some(raw), _) => (("send_raw", Value::String(raw.clone())), Frame::Raw(raw.clone())),
            (_, _, Some(o)) => (
                ("send_oversized", json!({"bytes": o.bytes, "message": o.message})),
                Frame::Raw(pad(&o.message, o.bytes)),
            ),
            _ => return false,
        };
        let expected_id = match &frame {
            Frame::Json(v) if v.get("method").is_some() => v.get("id").cloned(),
            _ => None,
        };
        if let (Some(id), Some(method)) = (&expected_id, step.method()) {
            self.methods.insert(canonical_id(id), method.to_string());
        }
        if let Some(o) = &step.oversized
            && let (Some(id), Some(method)) = (o.message.get("id"), o.message.get("method").and_then(Value::as_str))
        {
            self.methods.insert(canonical_id(id), method.to_string());
        }
        let wait = step.effective_await();
        let label = format!("step {n}");
        let (recv, ok) = self
            .exchange(driver, &frame, wait, expected_id, self.timeouts.request, &label)
            .await;
        let upstream: Vec<Value> = self
            .mock
            .take_journal()
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect();
        self.rec.push(transcript::exchange(sent, recv, upstream));
        ok
    }

    /// Sends `frame` and collects what comes back according to `wait`. Returns what was
    /// received (as transcript items) and whether the case may go on.
    async fn exchange(
        &mut self,
        driver: &mut dyn Driver,
        frame: &Frame,
        wait: Await,
        expected_id: Option<Value>,
        limit: Duration,
        label: &str,
    ) -> (Vec<Value>, bool) {
        let mut recv = Vec::new();
        if let Err(e) = driver.send(frame).await {
            return self.transport_failure(label, "sending", e, recv);
        }
        match wait {
            Await::Response => loop {
                match driver.recv(limit).await {
                    Ok(Incoming::Message(m)) => {
                        self.check_message(label, &m);
                        let is_response = is_response(&m);
                        if is_response && let Some(want) = &expected_id {
                            let got = m.get("id").cloned().unwrap_or(Value::Null);
                            if !same_id(want, &got) {
                                self.violations
                                    .push(format!("{label}: answered with id {got} to the request with id {want}"));
                            }
                        }
                        recv.push(m);
                        if is_response {
                            return (recv, true);
                        }
                    }
                    Ok(Incoming::Closed) => {
                        recv.push(transcript::incoming_value(&Incoming::Closed));
                        return (recv, false);
                    }
                    Ok(other) => {
                        self.check_incoming(label, &other);
                        let ends = !matches!(other, Incoming::Unparsable(_));
                        recv.push(transcript::incoming_value(&other));
                        if ends {
                            return (recv, true);
                        }
                    }
                    Err(e) => return self.transport_failure(label, "waiting for the answer", e, recv),
                }
            },
            Await::Any => match driver.recv(limit).await {
                Ok(i) => {
                    match &i {
                        Incoming::Message(m) => self.check_message(label, m),
                        other => self.check_incoming(label, other),
                    }
                    let go_on = i != Incoming::Closed;
                    recv.push(transcript::incoming_value(&i));
                    (recv, go_on)
                }
                Err(e) => self.transport_failure(label, "waiting for an answer", e, recv),
            },
            Await::None => {
                let settled = driver.settle(limit).await;
                while let Some(i) = driver.try_recv() {
                    match &i {
                        Incoming::Message(m) => self.check_message(label, m),
                        other => self.check_incoming(label, other),
                    }
                    recv.push(transcript::incoming_value(&i));
                }
                match settled {
                    Ok(()) => {
                        let closed = recv.iter().any(|v| v == &transcript::incoming_value(&Incoming::Closed));
                        (recv, !closed)
                    }
                    Err(DriverError::Closed) => {
                        if !recv.iter().any(|v| v == &transcript::incoming_value(&Incoming::Closed)) {
                            recv.push(transcript::incoming_value(&Incoming::Closed));
                        }
                        (recv, false)
                    }
                    Err(e) => {
                        self.transport_failure(label, "settling (a ping after a frame that gets no answer)", e, recv)
                    }
                }
            }
        }
    }

    fn transport_failure(
        &mut self,
        label: &str,
        doing: &str,
        e: DriverError,
        mut recv: Vec<Value>,
    ) -> (Vec<Value>, bool) {
        match e {
            DriverError::Timeout(_) => {
                recv.push(transcript::timeout_value());
                self.violations.push(format!("{label}: {doing}: {e}"));
            }
            DriverError::Closed => recv.push(transcript::incoming_value(&Incoming::Closed)),
            other => {
                recv.push(json!({"event": "transport_error"}));
                self.violations.push(format!("{label}: {doing}: {other}"));
            }
        }
        (recv, false)
    }

    fn check_incoming(&mut self, label: &str, i: &Incoming) {
        match i {
            Incoming::Unparsable(t) => self.violations.push(format!(
                "{label}: the server sent a frame that is not JSON: {}",
                first_line(t)
            )),
            Incoming::TransportError(m) => self.violations.push(format!("{label}: {m}")),
            _ => {}
        }
    }

    /// Protocol checks on one received JSON value.
    fn check_message(&mut self, label: &str, m: &Value) {
        if let Some(batch) = m.as_array() {
            for item in batch {
                self.check_message(label, item);
            }
            return;
        }
        if m.get("jsonrpc") != Some(&json!("2.0")) {
            self.violations.push(format!(
                "{label}: a message without `\"jsonrpc\": \"2.0\"`: {}",
                first_line(&m.to_string())
            ));
            return;
        }
        if !is_response(m) {
            return;
        }
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        let method = self.methods.get(&canonical_id(&id)).cloned();
        if method.is_none() && !id.is_null() {
            self.violations
                .push(format!("{label}: an answer with id {id}, which no request had"));
        }
        for p in shapes::check_response(self.negotiated.as_deref(), method.as_deref(), m) {
            self.violations.push(format!("{label}: {p}"));
        }
        if method.as_deref() == Some("tools/list")
            && let Some(tools) = m.get("result").and_then(|r| r.get("tools")).and_then(Value::as_array)
        {
            for p in shapes::check_tools(self.negotiated.as_deref(), tools) {
                self.violations.push(format!("{label}: {p}"));
            }
        }
    }
}

fn is_response(m: &Value) -> bool {
    m.get("method").is_none() && (m.get("result").is_some() || m.get("error").is_some())
}

/// Ids are equal as JSON values, integers also across number representations (`2.0` = `2`).
fn same_id(a: &Value, b: &Value) -> bool {
    a == b || (a.is_number() && b.is_number() && a.as_f64() == b.as_f64())
}

fn canonical_id(id: &Value) -> String {
    match id.as_f64() {
        Some(f) if id.is_number() && f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        _ => id.to_string(),
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    crate::driver::shorten(line, 200)
}

/// `message` with a `padding` member that makes the compact JSON exactly `bytes` long (or the
/// message alone when it is already longer).
fn pad(message: &Value, bytes: usize) -> String {
    let mut m = message.clone();
    if let Some(obj) = m.as_object_mut() {
        obj.insert("padding".into(), Value::String(String::new()));
    }
    let base = m.to_string().len();
    let fill = bytes.saturating_sub(base);
    if let Some(obj) = m.as_object_mut() {
        obj.insert("padding".into(), Value::String("x".repeat(fill)));
    }
    m.to_string()
}

/// Where the harness finds scenarios and expected transcripts.
#[derive(Clone, Debug)]
pub struct Fixtures {
    /// `<root>/<category>/<tool>__<case>.json`.
    pub scenarios: PathBuf,
    /// `<root>/<category>/<tool>__<case>.snap`.
    pub expected: PathBuf,
}

impl Fixtures {
    /// This repository's `fixtures/scenarios` and `fixtures/expected`.
    pub fn repository() -> Fixtures {
        Fixtures::under(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures"))
    }

    /// `<dir>/scenarios` and `<dir>/expected`.
    pub fn under(dir: PathBuf) -> Fixtures {
        Fixtures {
            scenarios: dir.join("scenarios"),
            expected: dir.join("expected"),
        }
    }
}

/// Progress events for a progress bar.
#[derive(Clone, Debug)]
pub enum Progress<'a> {
    /// A case is about to run.
    Started {
        /// 1-based index.
        index: usize,
        /// Number of cases.
        total: usize,
        /// Scenario id.
        id: &'a str,
        /// Transport.
        transport: Transport,
    },
    /// A case finished.
    Finished(&'a CaseOutcome),
}

/// Runs every selected scenario on every launch (one case per scenario and transport) and
/// judges each against its expected transcript. Up to `jobs` cases run at once (each with its
/// own mock and server process); with a `shared` mock, which is reset per case, one at a time.
/// Outcomes come back in scenario order whatever order the cases finished in.
pub async fn run_all(
    fixtures: &Fixtures,
    launches: &[Launch],
    only: Option<&str>,
    shared: Option<&MockAlloy>,
    timeouts: Timeouts,
    jobs: usize,
    progress: &mut dyn FnMut(Progress<'_>),
) -> anyhow::Result<Vec<CaseOutcome>> {
    let scenarios = scenario::load_dir(&fixtures.scenarios)?;
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| only.is_none_or(|p| scenario::matches_filter(p, &s.id)))
        .collect();
    let mut cases = Vec::new();
    for s in &selected {
        let expected = crate::expected::read(&fixtures.expected, s)?;
        for l in launches.iter().filter(|l| s.runs_on(l.transport())) {
            cases.push((*s, l, expected.clone()));
        }
    }
    let total = cases.len();
    let jobs = if shared.is_some() { 1 } else { jobs.max(1) };
    let progress = std::cell::RefCell::new(progress);
    let mut finished: Vec<(usize, CaseOutcome)> = Vec::with_capacity(total);
    {
        let progress = &progress;
        let mut running = futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (scenario, launch, expected))| {
                (progress.borrow_mut())(Progress::Started {
                    index: index + 1,
                    total,
                    id: &scenario.id,
                    transport: launch.transport(),
                });
                async move {
                    let run = run_case(scenario, launch, shared, timeouts).await;
                    (index, judge(scenario, launch.transport(), run, expected.as_ref()))
                }
            })
            .buffer_unordered(jobs);
        while let Some((index, outcome)) = running.next().await {
            (progress.borrow_mut())(Progress::Finished(&outcome));
            finished.push((index, outcome));
        }
    }
    finished.sort_by_key(|(i, _)| *i);
    Ok(finished.into_iter().map(|(_, o)| o).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_reaches_the_requested_size_exactly() {
        let m = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        assert_eq!(pad(&m, 5000).len(), 5000);
    }

    #[test]
    fn integer_ids_match_across_number_forms() {
        assert!(same_id(&json!(2), &json!(2.0)));
        assert!(!same_id(&json!(2), &json!("2")));
        assert_eq!(canonical_id(&json!(2.0)), "2");
        assert_eq!(canonical_id(&json!("2")), "\"2\"");
    }
}
