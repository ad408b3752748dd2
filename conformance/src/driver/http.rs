//! The Streamable HTTP driver (2025-03-26 and later): every frame is one POST to the MCP
//! endpoint with `Accept: application/json, text/event-stream` and the Bearer token. The
//! `Mcp-Session-Id` the server assigns is sent back on later requests, the negotiated version
//! as `MCP-Protocol-Version`. A JSON body is read at once; an SSE body is read by a background
//! task that stops after the answer to its request. A 4xx/5xx whose body is a JSON-RPC message
//! hands out that message; any other is handed out as [`Incoming::HttpStatus`].
//!
//! At the stateless wire ([`Era::Stateless`]) there is no session: no `Mcp-Session-Id` is sent
//! or kept (one the server sends anyway is noted in the diagnostics), every POST carries
//! `MCP-Protocol-Version` and the `Mcp-Method`/`Mcp-Name` headers, and closing sends no DELETE.

use super::sse_events::SseParser;
use super::{
    Driver, DriverError, Frame, HttpEndpoint, Inbox, Incoming, Timeouts, Transport, log_tail, parse_frame, shorten,
};
use crate::era::{self, Era};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// A Streamable HTTP connection (one MCP session once `initialize` assigned one).
pub struct HttpDriver {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
    session: Option<String>,
    version: Option<String>,
    era: Era,
    inbox: Inbox,
    tx: UnboundedSender<Incoming>,
    in_flight: Vec<JoinHandle<()>>,
    timeouts: Timeouts,
    log: Vec<String>,
}

impl HttpDriver {
    /// A driver for the MCP endpoint `url`; nothing is sent until the first frame.
    pub fn connect(url: &str, token: Option<&str>, timeouts: Timeouts) -> Result<HttpDriver, DriverError> {
        let url = reqwest::Url::parse(url).map_err(|e| DriverError::Connect(format!("bad URL {url}: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.handshake)
            .build()
            .map_err(|e| DriverError::Connect(format!("cannot build an HTTP client: {e}")))?;
        let (inbox, tx) = Inbox::new();
        Ok(HttpDriver {
            client,
            url,
            token: token.map(str::to_string),
            session: None,
            version: None,
            era: Era::Handshake,
            inbox,
            tx,
            in_flight: Vec::new(),
            timeouts,
            log: Vec::new(),
        })
    }

    /// The session id the server assigned, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    async fn post(&mut self, frame: &Frame) -> Result<(), DriverError> {
        let (limit, request_id) = match frame {
            Frame::Json(v)
                if matches!(
                    v.get("method").and_then(Value::as_str),
                    Some("initialize" | "server/discover")
                ) =>
            {
                (self.timeouts.handshake, v.get("id").cloned())
            }
            Frame::Json(v) if v.get("method").is_some() => (self.timeouts.request, v.get("id").cloned()),
            _ => (self.timeouts.request, None),
        };
        let mut req = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json, text/event-stream")
            .timeout(limit)
            .body(frame.to_bytes());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            req = req.header("Mcp-Session-Id", s);
        }
        if self.era == Era::Stateless
            && let Frame::Json(v) = frame
        {
            for (name, value) in era::standard_headers(v) {
                req = req.header(name, value);
            }
        }
        if let Some(v) = &self.version {
            req = req.header("MCP-Protocol-Version", v);
        }
        let resp = req.send().await.map_err(|e| request_error(e, limit))?;
        let status = resp.status().as_u16();
        if let Some(s) = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            match self.era {
                Era::Handshake => self.session = Some(s.to_string()),
                Era::Stateless => self.log.push(format!(
                    "the server assigned session {s} at the stateless wire (not used)"
                )),
            }
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        self.log.push(format!("POST {} -> {status} {content_type}", self.url));
        if !(200..300).contains(&status) {
            let body = resp.text().await.unwrap_or_default();
            // A JSON-RPC message in an error body (the spec allows an error response without
            // id there) is the protocol-level answer: hand it out like any other message, so
            // transcripts stay comparable across transports. The status is in the diagnostics.
            let incoming = match serde_json::from_str::<Value>(&body) {
                Ok(v) if v.get("jsonrpc").is_some() => Incoming::Message(v),
                _ => Incoming::HttpStatus {
                    status,
                    body: shorten(&body, 500),
                },
            };
            let _ = self.tx.send(incoming);
            return Ok(());
        }
        if content_type.starts_with("text/event-stream") {
            let tx = self.tx.clone();
            let handle = tokio::spawn(async move {
                let mut parser = SseParser::default();
                let mut body = resp.bytes_stream();
                while let Some(chunk) = body.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = tx.send(Incoming::TransportError(format!("SSE response body: {e}")));
                            return;
                        }
                    };
                    for event in parser.feed(&chunk) {
                        if event.data.trim().is_empty() {
                            continue;
                        }
                        let incoming = parse_frame(&event.data);
                        let answered = matches!(&incoming, Incoming::Message(m)
                            if request_id.is_some() && m.get("id") == request_id.as_ref() && m.get("method").is_none());
                        let _ = tx.send(incoming);
                        if answered {
                            return;
                        }
                    }
                }
            });
            self.in_flight.push(handle);
            return Ok(());
        }
        let body = resp.text().await.map_err(|e| request_error(e, limit))?;
        if !body.trim().is_empty() {
            let _ = self.tx.send(parse_frame(&body));
        }
        Ok(())
    }

    async fn wait_in_flight(&mut self, within: Duration) -> Result<(), DriverError> {
        let handles = std::mem::take(&mut self.in_flight);
        let all = futures::future::join_all(handles);
        match tokio::time::timeout(within, all).await {
            Ok(_) => Ok(()),
            Err(_) => Err(DriverError::Timeout(within)),
        }
    }
}

