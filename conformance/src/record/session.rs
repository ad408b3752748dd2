//! One recorded client session, turned into the steps `run` plays and the exchanges it would
//! record. The proxies feed it what crossed the wire, in the order it crossed: every client
//! frame ([`Session::client`]), every server frame ([`Session::server`]) and the mock API's
//! journal, drained at the moments `run` drains it. [`Session::finish`] gives the scenario
//! steps and the raw transcript.
//!
//! `run` plays steps one at a time: after a request it collects every frame up to the next
//! response, after anything else it settles (a private ping) and collects what arrived. A
//! client may have several requests in flight, so frames are not grouped by arrival but the
//! way a one-at-a-time replay would see them:
//!
//! - a response goes to the pending request with its id (the first, if ids repeat); a batch
//!   answer (an array) to a pending batch; an error with id `null` to a pending malformed frame;
//! - anything else (a notification or request from the server, an answer nobody asked for) goes
//!   to the oldest pending step, else to the last step while it still collects (a notification
//!   collects until the next client frame, as `run`'s settle does), else it waits for the next
//!   step (in `run` it would arrive while that step is played); frames still waiting at the end
//!   are dropped, as `run` never reads them;
//! - the journal goes to the request whose answer drains it, or, when a client frame arrives,
//!   to the oldest pending step, the last step while it collects, or the new step.
//!
//! Each step's `await` is then what makes `run` collect the same frames: the default when it
//! does, `"none"` for a request that was never answered (or malformed input answered by more
//! or less than one frame). Tool calls are `"arguments": "unchecked"`: a recording replays what
//! the client sent, valid or not.

use crate::era::{self, Era};
use crate::transcript::{Discover, Exchange, FrameExchange, Received, Sent, Transcript};
use serde_json::{Value, json};

/// One frame the client sent.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientFrame {
    /// A JSON value (sent again by `run` as compact JSON).
    Json(Value),
    /// Text that is not JSON (sent again verbatim).
    Raw(String),
}

impl ClientFrame {
    /// A frame as it crossed the wire: JSON when it parses, text otherwise.
    pub fn parse(text: &str) -> ClientFrame {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => ClientFrame::Json(v),
            Err(_) => ClientFrame::Raw(text.to_string()),
        }
    }

    fn json(&self) -> Option<&Value> {
        match self {
            ClientFrame::Json(v) => Some(v),
            ClientFrame::Raw(_) => None,
        }
    }

    fn method(&self) -> Option<&str> {
        self.json()?.get("method")?.as_str()
    }
}

/// What a step waits for in `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A request with a string or integer id: `run` collects up to the next response.
    Request,
    /// A request with another kind of id: `run` takes the next frame.
    OddRequest,
    /// A batch (a JSON array): `run` settles.
    Batch,
    /// Text that is not JSON: `run` takes the next frame.
    Raw,
    /// A notification, a response, any other JSON: `run` settles.
    Other,
}

#[derive(Clone, Debug)]
struct Step {
    frame: ClientFrame,
    kind: Kind,
    recv: Vec<Received>,
    upstream: Vec<Value>,
    /// Waiting for its answer: a response with its id, a batch answer, or (malformed input)
    /// an error with id `null`.
    pending: bool,
    /// Still collecting what arrives in `run`: a request until its answer, anything else until
    /// the next client frame (or its answer).
    collecting: bool,
    answered: bool,
}

/// A recorded session in progress.
#[derive(Clone, Debug, Default)]
pub struct Session {
    steps: Vec<Step>,
    waiting: Vec<Received>,
    waiting_upstream: Vec<Value>,
    discover: Option<Vec<String>>,
    notes: Vec<String>,
    overlapped: bool,
}

/// A finished session: what [`crate::recording`] writes.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The wire era the client spoke.
    pub era: Era,
    /// The scenario's steps, as JSON objects of the scenario format.
    pub steps: Vec<Value>,
    /// The raw (not yet normalized) transcript, without scenario id and description.
    pub transcript: Transcript,
    /// The protocol version the client asked for (`initialize`) or spoke (`_meta`).
    pub protocol_version: Option<String>,
    /// `clientInfo` name and version, when the client said.
    pub client: Option<String>,
    /// `serverInfo` name and version, when the server said.
    pub server: Option<String>,
    /// Things the person recording should know (frames `run` will not see the same way).
    pub notes: Vec<String>,
}

