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
//! ([`crate::driver::http::exchange_once`]) to see statuses and headers. The rules live by
//! topic in `lifecycle`, `framing` and `http`; what they stand on in `probe`.

use crate::driver::{Timeouts, Transport};
use crate::era::Era;
use crate::runner::{CaseOutcome, Launch, Progress, Status, mock_options};
use crate::scenario;
use crate::transcript::Transcript;
use alloy_mock_api::MockAlloy;
use futures::StreamExt;
use futures::future::BoxFuture;
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
    ($id:literal, $eras:expr, $transports:expr, $says:literal, $f:path) => {
        Rule {
            id: $id,
            says: $says,
            eras: $eras,
            transports: $transports,
            check: |c| Box::pin($f(c)),
        }
    };
}

mod framing;
mod http;
mod lifecycle;
mod probe;

use probe::Ctx;

/// Every rule, in report order.
pub static RULES: &[Rule] = &[
    rule!(
        "lifecycle/initialize_negotiates_a_known_version",
        H,
        None,
        "initialize is answered with a protocolVersion the server supports, its capabilities and serverInfo",
        lifecycle::initialize_negotiates
    ),
    rule!(
        "lifecycle/unknown_version_gets_a_supported_one",
        H,
        None,
        "initialize with a version the server does not support is answered with another version it supports",
        lifecycle::unknown_version_counter_offer
    ),
    rule!(
        "lifecycle/ping_is_answered",
        H,
        None,
        "ping is answered with an empty result",
        lifecycle::ping_is_answered
    ),
    rule!(
        "discover/lists_supported_versions",
        S,
        None,
        "server/discover answers with supportedVersions (including 2026-07-28), capabilities and resultType complete",
        lifecycle::discover_lists_versions
    ),
    rule!(
        "discover/server_info_in_result_meta",
        S,
        None,
        "results carry io.modelcontextprotocol/serverInfo (name, version) in _meta (SHOULD)",
        lifecycle::discover_server_info
    ),
    rule!(
        "versions/unsupported_version_lists_supported",
        S,
        None,
        "a request at an unsupported version gets -32022 with data.supported (HTTP 400)",
        lifecycle::unsupported_version
    ),
    rule!(
        "removed/ping",
        S,
        None,
        "ping is removed: -32601 (HTTP 404)",
        lifecycle::removed_ping
    ),
    rule!(
        "removed/initialize",
        S,
        None,
        "initialize at the 2026-07-28 wire is removed: -32601 (HTTP 404)",
        lifecycle::removed_initialize
    ),
    rule!(
        "removed/logging_set_level",
        S,
        None,
        "logging/setLevel is removed: -32601 (HTTP 404)",
        lifecycle::removed_set_level
    ),
    rule!(
        "removed/resources_subscribe",
        S,
        None,
        "resources/subscribe is removed: -32601 (HTTP 404)",
        lifecycle::removed_subscribe
    ),
    rule!(
        "removed/resources_unsubscribe",
        S,
        None,
        "resources/unsubscribe is removed: -32601 (HTTP 404)",
        lifecycle::removed_unsubscribe
    ),
    rule!(
        "caching/result_type_and_hints",
        S,
        None,
        "discover and every list result the server declares carry resultType complete, ttlMs >= 0 and cacheScope public|private",
        lifecycle::caching_hints
    ),
    rule!(
        "subscriptions/listen_acknowledges_first",
        S,
        None,
        "subscriptions/listen is acknowledged first by notifications/subscriptions/acknowledged tagged with its subscriptionId",
        lifecycle::listen_acknowledges
    ),
    rule!(
        "framing/parse_error",
        B,
        None,
        "unparsable JSON is answered with -32700 (HTTP: a 4xx status)",
        framing::parse_error
    ),
    rule!(
        "framing/invalid_request",
        B,
        None,
        "a request with \"jsonrpc\": \"1.0\" is an invalid request: -32600",
        framing::invalid_request
    ),
    rule!(
        "framing/unknown_method",
        B,
        None,
        "a request for a method the server does not have is answered with -32601 (HTTP 404 at the 2026-07-28 wire)",
        framing::unknown_method
    ),
    rule!(
        "framing/notification_is_not_answered",
        B,
        None,
        "a notification, even an unknown one, gets no JSON-RPC answer",
        framing::notification_not_answered
    ),
    rule!(
        "tools/list_is_valid",
        B,
        None,
        "tools/list is schema-valid, names are unique, every inputSchema/outputSchema is a valid JSON Schema, annotations carry the four hints",
        framing::tools_list_valid
    ),
    rule!(
        "tools/unknown_tool_is_a_protocol_error",
        B,
        None,
        "tools/call of an unknown tool is a JSON-RPC error -32602, not a tool result",
        framing::unknown_tool
    ),
    rule!(
        "tools/invalid_arguments_are_a_tool_error",
        B,
        None,
        "from 2025-11-25 on, arguments that violate a tool's inputSchema are answered with an isError tool result the model can act on, not a JSON-RPC error",
        framing::invalid_arguments
    ),
    rule!(
        "prompts/list_is_valid",
        B,
        None,
        "prompts/list is schema-valid",
        framing::prompts_list_valid
    ),
    rule!(
        "resources/list_is_valid",
        B,
        None,
        "resources/list and resources/templates/list are schema-valid",
        framing::resources_list_valid
    ),
    rule!(
        "http/foreign_origin_is_refused",
        B,
        HTTP,
        "a request with an Origin outside the allowed ones is refused with 403 (DNS rebinding)",
        http::foreign_origin
    ),
    rule!(
        "http/session_lifecycle",
        H,
        HTTP,
        "an assigned Mcp-Session-Id is required (400 without it), an unknown one is 404, DELETE ends the session (404 afterwards) or is refused with 405",
        http::session_lifecycle
    ),
    rule!(
        "http/unsupported_protocol_version_header",
        H,
        HTTP,
        "an MCP-Protocol-Version header naming no supported revision is 400",
        http::unsupported_version_header
    ),
    rule!(
        "http/notification_is_accepted_with_202",
        H,
        HTTP,
        "a notification POST is accepted with 202 and no body",
        http::notification_202
    ),
    rule!(
        "http/no_session_at_the_stateless_wire",
        S,
        HTTP,
        "a 2026-07-28 request is served without minting an Mcp-Session-Id",
        http::no_session_stateless
    ),
    rule!(
        "headers/method_mismatch",
        S,
        HTTP,
        "an Mcp-Method header that differs from the body's method is 400 with -32020",
        http::header_method_mismatch
    ),
    rule!(
        "headers/missing_method",
        S,
        HTTP,
        "a POST without the Mcp-Method header is 400 with -32020",
        http::header_missing_method
    ),
    rule!(
        "headers/protocol_version_mismatch",
        S,
        HTTP,
        "an MCP-Protocol-Version header that differs from _meta's protocolVersion is 400 with -32020",
        http::header_version_mismatch
    ),
    rule!(
        "headers/name_mismatch",
        S,
        HTTP,
        "an Mcp-Name header that differs from the called tool's name is 400 with -32020",
        http::header_name_mismatch
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

#[cfg(test)]
mod tests {
    use super::probe::expect_http_error;
    use super::*;
    use crate::driver::http::HttpAnswer;
    use serde_json::json;

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
