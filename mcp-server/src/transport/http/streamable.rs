//! Streamable HTTP (`/mcp` and `/`): rmcp's `StreamableHttpService` (stateful, with
//! `LocalSessionManager`) behind [`guard`], which puts every message through the inbound
//! [`Pipeline`] of its session and adds what rmcp does not do:
//!
//! - **POST bodies**: read once with the body limit and timeout, then the pipeline: framing
//!   errors are JSON-RPC errors (`-32700`/`-32600` with HTTP 400, a refused well-formed request
//!   with 200), a request whose id is in flight in the session is refused, and rmcp gets the
//!   message with the pipeline's request id. Every answer (SSE or JSON) goes back through the
//!   same pipeline, which restores the client's id; when the client drops a response before
//!   its answer, the request is no longer owed.
//! - **Sessions belong to keys**: the key digest of the `initialize` that created a session is
//!   recorded with the session's pipeline; any request naming the session with another key (or
//!   a session we do not know) is 404, like an expired session. Sessions rmcp closed (DELETE,
//!   idle expiry) are forgotten, so abandoned sessions leave nothing behind.
//! - **Accept**: rmcp wants both `application/json` and `text/event-stream` listed. A client
//!   that accepts only JSON (or `*/*`) gets a request's answer as one JSON body, and its
//!   notifications are accepted (202) instead of refused with 406.
//! - **JSON errors**: rmcp's plain-text refusals (406, 415, a bad `MCP-Protocol-Version`, an
//!   unknown session, ...) become JSON-RPC error bodies with the same status.
//! - **Shutdown**: standalone GET streams end when shutdown begins; POST answers finish.

