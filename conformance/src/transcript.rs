//! Transcripts: what one scenario run looked like on the wire, as JSON. Each exchange holds the
//! frame sent, every frame received while waiting, and the upstream HTTP requests the server
//! made meanwhile (from the mock API's journal). [`normalize`] is the ONE place where volatile
//! values become stable placeholders, so the same run gives the same transcript on every
//! machine and over every transport. [`diff`] renders expected against actual.
//!
//! Shape:
//!
//! ```json
//! {"scenario": "lifecycle/ping__after_initialize", "description": "…",
//!  "exchanges": [
//!    {"handshake": {"requested": "2025-06-18", "negotiated": "2025-06-18"}},
//!    {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_ticket", "arguments": {"ticket_id": "WEB-1"}}},
//!     "recv": [{"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "{…}"}], "isError": false}}],
//!     "upstream": [{"method": "GET", "path": "/api/v1/tickets/WEB-1", "query": [], "token_prefix": "alloy_test_Ownr", "body": null, "status": 200}]}
//!  ]}
//! ```
//!
//! A frame sent verbatim is `send_raw` (text), a padded one `send_oversized` (`bytes` and the
//! unpadded `message`). Received items that are not JSON are `{"event": "unparsable", "text"}`,
//! `{"event": "http_status", "status", "body"}`, `{"event": "transport_error"}`,
//! `{"event": "closed"}` or `{"event": "timeout"}`.

use crate::driver::Incoming;
use regex::Regex;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A transcript being recorded.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    scenario: String,
    description: String,
    exchanges: Vec<Value>,
}

impl Recorder {
    /// A new, empty transcript.
    pub fn new(scenario: &str, description: &str) -> Recorder {
        Recorder {
            scenario: scenario.to_string(),
            description: description.to_string(),
            exchanges: Vec::new(),
        }
    }

    /// Appends an exchange (built with [`exchange`]).
    pub fn push(&mut self, exchange: Value) {
        self.exchanges.push(exchange);
    }

    /// Mutable access to the last exchange (to append late arrivals).
    pub fn last_mut(&mut self) -> Option<&mut Value> {
        self.exchanges.last_mut()
    }

    /// The raw (not yet normalized) transcript.
    pub fn finish(self) -> Value {
        json!({
            "scenario": self.scenario,
            "description": self.description,
            "exchanges": self.exchanges,
        })
    }
}

/// One exchange: `sent` is the `send`/`send_raw`/`send_oversized` member pair.
pub fn exchange(sent: (&str, Value), recv: Vec<Value>, upstream: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert(sent.0.to_string(), sent.1);
    m.insert("recv".into(), Value::Array(recv));
    if !upstream.is_empty() {
        m.insert("upstream".into(), Value::Array(upstream));
    }
    Value::Object(m)
}

/// How a received item is written into a transcript.
pub fn incoming_value(i: &Incoming) -> Value {
    match i {
        Incoming::Message(v) => v.clone(),
        Incoming::Unparsable(t) => json!({"event": "unparsable", "text": t}),
        Incoming::HttpStatus { status, body } => json!({"event": "http_status", "status": status, "body": body}),
        // The message of a transport error depends on the HTTP stack, so only the fact is kept.
        Incoming::TransportError(_) => json!({"event": "transport_error"}),
        Incoming::Closed => json!({"event": "closed"}),
    }
}

/// The item recorded when an answer did not come in time.
pub fn timeout_value() -> Value {
    json!({"event": "timeout"})
}

struct Patterns {
    uuid: Regex,
    deterministic_uuid: Regex,
    timestamp: Regex,
    port: Regex,
    session_param: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // The patterns are literals of this file; the unit tests compile them.
        let re = |s: &str| Regex::new(s).expect("normalization patterns are valid");
        Patterns {
            uuid: re(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
            deterministic_uuid: re(r"^00000000-0000-4000-8000-[0-9a-f]{12}$"),
            timestamp: re(
                r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})",
            ),
            port: re(r"\b(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):[0-9]{1,5}\b"),
            session_param: re(r"(?i)\b(session_?id=)[^&\s]+"),
        }
    })
}

#[derive(Default)]
struct Names {
    uuids: HashMap<String, usize>,
    times: HashMap<String, usize>,
}

impl Names {
    fn uuid(&mut self, raw: &str) -> String {
        let key = raw.to_ascii_lowercase();
        if patterns().deterministic_uuid.is_match(&key) {
            // Ids of the deterministic mock are stable by construction and say which record it
            // is; they stay readable in snapshots.
            return key;
        }
        let n = self.uuids.len() + 1;
        format!("<uuid-{}>", self.uuids.entry(key).or_insert(n))
    }

    fn time(&mut self, raw: &str) -> String {
        let n = self.times.len() + 1;
        format!("<ts-{}>", self.times.entry(raw.to_string()).or_insert(n))
    }

