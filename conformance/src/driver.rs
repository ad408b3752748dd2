//! Drivers: raw MCP transports, seen from the client side. A driver sends frames (a JSON value,
//! or any text at all, so malformed and out-of-order input can be tested) and hands back whatever
//! the server sent, in arrival order, without interpreting it. Three implementations live in the
//! submodules: [`stdio`] (a spawned command, newline-delimited JSON), [`http`] (Streamable HTTP
//! with sessions, JSON and SSE response bodies) and [`sse`] (the legacy 2024-11-05 HTTP+SSE pair).
//!
//! Every wait is bounded: [`Timeouts::handshake`] for connecting and for the `initialize`
//! answer, [`Timeouts::request`] for every other answer and every write. A silent server
//! therefore surfaces as [`DriverError::Timeout`], never as a hang.

pub mod http;
pub mod sse;
pub(crate) mod sse_events;
pub mod stdio;

use crate::era::Era;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc;

/// The transports the harness can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// A spawned process speaking newline-delimited JSON-RPC on stdin/stdout.
    Stdio,
    /// Streamable HTTP (2025-03-26 and later).
    Http,
    /// Legacy HTTP+SSE (2024-11-05): GET an event stream, POST to the announced endpoint.
    Sse,
}

impl Transport {
    /// Every transport, in report column order.
    pub const ALL: [Transport; 3] = [Transport::Stdio, Transport::Http, Transport::Sse];

    /// Short lower-case name used in reports, scenario files and the expected-failures file.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
            Transport::Sse => "sse",
        }
    }

    /// Parses [`Transport::name`].
    pub fn parse(s: &str) -> Option<Transport> {
        Transport::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Whether the transport exists in `era` (legacy HTTP+SSE is a 2024-11-05 transport).
    pub fn speaks(self, era: Era) -> bool {
        self != Transport::Sse || era == Era::Handshake
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Time limits applied by every driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting (process start, SSE endpoint event, HTTP readiness) and the `initialize` answer.
    pub handshake: Duration,
    /// Every other answer, every write and every HTTP request.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(15),
            request: Duration::from_secs(10),
        }
    }
}

/// One frame to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A JSON value, serialized compactly.
    Json(Value),
    /// Text sent exactly as given (stdio adds the newline delimiter).
    Raw(String),
    /// Bytes sent exactly as given, which need not be UTF-8 (stdio adds the newline delimiter).
    Bytes(Vec<u8>),
}

impl Frame {
    /// The frame as text, without a transport delimiter (bytes that are not UTF-8 shown as
    /// U+FFFD): for logs and reports.
    pub fn to_text(&self) -> String {
        match self {
            Frame::Json(v) => v.to_string(),
            Frame::Raw(s) => s.clone(),
            Frame::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    /// The bytes on the wire, without a transport delimiter.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Frame::Json(v) => v.to_string().into_bytes(),
            Frame::Raw(s) => s.clone().into_bytes(),
            Frame::Bytes(b) => b.clone(),
        }
    }
}

/// Something that arrived from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// A JSON value (a message, or a batch array).
    Message(Value),
    /// A frame that was not JSON (shortened to 2000 characters).
    Unparsable(String),
    /// An HTTP answer that carried no JSON-RPC message (4xx/5xx, or an unexpected status).
    HttpStatus {
        /// The status code.
        status: u16,
        /// The body, shortened to 500 characters.
        body: String,
    },
    /// A transport-level failure while reading (e.g. a response body cut off).
    TransportError(String),
    /// The server ended the connection (stdout closed, event stream ended).
    Closed,
}

/// Why a driver operation did not complete. Callers decide by variant, never by message text.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Nothing arrived (or a write did not finish) within the limit.
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The connection or process is gone.
    #[error("the server closed the connection")]
    Closed,
    /// Could not start or reach the server.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// A spawned HTTP server exited before it accepted connections (e.g. it lost its port to
    /// another process); the launcher may start it again on another port.
    #[error("cannot connect: the server exited before listening on {addr}")]
    ExitedBeforeListening {
        /// The address it was told to listen on.
        addr: String,
    },
    /// Any other transport failure.
    #[error("transport error: {0}")]
    Io(String),
}

/// Where a Streamable HTTP connection goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEndpoint {
    /// The MCP endpoint URL.
    pub url: String,
    /// The Bearer token sent.
    pub token: Option<String>,
    /// The session id the server assigned, if any.
    pub session: Option<String>,
}

/// A client-side MCP transport that moves raw frames.
pub trait Driver: Send {
    /// Which transport this is.
    fn transport(&self) -> Transport;

    /// Sends one frame. Returns once the frame is written (stdio) or the HTTP answer's headers
    /// arrived (HTTP), so frames reach the server in the order they were sent.
    fn send<'a>(&'a mut self, frame: &'a Frame) -> BoxFuture<'a, Result<(), DriverError>>;

    /// The next thing that arrived, waiting at most `within`.
    fn recv(&mut self, within: Duration) -> BoxFuture<'_, Result<Incoming, DriverError>>;

    /// Whatever already arrived, without waiting.
    fn try_recv(&mut self) -> Option<Incoming>;

    /// Waits until the server has answered everything sent so far, so that a frame expected to
    /// get no answer can be judged without sleeping: stdio and legacy SSE send a `ping` with a
    /// private id and wait for its answer (which is not handed out); Streamable HTTP waits for
    /// the open response bodies.
    fn settle(&mut self, within: Duration) -> BoxFuture<'_, Result<(), DriverError>>;

    /// Tells HTTP drivers the negotiated protocol version (sent as `MCP-Protocol-Version`).
    fn set_protocol_version(&mut self, version: &str);

