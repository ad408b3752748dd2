//! Rules of the lifecycle: the handshake era's `initialize` and `ping`; the stateless era's
//! `server/discover`, unsupported versions, removed methods, `resultType` and caching hints,
//! `subscriptions/listen`.
use super::probe::{Conn, Ctx, describe, error_code, expect_error};
use super::{Verdict, fail};
use crate::driver::{Frame, Incoming, Transport};
use crate::era::{self, Era};
use crate::shapes::KNOWN_VERSIONS;
use serde_json::{Value, json};
// ---------------------------------------------------------------- handshake-era lifecycle

pub(super) async fn initialize_negotiates(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn unknown_version_counter_offer(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn ping_is_answered(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let answer = conn.request(ctx, "ping", json!({})).await;
    let verdict = match &answer {
        Ok(m) if m.get("result").is_some_and(Value::is_object) => Verdict::Pass,
        _ => fail(format!("ping: {}", describe(&answer))),
    };
    conn.with_problems(verdict)
}

// ---------------------------------------------------------------- stateless era

pub(super) async fn discover_result(ctx: &mut Ctx<'_>) -> Result<(Conn, Value), Verdict> {
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

pub(super) async fn discover_lists_versions(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn discover_server_info(ctx: &mut Ctx<'_>) -> Verdict {
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
pub(super) async fn stateless_call(
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

pub(super) async fn unsupported_version(ctx: &mut Ctx<'_>) -> Verdict {
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
pub(super) async fn removed(ctx: &mut Ctx<'_>, method: &str, params: Value) -> Verdict {
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

pub(super) async fn removed_ping(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "ping", json!({})).await
}

pub(super) async fn removed_initialize(ctx: &mut Ctx<'_>) -> Verdict {
    let params = json!({"protocolVersion": era::STATELESS_VERSION, "capabilities": {},
        "clientInfo": {"name": "alloy-conformance", "version": env!("CARGO_PKG_VERSION")}});
    removed(ctx, "initialize", params).await
}

pub(super) async fn removed_set_level(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "logging/setLevel", json!({"level": "info"})).await
}

pub(super) async fn removed_subscribe(ctx: &mut Ctx<'_>) -> Verdict {
    removed(ctx, "resources/subscribe", json!({"uri": "urn:alloy-conformance:any"})).await
}

pub(super) async fn removed_unsubscribe(ctx: &mut Ctx<'_>) -> Verdict {
    removed(
        ctx,
        "resources/unsubscribe",
        json!({"uri": "urn:alloy-conformance:any"}),
    )
    .await
}

/// The list methods a server's capabilities make callable, with their capability.
pub(super) const LISTS: [(&str, &str); 4] = [
    ("tools", "tools/list"),
    ("prompts", "prompts/list"),
    ("resources", "resources/list"),
    ("resources", "resources/templates/list"),
];

pub(super) fn caching_problems(method: &str, result: &Value) -> Vec<String> {
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

pub(super) async fn caching_hints(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn listen_acknowledges(ctx: &mut Ctx<'_>) -> Verdict {
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
    let verdict = conn.with_problems(verdict);
    // The listen stream stays open on the server's side: end it.
    conn.driver.close().await;
    verdict
}
