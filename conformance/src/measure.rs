//! Lean JSON-RPC clients for measuring a server rather than judging it; shared by `cost` and
//! `perf`.
//!
//! The [`crate::driver`]s record and judge: every frame goes through channels and background
//! tasks so that nothing is lost and malformed input can be sent. Measuring needs the opposite:
//! the exact bytes of an answer as they crossed the wire (`cost` counts them) and as few hops as
//! possible between the request and the clock (`perf` times them). So this module has its own
//! minimal clients: [`stdio::StdioClient`] (a blocking line reader on the child's stdout, time-boxed
//! by a watchdog that kills the child when a deadline passes) and [`http::HttpClient`] (Streamable
//! HTTP with keep-alive, JSON or SSE answers). [`process`] owns spawned children: kill on drop,
//! on timeout and on Ctrl-C ([`process::kill_all`]), and peak RSS from `/proc`.
//!
//! Frames are built here too ([`initialize`], [`request`]), with the per-request `_meta` of the
//! stateless revision [`STATELESS_REVISION`] when asked.

pub mod http;
pub mod process;
pub mod stdio;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;

/// The revisions with an `initialize` handshake, oldest first.
pub const HANDSHAKE_REVISIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The stateless revision: no handshake, `server/discover`, version and capabilities in every
/// request's `_meta`, no `ping`.
pub const STATELESS_REVISION: &str = "2026-07-28";

/// The client name sent in `clientInfo`.
pub const CLIENT_NAME: &str = "alloy-conformance";

/// Why a measuring call did not complete.
#[derive(Debug)]
pub enum CallError {
    /// No answer within the limit (the stdio child was killed).
    Timeout(Duration),
    /// The process exited or the connection closed.
    Closed(String),
    /// Could not start or reach the server.
    Connect(String),
    /// The server answered something that is not a JSON-RPC answer to the request.
    Protocol(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            CallError::Closed(m) => write!(f, "the server went away: {m}"),
            CallError::Connect(m) => write!(f, "cannot connect: {m}"),
            CallError::Protocol(m) => write!(f, "unexpected answer: {m}"),
        }
    }
}

impl std::error::Error for CallError {}

/// Runs a measuring command until it ends or Ctrl-C: then every child it spawned is killed
/// ([`process::kill_all`]) and the exit code is 130.
pub async fn interruptible(
    command: impl std::future::Future<Output = anyhow::Result<std::process::ExitCode>>,
) -> anyhow::Result<std::process::ExitCode> {
    tokio::select! {
        result = command => result,
        _ = tokio::signal::ctrl_c() => {
            process::kill_all();
            eprintln!("alloy-conformance: interrupted; every server it started was stopped");
            Ok(std::process::ExitCode::from(130))
        }
    }
}

/// The `initialize` request for `version` with id `id`.
pub fn initialize(id: u64, version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")}
    }})
    .to_string()
}

/// The `notifications/initialized` notification.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A request frame. With `stateless` set, `params._meta` carries the protocol version, client
/// capabilities and client info as the stateless revision wants on every request.
pub fn request(id: u64, method: &str, params: Option<Value>, stateless: Option<&str>) -> String {
    let mut params = params.unwrap_or_else(|| json!({}));
    if let (Some(version), Some(obj)) = (stateless, params.as_object_mut()) {
        obj.insert(
            "_meta".into(),
            json!({
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")}
            }),
        );
    }
    let empty = params.as_object().is_some_and(|o| o.is_empty());
    if empty {
        json!({"jsonrpc": "2.0", "id": id, "method": method}).to_string()
    } else {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
    }
}

/// Just enough of a message to route it: its id, whether it is a request or notification,
/// whether it carries an error.
#[derive(Deserialize)]
struct Envelope {
    id: Option<Value>,
    method: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

/// What a raw message is to a client awaiting an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The awaited answer; `error` when it is a JSON-RPC error.
    Answer {
        /// Whether it carries `error` instead of `result`.
        error: bool,
    },
    /// Anything else (a notification, a request from the server, another id).
    Other,
}

/// Classifies the raw message `bytes` for a client awaiting the answer to request `id` (any
/// numeric id when `None`). Anything unparsable is an error naming its start.
pub fn classify(bytes: &[u8], id: Option<u64>) -> Result<Seen, CallError> {
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| CallError::Protocol(format!("not JSON ({e}): {}", preview(bytes))))?;
    let answer_id = env.id.as_ref().and_then(Value::as_u64);
    let awaited = env.method.is_none() && answer_id.is_some() && (id.is_none() || answer_id == id);
    Ok(if awaited {
        Seen::Answer {
            error: env.error.is_some(),
        }
    } else {
        Seen::Other
    })
}

/// Whether the raw message `bytes` is the answer (response or error) to request `id`.
pub fn is_answer_to(bytes: &[u8], id: u64) -> Result<bool, CallError> {
    Ok(matches!(classify(bytes, Some(id))?, Seen::Answer { .. }))
}

/// The `result` of an answer, or an error naming the JSON-RPC error it carried.
pub fn result_of(bytes: &[u8]) -> Result<Value, CallError> {
    let mut v: Value = serde_json::from_slice(bytes)
        .map_err(|e| CallError::Protocol(format!("not JSON ({e}): {}", preview(bytes))))?;
    if let Some(e) = v.get("error") {
        return Err(CallError::Protocol(format!("JSON-RPC error {e}")));
    }
    match v.get_mut("result").map(Value::take) {
        Some(r) => Ok(r),
        None => Err(CallError::Protocol(format!("no result: {}", preview(bytes)))),
    }
}

/// The first 200 characters of `bytes`, for messages.
pub fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stateless_request_carries_the_version_in_meta_and_a_plain_one_has_no_params() {
        let plain: Value = serde_json::from_str(&request(3, "ping", None, None)).expect("json");
        assert_eq!(plain, json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}));
        let stateless: Value =
            serde_json::from_str(&request(4, "tools/list", None, Some(STATELESS_REVISION))).expect("json");
        assert_eq!(
            stateless["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            STATELESS_REVISION
        );
    }

    #[test]
    fn answers_are_recognized_by_id_and_errors_are_named() {
        assert!(is_answer_to(br#"{"jsonrpc":"2.0","id":7,"result":{}}"#, 7).expect("parses"));
        assert!(!is_answer_to(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#, 7).expect("parses"));
        assert!(!is_answer_to(br#"{"jsonrpc":"2.0","method":"notifications/message"}"#, 7).expect("parses"));
        assert!(is_answer_to(b"nope", 7).is_err());
        let err = result_of(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}"#)
            .expect_err("an error answer");
        assert!(err.to_string().contains("-32601"), "{err}");
    }
}
