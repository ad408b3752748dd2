//! Rules of Streamable HTTP: DNS rebinding, the handshake era's session lifecycle, the version
//! header, notifications, and at the stateless wire no session and the header checks
//! (-32020, HTTP 400).
use super::probe::{Ctx, describe, expect_http_error};
use super::{Verdict, fail};
use crate::driver::http::exchange_once;
use crate::era::{self, Era};
use crate::shapes::KNOWN_VERSIONS;
use serde_json::{Value, json};
// ---------------------------------------------------------------- HTTP

pub(super) async fn foreign_origin(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn session_lifecycle(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn unsupported_version_header(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn notification_202(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn no_session_stateless(ctx: &mut Ctx<'_>) -> Verdict {
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
pub(super) async fn header_mismatch(
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

pub(super) fn discover_request() -> Value {
    era::with_request_meta(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"}),
        era::STATELESS_VERSION,
    )
}

pub(super) async fn header_method_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn header_missing_method(ctx: &mut Ctx<'_>) -> Verdict {
    header_mismatch(ctx, discover_request(), "no Mcp-Method", |h| {
        h.retain(|(k, _)| *k != "Mcp-Method")
    })
    .await
}

pub(super) async fn header_version_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn header_name_mismatch(ctx: &mut Ctx<'_>) -> Verdict {
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
