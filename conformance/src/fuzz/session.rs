//! The server under test as the fuzzer sees it: a [`Target`] (how to reach it, the mock API
//! behind it, the protocol revision to ask for), a [`Session`] on it (connected with the
//! harness's drivers, `initialize`d in the handshake era, requests with ids of its own, every
//! wait bounded by the target's timeouts), and a [`Conn`] that opens a new session when the last
//! one broke (a server that crashed is started again by the next case).

use crate::driver::stdio::StdioDriver;
use crate::driver::{Driver, DriverError, Frame, Incoming, Timeouts};
use crate::runner::{Launch, connect};
use crate::scenario::Role;
use alloy_mock_api::MockAlloy;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The server under test.
#[derive(Clone)]
pub struct Target {
    /// How it is reached (spawned over stdio or HTTP, or already running).
    pub launch: Launch,
    /// The mock Alloy API behind it (reset and read by the checks).
    pub mock: Arc<MockAlloy>,
    /// Whose seeded key it acts with.
    pub role: Role,
    /// The protocol revision asked for in `initialize`.
    pub version: String,
    /// Every wait.
    pub timeouts: Timeouts,
}

/// One answer and what else arrived while it was awaited.
#[derive(Clone, Debug)]
pub struct Answered {
    /// The message answering the request.
    pub answer: Value,
    /// Other arrivals (server notifications, stray messages), in order.
    pub others: Vec<Incoming>,
}

/// An initialized connection.
pub struct Session {
    driver: Box<dyn Driver>,
    process: Option<StdioDriver>,
    negotiated: String,
    next_id: u64,
    timeouts: Timeouts,
}

/// What an arrival is, in a sentence, for violations.
pub fn describe(i: &Incoming) -> String {
    match i {
        Incoming::Message(m) => crate::driver::shorten(&m.to_string(), 300),
        Incoming::Unparsable(t) => format!("a frame that is not JSON: {}", crate::driver::shorten(t, 200)),
        Incoming::HttpStatus { status, body } => {
            format!(
                "HTTP {status} without a JSON-RPC message ({})",
                crate::driver::shorten(body, 200)
            )
        }
        Incoming::TransportError(e) => format!("a transport error: {e}"),
        Incoming::Closed => "the server closed the connection".into(),
    }
}

fn failed(what: &str, e: &DriverError) -> String {
    format!("{what}: {e}")
}

