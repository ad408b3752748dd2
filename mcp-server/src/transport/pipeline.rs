//! The one inbound pipeline: every transport (stdio, Streamable HTTP, legacy HTTP+SSE) hands the
//! bytes of one incoming message to a [`Pipeline`] and gets back what to do with it, and hands
//! every outgoing message to the same pipeline before it leaves. So a malformed message gets the
//! same JSON-RPC error whichever way it arrived, and one place owns request ids.
//!
//! Inbound, in order:
//!
//! | message | verdict |
//! |---|---|
//! | not JSON (or not UTF-8) | `-32700`, `id: null` |
//! | a batch array, not an object, bad `jsonrpc`/`id`/`method` (a fractional id included) | `-32600`, the request's `id` when usable |
//! | a notification (a `method`, no `id`) that is malformed in any way | dropped: notifications are never answered |
//! | a known MCP method whose `params` do not fit (`tools/call` without `name`, `tools/list` with a `cursor` that is not a string, ...) | `-32602` with the request's `id` |
//! | a response (`result`/`error`, no `method`) rmcp cannot read (an id of 2^63 or more) | dropped: responses are never answered |
//! | a request whose `id` is already in flight in this session | `-32600` with that `id`; nothing runs |
//! | a notification or response before `initialize` (stdio, legacy SSE) | dropped (rmcp would end the session) |
//! | a request before `initialize` without the 2026-07-28 `_meta` ([`Bare::Handshake`], stdio only) | served as a 2024-11-05 client is served: a handshake the client never sees comes first |
//! | anything else | forwarded to rmcp |
//!
//! **Request ids.** The client's id (any string, any integer a JSON number can hold) is kept
//! here; rmcp sees a fresh integer per request. Answers get the client's id back, byte for
//! byte, in [`Pipeline::outbound`], which also settles the request: an answer whose request is
//! unknown (cancelled, or the synthetic handshake) is not sent. `notifications/cancelled`
//! names the client's id and is translated too. So duplicate ids cannot reach rmcp, ids rmcp
//! cannot represent (2^63 and above) work, and a transport can tell when nothing is owed.

use crate::surface::server::AlloyServer;
use futures::channel::mpsc;
use rmcp::ServiceExt;
use rmcp::model::ServerJsonRpcMessage;
// Logging and resource subscriptions are deprecated in 2026-07-28 but still served to
// handshake-era clients, so their request types stay in the list of known methods.
#[allow(deprecated)]
use rmcp::model::{
    CallToolRequest, ClientJsonRpcMessage, CompleteRequest, ConstString, DiscoverRequest, ErrorCode, GetPromptRequest,
    InitializeRequest, ListPromptsRequest, ListResourceTemplatesRequest, ListResourcesRequest, ListToolsRequest,
    PingRequest, ReadResourceRequest, Request, RequestNoParam, RequestOptionalParam, SetLevelRequest, SubscribeRequest,
    SubscriptionsListenRequest, UnsubscribeRequest,
};
use rmcp::service::ServerInitializeError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::Notify;

/// Runs rmcp's MCP service over one session's channels (messages the pipeline let through in,
/// answers out) until it ends. Input that closes before any `initialize` is a normal end;
/// otherwise the error says what failed, for the transport to log at its own level.
pub(crate) async fn serve_session(
    server: AlloyServer,
    channels: (mpsc::Sender<ServerJsonRpcMessage>, mpsc::Receiver<ClientJsonRpcMessage>),
) -> Result<(), String> {
    match server.serve(channels).await {
        Ok(running) => running
            .waiting()
            .await
            .map(|_| ())
            .map_err(|e| format!("the session's MCP service failed: {e}")),
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(e) => Err(format!("the session ended during initialization: {e}")),
    }
}

/// The `_meta` key that marks a 2026-07-28 (stateless) request.
pub(crate) const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The other per-request `_meta` key of 2026-07-28.
pub(crate) const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The protocol revision a request without handshake and without `_meta` is served as: the
/// revision the public Alloy docs name.
pub(crate) const BARE_REQUEST_VERSION: &str = "2024-11-05";

/// What a request that arrives before any `initialize`, without the 2026-07-28 `_meta`, gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bare {
    /// Forwarded as is: rmcp refuses it with -32602 (HTTP: the strict answer the official
    /// 2026-07-28 suite requires).
    Strict,
    /// A person at a terminal typed it: a handshake at [`BARE_REQUEST_VERSION`] is made on the
    /// client's behalf first (its answer is not sent), and the request is served (stdio).
    Handshake,
}

/// How a pipeline treats the start of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Requests before `initialize`.
    pub bare: Bare,
    /// Whether notifications and responses before `initialize` are dropped: rmcp's generic
    /// transport ends the session on them (stdio, legacy SSE). Streamable HTTP sessions start
    /// initialized.
    pub drop_before_initialize: bool,
}

impl Policy {
    /// stdio: a person may type a bare request; nothing may end the session early.
    pub(crate) const STDIO: Policy = Policy {
        bare: Bare::Handshake,
        drop_before_initialize: true,
    };
    /// Legacy HTTP+SSE: strict, and nothing may end the session early.
    pub(crate) const LEGACY_SSE: Policy = Policy {
        bare: Bare::Strict,
        drop_before_initialize: true,
    };
    /// Streamable HTTP: rmcp owns the session lifecycle.
    pub(crate) const STREAMABLE: Policy = Policy {
        bare: Bare::Strict,
        drop_before_initialize: false,
    };
}

/// What kind of refusal a [`Reply`] is, for transports that have a status of their own (HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyKind {
    /// Not a usable JSON-RPC message at all (HTTP 400).
    Malformed,
    /// A well-formed request that is refused: unfitting params, an id in use (HTTP 200).
    Refused,
    /// A method the request's stateless revision removed (HTTP 404, the 2026-07-28 rule).
    Removed,
}

