//! Streamable HTTP (`/mcp` and `/`): rmcp's `StreamableHttpService` (stateful, with
//! `LocalSessionManager`) behind [`guard`], which adds what rmcp does not do:
//!
//! - **POST bodies**: read once with the 16 MiB limit (413), parsed before rmcp sees them:
//!   not JSON → HTTP 400 with JSON-RPC `-32700`; a batch or a non-JSON-RPC value → 400 with
//!   `-32600`; a request whose `params` do not fit its method → 200 with `-32602`; the same
//!   rules as stdio ([`super::frame`]).
//! - **Sessions belong to keys**: the key digest of the `initialize` that created a session is
//!   recorded; any request naming the session with another key (or a session we do not know)
//!   is 404, like an expired session. Owners of sessions rmcp closed (DELETE, idle expiry) are
//!   forgotten, so abandoned sessions leave nothing behind.
//! - **JSON responses**: a client that accepts only `application/json` gets the answer as one
//!   JSON body (rmcp's stateful mode would refuse it with 406); others get rmcp's SSE.
//! - **JSON errors**: rmcp's plain-text refusals (406, 415, a bad `MCP-Protocol-Version`, an
//!   unknown session, ...) are turned into JSON-RPC error bodies with the same status.
//! - **Shutdown**: standalone GET streams end when shutdown begins; POST answers finish.

use super::Shared;
use super::auth::KeyId;
use super::guard::{INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, SESSION_NOT_FOUND, read_body, rpc_error, rpc_json};
use super::{MAX_BODY_BYTES, MAX_SESSIONS, MAX_SESSIONS_PER_KEY};
use crate::frame::{Verdict, classify};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use rmcp::model::{ClientRequest, JsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

const SESSION_HEADER: &str = "mcp-session-id";

/// Which key opened which Streamable HTTP session.
pub(crate) struct Sessions {
    manager: Arc<LocalSessionManager>,
    owners: Mutex<HashMap<String, KeyId>>,
}

impl Sessions {
    pub(crate) fn new(manager: Arc<LocalSessionManager>) -> Sessions {
        Sessions {
            manager,
            owners: Mutex::new(HashMap::new()),
        }
    }

    fn owned_by(&self, session: &str, key: &KeyId) -> bool {
        self.owners
            .lock()
            .ok()
            .and_then(|o| o.get(session).map(|owner| owner.same_as(key)))
            .unwrap_or(false)
    }

    fn record(&self, session: &str, key: KeyId) {
        if let Ok(mut o) = self.owners.lock() {
            o.insert(session.to_string(), key);
        }
    }

    fn forget(&self, session: &str) {
        if let Ok(mut o) = self.owners.lock() {
            o.remove(session);
        }
    }

    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.owners.lock().map(|o| o.len()).unwrap_or(0)
    }

    /// How many sessions `key` has open.
    fn count_of(&self, key: &KeyId) -> usize {
        self.owners
            .lock()
            .map(|o| o.values().filter(|k| k.same_as(key)).count())
            .unwrap_or(0)
    }

    /// Forgets the owners of sessions rmcp no longer has (closed, idle-expired, failed).
    pub(crate) async fn prune(&self) {
        let live: HashSet<String> = self
            .manager
            .sessions
            .read()
            .await
            .keys()
            .map(|id| id.to_string())
            .collect();
        if let Ok(mut o) = self.owners.lock() {
            let before = o.len();
            o.retain(|id, _| live.contains(id));
            if o.len() < before {
                tracing::debug!(closed = before - o.len(), open = o.len(), "sessions closed");
            }
        }
    }
}

fn session_not_found() -> Response {
    rpc_error(
        StatusCode::NOT_FOUND,
        Value::Null,
        SESSION_NOT_FOUND,
        "Not Found: Session not found (expired, closed, or opened with another key); initialize a new session",
    )
}

/// What the body of a POST said, as far as the guard needs it.
struct Posted {
    id: Option<Value>,
    initialize: bool,
}

