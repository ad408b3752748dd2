//! A Streamable HTTP client for measuring: one POST per message on a keep-alive connection
//! (`TCP_NODELAY`), `Accept: application/json, text/event-stream` as the spec asks of clients,
//! the session id and negotiated version sent back as headers. The answer is returned as the
//! exact bytes of the JSON-RPC message: the JSON body, or the `data` of the SSE event that
//! carries it. Every exchange (headers and body) is bounded by one timeout.

use crate::measure::{CallError, is_answer_to, preview};
use std::time::{Duration, Instant};

/// How long the rest of an SSE response is read after its answer arrived.
const DRAIN_LIMIT: Duration = Duration::from_millis(500);

/// One client session against one MCP endpoint.
pub struct HttpClient {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
    session: Option<String>,
    version: Option<String>,
    timeout: Duration,
    answered_at: Option<Instant>,
}

impl HttpClient {
    /// A client of the MCP endpoint `url`; nothing is sent yet.
    pub fn new(url: &str, token: Option<&str>, timeout: Duration) -> Result<HttpClient, CallError> {
        HttpClient::over(HttpClient::pool(4, timeout)?, url, token, timeout)
    }

    /// A pool of keep-alive connections (at most `idle` kept per host) that sessions made with
    /// [`HttpClient::over`] share.
    pub fn pool(idle: usize, timeout: Duration) -> Result<reqwest::Client, CallError> {
        reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(idle)
            .build()
            .map_err(|e| CallError::Connect(format!("cannot build an HTTP client: {e}")))
    }

    /// A client session of the MCP endpoint `url` over the connections of `client` (a
    /// [`HttpClient::pool`]); nothing is sent yet.
    pub fn over(
        client: reqwest::Client,
        url: &str,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<HttpClient, CallError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| CallError::Connect(format!("bad URL {url}: {e}")))?;
        Ok(HttpClient {
            client,
            url: parsed,
            token: token.map(str::to_string),
            session: None,
            version: None,
            timeout,
            answered_at: None,
        })
    }

    /// Sends `MCP-Protocol-Version: version` from now on.
    pub fn set_version(&mut self, version: &str) {
        self.version = Some(version.to_string());
    }

    /// When the answer of the last request was in hand (before the rest of its response body was
    /// read): what latency is measured to.
    pub fn answered_at(&self) -> Option<Instant> {
        self.answered_at
    }

    /// The session id the server assigned, if any.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// POSTs `frame`. For a request (`id` given) returns the bytes of its answer; for a
    /// notification returns an empty vector once the server accepted it. `headers` are added
    /// (the stateless revision's `Mcp-Method` / `Mcp-Name`).
    pub async fn post(&mut self, frame: &str, id: Option<u64>, headers: &[(&str, &str)]) -> Result<Vec<u8>, CallError> {
        let limit = self.timeout;
        self.answered_at = None;
        match tokio::time::timeout(limit, self.exchange(frame, id, headers)).await {
            Ok(r) => r,
            Err(_) => Err(CallError::Timeout(limit)),
        }
    }

    async fn exchange(&mut self, frame: &str, id: Option<u64>, headers: &[(&str, &str)]) -> Result<Vec<u8>, CallError> {
        let mut req = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json, text/event-stream")
            .body(frame.to_string());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            req = req.header("Mcp-Session-Id", s);
        }
        if let Some(v) = &self.version {
            req = req.header("MCP-Protocol-Version", v);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send().await.map_err(|e| {
            if e.is_connect() {
                CallError::Connect(format!("{}: {e}", self.url))
            } else {
                CallError::Closed(format!("{}: {e}", self.url))
            }
        })?;
        if let Some(s) = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            self.session = Some(s.to_string());
        }
        let status = resp.status().as_u16();
        let sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        let Some(id) = id else {
            // A notification: 202 (or 200) without a message; read whatever body there is.
            let _ = resp.bytes().await;
            if (200..300).contains(&status) {
                return Ok(Vec::new());
            }
            return Err(CallError::Protocol(format!("HTTP {status} for a notification")));
        };
        if !sse {
            let body = resp.bytes().await.map_err(|e| CallError::Closed(e.to_string()))?;
            self.answered_at = Some(Instant::now());
            return match is_answer_to(&body, id) {
                Ok(true) => Ok(body.to_vec()),
                _ => Err(CallError::Protocol(format!("HTTP {status}: {}", preview(&body)))),
            };
        }
        let mut buf = Vec::new();
        loop {
            let chunk = resp
                .chunk()
                .await
                .map_err(|e| CallError::Closed(format!("SSE body: {e}")))?;
            let Some(chunk) = chunk else {
                return Err(CallError::Closed(format!(
                    "the event stream ended without the answer to request {id} (HTTP {status})"
                )));
            };
            buf.extend_from_slice(&chunk);
            for data in take_events(&mut buf) {
                if is_answer_to(&data, id)? {
                    self.answered_at = Some(Instant::now());
                    // The stream of a POST should end after its answer; reading it to the end
                    // lets the connection go back to the pool. A server that keeps it open gets
                    // DRAIN_LIMIT, then the connection is dropped.
                    let drain = async { while let Ok(Some(_)) = resp.chunk().await {} };
                    let _ = tokio::time::timeout(DRAIN_LIMIT.min(self.timeout), drain).await;
                    return Ok(data);
                }
            }
        }
    }

    /// Ends the session (`DELETE` with its id), bounded by the timeout; errors are ignored.
    pub async fn close(self) {
        if let Some(session) = &self.session {
            let mut req = self
                .client
                .delete(self.url.clone())
                .header("Mcp-Session-Id", session)
                .timeout(self.timeout);
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            let _ = req.send().await;
        }
    }
}

/// Removes every complete event from the front of `buf` and returns the `data` of each (lines
/// joined by `\n`); events without data are dropped.
pub fn take_events(buf: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((end, sep)) = find_blank_line(buf) {
        let event: Vec<u8> = buf.drain(..end + sep).take(end).collect();
        let mut data: Vec<u8> = Vec::new();
        let mut any = false;
        for line in event.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(rest) = line.strip_prefix(b"data:") {
                if any {
                    data.push(b'\n');
                }
                any = true;
                data.extend_from_slice(rest.strip_prefix(b" ").unwrap_or(rest));
            }
        }
        if any && !data.iter().all(u8::is_ascii_whitespace) {
            out.push(data);
        }
    }
    out
}

/// The end of the first event in `buf` and the length of the blank line after it.
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2));
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| (p, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_at_blank_lines_and_partial_ones_wait() {
        let mut buf = b"id: 1\ndata: {\"a\":1}\n\n: comment\n\ndata: {\"b\"\r\ndata: :2}\r\n\r\ndata: {\"c\"".to_vec();
        let events = take_events(&mut buf);
        assert_eq!(events, vec![b"{\"a\":1}".to_vec(), b"{\"b\"\n:2}".to_vec()]);
        assert_eq!(buf, b"data: {\"c\"".to_vec());
        buf.extend_from_slice(b":3}\n\n");
        assert_eq!(take_events(&mut buf), vec![b"{\"c\":3}".to_vec()]);
        assert!(buf.is_empty());
    }
}