/// An error answered by the pipeline itself; rmcp never sees the message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    /// The request's id, or `null` when it has none that can be used.
    pub id: Value,
    /// The JSON-RPC error code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// What kind of refusal this is.
    pub kind: ReplyKind,
    /// Whether the session speaks 2025-11-25 or later, where an unusable id is left out of
    /// the error instead of being `null`.
    pub id_optional: bool,
}

impl Reply {
    fn new(kind: ReplyKind, id: Value, code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply {
            id,
            code,
            message: message.into(),
            kind,
            id_optional: false,
        }
    }

    fn refused(id: Value, code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::new(ReplyKind::Refused, id, code, message)
    }

    fn malformed(id: Value, code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::new(ReplyKind::Malformed, id, code, message)
    }

    fn invalid(id: Value, why: &str) -> Reply {
        Reply::malformed(id, ErrorCode::INVALID_REQUEST, format!("Invalid Request: {why}"))
    }

    /// The JSON-RPC error response.
    pub(crate) fn to_value(&self) -> Value {
        let revision = self.id_optional.then_some(OPTIONAL_ERROR_ID);
        error_body(&self.id, self.code, &self.message, revision)
    }
}

/// The one JSON-RPC error response body of this crate. An error that cannot name its request
/// carries `"id": null` (JSON-RPC 2.0, and the only way the schemas before 2025-11-25 can say
/// it); from 2025-11-25 on the schemas define that id as optional and never null, so it is left
/// out. `revision` is the session's, or the one the request names; unknown counts as old.
pub(crate) fn error_body(id: &Value, code: ErrorCode, message: &str, revision: Option<&str>) -> Value {
    let mut body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code.0, "message": message}});
    if id.is_null()
        && revision.is_some_and(|r| r >= OPTIONAL_ERROR_ID)
        && let Value::Object(m) = &mut body
    {
        m.remove("id");
    }
    body
}

/// The first revision whose schema makes the id of an error optional (and never null).
const OPTIONAL_ERROR_ID: &str = "2025-11-25";

/// The first revision without a handshake (per-request `_meta`, removed methods).
pub(crate) const STATELESS_REVISION: &str = "2026-07-28";

/// Whether `revision` is of the stateless era.
pub(crate) fn is_stateless(revision: &str) -> bool {
    revision >= STATELESS_REVISION
}

/// What to do with one inbound message.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Hand this to rmcp (its request id already replaced).
    Forward(Box<ClientJsonRpcMessage>),
    /// Answer the client with this error.
    Reply(Reply),
    /// Neither forward nor answer (the reason is for the debug log).
    Ignore(&'static str),
}

/// One request handed to rmcp and not answered yet.
struct Owed {
    /// The client's id; `None` for the synthetic handshake, whose answer nobody reads.
    client_id: Option<Value>,
    /// What the request was, for what its answer means.
    what: Asked,
}

/// What an owed request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// A request of the handshake era.
    Handshake,
    /// `initialize`: its answer names the session's revision.
    Initialize,
    /// A request of the stateless era: its result names the server in `_meta`.
    Stateless,
    /// `subscriptions/listen`: open until cancelled or the session ends, so nothing waits for
    /// its answer (it is not counted as owed) and its notifications are tagged with its id.
    Subscription,
}

#[derive(Default)]
struct State {
    /// Whether rmcp has received a request that starts its session (an `initialize`, a
    /// stateless request, or the handshake made for a bare request).
    started: bool,
    /// Whether an `initialize` went through (a handshake-era session).
    handshaken: bool,
    /// The revision the session speaks, once known (the answer to `initialize`, the `_meta`
    /// of a stateless request, or what the transport was told).
    revision: Option<String>,
    next_id: i64,
    /// rmcp's id → the request.
    owed: HashMap<i64, Owed>,
    /// The client's id (as canonical JSON) → rmcp's id.
    by_client: HashMap<String, i64>,
}

impl State {
    fn owe(&mut self, client_id: Option<Value>, what: Asked) -> i64 {
        self.next_id += 1;
        let internal = self.next_id;
        if let Some(id) = &client_id {
            self.by_client.insert(id_key(id), internal);
        }
        self.owed.insert(internal, Owed { client_id, what });
        internal
    }

    /// Marks `reply` with what the session's revision says about unusable ids.
    fn stamp(&self, reply: &mut Reply) {
        reply.id_optional = self.revision.as_deref().is_some_and(|r| r >= OPTIONAL_ERROR_ID);
    }

    fn reply(&self, mut reply: Reply) -> Inbound {
        self.stamp(&mut reply);
        Inbound::Reply(reply)
    }

    fn settle(&mut self, internal: i64) -> Option<Owed> {
        let owed = self.owed.remove(&internal)?;
        if let Some(id) = &owed.client_id {
            self.by_client.remove(&id_key(id));
        }
        Some(owed)
    }
}

fn id_key(id: &Value) -> String {
    id.to_string()
}

/// The inbound pipeline of one session (stdio: the process; HTTP: one MCP session, or one
/// request without a session).
pub(crate) struct Pipeline {
    policy: Policy,
    state: Mutex<State>,
    settled: Notify,
}

