//! `alloy-conformance replay FILE`: serves a recording as an MCP server, so a client can be
//! tested with no Alloy API and no `alloy-mcp`: every request the client sends is looked up in
//! the recording and answered with what the server answered then, carrying the client's own
//! id. Over stdio ([`stdio`]) or HTTP ([`http`]: Streamable HTTP at `/mcp` and `/`, legacy
//! HTTP+SSE at `/sse`).
//!
//! Matching ([`Match`]): by method and params, ignoring `_meta` and ids, in any order
//! (`params`, the default; a request seen more often than recorded gets the last matching
//! answer again); in recorded order, same comparison (`sequence`; recorded notifications the
//! client does not send are skipped); or in recorded order comparing whole messages, ids and
//! `_meta` included (`strict`). Values the normalization replaced (UUIDs, timestamps, keys)
//! match any value of their kind. A request that matches nothing gets a JSON-RPC error
//! ([`UNMATCHED`]) saying what the recording expected instead. Placeholders in answers become
//! well-formed values again ([`crate::transcript::denormalize`]).

pub mod http;
pub mod stdio;

use crate::era::Era;
use crate::recording::{self, Recording};
use crate::transcript::{self, Exchange, Received, ReceivedEvent, Sent, Serving};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// The JSON-RPC error code of a request the recording does not hold (in the range the MCP
/// specification leaves to implementations, -32000 … -32019).
pub const UNMATCHED: i64 = -32010;

/// How requests are matched against the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Match {
    /// Method and params, ignoring `_meta` and ids, in any order.
    Params,
    /// Method and params, ignoring `_meta` and ids, in recorded order.
    Sequence,
    /// Whole messages (ids and `_meta` included), in recorded order.
    Strict,
}

impl Match {
    fn name(self) -> &'static str {
        match self {
            Match::Params => "params",
            Match::Sequence => "sequence",
            Match::Strict => "strict",
        }
    }
}

/// `alloy-conformance replay`.
#[derive(Clone, Debug, clap::Args)]
pub struct ReplayArgs {
    /// The recording: its scenario file (DIR/scenarios/<category>/<tool>__<case>.json) or its
    /// expected transcript (DIR/expected/<category>/<tool>__<case>.snap).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Serve on stdin/stdout (configure the client to start this command).
    #[arg(long, required_unless_present = "http", conflicts_with = "http")]
    pub stdio: bool,
    /// Serve Streamable HTTP (`/mcp`, `/`) and legacy SSE (`/sse`) on this loopback address.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// How requests are matched against the recording.
    #[arg(long = "match", value_enum, default_value = "params", value_name = "MODE")]
    pub mode: Match,
    /// The transcript of a scenario that runs in both eras.
    #[arg(long, value_enum, value_name = "ERA")]
    pub era: Option<crate::verify::EraArg>,
}

/// One recorded exchange.
#[derive(Clone, Debug)]
struct Entry {
    /// 1-based step number.
    step: usize,
    sent: Sent,
    recv: Vec<Received>,
}

/// What the client sent, classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Request,
    Notification,
    Response,
    Other,
}

fn kind(v: &Value) -> Kind {
    match (v.get("method"), v.get("id")) {
        (Some(_), Some(_)) => Kind::Request,
        (Some(_), None) => Kind::Notification,
        (None, _) if v.get("result").is_some() || v.get("error").is_some() => Kind::Response,
        _ => Kind::Other,
    }
}

/// Something to send back.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// A JSON-RPC message.
    Message(Value),
    /// A line that was not JSON.
    Raw(String),
    /// An HTTP refusal (over HTTP only).
    HttpStatus {
        /// Status code.
        status: u16,
        /// Body text.
        body: String,
    },
    /// The server ended the conversation.
    Close,
}

/// Counts of one replay, over all its sessions.
#[derive(Debug, Default)]
pub struct Stats {
    answered: usize,
    repeated: usize,
    unmatched: Vec<String>,
    notes: Vec<String>,
}