/// Middleware in front of rmcp's service (see the module docs).
pub(crate) async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(key) = req.extensions().get::<KeyId>().copied() else {
        // The auth layer always runs first; refuse rather than serve without a key.
        return rpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Value::Null,
            INTERNAL_ERROR,
            "internal error: no key",
        );
    };
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .map(|v| v.to_str().map(str::to_string));
    let session = match session {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return session_not_found(),
    };
    if let Some(s) = &session
        && !shared.sessions.owned_by(s, &key)
    {
        return session_not_found();
    }
    let method = req.method().clone();
    match method {
        Method::POST => post(&shared, req, next, key, session).await,
        Method::GET => {
            let response = json_errors(next.run(req).await).await;
            if response.status() == StatusCode::OK {
                // The standalone stream would otherwise hold graceful shutdown open forever.
                let stop = shared.shutdown.clone().cancelled_owned();
                let (parts, body) = response.into_parts();
                let body = Body::from_stream(body.into_data_stream().take_until(stop));
                return Response::from_parts(parts, body);
            }
            response
        }
        Method::DELETE => {
            let response = json_errors(next.run(req).await).await;
            if response.status().is_success()
                && let Some(s) = &session
            {
                shared.sessions.forget(s);
                tracing::debug!("session closed by the client");
            }
            response
        }
        _ => json_errors(next.run(req).await).await,
    }
}

async fn post(shared: &Shared, req: Request, next: Next, key: KeyId, session: Option<String>) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                PARSE_ERROR,
                format!("Parse error: {e}"),
            );
        }
    };
    let posted = match classify(value) {
        Verdict::Reply { id, code, message } => {
            tracing::debug!(code, %message, "framing error answered before rmcp");
            // A well-formed request with unfitting params is a protocol answer (200); anything
            // that is not a usable JSON-RPC message is a bad HTTP request (400).
            let status = if code == super::guard::INVALID_PARAMS && !id.is_null() {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            return rpc_error(status, id, code, message);
        }
        Verdict::Drop(why) => {
            tracing::debug!(why, "message dropped");
            return Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(Body::empty())
                .unwrap_or_default();
        }
        Verdict::Forward(msg) => match *msg {
            JsonRpcMessage::Request(r) => Posted {
                initialize: matches!(r.request, ClientRequest::InitializeRequest(_)),
                id: serde_json::to_value(&r.id).ok(),
            },
            _ => Posted {
                id: None,
                initialize: false,
            },
        },
    };
    if posted.initialize && session.is_none() {
        if shared.sessions.len() >= MAX_SESSIONS {
            tracing::warn!(limit = MAX_SESSIONS, "session limit reached; initialize refused");
            return rpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                posted.id.unwrap_or(Value::Null),
                INTERNAL_ERROR,
                "Service Unavailable: too many open sessions; retry later",
            );
        }
        if shared.sessions.count_of(&key) >= MAX_SESSIONS_PER_KEY {
            tracing::warn!(
                limit = MAX_SESSIONS_PER_KEY,
                "session limit of one key reached; initialize refused"
            );
            return rpc_error(
                StatusCode::TOO_MANY_REQUESTS,
                posted.id.unwrap_or(Value::Null),
                INTERNAL_ERROR,
                "Too Many Requests: this key has too many open sessions; end some (DELETE) or let them expire",
            );
        }
    }
    // A client that takes only JSON gets JSON: rmcp (stateful) answers requests as SSE, so
    // ask it for SSE and collect the one answer below.
    let want_json = posted.id.is_some() && accepts_only_json(&parts.headers);
    if want_json {
        parts
            .headers
            .insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
    }
    parts.headers.remove(CONTENT_LENGTH);
    let req = Request::from_parts(parts, Body::from(bytes));
    let response = json_errors(next.run(req).await).await;
    if posted.initialize
        && session.is_none()
        && let Some(id) = response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok())
    {
        shared.sessions.record(id, key);
        tracing::debug!(open = shared.sessions.len(), "session opened");
    }
    match posted.id {
        Some(id) if want_json && is_event_stream(&response) => collect_answer(shared, response, &id).await,
        _ => response,
    }
}