impl Pipeline {
    /// A pipeline for a session that starts as `policy` says.
    pub(crate) fn new(policy: Policy) -> Pipeline {
        Pipeline {
            policy,
            state: Mutex::new(State {
                started: !policy.drop_before_initialize,
                ..State::default()
            }),
            settled: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent maps behind; keep serving.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells the pipeline the revision the transport knows the client speaks (HTTP: its
    /// `MCP-Protocol-Version` header), unless the session already knows its own.
    pub(crate) fn hint_revision(&self, revision: Option<&str>) {
        let mut state = self.state();
        if state.revision.is_none() {
            state.revision = revision.map(str::to_string);
        }
    }

    /// The reply to a message longer than `max` bytes (which is skipped, not read).
    pub(crate) fn too_long(&self, max: usize) -> Reply {
        let mut reply = Reply::invalid(Value::Null, &format!("message longer than {max} bytes"));
        self.state().stamp(&mut reply);
        reply
    }

    /// Decides what happens to the bytes of one message.
    pub(crate) fn accept(&self, bytes: &[u8]) -> Vec<Inbound> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => self.accept_value(value),
            Err(e) => vec![self.state().reply(Reply::malformed(
                Value::Null,
                ErrorCode::PARSE_ERROR,
                format!("Parse error: {e}"),
            ))],
        }
    }

    /// Decides what happens to one parsed message.
    pub(crate) fn accept_value(&self, value: Value) -> Vec<Inbound> {
        let message = match check(value) {
            Checked::Message(m) => m,
            Checked::Reply(r) => return vec![self.state().reply(r)],
            Checked::Ignore(why) => return vec![Inbound::Ignore(why)],
        };
        match message {
            Message::Request { id, method, value } => self.request(id, &method, value),
            Message::Notification { method, value } => self.notification(&method, value),
            Message::Response { value } => {
                let state = self.state();
                // The server sends no request outside a handshake-era session, so a response
                // there answers nothing (and rmcp's generic transport would end the session).
                if !state.handshaken {
                    return vec![Inbound::Ignore("a response outside a handshake-era session")];
                }
                // A response is never answered (JSON-RPC 2.0): one rmcp cannot read (an id of
                // 2^63 or more, a malformed `error`) answers no request the server sent.
                match parse(value) {
                    Ok(msg) => vec![Inbound::Forward(msg)],
                    Err(_) => vec![Inbound::Ignore("a response that answers no request of ours")],
                }
            }
        }
    }

    fn request(&self, id: Value, method: &str, mut value: Map<String, Value>) -> Vec<Inbound> {
        let mut state = self.state();
        if state.by_client.contains_key(&id_key(&id)) {
            return vec![state.reply(Reply::refused(
                id.clone(),
                ErrorCode::INVALID_REQUEST,
                format!(
                    "Invalid Request: the id {id} belongs to a request still in flight in this session; use a new id"
                ),
            ))];
        }
        // The revision the request itself names (2026-07-28 `_meta`); without one, the
        // session's, unless the session made a handshake.
        let stated = stated_revision(&value);
        let stateless = match &stated {
            Some(r) => is_stateless(r),
            None => !state.handshaken && state.revision.as_deref().is_some_and(is_stateless),
        };
        if stateless && removed_in_stateless(method) {
            let revision = stated.clone().or_else(|| state.revision.clone()).unwrap_or_default();
            let mut reply = Reply::new(
                ReplyKind::Removed,
                id,
                ErrorCode::METHOD_NOT_FOUND,
                format!("Method not found: {method} is not part of protocol revision {revision}"),
            );
            reply.id_optional = true;
            return vec![Inbound::Reply(reply)];
        }
        let mut out = Vec::new();
        let is_initialize = method == InitializeRequest::METHOD;
        let bare = stated.is_none() && is_bare(&value);
        if !state.started && !is_initialize && self.policy.bare == Bare::Handshake && bare {
            if method != PingRequest::METHOD {
                tracing::info!(
                    method = %method,
                    version = BARE_REQUEST_VERSION,
                    "a request arrived without initialize: served as a {BARE_REQUEST_VERSION} client without a handshake"
                );
                out.extend(self.handshake(&mut state));
            }
        } else if is_initialize || !bare {
            state.started = true;
        }
        state.handshaken |= is_initialize;
        if let Some(r) = &stated {
            state.revision = Some(r.clone());
        }
        let what = if method == SubscriptionsListenRequest::METHOD {
            Asked::Subscription
        } else if is_initialize {
            Asked::Initialize
        } else if stated.as_deref().is_some_and(is_stateless) {
            Asked::Stateless
        } else {
            Asked::Handshake
        };
        let internal = state.owe(Some(id), what);
        value.insert("id".into(), Value::from(internal));
        match parse(value) {
            Ok(msg) => out.push(Inbound::Forward(msg)),
            Err(reply) => {
                state.settle(internal);
                out.push(state.reply(reply));
            }
        }
        out
    }

    fn notification(&self, method: &str, mut value: Map<String, Value>) -> Vec<Inbound> {
        let mut state = self.state();
        // rmcp's generic transport ends the session on a notification that comes before a
        // handshake, also between stateless (2026-07-28) requests, which it serves as
        // requests before initialization: such a notification is not forwarded.
        let forward = state.handshaken || !self.policy.drop_before_initialize;
        if method == "notifications/cancelled" {
            // The client names its own id; rmcp knows ours. A request no longer in flight has
            // nothing to cancel.
            let named = value
                .get("params")
                .and_then(|p| p.get("requestId"))
                .map(id_key)
                .and_then(|k| state.by_client.get(&k).copied());
            let Some(internal) = named else {
                return vec![Inbound::Ignore("cancellation of a request not in flight")];
            };
            // A cancelled request is not answered (the spec says so): stop waiting, and drop
            // its answer should rmcp still send one.
            state.settle(internal);
            drop(state);
            self.settled.notify_waiters();
            if !forward {
                return vec![Inbound::Ignore(
                    "a cancellation rmcp cannot take before a handshake (settled here)",
                )];
            }
            if let Some(Value::Object(params)) = value.get_mut("params") {
                params.insert("requestId".into(), Value::from(internal));
            }
        } else if !forward {
            return vec![Inbound::Ignore("a notification before a handshake")];
        }
        match parse(value) {
            Ok(msg) => vec![Inbound::Forward(msg)],
            Err(_) => vec![Inbound::Ignore("a malformed notification")],
        }
    }

    /// The synthetic `initialize` + `notifications/initialized` of a bare request.
    fn handshake(&self, state: &mut State) -> Vec<Inbound> {
        state.started = true;
        state.handshaken = true;
        let internal = state.owe(None, Asked::Initialize);
        let initialize = json!({
            "jsonrpc": "2.0",
            "id": internal,
            "method": "initialize",
            "params": {
                "protocolVersion": BARE_REQUEST_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "bare-request", "version": "0"},
            },
        });
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        [initialize, initialized]
            .into_iter()
            .filter_map(|v| serde_json::from_value::<ClientJsonRpcMessage>(v).ok())
            .map(|m| Inbound::Forward(Box::new(m)))
            .collect()
    }

