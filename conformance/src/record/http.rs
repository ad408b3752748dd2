//! `record --http URL`: a loopback HTTP/1.1 listener that forwards every request to the server
//! at `URL` (same path and query, every end-to-end header, `Mcp-Session-Id`,
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Authorization` included) and streams
//! every answer back as it comes (SSE event by event). What it records mirrors what `run`'s
//! drivers would read:
//!
//! - **Streamable HTTP** (both eras): each POST body is a client frame; its answer (one JSON
//!   body, or the SSE events up to the answer to that request) the server frames; a non-2xx
//!   answer is its JSON-RPC message, or an `http_status` event. A session is what an
//!   `initialize` answer's `Mcp-Session-Id` names, written when the client DELETEs it; requests
//!   without a session (the 2026-07-28 wire) form one session per API key, written when the
//!   recorder stops. The GET stream is forwarded but not recorded (`run` never opens it).
//! - **Legacy HTTP+SSE** (2024-11-05): a GET whose event stream opens with `endpoint` starts a
//!   session; an absolute endpoint URL is rewritten to the recorder's own address so the
//!   client's POSTs come through it (a relative one already does); POSTs to it are client
//!   frames, `message` events server frames; the session is written when the stream ends.
//!
//! Sessions still open when the recorder stops (Ctrl-C, SIGTERM) are written then; a session at
//! the stateless wire whose client never asked `server/discover` gets one asked by the recorder
//! for the transcript's `discover` entry. The mock is reset when a session starts with no
//! other open, as `run` gives each case a fresh one.

use super::session::{ClientFrame, Session};
use super::{Ctx, FRAME_CAP, SESSION_CAP, journal_values, role_of_key, termination, write_session};
use crate::driver::sse_events::SseParser;
use crate::driver::{Transport, parse_frame, shorten};
use crate::era::{self, Era};
use crate::scenario::Role;
use crate::serve::{self, Body};
use crate::transcript::{Received, ReceivedEvent};
use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The largest request body forwarded (a larger one gets 413 from the recorder).
const BODY_CAP: usize = 64 << 20;
/// Sessions recorded at once; later ones are forwarded without recording.
const MAX_OPEN: usize = 32;
/// The most of an SSE stream's head held back to find and rewrite the `endpoint` event.
const HEAD_CAP: usize = 64 << 10;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus `Expect`
/// (the recorder reads the body before forwarding). `Host` is forwarded as the client sent it,
/// so the server's own Host and Origin checks judge the client as they would without the
/// recorder.
const NOT_FORWARDED: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// Which recorded session a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    /// Streamable HTTP, by `Mcp-Session-Id`.
    Streamable(String),
    /// Legacy HTTP+SSE, by the endpoint's `sessionId`.
    Legacy(String),
    /// Requests without a session, by the role of their key.
    Sessionless(&'static str),
    /// An `initialize` whose answer has not named its session yet.
    Pending(u64),
}

/// One session being recorded.
struct Rec {
    transport: Transport,
    role: Role,
    /// The `Authorization` value the session used (in memory only: for the recorder's own
    /// `server/discover`).
    auth: Option<HeaderValue>,
    session: Mutex<Session>,
    recorded: Mutex<usize>,
}

impl Rec {
    fn new(transport: Transport, headers: &HeaderMap) -> (Rec, Option<String>) {
        let auth = headers.get(hyper::header::AUTHORIZATION).cloned();
        let key = auth
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let (role, note) = match key {
            None => (
                Role::default(),
                Some("the client sent no Bearer key: the scenario says Owner".to_string()),
            ),
            Some(k) => match role_of_key(k) {
                Some(r) => (r, None),
                None => (
                    Role::default(),
                    Some("the client's key is not one of the mock's seeded keys: the scenario says Owner".to_string()),
                ),
            },
        };
        let rec = Rec {
            transport,
            role,
            auth,
            session: Mutex::new(Session::default()),
            recorded: Mutex::new(0),
        };
        (rec, note)
    }

    fn within_budget(&self, bytes: usize) -> bool {
        let Ok(mut r) = self.recorded.lock() else { return false };
        if *r >= SESSION_CAP {
            return false;
        }
        *r += bytes;
        if *r >= SESSION_CAP {
            self.note(format!(
                "the session passed {} MiB: later frames were forwarded but not recorded",
                SESSION_CAP >> 20
            ));
        }
        true
    }

    fn client(&self, frame: ClientFrame, size: usize, ctx: &Ctx) {
        if size > FRAME_CAP {
            self.note(format!(
                "a client frame of {size} bytes was forwarded but not recorded: the recording is incomplete"
            ));
            return;
        }
        if !self.within_budget(size) {
            return;
        }
        if let Ok(mut s) = self.session.lock() {
            let journal = journal_values(ctx.mock.as_deref());
            s.client(frame, journal);
        }
    }

    fn server(&self, item: Received, size: usize, ctx: &Ctx) {
        if !self.within_budget(size) {
            return;
        }
        if let Ok(mut s) = self.session.lock() {
            s.server(item, || journal_values(ctx.mock.as_deref()));
        }
    }

    fn note(&self, note: String) {
        if let Ok(mut s) = self.session.lock() {
            s.note(note);
        }
    }

    fn take(&self) -> Session {
        self.session
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// The proxy's state.
struct Proxy {
    /// `scheme://host:port/` of the server.
    origin: reqwest::Url,
    /// The `--http` URL (the server's MCP endpoint).
    endpoint: reqwest::Url,
    /// `http://<listen address>`.
    own: String,
    http: reqwest::Client,
    ctx: Arc<Ctx>,
    open: Mutex<HashMap<Key, Arc<Rec>>>,
    next: AtomicU64,
    /// Held while a session starts (the mock may be reset then).
    starting: tokio::sync::Mutex<()>,
}

