//! Tool calls with generated arguments, and what they must get back.
//!
//! - **Valid arguments** ([`ValidCalls`]): a result, never a protocol error. A `-32602` passes
//!   only when the [`Refusals`] name the tool and the refusal's field (rules across fields the
//!   schema does not state). An `isError` result must carry text; with
//!   [`Rules::upstream_statuses`] it must be the Alloy shape `{"status", "error": {"code",
//!   "message"}}` with one of those statuses (what the API answered, and why).
//! - **Near-misses** ([`NearMissCalls`]): refused naming the mutated field, as JSON-RPC
//!   `-32602` (with `data.field`), or, for a client of 2025-11-25 and later, as an `isError`
//!   result whose text names the field; and the mock's journal shows the API was not called for
//!   that call (a [`Rules::exempt`] request, such as the HTTP transport's own identity check,
//!   does not count).
//!
//! Every answer is also checked against the schema of the negotiated revision. A tool that is
//! not safe (see [`ToolUnderTest::is_safe`]) gets the mock reset after each call when
//! [`Rules::reset_after_unsafe`] says so, so that deletions do not pile up.

use super::refusals::Refusals;
use super::runner::{Check, Verdict};
use super::schema::NearMiss;
use super::session::{Conn, describe};
use crate::driver::Incoming;
use crate::shapes;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A tool as listed by the server.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolUnderTest {
    /// Its name.
    pub name: String,
    /// Its `inputSchema`.
    pub schema: Value,
    /// Its `annotations`, if listed.
    pub annotations: Option<Value>,
}

impl ToolUnderTest {
    /// The tools of a `tools/list` answer (tools without a name or schema are left out).
    pub fn from_list(tools: &[Value]) -> Vec<ToolUnderTest> {
        tools
            .iter()
            .filter_map(|t| {
                Some(ToolUnderTest {
                    name: t.get("name")?.as_str()?.to_string(),
                    schema: t.get("inputSchema")?.clone(),
                    annotations: t.get("annotations").cloned(),
                })
            })
            .collect()
    }

    fn hint(&self, name: &str) -> Option<bool> {
        self.annotations.as_ref()?.get(name)?.as_bool()
    }

    /// `readOnlyHint: true`.
    pub fn is_read_only(&self) -> bool {
        self.hint("readOnlyHint") == Some(true)
    }

    /// Read-only, or explicitly not destructive (`destructiveHint: false`). A tool whose
    /// annotations say neither is taken for destructive, as the MCP defaults say.
    pub fn is_safe(&self) -> bool {
        self.is_read_only() || self.hint("destructiveHint") == Some(false)
    }
}

/// How answers are judged.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Refusals of valid arguments that are allowed.
    pub refusals: Refusals,
    /// When set, an `isError` result must hold the Alloy error shape with one of these statuses.
    pub upstream_statuses: Option<Vec<u16>>,
    /// Whether a near-miss's refusal must carry the field exactly as `data.field`
    /// (`statuses[0].name`); otherwise naming it in `data.field` or the message in any usual
    /// form is enough.
    pub exact_field: bool,
    /// Upstream requests `(method, path)` that do not count as calling the API.
    pub exempt: Vec<(String, String)>,
    /// Reset the mock after every call of a tool that is not safe.
    pub reset_after_unsafe: bool,
}

/// What the calls got, for the case counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Valid arguments answered with a successful result.
    pub results: u32,
    /// Valid arguments answered with an `isError` result, by upstream status (0: none given).
    pub tool_errors: BTreeMap<u16, u32>,
    /// Valid arguments refused by a named rule, by the rule's field.
    pub refused_by_rule: BTreeMap<String, u32>,
    /// Near-misses refused as JSON-RPC `-32602`.
    pub near_misses_refused_by_error: u32,
    /// Near-misses refused as `isError` results.
    pub near_misses_refused_by_result: u32,
}

