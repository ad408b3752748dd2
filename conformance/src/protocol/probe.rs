//! What every rule of the protocol suite stands on: [`Ctx`] (how to reach the server, the mock
//! behind it, a log for the report) opens a [`Conn`] the era's way, sends requests with the
//! era's `_meta` and schema-checks everything that comes back; raw HTTP requests for rules that
//! judge statuses and headers; the verdict helpers.

use super::{Verdict, fail};
use crate::driver::http::{HttpAnswer, exchange_once};
use crate::driver::stdio::StdioDriver;
use crate::driver::{Driver, Frame, Incoming, Timeouts};
use crate::era::{self, Era};
use crate::runner::{Launch, connect};
use crate::scenario::Role;
use crate::shapes::{self, KNOWN_VERSIONS};
use alloy_mock_api::MockAlloy;
use serde_json::{Value, json};

/// The state of one rule: how to reach the server, the mock behind it, a log for the report.
pub struct Ctx<'a> {
    pub(super) launch: &'a Launch,
    pub(super) era: Era,
    pub(super) timeouts: Timeouts,
    pub(super) mock: MockAlloy,
    pub(super) log: Vec<String>,
    /// Schema violations of messages received outside a connection (raw HTTP answers).
    pub(super) problems: Vec<String>,
}

/// One connection to the server, prepared (or not) for the era.
pub(super) struct Conn {
    pub(super) driver: Box<dyn Driver>,
    _process: Option<StdioDriver>,
    era: Era,
    pub(super) version: String,
    pub(super) capabilities: Value,
    next_id: i64,
    /// Schema violations of anything the server sent on this connection.
    pub(super) problems: Vec<String>,
}

