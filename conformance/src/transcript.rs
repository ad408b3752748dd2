//! Transcripts: what one scenario run looked like on the wire, as JSON. Each exchange holds the
//! frame sent, every frame received while waiting, and the upstream HTTP requests the server
//! made meanwhile (from the mock API's journal). [`normalize`] is the ONE place where volatile
//! values become stable placeholders, so the same run gives the same transcript on every
//! machine and over every transport, and where secrets leave it (Alloy API keys, and the
//! members a scenario names in `redact`). [`diff`] renders expected against actual. The
//! placeholders are defined here too: [`normalize_message`] puts one live message in the same
//! terms, [`same_unnumbered`] compares values whatever the placeholders' numbers, and
//! [`denormalize`] turns placeholders back into well-formed values (for `replay`).
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
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One case on the wire: the file body of an expected transcript.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// Scenario id, `<category>/<tool>__<case>`.
    pub scenario: String,
    /// The scenario's description.
    pub description: String,
    /// What happened, in order.
    pub exchanges: Vec<Exchange>,
}

/// One entry of a transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Exchange {
    /// A clean `initialize` + `notifications/initialized`, recorded compactly.
    Handshake {
        /// What was asked and what the server chose.
        handshake: Handshake,
    },
    /// A clean `server/discover` before the steps of a stateless-era case, recorded compactly.
    Discover {
        /// What was asked and what the server offers.
        discover: Discover,
    },
    /// Something that happened to the case rather than on the wire.
    Event(CaseEvent),
    /// A frame sent, what came back while waiting, and the upstream requests meanwhile.
    Frame(FrameExchange),
}

/// The compact record of a clean handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handshake {
    /// `protocolVersion` of the harness's `initialize`.
    pub requested: String,
    /// `protocolVersion` of the server's answer.
    pub negotiated: String,
}

/// The compact record of a clean `server/discover`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discover {
    /// The version the harness asked with (in `_meta`).
    pub requested: String,
    /// `supportedVersions` of the answer.
    pub supported: Vec<String>,
}

/// Events of the case itself, `{"event": "<name>", …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseEvent {
    /// The mock API could not be started or reset; nothing was played.
    SetupFailed,
    /// The server could not be started or reached.
    ConnectFailed,
    /// The `tools/list` needed for argument checks failed; the steps were not played.
    ToolsListFailed,
    /// A step ended the case early (timeout, closed connection).
    Aborted {
        /// Steps not played.
        skipped_steps: usize,
    },
}

/// A frame sent and what followed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameExchange {
    /// What was sent.
    #[serde(flatten)]
    pub sent: Sent,
    /// Everything received while waiting, in arrival order.
    pub recv: Vec<Received>,
    /// The mock API's journal of the upstream requests the server made meanwhile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<Value>,
}

/// What a step sent: `send` (a JSON value), `send_raw` (text) or `send_oversized`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sent {
    /// A JSON value, sent compactly.
    Send(Value),
    /// Text sent verbatim.
    SendRaw(String),
    /// `message` padded with a `padding` member to `bytes`.
    SendOversized {
        /// Frame size in bytes.
        bytes: usize,
        /// The message before padding.
        message: Value,
    },
}

/// One received item: a JSON message, or an event of the transport.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Received {
    /// A JSON value from the server (a message, or whatever JSON it sent).
    Message(Value),
    /// Something that was not a JSON message.
    Event(ReceivedEvent),
}

/// Received items that are not JSON messages, `{"event": "<name>", …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReceivedEvent {
    /// A frame that was not JSON.
    Unparsable {
        /// The text (shortened).
        text: String,
    },
    /// An HTTP answer that carried no JSON-RPC message.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The body (shortened).
        body: String,
    },
    /// A transport failure while reading (its message depends on the HTTP stack, so only the
    /// fact is kept).
    TransportError,
    /// The server ended the connection.
    Closed,
    /// Nothing came within the limit.
    Timeout,
}