impl Session {
    /// A frame from the client, with the journal entries drained just before it was forwarded.
    pub fn client(&mut self, frame: ClientFrame, journal: Vec<Value>) {
        if self.steps.iter().any(|s| s.pending && s.kind == Kind::Request) {
            self.overlapped = true;
        }
        // A request still unanswered collects (`run` would still be waiting for its answer),
        // else the last step while it settles, else the journal belongs to this new step.
        if let Some(i) = self.waiting_request() {
            self.steps[i].upstream.extend(journal);
        } else if let Some(last) = self.steps.last_mut().filter(|s| s.collecting) {
            last.upstream.extend(journal);
        } else {
            self.waiting_upstream.extend(journal);
        }
        // Whatever is not a request has been played to its end by now.
        for s in &mut self.steps {
            if s.kind != Kind::Request {
                s.collecting = false;
            }
        }
        let kind = kind_of(&frame);
        let step = Step {
            frame,
            kind,
            recv: std::mem::take(&mut self.waiting),
            upstream: std::mem::take(&mut self.waiting_upstream),
            pending: kind != Kind::Other,
            collecting: true,
            answered: false,
        };
        if step.recv.iter().any(|r| r.message().is_some()) && self.steps.is_empty() {
            self.notes
                .push("the server spoke before the client's first frame; run shows that in the first step".into());
        }
        self.steps.push(step);
    }