/// Checks `url` (an `http://` URL on this machine) and returns it parsed.
fn loopback_url(url: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("--http {url}: not a URL"))?;
    let loopback = parsed.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if parsed.scheme() != "http" || !loopback {
        bail!(
            "--http {url}: the recorder forwards to a server on this machine over plain HTTP (e.g. http://127.0.0.1:3001/mcp)"
        );
    }
    Ok(parsed)
}

/// Runs the recording proxy on `listen` for the server at `url` until SIGINT or SIGTERM.
pub async fn record(url: &str, listen: SocketAddr, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let endpoint = loopback_url(url)?;
    let mut origin = endpoint.clone();
    origin.set_path("/");
    origin.set_query(None);
    let listener = serve::bind_loopback(listen, "--listen").await?;
    let local = listener.local_addr()?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?;
    let ctx = Arc::new(ctx);
    if let Some(mock) = &ctx.mock {
        eprintln!(
            "alloy-conformance record: mock Alloy API on {url}\n  start the server under test with ALLOY_API_URL={url} ALLOY_API_TOKEN={key}",
            url = mock.base_url(),
            key = Role::default().key(mock.keys())
        );
    }
    let own = format!("http://{local}");
    eprintln!(
        "alloy-conformance record: recording proxy on {own}{path} for {endpoint} (legacy SSE: {own}/sse); clients connect here; Ctrl-C writes the open sessions and stops",
        path = endpoint.path()
    );
    let proxy = Arc::new(Proxy {
        origin,
        endpoint,
        own,
        http,
        ctx,
        open: Mutex::new(HashMap::new()),
        next: AtomicU64::new(1),
        starting: tokio::sync::Mutex::new(()),
    });
    let handler: serve::Handler = {
        let p = proxy.clone();
        Arc::new(move |req| {
            let p = p.clone();
            Box::pin(async move { p.handle(req).await })
        })
    };
    serve::serve(listener, handler, async {
        termination().await;
    })
    .await;
    let mut open: Vec<(Key, Arc<Rec>)> = proxy.open.lock().map(|mut m| m.drain().collect()).unwrap_or_default();
    open.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, rec) in open {
        proxy.write(rec).await;
    }
    Ok(ExitCode::SUCCESS)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn session_param(uri: &hyper::Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.eq_ignore_ascii_case("sessionid") || k.eq_ignore_ascii_case("session_id")).then(|| v.to_string())
    })
}