fn text_of(result: &Value) -> String {
    result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

fn short(v: &Value) -> String {
    crate::driver::shorten(&v.to_string(), 400)
}

/// Violations among what arrived besides the answer: anything that is not a JSON-RPC message
/// from the server, and answers to requests the harness did not make.
pub fn strays(others: &[Incoming]) -> Vec<String> {
    others
        .iter()
        .filter_map(|i| match i {
            Incoming::Message(m) if m.get("method").is_some() && m.get("jsonrpc") == Some(&json!("2.0")) => None,
            Incoming::Message(m) if m.get("id").is_some() => Some(format!("an answer nobody waited for: {}", short(m))),
            other => Some(format!("not a JSON-RPC message: {}", describe(other))),
        })
        .collect()
}

/// Calls `tool` with valid arguments.
pub struct ValidCalls<'a> {
    /// The server.
    pub conn: &'a mut Conn,
    /// The tool.
    pub tool: &'a ToolUnderTest,
    /// How answers are judged.
    pub rules: &'a Rules,
    /// What the calls got.
    pub stats: &'a mut CallStats,
}

/// Calls `tool` with near-misses.
pub struct NearMissCalls<'a> {
    /// The server.
    pub conn: &'a mut Conn,
    /// The tool.
    pub tool: &'a ToolUnderTest,
    /// How answers are judged.
    pub rules: &'a Rules,
    /// What the calls got.
    pub stats: &'a mut CallStats,
}

/// `tools/call` of `tool` with `arguments`: the answer and the negotiated revision, or why
/// there is none (the session is then dropped, so the next case starts a new one).
async fn call(conn: &mut Conn, tool: &str, arguments: &Value) -> Result<(super::session::Answered, String), String> {
    let session = conn
        .session()
        .await
        .map_err(|e| format!("cannot open a session: {e}"))?;
    let version = session.negotiated().to_string();
    match session
        .request("tools/call", Some(json!({"name": tool, "arguments": arguments})))
        .await
    {
        Ok(a) => Ok((a, version)),
        Err(e) => {
            let diagnostics = session.diagnostics();
            conn.reset_session().await;
            Err(format!("no answer to the tools/call: {e}\n{diagnostics}"))
        }
    }
}

async fn after_call(conn: &Conn, tool: &ToolUnderTest, rules: &Rules) -> Option<String> {
    if rules.reset_after_unsafe && !tool.is_safe() {
        return crate::runner::reset_mock(&conn.target.mock)
            .await
            .err()
            .map(|e| format!("cannot reset the mock API: {e:#}"));
    }
    None
}

/// What is wrong with a `tools/call` answer whatever the arguments were: messages that
/// answer nothing we sent, and an answer that breaks the revision's schema.
fn framing_problems(answered: &super::session::Answered, version: &str) -> Vec<String> {
    let mut v = strays(&answered.others);
    v.extend(
        shapes::check_message(Some(version), Some("tools/call"), &answered.answer)
            .into_iter()
            .map(|p| format!("the answer breaks the {version} schema: {p}")),
    );
    v
}

impl Check<Value> for ValidCalls<'_> {
    async fn check(&mut self, arguments: &Value) -> Verdict {
        let outcome = call(self.conn, &self.tool.name, arguments).await;
        let mut v = Vec::new();
        match outcome {
            Err(e) => v.push(e),
            Ok((answered, version)) => {
                v.extend(framing_problems(&answered, &version));
                v.extend(judge_valid(&answered.answer, self.tool, self.rules, self.stats));
            }
        }
        v.extend(after_call(self.conn, self.tool, self.rules).await);
        if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v) }
    }

    fn describe(&self, arguments: &Value) -> String {
        format!("tools/call {} {arguments}", self.tool.name)
    }
}

