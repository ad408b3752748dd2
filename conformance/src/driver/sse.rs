//! The legacy HTTP+SSE driver (protocol 2024-11-05): a GET opens the event stream, whose first
//! `endpoint` event names the URL to POST messages to (`/message?sessionId=…`); every answer
//! arrives on the stream as a `message` event. The endpoint event must arrive within the
//! handshake timeout; each POST has the request timeout.

use super::sse_events::SseParser;
use super::{Driver, DriverError, Frame, Inbox, Incoming, Timeouts, Transport, log_tail, parse_frame, shorten};
use crate::era::Era;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A legacy HTTP+SSE connection.
pub struct SseDriver {
    client: reqwest::Client,
    sse_url: reqwest::Url,
    endpoint: reqwest::Url,
    token: Option<String>,
    inbox: Inbox,
    tx: tokio::sync::mpsc::UnboundedSender<Incoming>,
    reader: JoinHandle<()>,
    timeouts: Timeouts,
    barriers: u64,
    log: Vec<String>,
}

impl SseDriver {
    /// Opens the event stream at `sse_url` and waits for the `endpoint` event.
    pub async fn connect(sse_url: &str, token: Option<&str>, timeouts: Timeouts) -> Result<SseDriver, DriverError> {
        let sse_url =
            reqwest::Url::parse(sse_url).map_err(|e| DriverError::Connect(format!("bad URL {sse_url}: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.handshake)
            .build()
            .map_err(|e| DriverError::Connect(format!("cannot build an HTTP client: {e}")))?;
        let mut req = client
            .get(sse_url.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = match tokio::time::timeout(timeouts.handshake, req.send()).await {
            Err(_) => return Err(DriverError::Timeout(timeouts.handshake)),
            Ok(Err(e)) => return Err(DriverError::Connect(e.to_string())),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if status != 200 {
            let body = tokio::time::timeout(timeouts.request, resp.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(DriverError::Connect(format!(
                "GET {sse_url} answered {status}: {}",
                shorten(&body, 300)
            )));
        }
        let (inbox, tx) = Inbox::new();
        let (endpoint_tx, endpoint_rx) = oneshot::channel::<String>();
        let reader_tx = tx.clone();
        let reader = tokio::spawn(async move {
            let mut endpoint_tx = Some(endpoint_tx);
            let mut parser = SseParser::default();
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else {
                    let _ = reader_tx.send(Incoming::TransportError("event stream broke off".into()));
                    break;
                };
                for event in parser.feed(&chunk) {
                    match event.event.as_deref() {
                        Some("endpoint") => {
                            if let Some(s) = endpoint_tx.take() {
                                let _ = s.send(event.data);
                            }
                        }
                        Some("message") | None if !event.data.trim().is_empty() => {
                            let _ = reader_tx.send(parse_frame(&event.data));
                        }
                        _ => {}
                    }
                }
            }
            let _ = reader_tx.send(Incoming::Closed);
        });
        let endpoint = match tokio::time::timeout(timeouts.handshake, endpoint_rx).await {
            Ok(Ok(e)) => e,
            Ok(Err(_)) => {
                reader.abort();
                return Err(DriverError::Connect(
                    "the event stream ended before an `endpoint` event".into(),
                ));
            }
            Err(_) => {
                reader.abort();
                return Err(DriverError::Timeout(timeouts.handshake));
            }
        };
        let endpoint = sse_url
            .join(endpoint.trim())
            .map_err(|e| DriverError::Connect(format!("bad endpoint `{endpoint}`: {e}")))?;
        Ok(SseDriver {
            client,
            sse_url,
            endpoint,
            token: token.map(str::to_string),
            inbox,
            tx,
            reader,
            timeouts,
            barriers: 0,
            log: Vec::new(),
        })
    }

    /// Legacy HTTP+SSE is a handshake-era transport.
    fn barrier_era(&self) -> Era {
        Era::Handshake
    }

    async fn post(&mut self, frame: &Frame) -> Result<(), DriverError> {
        let limit = self.timeouts.request;
        let mut req = self
            .client
            .post(self.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(limit)
            .body(frame.to_bytes());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                DriverError::Timeout(limit)
            } else {
                DriverError::Io(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        self.log.push(format!("POST {} -> {status}", self.endpoint));
        if !(200..300).contains(&status) {
            let body = resp.text().await.unwrap_or_default();
            let _ = self.tx.send(Incoming::HttpStatus {
                status,
                body: shorten(&body, 500),
            });
        }
        Ok(())
    }
}

impl Drop for SseDriver {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Driver for SseDriver {
    fn transport(&self) -> Transport {
        Transport::Sse
    }

    fn send<'a>(&'a mut self, frame: &'a Frame) -> BoxFuture<'a, Result<(), DriverError>> {
        self.post(frame).boxed()
    }

    super::inbox_methods!(settle by post);

    fn set_protocol_version(&mut self, _version: &str) {}

    /// Legacy HTTP+SSE exists only in the handshake era.
    fn set_era(&mut self, _era: Era) {}

    fn diagnostics(&self) -> String {
        let mut out = format!("event stream: {}\nendpoint: {}\n", self.sse_url, self.endpoint);
        out.push_str(&log_tail(&self.log));
        out
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        async move { drop(self) }.boxed()
    }
}
