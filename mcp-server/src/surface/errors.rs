//! The one module that decides what a failure becomes (contract §5.2, STYLE "Errors").
//!
//! | failure | becomes |
//! |---|---|
//! | arguments that break the input schema, or an "exactly one of" / "at least one of" rule | JSON-RPC `-32602` naming the field ([`invalid_params`], [`schema_violation`], [`require_at_least_one`], [`require_exactly_one`]); from protocol 2025-11-25 on an `isError` result with code `invalid_argument` and the same message and data ([`argument_error`]) |
//! | a user, label or sprint name that names nothing or several things | JSON-RPC `-32602` naming the field, with `data.candidates` ([`unresolved_name`]); from 2025-11-25 on an `isError` result like the row above |
//! | unknown (or hidden) tool | JSON-RPC `-32602` ([`unknown_tool`]) |
//! | API answered 4xx/5xx | `isError: true` result `{"status": <status>, "error": {code, message, details}}` copied from the API |
//! | API answered an error without the envelope | the same shape with `code` `upstream_error`, `message` = first 200 characters of the body |
//! | API answered 2xx with a body that is not the expected JSON | `code` `upstream_invalid_response` |
//! | API unreachable or too slow | `{"status": null, "error": {"code": "upstream_unavailable", ...}}` |
//! | a write sent but not answered (timeout, broken connection) | `code` `outcome_unknown`: it may have happened; check before retrying |
//! | an answer over the upstream body cap | `code` `upstream_too_large` |
//! | a tool panicked or overran its deadline | `isError: true` with `code` `internal` (logged) |
//!
//! Success results are built here too ([`json_result`], [`deleted_result`], [`text_result`]),
//! so a tool body is always `Ok(errors::json_result(api.get(..).await))` or similar.

use crate::upstream::api::{ApiFailure, ApiResponse, ApiResult, quote};
use rmcp::ErrorData;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, ErrorCode};
use serde_json::{Map, Value, json};
use std::any::Any;
use std::time::Duration;

// ----- JSON-RPC errors (arguments, unknown tools) ---------------------------------------------

/// `-32602` for a bad argument: the message names the field, `data.field` carries it.
pub fn invalid_params(field: &str, message: impl AsRef<str>) -> ErrorData {
    ErrorData::invalid_params(
        format!("invalid argument `{field}`: {}", message.as_ref()),
        Some(json!({"field": field})),
    )
}

/// `-32602` for a name that names nothing, or more than one thing (an unknown email, label or
/// sprint name, or a sprint name two sprints share): [`invalid_params`] with the candidates in
/// the message and in `data.candidates`, so the caller can pick one. The server never guesses.
pub fn unresolved_name(field: &str, message: impl AsRef<str>, candidates: Vec<Value>) -> ErrorData {
    let mut e = invalid_params(field, message);
    e.data = Some(json!({"field": field, "candidates": candidates}));
    e
}

/// `-32602` for a tool that does not exist, or is hidden by `--read-only` / `--toolsets`.
pub fn unknown_tool(name: &str) -> ErrorData {
    ErrorData::invalid_params(format!("unknown tool: {name}"), Some(json!({"tool": name})))
}

/// `-32602` for a list request with a cursor (no list is ever paginated, so no cursor is valid).
pub fn invalid_cursor() -> ErrorData {
    ErrorData::invalid_params(
        "invalid argument `cursor`: this server returns every list in one page and never issues a cursor",
        Some(json!({"field": "cursor"})),
    )
}

/// `-32602` for arguments that break the tool's input schema. Names the first failing field
/// (`ticket_ids[3]`, `statuses[0].name`) and lists up to ten problems in `data.errors`.
pub fn schema_violation<'a>(errors: impl IntoIterator<Item = jsonschema::ValidationError<'a>>) -> ErrorData {
    let problems: Vec<(String, String)> = errors.into_iter().take(10).map(|e| describe(&e)).collect();
    let Some((field, message)) = problems.first().cloned() else {
        return ErrorData::invalid_params("invalid arguments", None);
    };
    let list: Vec<Value> = problems
        .iter()
        .map(|(f, m)| json!({"field": f, "message": m}))
        .collect();
    ErrorData::invalid_params(
        format!("invalid argument `{field}`: {message}"),
        Some(json!({"field": field, "errors": list})),
    )
}