/// The violations of the answer to valid arguments.
pub fn judge_valid(answer: &Value, tool: &ToolUnderTest, rules: &Rules, stats: &mut CallStats) -> Vec<String> {
    if let Some(err) = answer.get("error") {
        let code = err.get("code").and_then(Value::as_i64);
        let field = err.pointer("/data/field").and_then(Value::as_str);
        if code == Some(-32602)
            && let Some(rule) = field.and_then(|f| rules.refusals.allowing(&tool.name, f))
        {
            *stats.refused_by_rule.entry(rule.field.clone()).or_default() += 1;
            return Vec::new();
        }
        return vec![format!("schema-valid arguments were refused: {}", short(err))];
    }
    let Some(result) = answer.get("result") else {
        return vec![format!("neither result nor error: {}", short(answer))];
    };
    if result.get("isError") != Some(&Value::Bool(true)) {
        stats.results += 1;
        return Vec::new();
    }
    let text = text_of(result);
    let Some(statuses) = &rules.upstream_statuses else {
        *stats.tool_errors.entry(0).or_default() += 1;
        return if text.trim().is_empty() {
            vec![format!("an isError result without any text: {}", short(result))]
        } else {
            Vec::new()
        };
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let status = body.get("status").and_then(Value::as_u64);
    let code = body.pointer("/error/code").and_then(Value::as_str).unwrap_or_default();
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // From 2025-11-25 on a refusal of arguments may come as a result (code `invalid_argument`,
    // the field in `details.field`); a named rule allows it as it allows a -32602.
    let refused_field = body.pointer("/error/details/field").and_then(Value::as_str);
    if status.is_none()
        && code == "invalid_argument"
        && let Some(rule) = refused_field.and_then(|f| rules.refusals.allowing(&tool.name, f))
    {
        *stats.refused_by_rule.entry(rule.field.clone()).or_default() += 1;
        return Vec::new();
    }
    let Some(status) = status.and_then(|s| u16::try_from(s).ok()) else {
        return vec![format!(
            "an isError result without an upstream status: {}",
            crate::driver::shorten(&text, 400)
        )];
    };
    *stats.tool_errors.entry(status).or_default() += 1;
    let mut v = Vec::new();
    if !statuses.contains(&status) {
        v.push(format!(
            "upstream status {status} is not one schema-valid arguments may meet ({statuses:?}): {}",
            crate::driver::shorten(&text, 400)
        ));
    }
    if code.is_empty() || message.is_empty() {
        v.push(format!(
            "an isError result without the API's reason (error.code and error.message): {}",
            crate::driver::shorten(&text, 400)
        ));
    }
    v
}

impl Check<NearMiss> for NearMissCalls<'_> {
    async fn check(&mut self, near: &NearMiss) -> Verdict {
        let mock = self.conn.target.mock.clone();
        mock.take_journal();
        let outcome = call(self.conn, &self.tool.name, &near.value).await;
        let called: Vec<String> = mock
            .take_journal()
            .into_iter()
            .filter(|e| !self.rules.exempt.iter().any(|(m, p)| *m == e.method && *p == e.path))
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        let mut v = Vec::new();
        if !called.is_empty() {
            v.push(format!(
                "the API was called for arguments that break the schema: {}",
                called.join(", ")
            ));
        }
        match outcome {
            Err(e) => v.push(e),
            Ok((answered, version)) => {
                v.extend(framing_problems(&answered, &version));
                v.extend(judge_near_miss(
                    &answered.answer,
                    near,
                    &version,
                    self.rules,
                    self.stats,
                ));
            }
        }
        v.extend(after_call(self.conn, self.tool, self.rules).await);
        if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v) }
    }

    fn describe(&self, near: &NearMiss) -> String {
        format!(
            "tools/call {} {}  ({} at `{}`)",
            self.tool.name,
            near.value,
            near.mutation,
            near.field.dotted()
        )
    }
}

/// Whether a refusal names `near`'s field: exactly as `data.field`, or (loosely) in `data.field`
/// or `text` as a dotted path, a JSON pointer or the member's own name.
fn names_field(near: &NearMiss, data_field: Option<&str>, text: &str, exact: bool) -> bool {
    let dotted = near.field.dotted();
    if exact {
        return data_field == Some(dotted.as_str()) || (data_field.is_none() && text.contains(&dotted));
    }
    let pointer = near.field.pointer();
    let leaf = near
        .field
        .leaf()
        .map(str::to_string)
        .or_else(|| near.field.parent().leaf().map(str::to_string))
        .unwrap_or_default();
    let forms = [dotted.as_str(), pointer.as_str(), leaf.as_str()];
    data_field.is_some_and(|f| forms.contains(&f)) || forms.iter().any(|f| !f.is_empty() && text.contains(f))
}

