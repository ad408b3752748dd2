//! The stdio transport: a framing shim in front of rmcp.
//!
//! rmcp's own stdio transport ignores unparsable lines, answers a known method with malformed
//! params with -32601, drops lines over 16 MiB without a word, and stops serving when a
//! notification arrives before `initialize`. This shim reads raw lines itself and only forwards
//! well-formed messages to rmcp, through rmcp's generic `(Sink, Stream)` transport:
//!
//! | input line | answer (the server keeps serving after each) |
//! |---|---|
//! | not JSON (or not UTF-8) | `-32700`, `id: null` |
//! | longer than 16 MiB | `-32600`, `id: null` (the line is skipped, not buffered) |
//! | JSON but not a JSON-RPC 2.0 message (wrong `jsonrpc`, bad `id`, batch array, ...) | `-32600`, the request's `id` when it has a valid one, else `null` |
//! | a known MCP method whose `params` do not fit (`tools/call` without `name`, ...) | `-32602` with the request's `id` |
//! | a notification or response before `initialize` | dropped (rmcp would stop serving) |
//! | anything else | forwarded to rmcp |
//!
//! Blank lines are skipped; a leading UTF-8 BOM and a trailing `\r` are tolerated. When stdin
//! closes, the shim waits (bounded) for the answers to requests already forwarded, then closes
//! rmcp's input; [`serve`] returns and the process exits 0. Only protocol messages reach the
//! output.

use crate::frame::{INVALID_REQUEST, PARSE_ERROR, Verdict, classify};
use crate::server::AlloyServer;
use futures::SinkExt;
use futures::channel::mpsc;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ClientNotification, ClientRequest, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::ServerInitializeError;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

/// The longest line accepted (16 MiB, rmcp's own limit).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Settings of the shim.
#[derive(Clone, Debug)]
pub struct StdioOptions {
    /// Lines longer than this many bytes are refused with -32600.
    pub max_line_bytes: usize,
    /// How long to wait at end of input for answers still owed.
    pub drain: Duration,
}

impl Default for StdioOptions {
    fn default() -> Self {
        StdioOptions {
            max_line_bytes: MAX_LINE_BYTES,
            drain: Duration::from_secs(65),
        }
    }
}

/// Serves MCP on the process's stdin and stdout until stdin closes.
pub async fn serve_stdio(server: AlloyServer, options: StdioOptions) -> io::Result<()> {
    serve(server, tokio::io::stdin(), tokio::io::stdout(), options).await
}

/// Serves MCP on `input`/`output` (newline-delimited JSON-RPC) until `input` ends.
pub async fn serve<R, W>(server: AlloyServer, input: R, output: W, options: StdioOptions) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(write_lines(output, out_rx));

    let (to_rmcp, rmcp_input) = mpsc::channel::<ClientJsonRpcMessage>(64);
    let (rmcp_output, from_rmcp) = mpsc::channel::<ServerJsonRpcMessage>(64);
    let pending = Arc::new(Pending::default());
    let forwarder = tokio::spawn(forward_answers(from_rmcp, out_tx.clone(), pending.clone()));
    let mut service = tokio::spawn(async move {
        match server.serve((rmcp_output, rmcp_input)).await {
            Ok(running) => {
                if let Err(e) = running.waiting().await {
                    tracing::error!(error = %e, "the MCP service task failed");
                }
            }
            // Input closed before any `initialize`: a normal, quiet end.
            Err(ServerInitializeError::ConnectionClosed(_)) => {}
            Err(e) => tracing::error!(error = %e, "the MCP session ended during initialization"),
        }
    });

    let mut shim = Shim {
        to_rmcp,
        out: out_tx,
        pending: pending.clone(),
        initialized: false,
    };
    let read = read_loop(BufReader::with_capacity(64 * 1024, input), &mut shim, &options).await;

    // End of input: wait for the answers already owed (unless the service is gone), then close
    // rmcp's input.
    let mut service_result = None;
    tokio::select! {
        drained = tokio::time::timeout(options.drain, pending.wait_empty()) => {
            if drained.is_err() {
                tracing::warn!(owed = pending.len(), "input closed; gave up waiting for answers still owed");
            }
        }
        done = &mut service => service_result = Some(done),
    }
    drop(shim);
    let service_result = match service_result {
        Some(r) => r,
        None => service.await,
    };
    if let Err(e) = service_result {
        tracing::error!(error = %e, "the MCP service task panicked");
    }
    let _ = forwarder.await;
    match writer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(io::Error::other(e)),
    }
    read
}

/// Request ids forwarded to rmcp and not answered yet.
#[derive(Default)]
struct Pending {
    ids: Mutex<HashSet<String>>,
    changed: Notify,
}

