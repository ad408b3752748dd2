//! The generic protocol suite (`run --suite protocol`): rules of the MCP specification that any
//! server must keep, judged by assertions rather than by Alloy's recorded transcripts, so it can
//! judge any MCP server over stdio or Streamable HTTP. Each rule opens its own connection (a
//! fresh process for stdio), states its prerequisites and ends in one verdict:
//!
//! - **PASS**: the rule holds (and every message the server sent validated against the
//!   schema of the revision in use);
//! - **FAIL**: it does not, with what was seen;
//! - **NOT-VERIFIED**: a prerequisite failed (the server could not be started, did not answer
//!   `initialize` / `server/discover`, listed no tool to call), so the rule could not be
//!   checked; it never counts as a pass;
//! - **N/A**: the rule is about a capability the server does not declare.
//!
//! Handshake-era rules open with `initialize` at the newest handshake revision; stateless-era
//! rules with `server/discover` at 2026-07-28. HTTP rules send their own requests
//! ([`exchange_once`]) to see statuses and headers.

use crate::driver::http::{HttpAnswer, exchange_once};
use crate::driver::stdio::StdioDriver;
use crate::driver::{Driver, Frame, Incoming, Timeouts, Transport};
use crate::era::{self, Era};
use crate::runner::{CaseOutcome, Launch, Progress, Status, connect, mock_options};
use crate::scenario::{self, Role};
use crate::shapes::{self, KNOWN_VERSIONS};
use crate::transcript::Transcript;
use alloy_mock_api::MockAlloy;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// One rule of the suite.
pub struct Rule {
    /// `<area>/<rule>`: the id in reports and expected-failures files.
    pub id: &'static str,
    /// The assertion, as the specification states it.
    pub says: &'static str,
    /// The eras it applies to.
    pub eras: &'static [Era],
    /// The transports it applies to (`None`: every transport of the era).
    pub transports: Option<&'static [Transport]>,
    check: for<'c, 'l> fn(&'c mut Ctx<'l>) -> BoxFuture<'c, Verdict>,
}

const H: &[Era] = &[Era::Handshake];
const S: &[Era] = &[Era::Stateless];
const B: &[Era] = &[Era::Handshake, Era::Stateless];
const HTTP: Option<&[Transport]> = Some(&[Transport::Http]);

/// The value of a prerequisite, or the rule's verdict (NOT-VERIFIED, N/A) when it failed.
macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(x) => x,
            Err(verdict) => return verdict,
        }
    };
}

macro_rules! rule {
    ($id:literal, $eras:expr, $transports:expr, $says:literal, $f:ident) => {
        Rule {
            id: $id,
            says: $says,
            eras: $eras,
            transports: $transports,
            check: |c| Box::pin($f(c)),
        }
    };
}