impl Ctx<'_> {
    pub(super) fn note(&mut self, line: impl Into<String>) {
        self.log.push(line.into());
    }

    /// A connection without any preparation.
    pub(super) async fn connect(&mut self) -> Result<Conn, Verdict> {
        match connect(self.launch, &self.mock, Role::default(), self.timeouts).await {
            Ok((driver, process)) => Ok(Conn {
                driver,
                _process: process,
                era: self.era,
                version: match self.era {
                    Era::Handshake => KNOWN_VERSIONS[KNOWN_VERSIONS.len() - 1].to_string(),
                    Era::Stateless => era::STATELESS_VERSION.to_string(),
                },
                capabilities: json!({}),
                next_id: 1,
                problems: Vec::new(),
            }),
            Err((e, process)) => {
                if let Some(p) = process {
                    self.note(p.diagnostics());
                }
                Err(Verdict::NotVerified(format!("cannot start or reach the server: {e}")))
            }
        }
    }

    /// A connection opened the era's way: `initialize` + `notifications/initialized` at the
    /// newest handshake revision, or `server/discover` at 2026-07-28.
    pub(super) async fn open(&mut self) -> Result<Conn, Verdict> {
        let mut conn = self.connect().await?;
        match self.era {
            Era::Handshake => {
                let params = json!({"protocolVersion": conn.version, "capabilities": {},
                    "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}});
                let answer = conn.request(self, "initialize", params).await;
                let Some(result) = answer.as_ref().ok().and_then(|m| m.get("result")) else {
                    return Err(Verdict::NotVerified(format!(
                        "initialize at {} got no result: {}",
                        conn.version,
                        describe(&answer)
                    )));
                };
                if let Some(v) = result.get("protocolVersion").and_then(Value::as_str) {
                    conn.version = v.to_string();
                    conn.driver.set_protocol_version(v);
                }
                conn.capabilities = result.get("capabilities").cloned().unwrap_or(json!({}));
                let initialized = Frame::Json(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
                if let Err(e) = conn.driver.send(&initialized).await {
                    return Err(Verdict::NotVerified(format!(
                        "cannot send notifications/initialized: {e}"
                    )));
                }
            }
            Era::Stateless => {
                conn.driver.set_era(Era::Stateless);
                conn.driver.set_protocol_version(era::STATELESS_VERSION);
                let answer = conn.request(self, "server/discover", json!({})).await;
                let Some(result) = answer.as_ref().ok().and_then(|m| m.get("result")) else {
                    return Err(Verdict::NotVerified(format!(
                        "server/discover at {} got no result: {}",
                        era::STATELESS_VERSION,
                        describe(&answer)
                    )));
                };
                conn.capabilities = result.get("capabilities").cloned().unwrap_or(json!({}));
            }
        }
        Ok(conn)
    }

    /// The HTTP endpoint of a connection (rules that run on HTTP only).
    pub(super) fn endpoint(&self, conn: &Conn) -> Result<crate::driver::HttpEndpoint, Verdict> {
        conn.driver
            .http_endpoint()
            .ok_or_else(|| Verdict::NotVerified("the transport is not Streamable HTTP".into()))
    }

    /// One POST with exactly these headers (Accept and Content-Type added), logged.
    pub(super) async fn post(
        &mut self,
        url: &str,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<HttpAnswer, Verdict> {
        self.post_text(url, token, headers, body.to_string()).await
    }

    pub(super) async fn post_text(
        &mut self,
        url: &str,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<HttpAnswer, Verdict> {
        let mut all: Vec<(String, String)> = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json, text/event-stream".into()),
        ];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
        self.note(format!("POST {url} {all:?}\n  {}", crate::driver::shorten(&body, 400)));
        // What the server sends is checked against the schema of the revision the request
        // names (not for a version no revision has: those get an error of the server's choice).
        let version = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("MCP-Protocol-Version"))
            .map(|(_, v)| v.clone())
            .filter(|v| shapes::ALL_VERSIONS.contains(&v.as_str()));
        let method = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|b| b.get("method").and_then(Value::as_str).map(str::to_string));
        match exchange_once(
            reqwest::Method::POST,
            url,
            token,
            &all,
            Some(body),
            self.timeouts.request,
        )
        .await
        {
            Ok(a) => {
                self.note(format!("  -> {} {:?} {:?}", a.status, a.messages, a.text));
                if let Some(v) = &version {
                    for m in &a.messages {
                        let answers = if m.get("method").is_none() {
                            method.as_deref()
                        } else {
                            None
                        };
                        self.problems.extend(shapes::check_message(Some(v), answers, m));
                    }
                }
                Ok(a)
            }
            Err(e) => Err(fail(format!("the POST got no answer: {e}"))),
        }
    }

    /// The headers of a stateless POST for `message` at `version`.
    pub(super) fn stateless_headers(&self, message: &Value, version: &str) -> Vec<(&'static str, String)> {
        let mut h = vec![("MCP-Protocol-Version", version.to_string())];
        h.extend(era::standard_headers(message));
        h
    }
}

impl Conn {
    pub(super) fn message(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let m = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        match self.era {
            Era::Handshake => m,
            Era::Stateless => era::with_request_meta(&m, era::STATELESS_VERSION),
        }
    }

    /// Sends a request built from `method` and `params` (with `_meta` at the stateless wire)
    /// and waits for its answer; everything received is schema-checked.
    pub(super) async fn request(&mut self, ctx: &mut Ctx<'_>, method: &str, params: Value) -> Result<Value, String> {
        let m = self.message(method, params);
        self.send_and_wait(ctx, Frame::Json(m), Some(method)).await
    }

    /// Sends `frame` and returns the first response (a message with `result` or `error`).
    pub(super) async fn send_and_wait(
        &mut self,
        ctx: &mut Ctx<'_>,
        frame: Frame,
        method: Option<&str>,
    ) -> Result<Value, String> {
        ctx.note(format!("send: {}", crate::driver::shorten(&frame.to_text(), 400)));
        self.driver.send(&frame).await.map_err(|e| format!("sending: {e}"))?;
        let limit = match method {
            Some("initialize" | "server/discover") => ctx.timeouts.handshake,
            _ => ctx.timeouts.request,
        };
        loop {
            match self.driver.recv(limit).await {
                Ok(Incoming::Message(m)) => {
                    ctx.note(format!("recv: {}", crate::driver::shorten(&m.to_string(), 400)));
                    let is_response = m.get("method").is_none();
                    let method = if is_response { method } else { None };
                    for p in shapes::check_message(Some(&self.version), method, &m) {
                        self.problems.push(p);
                    }
                    if is_response {
                        return Ok(m);
                    }
                }
                Ok(Incoming::HttpStatus { status, body }) => {
                    ctx.note(format!("recv: HTTP {status} {body}"));
                    return Err(format!("HTTP {status} without a JSON-RPC message: {body}"));
                }
                Ok(Incoming::Unparsable(t)) => {
                    self.problems
                        .push(format!("the server sent a frame that is not JSON: {t}"));
                }
                Ok(Incoming::TransportError(e)) => return Err(e),
                Ok(Incoming::Closed) => return Err("the server closed the connection".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// `Fail` with the schema problems seen so far, else `verdict`.
    pub(super) fn with_problems(&self, verdict: Verdict) -> Verdict {
        if self.problems.is_empty() {
            return verdict;
        }
        let mut all = match verdict {
            Verdict::Fail(v) => v,
            Verdict::Pass => Vec::new(),
            other => return other,
        };
        all.extend(self.problems.iter().map(|p| format!("schema: {p}")));
        Verdict::Fail(all)
    }

    pub(super) fn declares(&self, capability: &str) -> bool {
        self.capabilities.get(capability).is_some_and(|c| !c.is_null())
    }
}

pub(super) fn describe(answer: &Result<Value, String>) -> String {
    match answer {
        Ok(m) => crate::driver::shorten(&m.to_string(), 300),
        Err(e) => e.clone(),
    }
}

pub(super) fn error_code(m: &Value) -> Option<i64> {
    m.pointer("/error/code").and_then(Value::as_i64)
}

/// Expects a JSON-RPC error with `code`.
pub(super) fn expect_error(answer: &Result<Value, String>, code: i64, what: &str) -> Verdict {
    match answer {
        Ok(m) if error_code(m) == Some(code) => Verdict::Pass,
        Ok(m) if m.get("error").is_some() => fail(format!(
            "{what}: error code {} instead of {code}: {}",
            error_code(m).map_or("(none)".to_string(), |c| c.to_string()),
            crate::driver::shorten(&m.to_string(), 300)
        )),
        Ok(m) => fail(format!(
            "{what}: answered with a result instead of error {code}: {}",
            crate::driver::shorten(&m.to_string(), 300)
        )),
        Err(e) => fail(format!("{what}: no answer: {e}")),
    }
}

/// Expects `status` and a JSON-RPC error `code` in the body of an HTTP answer.
pub(super) fn expect_http_error(a: &HttpAnswer, status: u16, code: i64, what: &str) -> Verdict {
    let mut problems = Vec::new();
    if a.status != status {
        problems.push(format!("{what}: HTTP {} instead of {status}", a.status));
    }
    match a.response() {
        Some(m) if error_code(m) == Some(code) => {}
        Some(m) => problems.push(format!(
            "{what}: the body is not error {code}: {}",
            crate::driver::shorten(&m.to_string(), 300)
        )),
        None => problems.push(format!("{what}: no JSON-RPC error in the body ({:?})", a.text)),
    }
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    }
}