/// The recording and the state of matching for one client session.
#[derive(Clone)]
pub struct Book {
    entries: Arc<Vec<Entry>>,
    mode: Match,
    redact: Arc<Vec<String>>,
    used: Vec<bool>,
    cursor: usize,
    stats: Arc<Mutex<Stats>>,
}

impl Book {
    /// A fresh matching state over `recording`.
    pub fn new(recording: &Recording, mode: Match) -> Book {
        let mut entries = Vec::new();
        for e in &recording.transcript.exchanges {
            if let Exchange::Frame(f) = e {
                entries.push(Entry {
                    step: entries.len() + 1,
                    sent: f.sent.clone(),
                    recv: f.recv.clone(),
                });
            }
        }
        Book {
            used: vec![false; entries.len()],
            entries: Arc::new(entries),
            mode,
            redact: Arc::new(recording.scenario.redact().to_vec()),
            cursor: 0,
            stats: Arc::new(Mutex::new(Stats::default())),
        }
    }

    /// A new session over the same recording, sharing the counts.
    pub fn fresh(&self) -> Book {
        Book {
            used: vec![false; self.entries.len()],
            cursor: 0,
            ..self.clone()
        }
    }

    /// The answer to one frame the client sent (`text` as it came).
    pub fn answer(&mut self, text: &str, serving: &Serving) -> Vec<Out> {
        let live: Option<Value> = serde_json::from_str(text).ok();
        let found = match &live {
            Some(v) => self.find_json(v),
            None => self.find_raw(text),
        };
        match (found, &live) {
            (Ok(i), _) => {
                if self.used[i] {
                    self.count(|s| s.repeated += 1);
                }
                self.used[i] = true;
                if live.as_ref().is_some_and(|v| kind(v) == Kind::Request) {
                    self.count(|s| s.answered += 1);
                }
                self.outs(i, live.as_ref(), serving)
            }
            (Err(why), Some(v)) if kind(v) == Kind::Request => {
                let method = v.get("method").and_then(Value::as_str).unwrap_or("?");
                self.count(|s| s.unmatched.push(format!("{method}: {why}")));
                vec![Out::Message(unmatched(
                    v.get("id").cloned().unwrap_or(Value::Null),
                    &why,
                    v,
                    self.mode,
                ))]
            }
            (Err(why), Some(_)) => {
                self.count(|s| s.notes.push(format!("not in the recording: {why}")));
                Vec::new()
            }
            (Err(why), None) => {
                self.count(|s| s.unmatched.push(format!("a frame that is not JSON: {why}")));
                vec![Out::Message(
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700,
                    "message": format!("alloy-conformance replay: not JSON, and not in the recording: {why}")}}),
                )]
            }
        }
    }

    /// Whether the client sent anything that matched.
    pub fn touched(&self) -> bool {
        self.used.iter().any(|u| *u)
    }

    /// Recorded requests the client never sent, as `method params` lines.
    pub fn not_asked(&self) -> Vec<String> {
        self.entries
            .iter()
            .zip(&self.used)
            .filter(|(e, used)| !**used && e.sent_json().is_some_and(|v| kind(v) == Kind::Request))
            .map(|(e, _)| e.describe())
            .collect()
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    fn find_json(&mut self, live: &Value) -> Result<usize, String> {
        let live_kind = kind(live);
        let live_view = view(&transcript::normalize_message(live, &self.redact), self.mode);
        let same = |e: &Entry| {
            e.sent_json()
                .is_some_and(|s| kind(s) == live_kind && transcript::same_unnumbered(&view(s, self.mode), &live_view))
        };
        match self.mode {
            Match::Params => {
                let hits: Vec<usize> = (0..self.entries.len()).filter(|&i| same(&self.entries[i])).collect();
                if let Some(&i) = hits.iter().find(|&&i| !self.used[i]).or(hits.last()) {
                    return Ok(i);
                }
                Err(self.expected_instead(live))
            }
            Match::Sequence | Match::Strict => {
                let mut i = self.cursor;
                while i < self.entries.len() {
                    let e = &self.entries[i];
                    if same(e) {
                        self.cursor = i + 1;
                        return Ok(i);
                    }
                    // `sequence` lets the client leave out what is not a request; `strict` not.
                    let skippable =
                        self.mode == Match::Sequence && e.sent_json().is_none_or(|s| kind(s) != Kind::Request);
                    if !skippable {
                        break;
                    }
                    i += 1;
                }
                Err(match self.entries.get(self.cursor) {
                    Some(e) => format!(
                        "the recording expects next (step {} of {}): {}",
                        e.step,
                        self.entries.len(),
                        e.describe()
                    ),
                    None => format!("the recording ended after {} steps", self.entries.len()),
                })
            }
        }
    }

    fn find_raw(&mut self, text: &str) -> Result<usize, String> {
        let live = transcript::normalize_message(&Value::String(text.to_string()), &self.redact);
        let same = |e: &Entry| matches!(&e.sent, Sent::SendRaw(r) if transcript::same_unnumbered(&Value::String(r.clone()), &live));
        let range: Vec<usize> = match self.mode {
            Match::Params => (0..self.entries.len()).collect(),
            _ => (self.cursor..self.entries.len().min(self.cursor + 1)).collect(),
        };
        let hits: Vec<usize> = range.into_iter().filter(|&i| same(&self.entries[i])).collect();
        match hits.iter().find(|&&i| !self.used[i]).or(hits.last()) {
            Some(&i) => {
                if self.mode != Match::Params {
                    self.cursor = i + 1;
                }
                Ok(i)
            }
            None => Err(format!("{} was not recorded here", crate::driver::shorten(text, 120))),
        }
    }

    /// What the recording has instead of `live` (params mode).
    fn expected_instead(&self, live: &Value) -> String {
        let method = live.get("method").and_then(Value::as_str);
        let same_method: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.sent_json().and_then(|s| s.get("method")).and_then(Value::as_str) == method)
            .map(Entry::describe)
            .take(5)
            .collect();
        if !same_method.is_empty() {
            return format!(
                "no recorded `{}` has these params (matching by method and params, ignoring _meta and ids); the recording has: {}",
                method.unwrap_or("?"),
                same_method.join("; ")
            );
        }
        let mut methods: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.sent_json()?.get("method")?.as_str())
            .collect();
        methods.dedup();
        format!(
            "the recording has no `{}`; its requests and notifications are: {}",
            method.unwrap_or("?"),
            methods.join(", ")
        )
    }

    /// The recorded answer of entry `i`, with the client's id and placeholders made
    /// well-formed.
    fn outs(&self, i: usize, live: Option<&Value>, serving: &Serving) -> Vec<Out> {
        let e = &self.entries[i];
        let recorded_id = e.sent_json().and_then(|s| s.get("id")).cloned();
        let live_id = live.and_then(|v| v.get("id")).cloned();
        e.recv
            .iter()
            .filter_map(|r| match r {
                Received::Message(m) => {
                    let mut m = transcript::denormalize(m, serving);
                    let is_answer =
                        m.get("method").is_none() && (m.get("result").is_some() || m.get("error").is_some());
                    if is_answer
                        && let (Some(obj), Some(live_id)) = (m.as_object_mut(), &live_id)
                        && recorded_id.is_some()
                        && r.message().and_then(|o| o.get("id")) == recorded_id.as_ref()
                    {
                        obj.insert("id".into(), live_id.clone());
                    }
                    Some(Out::Message(m))
                }
                Received::Event(ReceivedEvent::Unparsable { text }) => Some(Out::Raw(text.clone())),
                Received::Event(ReceivedEvent::HttpStatus { status, body }) => Some(Out::HttpStatus {
                    status: *status,
                    body: body.clone(),
                }),
                Received::Event(ReceivedEvent::Closed) => Some(Out::Close),
                Received::Event(_) => None,
            })
            .collect()
    }

    /// The summary for stderr and whether the replay went as recorded (no unmatched request;
    /// with `sequence`/`strict` also every recorded request asked).
    pub fn summary(&self, sessions: &[Book]) -> (String, bool) {
        let stats = self
            .stats
            .lock()
            .map(|s| (s.answered, s.repeated, s.unmatched.clone(), s.notes.clone()));
        let (answered, repeated, unmatched, notes) = stats.unwrap_or_default();
        let recorded = self
            .entries
            .iter()
            .filter(|e| e.sent_json().is_some_and(|s| kind(s) == Kind::Request))
            .count();
        let mut not_asked: Vec<String> = Vec::new();
        for s in sessions {
            for n in s.not_asked() {
                if !not_asked.contains(&n) {
                    not_asked.push(n);
                }
            }
        }
        let mut text = format!(
            "alloy-conformance replay: {answered} request(s) answered from the recording ({recorded} recorded, {repeated} answered again), {} unmatched",
            unmatched.len()
        );
        for u in &unmatched {
            text.push_str(&format!("\n  unmatched {u}"));
        }
        for n in &notes {
            text.push_str(&format!("\n  note: {n}"));
        }
        if !not_asked.is_empty() {
            text.push_str(&format!(
                "\n  recorded but not asked (in a session): {}",
                not_asked.join("; ")
            ));
        }
        let ok =
            unmatched.is_empty() && (self.mode == Match::Params || sessions.iter().all(|s| s.not_asked().is_empty()));
        (text, ok)
    }
}

