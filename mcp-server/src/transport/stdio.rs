//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout, through the inbound
//! [`Pipeline`] to rmcp's generic `(Sink, Stream)` transport.
//!
//! Framing is tokio-util's delimiter codec with the 16 MiB line limit: a longer line is
//! answered with `-32600`, `id: null`, and skipped without being buffered. Blank lines are
//! skipped; a leading UTF-8 BOM and a trailing `\r` are tolerated. Everything else is the
//! pipeline's (see its table): parse errors, shape rules, ids in flight, and the request that
//! arrives without a handshake (a person at a terminal is served as a 2024-11-05 client).
//!
//! One task writes: rmcp's messages (after the pipeline restored the client's ids) and the
//! pipeline's own error replies, each flushed as one line; only protocol messages reach stdout.
//! When stdin closes, the transport waits (bounded) for the answers still owed, then closes
//! rmcp's input; [`serve`] returns and the process exits 0.
//!
//! The process's own stdin and stdout ([`serve_stdio`]) are each served by a thread of their
//! own that blocks on the pipe, not by tokio's blocking pool: tokio's `Stdin` and `Stdout`
//! hand every read and every write to a pool thread and wait for it to come back, two thread
//! hand-overs per message each way; a dedicated reader passes each chunk on once, and the
//! writer thread takes each line without anyone waiting for the write (issue 13).

use crate::surface::server::AlloyServer;
use crate::transport::pipeline::{Inbound, Pipeline, Policy, serve_session};
use bytes::{Bytes, BytesMut};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, FramedRead};

/// The longest line accepted (16 MiB, rmcp's own limit).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Settings of the transport.
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

/// Serves MCP on the process's stdin and stdout until stdin closes (each pipe on a thread of
/// its own, see the module docs). Returns once every answer was written.
pub async fn serve_stdio(server: AlloyServer, options: StdioOptions) -> io::Result<()> {
    let input = ThreadReader::stdin()?;
    let (output, writer) = ThreadWriter::stdout()?;
    let served = serve(server, input, output, options).await;
    // `serve` dropped the writer's channel; the thread writes what is queued and ends.
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await
        .map_err(io::Error::other)?
        .map_err(|_| io::Error::other("the stdout writer thread panicked"))?;
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => served.and(Err(e)),
        _ => served,
    }
}

/// The process's stdin, read by a thread of its own: each chunk read is handed over once.
struct ThreadReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ThreadReader {
    fn stdin() -> io::Result<ThreadReader> {
        let (mut tx, chunks) = mpsc::channel::<io::Result<Bytes>>(1);
        std::thread::Builder::new()
            .name("alloy-mcp-stdin".into())
            .spawn(move || {
                let mut stdin = io::stdin().lock();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let chunk = match stdin.read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Err(e),
                    };
                    let failed = chunk.is_err();
                    // A closed channel means the transport stopped reading.
                    if futures::executor::block_on(tx.send(chunk)).is_err() || failed {
                        return;
                    }
                }
            })?;
        Ok(ThreadReader {
            chunks,
            current: Bytes::new(),
        })
    }
}

impl AsyncRead for ThreadReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        while self.current.is_empty() {
            match ready!(self.chunks.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Poll::Ready(Err(e)),
                // End of input: a read of nothing.
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.current.len().min(buf.remaining());
        let taken = self.current.split_to(n);
        buf.put_slice(&taken);
        Poll::Ready(Ok(()))
    }
}

/// The process's stdout, written by a thread of its own: a write is queued (bounded), and the
/// thread writes and flushes each one. Once the thread stopped (a closed pipe), writing fails
/// with `BrokenPipe`.
struct ThreadWriter {
    lines: mpsc::Sender<Vec<u8>>,
}

impl ThreadWriter {
    fn stdout() -> io::Result<(ThreadWriter, std::thread::JoinHandle<io::Result<()>>)> {
        let (lines, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let thread = std::thread::Builder::new()
            .name("alloy-mcp-stdout".into())
            .spawn(move || {
                let mut stdout = io::stdout().lock();
                while let Some(line) = futures::executor::block_on(rx.next()) {
                    stdout.write_all(&line)?;
                    stdout.flush()?;
                }
                Ok(())
            })?;
        Ok((ThreadWriter { lines }, thread))
    }
}

impl AsyncWrite for ThreadWriter {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let closed = |_| io::Error::from(io::ErrorKind::BrokenPipe);
        ready!(self.lines.poll_ready(cx)).map_err(closed)?;
        self.lines.start_send(buf.to_vec()).map_err(closed)?;
        Poll::Ready(Ok(buf.len()))
    }

    /// The thread flushes after every write; there is nothing to wait for here.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lines.close_channel();
        Poll::Ready(Ok(()))
    }
}