/// The violations of the answer to a near-miss at revision `version`.
pub fn judge_near_miss(
    answer: &Value,
    near: &NearMiss,
    version: &str,
    rules: &Rules,
    stats: &mut CallStats,
) -> Vec<String> {
    let field = near.field.dotted();
    if let Some(err) = answer.get("error") {
        let code = err.get("code").and_then(Value::as_i64);
        if code != Some(-32602) {
            return vec![format!(
                "arguments that break the schema were refused with code {} instead of -32602: {}",
                code.map_or("(none)".into(), |c| c.to_string()),
                short(err)
            )];
        }
        let data_field = err.pointer("/data/field").and_then(Value::as_str);
        let message = err.get("message").and_then(Value::as_str).unwrap_or_default();
        if !names_field(near, data_field, message, rules.exact_field) {
            return vec![format!(
                "the refusal does not name the field `{field}` ({}): {}",
                near.mutation,
                short(err)
            )];
        }
        stats.near_misses_refused_by_error += 1;
        return Vec::new();
    }
    let Some(result) = answer.get("result") else {
        return vec![format!("neither result nor error: {}", short(answer))];
    };
    if result.get("isError") != Some(&Value::Bool(true)) {
        return vec![format!(
            "arguments that break the schema ({} at `{field}`) were accepted: {}",
            near.mutation,
            short(result)
        )];
    }
    if !shapes::version_at_least(version, "2025-11-25") {
        return vec![format!(
            "an isError result instead of a -32602 error (a client of {version} gets argument errors as JSON-RPC errors): {}",
            short(result)
        )];
    }
    let text = text_of(result);
    if !names_field(near, None, &text, rules.exact_field) {
        return vec![format!(
            "the isError result does not name the field `{field}` ({}): {}",
            near.mutation,
            crate::driver::shorten(&text, 400)
        )];
    }
    stats.near_misses_refused_by_result += 1;
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::schema::{FieldPath, Mutation, Seg};

    fn near(field: &[&str]) -> NearMiss {
        NearMiss {
            value: json!({}),
            field: FieldPath(field.iter().map(|f| Seg::Key(f.to_string())).collect()),
            mutation: Mutation::WrongType,
        }
    }

    fn tool() -> ToolUnderTest {
        ToolUnderTest {
            name: "log_time".into(),
            schema: json!({}),
            annotations: Some(json!({"readOnlyHint": false, "destructiveHint": false})),
        }
    }

    #[test]
    fn near_misses_must_be_refused_naming_their_field_in_the_form_the_revision_allows() {
        let strict = Rules {
            exact_field: true,
            ..Rules::default()
        };
        let mut stats = CallStats::default();
        let n = near(&["statuses", "name"]);
        let refused = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "x",
            "data": {"field": "statuses.name"}}});
        assert!(judge_near_miss(&refused, &n, "2025-06-18", &strict, &mut stats).is_empty());
        let elsewhere = json!({"error": {"code": -32602, "message": "x", "data": {"field": "other"}}});
        assert_eq!(
            judge_near_miss(&elsewhere, &n, "2025-06-18", &strict, &mut stats).len(),
            1
        );
        let wrong_code = json!({"error": {"code": -32603, "message": "statuses.name"}});
        assert_eq!(
            judge_near_miss(&wrong_code, &n, "2025-06-18", &strict, &mut stats).len(),
            1
        );
        let as_result =
            json!({"result": {"isError": true, "content": [{"type": "text", "text": "bad `statuses.name`"}]}});
        assert_eq!(
            judge_near_miss(&as_result, &n, "2025-06-18", &strict, &mut stats).len(),
            1
        );
        assert!(judge_near_miss(&as_result, &n, "2025-11-25", &strict, &mut stats).is_empty());
        let accepted = json!({"result": {"content": []}});
        assert_eq!(
            judge_near_miss(&accepted, &n, "2025-11-25", &strict, &mut stats).len(),
            1
        );
        let loose = Rules::default();
        let by_name = json!({"error": {"code": -32602, "message": "`name` must be a string"}});
        assert!(judge_near_miss(&by_name, &n, "2025-06-18", &loose, &mut stats).is_empty());
        assert_eq!(
            judge_near_miss(&by_name, &n, "2025-06-18", &strict, &mut stats).len(),
            1
        );
        assert_eq!(
            (stats.near_misses_refused_by_error, stats.near_misses_refused_by_result),
            (2, 1)
        );
    }

    #[test]
    fn valid_arguments_may_meet_named_rules_and_upstream_errors_with_a_status_and_reason() {
        let rules = Rules {
            refusals: Refusals::parse("log_time minutes|hours {\"ticket_id\": \"WEB-1\"}  # exactly one\n")
                .expect("parses"),
            upstream_statuses: Some(vec![400, 404]),
            ..Rules::default()
        };
        let mut stats = CallStats::default();
        let t = tool();
        let ruled = json!({"error": {"code": -32602, "message": "x", "data": {"field": "minutes|hours"}}});
        assert!(judge_valid(&ruled, &t, &rules, &mut stats).is_empty());
        let unruled = json!({"error": {"code": -32602, "message": "x", "data": {"field": "hours"}}});
        assert_eq!(judge_valid(&unruled, &t, &rules, &mut stats).len(), 1);
        let not_found = json!({"result": {"isError": true, "content": [{"type": "text",
            "text": "{\"status\":404,\"error\":{\"code\":\"not_found\",\"message\":\"no such ticket\"}}"}]}});
        assert!(judge_valid(&not_found, &t, &rules, &mut stats).is_empty());
        let server_error = json!({"result": {"isError": true, "content": [{"type": "text",
            "text": "{\"status\":500,\"error\":{\"code\":\"internal\",\"message\":\"boom\"}}"}]}});
        assert_eq!(judge_valid(&server_error, &t, &rules, &mut stats).len(), 1);
        let ruled_result = json!({"result": {"isError": true, "content": [{"type": "text",
            "text": "{\"status\":null,\"error\":{\"code\":\"invalid_argument\",\"message\":\"x\",\"details\":{\"field\":\"minutes|hours\"}}}"}]}});
        assert!(judge_valid(&ruled_result, &t, &rules, &mut stats).is_empty());
        let unruled_result = json!({"result": {"isError": true, "content": [{"type": "text",
            "text": "{\"status\":null,\"error\":{\"code\":\"invalid_argument\",\"message\":\"x\",\"details\":{\"field\":\"hours\"}}}"}]}});
        assert_eq!(judge_valid(&unruled_result, &t, &rules, &mut stats).len(), 1);
        let no_status = json!({"result": {"isError": true, "content": [{"type": "text", "text": "failed"}]}});
        assert_eq!(judge_valid(&no_status, &t, &rules, &mut stats).len(), 1);
        assert!(judge_valid(&json!({"result": {"content": []}}), &t, &rules, &mut stats).is_empty());
        assert_eq!(stats.results, 1);
        assert_eq!(stats.refused_by_rule.get("minutes|hours"), Some(&2));
    }

    #[test]
    fn tools_are_safe_only_when_their_annotations_say_so() {
        let with = |a: Option<Value>| ToolUnderTest {
            name: "t".into(),
            schema: json!({}),
            annotations: a,
        };
        assert!(with(Some(json!({"readOnlyHint": true}))).is_safe());
        assert!(with(Some(json!({"readOnlyHint": false, "destructiveHint": false}))).is_safe());
        assert!(!with(Some(json!({"readOnlyHint": false}))).is_safe());
        assert!(!with(Some(json!({"destructiveHint": true}))).is_safe());
        assert!(!with(None).is_safe());
    }
}