fn describe(e: &jsonschema::ValidationError<'_>) -> (String, String) {
    use jsonschema::error::ValidationErrorKind as K;
    let base = pointer_to_field(e.instance_path().as_str());
    let join = |name: &str| {
        if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        }
    };
    match e.kind() {
        K::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            (join(&name), "is required".to_string())
        }
        K::AdditionalProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            (join(&name), "is not an argument of this tool".to_string())
        }
        _ => {
            let field = if base.is_empty() { "arguments".to_string() } else { base };
            (field, quote(&e.to_string()))
        }
    }
}

/// `/statuses/0/name` → `statuses[0].name`.
fn pointer_to_field(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

/// `-32602` unless at least one of `fields` is present in `args` (PATCH-like tools).
pub fn require_at_least_one(args: &Map<String, Value>, fields: &[&str]) -> Result<(), ErrorData> {
    if fields.iter().any(|f| args.contains_key(*f)) {
        return Ok(());
    }
    let list = fields.join(", ");
    Err(ErrorData::invalid_params(
        format!("invalid argument `{}`: give at least one of: {list}", fields.join("|")),
        Some(json!({"field": fields.join("|"), "fields": fields})),
    ))
}

/// `-32602` unless exactly one of `fields` is present in `args` (e.g. `minutes` / `hours`).
pub fn require_exactly_one(args: &Map<String, Value>, fields: &[&str]) -> Result<(), ErrorData> {
    let given: Vec<&str> = fields.iter().copied().filter(|f| args.contains_key(*f)).collect();
    if given.len() == 1 {
        return Ok(());
    }
    let field = if given.len() > 1 {
        given.join("|")
    } else {
        fields.join("|")
    };
    let problem = if given.is_empty() {
        "none was given"
    } else {
        "several were given"
    };
    Err(ErrorData::invalid_params(
        format!(
            "invalid argument `{field}`: give exactly one of: {} ({problem})",
            fields.join(", ")
        ),
        Some(json!({"field": field, "fields": fields})),
    ))
}

/// The first protocol revision in which a tool's argument errors are tool results: "input
/// validation errors SHOULD be reported as tool execution errors" so that the model can
/// correct itself (2025-11-25, SEP-1303).
pub const ARGUMENT_ERRORS_AS_RESULTS: &str = "2025-11-25";

/// What a bad tool argument becomes for a client of `revision`: before 2025-11-25 the JSON-RPC
/// `-32602` as given; from 2025-11-25 on an `isError` result whose text carries the same
/// message and data, `{"status": null, "error": {"code": "invalid_argument", "message",
/// "details": {"field", ...}}}`. Unknown tools stay `-32602` in every revision.
pub fn argument_error(err: ErrorData, revision: Option<&str>) -> Result<CallToolResponse, ErrorData> {
    if revision.is_some_and(|r| r >= ARGUMENT_ERRORS_AS_RESULTS) {
        let details = err.data.clone().unwrap_or_else(|| json!({}));
        return Ok(failure(None, "invalid_argument", err.message.to_string(), details).into());
    }
    Err(err)
}

/// `-32603` for our own bugs (logged).
pub fn internal(message: impl Into<String>) -> ErrorData {
    let message = message.into();
    tracing::error!(%message, "internal error");
    ErrorData::internal_error(message, None)
}

// ----- tool results ---------------------------------------------------------------------------

/// A success result holding `value` as compact JSON text.
pub fn success(value: &Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(compact(value))])
}

/// An `isError` result holding `{"status", "error": {"code", "message", "details"}}`.
pub fn failure(status: Option<u16>, code: &str, message: impl Into<String>, details: Value) -> CallToolResult {
    let body = json!({
        "status": status,
        "error": {"code": code, "message": message.into(), "details": details},
    });
    CallToolResult::error(vec![ContentBlock::text(compact(&body))])
}

/// The result of a call whose success answer is JSON: that JSON, compact and complete.
pub fn json_result(r: ApiResult) -> CallToolResult {
    match json_value(r) {
        Ok(v) => success(&v),
        Err(e) => *e,
    }
}

