//! Playing: one case on one connected driver. The harness's own `initialize` (or nothing,
//! when the scenario says `"handshake": false`), the unrecorded `tools/list` for argument
//! checks, then each step: send, wait as the step says, record what came back and the mock's
//! journal, and check every received message (JSON-RPC envelope, answer ids, result shapes of
//! the negotiated revision, tool schemas). The first timeout or a closed connection ends the
//! case.

use super::CaseRun;
use crate::driver::{Driver, DriverError, Frame, Incoming, Timeouts};
use crate::era::{self, Era};
use crate::scenario::{self, Await, Scenario, Step};
use crate::shapes;
use crate::transcript::{
    self, CaseEvent, Discover, Exchange, FrameExchange, Handshake, Received, ReceivedEvent, Sent, Transcript,
};
use alloy_mock_api::MockAlloy;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The state of one case while it plays.
pub(super) struct Case<'a> {
    scenario: &'a Scenario,
    mock: &'a MockAlloy,
    timeouts: Timeouts,
    rec: Transcript,
    pub(super) violations: Vec<String>,
    era: Era,
    negotiated: Option<String>,
    /// Method of every request sent, by its id (compact JSON), to check answers.
    methods: HashMap<String, String>,
}

impl<'a> Case<'a> {
    pub(super) fn new(scenario: &'a Scenario, mock: &'a MockAlloy, era: Era, timeouts: Timeouts) -> Case<'a> {
        Case {
            scenario,
            mock,
            timeouts,
            rec: Transcript::new(&scenario.id, &scenario.file.description),
            violations: Vec::new(),
            era,
            negotiated: None,
            methods: HashMap::new(),
        }
    }

    /// Appends an entry to the transcript.
    pub(super) fn record(&mut self, exchange: Exchange) {
        self.rec.exchanges.push(exchange);
    }

    pub(super) fn finish(self, diagnostics: String, started: Instant) -> CaseRun {
        CaseRun {
            transcript: transcript::normalize_redacting(&self.rec, self.scenario.redact()),
            violations: self.violations,
            diagnostics,
            duration: started.elapsed(),
        }
    }

    pub(super) async fn play(&mut self, driver: &mut dyn Driver) {
        if !self.prepare(driver).await {
            return;
        }
        let tools = if self.scenario.checks_tool_arguments() {
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
                    self.record(Exchange::Event(CaseEvent::Aborted { skipped_steps: skipped }));
                }
                return;
            }
        }
    }

    /// What the harness does before the steps: in the handshake era its own `initialize`
    /// (unless the scenario says `"handshake": false`), at the stateless wire `server/discover`.
    /// `false` when the case cannot go on.
    pub(super) async fn prepare(&mut self, driver: &mut dyn Driver) -> bool {
        match self.era {
            Era::Handshake => !self.scenario.file.handshake || self.handshake(driver).await,
            Era::Stateless => self.discover(driver).await,
        }
    }

    /// Sends the opening request of a case (`initialize` or `server/discover`, id 0) and waits
    /// for its answer within the handshake limit; `step` names it in violations.
    async fn opening(&mut self, driver: &mut dyn Driver, request: &Value, step: &str) -> (Vec<Received>, bool) {
        if let Some(method) = request["method"].as_str() {
            self.methods.insert("0".into(), method.into());
        }
        self.exchange(
            driver,
            &Frame::Json(request.clone()),
            Await::Response,
            Some(json!(0)),
            self.timeouts.handshake,
            step,
        )
        .await
    }

    /// `server/discover` at the stateless wire; recorded compactly (`requested`, `supported`)
    /// when all is well. The server must list the stateless revision.
    async fn discover(&mut self, driver: &mut dyn Driver) -> bool {
        driver.set_era(Era::Stateless);
        driver.set_protocol_version(era::STATELESS_VERSION);
        self.negotiated = Some(era::STATELESS_VERSION.to_string());
        let mut request = era::with_request_meta(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "server/discover"}),
            era::STATELESS_VERSION,
        );
        request["params"]["_meta"][era::META_CLIENT_INFO] =
            json!({"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")});
        let before = self.violations.len();
        let (recv, ok) = self.opening(driver, &request, "discover").await;
        let supported: Option<Vec<String>> = recv
            .last()
            .and_then(Received::message)
            .and_then(|m| m.pointer("/result/supportedVersions"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect());
        if let Some(list) = &supported
            && !list.iter().any(|v| v == era::STATELESS_VERSION)
        {
            self.violations.push(format!(
                "discover: supportedVersions {list:?} lacks {}, the revision this case runs at",
                era::STATELESS_VERSION
            ));
        }
        let clean = ok && supported.is_some() && recv.len() == 1 && self.violations.len() == before;
        if clean {
            self.record(Exchange::Discover {
                discover: Discover {
                    requested: era::STATELESS_VERSION.to_string(),
                    supported: supported.unwrap_or_default(),
                },
            });
            return true;
        }
        self.record(Exchange::Frame(FrameExchange {
            sent: Sent::Send(request),
            recv,
            upstream: Vec::new(),
        }));
        if supported.is_none() {
            self.violations
                .push("discover: no DiscoverResult for server/discover; the scenario was not played".into());
            return false;
        }
        true
    }

    /// `initialize` + `notifications/initialized`; recorded compactly when all is well.
    pub(super) async fn handshake(&mut self, driver: &mut dyn Driver) -> bool {
        let requested = self.scenario.protocol_version().to_string();
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": requested,
            "capabilities": {},
            "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")},
        }});
        let before = self.violations.len();
        let (recv, ok) = self.opening(driver, &init, "handshake").await;
        let negotiated = recv
            .last()
            .and_then(Received::message)
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
            self.record(Exchange::Handshake {
                handshake: Handshake {
                    requested,
                    negotiated: negotiated.clone().unwrap_or_default(),
                },
            });
        } else {
            self.record(Exchange::Frame(FrameExchange {
                sent: Sent::Send(init),
                recv,
                upstream: Vec::new(),
            }));
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
    pub(super) async fn fetch_tools(&mut self, driver: &mut dyn Driver) -> Option<Vec<Value>> {
        let mut tools = Vec::new();
        let mut cursor: Option<Value> = None;
        for page in 0..20 {
            let id = format!("alloy-conformance-tools-{page}");
            let mut request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
            if let Some(c) = &cursor {
                request["params"] = json!({"cursor": c});
            }
            let request = self.on_the_wire(&request);
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
            let result = recv.last().and_then(Received::message).and_then(|m| m.get("result"));
            let Some(list) = result
                .and_then(|r| r.get("tools"))
                .and_then(Value::as_array)
                .filter(|_| ok)
            else {
                self.violations.push(
                    "tools/list (needed to check tool arguments) gave no tool list; the scenario was not played".into(),
                );
                self.record(Exchange::Event(CaseEvent::ToolsListFailed));
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

    /// A message as the harness sends it in this case's era: unchanged in the handshake era,
    /// with the per-request `_meta` at the stateless wire.
    fn on_the_wire(&self, message: &Value) -> Value {
        match self.era {
            Era::Handshake => message.clone(),
            Era::Stateless => era::with_request_meta(message, era::STATELESS_VERSION),
        }
    }

    /// Plays one step; `false` ends the case.
    async fn step(&mut self, driver: &mut dyn Driver, n: usize, step: &Step) -> bool {
        let (sent, frame) = match (&step.send, &step.raw, &step.oversized) {
            (Some(v), _, _) => {
                let v = self.on_the_wire(v);
                (Sent::Send(v.clone()), Frame::Json(v))
            }
            (_, Some(raw), _) => (Sent::SendRaw(raw.clone()), Frame::Raw(raw.clone())),
            (_, _, Some(o)) => {
                let message = self.on_the_wire(&o.message);
                let frame = Frame::Raw(pad(&message, o.bytes));
                (
                    Sent::SendOversized {
                        bytes: o.bytes,
                        message,
                    },
                    frame,
                )
            }
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
        // A case that shakes hands itself (`"handshake": false`, a recorded session) is judged
        // by the revision its own `initialize` negotiated from then on.
        if step.method() == Some("initialize")
            && let Some(v) = recv
                .iter()
                .filter_map(Received::message)
                .find_map(|m| m.pointer("/result/protocolVersion").and_then(Value::as_str))
            && shapes::KNOWN_VERSIONS.contains(&v)
        {
            self.negotiated = Some(v.to_string());
        }
        let upstream: Vec<Value> = self
            .mock
            .take_journal()
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect();
        self.record(Exchange::Frame(FrameExchange { sent, recv, upstream }));
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
    ) -> (Vec<Received>, bool) {
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
                        recv.push(Received::Message(m));
                        if is_response {
                            return (recv, true);
                        }
                    }
                    Ok(Incoming::Closed) => {
                        recv.push(Received::Event(ReceivedEvent::Closed));
                        return (recv, false);
                    }
                    Ok(other) => {
                        self.check_incoming(label, &other);
                        let ends = !matches!(other, Incoming::Unparsable(_));
                        recv.push(Received::from(&other));
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
                    recv.push(Received::from(&i));
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
                    recv.push(Received::from(&i));
                }
                match settled {
                    Ok(()) => {
                        let closed = recv.iter().any(Received::is_closed);
                        (recv, !closed)
                    }
                    Err(DriverError::Closed) => {
                        if !recv.iter().any(Received::is_closed) {
                            recv.push(Received::Event(ReceivedEvent::Closed));
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
        mut recv: Vec<Received>,
    ) -> (Vec<Received>, bool) {
        match e {
            DriverError::Timeout(_) => {
                recv.push(Received::Event(ReceivedEvent::Timeout));
                self.violations.push(format!("{label}: {doing}: {e}"));
            }
            DriverError::Closed => recv.push(Received::Event(ReceivedEvent::Closed)),
            other => {
                recv.push(Received::Event(ReceivedEvent::TransportError));
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
            for p in shapes::check_message(self.negotiated.as_deref(), None, m) {
                self.violations.push(format!("{label}: {p}"));
            }
            return;
        }
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        let method = self.methods.get(&canonical_id(&id)).cloned();
        if method.is_none() && !id.is_null() {
            self.violations
                .push(format!("{label}: an answer with id {id}, which no request had"));
        }
        for p in shapes::check_message(self.negotiated.as_deref(), method.as_deref(), m) {
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