impl<'de> Deserialize<'de> for Received {
    /// An object with `event` and without `jsonrpc` is an event; anything else is a message.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Received, D::Error> {
        let v = Value::deserialize(d)?;
        let is_event = v
            .as_object()
            .is_some_and(|m| m.contains_key("event") && !m.contains_key("jsonrpc"));
        if is_event {
            serde_json::from_value(v)
                .map(Received::Event)
                .map_err(serde::de::Error::custom)
        } else {
            Ok(Received::Message(v))
        }
    }
}

impl From<&Incoming> for Received {
    fn from(i: &Incoming) -> Received {
        match i {
            Incoming::Message(v) => Received::Message(v.clone()),
            Incoming::Unparsable(t) => Received::Event(ReceivedEvent::Unparsable { text: t.clone() }),
            Incoming::HttpStatus { status, body } => Received::Event(ReceivedEvent::HttpStatus {
                status: *status,
                body: body.clone(),
            }),
            Incoming::TransportError(_) => Received::Event(ReceivedEvent::TransportError),
            Incoming::Closed => Received::Event(ReceivedEvent::Closed),
        }
    }
}

impl Received {
    /// The JSON message, if this is one.
    pub fn message(&self) -> Option<&Value> {
        match self {
            Received::Message(v) => Some(v),
            Received::Event(_) => None,
        }
    }

    /// Whether this is the `closed` event.
    pub fn is_closed(&self) -> bool {
        matches!(self, Received::Event(ReceivedEvent::Closed))
    }
}

impl Transcript {
    /// A new, empty transcript.
    pub fn new(scenario: &str, description: &str) -> Transcript {
        Transcript {
            scenario: scenario.to_string(),
            description: description.to_string(),
            exchanges: Vec::new(),
        }
    }

    /// The JSON form (the body of an expected file).
    pub fn to_value(&self) -> Value {
        // Every member is a string, a number or a JSON value: serialization cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads the JSON form.
    pub fn from_value(v: Value) -> serde_json::Result<Transcript> {
        serde_json::from_value(v)
    }

    /// Every frame exchange, in order.
    pub fn frames(&self) -> impl Iterator<Item = &FrameExchange> {
        self.exchanges.iter().filter_map(|e| match e {
            Exchange::Frame(f) => Some(f),
            _ => None,
        })
    }
}

struct Patterns {
    uuid: Regex,
    deterministic_uuid: Regex,
    timestamp: Regex,
    port: Regex,
    session_param: Regex,
    api_key: Regex,
    numbered: Regex,
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
            // An Alloy API key: its prefix and at least 20 more characters (the 15-character
            // public prefix the mock journals, `alloy_test_Ownr`, is not a key).
            api_key: re(r"\balloy_(?:live|test)_[A-Za-z0-9]{20,}"),
            numbered: re(r"<(uuid|ts|key|server-request)-[0-9]+>"),
        }
    })
}

/// The placeholder of a redacted value.
pub const REDACTED: &str = "<redacted>";

#[derive(Default)]
struct Names<'r> {
    uuids: HashMap<String, usize>,
    times: HashMap<String, usize>,
    keys: HashMap<String, usize>,
    /// Object members whose values become [`REDACTED`].
    redact: &'r [String],
    /// Only keys and redacted members change (see [`scrub_secrets`]).
    secrets_only: bool,
}