    /// Switches the wire era (the handshake era until called). At the stateless wire the
    /// Streamable HTTP driver sends `Mcp-Method`/`Mcp-Name` and no session, and the stdio
    /// driver settles with `server/discover` instead of the removed `ping`. Drivers of
    /// handshake-only transports (legacy SSE) ignore it.
    fn set_era(&mut self, era: Era);

    /// The Streamable HTTP endpoint, token and session of this connection (`None` for other
    /// transports), for checks that send their own HTTP requests.
    fn http_endpoint(&self) -> Option<HttpEndpoint> {
        None
    }

    /// The process id of the server when this driver started it (stdio), to sample its
    /// memory; `None` otherwise.
    fn pid(&self) -> Option<u32> {
        None
    }

    /// What the transport knows beyond the messages: the child's stderr and exit status, the
    /// session id, the endpoint. For failure reports only; never part of a transcript.
    fn diagnostics(&self) -> String;

    /// Ends the connection (DELETE of an HTTP session, closing stdin). Child processes are
    /// also killed when the driver is dropped.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// The [`Driver`] methods of a driver whose arrivals go through an [`Inbox`] in its `inbox`
/// field: `recv` and `try_recv`; with `settle by <write method>` also `settle`, which sends a
/// private request (see [`barrier_request`], in the era the driver's `barrier_era()` names) on
/// the one shared stream and waits for its answer (needs a `barriers` counter field).
macro_rules! inbox_methods {
    () => {
        fn recv(&mut self, within: Duration) -> BoxFuture<'_, Result<Incoming, DriverError>> {
            self.inbox.recv(within).boxed()
        }

        fn try_recv(&mut self) -> Option<Incoming> {
            self.inbox.try_recv()
        }
    };
    (settle by $write:ident) => {
        $crate::driver::inbox_methods!();

        fn settle(&mut self, within: Duration) -> BoxFuture<'_, Result<(), DriverError>> {
            async move {
                self.barriers += 1;
                let (id, frame) = $crate::driver::barrier_request(self.barriers, self.barrier_era());
                self.$write(&frame).await?;
                self.inbox.wait_for_barrier(&id, within).await
            }
            .boxed()
        }
    };
}
pub(crate) use inbox_methods;

/// Arrival queue shared by the drivers: background readers push, [`Driver::recv`] pops.
pub(crate) struct Inbox {
    rx: mpsc::UnboundedReceiver<Incoming>,
    held: VecDeque<Incoming>,
}

impl Inbox {
    /// A queue and the sender its background readers push into.
    pub(crate) fn new() -> (Inbox, mpsc::UnboundedSender<Incoming>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Inbox {
                rx,
                held: VecDeque::new(),
            },
            tx,
        )
    }

    pub(crate) async fn recv(&mut self, within: Duration) -> Result<Incoming, DriverError> {
        if let Some(i) = self.held.pop_front() {
            return Ok(i);
        }
        match tokio::time::timeout(within, self.rx.recv()).await {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Ok(Incoming::Closed),
            Err(_) => Err(DriverError::Timeout(within)),
        }
    }

    pub(crate) fn try_recv(&mut self) -> Option<Incoming> {
        self.held.pop_front().or_else(|| self.rx.try_recv().ok())
    }

    /// Waits for the answer to the private ping `id`, keeping everything else for later.
    pub(crate) async fn wait_for_barrier(&mut self, id: &str, within: Duration) -> Result<(), DriverError> {
        let deadline = tokio::time::Instant::now() + within;
        let mut kept = Vec::new();
        let result = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let next = match self.held.pop_front() {
                Some(i) => Ok(i),
                None => match tokio::time::timeout(left, self.rx.recv()).await {
                    Ok(Some(i)) => Ok(i),
                    Ok(None) => Err(DriverError::Closed),
                    Err(_) => Err(DriverError::Timeout(within)),
                },
            };
            match next {
                Ok(Incoming::Message(m)) if is_response_to(&m, id) => break Ok(()),
                Ok(Incoming::Closed) => {
                    kept.push(Incoming::Closed);
                    break Err(DriverError::Closed);
                }
                Ok(other) => kept.push(other),
                Err(e) => break Err(e),
            }
        };
        for i in kept.into_iter().rev() {
            self.held.push_front(i);
        }
        result
    }
}

fn is_response_to(message: &Value, id: &str) -> bool {
    message.get("id").and_then(Value::as_str) == Some(id) && message.get("method").is_none()
}

/// The private request used by [`Driver::settle`] on transports with one shared stream: a
/// `ping` in the handshake era, a `server/discover` at the stateless wire (where `ping` is
/// removed). Either way any answer with its id, even an error, proves the earlier frames were
/// handled.
pub(crate) fn barrier_request(n: u64, era: Era) -> (String, Frame) {
    let id = format!("alloy-conformance-settle-{n}");
    let frame = match era {
        Era::Handshake => serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "ping"}),
        Era::Stateless => crate::era::with_request_meta(
            &serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "server/discover"}),
            crate::era::STATELESS_VERSION,
        ),
    };
    (id, Frame::Json(frame))
}

/// The last 20 lines of a driver's HTTP log, indented, for [`Driver::diagnostics`].
pub(crate) fn log_tail(log: &[String]) -> String {
    log[log.len().saturating_sub(20)..]
        .iter()
        .map(|line| format!("  {line}\n"))
        .collect()
}

/// Shortens `s` to at most `max` characters, marking the cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str(&format!("… ({} bytes in all)", s.len()));
    out
}

/// Parses one received frame: JSON if it is JSON, else [`Incoming::Unparsable`].
pub(crate) fn parse_frame(text: &str) -> Incoming {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Incoming::Message(v),
        Err(_) => Incoming::Unparsable(shorten(text, 2000)),
    }
}