    /// Prepares one message rmcp sent for the client: an answer gets the client's id back and
    /// settles its request (a stateless request's result names the server in `_meta`); a
    /// notification of a subscription is tagged with the client's id of it. `None` when
    /// nobody must see the message (the synthetic handshake's answer, or an answer to a
    /// request the client cancelled).
    pub(crate) fn outbound(&self, mut message: Value) -> Option<Value> {
        let is_answer = message.get("method").is_none() && message.get("id").is_some();
        if !is_answer {
            self.tag_subscription(&mut message, "params");
            return Some(message);
        }
        let internal = message.get("id").and_then(Value::as_i64);
        if let Some(i) = internal
            && self.state().owed.get(&i).is_some_and(|o| o.what == Asked::Subscription)
        {
            self.tag_subscription(&mut message, "result");
        }
        let owed = internal.and_then(|i| self.state().settle(i));
        self.settled.notify_waiters();
        let owed = match owed {
            Some(o) => o,
            None if internal.is_some() => {
                tracing::debug!("an answer to a request no longer in flight (cancelled) was not sent");
                return None;
            }
            // An error rmcp answered without an id (a message it could not read): as is.
            None => return Some(message),
        };
        if owed.what == Asked::Initialize
            && let Some(v) = message.pointer("/result/protocolVersion").and_then(Value::as_str)
        {
            self.state().revision = Some(v.to_string());
        }
        let id = owed.client_id?;
        if owed.what == Asked::Stateless
            && let Some(Value::Object(result)) = message.get_mut("result")
        {
            let meta = result.entry("_meta").or_insert_with(|| json!({}));
            if let Value::Object(meta) = meta {
                meta.entry(META_SERVER_INFO)
                    .or_insert_with(|| json!({"name": crate::SERVER_NAME, "version": crate::SERVER_VERSION}));
            }
        }
        if let Value::Object(m) = &mut message {
            m.insert("id".into(), id);
        }
        Some(message)
    }

    /// [`Pipeline::outbound`] for a message as the JSON text rmcp wrote. A plain answer
    /// (`{"jsonrpc":"2.0","id":<rmcp's id>,"result"|"error":…}` to a request whose answer needs
    /// nothing but the client's id) gets that id in place of rmcp's, and the rest of the text
    /// goes out as written, unparsed: parsing and re-writing whole answers was most of what the
    /// server did per call over HTTP (a 48 KB `tools/list`). Anything else is parsed and goes
    /// through [`Pipeline::outbound`].
    pub(crate) fn outbound_text(&self, text: &str) -> Outgoing {
        if let Some((internal, rest)) = plain_answer(text) {
            let mut state = self.state();
            if state.owed.get(&internal).is_none_or(|o| o.what == Asked::Handshake) {
                let owed = state.settle(internal);
                drop(state);
                self.settled.notify_waiters();
                let Some(owed) = owed else {
                    tracing::debug!("an answer to a request no longer in flight (cancelled) was not sent");
                    return Outgoing::Withheld;
                };
                return match owed.client_id {
                    Some(id) => Outgoing::Send(format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},{rest}")),
                    None => Outgoing::Withheld,
                };
            }
        }
        match serde_json::from_str::<Value>(text) {
            Ok(message) => self
                .outbound(message)
                .map_or(Outgoing::Withheld, |m| Outgoing::Send(m.to_string())),
            Err(_) => Outgoing::NotJson,
        }
    }

    /// What goes out for a message rmcp sent on a channel transport (stdio, legacy SSE): its
    /// text after [`Pipeline::outbound_text`], or nothing (withheld, or not serializable,
    /// which is logged).
    pub(crate) fn outbound_message(&self, message: &ServerJsonRpcMessage) -> Option<String> {
        match serde_json::to_string(message).map(|text| self.outbound_text(&text)) {
            Ok(Outgoing::Send(text)) => Some(text),
            Ok(Outgoing::Withheld | Outgoing::NotJson) => None,
            Err(e) => {
                tracing::error!(error = %e, "an MCP message could not be serialized");
                None
            }
        }
    }

    /// Replaces rmcp's id in `<part>._meta["io.modelcontextprotocol/subscriptionId"]` by the
    /// client's id of that `subscriptions/listen` request.
    fn tag_subscription(&self, message: &mut Value, part: &str) {
        let Some(tag) = message
            .get_mut(part)
            .and_then(|p| p.get_mut("_meta"))
            .and_then(|m| m.get_mut(META_SUBSCRIPTION_ID))
        else {
            return;
        };
        let client = tag
            .as_i64()
            .and_then(|i| self.state().owed.get(&i).and_then(|o| o.client_id.clone()));
        if let Some(client) = client {
            *tag = client;
        }
    }

    /// Stops waiting for the answer to the request rmcp knows as `internal` (its HTTP response
    /// was dropped before the answer went out); a no-op once it was answered.
    pub(crate) fn abandon(&self, internal: i64) {
        if self.state().settle(internal).is_some() {
            self.settled.notify_waiters();
        }
    }

    /// The client's id of the request rmcp knows as `internal`, while it is owed.
    pub(crate) fn client_id(&self, internal: i64) -> Option<Value> {
        self.state().owed.get(&internal).and_then(|o| o.client_id.clone())
    }

    /// How many answers are owed (open subscriptions do not count: they end with the session).
    pub(crate) fn owed(&self) -> usize {
        self.state()
            .owed
            .values()
            .filter(|o| o.what != Asked::Subscription)
            .count()
    }