impl Proxy {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = match http_body_util::Limited::new(body, BODY_CAP).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                let too_big = e.downcast_ref::<http_body_util::LengthLimitError>().is_some();
                return if too_big {
                    serve::text(
                        413,
                        format!("alloy-conformance record: request body over {} MiB\n", BODY_CAP >> 20),
                    )
                } else {
                    serve::text(
                        400,
                        format!("alloy-conformance record: cannot read the request body: {e}\n"),
                    )
                };
            }
        };
        match parts.method {
            Method::POST => {
                let legacy = session_param(&parts.uri)
                    .map(Key::Legacy)
                    .and_then(|k| self.find(&k).map(|r| (k, r)));
                match legacy {
                    Some((_, rec)) => self.legacy_post(parts, body, rec).await,
                    None => self.streamable_post(parts, body).await,
                }
            }
            Method::GET => self.get(parts, body).await,
            Method::DELETE => {
                let sid = header(&parts.headers, "mcp-session-id").map(str::to_string);
                let answer = self.forward(&parts, body).await;
                let response = match answer {
                    Ok(resp) => self.pass(resp, None, false),
                    Err(r) => r,
                };
                if let Some(sid) = sid {
                    self.finish(&Key::Streamable(sid)).await;
                }
                response
            }
            _ => match self.forward(&parts, body).await {
                Ok(resp) => self.pass(resp, None, false),
                Err(r) => r,
            },
        }
    }

    fn find(&self, key: &Key) -> Option<Arc<Rec>> {
        self.open.lock().ok()?.get(key).cloned()
    }

    /// Registers a new session under `key` (or returns the one registered meanwhile). The mock
    /// starts afresh when no other session is open.
    async fn start(&self, key: Key, rec: Rec, note: Option<String>) -> Arc<Rec> {
        let _starting = self.starting.lock().await;
        if let Some(existing) = self.find(&key) {
            return existing;
        }
        let rec = Arc::new(rec);
        if let Some(n) = note {
            rec.note(n);
        }
        let others: Vec<Arc<Rec>> = self
            .open
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if others.len() >= MAX_OPEN {
            // Forwarded, never recorded: memory stays bounded whatever clients do.
            if let Ok(mut r) = rec.recorded.lock() {
                *r = SESSION_CAP;
            }
            eprintln!(
                "alloy-conformance record: {MAX_OPEN} sessions are open; a new one is forwarded but not recorded (end some sessions)"
            );
            return rec;
        }
        if let Some(mock) = &self.ctx.mock
            && others.is_empty()
        {
            if let Err(e) = crate::runner::reset_mock(mock).await {
                rec.note(format!("the mock could not be reset for this session: {e:#}"));
            }
        } else if self.ctx.mock.is_some() {
            let note =
                "sessions overlapped on the one mock API: run plays each on a fresh one, so upstream data may differ"
                    .to_string();
            rec.note(note.clone());
            others.iter().for_each(|o| o.note(note.clone()));
        }
        if let Ok(mut m) = self.open.lock() {
            m.insert(key, rec.clone());
        }
        rec
    }

    fn rekey(&self, from: &Key, to: Key) {
        if let Ok(mut m) = self.open.lock()
            && !m.contains_key(&to)
            && let Some(rec) = m.remove(from)
        {
            m.insert(to, rec);
        }
    }

    /// Ends the session under `key` and writes it.
    async fn finish(&self, key: &Key) {
        let rec = self.open.lock().ok().and_then(|mut m| m.remove(key));
        if let Some(rec) = rec {
            self.write(rec).await;
        }
    }

    async fn write(&self, rec: Arc<Rec>) {
        let needs = rec.session.lock().map(|s| s.needs_discover()).unwrap_or(false);
        if needs {
            match self.discover(&rec).await {
                Some(supported) => {
                    if let Ok(mut s) = rec.session.lock() {
                        s.set_discover(supported);
                    }
                }
                None => rec.note(
                    "the server did not answer the recorder's server/discover: the transcript's discover entry lists no versions".into(),
                ),
            }
        }
        write_session(&self.ctx, rec.take(), rec.transport, rec.role);
    }

    /// The recorder's own `server/discover` (the stateless wire), with the session's key.
    async fn discover(&self, rec: &Rec) -> Option<Vec<String>> {
        let ask = json!({"jsonrpc": "2.0", "id": "alloy-conformance-record-discover", "method": "server/discover",
            "params": {"_meta": era::request_meta(era::STATELESS_VERSION)}});
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Accept".to_string(), "application/json, text/event-stream".to_string()),
            ("MCP-Protocol-Version".to_string(), era::STATELESS_VERSION.to_string()),
        ];
        for (k, v) in era::standard_headers(&ask) {
            headers.push((k.to_string(), v));
        }
        if let Some(auth) = rec.auth.as_ref().and_then(|a| a.to_str().ok()) {
            headers.push(("Authorization".to_string(), auth.to_string()));
        }
        let answer = crate::driver::http::exchange_once(
            Method::POST,
            self.endpoint.as_str(),
            None,
            &headers,
            Some(ask.to_string()),
            Duration::from_secs(10),
        )
        .await
        .ok()?;
        let list = answer.response()?.pointer("/result/supportedVersions")?.as_array()?;
        Some(list.iter().filter_map(Value::as_str).map(str::to_string).collect())
    }

    /// Sends the request on to the server; a response to give the client when that fails.
    async fn forward(
        &self,
        parts: &hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<reqwest::Response, Response<Body>> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = self
            .origin
            .join(path)
            .map_err(|e| serve::text(400, format!("alloy-conformance record: cannot forward {path}: {e}\n")))?;
        let mut req = self.http.request(parts.method.clone(), url);
        for (name, value) in &parts.headers {
            if !NOT_FORWARDED.contains(&name.as_str()) && name != hyper::header::CONTENT_LENGTH {
                req = req.header(name, value);
            }
        }
        req.body(body).send().await.map_err(|e| {
            serve::text(
                502,
                format!(
                    "alloy-conformance record: cannot reach the server at {}: {e}\n",
                    self.origin
                ),
            )
        })
    }

    /// The client's response: the server's status and end-to-end headers, the body streamed
    /// through `observe` (which may record it) when given; `hold_last` as for [`pump`].
    fn pass(&self, resp: reqwest::Response, observe: Option<Observer>, hold_last: bool) -> Response<Body> {
        let mut out = Response::builder().status(resp.status());
        for (name, value) in resp.headers() {
            if !NOT_FORWARDED.contains(&name.as_str()) {
                out = out.header(name, value);
            }
        }
        let body = pump(
            resp,
            observe.unwrap_or_else(|| Box::new(|c: Chunk<'_>| c.forward())),
            hold_last,
        );
        out.body(body).unwrap_or_else(|e| {
            serve::text(
                502,
                format!("alloy-conformance record: bad answer from the server: {e}\n"),
            )
        })
    }

    async fn streamable_post(self: Arc<Self>, parts: hyper::http::request::Parts, body: Bytes) -> Response<Body> {
        let text = String::from_utf8_lossy(&body).into_owned();
        let frame = ClientFrame::parse(&text);
        let is_init =
            matches!(&frame, ClientFrame::Json(v) if v.get("method").and_then(Value::as_str) == Some("initialize"));
        let sid = header(&parts.headers, "mcp-session-id").map(str::to_string);
        let (candidate, note) = Rec::new(Transport::Http, &parts.headers);
        let key = match (&sid, is_init) {
            (Some(s), _) => Key::Streamable(s.clone()),
            (None, true) => Key::Pending(self.next.fetch_add(1, Ordering::SeqCst)),
            (None, false) => Key::Sessionless(candidate.role.name()),
        };
        let rec = match self.find(&key) {
            Some(r) => r,
            None => self.start(key.clone(), candidate, note).await,
        };
        if let ClientFrame::Json(v) = &frame {
            check_headers(&rec, &parts.headers, v);
        }
        let request_id = match &frame {
            ClientFrame::Json(v) if v.get("method").is_some() => v.get("id").cloned(),
            _ => None,
        };
        rec.client(frame, text.len(), &self.ctx);
        let resp = match self.forward(&parts, body).await {
            Ok(r) => r,
            Err(r) => {
                rec.note(
                    "a request could not be forwarded to the server; its exchange is missing from the recording".into(),
                );
                return r;
            }
        };
        let status = resp.status().as_u16();
        let mut end_after = false;
        if let Key::Pending(_) = key {
            match resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
                Some(id) => self.rekey(&key, Key::Streamable(id.to_string())),
                None if (200..300).contains(&status) => self.rekey(&key, Key::Sessionless(rec.role.name())),
                // No session: the client starts over with another initialize.
                None => end_after = true,
            }
        }
        let content_type = header(resp.headers(), "content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let streamed = content_type.starts_with("text/event-stream") && (200..300).contains(&status);
        let ctx = self.ctx.clone();
        let proxy = self.clone();
        let mut sse = SseParser::default();
        let mut copy: Vec<u8> = Vec::new();
        let mut answered = false;
        let observe: Observer = Box::new(move |chunk: Chunk<'_>| {
            let out = chunk.forward();
            match chunk {
                Chunk::Data(b) if streamed => {
                    for event in sse.feed(b) {
                        if answered || event.data.trim().is_empty() {
                            continue;
                        }
                        let incoming = parse_frame(&event.data);
                        answered = matches!(&incoming, crate::driver::Incoming::Message(m)
                            if request_id.is_some() && m.get("id") == request_id.as_ref() && m.get("method").is_none());
                        rec.server(Received::from(&incoming), event.data.len(), &ctx);
                    }
                }
                Chunk::Data(b) => {
                    let room = FRAME_CAP.saturating_sub(copy.len());
                    copy.extend_from_slice(&b[..b.len().min(room)]);
                }
                Chunk::End if !streamed => {
                    let text = String::from_utf8_lossy(&copy);
                    let item = if (200..300).contains(&status) {
                        (!text.trim().is_empty()).then(|| Received::from(&parse_frame(&text)))
                    } else {
                        Some(match serde_json::from_str::<Value>(&text) {
                            Ok(v) if v.get("jsonrpc").is_some() => Received::Message(v),
                            _ => Received::Event(ReceivedEvent::HttpStatus {
                                status,
                                body: shorten(&text, 500),
                            }),
                        })
                    };
                    if let Some(item) = item {
                        rec.server(item, copy.len(), &ctx);
                    }
                }
                Chunk::Broken if !answered => rec.server(Received::Event(ReceivedEvent::TransportError), 0, &ctx),
                _ => {}
            }
            if end_after && matches!(chunk, Chunk::End | Chunk::Broken | Chunk::Gone) {
                let proxy = proxy.clone();
                let key = key.clone();
                tokio::spawn(async move { proxy.finish(&key).await });
            }
            out
        });
        self.pass(resp, Some(observe), !streamed)
    }

    async fn legacy_post(&self, parts: hyper::http::request::Parts, body: Bytes, rec: Arc<Rec>) -> Response<Body> {
        let text = String::from_utf8_lossy(&body).into_owned();
        rec.client(ClientFrame::parse(&text), text.len(), &self.ctx);
        let resp = match self.forward(&parts, body).await {
            Ok(r) => r,
            Err(r) => return r,
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return self.pass(resp, None, false);
        }
        // As the legacy driver sees it: a refused POST is its status and body.
        let ctx = self.ctx.clone();
        let mut copy = Vec::new();
        let observe: Observer = Box::new(move |chunk: Chunk<'_>| {
            let out = chunk.forward();
            match chunk {
                Chunk::Data(b) => {
                    let room = FRAME_CAP.saturating_sub(copy.len());
                    copy.extend_from_slice(&b[..b.len().min(room)]);
                }
                Chunk::End | Chunk::Broken => {
                    let body = shorten(&String::from_utf8_lossy(&copy), 500);
                    rec.server(
                        Received::Event(ReceivedEvent::HttpStatus { status, body }),
                        copy.len(),
                        &ctx,
                    );
                }
                Chunk::Gone => {}
            }
            out
        });
        self.pass(resp, Some(observe), true)
    }

    async fn get(self: Arc<Self>, parts: hyper::http::request::Parts, body: Bytes) -> Response<Body> {
        let resp = match self.forward(&parts, body).await {
            Ok(r) => r,
            Err(r) => return r,
        };
        let sse = header(resp.headers(), "content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        if !sse || !resp.status().is_success() {
            return self.pass(resp, None, false);
        }
        if let Some(sid) = header(&parts.headers, "mcp-session-id") {
            // The Streamable GET stream: `run` never opens it.
            let rec = self.find(&Key::Streamable(sid.to_string()));
            let mut parser = SseParser::default();
            let observe: Observer = Box::new(move |chunk: Chunk<'_>| {
                if let (Chunk::Data(b), Some(rec)) = (&chunk, &rec)
                    && parser.feed(b).iter().any(|e| !e.data.trim().is_empty())
                {
                    rec.note("the server sent messages on the GET stream, which run does not open: they are not in the recording".into());
                }
                chunk.forward()
            });
            return self.pass(resp, Some(observe), false);
        }
        self.legacy_stream(parts, resp)
    }

    /// A GET event stream without a session: legacy HTTP+SSE when it opens with `endpoint`.
    fn legacy_stream(self: Arc<Self>, parts: hyper::http::request::Parts, resp: reqwest::Response) -> Response<Body> {
        let mut out = Response::builder().status(resp.status());
        for (name, value) in resp.headers() {
            if !NOT_FORWARDED.contains(&name.as_str()) && name != hyper::header::CONTENT_LENGTH {
                out = out.header(name, value);
            }
        }
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
        let proxy = self.clone();
        tokio::spawn(async move {
            let mut stream = resp.bytes_stream();
            let mut head: Vec<u8> = Vec::new();
            // Hold the head back until its first event is complete.
            let ended = loop {
                if first_event_end(&head).is_some() || head.len() > HEAD_CAP {
                    break false;
                }
                tokio::select! {
                    _ = tx.closed() => return,
                    next = stream.next() => match next {
                        Some(Ok(b)) => head.extend_from_slice(&b),
                        Some(Err(_)) | None => break true,
                    },
                }
            };
            let split = first_event_end(&head).unwrap_or(head.len());
            let (first, rest) = head.split_at(split);
            let (first, endpoint) = rewrite_endpoint(first, &proxy.origin, &proxy.own);
            let rec = match &endpoint {
                Some(e) => {
                    let sid = proxy
                        .origin
                        .join(e)
                        .ok()
                        .and_then(|u| u.as_str().parse::<hyper::Uri>().ok())
                        .and_then(|u| session_param(&u))
                        .unwrap_or_else(|| e.clone());
                    let (rec, note) = Rec::new(Transport::Sse, &parts.headers);
                    let key = Key::Legacy(sid);
                    Some((key.clone(), proxy.start(key, rec, note).await))
                }
                None => None,
            };
            let mut parser = SseParser::default();
            let record = |bytes: &[u8], parser: &mut SseParser| {
                if let Some((_, rec)) = &rec {
                    for event in parser.feed(bytes) {
                        if matches!(event.event.as_deref(), Some("message") | None) && !event.data.trim().is_empty() {
                            rec.server(Received::from(&parse_frame(&event.data)), event.data.len(), &proxy.ctx);
                        }
                    }
                }
            };
            let mut gone = tx.send(Ok(Bytes::from(first))).await.is_err();
            if !gone && !rest.is_empty() {
                record(rest, &mut parser);
                gone = tx.send(Ok(Bytes::copy_from_slice(rest))).await.is_err();
            }
            let mut server_closed = ended;
            while !gone && !ended {
                tokio::select! {
                    _ = tx.closed() => gone = true,
                    next = stream.next() => match next {
                        Some(Ok(b)) => {
                            record(&b, &mut parser);
                            gone = tx.send(Ok(b)).await.is_err();
                        }
                        Some(Err(e)) => {
                            if let Some((_, rec)) = &rec {
                                rec.server(Received::Event(ReceivedEvent::TransportError), 0, &proxy.ctx);
                            }
                            let _ = tx.send(Err(std::io::Error::other(e))).await;
                            break;
                        }
                        None => { server_closed = true; break; }
                    },
                }
            }
            if let Some((key, rec)) = rec {
                if server_closed && !gone {
                    rec.server(Received::Event(ReceivedEvent::Closed), 0, &proxy.ctx);
                }
                drop(tx);
                proxy.finish(&key).await;
            }
        });
        out.body(serve::channel_body(rx)).unwrap_or_else(|e| {
            serve::text(
                502,
                format!("alloy-conformance record: bad answer from the server: {e}\n"),
            )
        })
    }
}

