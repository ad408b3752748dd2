//! Legacy HTTP+SSE (protocol 2024-11-05), which rmcp 3.x no longer ships, rebuilt on rmcp's
//! generic `(Sink, Stream)` transport:
//!
//! - `GET /sse` opens a session: an `AlloyServer` is served on two channels, and the response
//!   is an event stream whose first event is `endpoint` with data
//!   `/message?sessionId=<id>` (prefixed with the public URL's path, if any); every server
//!   message follows as a `message` event.
//! - `POST /message?sessionId=<id>` hands one JSON-RPC message to that session and answers
//!   202; the JSON-RPC answer arrives on the stream. Framing errors (`-32700`, `-32600`,
//!   `-32602`, as on stdio) are answered on the stream too. 404 for an unknown session or one
//!   opened with another key, 413 over 16 MiB, 400 without `sessionId`.
//! - A session ends when the GET stream is dropped (the client went away), when it was idle
//!   for `--session-idle`, or at shutdown once the answers it owes went out. Ending removes it
//!   from the map and closes rmcp's input, so nothing of an abandoned session stays behind.

use super::Shared;
use super::auth::KeyId;
use super::guard::{INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, SESSION_NOT_FOUND, read_body, rpc_error};
use super::{MAX_BODY_BYTES, MAX_SESSIONS, MAX_SESSIONS_PER_KEY};
use crate::frame::{Verdict, classify};
use crate::identity::Caller;
use axum::Extension;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::ServiceExt;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, GetExtensions, JsonRpcMessage, ServerJsonRpcMessage,
};
use rmcp::service::ServerInitializeError;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Messages queued per direction before a sender waits.
const CHANNEL: usize = 64;
/// How long a POST waits for a session that does not take its message.
const HANDOFF: Duration = Duration::from_secs(30);

/// The open legacy sessions.
#[derive(Default)]
pub(crate) struct Legacy {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl Legacy {
    fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions.lock().ok()?.get(id).cloned()
    }

    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// How many sessions `key` has open.
    fn count_of(&self, key: &KeyId) -> usize {
        self.sessions
            .lock()
            .map(|s| s.values().filter(|v| v.owner.same_as(key)).count())
            .unwrap_or(0)
    }

    fn remove(&self, id: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(id);
        }
    }

    /// Closes sessions without traffic for `idle` that owe no answers.
    pub(crate) fn expire_idle(&self, idle: Duration) {
        let now = Instant::now();
        let expired: Vec<Arc<Session>> = match self.sessions.lock() {
            Ok(mut s) => {
                let ids: Vec<String> = s
                    .iter()
                    .filter(|(_, v)| v.idle_since(now) >= idle && v.pending.is_empty())
                    .map(|(k, _)| k.clone())
                    .collect();
                ids.iter().filter_map(|id| s.remove(id)).collect()
            }
            Err(_) => Vec::new(),
        };
        for s in expired {
            tracing::debug!("legacy SSE session closed after being idle");
            s.closed.cancel();
        }
    }
}

struct Session {
    owner: KeyId,
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    replies: mpsc::Sender<String>,
    initialized: AtomicBool,
    pending: Arc<Pending>,
    last_seen: Mutex<Instant>,
    closed: CancellationToken,
}

impl Session {
    fn touch(&self) {
        if let Ok(mut t) = self.last_seen.lock() {
            *t = Instant::now();
        }
    }

    fn idle_since(&self, now: Instant) -> Duration {
        self.last_seen
            .lock()
            .map(|t| now.saturating_duration_since(*t))
            .unwrap_or_default()
    }
}

/// Request ids handed to rmcp and not answered yet.
#[derive(Default)]
struct Pending {
    ids: Mutex<HashSet<String>>,
    changed: Notify,
}

impl Pending {
    fn insert(&self, id: String) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(id);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.remove(id);
        }
        self.changed.notify_waiters();
    }

    fn is_empty(&self) -> bool {
        self.ids.lock().map(|ids| ids.is_empty()).unwrap_or(true)
    }

    async fn wait_empty(&self) {
        loop {
            let notified = self.changed.notified();
            if self.is_empty() {
                return;
            }
            notified.await;
        }
    }
}

fn id_key<T: serde::Serialize>(id: &T) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

/// Removes the session when its event stream is dropped.
struct StreamGuard {
    legacy: Weak<Legacy>,
    id: String,
    closed: CancellationToken,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(legacy) = self.legacy.upgrade() {
            legacy.remove(&self.id);
            tracing::debug!(open = legacy.len(), "legacy SSE session ended");
        }
        self.closed.cancel();
    }
}

