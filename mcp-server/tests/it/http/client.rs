//! Test support for HTTP mode: [`HttpServer`] spawns `alloy-mcp --http 127.0.0.1:0` against a
//! mock and learns its address from the log line; [`Session`] is a Streamable HTTP client
//! speaking raw JSON-RPC over reqwest; [`LegacySession`] is a 2024-11-05 HTTP+SSE client.
//! Every network wait is bounded by [`ANSWER_TIMEOUT`].

use crate::support::{ANSWER_TIMEOUT, bin, call_params, initialize_params, request_message};
use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running `alloy-mcp --http` process.
pub struct HttpServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

impl HttpServer {
    /// Spawns the server against `api_url` with `server_key` as `ALLOY_API_TOKEN` and `args`
    /// after `--http 127.0.0.1:0`; waits for its "listening on" line.
    pub async fn start(api_url: &str, server_key: &str, args: &[&str]) -> HttpServer {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("ALLOY_API_URL", api_url)
            .env("ALLOY_API_TOKEN", server_key)
            .env("RUST_LOG", "debug")
            .arg("--http")
            .arg("127.0.0.1:0")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("alloy-mcp starts");
        let pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listening on ").nth(1)
                    && let Some(t) = tx.take()
                {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = t.send(url);
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let base = match tokio::time::timeout(ANSWER_TIMEOUT, rx.recv()).await {
            Ok(Some(url)) => url,
            _ => {
                let status = child.try_wait().ok().flatten();
                panic!(
                    "alloy-mcp --http did not report its address (exit: {status:?}); stderr:\n{}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                )
            }
        };
        HttpServer { child, base, stderr }
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `<base><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(ANSWER_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit; stderr:\n{}", self.stderr()))
            .expect("wait")
    }

    /// `GET <path>` without credentials: status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = client().get(self.url(path)).send().await.expect("server answers");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// A reqwest client whose every request is bounded.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(ANSWER_TIMEOUT)
        .build()
        .expect("client")
}

/// An HTTP answer read completely (or, for SSE, up to the answer of a request).
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The JSON-RPC messages in the body (one for JSON, every `data` for SSE).
    pub messages: Vec<Value>,
    /// The raw body when it was not JSON or SSE.
    pub text: String,
}

impl Answer {
    /// The message answering `id` (panics with the whole answer if absent).
    pub fn for_id(&self, id: &Value) -> Value {
        self.messages
            .iter()
            .find(|m| m.get("id") == Some(id) && m.get("method").is_none())
            .cloned()
            .unwrap_or_else(|| panic!("no answer to id {id}: {self:?}"))
    }

    /// The only JSON body.
    pub fn json(&self) -> Value {
        self.messages
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("no JSON body: {self:?}"))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

/// Reads a response: JSON bodies whole, SSE bodies until the message answering `until`.
pub async fn read_answer(resp: reqwest::Response, until: Option<&Value>) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut messages = Vec::new();
    let mut text = String::new();
    if content_type.starts_with("text/event-stream") {
        let mut body = resp.bytes_stream();
        let mut parser = SseParser::default();
        let read = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.expect("SSE body");
                for (_, data) in parser.feed(&chunk) {
                    let msg: Value = serde_json::from_str(&data).expect("SSE data is JSON");
                    let done = until.is_some_and(|id| msg.get("id") == Some(id) && msg.get("method").is_none());
                    messages.push(msg);
                    if done {
                        return;
                    }
                }
            }
        };
        tokio::time::timeout(ANSWER_TIMEOUT, read)
            .await
            .expect("the SSE answer arrives in time");
    } else {
        text = tokio::time::timeout(ANSWER_TIMEOUT, resp.text())
            .await
            .expect("body in time")
            .expect("body");
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            messages.push(v);
        }
    }
    Answer {
        status,
        headers,
        messages,
        text,
    }
}

/// A minimal SSE parser: `(event, data)` of each complete event with data.
#[derive(Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    /// Feeds bytes, returns the completed events.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<(Option<String>, String)> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let data = self.data.join("\n");
                let event = self.event.take();
                self.data.clear();
                if !data.is_empty() {
                    out.push((event, data));
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                self.data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
            } else if let Some(e) = line.strip_prefix("event:") {
                self.event = Some(e.trim().to_string());
            }
        }
        out
    }
}

/// A Streamable HTTP client session.
pub struct Session {
    http: reqwest::Client,
    /// The MCP endpoint.
    pub url: String,
    /// The Bearer token sent (none = no header).
    pub token: Option<String>,
    /// `Mcp-Session-Id` once assigned.
    pub session: Option<String>,
    /// `MCP-Protocol-Version` once negotiated.
    pub version: Option<String>,
    /// Extra headers for every request.
    pub extra: Vec<(String, String)>,
    /// The `Accept` header.
    pub accept: String,
    next_id: i64,
}

impl Session {
    /// A session at `url` with `token`.
    pub fn new(url: &str, token: Option<&str>) -> Session {
        Session {
            http: client(),
            url: url.to_string(),
            token: token.map(str::to_string),
            session: None,
            version: None,
            extra: Vec::new(),
            accept: "application/json, text/event-stream".into(),
            next_id: 0,
        }
    }

    /// The next request id, `base + n` (so ids differ between sessions).
    pub fn with_first_id(mut self, first: i64) -> Session {
        self.next_id = first;
        self
    }

    /// A POST of `body` as is, with this session's headers.
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>, until: Option<&Value>) -> Answer {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", &self.accept)
            .body(body);
        req = self.decorate(req);
        let resp = req.send().await.expect("server answers");
        read_answer(resp, until).await
    }

    fn decorate(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s);
        }
        if let Some(v) = &self.version {
            req = req.header("mcp-protocol-version", v);
        }
        for (k, v) in &self.extra {
            req = req.header(k, v);
        }
        req
    }

    /// Sends a request with a fresh id; returns the whole HTTP answer and the id.
    pub async fn send(&mut self, method: &str, params: Option<Value>) -> (Answer, Value) {
        self.next_id += 1;
        let id = json!(self.next_id);
        let msg = request_message(&id, method, params);
        let answer = self.post_raw(msg.to_string(), Some(&id)).await;
        (answer, id)
    }

    /// Sends a request and returns the JSON-RPC message answering it.
    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Value {
        let (answer, id) = self.send(method, params).await;
        assert_eq!(answer.status, 200, "{method}: {answer:?}");
        answer.for_id(&id)
    }

    /// `initialize` + `notifications/initialized`; keeps the session id and version.
    pub async fn initialize(&mut self, version: &str) -> Value {
        let (answer, id) = self.send("initialize", Some(initialize_params(version))).await;
        assert_eq!(answer.status, 200, "initialize: {answer:?}");
        self.session = answer.header("mcp-session-id");
        assert!(self.session.is_some(), "no Mcp-Session-Id: {answer:?}");
        let msg = answer.for_id(&id);
        self.version = msg["result"]["protocolVersion"].as_str().map(str::to_string);
        let n = self
            .post_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, None)
            .await;
        assert_eq!(n.status, 202, "notifications/initialized: {n:?}");
        msg
    }

    /// `tools/call` → the whole answer message.
    pub async fn call(&mut self, name: &str, args: Value) -> Value {
        self.request("tools/call", Some(call_params(name, args))).await
    }

    /// DELETE of the session.
    pub async fn delete(&self) -> u16 {
        let req = self.decorate(self.http.delete(&self.url));
        req.send().await.expect("server answers").status().as_u16()
    }
}

/// A legacy HTTP+SSE (2024-11-05) client.
pub struct LegacySession {
    http: reqwest::Client,
    /// Where messages are POSTed.
    pub endpoint: String,
    token: Option<String>,
    events: mpsc::UnboundedReceiver<(Option<String>, String)>,
    reader: tokio::task::JoinHandle<()>,
    next_id: i64,
}

impl Drop for LegacySession {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The outcome of `GET /sse`.
pub enum Opened {
    /// The stream is open.
    Open(Box<LegacySession>),
    /// The server refused: status, headers, body.
    Refused(u16, HeaderMap, String),
}

impl LegacySession {
    /// `GET <base>/sse` with `token` (and extra headers); waits for the `endpoint` event.
    pub async fn open(base: &str, token: Option<&str>, extra: &[(&str, &str)]) -> Opened {
        // No overall timeout on the stream itself; the connect and each wait are bounded.
        let http = reqwest::Client::builder()
            .connect_timeout(ANSWER_TIMEOUT)
            .build()
            .expect("client");
        let mut req = http.get(format!("{base}/sse")).header("accept", "text/event-stream");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = tokio::time::timeout(ANSWER_TIMEOUT, req.send())
            .await
            .expect("GET /sse answers in time")
            .expect("GET /sse");
        if resp.status().as_u16() != 200 {
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            return Opened::Refused(status, headers, text);
        }
        let (tx, mut events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            let mut parser = SseParser::default();
            while let Some(Ok(chunk)) = body.next().await {
                for e in parser.feed(&chunk) {
                    if tx.send(e).is_err() {
                        return;
                    }
                }
            }
        });
        let (event, data) = tokio::time::timeout(ANSWER_TIMEOUT, events.recv())
            .await
            .expect("endpoint event in time")
            .expect("an endpoint event");
        assert_eq!(event.as_deref(), Some("endpoint"), "first event: {data}");
        let endpoint = format!("{base}{data}");
        Opened::Open(Box::new(LegacySession {
            http: client(),
            endpoint,
            token: token.map(str::to_string),
            events,
            reader,
            next_id: 0,
        }))
    }

    /// Like [`Self::open`], failing unless the stream opened.
    pub async fn connect(base: &str, token: &str) -> LegacySession {
        match LegacySession::open(base, Some(token), &[]).await {
            Opened::Open(s) => *s,
            Opened::Refused(status, _, body) => panic!("GET /sse refused: {status} {body}"),
        }
    }

    /// POSTs `body` to the endpoint (optionally with another token); returns status and body.
    pub async fn post_as(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, String) {
        let mut req = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("server answers");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }

    /// POSTs `body` with the session's own token.
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> (u16, String) {
        let token = self.token.clone();
        self.post_as(token.as_deref(), body).await
    }

    /// The next `message` event as JSON.
    pub async fn next_message(&mut self) -> Value {
        loop {
            let (event, data) = tokio::time::timeout(ANSWER_TIMEOUT, self.events.recv())
                .await
                .expect("a message event in time")
                .expect("the stream is open");
            if event.as_deref() == Some("message") {
                return serde_json::from_str(&data).expect("message data is JSON");
            }
        }
    }

    /// Waits (bounded) until the event stream ends.
    pub async fn closed(&mut self) {
        loop {
            match tokio::time::timeout(ANSWER_TIMEOUT, self.events.recv()).await {
                Ok(None) => return,
                Ok(Some(_)) => {}
                Err(_) => panic!("the event stream did not end"),
            }
        }
    }

    /// Sends a request and returns the message answering it.
    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        let msg = request_message(&id, method, params);
        let (status, body) = self.post(msg.to_string()).await;
        assert_eq!(status, 202, "{method}: {body}");
        loop {
            let m = self.next_message().await;
            if m.get("id") == Some(&id) && m.get("method").is_none() {
                return m;
            }
        }
    }

    /// `initialize` + `notifications/initialized`.
    pub async fn initialize(&mut self, version: &str) -> Value {
        let r = self.request("initialize", Some(initialize_params(version))).await;
        let (status, _) = self
            .post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        assert_eq!(status, 202);
        r
    }

    /// `tools/call` → the whole answer message.
    pub async fn call(&mut self, name: &str, args: Value) -> Value {
        self.request("tools/call", Some(call_params(name, args))).await
    }
}