/// Every rule, in report order.
pub static RULES: &[Rule] = &[
    rule!(
        "lifecycle/initialize_negotiates_a_known_version",
        H,
        None,
        "initialize is answered with a protocolVersion the server supports, its capabilities and serverInfo",
        initialize_negotiates
    ),
    rule!(
        "lifecycle/unknown_version_gets_a_supported_one",
        H,
        None,
        "initialize with a version the server does not support is answered with another version it supports",
        unknown_version_counter_offer
    ),
    rule!(
        "lifecycle/ping_is_answered",
        H,
        None,
        "ping is answered with an empty result",
        ping_is_answered
    ),
    rule!(
        "discover/lists_supported_versions",
        S,
        None,
        "server/discover answers with supportedVersions (including 2026-07-28), capabilities and resultType complete",
        discover_lists_versions
    ),
    rule!(
        "discover/server_info_in_result_meta",
        S,
        None,
        "results carry io.modelcontextprotocol/serverInfo (name, version) in _meta (SHOULD)",
        discover_server_info
    ),
    rule!(
        "versions/unsupported_version_lists_supported",
        S,
        None,
        "a request at an unsupported version gets -32022 with data.supported (HTTP 400)",
        unsupported_version
    ),
    rule!(
        "removed/ping",
        S,
        None,
        "ping is removed: -32601 (HTTP 404)",
        removed_ping
    ),
    rule!(
        "removed/initialize",
        S,
        None,
        "initialize at the 2026-07-28 wire is removed: -32601 (HTTP 404)",
        removed_initialize
    ),
    rule!(
        "removed/logging_set_level",
        S,
        None,
        "logging/setLevel is removed: -32601 (HTTP 404)",
        removed_set_level
    ),
    rule!(
        "removed/resources_subscribe",
        S,
        None,
        "resources/subscribe is removed: -32601 (HTTP 404)",
        removed_subscribe
    ),
    rule!(
        "removed/resources_unsubscribe",
        S,
        None,
        "resources/unsubscribe is removed: -32601 (HTTP 404)",
        removed_unsubscribe
    ),
    rule!(
        "caching/result_type_and_hints",
        S,
        None,
        "discover and every list result the server declares carry resultType complete, ttlMs >= 0 and cacheScope public|private",
        caching_hints
    ),
    rule!(
        "subscriptions/listen_acknowledges_first",
        S,
        None,
        "subscriptions/listen is acknowledged first by notifications/subscriptions/acknowledged tagged with its subscriptionId",
        listen_acknowledges
    ),
    rule!(
        "framing/parse_error",
        B,
        None,
        "unparsable JSON is answered with -32700 (HTTP: a 4xx status)",
        parse_error
    ),
    rule!(
        "framing/invalid_request",
        B,
        None,
        "a request with \"jsonrpc\": \"1.0\" is an invalid request: -32600",
        invalid_request
    ),
    rule!(
        "framing/unknown_method",
        B,
        None,
        "a request for a method the server does not have is answered with -32601 (HTTP 404 at the 2026-07-28 wire)",
        unknown_method
    ),
    rule!(
        "framing/notification_is_not_answered",
        B,
        None,
        "a notification, even an unknown one, gets no JSON-RPC answer",
        notification_not_answered
    ),
    rule!(
        "tools/list_is_valid",
        B,
        None,
        "tools/list is schema-valid, names are unique, every inputSchema/outputSchema is a valid JSON Schema, annotations carry the four hints",
        tools_list_valid
    ),
    rule!(
        "tools/unknown_tool_is_a_protocol_error",
        B,
        None,
        "tools/call of an unknown tool is a JSON-RPC error -32602, not a tool result",
        unknown_tool
    ),
    rule!(
        "tools/invalid_arguments_are_a_tool_error",
        B,
        None,
        "from 2025-11-25 on, arguments that violate a tool's inputSchema are answered with an isError tool result the model can act on, not a JSON-RPC error",
        invalid_arguments
    ),
    rule!(
        "prompts/list_is_valid",
        B,
        None,
        "prompts/list is schema-valid",
        prompts_list_valid
    ),
    rule!(
        "resources/list_is_valid",
        B,
        None,
        "resources/list and resources/templates/list are schema-valid",
        resources_list_valid
    ),
    rule!(
        "http/foreign_origin_is_refused",
        B,
        HTTP,
        "a request with an Origin outside the allowed ones is refused with 403 (DNS rebinding)",
        foreign_origin
    ),
    rule!(
        "http/session_lifecycle",
        H,
        HTTP,
        "an assigned Mcp-Session-Id is required (400 without it), an unknown one is 404, DELETE ends the session (404 afterwards) or is refused with 405",
        session_lifecycle
    ),
    rule!(
        "http/unsupported_protocol_version_header",
        H,
        HTTP,
        "an MCP-Protocol-Version header naming no supported revision is 400",
        unsupported_version_header
    ),
    rule!(
        "http/notification_is_accepted_with_202",
        H,
        HTTP,
        "a notification POST is accepted with 202 and no body",
        notification_202
    ),
    rule!(
        "http/no_session_at_the_stateless_wire",
        S,
        HTTP,
        "a 2026-07-28 request is served without minting an Mcp-Session-Id",
        no_session_stateless
    ),
    rule!(
        "headers/method_mismatch",
        S,
        HTTP,
        "an Mcp-Method header that differs from the body's method is 400 with -32020",
        header_method_mismatch
    ),
    rule!(
        "headers/missing_method",
        S,
        HTTP,
        "a POST without the Mcp-Method header is 400 with -32020",
        header_missing_method
    ),
    rule!(
        "headers/protocol_version_mismatch",
        S,
        HTTP,
        "an MCP-Protocol-Version header that differs from _meta's protocolVersion is 400 with -32020",
        header_version_mismatch
    ),
    rule!(
        "headers/name_mismatch",
        S,
        HTTP,
        "an Mcp-Name header that differs from the called tool's name is 400 with -32020",
        header_name_mismatch
    ),
];

/// The ids of every rule (the names an expected-failures file may use).
pub fn rule_ids() -> BTreeSet<String> {
    RULES.iter().map(|r| r.id.to_string()).collect()
}

/// What a rule concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule holds.
    Pass,
    /// The rule is broken; what was seen.
    Fail(Vec<String>),
    /// A prerequisite failed; why.
    NotVerified(String),
    /// A capability the server does not declare; which.
    NotApplicable(String),
}

fn fail(what: impl Into<String>) -> Verdict {
    Verdict::Fail(vec![what.into()])
}

/// Runs every rule matching `only` in each of `eras` on each launch it applies to, up to
/// `jobs` at once; outcomes in rule order.
pub async fn run_suite(
    launches: &[Launch],
    eras: &[Era],
    only: Option<&str>,
    timeouts: Timeouts,
    jobs: usize,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Vec<CaseOutcome> {
    let mut cases = Vec::new();
    for rule in RULES
        .iter()
        .filter(|r| only.is_none_or(|p| scenario::matches_filter(p, r.id)))
    {
        for era in eras.iter().copied().filter(|e| rule.eras.contains(e)) {
            for launch in launches {
                let t = launch.transport();
                if t.speaks(era) && rule.transports.is_none_or(|ts| ts.contains(&t)) {
                    cases.push((rule, era, launch));
                }
            }
        }
    }
    let total = cases.len();
    let progress = std::cell::RefCell::new(progress);
    let mut finished: Vec<(usize, CaseOutcome)> = Vec::with_capacity(total);
    {
        let progress = &progress;
        let mut running = futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (rule, era, launch))| {
                (progress.borrow_mut())(Progress::Started {
                    index: index + 1,
                    total,
                    id: rule.id,
                    transport: launch.transport(),
                    era,
                });
                async move { (index, run_rule(rule, launch, era, timeouts).await) }
            })
            .buffer_unordered(jobs.max(1));
        while let Some((index, outcome)) = running.next().await {
            (progress.borrow_mut())(Progress::Finished(&outcome));
            finished.push((index, outcome));
        }
    }
    finished.sort_by_key(|(i, _)| *i);
    finished.into_iter().map(|(_, o)| o).collect()
}