/// Serves MCP on `input`/`output` (newline-delimited JSON-RPC) until `input` ends.
pub async fn serve<R, W>(server: AlloyServer, input: R, output: W, options: StdioOptions) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let pipeline = Arc::new(Pipeline::new(Policy::STDIO));
    let (to_rmcp, rmcp_input) = mpsc::channel::<ClientJsonRpcMessage>(64);
    let (rmcp_output, from_rmcp) = mpsc::channel::<ServerJsonRpcMessage>(64);
    let (replies, reply_rx) = mpsc::unbounded::<Value>();
    let writer = tokio::spawn(write(output, from_rmcp, reply_rx, pipeline.clone()));
    let mut service = tokio::spawn(async move {
        if let Err(e) = serve_session(server, (rmcp_output, rmcp_input)).await {
            tracing::error!(error = %e, "stdio");
        }
    });

    let frames = FramedRead::new(input, Lines::new(options.max_line_bytes));
    let read = read(
        frames,
        &pipeline,
        to_rmcp.clone(),
        replies.clone(),
        options.max_line_bytes,
    )
    .await;

    // End of input: wait for the answers already owed (unless the service is gone), then close
    // rmcp's input.
    let mut service_result = None;
    tokio::select! {
        drained = tokio::time::timeout(options.drain, pipeline.settled()) => {
            if drained.is_err() {
                tracing::warn!(owed = pipeline.owed(), "input closed; gave up waiting for answers still owed");
            }
        }
        done = &mut service => service_result = Some(done),
    }
    drop(to_rmcp);
    drop(replies);
    let service_result = match service_result {
        Some(r) => r,
        None => service.await,
    };
    if let Err(e) = service_result {
        tracing::error!(error = %e, "the MCP service task panicked");
    }
    match writer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(io::Error::other(e)),
    }
    read
}

/// One framed input line, or the news that a line was too long.
enum Frame {
    Line(Bytes),
    TooLong,
}

/// tokio-util's newline codec with the length limit reported as a frame of its own: its error
/// would end the stream, and a line too long must not end the session.
struct Lines(AnyDelimiterCodec);

impl Lines {
    fn new(max: usize) -> Lines {
        Lines(AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), Vec::new(), max))
    }

    fn map(outcome: Result<Option<Bytes>, AnyDelimiterCodecError>) -> io::Result<Option<Frame>> {
        match outcome {
            Ok(line) => Ok(line.map(Frame::Line)),
            Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => Ok(Some(Frame::TooLong)),
            Err(AnyDelimiterCodecError::Io(e)) => Err(e),
        }
    }
}

impl Decoder for Lines {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        Lines::map(self.0.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        Lines::map(self.0.decode_eof(buf))
    }
}

/// Reads frames until the input ends (or rmcp stops taking input), feeding the pipeline.
async fn read<R: AsyncRead + Unpin>(
    mut frames: FramedRead<R, Lines>,
    pipeline: &Pipeline,
    mut to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    replies: mpsc::UnboundedSender<Value>,
    max: usize,
) -> io::Result<()> {
    while let Some(frame) = frames.next().await {
        let line = match frame? {
            Frame::TooLong => {
                tracing::warn!(limit = max, "input line too long; refused");
                let reply = pipeline.too_long(max);
                if replies.unbounded_send(reply.to_value()).is_err() {
                    return Ok(());
                }
                continue;
            }
            Frame::Line(line) => line,
        };
        let raw = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        for inbound in pipeline.accept(raw) {
            match inbound {
                Inbound::Forward(msg) => {
                    if to_rmcp.send(*msg).await.is_err() {
                        tracing::error!("the MCP service stopped; no longer reading input");
                        return Ok(());
                    }
                }
                Inbound::Reply(reply) => {
                    tracing::debug!(code = reply.code.0, message = %reply.message, "answered by the pipeline");
                    if replies.unbounded_send(reply.to_value()).is_err() {
                        return Ok(());
                    }
                }
                Inbound::Ignore(why) => tracing::debug!(why, "input message ignored"),
            }
        }
    }
    Ok(())
}

/// The one writer: rmcp's messages (ids restored by the pipeline) and the pipeline's replies,
/// one flushed line each, until both sources are closed.
async fn write<W: AsyncWrite + Unpin>(
    mut output: W,
    mut from_rmcp: mpsc::Receiver<ServerJsonRpcMessage>,
    mut replies: mpsc::UnboundedReceiver<Value>,
    pipeline: Arc<Pipeline>,
) -> io::Result<()> {
    let mut rmcp_open = true;
    let mut replies_open = true;
    while rmcp_open || replies_open {
        // The pipeline's replies first: one enqueued before a request was forwarded must go out
        // before that request's answer, so a client reading in order never sees them swapped.
        let message = tokio::select! {
            biased;
            r = replies.next(), if replies_open => match r {
                Some(r) => Some(r.to_string()),
                None => {
                    replies_open = false;
                    None
                }
            },
            m = from_rmcp.next(), if rmcp_open => match m {
                Some(m) => pipeline.outbound_message(&m),
                None => {
                    rmcp_open = false;
                    None
                }
            },
        };
        if let Some(message) = message {
            let mut line = message.into_bytes();
            line.push(b'\n');
            output.write_all(&line).await?;
            output.flush().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_split_on_newlines_and_refuse_long_lines_without_buffering_them() {
        let data = b"{\"a\":1}\r\nxxxxxxxxxxxxxxxxxxxx\nlast".to_vec();
        let mut frames = FramedRead::with_capacity(&data[..], Lines::new(10), 4);
        assert!(matches!(frames.next().await, Some(Ok(Frame::Line(l))) if &l[..] == b"{\"a\":1}\r"));
        assert!(matches!(frames.next().await, Some(Ok(Frame::TooLong))));
        assert!(matches!(frames.next().await, Some(Ok(Frame::Line(l))) if &l[..] == b"last"));
        assert!(frames.next().await.is_none());
    }
}