impl Entry {
    fn sent_json(&self) -> Option<&Value> {
        match &self.sent {
            Sent::Send(v) => Some(v),
            _ => None,
        }
    }

    /// `method {params}` (or the raw text), shortened.
    fn describe(&self) -> String {
        let text = match &self.sent {
            Sent::Send(v) => {
                let v = view(v, Match::Params);
                match v.get("method").and_then(Value::as_str) {
                    Some(m) => match v.get("params") {
                        Some(p) => format!("{m} {p}"),
                        None => m.to_string(),
                    },
                    None => v.to_string(),
                }
            }
            Sent::SendRaw(t) => format!("(not JSON) {t}"),
            Sent::SendOversized { bytes, message } => format!("({bytes} bytes) {message}"),
        };
        crate::driver::shorten(&text, 300)
    }
}

/// What is compared: the whole message (`strict`), or the message without `jsonrpc`, `id`
/// and `_meta` (an empty `params` left over counts as none).
fn view(v: &Value, mode: Match) -> Value {
    if mode == Match::Strict {
        return v.clone();
    }
    let Some(obj) = v.as_object() else { return v.clone() };
    let mut out = Map::new();
    for (k, val) in obj {
        if k == "id" || k == "jsonrpc" {
            continue;
        }
        let mut val = val.clone();
        if matches!(k.as_str(), "params" | "result")
            && let Some(inner) = val.as_object_mut()
        {
            inner.remove("_meta");
            if inner.is_empty() && k == "params" {
                continue;
            }
        }
        out.insert(k.clone(), val);
    }
    Value::Object(out)
}