/// Runs one rule on one launch in one era.
pub async fn run_rule(rule: &Rule, launch: &Launch, era: Era, timeouts: Timeouts) -> CaseOutcome {
    let started = Instant::now();
    let (category, name) = rule.id.split_once('/').unwrap_or(("protocol", rule.id));
    let mut outcome = CaseOutcome {
        id: rule.id.to_string(),
        category: category.to_string(),
        name: name.to_string(),
        transport: launch.transport(),
        era,
        status: Status::Failed,
        violations: Vec::new(),
        diff: None,
        diagnostics: String::new(),
        note: None,
        transcript: Transcript::new(rule.id, rule.says),
        duration: Duration::ZERO,
    };
    let (opts, _) = mock_options(None);
    let mock = match MockAlloy::start_with(opts).await {
        Ok(m) => m,
        Err(e) => {
            outcome.status = Status::NotVerified;
            outcome.note = Some(format!(
                "NOT-VERIFIED: cannot start the mock API the server is given: {e:#}"
            ));
            return outcome;
        }
    };
    let mut ctx = Ctx {
        launch,
        era,
        timeouts,
        mock,
        log: Vec::new(),
        problems: Vec::new(),
    };
    let verdict = match (rule.check)(&mut ctx).await {
        Verdict::Pass if !ctx.problems.is_empty() => {
            Verdict::Fail(ctx.problems.iter().map(|p| format!("schema: {p}")).collect())
        }
        Verdict::Fail(mut v) => {
            v.extend(ctx.problems.iter().map(|p| format!("schema: {p}")));
            Verdict::Fail(v)
        }
        other => other,
    };
    outcome.diagnostics = ctx.log.join("\n");
    outcome.duration = started.elapsed();
    match verdict {
        Verdict::Pass => outcome.status = Status::Passed,
        Verdict::Fail(v) => {
            outcome.status = Status::Failed;
            outcome.note = Some(format!("rule: {}", rule.says));
            outcome.violations = v;
        }
        Verdict::NotVerified(why) => {
            outcome.status = Status::NotVerified;
            outcome.note = Some(format!("NOT-VERIFIED: {why}"));
        }
        Verdict::NotApplicable(why) => {
            outcome.status = Status::NotApplicable;
            outcome.note = Some(why);
        }
    }
    outcome
}

/// The state of one rule: how to reach the server, the mock behind it, a log for the report.
pub struct Ctx<'a> {
    launch: &'a Launch,
    era: Era,
    timeouts: Timeouts,
    mock: MockAlloy,
    log: Vec<String>,
    /// Schema violations of messages received outside a connection (raw HTTP answers).
    problems: Vec<String>,
}