/// The result of a delete answering `204`: `{"deleted": true, "<id_param>": "<value as given>"}`.
pub fn deleted_result(r: ApiResult, id_param: &str, value: &str) -> CallToolResult {
    match r {
        Ok(resp) if resp.is_success() => {
            let mut m = Map::new();
            m.insert("deleted".into(), Value::Bool(true));
            m.insert(id_param.into(), Value::String(value.into()));
            success(&Value::Object(m))
        }
        other => json_result(other),
    }
}

/// The result of a call whose success answer is text (the CSV export): the raw text.
pub fn text_result(r: ApiResult) -> CallToolResult {
    match r {
        Ok(resp) if resp.is_success() => CallToolResult::success(vec![ContentBlock::text(resp.body)]),
        other => json_result(other),
    }
}

/// The JSON of a 2xx answer, or the `isError` result describing why there is none. Tools that
/// combine several calls use this: `let v = match errors::json_value(r) { Ok(v) => v, Err(e)
/// => return Ok(*e) };`.
pub fn json_value(r: ApiResult) -> Result<Value, Box<CallToolResult>> {
    let resp = r.map_err(|f| Box::new(unavailable(&f)))?;
    if resp.is_success() {
        return serde_json::from_str::<Value>(&resp.body).map_err(|_| {
            Box::new(failure(
                Some(resp.status),
                "upstream_invalid_response",
                format!(
                    "the Alloy API answered {} with a body that is not JSON: {}",
                    resp.status,
                    quote(&resp.body)
                ),
                json!({}),
            ))
        });
    }
    Err(Box::new(api_error(&resp)))
}

/// The `isError` result of an API error answer.
pub fn api_error(resp: &ApiResponse) -> CallToolResult {
    match resp.envelope() {
        Some(e) => {
            let body = json!({
                "status": resp.status,
                "error": {
                    "code": e.get("code").cloned().unwrap_or(Value::Null),
                    "message": e.get("message").cloned().unwrap_or(Value::Null),
                    "details": e.get("details").cloned().unwrap_or_else(|| json!({})),
                },
            });
            CallToolResult::error(vec![ContentBlock::text(compact(&body))])
        }
        None => failure(Some(resp.status), "upstream_error", quote(&resp.body), json!({})),
    }
}

/// The `isError` result of a call that got no answer (or was never sent).
pub fn unavailable(f: &ApiFailure) -> CallToolResult {
    let code = match f {
        ApiFailure::RefusedPath { .. } => "invalid_argument",
        ApiFailure::OutcomeUnknown { .. } => "outcome_unknown",
        ApiFailure::TooLarge { .. } => "upstream_too_large",
        _ => "upstream_unavailable",
    };
    failure(None, code, f.to_string(), json!({}))
}

/// The `isError` result of a tool that panicked. The panic message is logged, and quoted for
/// the model, since it describes our bug rather than the user's data.
pub fn panic_result(tool: &str, payload: &(dyn Any + Send)) -> CallToolResult {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    tracing::error!(tool, panic = %what, "tool panicked");
    failure(
        None,
        "internal",
        format!(
            "the tool {tool} failed inside alloy-mcp ({}); this is a bug, please report it",
            quote(&what)
        ),
        json!({}),
    )
}

/// The `isError` result of a tool that overran its overall deadline.
pub fn deadline_result(tool: &str, after: Duration) -> CallToolResult {
    tracing::error!(tool, after_secs = after.as_secs(), "tool overran its deadline");
    failure(
        None,
        "upstream_unavailable",
        format!(
            "the tool {tool} did not finish within {} s; the Alloy API may be overloaded, try again later",
            after.as_secs()
        ),
        json!({}),
    )
}

// ----- resources ------------------------------------------------------------------------------

/// `-32002` for a resource URI outside the served forms (no API call is made).
pub fn resource_not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(format!("resource not found: {uri}"), Some(json!({"uri": uri})))
}

