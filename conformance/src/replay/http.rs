//! `replay --http ADDR`: the recording as an HTTP MCP server on a loopback address.
//!
//! - Streamable HTTP at `/mcp` and `/`: a POSTed request is answered with one JSON body, or an
//!   SSE stream when the recorded answer holds more than one message and the client accepts
//!   `text/event-stream`; notifications and responses get 202. An `initialize` opens a session
//!   (`Mcp-Session-Id`, each session matched against the whole recording on its own); a
//!   handshake-era recording wants that id on later requests (400 without, 404 for an unknown
//!   one), a stateless one serves requests without a session. DELETE ends a session; GET gets
//!   405 (there is no server stream to offer).
//! - Legacy HTTP+SSE at `/sse`: the stream opens with `endpoint` (`/message?sessionId=…`);
//!   POSTs there get 202 and their answers arrive as `message` events.
//!
//! A recorded HTTP refusal (`http_status`) is answered with that status and body. Runs until
//! SIGINT or SIGTERM, then prints the summary: exit 0 when everything matched, 1 otherwise.

use super::{Book, Out};
use crate::era::Era;
use crate::serve::{self, Body};
use crate::transcript::Serving;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The largest request body read.
const BODY_CAP: usize = 64 << 20;
/// Sessions open at once (each holds its own matching state).
const MAX_SESSIONS: usize = 1000;

/// A legacy session's event stream.
type Events = mpsc::Sender<Result<Bytes, std::io::Error>>;

struct Replay {
    template: Book,
    era: Era,
    port: u16,
    sessions: Mutex<HashMap<String, Book>>,
    legacy: Mutex<HashMap<String, (Book, Events)>>,
    sessionless: Mutex<Book>,
    /// Every session ever opened, for the summary.
    finished: Mutex<Vec<Book>>,
    next: AtomicU64,
}