    /// The oldest request still waiting for its answer.
    fn waiting_request(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.pending && s.kind == Kind::Request)
    }

    /// A frame from the server. `drain` gives the journal entries to attribute when this frame
    /// answers a request (called only then, so the journal is read at the same moment `run`
    /// reads it).
    pub fn server(&mut self, item: Received, drain: impl FnOnce() -> Vec<Value>) {
        let target = self.answered_step(&item);
        match target {
            Some(i) => {
                if self.steps[i].frame.method() == Some("server/discover") {
                    self.note_discover(&item);
                }
                let step = &mut self.steps[i];
                step.recv.push(item);
                step.answered = true;
                step.pending = false;
                step.collecting = false;
                step.upstream.extend(drain());
            }
            None => match self.steps.iter().position(|s| s.collecting) {
                Some(i) => self.steps[i].recv.push(item),
                None => self.waiting.push(item),
            },
        }
    }

    /// The `supportedVersions` of a `server/discover` answer the recorder asked for itself
    /// (when the client did not ask).
    pub fn set_discover(&mut self, supported: Vec<String>) {
        if self.discover.is_none() {
            self.discover = Some(supported);
        }
    }

    /// Whether the session is at the stateless wire and still lacks the server's
    /// `supportedVersions` (the recorder then asks `server/discover` itself before writing).
    pub fn needs_discover(&self) -> bool {
        self.era() == Era::Stateless && self.discover.is_none()
    }

    /// Whether the client sent anything.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// A note for the person recording, printed when the session is written.
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The wire era the client spoke: the handshake era when it sent `initialize`, the
    /// stateless era when it sent `server/discover` or requests carrying a stateless
    /// `_meta` protocol version without ever initializing, else the handshake era.
    pub fn era(&self) -> Era {
        let mut stateless = false;
        for s in &self.steps {
            match s.frame.method() {
                Some("initialize") => return Era::Handshake,
                Some("server/discover") => stateless = true,
                _ => {}
            }
            if let Some(v) = meta_version(&s.frame)
                && Era::of_version(v) == Era::Stateless
            {
                stateless = true;
            }
        }
        if stateless { Era::Stateless } else { Era::Handshake }
    }

    /// The steps and the raw transcript; `journal` is what the mock recorded since the last
    /// drain (it goes to the last step while that one collects, as `run` would read it).
    pub fn finish(mut self, journal: Vec<Value>) -> Finished {
        let era = self.era();
        if let Some(i) = self.waiting_request() {
            self.steps[i].upstream.extend(journal);
        } else if let Some(last) = self.steps.last_mut().filter(|s| s.collecting) {
            last.upstream.extend(journal);
        }
        if !self.waiting.is_empty() {
            self.notes.push(format!(
                "{} frame(s) the server sent after the client's last frame are not in the recording (run would not read them)",
                self.waiting.len()
            ));
        }
        if self.overlapped {
            self.notes.push(
                "the client had several requests in flight at once; run plays them one at a time, so upstream requests made meanwhile are attributed to the request answered first"
                    .into(),
            );
        }
        let protocol_version = self.protocol_version(era);
        let client = self.client_info();
        let server = self.server_info();
        let mut transcript = Transcript::default();
        if era == Era::Stateless {
            transcript.exchanges.push(Exchange::Discover {
                discover: Discover {
                    requested: era::STATELESS_VERSION.to_string(),
                    supported: self.discover.clone().unwrap_or_default(),
                },
            });
        }
        let mut steps = Vec::new();
        for s in self.steps {
            let (step, sent) = scenario_step(&s, era);
            steps.push(step);
            transcript.exchanges.push(Exchange::Frame(FrameExchange {
                sent,
                recv: s.recv,
                upstream: s.upstream,
            }));
        }
        Finished {
            era,
            steps,
            transcript,
            protocol_version,
            client,
            server,
            notes: self.notes,
        }
    }

    /// The step a server frame answers, if it is an answer to a pending one.
    fn answered_step(&self, item: &Received) -> Option<usize> {
        let m = item.message()?;
        if m.is_array() {
            return self.steps.iter().position(|s| s.pending && s.kind == Kind::Batch);
        }
        if m.get("method").is_some() || (m.get("result").is_none() && m.get("error").is_none()) {
            return None;
        }
        let id = m.get("id").unwrap_or(&Value::Null);
        let by_id = self.steps.iter().position(|s| {
            s.pending
                && matches!(s.kind, Kind::Request | Kind::OddRequest)
                && s.frame
                    .json()
                    .and_then(|v| v.get("id"))
                    .is_some_and(|want| same_id(want, id))
        });
        if by_id.is_some() || !id.is_null() {
            return by_id;
        }
        self.steps
            .iter()
            .position(|s| s.pending && matches!(s.kind, Kind::Raw | Kind::OddRequest))
    }

    fn note_discover(&mut self, item: &Received) {
        let supported = item
            .message()
            .and_then(|m| m.pointer("/result/supportedVersions"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
        if let Some(list) = supported {
            self.set_discover(list);
        }
    }

    fn protocol_version(&self, era: Era) -> Option<String> {
        self.steps.iter().find_map(|s| match era {
            Era::Handshake if s.frame.method() == Some("initialize") => s
                .frame
                .json()
                .and_then(|v| v.pointer("/params/protocolVersion"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Era::Stateless => meta_version(&s.frame).map(str::to_string),
            Era::Handshake => None,
        })
    }

    fn client_info(&self) -> Option<String> {
        self.steps.iter().find_map(|s| {
            let v = s.frame.json()?;
            let info = v
                .pointer("/params/clientInfo")
                .or_else(|| v.pointer(&format!("/params/_meta/{}", pointer_escape(era::META_CLIENT_INFO))))?;
            Some(identity(info))
        })
    }

    fn server_info(&self) -> Option<String> {
        self.steps.iter().flat_map(|s| &s.recv).find_map(|r| {
            let m = r.message()?;
            let info = m
                .pointer("/result/serverInfo")
                .or_else(|| m.pointer(&format!("/result/_meta/{}", pointer_escape(era::META_SERVER_INFO))))?;
            Some(identity(info))
        })
    }
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn identity(info: &Value) -> String {
    let name = info.get("name").and_then(Value::as_str).unwrap_or("unnamed");
    match info.get("version").and_then(Value::as_str) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

fn meta_version(frame: &ClientFrame) -> Option<&str> {
    frame
        .json()?
        .get("params")?
        .get("_meta")?
        .get(era::META_PROTOCOL_VERSION)?
        .as_str()
}

fn kind_of(frame: &ClientFrame) -> Kind {
    let v = match frame {
        ClientFrame::Raw(_) => return Kind::Raw,
        ClientFrame::Json(v) => v,
    };
    if v.is_array() {
        return Kind::Batch;
    }
    match (v.get("method"), v.get("id")) {
        (Some(_), Some(id)) if id.is_string() || id.is_i64() || id.is_u64() => Kind::Request,
        (Some(_), Some(_)) => Kind::OddRequest,
        _ => Kind::Other,
    }
}

/// Ids are equal as JSON values, integers also across number representations.
fn same_id(a: &Value, b: &Value) -> bool {
    a == b || (a.is_number() && b.is_number() && a.as_f64() == b.as_f64())
}

/// The scenario step of a recorded step, and what `run` shows as sent (at the stateless wire
/// `run` adds the era's `_meta` defaults a request lacks).
fn scenario_step(s: &Step, era: Era) -> (Value, Sent) {
    let (mut step, sent) = match &s.frame {
        ClientFrame::Json(v) => {
            let on_the_wire = match era {
                Era::Handshake => v.clone(),
                Era::Stateless => era::with_request_meta(v, era::STATELESS_VERSION),
            };
            (json!({"send": v}), Sent::Send(on_the_wire))
        }
        ClientFrame::Raw(text) => (json!({"raw": text}), Sent::SendRaw(text.clone())),
    };
    let wait = match s.kind {
        Kind::Request if !s.answered => Some("none"),
        Kind::OddRequest | Kind::Raw if s.recv.len() != 1 => Some("none"),
        _ => None,
    };
    if let Some(w) = wait {
        step["await"] = json!(w);
    }
    if s.frame.method() == Some("tools/call") && s.frame.json().and_then(|v| v.pointer("/params/name")).is_some() {
        step["arguments"] = json!("unchecked");
    }
    (step, sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: Value) -> Received {
        Received::Message(v)
    }

    fn json_frame(v: Value) -> ClientFrame {
        ClientFrame::Json(v)
    }

    #[test]
    fn pipelined_requests_get_their_own_answers_as_run_would_play_them_one_by_one() {
        let mut s = Session::default();
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
            vec![],
        );
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": 2, "method": "prompts/list"})),
            vec![],
        );
        s.server(
            msg(json!({"jsonrpc": "2.0", "id": 2, "result": {"prompts": []}})),
            || vec![json!("u2")],
        );
        s.server(msg(json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}})), || {
            vec![json!("u1")]
        });
        let f = s.finish(vec![]);
        let frames: Vec<&FrameExchange> = f.transcript.frames().collect();
        assert_eq!(
            frames[0].recv,
            vec![msg(json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}))]
        );
        assert_eq!(
            frames[1].recv,
            vec![msg(json!({"jsonrpc": "2.0", "id": 2, "result": {"prompts": []}}))]
        );
        assert_eq!(frames[0].upstream, vec![json!("u1")]);
        assert!(f.steps.iter().all(|st| st.get("await").is_none()), "{:?}", f.steps);
        assert!(f.notes.iter().any(|n| n.contains("in flight")), "{:?}", f.notes);
    }

    #[test]
    fn notifications_collect_until_the_next_client_frame_and_late_frames_wait_for_the_next_step() {
        let mut s = Session::default();
        s.client(json_frame(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})), vec![]);
        s.server(msg(json!({"jsonrpc": "2.0", "id": 1, "result": {}})), Vec::new);
        // After the answer nothing collects: this notification belongs to the next step.
        s.server(
            msg(json!({"jsonrpc": "2.0", "method": "notifications/message"})),
            Vec::new,
        );
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
            vec![],
        );
        s.server(
            msg(json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})),
            Vec::new,
        );
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})),
            vec![json!("j")],
        );
        let f = s.finish(vec![json!("end")]);
        let frames: Vec<&FrameExchange> = f.transcript.frames().collect();
        assert_eq!(frames[0].recv.len(), 1);
        assert_eq!(frames[1].recv.len(), 2, "{:?}", frames[1].recv);
        assert_eq!(frames[1].upstream, vec![json!("j")]);
        // The unanswered ping settles instead of waiting, and keeps what the journal held.
        assert_eq!(f.steps[2]["await"], "none");
        assert_eq!(frames[2].upstream, vec![json!("end")]);
    }

    #[test]
    fn malformed_input_takes_the_null_id_error_and_tool_calls_are_unchecked() {
        let mut s = Session::default();
        s.client(ClientFrame::parse("{\"jsonrpc\": \"2.0\", \"id\""), vec![]);
        s.server(
            msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse"}})),
            Vec::new,
        );
        s.client(ClientFrame::parse("not json at all"), vec![]);
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": "a", "method": "tools/call", "params": {"name": "x"}})),
            vec![],
        );
        s.server(msg(json!({"jsonrpc": "2.0", "id": "a", "result": {}})), Vec::new);
        let f = s.finish(vec![]);
        assert_eq!(f.steps[0], json!({"raw": "{\"jsonrpc\": \"2.0\", \"id\""}));
        assert_eq!(f.steps[1], json!({"raw": "not json at all", "await": "none"}));
        assert_eq!(f.steps[2]["arguments"], "unchecked");
        assert_eq!(f.era, Era::Handshake);
    }

    #[test]
    fn a_parse_error_answered_after_the_next_frame_still_belongs_to_the_malformed_line() {
        let mut s = Session::default();
        s.client(json_frame(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})), vec![]);
        s.client(ClientFrame::parse("garbage{"), vec![]);
        s.client(json_frame(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})), vec![]);
        s.server(
            msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse"}})),
            Vec::new,
        );
        s.server(msg(json!({"jsonrpc": "2.0", "id": 1, "result": {}})), Vec::new);
        s.server(msg(json!({"jsonrpc": "2.0", "id": 2, "result": {}})), Vec::new);
        let f = s.finish(vec![]);
        let frames: Vec<&FrameExchange> = f.transcript.frames().collect();
        assert_eq!(frames.iter().map(|f| f.recv.len()).collect::<Vec<_>>(), vec![1, 1, 1]);
        assert_eq!(f.steps[1], json!({"raw": "garbage{"}));
    }

    #[test]
    fn a_stateless_session_opens_with_the_discover_entry_and_shows_meta_as_run_sends_it() {
        let mut s = Session::default();
        let meta = json!({era::META_PROTOCOL_VERSION: era::STATELESS_VERSION, era::META_CLIENT_CAPABILITIES: {},
            era::META_CLIENT_INFO: {"name": "c", "version": "1"}});
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}})),
            vec![],
        );
        s.server(
            msg(json!({"jsonrpc": "2.0", "id": 1, "result": {"supportedVersions": ["2025-11-25", "2026-07-28"]}})),
            Vec::new,
        );
        s.client(
            json_frame(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list",
            "params": {"_meta": {era::META_PROTOCOL_VERSION: era::STATELESS_VERSION}}})),
            vec![],
        );
        assert!(!s.needs_discover());
        let f = s.finish(vec![]);
        assert_eq!(f.era, Era::Stateless);
        assert_eq!(f.client.as_deref(), Some("c 1"));
        assert_eq!(f.protocol_version.as_deref(), Some(era::STATELESS_VERSION));
        let v = f.transcript.to_value();
        assert_eq!(
            v["exchanges"][0]["discover"]["supported"],
            json!(["2025-11-25", "2026-07-28"])
        );
        assert_eq!(
            v["exchanges"][2]["send"]["params"]["_meta"][era::META_CLIENT_CAPABILITIES],
            json!({})
        );
        assert!(
            f.steps[1]["send"]["params"]["_meta"]
                .get(era::META_CLIENT_CAPABILITIES)
                .is_none()
        );
    }
}