/// One connection to the server, prepared (or not) for the era.
struct Conn {
    driver: Box<dyn Driver>,
    _process: Option<StdioDriver>,
    era: Era,
    version: String,
    capabilities: Value,
    next_id: i64,
    /// Schema violations of anything the server sent on this connection.
    problems: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, line: impl Into<String>) {
        self.log.push(line.into());
    }

    /// A connection without any preparation.
    async fn connect(&mut self) -> Result<Conn, Verdict> {
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
    async fn open(&mut self) -> Result<Conn, Verdict> {
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
    fn endpoint(&self, conn: &Conn) -> Result<crate::driver::HttpEndpoint, Verdict> {
        conn.driver
            .http_endpoint()
            .ok_or_else(|| Verdict::NotVerified("the transport is not Streamable HTTP".into()))
    }

    /// One POST with exactly these headers (Accept and Content-Type added), logged.
    async fn post(
        &mut self,
        url: &str,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<HttpAnswer, Verdict> {
        self.post_text(url, token, headers, body.to_string()).await
    }

    async fn post_text(
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
    fn stateless_headers(&self, message: &Value, version: &str) -> Vec<(&'static str, String)> {
        let mut h = vec![("MCP-Protocol-Version", version.to_string())];
        h.extend(era::standard_headers(message));
        h
    }
}

impl Conn {
    fn message(&mut self, method: &str, params: Value) -> Value {
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
    async fn request(&mut self, ctx: &mut Ctx<'_>, method: &str, params: Value) -> Result<Value, String> {
        let m = self.message(method, params);
        self.send_and_wait(ctx, Frame::Json(m), Some(method)).await
    }

    /// Sends `frame` and returns the first response (a message with `result` or `error`).
    async fn send_and_wait(&mut self, ctx: &mut Ctx<'_>, frame: Frame, method: Option<&str>) -> Result<Value, String> {
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
    fn with_problems(&self, verdict: Verdict) -> Verdict {
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

    fn declares(&self, capability: &str) -> bool {
        self.capabilities.get(capability).is_some_and(|c| !c.is_null())
    }
}

fn describe(answer: &Result<Value, String>) -> String {
    match answer {
        Ok(m) => crate::driver::shorten(&m.to_string(), 300),
        Err(e) => e.clone(),
    }
}

fn error_code(m: &Value) -> Option<i64> {
    m.pointer("/error/code").and_then(Value::as_i64)
}

/// Expects a JSON-RPC error with `code`.
fn expect_error(answer: &Result<Value, String>, code: i64, what: &str) -> Verdict {
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
fn expect_http_error(a: &HttpAnswer, status: u16, code: i64, what: &str) -> Verdict {
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

// ---------------------------------------------------------------- handshake-era lifecycle

async fn initialize_negotiates(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.connect().await);
    let asked = KNOWN_VERSIONS[KNOWN_VERSIONS.len() - 1];
    let params = json!({"protocolVersion": asked, "capabilities": {},
        "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}});
    let answer = conn.request(ctx, "initialize", params).await;
    let Some(result) = answer.as_ref().ok().and_then(|m| m.get("result")) else {
        return fail(format!("initialize got no result: {}", describe(&answer)));
    };
    let v = result.get("protocolVersion").and_then(Value::as_str).unwrap_or("");
    let verdict = if KNOWN_VERSIONS.contains(&v) {
        Verdict::Pass
    } else {
        fail(format!("protocolVersion `{v}` is no handshake revision"))
    };
    conn.with_problems(verdict)
}

async fn unknown_version_counter_offer(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.connect().await);
    let params = json!({"protocolVersion": "1900-01-01", "capabilities": {},
        "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}});
    let answer = conn.request(ctx, "initialize", params).await;
    let verdict = match answer.as_ref().ok().and_then(|m| m.pointer("/result/protocolVersion")) {
        Some(Value::String(v)) if KNOWN_VERSIONS.contains(&v.as_str()) => Verdict::Pass,
        Some(v) => fail(format!(
            "answered with protocolVersion {v}, which is not a revision it can support"
        )),
        None => fail(format!("no result with a counter-offer: {}", describe(&answer))),
    };
    conn.with_problems(verdict)
}

async fn ping_is_answered(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let answer = conn.request(ctx, "ping", json!({})).await;
    let verdict = match &answer {
        Ok(m) if m.get("result").is_some_and(Value::is_object) => Verdict::Pass,
        _ => fail(format!("ping: {}", describe(&answer))),
    };
    conn.with_problems(verdict)
}

// ---------------------------------------------------------------- stateless era

async fn discover_result(ctx: &mut Ctx<'_>) -> Result<(Conn, Value), Verdict> {
    let mut conn = ctx.connect().await?;
    conn.driver.set_era(Era::Stateless);
    let answer = conn.request(ctx, "server/discover", json!({})).await;
    match answer.as_ref().ok().and_then(|m| m.get("result")) {
        Some(r) => {
            let r = r.clone();
            Ok((conn, r))
        }
        None => Err(fail(format!("server/discover: {}", describe(&answer)))),
    }
}

async fn discover_lists_versions(ctx: &mut Ctx<'_>) -> Verdict {
    let (conn, result) = attempt!(discover_result(ctx).await);
    let mut problems = Vec::new();
    match result.get("supportedVersions").and_then(Value::as_array) {
        Some(list) if list.iter().any(|v| v == era::STATELESS_VERSION) => {}
        other => problems.push(format!("supportedVersions {other:?} lacks {}", era::STATELESS_VERSION)),
    }
    if !result.get("capabilities").is_some_and(Value::is_object) {
        problems.push("no capabilities object".into());
    }
    if result.get("resultType") != Some(&json!("complete")) {
        problems.push(format!(
            "resultType is {:?}, not \"complete\"",
            result.get("resultType")
        ));
    }
    conn.with_problems(if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    })
}

async fn discover_server_info(ctx: &mut Ctx<'_>) -> Verdict {
    let (conn, result) = attempt!(discover_result(ctx).await);
    let info = result.pointer("/_meta").and_then(|m| m.get(era::META_SERVER_INFO));
    let verdict = match info {
        Some(i) if i.get("name").is_some_and(Value::is_string) && i.get("version").is_some_and(Value::is_string) => {
            Verdict::Pass
        }
        other => fail(format!("_meta[{}] is {other:?}", era::META_SERVER_INFO)),
    };
    conn.with_problems(verdict)
}

/// A request at the stateless wire, sent so that it reaches the server as written: over stdio
/// on the connection, over HTTP as one POST with `MCP-Protocol-Version: header_version` and
/// the standard headers. Returns the answer and, over HTTP, the status.
async fn stateless_call(
    ctx: &mut Ctx<'_>,
    message: Value,
    header_version: &str,
) -> Result<(Result<Value, String>, Option<u16>, Conn), Verdict> {
    let mut conn = ctx.connect().await?;
    conn.driver.set_era(Era::Stateless);
    if ctx.launch.transport() == Transport::Http {
        let ep = ctx.endpoint(&conn)?;
        let headers = ctx.stateless_headers(&message, header_version);
        let a = ctx.post(&ep.url, ep.token.as_deref(), &headers, &message).await?;
        let answer = a
            .response()
            .cloned()
            .ok_or_else(|| format!("HTTP {} without a JSON-RPC answer: {}", a.status, a.text));
        return Ok((answer, Some(a.status), conn));
    }
    let method = message.get("method").and_then(Value::as_str).map(str::to_string);
    let answer = conn.send_and_wait(ctx, Frame::Json(message), method.as_deref()).await;
    Ok((answer, None, conn))
}

async fn unsupported_version(ctx: &mut Ctx<'_>) -> Verdict {
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover",
        "params": {"_meta": era::request_meta("1900-01-01")}});
    let (answer, status, conn) = attempt!(stateless_call(ctx, message, "1900-01-01").await);
    let mut problems = Vec::new();
    if let Verdict::Fail(p) = expect_error(&answer, -32022, "a request at 1900-01-01") {
        problems.extend(p);
    }
    if let Ok(m) = &answer
        && error_code(m) == Some(-32022)
    {
        match m.pointer("/error/data/supported").and_then(Value::as_array) {
            Some(list) if list.iter().any(|v| v == era::STATELESS_VERSION) => {}
            other => problems.push(format!(
                "error.data.supported is {other:?}, not a list with {}",
                era::STATELESS_VERSION
            )),
        }
    }
    if let Some(s) = status
        && s != 400
    {
        problems.push(format!("HTTP {s} instead of 400"));
    }
    // The schema check of an error at a version the server does not speak is moot.
    let _ = conn;
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    }
}

/// A removed method at the stateless wire: -32601, and 404 over HTTP.
async fn removed(ctx: &mut Ctx<'_>, method: &str, params: Value) -> Verdict {
    let message = era::with_request_meta(
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
        era::STATELESS_VERSION,
    );
    let (answer, status, conn) = attempt!(stateless_call(ctx, message, era::STATELESS_VERSION).await);
    let mut problems = match expect_error(&answer, -32601, method) {
        Verdict::Fail(p) => p,
        _ => Vec::new(),
    };
    if let Some(s) = status
        && s != 404
    {
        problems.push(format!("{method}: HTTP {s} instead of 404"));
    }
    conn.with_problems(if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    })
}

async fn removed_ping(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "ping", json!({})).await
}

async fn removed_initialize(ctx: &mut Ctx<'_>) -> Verdict {
    let params = json!({"protocolVersion": era::STATELESS_VERSION, "capabilities": {},
        "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}});
    removed(ctx, "initialize", params).await
}

async fn removed_set_level(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "logging/setLevel", json!({"level": "info"})).await
}

async fn removed_subscribe(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "resources/subscribe", json!({"uri": "urn:alloy-conformance:any"})).await
}

async fn removed_unsubscribe(ctx: &mut Ctx<'_>) -> Verdict {
    removed(
        ctx,
        "resources/unsubscribe",
        json!({"uri": "urn:alloy-conformance:any"}),
    )
    .await
}

/// The list methods a server's capabilities make callable, with their capability.
const LISTS: [(&str, &str); 4] = [
    ("tools", "tools/list"),
    ("prompts", "prompts/list"),
    ("resources", "resources/list"),
    ("resources", "resources/templates/list"),
];

fn caching_problems(method: &str, result: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if result.get("resultType") != Some(&json!("complete")) {
        p.push(format!(
            "{method}: resultType is {:?}, not \"complete\"",
            result.get("resultType")
        ));
    }
    match result.get("ttlMs") {
        Some(t) if t.as_u64().is_some() => {}
        other => p.push(format!("{method}: ttlMs is {other:?}, not an integer >= 0")),
    }
    match result.get("cacheScope").and_then(Value::as_str) {
        Some("public" | "private") => {}
        other => p.push(format!(
            "{method}: cacheScope is {other:?}, not \"public\" or \"private\""
        )),
    }
    p
}

async fn caching_hints(ctx: &mut Ctx<'_>) -> Verdict {
    let (mut conn, discover) = attempt!(discover_result(ctx).await);
    conn.capabilities = discover.get("capabilities").cloned().unwrap_or(json!({}));
    let mut problems = caching_problems("server/discover", &discover);
    for (cap, method) in LISTS {
        if !conn.declares(cap) {
            continue;
        }
        let answer = conn.request(ctx, method, json!({})).await;
        match answer.as_ref().ok().and_then(|m| m.get("result")) {
            Some(r) => problems.extend(caching_problems(method, r)),
            None => problems.push(format!("{method}: {}", describe(&answer))),
        }
    }
    conn.with_problems(if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    })
}

async fn listen_acknowledges(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let caps = conn.capabilities.clone();
    let mut filter = serde_json::Map::new();
    for (cap, key) in [
        ("tools", "toolsListChanged"),
        ("prompts", "promptsListChanged"),
        ("resources", "resourcesListChanged"),
    ] {
        if caps.pointer(&format!("/{cap}/listChanged")) == Some(&json!(true)) {
            filter.insert(key.into(), json!(true));
        }
    }
    if caps.pointer("/resources/subscribe") == Some(&json!(true)) {
        filter.insert("resourceSubscriptions".into(), json!([]));
    }
    if filter.is_empty() {
        return Verdict::NotApplicable(
            "the server declares no listChanged and no resources.subscribe capability: nothing to listen to".into(),
        );
    }
    let m = conn.message("subscriptions/listen", json!({"notifications": filter}));
    ctx.note(format!("send: {m}"));
    if let Err(e) = conn.driver.send(&Frame::Json(m)).await {
        return fail(format!("sending subscriptions/listen: {e}"));
    }
    let verdict = match conn.driver.recv(ctx.timeouts.request).await {
        Ok(Incoming::Message(first)) => {
            ctx.note(format!("recv: {first}"));
            let ack = first.get("method") == Some(&json!("notifications/subscriptions/acknowledged"));
            let tagged = first
                .pointer("/params/_meta")
                .and_then(|m| m.get("io.modelcontextprotocol/subscriptionId"))
                .is_some();
            match (ack, tagged) {
                (true, true) => Verdict::Pass,
                (true, false) => fail("the acknowledgement carries no io.modelcontextprotocol/subscriptionId in _meta"),
                _ => fail(format!(
                    "the first message is not notifications/subscriptions/acknowledged: {first}"
                )),
            }
        }
        Ok(other) => fail(format!("instead of an acknowledgement: {other:?}")),
        Err(e) => fail(format!("no acknowledgement: {e}")),
    };
    conn.with_problems(verdict)
}

// ---------------------------------------------------------------- framing, both eras

async fn parse_error(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let text = r#"{"jsonrpc": "2.0", "id": 1, "method""#.to_string();
    if ctx.launch.transport() == Transport::Http {
        let ep = attempt!(ctx.endpoint(&conn));
        let mut headers = vec![("MCP-Protocol-Version", conn.version.clone())];
        if let Some(s) = &ep.session {
            headers.push(("Mcp-Session-Id", s.clone()));
        }
        let a = attempt!(ctx.post_text(&ep.url, ep.token.as_deref(), &headers, text).await);
        let mut problems = Vec::new();
        if !(400..500).contains(&a.status) {
            problems.push(format!("HTTP {} instead of a 4xx", a.status));
        }
        if let Some(m) = a.response()
            && error_code(m) != Some(-32700)
        {
            problems.push(format!("the body is not error -32700: {m}"));
        }
        return if problems.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(problems)
        };
    }
    let answer = conn.send_and_wait(ctx, Frame::Raw(text), None).await;
    conn.with_problems(expect_error(&answer, -32700, "unparsable JSON"))
}

async fn invalid_request(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let mut m = conn.message("tools/list", json!({}));
    m["jsonrpc"] = json!("1.0");
    let answer = conn.send_and_wait(ctx, Frame::Json(m), Some("tools/list")).await;
    conn.with_problems(expect_error(&answer, -32600, "\"jsonrpc\": \"1.0\""))
}

async fn unknown_method(ctx: &mut Ctx<'_>) -> Verdict {
    if ctx.era == Era::Stateless {
        return removed(ctx, "alloy-conformance/no_such_method", json!({})).await;
    }
    let mut conn = attempt!(ctx.open().await);
    let answer = conn.request(ctx, "alloy-conformance/no_such_method", json!({})).await;
    conn.with_problems(expect_error(&answer, -32601, "an unknown method"))
}

async fn notification_not_answered(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let n = Frame::Json(json!({"jsonrpc": "2.0", "method": "notifications/alloy-conformance-unknown"}));
    if let Err(e) = conn.driver.send(&n).await {
        return fail(format!("sending the notification: {e}"));
    }
    if let Err(e) = conn.driver.settle(ctx.timeouts.request).await {
        return Verdict::NotVerified(format!("could not settle the connection after the notification: {e}"));
    }
    let mut answers = Vec::new();
    while let Some(i) = conn.driver.try_recv() {
        if let Incoming::Message(m) = &i
            && m.get("method").is_none()
        {
            answers.push(m.to_string());
        }
    }
    conn.with_problems(if answers.is_empty() {
        Verdict::Pass
    } else {
        fail(format!("the notification was answered: {}", answers.join(" ")))
    })
}

// ---------------------------------------------------------------- features

async fn list_checked(ctx: &mut Ctx<'_>, capability: &str, methods: &[&str]) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    if !conn.declares(capability) {
        return Verdict::NotApplicable(format!("the server declares no `{capability}` capability"));
    }
    let mut problems = Vec::new();
    for method in methods {
        let answer = conn.request(ctx, method, json!({})).await;
        let result = answer.as_ref().ok().and_then(|m| m.get("result")).cloned();
        match result {
            Some(r) if *method == "tools/list" => {
                let tools = r.get("tools").and_then(Value::as_array).cloned().unwrap_or_default();
                problems.extend(shapes::check_tools(Some(&conn.version), &tools));
            }
            Some(_) => {}
            None => problems.push(format!("{method}: {}", describe(&answer))),
        }
    }
    conn.with_problems(if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    })
}