/// Serves `book` on `addr` until SIGINT or SIGTERM.
pub async fn serve(addr: SocketAddr, book: Book, what: &str, era: Era) -> anyhow::Result<ExitCode> {
    let listener = serve::bind_loopback(addr, "--http").await?;
    let local = listener.local_addr()?;
    eprintln!(
        "alloy-conformance replay: serving {what} on http://{local}/mcp (legacy SSE: http://{local}/sse); Ctrl-C stops"
    );
    let replay = Arc::new(Replay {
        sessionless: Mutex::new(book.fresh()),
        template: book,
        era,
        port: local.port(),
        sessions: Mutex::new(HashMap::new()),
        legacy: Mutex::new(HashMap::new()),
        finished: Mutex::new(Vec::new()),
        next: AtomicU64::new(1),
    });
    let handler: serve::Handler = {
        let r = replay.clone();
        Arc::new(move |req| {
            let r = r.clone();
            Box::pin(async move { r.handle(req).await })
        })
    };
    serve::serve(listener, handler, async {
        crate::record::termination().await;
    })
    .await;
    let mut all: Vec<Book> = replay.finished.lock().map(|f| f.clone()).unwrap_or_default();
    if let Ok(s) = replay.sessions.lock() {
        all.extend(s.values().cloned());
    }
    if let Ok(l) = replay.legacy.lock() {
        all.extend(l.values().map(|(b, _)| b.clone()));
    }
    if let Ok(s) = replay.sessionless.lock() {
        all.push(s.clone());
    }
    all.retain(Book::touched);
    let (summary, ok) = replay.template.summary(&all);
    eprintln!("{summary}");
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn error_body(status: u16, id: Value, code: i64, message: String) -> Response<Body> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let mut r = Response::new(serve::full(body.to_string()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn sse_event(m: &Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {m}\n\n"))
}

impl Replay {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = match http_body_util::Limited::new(body, BODY_CAP).collect().await {
            Ok(c) => c.to_bytes(),
            Err(_) => return serve::text(413, format!("request body over {} MiB\n", BODY_CAP >> 20)),
        };
        let path = parts.uri.path();
        let sid = parts
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match (&parts.method, path) {
            (&Method::GET, "/sse") => self.open_legacy(),
            (&Method::POST, "/message") => {
                let id = parts.uri.query().and_then(|q| {
                    q.split('&')
                        .find_map(|p| p.strip_prefix("sessionId=").map(str::to_string))
                });
                self.legacy_post(id, &body).await
            }
            (&Method::POST, "/mcp" | "/") => {
                let accepts_sse = parts
                    .headers
                    .get(hyper::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("text/event-stream"));
                self.post(sid, &body, accepts_sse)
            }
            (&Method::DELETE, "/mcp" | "/") => match sid {
                Some(s) => {
                    let book = self.sessions.lock().ok().and_then(|mut m| m.remove(&s));
                    match book {
                        Some(b) => {
                            if let Ok(mut f) = self.finished.lock() {
                                f.push(b);
                            }
                            serve::text(200, "")
                        }
                        None => error_body(404, Value::Null, -32001, format!("unknown session {s}")),
                    }
                }
                None => error_body(400, Value::Null, -32600, "DELETE needs an Mcp-Session-Id".into()),
            },
            (&Method::GET, "/mcp" | "/") => {
                let mut r = serve::text(405, "the recording has no server stream to offer\n");
                r.headers_mut().insert(
                    hyper::header::ALLOW,
                    hyper::header::HeaderValue::from_static("POST, DELETE"),
                );
                r
            }
            _ => serve::text(
                404,
                format!("alloy-conformance replay serves /mcp, / and /sse, not {path}\n"),
            ),
        }
    }

    /// A Streamable HTTP POST.
    fn post(&self, sid: Option<String>, body: &Bytes, accepts_sse: bool) -> Response<Body> {
        let text = String::from_utf8_lossy(body).into_owned();
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        let id = parsed
            .as_ref()
            .and_then(|v| v.get("id"))
            .cloned()
            .unwrap_or(Value::Null);
        let method = parsed.as_ref().and_then(|v| v.get("method")).and_then(Value::as_str);
        let is_request = method.is_some() && parsed.as_ref().is_some_and(|v| v.get("id").is_some());
        let (outs, new_session) = match (sid, method) {
            (Some(s), _) => {
                let Ok(mut sessions) = self.sessions.lock() else {
                    return serve::text(500, "replay state is unusable\n");
                };
                let Some(book) = sessions.get_mut(&s) else {
                    return error_body(404, id, -32001, format!("unknown session {s}: send initialize again"));
                };
                let serving = Serving {
                    port: Some(self.port),
                    session: Some(s.clone()),
                };
                (book.answer(&text, &serving), None)
            }
            (None, Some("initialize")) => {
                let Ok(mut sessions) = self.sessions.lock() else {
                    return serve::text(500, "replay state is unusable\n");
                };
                if sessions.len() >= MAX_SESSIONS {
                    return error_body(503, id, -32000, format!("{MAX_SESSIONS} sessions are open; close some"));
                }
                let s = format!("replay-{}", self.next.fetch_add(1, Ordering::SeqCst));
                let mut book = self.template.fresh();
                let serving = Serving {
                    port: Some(self.port),
                    session: Some(s.clone()),
                };
                let outs = book.answer(&text, &serving);
                sessions.insert(s.clone(), book);
                (outs, Some(s))
            }
            (None, _) if self.era == Era::Handshake => {
                return error_body(
                    400,
                    id,
                    -32600,
                    "Mcp-Session-Id required: this recording is of the handshake era; send initialize first".into(),
                );
            }
            (None, _) => {
                let Ok(mut book) = self.sessionless.lock() else {
                    return serve::text(500, "replay state is unusable\n");
                };
                let serving = Serving {
                    port: Some(self.port),
                    session: None,
                };
                (book.answer(&text, &serving), None)
            }
        };
        let mut response = answer(outs, is_request, accepts_sse);
        if let Some(s) = new_session
            && let Ok(v) = hyper::header::HeaderValue::from_str(&s)
        {
            response.headers_mut().insert("mcp-session-id", v);
        }
        response
    }

    fn open_legacy(&self) -> Response<Body> {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
        let s = format!("replay-sse-{}", self.next.fetch_add(1, Ordering::SeqCst));
        {
            let Ok(mut legacy) = self.legacy.lock() else {
                return serve::text(500, "replay state is unusable\n");
            };
            // Streams whose client went away leave first.
            let gone: Vec<String> = legacy
                .iter()
                .filter(|(_, (_, tx))| tx.is_closed())
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                if let (Some((b, _)), Ok(mut f)) = (legacy.remove(&k), self.finished.lock()) {
                    f.push(b);
                }
            }
            if legacy.len() >= MAX_SESSIONS {
                return serve::text(503, format!("{MAX_SESSIONS} sessions are open\n"));
            }
            let _ = tx.try_send(Ok(Bytes::from(format!(
                "event: endpoint\ndata: /message?sessionId={s}\n\n"
            ))));
            legacy.insert(s, (self.template.fresh(), tx));
        }
        let mut r = Response::new(serve::channel_body(rx));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/event-stream"),
        );
        r.headers_mut().insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("no-cache"),
        );
        r
    }

    async fn legacy_post(&self, sid: Option<String>, body: &Bytes) -> Response<Body> {
        let text = String::from_utf8_lossy(body).into_owned();
        let found = sid.as_ref().and_then(|s| {
            let mut legacy = self.legacy.lock().ok()?;
            let (book, tx) = legacy.get_mut(s)?;
            let serving = Serving {
                port: Some(self.port),
                session: Some(s.clone()),
            };
            Some((book.answer(&text, &serving), tx.clone()))
        });
        let Some((outs, tx)) = found else {
            return serve::text(404, "unknown session: open /sse first\n");
        };
        for out in outs {
            match out {
                Out::Message(m) => {
                    let _ = tx.send(Ok(sse_event(&m))).await;
                }
                Out::Raw(t) => {
                    let _ = tx.send(Ok(Bytes::from(format!("event: message\ndata: {t}\n\n")))).await;
                }
                Out::HttpStatus { status, body } => return serve::text(status, body),
                Out::Close => {
                    if let (Some(s), Ok(mut legacy)) = (&sid, self.legacy.lock())
                        && let (Some((b, _)), Ok(mut f)) = (legacy.remove(s), self.finished.lock())
                    {
                        f.push(b);
                    }
                }
            }
        }
        serve::text(202, "Accepted")
    }
}