impl Session {
    /// Connects and shakes hands at `target.version`.
    pub async fn open(target: &Target) -> Result<Session, String> {
        let (driver, process) = connect(&target.launch, &target.mock, target.role, target.timeouts)
            .await
            .map_err(|(e, p)| {
                let more = p.map(|p| format!("\n{}", p.diagnostics())).unwrap_or_default();
                format!("cannot connect: {e}{more}")
            })?;
        let mut s = Session {
            driver,
            process,
            negotiated: target.version.clone(),
            next_id: 0,
            timeouts: target.timeouts,
        };
        let params = json!({"protocolVersion": target.version, "capabilities": {},
            "clientInfo": {"name": "alloy-conformance-fuzz", "version": env!("CARGO_PKG_VERSION")}});
        let limit = s.timeouts.handshake;
        let answered = s.request_within("initialize", Some(params), limit).await?;
        let Some(version) = answered
            .answer
            .pointer("/result/protocolVersion")
            .and_then(Value::as_str)
        else {
            return Err(format!(
                "initialize at {} got no result: {}",
                target.version,
                crate::driver::shorten(&answered.answer.to_string(), 300)
            ));
        };
        s.negotiated = version.to_string();
        s.driver.set_protocol_version(version);
        let initialized = Frame::Json(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s.driver
            .send(&initialized)
            .await
            .map_err(|e| failed("cannot send notifications/initialized", &e))?;
        Ok(s)
    }

    /// The revision the server chose.
    pub fn negotiated(&self) -> &str {
        &self.negotiated
    }

    /// The server's process id, when the harness started it.
    pub fn pid(&self) -> Option<u32> {
        self.driver
            .pid()
            .or_else(|| self.process.as_ref().and_then(|p| p.pid()))
    }

    /// A number no earlier request of this session used.
    pub fn next_number(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The driver, for frames the caller builds itself.
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.driver.as_mut()
    }

    /// The request time limit.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Sends a request with a fresh id and waits for its answer.
    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Result<Answered, String> {
        let limit = self.timeouts.request;
        self.request_within(method, params, limit).await
    }

    async fn request_within(
        &mut self,
        method: &str,
        params: Option<Value>,
        limit: Duration,
    ) -> Result<Answered, String> {
        let id = json!(format!("fuzz-{}", self.next_number()));
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if let Some(p) = params {
            message["params"] = p;
        }
        self.driver
            .send(&Frame::Json(message))
            .await
            .map_err(|e| failed(&format!("cannot send {method}"), &e))?;
        self.await_answer(&id, method, limit).await
    }

    /// Waits for the message answering `id`.
    pub async fn await_answer(&mut self, id: &Value, what: &str, limit: Duration) -> Result<Answered, String> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut others = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.driver.recv(left).await {
                Ok(Incoming::Message(m)) if m.get("id") == Some(id) && m.get("method").is_none() => {
                    return Ok(Answered { answer: m, others });
                }
                Ok(i @ Incoming::HttpStatus { .. }) => {
                    return Err(format!("{what} was answered by {}", describe(&i)));
                }
                Ok(Incoming::Closed) => return Err(format!("{what}: the server closed the connection")),
                Ok(other) => others.push(other),
                Err(e) => return Err(failed(&format!("{what}: no answer"), &e)),
            }
        }
    }

    /// `ping`, which must be answered with a result: the server is still up.
    pub async fn ping(&mut self) -> Result<(), String> {
        let answered = self.request("ping", None).await?;
        match answered.answer.get("result") {
            Some(_) => Ok(()),
            None => Err(format!(
                "ping was answered without a result: {}",
                crate::driver::shorten(&answered.answer.to_string(), 300)
            )),
        }
    }

    /// Every page of `tools/list`.
    pub async fn list_tools(&mut self) -> Result<Vec<Value>, String> {
        let mut tools = Vec::new();
        let mut cursor: Option<Value> = None;
        for _ in 0..50 {
            let params = cursor.take().map(|c| json!({"cursor": c}));
            let answered = self.request("tools/list", params).await?;
            let Some(result) = answered.answer.get("result") else {
                return Err(format!(
                    "tools/list was refused: {}",
                    crate::driver::shorten(&answered.answer.to_string(), 300)
                ));
            };
            tools.extend(
                result
                    .get("tools")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            match result.get("nextCursor") {
                Some(c) if !c.is_null() => cursor = Some(c.clone()),
                _ => return Ok(tools),
            }
        }
        Err("tools/list gave more than 50 pages".into())
    }

    /// What the transport knows (stderr, statuses), for reports.
    pub fn diagnostics(&self) -> String {
        let mut d = self.driver.diagnostics();
        if let Some(p) = &self.process {
            d.push_str(&p.diagnostics());
        }
        d
    }

    /// Ends the connection; a spawned server is stopped.
    pub async fn close(self) {
        self.driver.close().await;
        drop(self.process);
    }
}

/// A target and its current session: a session that broke is replaced by a new one on demand.
pub struct Conn {
    /// The server under test.
    pub target: Target,
    session: Option<Session>,
    opened: u32,
}

impl Conn {
    /// Not connected yet.
    pub fn new(target: Target) -> Conn {
        Conn {
            target,
            session: None,
            opened: 0,
        }
    }

    /// The current session, opened if there is none.
    pub async fn session(&mut self) -> Result<&mut Session, String> {
        if self.session.is_none() {
            self.session = Some(Session::open(&self.target).await?);
            self.opened += 1;
        }
        self.session.as_mut().ok_or_else(|| "no session".to_string())
    }

    /// Closes the session (after it broke; the next case opens another).
    pub async fn reset_session(&mut self) {
        if let Some(s) = self.session.take() {
            s.close().await;
        }
    }

    /// Sessions opened so far (more than one: the server had to be reconnected to).
    pub fn sessions_opened(&self) -> u32 {
        self.opened
    }

    /// The mock API behind the server.
    pub fn mock(&self) -> &MockAlloy {
        &self.target.mock
    }
}
