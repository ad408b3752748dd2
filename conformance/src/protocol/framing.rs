//! Rules of framing (both eras: -32700, -32600, -32601, unanswered notifications) and of the
//! features a server declares (tools, prompts, resources).
use super::lifecycle::removed;
use super::probe::{Ctx, describe, error_code, expect_error};
use super::{Verdict, fail};
use crate::driver::{Frame, Incoming, Transport};
use crate::era::Era;
use crate::shapes;
use serde_json::{Value, json};
// ---------------------------------------------------------------- framing, both eras

pub(super) async fn parse_error(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn invalid_request(ctx: &mut Ctx<'_>) -> Verdict {
    let mut conn = attempt!(ctx.open().await);
    let mut m = conn.message("tools/list", json!({}));
    m["jsonrpc"] = json!("1.0");
    let answer = conn.send_and_wait(ctx, Frame::Json(m), Some("tools/list")).await;
    conn.with_problems(expect_error(&answer, -32600, "\"jsonrpc\": \"1.0\""))
}

pub(super) async fn unknown_method(ctx: &mut Ctx<'_>) -> Verdict {
    if ctx.era == Era::Stateless {
        return removed(ctx, "alloy-conformance/no_such_method", json!({})).await;
    }
    let mut conn = attempt!(ctx.open().await);
    let answer = conn.request(ctx, "alloy-conformance/no_such_method", json!({})).await;
    conn.with_problems(expect_error(&answer, -32601, "an unknown method"))
}

pub(super) async fn notification_not_answered(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn list_checked(ctx: &mut Ctx<'_>, capability: &str, methods: &[&str]) -> Verdict {
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

pub(super) async fn tools_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "tools", &["tools/list"]).await
}

pub(super) async fn prompts_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "prompts", &["prompts/list"]).await
}

pub(super) async fn resources_list_valid(ctx: &mut Ctx<'_>) -> Verdict {
    list_checked(ctx, "resources", &["resources/list", "resources/templates/list"]).await
}

pub(super) async fn unknown_tool(ctx: &mut Ctx<'_>) -> Verdict {
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

pub(super) async fn invalid_arguments(ctx: &mut Ctx<'_>) -> Verdict {
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
