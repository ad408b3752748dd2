//! The Streamable HTTP driver (2025-03-26 and later): every frame is one POST to the MCP
//! endpoint with `Accept: application/json, text/event-stream` and the Bearer token. The
//! `Mcp-Session-Id` the server assigns is sent back on later requests, the negotiated version
//! as `MCP-Protocol-Version`. A JSON body is read at once; an SSE body is read by a background
//! task that stops after the answer to its request. A 4xx/5xx whose body is a JSON-RPC message
//! hands out that message; any other is handed out as [`Incoming::HttpStatus`].

use super::sse_events::SseParser;
use super::{Driver, DriverError, Frame, Inbox, Incoming, Timeouts, Transport, parse_frame, shorten};
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
            Frame::Json(v) if v.get("method").and_then(Value::as_str) == Some("initialize") => {
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
            .body(frame.to_text());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            req = req.header("Mcp-Session-Id", s);
        }
        if let Some(v) = &self.version {
            req = req.header("MCP-Protocol-Version", v);
        }
        let resp = req.send().await.map_err(|e| request_error(e, limit))?;
        let status = resp.status().as_u16();
        if let Some(s) = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            self.session = Some(s.to_string());
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

    fn recv(&mut self, within: Duration) -> BoxFuture<'_, Result<Incoming, DriverError>> {
        self.inbox.recv(within).boxed()
    }

    fn try_recv(&mut self) -> Option<Incoming> {
        self.inbox.try_recv()
    }

    fn settle(&mut self, within: Duration) -> BoxFuture<'_, Result<(), DriverError>> {
        self.wait_in_flight(within).boxed()
    }

    fn set_protocol_version(&mut self, version: &str) {
        self.version = Some(version.to_string());
    }

    fn diagnostics(&self) -> String {
        let mut out = format!(
            "endpoint: {}\nsession: {}\n",
            self.url,
            self.session.as_deref().unwrap_or("(none)")
        );
        for line in &self.log[self.log.len().saturating_sub(20)..] {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
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