/// The JSON of a 2xx answer for a resource read; 404 → `-32002`, anything else → `-32603`
/// with `"<status> <code>: <message>"` (contract §7).
pub fn resource_json(uri: &str, r: ApiResult) -> Result<Value, ErrorData> {
    match r {
        Err(f) => Err(ErrorData::new(
            ErrorCode::INTERNAL_ERROR,
            f.to_string(),
            Some(json!({"uri": uri})),
        )),
        Ok(resp) if resp.status == 404 => Err(ErrorData::resource_not_found(
            format!("resource not found: {uri} ({})", resp.status_line()),
            Some(json!({"uri": uri})),
        )),
        Ok(resp) if resp.is_success() => serde_json::from_str(&resp.body).map_err(|_| {
            ErrorData::new(
                ErrorCode::INTERNAL_ERROR,
                format!("{} upstream_invalid_response: {}", resp.status, quote(&resp.body)),
                Some(json!({"uri": uri})),
            )
        }),
        Ok(resp) => Err(ErrorData::new(
            ErrorCode::INTERNAL_ERROR,
            resp.status_line(),
            Some(json!({"uri": uri})),
        )),
    }
}

// ----- helpers --------------------------------------------------------------------------------

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> ApiResult {
        Ok(ApiResponse {
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
        })
    }

    fn text_of(r: &CallToolResult) -> Value {
        let t = r.content[0].as_text().expect("text").text.clone();
        serde_json::from_str(&t).expect("json")
    }

    #[test]
    fn api_errors_keep_status_code_message_and_details() {
        let r = json_result(resp(
            422,
            r#"{"error":{"code":"unprocessable","message":"no","details":{"reason":"x"}}}"#,
        ));
        assert_eq!(r.is_error, Some(true));
        assert_eq!(
            text_of(&r),
            json!({"status": 422, "error": {"code": "unprocessable", "message": "no", "details": {"reason": "x"}}})
        );
    }

    #[test]
    fn error_answers_without_the_envelope_become_upstream_error() {
        let r = json_result(resp(502, "<html>bad gateway</html>"));
        assert_eq!(text_of(&r)["error"]["code"], "upstream_error");
        assert_eq!(text_of(&r)["error"]["message"], "<html>bad gateway</html>");
    }

    #[test]
    fn success_answers_that_are_not_json_become_upstream_invalid_response() {
        let r = json_result(resp(200, "{\"items\": [tru"));
        assert_eq!(text_of(&r)["error"]["code"], "upstream_invalid_response");
    }

    #[test]
    fn missing_answers_become_upstream_unavailable_with_a_null_status() {
        let r = json_result(Err(ApiFailure::ConnectionRefused {
            base_url: "http://127.0.0.1:9".into(),
        }));
        let v = text_of(&r);
        assert_eq!(v["status"], Value::Null);
        assert_eq!(v["error"]["code"], "upstream_unavailable");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("connection refused")
        );
    }

    #[test]
    fn deletes_report_the_reference_as_given() {
        let r = deleted_result(resp(204, ""), "ticket_id", "WEB-1");
        assert_eq!(text_of(&r), json!({"deleted": true, "ticket_id": "WEB-1"}));
        assert_eq!(r.is_error, Some(false));
    }

    #[test]
    fn json_pointers_become_readable_field_names() {
        assert_eq!(pointer_to_field("/statuses/0/name"), "statuses[0].name");
        assert_eq!(pointer_to_field(""), "");
        assert_eq!(pointer_to_field("/ticket_ids/3"), "ticket_ids[3]");
    }

    #[test]
    fn exactly_one_and_at_least_one_rules_name_the_fields() {
        let mut args = Map::new();
        let e = require_at_least_one(&args, &["title", "priority"]).expect_err("empty");
        assert!(e.message.contains("title") && e.message.contains("priority"));
        args.insert("minutes".into(), json!(5));
        args.insert("hours".into(), json!(1));
        let e = require_exactly_one(&args, &["minutes", "hours"]).expect_err("both");
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("minutes|hours"));
    }

    #[test]
    fn panics_become_internal_error_results() {
        let payload: Box<dyn Any + Send> = Box::new("boom");
        let r = panic_result("get_ticket", payload.as_ref());
        assert_eq!(r.is_error, Some(true));
        assert!(text_of(&r)["error"]["message"].as_str().unwrap_or("").contains("boom"));
    }
}