    /// Resolves when no answer is owed.
    pub(crate) async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            if self.owed() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// What goes out for one message of rmcp ([`Pipeline::outbound_text`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// This text.
    Send(String),
    /// Nothing: nobody must see the message.
    Withheld,
    /// The text is not JSON; it goes out as it is.
    NotJson,
}

/// rmcp's id and the text from the `"result"` or `"error"` key on, when `text` starts exactly
/// as rmcp writes an answer (`{"jsonrpc":"2.0","id":<integer>,"result":` or `"error":`).
fn plain_answer(text: &str) -> Option<(i64, &str)> {
    let rest = text.strip_prefix(r#"{"jsonrpc":"2.0","id":"#)?;
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-'))?;
    let internal = rest[..end].parse().ok()?;
    let rest = rest[end..].strip_prefix(',')?;
    (rest.starts_with(r#""result":"#) || rest.starts_with(r#""error":"#)).then_some((internal, rest))
}

/// The `_meta` key naming the server in a stateless result.
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// The `_meta` key tagging a subscription's messages.
const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The revision a request names in its 2026-07-28 `_meta`, if any.
fn stated_revision(request: &Map<String, Value>) -> Option<String> {
    request
        .get("params")
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(META_PROTOCOL_VERSION))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The methods of the handshake era that the stateless revision removed.
#[allow(deprecated)]
fn removed_in_stateless(method: &str) -> bool {
    [
        PingRequest::METHOD,
        InitializeRequest::METHOD,
        SetLevelRequest::METHOD,
        SubscribeRequest::METHOD,
        UnsubscribeRequest::METHOD,
    ]
    .contains(&method)
}

/// Whether a request carries none of the 2026-07-28 `_meta` keys (a bare request).
fn is_bare(request: &Map<String, Value>) -> bool {
    let meta = request.get("params").and_then(|p| p.get("_meta"));
    !meta.is_some_and(|m| m.get(META_PROTOCOL_VERSION).is_some() || m.get(META_CLIENT_CAPABILITIES).is_some())
}

/// One JSON-RPC message, checked for shape and classified.
enum Message {
    Request {
        id: Value,
        method: String,
        value: Map<String, Value>,
    },
    Notification {
        method: String,
        value: Map<String, Value>,
    },
    Response {
        value: Map<String, Value>,
    },
}

enum Checked {
    Message(Message),
    Reply(Reply),
    Ignore(&'static str),
}

/// The shape rules of JSON-RPC 2.0 and MCP (see the module table); nothing is copied.
fn check(value: Value) -> Checked {
    let mut obj = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Checked::Reply(Reply::invalid(
                Value::Null,
                "batches are not supported; send one message per request",
            ));
        }
        _ => {
            return Checked::Reply(Reply::invalid(Value::Null, "a JSON-RPC message must be a JSON object"));
        }
    };
    let method = match obj.get("method") {
        None => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) if !obj.contains_key("id") => return Checked::Ignore("a notification whose method is not a string"),
        Some(_) => None,
    };
    let Some(raw_id) = obj.get("id") else {
        // A notification is never answered, however malformed.
        return match method {
            Some(method) if is_jsonrpc_2(&obj) && params_shape_ok(&obj) => {
                Checked::Message(Message::Notification { method, value: obj })
            }
            Some(_) => Checked::Ignore("a malformed notification"),
            None => Checked::Reply(Reply::invalid(
                Value::Null,
                "expected `method` (request or notification) or `result`/`error` (response)",
            )),
        };
    };
    let id = match raw_id {
        Value::String(_) => raw_id.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => raw_id.clone(),
        Value::Number(_) => return Checked::Reply(Reply::invalid(Value::Null, "`id` must be a string or an integer")),
        _ => return Checked::Reply(Reply::invalid(Value::Null, "`id` must be a string or a number")),
    };
    if !is_jsonrpc_2(&obj) {
        return Checked::Reply(Reply::invalid(id, "`jsonrpc` must be \"2.0\""));
    }
    match obj.get("method") {
        Some(Value::String(_)) => {}
        Some(_) => return Checked::Reply(Reply::invalid(id, "`method` must be a string")),
        None => {
            if !(obj.contains_key("result") || obj.contains_key("error")) {
                return Checked::Reply(Reply::invalid(
                    id,
                    "expected `method` (request or notification) or `result`/`error` (response)",
                ));
            }
            return Checked::Message(Message::Response { value: obj });
        }
    }
    let method = method.unwrap_or_default();
    if !params_shape_ok(&obj) {
        if known_request(&method) {
            return Checked::Reply(Reply::refused(
                id,
                ErrorCode::INVALID_PARAMS,
                format!("Invalid params for {method}: `params` must be an object"),
            ));
        }
        return Checked::Reply(Reply::invalid(id, "`params` must be an object or an array"));
    }
    // A method its own (stateless) revision removed is not found, whatever its params.
    let removed = removed_in_stateless(&method) && stated_revision(&obj).is_some_and(|r| is_stateless(&r));
    if !removed && let Some(problem) = params_problem(&method, &mut obj) {
        return Checked::Reply(Reply::refused(
            id,
            ErrorCode::INVALID_PARAMS,
            format!("Invalid params for {method}: {problem}"),
        ));
    }
    Checked::Message(Message::Request { id, method, value: obj })
}

fn is_jsonrpc_2(obj: &Map<String, Value>) -> bool {
    obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
}

fn params_shape_ok(obj: &Map<String, Value>) -> bool {
    obj.get("params")
        .is_none_or(|p| p.is_object() || p.is_array() || p.is_null())
}

/// Parses a checked message into rmcp's type (moved, not copied).
fn parse(value: Map<String, Value>) -> Result<Box<ClientJsonRpcMessage>, Reply> {
    serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(value))
        .map(Box::new)
        .map_err(|e| Reply::invalid(Value::Null, &e.to_string()))
}

/// A client request type of rmcp with a fixed method name.
trait KnownRequest: DeserializeOwned {
    const METHOD: &'static str;