/// `GET /sse`: opens a session and streams its events.
pub(crate) async fn open(State(shared): State<Arc<Shared>>, Extension(key): Extension<KeyId>) -> Response {
    if shared.legacy.len() >= MAX_SESSIONS {
        tracing::warn!(limit = MAX_SESSIONS, "legacy session limit reached");
        return rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            Value::Null,
            INTERNAL_ERROR,
            "Service Unavailable: too many open sessions; retry later",
        );
    }
    if shared.legacy.count_of(&key) >= MAX_SESSIONS_PER_KEY {
        tracing::warn!(limit = MAX_SESSIONS_PER_KEY, "legacy session limit of one key reached");
        return rpc_error(
            StatusCode::TOO_MANY_REQUESTS,
            Value::Null,
            INTERNAL_ERROR,
            "Too Many Requests: this key has too many open sessions",
        );
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_rmcp, rmcp_in) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL);
    let (rmcp_out, from_rmcp) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL);
    let (replies, reply_rx) = mpsc::channel::<String>(CHANNEL);
    let closed = CancellationToken::new();
    let pending = Arc::new(Pending::default());
    let session = Arc::new(Session {
        owner: key,
        to_rmcp,
        replies,
        initialized: AtomicBool::new(false),
        pending: pending.clone(),
        last_seen: Mutex::new(Instant::now()),
        closed: closed.clone(),
    });
    if let Ok(mut s) = shared.legacy.sessions.lock() {
        s.insert(id.clone(), session.clone());
    }
    tracing::debug!(open = shared.legacy.len(), "legacy SSE session opened");

    let server = shared.server.clone();
    let service_done = closed.clone();
    tokio::spawn(async move {
        match server.serve((rmcp_out, rmcp_in)).await {
            Ok(running) => {
                if let Err(e) = running.waiting().await {
                    tracing::debug!(error = %e, "legacy SSE session service ended with an error");
                }
            }
            Err(ServerInitializeError::ConnectionClosed(_)) => {}
            Err(e) => tracing::info!(error = %e, "legacy SSE session ended during initialization"),
        }
        service_done.cancel();
    });

    let endpoint = format!("{}?sessionId={id}", shared.settings.message_path);
    let guard = StreamGuard {
        legacy: Arc::downgrade(&shared.legacy),
        id,
        closed: closed.clone(),
    };
    let answers = {
        let session = session.clone();
        from_rmcp.map(move |msg| {
            let answered = match &msg {
                JsonRpcMessage::Response(r) => Some(id_key(&r.id)),
                JsonRpcMessage::Error(e) => e.id.as_ref().map(id_key),
                _ => None,
            };
            let data = serde_json::to_string(&msg).unwrap_or_else(|e| {
                tracing::error!(error = %e, "an MCP message could not be serialized");
                String::new()
            });
            if let Some(id) = answered {
                session.pending.remove(&id);
            }
            session.touch();
            data
        })
    };
    drop(session);
    let shutdown = shared.shutdown.clone();
    let stop = async move {
        tokio::select! {
            () = closed.cancelled() => {}
            () = async { shutdown.cancelled().await; pending.wait_empty().await } => {}
        }
    };
    let events = futures::stream::once(async move { Event::default().event("endpoint").data(endpoint) })
        .chain(
            futures::stream::select(answers, reply_rx)
                .filter(|data| futures::future::ready(!data.is_empty()))
                .map(|data| Event::default().event("message").data(data)),
        )
        .take_until(stop)
        .map(move |event| {
            let _ = &guard;
            Ok::<Event, Infallible>(event)
        });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// `POST /message?sessionId=…`: hands one message to its session.
pub(crate) async fn message(
    State(shared): State<Arc<Shared>>,
    Extension(key): Extension<KeyId>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
    req: Request,
) -> Response {
    let session_id = query.as_deref().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "sessionId")
            .map(|(_, v)| v.to_string())
    });
    let Some(session_id) = session_id else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            INVALID_REQUEST,
            "Bad Request: the sessionId query parameter is required (from the endpoint event of GET /sse)",
        );
    };
    let Some(session) = shared.legacy.get(&session_id).filter(|s| s.owner.same_as(&key)) else {
        return rpc_error(
            StatusCode::NOT_FOUND,
            Value::Null,
            SESSION_NOT_FOUND,
            "Not Found: Session not found (ended, or opened with another key); open a new one with GET /sse",
        );
    };
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    session.touch();
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return reply(&session, Value::Null, PARSE_ERROR, format!("Parse error: {e}")),
    };
    let mut msg = match classify(value) {
        Verdict::Reply { id, code, message } => return reply(&session, id, code, message),
        Verdict::Drop(why) => {
            tracing::debug!(why, "message dropped");
            return accepted();
        }
        Verdict::Forward(msg) => *msg,
    };
    match &mut msg {
        JsonRpcMessage::Request(r) => {
            if matches!(r.request, ClientRequest::InitializeRequest(_)) {
                session.initialized.store(true, Ordering::SeqCst);
            }
            r.request.extensions_mut().insert(caller);
            session.pending.insert(id_key(&r.id));
        }
        // rmcp stops serving when a notification or response precedes `initialize`.
        _ if !session.initialized.load(Ordering::SeqCst) => {
            tracing::debug!("notification or response before initialize dropped");
            return accepted();
        }
        JsonRpcMessage::Notification(n) => {
            if let ClientNotification::CancelledNotification(c) = &n.notification
                && let Some(id) = &c.params.request_id
            {
                session.pending.remove(&id_key(id));
            }
            n.notification.extensions_mut().insert(caller);
        }
        _ => {}
    }
    let mut tx = session.to_rmcp.clone();
    match tokio::time::timeout(HANDOFF, tx.send(msg)).await {
        Ok(Ok(())) => accepted(),
        Ok(Err(_)) => rpc_error(
            StatusCode::NOT_FOUND,
            Value::Null,
            SESSION_NOT_FOUND,
            "Not Found: the session has ended; open a new one with GET /sse",
        ),
        Err(_) => rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            Value::Null,
            INTERNAL_ERROR,
            "Service Unavailable: the session is not reading its messages (is the event stream being read?)",
        ),
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Body::from("Accepted")).into_response()
}

/// Answers a framing error on the session's stream.
fn reply(session: &Session, id: Value, code: i32, message: String) -> Response {
    tracing::debug!(code, %message, "framing error answered on the event stream");
    let line = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let mut tx = session.replies.clone();
    match tx.try_send(line.to_string()) {
        Ok(()) => accepted(),
        Err(_) => rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            id,
            INTERNAL_ERROR,
            "Service Unavailable: the event stream is not being read",
        ),
    }
}
