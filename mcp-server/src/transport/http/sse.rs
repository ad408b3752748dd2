//! Legacy HTTP+SSE (protocol 2024-11-05), which rmcp 3.x no longer ships, rebuilt on rmcp's
//! generic `(Sink, Stream)` transport, with the inbound [`Pipeline`] of each session in front:
//!
//! - `GET /sse` opens a session: an `AlloyServer` is served on two channels, and the response
//!   is an event stream whose first event is `endpoint` with data
//!   `/message?sessionId=<id>` (prefixed with the public URL's path, if any); every server
//!   message follows as a `message` event, its id restored by the pipeline.
//! - `POST /message?sessionId=<id>` hands one message to the session's pipeline and answers
//!   202; the JSON-RPC answer arrives on the stream, and so do the pipeline's own error replies
//!   (`-32700`, `-32600`, `-32602`, an id in flight). 404 for an unknown session or one opened
//!   with another key, 413 over the body limit, 400 without `sessionId`.
//! - A session ends when the GET stream is dropped (the client went away), when it was idle
//!   for `--session-idle`, or at shutdown once the answers it owes went out. Ending removes it
//!   from the map and closes rmcp's input, so nothing of an abandoned session stays behind.

use super::Shared;
use super::auth::KeyId;
use super::body::read_body;
use super::refusal::Refusal;
use super::{MAX_BODY_BYTES, MAX_SESSIONS, MAX_SESSIONS_PER_KEY};
use crate::transport::pipeline::{Inbound, Pipeline, Policy, serve_session};
use crate::upstream::identity::Caller;
use axum::Extension;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, JsonRpcMessage, ServerJsonRpcMessage};
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};
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
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.sessions().len()
    }

    /// How many sessions `key` has open.
    fn count_of(&self, key: &KeyId) -> usize {
        self.sessions().values().filter(|v| v.owner.same_as(key)).count()
    }

    /// Closes sessions without traffic for `idle` that owe no answers.
    pub(crate) fn expire_idle(&self, idle: Duration) {
        let now = Instant::now();
        let expired: Vec<Arc<Session>> = {
            let mut sessions = self.sessions();
            let ids: Vec<String> = sessions
                .iter()
                .filter(|(_, v)| v.idle_since(now) >= idle && v.pipeline.owed() == 0)
                .map(|(k, _)| k.clone())
                .collect();
            ids.iter().filter_map(|id| sessions.remove(id)).collect()
        };
        for s in expired {
            tracing::debug!("legacy SSE session closed after being idle");
            s.closed.cancel();
        }
    }
}

struct Session {
    owner: KeyId,
    pipeline: Arc<Pipeline>,
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    replies: mpsc::Sender<String>,
    last_seen: Mutex<Instant>,
    closed: CancellationToken,
}

impl Session {
    fn touch(&self) {
        *self.last_seen.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_since(&self, now: Instant) -> Duration {
        now.saturating_duration_since(*self.last_seen.lock().unwrap_or_else(PoisonError::into_inner))
    }
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
            legacy.sessions().remove(&self.id);
            tracing::debug!(open = legacy.len(), "legacy SSE session ended");
        }
        self.closed.cancel();
    }
}

/// `GET /sse`: opens a session and streams its events.
pub(crate) async fn open(State(shared): State<Arc<Shared>>, Extension(key): Extension<KeyId>) -> Response {
    if shared.legacy.len() >= MAX_SESSIONS {
        tracing::warn!(limit = MAX_SESSIONS, "legacy session limit reached");
        return Refusal::TooManySessions.into_response();
    }
    if shared.legacy.count_of(&key) >= MAX_SESSIONS_PER_KEY {
        tracing::warn!(limit = MAX_SESSIONS_PER_KEY, "legacy session limit of one key reached");
        return Refusal::TooManySessionsOfKey.into_response();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_rmcp, rmcp_in) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL);
    let (rmcp_out, from_rmcp) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL);
    let (replies, reply_rx) = mpsc::channel::<String>(CHANNEL);
    let closed = CancellationToken::new();
    let pipeline = Arc::new(Pipeline::new(Policy::LEGACY_SSE));
    let session = Arc::new(Session {
        owner: key,
        pipeline: pipeline.clone(),
        to_rmcp,
        replies,
        last_seen: Mutex::new(Instant::now()),
        closed: closed.clone(),
    });
    shared.legacy.sessions().insert(id.clone(), session.clone());
    tracing::debug!(open = shared.legacy.len(), "legacy SSE session opened");

    let server = shared.server.clone();
    let service_done = closed.clone();
    tokio::spawn(async move {
        // A legacy client may go away at any moment: not worth more than `info`.
        if let Err(e) = serve_session(server, (rmcp_out, rmcp_in)).await {
            tracing::info!(error = %e, "legacy SSE");
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
        from_rmcp.filter_map(move |msg| {
            session.touch();
            futures::future::ready(session.pipeline.outbound_message(&msg))
        })
    };
    drop(session);
    let shutdown = shared.shutdown.clone();
    let stop = async move {
        tokio::select! {
            () = closed.cancelled() => {}
            () = async { shutdown.cancelled().await; pipeline.settled().await } => {}
        }
    };
    let events = futures::stream::once(async move { Event::default().event("endpoint").data(endpoint) })
        .chain(futures::stream::select(answers, reply_rx).map(|data| Event::default().event("message").data(data)))
        .take_until(stop)
        .map(move |event| {
            let _ = &guard;
            Ok::<Event, Infallible>(event)
        });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The query of `POST /message`.
#[derive(Deserialize)]
pub(crate) struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

/// `POST /message?sessionId=…`: hands one message to its session.
pub(crate) async fn message(
    State(shared): State<Arc<Shared>>,
    Extension(key): Extension<KeyId>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<MessageQuery>,
    req: Request,
) -> Result<StatusCode, Refusal> {
    let session_id = query.session_id.ok_or(Refusal::MissingSessionId)?;
    let session = shared
        .legacy
        .sessions()
        .get(&session_id)
        .filter(|s| s.owner.same_as(&key))
        .cloned()
        .ok_or(Refusal::UnknownSession {
            hint: "Not Found: Session not found (ended, or opened with another key); open a new one with GET /sse",
        })?;
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY_BYTES, shared.limits.body_timeout).await?;
    session.touch();
    for inbound in session.pipeline.accept(&bytes) {
        match inbound {
            Inbound::Forward(mut msg) => {
                // This request acts as the key of its own POST.
                match &mut *msg {
                    JsonRpcMessage::Request(r) => {
                        r.request.extensions_mut().insert(caller.clone());
                    }
                    JsonRpcMessage::Notification(n) => {
                        n.notification.extensions_mut().insert(caller.clone());
                    }
                    _ => {}
                }
                let mut tx = session.to_rmcp.clone();
                match tokio::time::timeout(HANDOFF, tx.send(*msg)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => {
                        return Err(Refusal::UnknownSession {
                            hint: "Not Found: the session has ended; open a new one with GET /sse",
                        });
                    }
                    Err(_) => return Err(Refusal::SessionStalled),
                }
            }
            Inbound::Reply(reply) => {
                tracing::debug!(code = reply.code.0, message = %reply.message, "answered on the event stream");
                let mut tx = session.replies.clone();
                tx.try_send(reply.to_value().to_string())
                    .map_err(|_| Refusal::SessionStalled)?;
            }
            Inbound::Ignore(why) => tracing::debug!(why, "message ignored"),
        }
    }
    Ok(StatusCode::ACCEPTED)
}