use super::Shared;
use super::auth::KeyId;
use super::body::read_body;
use super::refusal::{Refusal, json_response, protocol_version};
use super::{MAX_BODY_BYTES, MAX_SESSIONS, MAX_SESSIONS_PER_KEY};
use crate::transport::pipeline::{Inbound, Outgoing, Pipeline, Policy};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rmcp::model::{ClientRequest, JsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

const SESSION_HEADER: &str = "mcp-session-id";

/// What `Accept` rmcp is shown, whatever the client sent (when it accepts either).
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// One Streamable HTTP session: the key that opened it and its pipeline.
struct Session {
    owner: KeyId,
    pipeline: Arc<Pipeline>,
}

/// The open Streamable HTTP sessions.
pub(crate) struct Sessions {
    manager: Arc<LocalSessionManager>,
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub(crate) fn new(manager: Arc<LocalSessionManager>) -> Sessions {
        Sessions {
            manager,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn open(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pipeline of `session`, if `key` opened it.
    fn pipeline(&self, session: &str, key: &KeyId) -> Option<Arc<Pipeline>> {
        self.open()
            .get(session)
            .filter(|s| s.owner.same_as(key))
            .map(|s| s.pipeline.clone())
    }

    fn record(&self, session: &str, owner: KeyId, pipeline: Arc<Pipeline>) {
        self.open().insert(session.to_string(), Session { owner, pipeline });
    }

    fn forget(&self, session: &str) {
        self.open().remove(session);
    }

    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.open().len()
    }

    /// How many sessions `key` has open.
    fn count_of(&self, key: &KeyId) -> usize {
        self.open().values().filter(|s| s.owner.same_as(key)).count()
    }

    /// Forgets the sessions rmcp no longer has (closed, idle-expired, failed).
    pub(crate) async fn prune(&self) {
        let live: HashSet<String> = self
            .manager
            .sessions
            .read()
            .await
            .keys()
            .map(|id| id.to_string())
            .collect();
        let mut open = self.open();
        let before = open.len();
        open.retain(|id, _| live.contains(id));
        if open.len() < before {
            tracing::debug!(closed = before - open.len(), open = open.len(), "sessions closed");
        }
    }
}

fn unknown_session() -> Refusal {
    Refusal::UnknownSession {
        hint: "Not Found: Session not found (expired, closed, or opened with another key); initialize a new session",
    }
}

/// Middleware in front of rmcp's service (see the module docs).
pub(crate) async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let revision = protocol_version(req.headers());
    match route(&shared, req, next).await {
        Ok(response) => response,
        Err(refusal) => refusal.render(revision.as_deref()),
    }
}

async fn route(shared: &Shared, req: Request, next: Next) -> Result<Response, Refusal> {
    let revision = protocol_version(req.headers());
    let revision = revision.as_deref();
    // The auth layer always runs first; refuse rather than serve without a key.
    let key = req
        .extensions()
        .get::<KeyId>()
        .copied()
        .ok_or(Refusal::Internal("no key"))?;
    let session = match req.headers().get(SESSION_HEADER).map(|v| v.to_str()) {
        None => None,
        Some(Ok(id)) => {
            let pipeline = shared.sessions.pipeline(id, &key).ok_or_else(unknown_session)?;
            Some((id.to_string(), pipeline))
        }
        Some(Err(_)) => return Err(unknown_session()),
    };
    match *req.method() {
        Method::POST => post(shared, req, next, key, session).await,
        Method::GET => {
            let response = json_errors(next.run(req).await, revision).await?;
            let Some((_, pipeline)) = session.filter(|_| response.status() == StatusCode::OK) else {
                return Ok(response);
            };
            // The standalone stream would otherwise hold graceful shutdown open forever.
            let stop = shared.shutdown.clone().cancelled_owned();
            let (parts, body) = response.into_parts();
            let events = Rewritten::new(body.into_data_stream(), pipeline, None).take_until(stop);
            Ok(Response::from_parts(parts, Body::from_stream(events)))
        }
        Method::DELETE => {
            let response = json_errors(next.run(req).await, revision).await?;
            if response.status().is_success()
                && let Some((id, _)) = &session
            {
                shared.sessions.forget(id);
                tracing::debug!("session closed by the client");
            }
            Ok(response)
        }
        _ => json_errors(next.run(req).await, revision).await,
    }
}

async fn post(
    shared: &Shared,
    req: Request,
    next: Next,
    key: KeyId,
    session: Option<(String, Arc<Pipeline>)>,
) -> Result<Response, Refusal> {
    let (mut parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY_BYTES, shared.limits.body_timeout).await?;
    let has_session = session.is_some();
    // A POST without a session is an `initialize` (its session's pipeline starts here) or a
    // request of the 2026-07-28 stateless era (a pipeline for this request alone).
    let pipeline = session.map_or_else(|| Arc::new(Pipeline::new(Policy::STREAMABLE)), |(_, p)| p);
    pipeline.hint_revision(protocol_version(&parts.headers).as_deref());
    // The streamable policy never adds a handshake, so there is one verdict.
    let message = match pipeline.accept(&bytes).into_iter().next() {
        Some(Inbound::Forward(m)) => m,
        Some(Inbound::Reply(reply)) => {
            tracing::debug!(code = reply.code.0, message = %reply.message, "answered by the pipeline");
            return Err(Refusal::Pipeline(reply));
        }
        Some(Inbound::Ignore(why)) => {
            tracing::debug!(why, "message ignored");
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        None => return Err(Refusal::Internal("the pipeline gave no verdict")),
    };
    let (internal, initialize) = match &*message {
        JsonRpcMessage::Request(r) => (
            r.id.clone().into_json_value().as_i64(),
            matches!(r.request, ClientRequest::InitializeRequest(_)),
        ),
        _ => (None, false),
    };
    let opens_session = initialize && !has_session;
    if opens_session {
        if shared.sessions.len() >= MAX_SESSIONS {
            tracing::warn!(limit = MAX_SESSIONS, "session limit reached; initialize refused");
            return Err(Refusal::TooManySessions);
        }
        if shared.sessions.count_of(&key) >= MAX_SESSIONS_PER_KEY {
            tracing::warn!(
                limit = MAX_SESSIONS_PER_KEY,
                "session limit of one key reached; initialize refused"
            );
            return Err(Refusal::TooManySessionsOfKey);
        }
    }
    let accepts = Accepts::of(&parts.headers);
    if accepts.json || accepts.sse {
        parts.headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_BOTH));
    }
    let want_json = internal.is_some() && accepts.json && !accepts.sse_listed;
    let body = serde_json::to_vec(&*message).map_err(|_| Refusal::Internal("a message did not serialize"))?;
    parts.headers.remove(CONTENT_LENGTH);
    let revision = protocol_version(&parts.headers);
    let response = json_errors(
        next.run(Request::from_parts(parts, Body::from(body))).await,
        revision.as_deref(),
    )
    .await?;
    if opens_session && let Some(id) = response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
        shared.sessions.record(id, key, pipeline.clone());
        tracing::debug!(open = shared.sessions.len(), "session opened");
    }
    let Some(internal) = internal else {
        return Ok(response);
    };
    if is_content(&response, "text/event-stream") {
        if want_json {
            return collect_answer(shared, response, &pipeline, internal).await;
        }
        let (parts, body) = response.into_parts();
        let events = Rewritten::new(body.into_data_stream(), pipeline, Some(internal));
        return Ok(Response::from_parts(parts, Body::from_stream(events)));
    }
    if is_content(&response, "application/json") {
        return rewrite_json(response, &pipeline).await;
    }
    pipeline.abandon(internal);
    Ok(response)
}