async fn tools_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "tools", &["tools/list"]).await
}

async fn prompts_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "prompts", &["prompts/list"]).await
}

async fn resources_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "resources", &["resources/list", "resources/templates/list"]).await
}

async fn unknown_tool(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    if !conn.declares("tools") {
        return Verdict::NotApplicable("the server declares no `tools` capability".into());
    }
    let answer = conn
        .request(
            ctx,
            "tools/call",
            json!({"name": "alloy_conformance_no_such_tool", "arguments": {}}),
        )
        .await;
    conn.with_problems(expect_error(&answer, -32602, "tools/call of an unknown tool"))
}

async fn invalid_arguments(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    if !conn.declares("tools") {
        return Verdict::NotApplicable("the server declares no `tools` capability".into());
    }
    if !shapes::version_at_least(&conn.version, "2025-11-25") {
        return Verdict::NotApplicable(format!(
            "the server chose {}, before the rule (2025-11-25)",
            conn.version
        ));
    }
    let listed = conn.request(ctx, "tools/list", json!({})).await;
    let tools = listed
        .as_ref()
        .ok()
        .and_then(|m| m.pointer("/result/tools"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // A tool with a required argument, called without any: invalid by its own schema.
    let Some(name) = tools.iter().find_map(|t| {
        let required = t.pointer("/inputSchema/required").and_then(Value::as_array)?;
        (!required.is_empty()).then(|| t.get("name")?.as_str().map(str::to_string))?
    }) else {
        return Verdict::NotVerified("no listed tool has a required argument to leave out".into());
    };
    let answer = conn
        .request(ctx, "tools/call", json!({"name": name, "arguments": {}}))
        .await;
    let verdict = match &answer {
        Ok(m) if m.pointer("/result/isError") == Some(&json!(true)) => Verdict::Pass,
        Ok(m) if m.get("error").is_some() => fail(format!(
            "`{name}` without its required arguments got a JSON-RPC error instead of an isError result: {}",
            crate::driver::shorten(&m.to_string(), 300)
        )),
        other => fail(format!("`{name}` without its required arguments: {}", describe(other))),
    };
    conn.with_problems(verdict)
}

// ---------------------------------------------------------------- HTTP

async fn foreign_origin(ctx: &mut Ctx<'_>) -> Verdict {
    let conn = attempt!(ctx.connect().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let (message, mut headers) = match ctx.era {
        Era::Handshake => (
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": conn.version,
                "capabilities": {}, "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}}}),
            Vec::new(),
        ),
        Era::Stateless => {
            let m = era::with_request_meta(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"}),
                era::STATELESS_VERSION,
            );
            let h = ctx.stateless_headers(&m, era::STATELESS_VERSION);
            (m, h)
        }
    };
    headers.push(("Origin", "http://attacker.alloy-conformance.invalid".to_string()));
    match ctx.post(&ep.url, ep.token.as_deref(), &headers, &message).await {
        Ok(a) if a.status == 403 => Verdict::Pass,
        Ok(a) => fail(format!("HTTP {} for a foreign Origin instead of 403", a.status)),
        Err(v) => v,
    }
}

async fn session_lifecycle(ctx: &mut Ctx<'_>) -> Verdict {
    let conn = attempt!(ctx.open().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let Some(session) = ep.session.clone() else {
        return Verdict::NotApplicable("the server assigned no Mcp-Session-Id (sessions are optional)".into());
    };
    let token = ep.token.as_deref();
    let version = ("MCP-Protocol-Version", conn.version.clone());
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let mut problems = Vec::new();
    match ctx.post(&ep.url, token, std::slice::from_ref(&version), &ping).await {
        Ok(a) if a.status == 400 => {}
        Ok(a) => problems.push(format!(
            "a request without Mcp-Session-Id got HTTP {} instead of 400",
            a.status
        )),
        Err(v) => return v,
    }
    let unknown = ("Mcp-Session-Id", "alloy-conformance-unknown-session".to_string());
    match ctx.post(&ep.url, token, &[version.clone(), unknown], &ping).await {
        Ok(a) if a.status == 404 => {}
        Ok(a) => problems.push(format!(
            "an unknown Mcp-Session-Id got HTTP {} instead of 404",
            a.status
        )),
        Err(v) => return v,
    }
    let own = ("Mcp-Session-Id".to_string(), session.clone());
    ctx.note(format!("DELETE {} (session {session})", ep.url));
    match exchange_once(
        reqwest::Method::DELETE,
        &ep.url,
        token,
        &[own],
        None,
        ctx.timeouts.request,
    )
    .await
    {
        Ok(a) if a.status == 405 => {}
        Ok(a) if (200..300).contains(&a.status) => {
            match ctx
                .post(&ep.url, token, &[version, ("Mcp-Session-Id", session)], &ping)
                .await
            {
                Ok(after) if after.status == 404 => {}
                Ok(after) => problems.push(format!(
                    "after DELETE the session still answers (HTTP {} instead of 404)",
                    after.status
                )),
                Err(v) => return v,
            }
        }
        Ok(a) => problems.push(format!(
            "DELETE of the session got HTTP {} (2xx or 405 expected)",
            a.status
        )),
        Err(e) => problems.push(format!("DELETE got no answer: {e}")),
    }
    conn.with_problems(if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(problems)
    })
}

async fn unsupported_version_header(ctx: &mut Ctx<'_>) -> Verdict {
    let conn = attempt!(ctx.open().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let mut headers = vec![("MCP-Protocol-Version", "1999-01-01".to_string())];
    if let Some(s) = &ep.session {
        headers.push(("Mcp-Session-Id", s.clone()));
    }
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    match ctx.post(&ep.url, ep.token.as_deref(), &headers, &ping).await {
        Ok(a) if a.status == 400 => Verdict::Pass,
        Ok(a) => fail(format!(
            "MCP-Protocol-Version: 1999-01-01 got HTTP {} instead of 400",
            a.status
        )),
        Err(v) => v,
    }
}

async fn notification_202(ctx: &mut Ctx<'_>) -> Verdict {
    let conn = attempt!(ctx.open().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let mut headers = vec![("MCP-Protocol-Version", conn.version.clone())];
    if let Some(s) = &ep.session {
        headers.push(("Mcp-Session-Id", s.clone()));
    }
    let n = json!({"jsonrpc": "2.0", "method": "notifications/alloy-conformance-unknown"});
    match ctx.post(&ep.url, ep.token.as_deref(), &headers, &n).await {
        Ok(a) if a.status == 202 && a.messages.is_empty() && a.text.trim().is_empty() => Verdict::Pass,
        Ok(a) => fail(format!(
            "a notification got HTTP {} {:?} {:?} instead of an empty 202",
            a.status, a.messages, a.text
        )),
        Err(v) => v,
    }
}

async fn no_session_stateless(ctx: &mut Ctx<'_>) -> Verdict {
    let conn = attempt!(ctx.connect().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let m = era::with_request_meta(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"}),
        era::STATELESS_VERSION,
    );
    let headers = ctx.stateless_headers(&m, era::STATELESS_VERSION);
    match ctx.post(&ep.url, ep.token.as_deref(), &headers, &m).await {
        Ok(a) if a.response().is_none() => {
            Verdict::NotVerified(format!("server/discover got no JSON-RPC answer (HTTP {})", a.status))
        }
        Ok(a) => match a.header("mcp-session-id") {
            None => Verdict::Pass,
            Some(s) => fail(format!("the answer mints Mcp-Session-Id {s}")),
        },
        Err(v) => v,
    }
}

/// A stateless POST of `message` whose headers are changed by `edit`; expects 400 + -32020.
async fn header_mismatch(
    ctx: &mut Ctx<'_>,
    message: Value,
    what: &str,
    edit: impl FnOnce(&mut Vec<(&'static str, String)>),
) -> Verdict {
    let conn = attempt!(ctx.connect().await);
    let ep = attempt!(ctx.endpoint(&conn));
    let mut headers = ctx.stateless_headers(&message, era::STATELESS_VERSION);
    edit(&mut headers);
    match ctx.post(&ep.url, ep.token.as_deref(), &headers, &message).await {
        Ok(a) => expect_http_error(&a, 400, -32020, what),
        Err(v) => v,
    }
}

fn discover_request() -> Value {
    era::with_request_meta(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"}),
        era::STATELESS_VERSION,
    )
}

async fn header_method_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
    header_mismatch(
        ctx,
        discover_request(),
        "Mcp-Method: tools/list on server/discover",
        |h| {
            h.retain(|(k, _)| *k != "Mcp-Method");
            h.push(("Mcp-Method", "tools/list".into()));
        },
    )
    .await
}

async fn header_missing_method(ctx: &mut Ctx<'_>) -> Verdict {
    header_mismatch(ctx, discover_request(), "no Mcp-Method", |h| {
        h.retain(|(k, _)| *k != "Mcp-Method")
    })
    .await
}

async fn header_version_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
    let older = KNOWN_VERSIONS[KNOWN_VERSIONS.len() - 1];
    header_mismatch(
        ctx,
        discover_request(),
        "MCP-Protocol-Version: 2025-11-25 with _meta 2026-07-28",
        |h| {
            h.retain(|(k, _)| *k != "MCP-Protocol-Version");
            h.push(("MCP-Protocol-Version", older.into()));
        },
    )
    .await
}

async fn header_name_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    if !conn.declares("tools") {
        return Verdict::NotApplicable("the server declares no `tools` capability".into());
    }
    let listed = conn.request(ctx, "tools/list", json!({})).await;
    let name = listed
        .as_ref()
        .ok()
        .and_then(|m| m.pointer("/result/tools/0/name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(name) = name else {
        return Verdict::NotVerified(format!("no tool to call: tools/list gave {}", describe(&listed)));
    };
    drop(conn);
    let call = era::with_request_meta(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}}),
        era::STATELESS_VERSION,
    );
    header_mismatch(ctx, call, "Mcp-Name naming another tool", |h| {
        h.retain(|(k, _)| *k != "Mcp-Name");
        h.push(("Mcp-Name", "alloy_conformance_another_tool".into()));
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_area_slash_name_and_every_rule_has_an_era() {
        let ids = rule_ids();
        assert_eq!(ids.len(), RULES.len());
        for r in RULES {
            let (area, name) = r.id.split_once('/').expect("area/name");
            assert!(!area.is_empty() && !name.is_empty() && !name.contains('/'), "{}", r.id);
            assert!(!r.eras.is_empty(), "{}", r.id);
            assert!(!r.says.is_empty(), "{}", r.id);
        }
    }

    #[test]
    fn an_http_answer_is_judged_by_status_and_code() {
        let a = HttpAnswer {
            status: 400,
            messages: vec![json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32020, "message": "x"}})],
            ..HttpAnswer::default()
        };
        assert_eq!(expect_http_error(&a, 400, -32020, "x"), Verdict::Pass);
        assert!(matches!(expect_http_error(&a, 404, -32601, "x"), Verdict::Fail(p) if p.len() == 2));
    }
}