/// At the stateless wire the client's `Mcp-Method`/`Mcp-Name` should be what the message
/// implies; `run` sends those, so an exchange where the client sent others may differ.
fn check_headers(rec: &Rec, headers: &HeaderMap, message: &Value) {
    let stateless = header(headers, "mcp-protocol-version").is_some_and(|v| Era::of_version(v) == Era::Stateless);
    if !stateless {
        return;
    }
    for (name, want) in era::standard_headers(message) {
        let got = header(headers, name);
        if got != Some(want.as_str()) {
            rec.note(format!(
                "the client sent {name}: {} for a `{}` message where {want} is due; run sends {want}, so that exchange may differ",
                got.unwrap_or("(none)"),
                message.get("method").and_then(Value::as_str).unwrap_or("?")
            ));
        }
    }
}

/// The end of the first event (after its blank line), if the head holds it whole.
fn first_event_end(head: &[u8]) -> Option<usize> {
    let lf = head.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = head.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The first event with its `endpoint` data pointing at the recorder when it named the server
/// by an absolute URL (a relative one resolves against the recorder already), and the
/// endpoint as the server gave it; other events unchanged and `None`.
fn rewrite_endpoint(first: &[u8], origin: &reqwest::Url, own: &str) -> (Vec<u8>, Option<String>) {
    let text = String::from_utf8_lossy(first);
    let is_endpoint = text.lines().any(|l| {
        l.trim_end_matches('\r')
            .split_once(':')
            .is_some_and(|(f, v)| f == "event" && v.trim() == "endpoint")
    });
    if !is_endpoint {
        return (first.to_vec(), None);
    }
    let mut endpoint = None;
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let line = piece.trim_end_matches(['\n', '\r']);
        let ending = &piece[line.len()..];
        match line.split_once(':') {
            Some(("data", value)) => {
                let value = value.strip_prefix(' ').unwrap_or(value);
                endpoint = Some(value.to_string());
                let rewritten = match reqwest::Url::parse(value) {
                    Ok(u) if u.origin() == origin.origin() => {
                        let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
                        format!("{own}{}{query}", u.path())
                    }
                    _ => value.to_string(),
                };
                out.push_str("data: ");
                out.push_str(&rewritten);
            }
            _ => out.push_str(line),
        }
        out.push_str(ending);
    }
    (out.into_bytes(), endpoint)
}