/// What a client's `Accept` allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Accepts {
    /// `application/json`, `application/*` or `*/*`.
    json: bool,
    /// `text/event-stream`, `text/*` or `*/*`.
    sse: bool,
    /// `text/event-stream` named explicitly.
    sse_listed: bool,
}

impl Accepts {
    fn of(headers: &HeaderMap) -> Accepts {
        let mut a = Accepts::default();
        for value in headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()) {
            for entry in value.split(',') {
                let essence = entry.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                match essence.as_str() {
                    "application/json" | "application/*" => a.json = true,
                    "text/event-stream" => {
                        a.sse = true;
                        a.sse_listed = true;
                    }
                    "text/*" => a.sse = true,
                    "*/*" => {
                        a.json = true;
                        a.sse = true;
                    }
                    _ => {}
                }
            }
        }
        a
    }
}

fn is_content(response: &Response, media: &str) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(media))
}

/// Reads an SSE answer until the message answering `internal` and returns it as one JSON body.
async fn collect_answer(
    shared: &Shared,
    response: Response,
    pipeline: &Arc<Pipeline>,
    internal: i64,
) -> Result<Response, Refusal> {
    let client_id = pipeline.client_id(internal).unwrap_or(Value::Null);
    let (mut parts, body) = response.into_parts();
    let mut stream = body.into_data_stream();
    let mut events = SseEvents::default();
    let found = tokio::time::timeout(shared.answer_deadline, async {
        while let Some(Ok(chunk)) = stream.next().await {
            for event in events.feed(&chunk) {
                if let Some(msg) = event.message()
                    && msg.get("method").is_none()
                    && msg.get("id").and_then(Value::as_i64) == Some(internal)
                {
                    return pipeline.outbound(msg);
                }
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(answer)) => {
            let mut out = json_response(StatusCode::OK, &answer);
            if let Some(v) = parts.headers.remove(SESSION_HEADER) {
                out.headers_mut().insert(SESSION_HEADER, v);
            }
            Ok(out)
        }
        outcome => {
            pipeline.abandon(internal);
            Err(Refusal::NoAnswer {
                id: client_id,
                timed_out: outcome.is_err(),
            })
        }
    }
}

/// A JSON answer of rmcp with the client's id restored.
async fn rewrite_json(response: Response, pipeline: &Pipeline) -> Result<Response, Refusal> {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES * 4)
        .await
        .map_err(|_| Refusal::Internal("an answer could not be read"))?;
    let out = match std::str::from_utf8(&bytes).map(|text| pipeline.outbound_text(text)) {
        Ok(Outgoing::Send(text)) => Bytes::from(text),
        Ok(Outgoing::Withheld | Outgoing::NotJson) | Err(_) => bytes,
    };
    let mut response = Response::from_parts(parts, Body::from(out));
    response.headers_mut().remove(CONTENT_LENGTH);
    Ok(response)
}

/// One server-sent event as received: its lines, and its data joined.
struct SseEvent {
    /// Every line but `data:` lines (`id:`, `event:`, `retry:`, comments), as received.
    other: Vec<String>,
    data: Option<String>,
}

impl SseEvent {
    /// The event's data as a JSON-RPC message, if it is one.
    fn message(&self) -> Option<Value> {
        serde_json::from_str(self.data.as_deref()?).ok()
    }

    fn encode(&self, data: Option<&str>) -> Vec<u8> {
        let mut out = String::new();
        for line in &self.other {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(d) = data {
            for line in d.split('\n') {
                out.push_str("data: ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push('\n');
        out.into_bytes()
    }
}

/// A minimal SSE reader: yields each complete event.
#[derive(Default)]
struct SseEvents {
    buf: Vec<u8>,
    other: Vec<String>,
    data: Vec<String>,
}

impl SseEvents {
    /// Feeds bytes; returns the events completed by them.
    fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.buf[start..start + pos]);
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                if !self.other.is_empty() || !self.data.is_empty() {
                    out.push(SseEvent {
                        other: std::mem::take(&mut self.other),
                        data: (!self.data.is_empty()).then(|| self.data.join("\n")),
                    });
                    self.data.clear();
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                self.data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
            } else {
                self.other.push(line.to_string());
            }
            start += pos + 1;
        }
        self.buf.drain(..start);
        out
    }
}

/// An SSE body from rmcp, event by event through the pipeline: answers get the client's id
/// back, messages nobody must see are left out. Dropping it before the answer of `internal`
/// went out tells the pipeline that request is no longer owed.
struct Rewritten<S> {
    inner: S,
    events: SseEvents,
    pipeline: Arc<Pipeline>,
    internal: Option<i64>,
}

impl<S> Rewritten<S> {
    fn new(inner: S, pipeline: Arc<Pipeline>, internal: Option<i64>) -> Rewritten<S> {
        Rewritten {
            inner,
            events: SseEvents::default(),
            pipeline,
            internal,
        }
    }
}

impl<S, E> Stream for Rewritten<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let chunk = match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => chunk,
                other => return other,
            };
            let this = &mut *self;
            let mut out = Vec::new();
            for event in this.events.feed(&chunk) {
                let Some(data) = event.data.as_deref() else {
                    out.extend(event.encode(None));
                    continue;
                };
                match this.pipeline.outbound_text(data) {
                    Outgoing::Send(text) => out.extend(event.encode(Some(&text))),
                    Outgoing::Withheld => {}
                    Outgoing::NotJson => out.extend(event.encode(Some(data))),
                }
            }
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Bytes::from(out))));
            }
        }
    }
}