    /// Why `params` (present and not `null`) do not fit, beyond what deserializing the whole
    /// request finds.
    fn params_problem(_params: &Value) -> Option<String> {
        None
    }
}

impl<M: ConstString + DeserializeOwned, P: DeserializeOwned> KnownRequest for Request<M, P> {
    const METHOD: &'static str = M::VALUE;
}

impl<M: ConstString + DeserializeOwned, P: DeserializeOwned> KnownRequest for RequestOptionalParam<M, P> {
    const METHOD: &'static str = M::VALUE;

    /// rmcp reads optional params through a flattened `Option`, which serde turns into `None`
    /// when they do not fit: `tools/list {"cursor": 5}` would be served as the first page.
    fn params_problem(params: &Value) -> Option<String> {
        P::deserialize(params).err().map(|e| e.to_string())
    }
}

impl<M: ConstString + DeserializeOwned> KnownRequest for RequestNoParam<M> {
    const METHOD: &'static str = M::VALUE;
}

/// The client requests rmcp parses into typed params, named by rmcp's own types (the method
/// strings come from them): for these, params that do not parse are -32602, where rmcp would
/// take the request for an unknown method (-32601).
macro_rules! known_requests {
    ($($request:ty),+ $(,)?) => {
        #[allow(deprecated)]
        fn known_request(method: &str) -> bool {
            $(method == <$request as KnownRequest>::METHOD)||+
        }

        /// Why `params` do not fit `method` (serde's message, e.g. "missing field `name`"), for
        /// a known method; `None` when they fit or the method is not known.
        #[allow(deprecated)]
        fn params_problem(method: &str, request: &mut Map<String, Value>) -> Option<String> {
            $(
                if method == <$request as KnownRequest>::METHOD {
                    return probe::<$request>(request);
                }
            )+
            None
        }
    };
}

known_requests!(
    PingRequest,
    InitializeRequest,
    DiscoverRequest,
    CompleteRequest,
    SetLevelRequest,
    GetPromptRequest,
    ListPromptsRequest,
    ListResourcesRequest,
    ListResourceTemplatesRequest,
    ReadResourceRequest,
    SubscriptionsListenRequest,
    SubscribeRequest,
    UnsubscribeRequest,
    CallToolRequest,
    ListToolsRequest,
);