fn unmatched(id: Value, why: &str, live: &Value, mode: Match) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {
        "code": UNMATCHED,
        "message": format!("alloy-conformance replay: this request is not in the recording: {why}"),
        "data": {"received": view(live, mode), "match": mode.name()}
    }})
}

/// Runs `replay`.
pub async fn command(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let era: Option<Era> = args.era.map(crate::verify::EraArg::era);
    let recording = recording::load(&args.file, era)?;
    let book = Book::new(&recording, args.mode);
    let requests = book
        .entries
        .iter()
        .filter(|e| e.sent_json().is_some_and(|s| kind(s) == Kind::Request))
        .count();
    let what = format!(
        "{} ({} era, {} recorded requests, matching by {})",
        recording.scenario.id,
        recording.era,
        requests,
        args.mode.name()
    );
    match args.http {
        Some(addr) => http::serve(addr, book, &what, recording.era).await,
        None => Ok(stdio::serve(book, &what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Transcript;

    fn book(exchanges: Value, mode: Match) -> Book {
        let transcript =
            Transcript::from_value(json!({"scenario": "r/s__c", "description": "d", "exchanges": exchanges}))
                .expect("a transcript");
        let entries = transcript
            .frames()
            .enumerate()
            .map(|(i, f)| Entry {
                step: i + 1,
                sent: f.sent.clone(),
                recv: f.recv.clone(),
            })
            .collect::<Vec<_>>();
        Book {
            used: vec![false; entries.len()],
            entries: Arc::new(entries),
            mode,
            redact: Arc::new(Vec::new()),
            cursor: 0,
            stats: Arc::new(Mutex::new(Stats::default())),
        }
    }

    fn recording() -> Value {
        json!([
            {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"x": 1}}},
             "recv": [{"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}]},
            {"send": {"jsonrpc": "2.0", "method": "notifications/initialized"}, "recv": []},
            {"send": {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_ticket", "arguments": {"id": "<uuid-1>"}}},
             "recv": [{"jsonrpc": "2.0", "id": 2, "result": {"text": "at <ts-1>"}}]}
        ])
    }

    fn message(outs: &[Out]) -> &Value {
        match outs.first() {
            Some(Out::Message(m)) => m,
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn params_matching_ignores_ids_and_meta_and_answers_with_the_clients_id() {
        let mut b = book(recording(), Match::Params);
        let s = Serving::default();
        let call = r#"{"jsonrpc":"2.0","id":"c-7","method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"0b0f6c1e-3c53-4a52-8f8e-0f7f5b3a2d11"}}}"#;
        let out = b.answer(call, &s);
        assert_eq!(message(&out)["id"], "c-7");
        assert_eq!(message(&out)["result"]["text"], "at 2000-01-01T00:00:01.000Z");
        let out = b.answer(r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#, &s);
        assert_eq!(message(&out)["id"], 9);
        let out = b.answer(
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"other"}}"#,
            &s,
        );
        let err = &message(&out)["error"];
        assert_eq!(err["code"], UNMATCHED);
        assert!(
            err["message"].as_str().is_some_and(|m| m.contains("get_ticket")),
            "{err}"
        );
        let (text, ok) = b.summary(&[b.clone()]);
        assert!(!ok && text.contains("1 unmatched"), "{text}");
    }

    #[test]
    fn sequence_matching_names_the_expected_step_and_strict_compares_ids() {
        let s = Serving::default();
        let mut b = book(recording(), Match::Sequence);
        let out = b.answer(
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"x"}}}"#,
            &s,
        );
        let msg = message(&out)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(msg.contains("step 1 of 3") && msg.contains("tools/list"), "{msg}");
        assert!(b.answer(r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#, &s).len() == 1);
        // The notification the client left out is skipped in `sequence`.
        let out = b.answer(r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_ticket","arguments":{"id":"ffffffff-ffff-4fff-bfff-000000000001"}}}"#, &s);
        assert!(message(&out).get("result").is_some(), "{out:?}");

        let mut strict = book(recording(), Match::Strict);
        let out = strict.answer(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{"x":1}}}"#,
            &s,
        );
        assert!(
            message(&out).get("error").is_some(),
            "another id is another message: {out:?}"
        );
        let out = strict.answer(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"x":1}}}"#,
            &s,
        );
        assert!(message(&out).get("result").is_some(), "{out:?}");
    }
}