impl Names<'_> {
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

    fn key(&mut self, raw: &str) -> String {
        if let Some((_, role)) = crate::seeded::seeded_key_names().iter().find(|(k, _)| k == raw) {
            return format!("<key:{role}>");
        }
        let n = self.keys.len() + 1;
        format!("<key-{}>", self.keys.entry(raw.to_string()).or_insert(n))
    }

    fn string(&mut self, s: &str) -> String {
        let p = patterns();
        let s = p.api_key.replace_all(s, |c: &regex::Captures<'_>| self.key(&c[0]));
        if self.secrets_only {
            return s.into_owned();
        }
        let s = p.timestamp.replace_all(&s, |c: &regex::Captures<'_>| self.time(&c[0]));
        let s = p.uuid.replace_all(&s, |c: &regex::Captures<'_>| self.uuid(&c[0]));
        let s = p.port.replace_all(&s, "$1:<port>");
        let s = p.session_param.replace_all(&s, "${1}<session>");
        s.into_owned()
    }

    fn replace(&mut self, s: &mut String) {
        *s = self.string(s);
    }

    fn walk(&mut self, v: &mut Value) {
        match v {
            Value::String(s) => {
                self.redact_inside(s);
                *s = self.string(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.walk(i)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut val) in old {
                    let lower = k.to_ascii_lowercase();
                    if self.redact.contains(&k) {
                        val = Value::String(REDACTED.into());
                    } else if (lower == "mcp-session-id" || lower == "sessionid")
                        && val.is_string()
                        && !self.secrets_only
                    {
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

    /// A string holding a JSON object or array (a tool's text content) with a member to
    /// redact is rewritten with the value redacted; other strings are left alone.
    fn redact_inside(&self, s: &mut String) {
        if self.redact.is_empty() || !s.trim_start().starts_with(['{', '[']) {
            return;
        }
        let Ok(mut inner) = serde_json::from_str::<Value>(s) else {
            return;
        };
        if redact_members(&mut inner, self.redact) {
            *s = inner.to_string();
        }
    }

    /// The upstream record's query pairs (`[[name, value], …]`) named in `redact`.
    fn redact_query(&self, entry: &mut Value) {
        if let Some(pairs) = entry.get_mut("query").and_then(Value::as_array_mut) {
            for pair in pairs {
                if let Some([name, value]) = pair.as_array_mut().map(Vec::as_mut_slice)
                    && name.as_str().is_some_and(|n| self.redact.iter().any(|r| r == n))
                {
                    *value = Value::String(REDACTED.into());
                }
            }
        }
    }
}

/// Replaces the values of members named in `names` anywhere in `v`; whether anything changed.
fn redact_members(v: &mut Value, names: &[String]) -> bool {
    match v {
        Value::Object(m) => {
            let mut changed = false;
            for (k, val) in m.iter_mut() {
                if names.contains(k) {
                    changed |= *val != Value::String(REDACTED.into());
                    *val = Value::String(REDACTED.into());
                } else {
                    changed |= redact_members(val, names);
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| redact_members(i, names) | c),
        _ => false,
    }
}

/// THE normalization of a transcript: identity lookups leave the upstream record (see
/// `drop_identity_lookups`); ids of requests the server sent become `<server-request-N>`;
/// random UUIDs become `<uuid-N>` and RFC 3339 timestamps `<ts-N>`, numbered by first
/// appearance in file order so equal values stay equal (UUIDs of the deterministic mock,
/// `00000000-0000-4000-8000-…`, are kept); loopback ports become `<port>`; session ids become
/// `<session>`; Alloy API keys (`alloy_live_`/`alloy_test_` and at least 20 more letters or
/// digits) become `<key:ROLE>` for the keys of the bundled seed (see [`seeded_key_names`]) and
/// `<key-N>` for any other, so no key reaches an expected file. Object keys inside messages
/// are normalized like strings. Idempotent.
pub fn normalize(transcript: &Transcript) -> Transcript {
    normalize_redacting(transcript, &[])
}

/// [`normalize`], and the values of object members named in `redact` (anywhere in messages,
/// in JSON held by a string such as a tool's text content, in upstream bodies and query
/// parameters) become [`REDACTED`]: a scenario's `redact` list, which `record --redact` writes.
pub fn normalize_redacting(transcript: &Transcript, redact: &[String]) -> Transcript {
    let mut t = transcript.clone();
    let mut server_requests = 0usize;
    for ex in &mut t.exchanges {
        let Exchange::Frame(frame) = ex else { continue };
        drop_identity_lookups(&mut frame.upstream);
        for item in &mut frame.recv {
            let Received::Message(Value::Object(obj)) = item else {
                continue;
            };
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
    // Strings are renamed in the order they stand in the file, so numbering is stable.
    let mut names = Names {
        redact,
        ..Names::default()
    };
    let Transcript {
        scenario,
        description,
        exchanges,
    } = &mut t;
    names.replace(scenario);
    names.replace(description);
    for ex in exchanges {
        match ex {
            Exchange::Handshake { handshake } => {
                names.replace(&mut handshake.requested);
                names.replace(&mut handshake.negotiated);
            }
            Exchange::Discover { discover } => {
                names.replace(&mut discover.requested);
                discover.supported.iter_mut().for_each(|s| names.replace(s));
            }
            Exchange::Event(_) => {}
            Exchange::Frame(frame) => {
                match &mut frame.sent {
                    Sent::Send(v) => names.walk(v),
                    Sent::SendRaw(text) => names.replace(text),
                    Sent::SendOversized { message, .. } => names.walk(message),
                }
                for item in &mut frame.recv {
                    match item {
                        Received::Message(v) => names.walk(v),
                        Received::Event(ReceivedEvent::Unparsable { text }) => names.replace(text),
                        Received::Event(ReceivedEvent::HttpStatus { body, .. }) => names.replace(body),
                        Received::Event(_) => {}
                    }
                }
                for u in &mut frame.upstream {
                    names.redact_query(u);
                    names.walk(u);
                }
            }
        }
    }
    t
}

/// One message on its own in the terms of [`normalize_redacting`] (placeholders numbered
/// within the message): to compare a live message with a recorded one through
/// [`same_unnumbered`].
pub fn normalize_message(message: &Value, redact: &[String]) -> Value {
    let mut names = Names {
        redact,
        ..Names::default()
    };
    let mut v = message.clone();
    names.walk(&mut v);
    v
}

/// `message` with only its secrets replaced the way [`normalize_redacting`] replaces them (API
/// keys, members named in `redact`) and every other value as it was: a client frame as a
/// recorded scenario keeps it, so that `run` sends what the client sent.
pub fn scrub_secrets(message: &Value, redact: &[String]) -> Value {
    let mut names = Names {
        redact,
        secrets_only: true,
        ..Names::default()
    };
    let mut v = message.clone();
    names.walk(&mut v);
    v
}

/// `s` with the numbers of its placeholders removed (`<uuid-3>` → `<uuid>`, `<ts-1>` → `<ts>`,
/// `<key-2>` → `<key>`, `<server-request-4>` → `<server-request>`).
pub fn unnumbered(s: &str) -> std::borrow::Cow<'_, str> {
    patterns().numbered.replace_all(s, "<$1>")
}

/// Whether two normalized values are equal once placeholders lose their numbers: the same
/// shape and the same kind of volatile value in the same places, whichever values they were.
pub fn same_unnumbered(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y || unnumbered(x) == unnumbered(y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_unnumbered(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_unnumbered(v, w)))
        }
        _ => a == b,
    }
}

/// What [`denormalize`] puts for the placeholders that name where the server is.
#[derive(Clone, Debug, Default)]
pub struct Serving {
    /// The port for `<port>` (kept as the placeholder when `None`).
    pub port: Option<u16>,
    /// The session id for `<session>` (kept when `None`).
    pub session: Option<String>,
}

/// A normalized value made well-formed again: `<ts-N>` becomes the RFC 3339 timestamp
/// `2000-01-01T00:00:00.000Z` plus N seconds, `<uuid-N>` the UUID
/// `ffffffff-ffff-4fff-bfff-<N as 12 hex digits>` (never one of the deterministic mock's), both
/// distinct for distinct N so that [`normalize`] numbers them back the same way; `<port>` and
/// `<session>` as `serving` says. Keys, [`REDACTED`] and `<server-request-N>` stay: a secret is
/// not given back, and a placeholder id is a valid JSON-RPC id.
pub fn denormalize(v: &Value, serving: &Serving) -> Value {
    match v {
        Value::String(s) => Value::String(denormalize_str(s, serving)),
        Value::Array(items) => Value::Array(items.iter().map(|i| denormalize(i, serving)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (denormalize_str(k, serving), denormalize(v, serving)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn denormalize_str(s: &str, serving: &Serving) -> String {
    if !s.contains('<') {
        return s.to_string();
    }
    let out = patterns().numbered.replace_all(s, |c: &regex::Captures<'_>| {
        let n: u64 = c[0]
            .trim_end_matches('>')
            .rsplit('-')
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        match &c[1] {
            "ts" => format!(
                "2000-01-{:02}T{:02}:{:02}:{:02}.000Z",
                1 + (n / 86_400) % 28,
                n / 3600 % 24,
                n / 60 % 60,
                n % 60
            ),
            "uuid" => format!("ffffffff-ffff-4fff-bfff-{:012x}", n & 0xffff_ffff_ffff),
            _ => c[0].to_string(),
        }
    });
    let mut out = out.into_owned();
    if let Some(port) = serving.port {
        out = out.replace("<port>", &port.to_string());
    }
    if let Some(session) = &serving.session {
        out = out.replace("<session>", session);
    }
    out
}

/// Identity lookups (`GET /api/v1/auth/me`) leave the upstream record: a server may make them
/// at start-up, once per session or per key behind a cache, so when they happen depends on the
/// transport and on timing, not on the step. (`whoami` still shows the identity in its answer.)
fn drop_identity_lookups(entries: &mut Vec<Value>) {
    entries.retain(|e| !(e.get("method") == Some(&json!("GET")) && e.get("path") == Some(&json!("/api/v1/auth/me"))));
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

    fn transcript(exchanges: Value) -> Transcript {
        Transcript::from_value(json!({"scenario": "a/b__c", "description": "d", "exchanges": exchanges}))
            .expect("a transcript")
    }

    #[test]
    fn volatile_values_become_numbered_placeholders() {
        let t = transcript(json!([{"send": {}, "recv": [
            {"jsonrpc": "2.0", "id": 7, "method": "roots/list"},
            {"text": "ticket 5A0F1A63-1C1B-4E4B-9A33-52B7C9B6A0D1 at 2026-04-01T12:00:00.000Z via http://127.0.0.1:41234/x?sessionId=abc",
             "other": "5a0f1a63-1c1b-4e4b-9a33-52b7c9b6a0d1",
             "kept": "00000000-0000-4000-8000-00000000000a",
             "Mcp-Session-Id": "f00"}
        ]}]));
        let n = normalize(&t);
        let v = n.to_value();
        let item = &v["exchanges"][0]["recv"][1];
        assert_eq!(v["exchanges"][0]["recv"][0]["id"], "<server-request-1>");
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
    fn api_keys_become_role_names_or_numbered_keys_and_named_members_are_redacted() {
        let (owner, role) = crate::seeded::seeded_key_names()
            .first()
            .cloned()
            .expect("the bundled seed has keys");
        assert_eq!(role, "Owner");
        let created = "alloy_live_00000000000000000000000000000007";
        let t = transcript(json!([{"send": {"params": {"password": "hunter2", "key": owner}},
            "recv": [{"result": {"text": format!("{{\"key\":\"{created}\",\"password\":\"p\",\"key_prefix\":\"alloy_live_0000\"}}")}}],
            "upstream": [{"query": [["password", "x"], ["limit", "5"]], "body": {"password": "y"}}]}]));
        let v = normalize_redacting(&t, &["password".to_string()]).to_value();
        let ex = &v["exchanges"][0];
        assert_eq!(
            ex["send"]["params"],
            json!({"password": REDACTED, "key": "<key:Owner>"})
        );
        assert_eq!(
            ex["recv"][0]["result"]["text"],
            "{\"key\":\"<key-1>\",\"password\":\"<redacted>\",\"key_prefix\":\"alloy_live_0000\"}"
        );
        assert_eq!(
            ex["upstream"][0]["query"],
            json!([["password", REDACTED], ["limit", "5"]])
        );
        assert_eq!(ex["upstream"][0]["body"]["password"], REDACTED);
        // Without a `redact` list only keys change.
        let plain = normalize(&t).to_value();
        assert_eq!(plain["exchanges"][0]["send"]["params"]["password"], "hunter2");
        let scrubbed = scrub_secrets(
            &json!({"at": "2026-04-01T12:00:00Z", "k": created, "password": 1}),
            &["password".into()],
        );
        assert_eq!(
            scrubbed,
            json!({"at": "2026-04-01T12:00:00Z", "k": "<key-1>", "password": REDACTED})
        );
    }

    #[test]
    fn denormalized_values_are_well_formed_and_normalize_back_to_the_same_placeholders() {
        let recorded = json!({"a": "<uuid-2> at <ts-1>", "b": ["<ts-1>", "<uuid-1>", "<ts-90000>"],
            "url": "http://127.0.0.1:<port>/x?sessionId=<session>", "k": "<key:Owner>", "id": "<server-request-1>"});
        let serving = Serving {
            port: Some(4242),
            session: Some("s-1".into()),
        };
        let live = denormalize(&recorded, &serving);
        assert_eq!(
            live["a"],
            "ffffffff-ffff-4fff-bfff-000000000002 at 2000-01-01T00:00:01.000Z"
        );
        assert_eq!(live["b"][2], "2000-01-02T01:00:00.000Z");
        assert_eq!(live["url"], "http://127.0.0.1:4242/x?sessionId=s-1");
        assert_eq!((&live["k"], &live["id"]), (&recorded["k"], &recorded["id"]));
        let back = normalize_message(&live, &[]);
        assert!(same_unnumbered(&back, &recorded), "{back}");
        assert!(!same_unnumbered(&json!({"a": "<uuid-1>"}), &json!({"a": "<ts-1>"})));
    }

    #[test]
    fn identity_lookups_leave_the_upstream_record() {
        let me = json!({"method": "GET", "path": "/api/v1/auth/me", "status": 200});
        let other = json!({"method": "GET", "path": "/api/v1/projects", "status": 200});
        let t = transcript(json!([
            {"send": {}, "recv": [], "upstream": [me.clone()]},
            {"send": {}, "recv": [], "upstream": [me, other.clone()]},
        ]));
        let n = normalize(&t).to_value();
        assert!(n["exchanges"][0].get("upstream").is_none());
        assert_eq!(n["exchanges"][1]["upstream"], json!([other]));
    }

    #[test]
    fn every_kind_of_entry_reads_back_as_written() {
        let v = json!({"scenario": "a/b__c", "description": "d", "exchanges": [
            {"handshake": {"requested": "2025-06-18", "negotiated": "2025-06-18"}},
            {"discover": {"requested": "2026-07-28", "supported": ["2026-07-28"]}},
            {"send_raw": "{", "recv": [{"event": "unparsable", "text": "x"},
                {"event": "http_status", "status": 400, "body": "b"}, {"event": "transport_error"},
                {"event": "timeout"}, {"event": "closed"}, {"jsonrpc": "2.0", "id": 1, "result": {}}]},
            {"send_oversized": {"bytes": 10, "message": {"id": 1}}, "recv": [], "upstream": [{"method": "GET"}]},
            {"event": "aborted", "skipped_steps": 2},
            {"event": "connect_failed"},
        ]});
        let t = Transcript::from_value(v.clone()).expect("reads");
        assert!(matches!(
            t.exchanges[2],
            Exchange::Frame(FrameExchange {
                sent: Sent::SendRaw(_),
                ..
            })
        ));
        assert!(matches!(
            t.exchanges[4],
            Exchange::Event(CaseEvent::Aborted { skipped_steps: 2 })
        ));
        assert_eq!(t.to_value(), v);
        assert_eq!(serde_json::to_string(&t).expect("writes"), v.to_string());
    }

    #[test]
    fn the_diff_marks_expected_and_actual_lines() {
        let d = diff(&json!({"id": 1}), &json!({"id": 2}));
        assert!(d.contains("-  \"id\": 1") && d.contains("+  \"id\": 2"), "{d}");
        assert!(diff(&json!(1), &json!(1)).is_empty());
    }
}