/// One step of a response body on its way to the client.
enum Chunk<'a> {
    /// Bytes from the server.
    Data(&'a Bytes),
    /// The server ended the body.
    End,
    /// The server's body broke off.
    Broken,
    /// The client went away.
    Gone,
}

impl Chunk<'_> {
    /// What to send on: the data unchanged.
    fn forward(&self) -> Option<Bytes> {
        match self {
            Chunk::Data(b) => Some((*b).clone()),
            _ => None,
        }
    }
}

/// Sees every chunk of a body and says what to send on.
type Observer = Box<dyn FnMut(Chunk<'_>) -> Option<Bytes> + Send>;

/// Streams `resp`'s body to the client through `observe`, chunk by chunk as it comes; stops
/// reading the server when the client goes away. With `hold_last` (a body recorded when it is
/// whole) each chunk waits for the next one, so the end is observed, and the body recorded,
/// before the client has all of it and can send its next request.
fn pump(resp: reqwest::Response, mut observe: Observer, hold_last: bool) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let mut stream = resp.bytes_stream();
        let mut held: Option<Bytes> = None;
        loop {
            let next = tokio::select! {
                _ = tx.closed() => {
                    observe(Chunk::Gone);
                    return;
                }
                next = stream.next() => next,
            };
            let (send, end) = match next {
                Some(Ok(b)) => {
                    let out = observe(Chunk::Data(&b));
                    if hold_last {
                        (std::mem::replace(&mut held, out).map(Ok), None)
                    } else {
                        (out.map(Ok), None)
                    }
                }
                Some(Err(e)) => {
                    observe(Chunk::Broken);
                    (held.take().map(Ok), Some(Some(std::io::Error::other(e))))
                }
                None => {
                    observe(Chunk::End);
                    (held.take().map(Ok), Some(None))
                }
            };
            if let Some(item) = send
                && tx.send(item).await.is_err()
            {
                observe(Chunk::Gone);
                return;
            }
            if let Some(error) = end {
                if let Some(e) = error {
                    let _ = tx.send(Err(e)).await;
                }
                return;
            }
        }
    });
    serve::channel_body(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_endpoint_is_pointed_at_the_recorder_and_a_relative_one_is_kept() {
        let origin = reqwest::Url::parse("http://127.0.0.1:3001/").expect("url");
        let (out, e) = rewrite_endpoint(
            b"event: endpoint\r\ndata: http://127.0.0.1:3001/message?sessionId=abc\r\n\r\n",
            &origin,
            "http://127.0.0.1:4000",
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            "event: endpoint\r\ndata: http://127.0.0.1:4000/message?sessionId=abc\r\n\r\n"
        );
        assert_eq!(e.as_deref(), Some("http://127.0.0.1:3001/message?sessionId=abc"));
        let (out, e) = rewrite_endpoint(
            b"event: endpoint\ndata: /message?sessionId=x\n\n",
            &origin,
            "http://h:1",
        );
        assert_eq!(out, b"event: endpoint\ndata: /message?sessionId=x\n\n");
        assert_eq!(e.as_deref(), Some("/message?sessionId=x"));
        let (out, e) = rewrite_endpoint(b"data: {}\n\n", &origin, "http://h:1");
        assert_eq!((out.as_slice(), e), (b"data: {}\n\n".as_slice(), None));
        assert_eq!(first_event_end(b"event: a\r\ndata: b\r\n\r\nmore"), Some(21));
    }

    #[test]
    fn only_loopback_http_servers_are_recorded_and_roles_come_from_the_key() {
        assert!(loopback_url("http://127.0.0.1:3001/mcp").is_ok());
        assert!(loopback_url("http://localhost:3001/mcp").is_ok());
        assert!(loopback_url("http://[::1]:3001/mcp").is_ok());
        assert!(loopback_url("http://example.com/mcp").is_err());
        assert!(loopback_url("https://127.0.0.1/mcp").is_err());
        let mut h = HeaderMap::new();
        let owner = crate::seeded::seeded_key_names()
            .iter()
            .find(|(_, n)| n == "Viewer")
            .map(|(k, _)| k.clone())
            .expect("the seed has a Viewer");
        h.insert(
            hyper::header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {owner}")).expect("header"),
        );
        let (rec, note) = Rec::new(Transport::Http, &h);
        assert_eq!(rec.role.name(), "Viewer");
        assert!(note.is_none());
        let (rec, note) = Rec::new(Transport::Http, &HeaderMap::new());
        assert_eq!(rec.role.name(), "Owner");
        assert!(note.is_some());
    }
}