/// The HTTP answer to a POST from what the recording says: a recorded refusal as it was, 202
/// for frames that get no answer, one JSON message, or an SSE stream of several.
fn answer(outs: Vec<Out>, is_request: bool, accepts_sse: bool) -> Response<Body> {
    if let Some((status, body)) = outs.iter().find_map(|o| match o {
        Out::HttpStatus { status, body } => Some((*status, body.clone())),
        _ => None,
    }) {
        let mut r = serve::text(status, body.clone());
        if serde_json::from_str::<Value>(&body).is_ok() {
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
        }
        return r;
    }
    let messages: Vec<Value> = outs
        .into_iter()
        .filter_map(|o| match o {
            Out::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    if !is_request
        && messages
            .iter()
            .all(|m| m.get("id").is_some_and(|i| !i.is_null()) || m.get("method").is_some())
    {
        return serve::text(202, "");
    }
    if messages.len() > 1 && accepts_sse {
        let mut body = Vec::new();
        for m in &messages {
            body.extend_from_slice(&sse_event(m));
        }
        let mut r = Response::new(serve::full(body));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/event-stream"),
        );
        return r;
    }
    // One JSON body: the answer (the last message that is not a request or notification).
    let chosen = messages
        .iter()
        .rev()
        .find(|m| m.get("method").is_none())
        .or(messages.first())
        .cloned();
    match chosen {
        Some(m) => {
            let mut r = Response::new(serve::full(m.to_string()));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            r
        }
        None => serve::text(202, ""),
    }
}