    fn string(&mut self, s: &str) -> String {
        let p = patterns();
        let s = p.timestamp.replace_all(s, |c: &regex::Captures<'_>| self.time(&c[0]));
        let s = p.uuid.replace_all(&s, |c: &regex::Captures<'_>| self.uuid(&c[0]));
        let s = p.port.replace_all(&s, "$1:<port>");
        let s = p.session_param.replace_all(&s, "${1}<session>");
        s.into_owned()
    }

    fn walk(&mut self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.string(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.walk(i)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut val) in old {
                    let lower = k.to_ascii_lowercase();
                    if (lower == "mcp-session-id" || lower == "sessionid") && val.is_string() {
                        val = Value::String("<session>".into());
                    } else {
                        self.walk(&mut val);
                    }
                    m.insert(self.string(&k), val);
                }
            }
            _ => {}
        }
    }
}

/// THE normalization of a transcript (and of anything shaped like one): identity lookups leave
/// the upstream record (see `drop_identity_lookups`); ids of requests the server sent become
/// `<server-request-N>`; random UUIDs become `<uuid-N>` and RFC 3339
/// timestamps `<ts-N>`, numbered by first appearance so equal values stay equal (UUIDs of the
/// deterministic mock, `00000000-0000-4000-8000-…`, are kept); loopback ports become `<port>`;
/// session ids become `<session>`. Object keys are normalized like strings. Idempotent.
pub fn normalize(transcript: &Value) -> Value {
    let mut v = transcript.clone();
    let mut server_requests = 0usize;
    if let Some(exchanges) = v.get_mut("exchanges").and_then(Value::as_array_mut) {
        for ex in exchanges {
            if let Some(obj) = ex.as_object_mut() {
                drop_identity_lookups(obj);
            }
            let Some(recv) = ex.get_mut("recv").and_then(Value::as_array_mut) else {
                continue;
            };
            for item in recv {
                let Some(obj) = item.as_object_mut() else { continue };
                let is_request = obj.contains_key("method")
                    && obj
                        .get("id")
                        .is_some_and(|id| !id.as_str().is_some_and(|s| s.starts_with("<server-request-")));
                if is_request {
                    server_requests += 1;
                    obj.insert(
                        "id".into(),
                        Value::String(format!("<server-request-{server_requests}>")),
                    );
                }
            }
        }
    }
    let mut names = Names::default();
    names.walk(&mut v);
    v
}

/// Identity lookups (`GET /api/v1/auth/me`) leave the upstream record: a server may make them
/// at start-up, once per session or per key behind a cache, so when they happen depends on the
/// transport and on timing, not on the step. (`whoami` still shows the identity in its answer.)
fn drop_identity_lookups(exchange: &mut Map<String, Value>) {
    let Some(Value::Array(entries)) = exchange.get_mut("upstream") else {
        return;
    };
    entries.retain(|e| !(e.get("method") == Some(&json!("GET")) && e.get("path") == Some(&json!("/api/v1/auth/me"))));
    if entries.is_empty() {
        exchange.remove("upstream");
    }
}

/// A unified line diff of two JSON values, pretty-printed (`-` expected, `+` actual); empty
/// when they are equal.
pub fn diff(expected: &Value, actual: &Value) -> String {
    if expected == actual {
        return String::new();
    }
    let e = pretty(expected);
    let a = pretty(actual);
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Pretty JSON with a trailing newline (the form used in diffs and expected files).
pub fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_values_become_numbered_placeholders() {
        let t = json!({"exchanges": [{"recv": [
            {"jsonrpc": "2.0", "id": 7, "method": "roots/list"},
            {"text": "ticket 5A0F1A63-1C1B-4E4B-9A33-52B7C9B6A0D1 at 2026-04-01T12:00:00.000Z via http://127.0.0.1:41234/x?sessionId=abc",
             "other": "5a0f1a63-1c1b-4e4b-9a33-52b7c9b6a0d1",
             "kept": "00000000-0000-4000-8000-00000000000a",
             "Mcp-Session-Id": "f00"}
        ]}]});
        let n = normalize(&t);
        let item = &n["exchanges"][0]["recv"][1];
        assert_eq!(n["exchanges"][0]["recv"][0]["id"], "<server-request-1>");
        assert_eq!(
            item["text"],
            "ticket <uuid-1> at <ts-1> via http://127.0.0.1:<port>/x?sessionId=<session>"
        );
        assert_eq!(item["other"], "<uuid-1>");
        assert_eq!(item["kept"], "00000000-0000-4000-8000-00000000000a");
        assert_eq!(item["Mcp-Session-Id"], "<session>");
        assert_eq!(normalize(&n), n);
    }

    #[test]
    fn identity_lookups_leave_the_upstream_record() {
        let me = json!({"method": "GET", "path": "/api/v1/auth/me", "status": 200});
        let other = json!({"method": "GET", "path": "/api/v1/projects", "status": 200});
        let t = json!({"exchanges": [
            {"send": {}, "recv": [], "upstream": [me.clone()]},
            {"send": {}, "recv": [], "upstream": [me, other.clone()]},
        ]});
        let n = normalize(&t);
        assert!(n["exchanges"][0].get("upstream").is_none());
        assert_eq!(n["exchanges"][1]["upstream"], json!([other]));
    }

    #[test]
    fn the_diff_marks_expected_and_actual_lines() {
        let d = diff(&json!({"id": 1}), &json!({"id": 2}));
        assert!(d.contains("-  \"id\": 1") && d.contains("+  \"id\": 2"), "{d}");
        assert!(diff(&json!(1), &json!(1)).is_empty());
    }
}