fn accepts_only_json(headers: &axum::http::HeaderMap) -> bool {
    let mut json = false;
    let mut sse = false;
    for value in headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()) {
        for entry in value.split(',') {
            let essence = entry.split(';').next().unwrap_or("").trim();
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && !sse
}

fn is_event_stream(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Reads an SSE answer until the message answering `id` and returns it as a JSON body.
async fn collect_answer(shared: &Shared, response: Response, id: &Value) -> Response {
    let (mut parts, body) = response.into_parts();
    let mut stream = body.into_data_stream();
    let mut parser = SseLines::default();
    let found = tokio::time::timeout(shared.answer_deadline, async {
        while let Some(Ok(chunk)) = stream.next().await {
            for data in parser.feed(&chunk) {
                if let Ok(msg) = serde_json::from_str::<Value>(&data)
                    && msg.get("id") == Some(id)
                    && msg.get("method").is_none()
                {
                    return Some(msg);
                }
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(msg)) => {
            let mut out = rpc_json(StatusCode::OK, &msg);
            for name in ["mcp-session-id"] {
                if let Some(v) = parts.headers.remove(name) {
                    out.headers_mut().insert(name, v);
                }
            }
            out
        }
        Ok(None) => rpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            id.clone(),
            INTERNAL_ERROR,
            "the answer stream ended without an answer",
        ),
        Err(_) => rpc_error(
            StatusCode::GATEWAY_TIMEOUT,
            id.clone(),
            INTERNAL_ERROR,
            "no answer within the deadline",
        ),
    }
}

/// A minimal SSE reader: yields the `data` of each complete event.
#[derive(Default)]
pub(crate) struct SseLines {
    buf: Vec<u8>,
    data: Vec<String>,
}

impl SseLines {
    /// Feeds bytes; returns the data of the events completed by them.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let data = self.data.join("\n");
                self.data.clear();
                if !data.is_empty() {
                    out.push(data);
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                self.data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
            }
        }
        out
    }
}

/// Turns a plain-text error from rmcp into a JSON-RPC error body with the same status and
/// headers (`Allow`, ...).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_else(|_| Bytes::from_static(b""));
    let mut message = String::from_utf8_lossy(&text).trim().to_string();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_string();
    }
    let code = match status {
        StatusCode::NOT_FOUND => SESSION_NOT_FOUND,
        s if s.is_server_error() => INTERNAL_ERROR,
        _ => INVALID_REQUEST,
    };
    let rewritten = rpc_error(status, Value::Null, code, message);
    let (new_parts, new_body) = rewritten.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(
        CONTENT_TYPE,
        new_parts
            .headers
            .get(CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json")),
    );
    Response::from_parts(parts, new_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_on_blank_lines_across_chunks() {
        let mut p = SseLines::default();
        assert!(p.feed(b"id: 0\nretry: 3000\ndata:\n\nda").is_empty());
        assert_eq!(p.feed(b"ta: {\"a\":1}\r\n\r\n"), vec!["{\"a\":1}".to_string()]);
    }

    #[test]
    fn only_json_is_only_json() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        assert!(accepts_only_json(&h));
        h.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        assert!(!accepts_only_json(&h));
        h.insert(ACCEPT, HeaderValue::from_static("*/*"));
        assert!(!accepts_only_json(&h));
    }

    #[tokio::test]
    async fn plain_text_refusals_become_json_rpc_errors_with_the_same_status() {
        let response = Response::builder()
            .status(StatusCode::NOT_ACCEPTABLE)
            .header("allow", "GET, POST")
            .body(Body::from("Not Acceptable: nope"))
            .expect("response");
        let out = json_errors(response).await;
        assert_eq!(out.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(out.headers()["allow"], "GET, POST");
        let body = axum::body::to_bytes(out.into_body(), 1024).await.expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"]["code"], INVALID_REQUEST);
        assert_eq!(v["error"]["message"], "Not Acceptable: nope");
    }
}