impl<S> Drop for Rewritten<S> {
    fn drop(&mut self) {
        if let Some(internal) = self.internal {
            self.pipeline.abandon(internal);
        }
    }
}

/// Turns a plain-text error from rmcp into a JSON-RPC error body with the same status and
/// headers (`Allow`, ...), for a client of `revision`.
async fn json_errors(response: Response, revision: Option<&str>) -> Result<Response, Refusal> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_content(&response, "application/json") {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_else(|_| Bytes::from_static(b""));
    let mut message = String::from_utf8_lossy(&text).trim().to_string();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_string();
    }
    let rewritten = Refusal::Rmcp { status, message }.render(revision);
    let (new_parts, new_body) = rewritten.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    if let Some(ct) = new_parts.headers.get(CONTENT_TYPE) {
        parts.headers.insert(CONTENT_TYPE, ct.clone());
    }
    Ok(Response::from_parts(parts, new_body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_on_blank_lines_across_chunks_and_keep_their_other_lines() {
        let mut p = SseEvents::default();
        let first = p.feed(b"id: 0\nretry: 3000\ndata:\n\nda");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].other, vec!["id: 0", "retry: 3000"]);
        assert!(first[0].message().is_none());
        let second = p.feed(b"ta: {\"a\":1}\r\nid: 1/0\r\n\r\n");
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].message(), Some(serde_json::json!({"a": 1})));
        assert_eq!(
            String::from_utf8(second[0].encode(Some("{\"b\":2}"))).expect("utf-8"),
            "id: 1/0\ndata: {\"b\":2}\n\n"
        );
    }

    #[test]
    fn accept_lists_are_read_with_wildcards() {
        let of = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT, HeaderValue::from_static(v));
            Accepts::of(&h)
        };
        assert_eq!(
            of("application/json"),
            Accepts {
                json: true,
                sse: false,
                sse_listed: false
            }
        );
        assert!(of("application/json, text/event-stream").sse_listed);
        let any = of("*/*");
        assert!(any.json && any.sse && !any.sse_listed);
        assert_eq!(of("text/html"), Accepts::default());
    }

    #[tokio::test]
    async fn plain_text_refusals_become_json_rpc_errors_with_the_same_status() {
        let response = Response::builder()
            .status(StatusCode::NOT_ACCEPTABLE)
            .header("allow", "GET, POST")
            .body(Body::from("Not Acceptable: nope"))
            .expect("response");
        let out = json_errors(response, None).await.expect("rewritten");
        assert_eq!(out.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(out.headers()["allow"], "GET, POST");
        let body = axum::body::to_bytes(out.into_body(), 1024).await.expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(v["error"]["message"], "Not Acceptable: nope");
    }
}