/// One HTTP exchange read to its end, for checks that judge the status and headers too.
#[derive(Clone, Debug, Default)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// Response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON-RPC messages of the body (one JSON body, or the SSE events up to the answer).
    pub messages: Vec<Value>,
    /// The body when it held no JSON-RPC message (shortened).
    pub text: String,
}

impl HttpAnswer {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The answer (a message with `result` or `error` and no `method`).
    pub fn response(&self) -> Option<&Value> {
        self.messages
            .iter()
            .find(|m| m.get("method").is_none() && (m.get("result").is_some() || m.get("error").is_some()))
    }
}

/// Sends one HTTP request to an MCP endpoint with exactly the given headers (plus the Bearer
/// `token`) and reads the answer: a JSON body at once, an SSE body until the answer to a
/// request or the end of the stream. Everything within `within`.
pub async fn exchange_once(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    headers: &[(String, String)],
    body: Option<String>,
    within: Duration,
) -> Result<HttpAnswer, DriverError> {
    let client = reqwest::Client::builder()
        .connect_timeout(within)
        .build()
        .map_err(|e| DriverError::Connect(format!("cannot build an HTTP client: {e}")))?;
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let read = async {
        let resp = req.send().await.map_err(|e| request_error(e, within))?;
        let mut answer = HttpAnswer {
            status: resp.status().as_u16(),
            headers: resp
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            ..HttpAnswer::default()
        };
        let sse = answer
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        if sse {
            let mut parser = SseParser::default();
            let mut body = resp.bytes_stream();
            'stream: while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| DriverError::Io(format!("SSE response body: {e}")))?;
                for event in parser.feed(&chunk) {
                    if let Ok(v) = serde_json::from_str::<Value>(&event.data) {
                        let done = v.get("method").is_none() && v.get("id").is_some();
                        answer.messages.push(v);
                        if done {
                            break 'stream;
                        }
                    }
                }
            }
        } else {
            let text = resp.text().await.map_err(|e| request_error(e, within))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(v) if v.get("jsonrpc").is_some() => answer.messages.push(v),
                _ => answer.text = shorten(&text, 500),
            }
        }
        Ok(answer)
    };
    tokio::time::timeout(within, read)
        .await
        .unwrap_or(Err(DriverError::Timeout(within)))
}

fn request_error(e: reqwest::Error, limit: Duration) -> DriverError {
    if e.is_timeout() {
        DriverError::Timeout(limit)
    } else if e.is_connect() {
        DriverError::Connect(e.to_string())
    } else {
        DriverError::Io(e.to_string())
    }
}

impl Driver for HttpDriver {
    fn transport(&self) -> Transport {
        Transport::Http
    }

    fn send<'a>(&'a mut self, frame: &'a Frame) -> BoxFuture<'a, Result<(), DriverError>> {
        self.in_flight.retain(|h| !h.is_finished());
        self.post(frame).boxed()
    }

    super::inbox_methods!();

    fn settle(&mut self, within: Duration) -> BoxFuture<'_, Result<(), DriverError>> {
        self.wait_in_flight(within).boxed()
    }

    fn set_protocol_version(&mut self, version: &str) {
        self.version = Some(version.to_string());
    }

    fn http_endpoint(&self) -> Option<HttpEndpoint> {
        Some(HttpEndpoint {
            url: self.url.to_string(),
            token: self.token.clone(),
            session: self.session.clone(),
        })
    }

    fn set_era(&mut self, era: Era) {
        self.era = era;
        if era == Era::Stateless {
            self.session = None;
            self.version = Some(era::STATELESS_VERSION.to_string());
        }
    }

    fn diagnostics(&self) -> String {
        let mut out = format!(
            "endpoint: {}\nsession: {}\n",
            self.url,
            self.session.as_deref().unwrap_or("(none)")
        );
        out.push_str(&log_tail(&self.log));
        out
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        async move {
            if let Some(session) = &self.session {
                let mut req = self
                    .client
                    .delete(self.url.clone())
                    .header("Mcp-Session-Id", session)
                    .timeout(self.timeouts.request);
                if let Some(t) = &self.token {
                    req = req.bearer_auth(t);
                }
                let _ = req.send().await;
            }
            for h in &self.in_flight {
                h.abort();
            }
        }
        .boxed()
    }
}