impl Pending {
    fn insert(&self, id: String) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(id);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.remove(id);
        }
        self.changed.notify_waiters();
    }

    fn len(&self) -> usize {
        self.ids.lock().map(|ids| ids.len()).unwrap_or(0)
    }

    async fn wait_empty(&self) {
        loop {
            let notified = self.changed.notified();
            if self.len() == 0 {
                return;
            }
            notified.await;
        }
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut lines: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> io::Result<()> {
    while let Some(line) = lines.recv().await {
        output.write_all(line.as_bytes()).await?;
        output.write_all(b"\n").await?;
        output.flush().await?;
    }
    Ok(())
}

/// Serializes rmcp's messages to lines and settles the pending ids they answer.
async fn forward_answers(
    mut from_rmcp: mpsc::Receiver<ServerJsonRpcMessage>,
    out: tokio::sync::mpsc::UnboundedSender<String>,
    pending: Arc<Pending>,
) {
    use futures::StreamExt;
    while let Some(msg) = from_rmcp.next().await {
        let answered = match &msg {
            JsonRpcMessage::Response(r) => Some(id_key(&r.id)),
            JsonRpcMessage::Error(e) => e.id.as_ref().map(id_key),
            _ => None,
        };
        match serde_json::to_string(&msg) {
            Ok(line) => {
                let _ = out.send(line);
            }
            Err(e) => tracing::error!(error = %e, "an MCP message could not be serialized"),
        }
        if let Some(id) = answered {
            pending.remove(&id);
        }
    }
}

fn id_key<T: serde::Serialize>(id: &T) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

/// One framed input.
enum Frame {
    Line(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads up to the next `\n` without ever holding more than `max` bytes of one line.
async fn next_frame<R: AsyncBufRead + Unpin>(r: &mut R, max: usize) -> io::Result<Frame> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if too_long {
                Frame::TooLong
            } else if line.is_empty() {
                Frame::Eof
            } else {
                Frame::Line(line)
            });
        }
        let (chunk, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = end.unwrap_or(buf.len());
        r.consume(used);
        if end.is_some() {
            return Ok(if too_long { Frame::TooLong } else { Frame::Line(line) });
        }
    }
}

async fn read_loop<R: AsyncBufRead + Unpin>(mut input: R, shim: &mut Shim, options: &StdioOptions) -> io::Result<()> {
    loop {
        match next_frame(&mut input, options.max_line_bytes).await? {
            Frame::Eof => return Ok(()),
            Frame::TooLong => {
                tracing::warn!(limit = options.max_line_bytes, "input line too long; refused");
                shim.reply_error(
                    Value::Null,
                    INVALID_REQUEST,
                    format!("Invalid Request: message longer than {} bytes", options.max_line_bytes),
                );
            }
            Frame::Line(bytes) => {
                if !shim.handle_line(&bytes).await {
                    tracing::error!("the MCP service stopped; no longer reading input");
                    return Ok(());
                }
            }
        }
        if shim.out.is_closed() {
            return Ok(());
        }
    }
}

struct Shim {
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    out: tokio::sync::mpsc::UnboundedSender<String>,
    pending: Arc<Pending>,
    initialized: bool,
}

impl Shim {
    fn reply_error(&self, id: Value, code: i32, message: String) {
        tracing::debug!(code, %message, "framing error answered by the shim");
        let line = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
        let _ = self.out.send(line.to_string());
    }

    /// Handles one line; `false` when rmcp no longer accepts input.
    async fn handle_line(&mut self, raw: &[u8]) -> bool {
        let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        let value: Value = match serde_json::from_slice(raw) {
            Ok(v) => v,
            Err(e) => {
                self.reply_error(Value::Null, PARSE_ERROR, format!("Parse error: {e}"));
                return true;
            }
        };
        match classify(value) {
            Verdict::Reply { id, code, message } => {
                self.reply_error(id, code, message);
                true
            }
            Verdict::Drop(why) => {
                tracing::debug!(why, "input message dropped");
                true
            }
            Verdict::Forward(msg) => self.forward(*msg).await,
        }
    }

    async fn forward(&mut self, msg: ClientJsonRpcMessage) -> bool {
        match &msg {
            JsonRpcMessage::Request(req) => {
                if matches!(req.request, ClientRequest::InitializeRequest(_)) {
                    self.initialized = true;
                }
                self.pending.insert(id_key(&req.id));
            }
            JsonRpcMessage::Notification(_) | JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_)
                if !self.initialized =>
            {
                tracing::debug!("notification or response before initialize dropped");
                return true;
            }
            // A cancelled request may never be answered: stop waiting for it.
            JsonRpcMessage::Notification(n) => {
                if let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    self.pending.remove(&id_key(id));
                }
            }
            _ => {}
        }
        self.to_rmcp.send(msg).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_split_on_newlines_and_refuse_long_lines_without_buffering_them() {
        let data = b"{\"a\":1}\r\nxxxxxxxxxxxxxxxxxxxx\nlast".to_vec();
        let mut r = BufReader::with_capacity(4, &data[..]);
        assert!(matches!(next_frame(&mut r, 10).await, Ok(Frame::Line(l)) if l == b"{\"a\":1}\r"));
        assert!(matches!(next_frame(&mut r, 10).await, Ok(Frame::TooLong)));
        assert!(matches!(next_frame(&mut r, 10).await, Ok(Frame::Line(l)) if l == b"last"));
        assert!(matches!(next_frame(&mut r, 10).await, Ok(Frame::Eof)));
    }
}