/// Deserializes the `method` and `params` of `request` as `T`, lending them and putting them
/// back, so nothing is copied.
fn probe<T: KnownRequest>(request: &mut Map<String, Value>) -> Option<String> {
    let mut shell = Map::new();
    for key in ["method", "params"] {
        if let Some(v) = request.remove(key) {
            shell.insert(key.into(), v);
        }
    }
    let shell = Value::Object(shell);
    let problem = T::deserialize(&shell)
        .err()
        .map(|e| e.to_string())
        .or_else(|| shell.get("params").filter(|p| !p.is_null()).and_then(T::params_problem));
    if let Value::Object(parts) = shell {
        request.extend(parts);
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(p: &Pipeline, v: Value) -> (Value, i32, bool) {
        match p.accept_value(v).pop() {
            Some(Inbound::Reply(r)) => (r.id, r.code.0, r.kind == ReplyKind::Malformed),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn forwarded(p: &Pipeline, v: Value) -> Vec<Value> {
        p.accept_value(v)
            .into_iter()
            .map(|i| match i {
                Inbound::Forward(m) => serde_json::to_value(&*m).expect("serializes"),
                other => panic!("expected forwarding, got {other:?}"),
            })
            .collect()
    }

    fn initialized(policy: Policy) -> Pipeline {
        let p = Pipeline::new(policy);
        let init = json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        let sent = forwarded(&p, init);
        let internal = sent[0]["id"].clone();
        p.outbound(json!({"jsonrpc": "2.0", "id": internal, "result": {}}));
        p
    }

    /// The text rmcp writes for the message `v`.
    fn rmcp_text(v: Value) -> String {
        let m: ServerJsonRpcMessage = serde_json::from_value(v).expect("an rmcp message");
        serde_json::to_string(&m).expect("serializes")
    }

    #[test]
    fn answers_as_rmcp_writes_them_are_recognised_as_plain() {
        let ok = rmcp_text(json!({"jsonrpc": "2.0", "id": 7, "result": {"tools": []}}));
        assert_eq!(plain_answer(&ok), Some((7, r#""result":{"tools":[]}}"#)));
        let err = rmcp_text(json!({"jsonrpc": "2.0", "id": 8, "error": {"code": -32602, "message": "m"}}));
        assert_eq!(plain_answer(&err).map(|(i, _)| i), Some(8));
        // Requests, notifications, string ids and other shapes are not.
        for text in [
            rmcp_text(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})),
            rmcp_text(
                json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}),
            ),
            r#"{"jsonrpc":"2.0","id":"7","result":{}}"#.to_string(),
            r#"{"jsonrpc":"2.0","id":7}"#.to_string(),
            r#"{"id":7,"jsonrpc":"2.0","result":{}}"#.to_string(),
        ] {
            assert_eq!(plain_answer(&text), None, "{text}");
        }
    }

    #[test]
    fn an_answer_as_text_goes_out_exactly_as_the_parsed_path_writes_it() {
        // Two pipelines in the same state: one answers through the text path, one through
        // `outbound`. Results with escapes, unicode, floats and big integers, and errors.
        let results = [
            json!({"content": [{"type": "text", "text": "line\nwith \"quotes\", tabs\t, é, 😀 and \u{0001}"}]}),
            json!({"n": 1.5, "big": 18446744073709551615u64, "neg": -3, "tiny": 1e-300, "e": 1e300}),
            json!({"tools": [{"name": "x", "inputSchema": {"type": "object"}}], "nextCursor": null}),
        ];
        for (i, result) in results.into_iter().enumerate() {
            for answer in [
                json!({"result": result}),
                json!({"error": {"code": -32602, "message": "bad", "data": result}}),
            ] {
                let (fast, slow) = (initialized(Policy::STDIO), initialized(Policy::STDIO));
                let request = json!({"jsonrpc": "2.0", "id": format!("c-{i}"), "method": "tools/list"});
                let internal = forwarded(&fast, request.clone())[0]["id"].clone();
                assert_eq!(forwarded(&slow, request)[0]["id"], internal);
                let mut message = json!({"jsonrpc": "2.0", "id": internal});
                message
                    .as_object_mut()
                    .expect("object")
                    .extend(answer.as_object().expect("object").clone());
                let text = rmcp_text(message.clone());
                assert!(plain_answer(&text).is_some(), "{text}");
                let expected = slow
                    .outbound(serde_json::from_str(&text).expect("json"))
                    .expect("sent")
                    .to_string();
                assert_eq!(fast.outbound_text(&text), Outgoing::Send(expected.clone()));
                assert!(expected.contains(&format!(r#""id":"c-{i}""#)), "{expected}");
                // Answered once: a second copy is withheld on both paths.
                assert_eq!(fast.outbound_text(&text), Outgoing::Withheld);
                assert_eq!(slow.outbound(serde_json::from_str(&text).expect("json")), None);
                assert_eq!(fast.owed(), 0);
            }
        }
        let p = initialized(Policy::STDIO);
        assert_eq!(p.outbound_text("not json"), Outgoing::NotJson);
    }

    #[test]
    fn batches_and_non_json_rpc_messages_are_invalid_requests() {
        let p = initialized(Policy::STDIO);
        assert_eq!(reply(&p, json!([])), (Value::Null, -32600, true));
        assert_eq!(
            reply(&p, json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])).1,
            -32600
        );
        assert_eq!(reply(&p, json!("x")).1, -32600);
        assert_eq!(reply(&p, json!({"id": 1, "method": "ping"})), (json!(1), -32600, true));
        assert_eq!(reply(&p, json!({"jsonrpc": "2.0", "id": 3})), (json!(3), -32600, true));
        assert_eq!(
            reply(&p, json!({"jsonrpc": "2.0", "id": 2.5, "method": "ping"})).0,
            Value::Null
        );
        assert!(matches!(p.accept(b"{not json").pop(), Some(Inbound::Reply(r)) if r.code.0 == -32700));
    }

    #[test]
    fn known_methods_with_malformed_params_are_invalid_params() {
        let p = initialized(Policy::STDIO);
        assert_eq!(
            reply(
                &p,
                json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {}})
            ),
            (json!(7), -32602, false)
        );
        assert_eq!(
            reply(
                &p,
                json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": "bad"})
            )
            .1,
            -32602
        );
        // Optional params that are present must fit too (rmcp alone would ignore them).
        assert_eq!(
            reply(
                &p,
                json!({"jsonrpc": "2.0", "id": 10, "method": "tools/list", "params": {"cursor": 5}})
            ),
            (json!(10), -32602, false)
        );
        assert_eq!(
            forwarded(
                &p,
                json!({"jsonrpc": "2.0", "id": 11, "method": "tools/list", "params": {"cursor": "c"}})
            )
            .len(),
            1
        );
        // An unknown method is rmcp's to answer (-32601).
        assert_eq!(
            forwarded(&p, json!({"jsonrpc": "2.0", "id": 9, "method": "no/such"})).len(),
            1
        );
    }

    #[test]
    fn malformed_notifications_are_never_answered() {
        let p = initialized(Policy::STDIO);
        for v in [
            json!({"jsonrpc": "2.0", "method": "tools/call", "params": "bad"}),
            json!({"jsonrpc": "1.0", "method": "notifications/initialized"}),
            json!({"method": 5}),
        ] {
            assert!(matches!(p.accept_value(v).pop(), Some(Inbound::Ignore(_))));
        }
    }

    #[test]
    fn responses_are_never_answered_even_when_rmcp_cannot_read_them() {
        let p = initialized(Policy::STDIO);
        for v in [
            json!({"jsonrpc": "2.0", "id": 9_223_372_036_854_775_809u64, "result": {}}),
            json!({"jsonrpc": "2.0", "id": 3, "error": "not an object"}),
        ] {
            assert!(matches!(p.accept_value(v).pop(), Some(Inbound::Ignore(_))));
        }
    }

    #[test]
    fn ids_are_replaced_and_restored_byte_for_byte() {
        let p = initialized(Policy::STDIO);
        for id in [json!(9_223_372_036_854_775_808u64), json!("abc"), json!(-5), json!(0)] {
            let sent = forwarded(&p, json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}));
            let internal = sent[0]["id"].clone();
            assert!(internal.is_i64());
            assert_eq!(p.owed(), 1);
            let out = p
                .outbound(json!({"jsonrpc": "2.0", "id": internal, "result": {"tools": []}}))
                .expect("answered");
            assert_eq!(out["id"], id);
            assert_eq!(p.owed(), 0);
        }
    }

    #[test]
    fn an_id_in_flight_is_refused_until_it_was_answered() {
        let p = initialized(Policy::STREAMABLE);
        let call = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"});
        let internal = forwarded(&p, call.clone())[0]["id"].clone();
        assert_eq!(reply(&p, call.clone()), (json!(4), -32600, false));
        assert_eq!(reply(&p, call.clone()).1, -32600);
        p.outbound(json!({"jsonrpc": "2.0", "id": internal, "result": {}}));
        assert_eq!(forwarded(&p, call).len(), 1, "free again once answered");
    }

    #[test]
    fn cancellation_names_the_clients_id_and_settles_it() {
        let p = initialized(Policy::STDIO);
        let internal = forwarded(&p, json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/list"}))[0]["id"].clone();
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow"}});
        let sent = forwarded(&p, cancel);
        assert_eq!(sent[0]["params"]["requestId"], internal);
        assert_eq!(p.owed(), 0);
        assert!(
            p.outbound(json!({"jsonrpc": "2.0", "id": internal, "result": {}}))
                .is_none()
        );
        let unknown = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "never"}});
        assert!(matches!(p.accept_value(unknown).pop(), Some(Inbound::Ignore(_))));
    }

    #[test]
    fn a_bare_request_on_stdio_gets_a_handshake_nobody_sees() {
        let p = Pipeline::new(Policy::STDIO);
        let sent = forwarded(
            &p,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
        );
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0]["method"], "initialize");
        assert_eq!(sent[0]["params"]["protocolVersion"], BARE_REQUEST_VERSION);
        assert_eq!(sent[1]["method"], "notifications/initialized");
        assert_eq!(sent[2]["method"], "tools/list");
        assert!(
            p.outbound(json!({"jsonrpc": "2.0", "id": sent[0]["id"], "result": {}}))
                .is_none()
        );
        let out = p.outbound(json!({"jsonrpc": "2.0", "id": sent[2]["id"], "result": {"tools": []}}));
        assert_eq!(out.expect("answered")["id"], 1);
        // Later requests need no second handshake.
        assert_eq!(
            forwarded(&p, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).len(),
            1
        );
    }

    #[test]
    fn a_request_with_2026_meta_or_before_initialize_over_http_is_not_given_a_handshake() {
        let p = Pipeline::new(Policy::STDIO);
        let modern = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
            META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}}}});
        assert_eq!(forwarded(&p, modern).len(), 1);
        let sse = Pipeline::new(Policy::LEGACY_SSE);
        assert_eq!(
            forwarded(&sse, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).len(),
            1
        );
        assert!(matches!(
            sse.accept_value(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .pop(),
            Some(Inbound::Ignore(_))
        ));
    }

    fn stateless(method: &str, id: i64) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"_meta": {
            META_PROTOCOL_VERSION: STATELESS_REVISION, META_CLIENT_CAPABILITIES: {}}}})
    }

    #[test]
    fn methods_removed_at_the_stateless_wire_are_not_found_there_and_served_before() {
        let p = Pipeline::new(Policy::STDIO);
        for method in [
            "ping",
            "initialize",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
        ] {
            match p.accept_value(stateless(method, 1)).pop() {
                Some(Inbound::Reply(r)) => {
                    assert_eq!(
                        (r.code.0, r.kind, r.id),
                        (-32601, ReplyKind::Removed, json!(1)),
                        "{method}"
                    );
                }
                other => panic!("{method}: {other:?}"),
            }
        }
        // Told the wire is stateless (an HTTP header), a request without `_meta` is judged so too.
        let http = Pipeline::new(Policy::STREAMABLE);
        http.hint_revision(Some(STATELESS_REVISION));
        assert!(
            matches!(http.accept_value(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})).pop(),
            Some(Inbound::Reply(r)) if r.kind == ReplyKind::Removed)
        );
        // A handshake-era session keeps its methods.
        let old = initialized(Policy::STDIO);
        assert_eq!(
            forwarded(&old, json!({"jsonrpc": "2.0", "id": 3, "method": "ping"})).len(),
            1
        );
    }

    #[test]
    fn stateless_results_name_the_server_and_subscriptions_are_tagged_with_the_clients_id() {
        let p = Pipeline::new(Policy::STDIO);
        let sent = forwarded(&p, stateless("tools/list", 1));
        let out = p
            .outbound(json!({"jsonrpc": "2.0", "id": sent[0]["id"], "result": {"tools": []}}))
            .expect("answered");
        assert_eq!(out["result"]["_meta"][META_SERVER_INFO]["name"], crate::SERVER_NAME);
        let listen = json!({"jsonrpc": "2.0", "id": "s", "method": "subscriptions/listen", "params": {
            "_meta": {META_PROTOCOL_VERSION: STATELESS_REVISION, META_CLIENT_CAPABILITIES: {}},
            "notifications": {}}});
        let internal = forwarded(&p, listen)[0]["id"].clone();
        assert_eq!(p.owed(), 0, "an open subscription is not an owed answer");
        let ack = p
            .outbound(
                json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                "params": {"_meta": {META_SUBSCRIPTION_ID: internal}, "notifications": {}}}),
            )
            .expect("sent");
        assert_eq!(ack["params"]["_meta"][META_SUBSCRIPTION_ID], "s");
    }

    #[test]
    fn notifications_between_stateless_requests_on_stdio_never_reach_rmcp_but_cancel() {
        let p = Pipeline::new(Policy::STDIO);
        let internal = forwarded(&p, stateless("tools/list", 5))[0]["id"].clone();
        let unknown = json!({"jsonrpc": "2.0", "method": "notifications/whatever"});
        assert!(matches!(p.accept_value(unknown).pop(), Some(Inbound::Ignore(_))));
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}});
        assert!(matches!(p.accept_value(cancel).pop(), Some(Inbound::Ignore(_))));
        assert_eq!(p.owed(), 0);
        assert!(
            p.outbound(json!({"jsonrpc": "2.0", "id": internal, "result": {}}))
                .is_none()
        );
    }

    #[test]
    fn an_error_that_names_no_request_leaves_the_id_out_from_2025_11_25() {
        let old = error_body(&Value::Null, ErrorCode::PARSE_ERROR, "x", Some("2025-06-18"));
        assert_eq!(old["id"], Value::Null);
        assert!(old.as_object().is_some_and(|m| m.contains_key("id")));
        let new = error_body(&Value::Null, ErrorCode::PARSE_ERROR, "x", Some("2025-11-25"));
        assert!(new.get("id").is_none());
        let unknown = error_body(&Value::Null, ErrorCode::PARSE_ERROR, "x", None);
        assert!(unknown.as_object().is_some_and(|m| m.contains_key("id")));
        let named = error_body(&json!(4), ErrorCode::INVALID_REQUEST, "x", Some("2026-07-28"));
        assert_eq!(named["id"], 4);
    }
}
