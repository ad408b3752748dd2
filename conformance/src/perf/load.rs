//! What a `perf` run sends and how long it may take: the three kinds of call, their frames,
//! the counts ([`Plan`]) and the result of measuring one transport ([`Measured`]).

use crate::measure::CallError;
use crate::perf::figures::Reference;
use crate::perf::stats::Percentiles;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A kind of call that is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `ping` (every handshake revision has it).
    Ping,
    /// `tools/list` (the first page).
    ToolsList,
    /// `tools/call` of the chosen tool.
    Tool,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 3] = [Kind::Ping, Kind::ToolsList, Kind::Tool];

    /// The JSON-RPC method.
    pub fn method(self) -> &'static str {
        match self {
            Kind::Ping => "ping",
            Kind::ToolsList => "tools/list",
            Kind::Tool => "tools/call",
        }
    }

    /// The key in figure ids.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Ping => "ping",
            Kind::ToolsList => "tools_list",
            Kind::Tool => "tool",
        }
    }
}

/// Frames of each kind with a given id, built from pre-serialized parts.
#[derive(Clone, Debug)]
pub struct Frames {
    tool_params: String,
}

impl Frames {
    /// Frames calling `tool` with `arguments`.
    pub fn new(tool: &str, arguments: &Value) -> Frames {
        Frames {
            tool_params: json!({"name": tool, "arguments": arguments}).to_string(),
        }
    }

    /// The request of `kind` with id `id`.
    pub fn frame(&self, kind: Kind, id: u64) -> String {
        match kind {
            Kind::Tool => format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{}}}"#,
                self.tool_params
            ),
            other => format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{}"}}"#, other.method()),
        }
    }
}

/// The counts and limits of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Protocol revision of the handshake.
    pub version: String,
    /// The frames.
    pub frames: Frames,
    /// Unmeasured calls of each kind before the rounds.
    pub warmup: usize,
    /// Rounds.
    pub rounds: usize,
    /// Sequential calls of each kind per round.
    pub calls: usize,
    /// Sessions (HTTP) or requests in flight (stdio) of the throughput rounds.
    pub concurrency: usize,
    /// Tool calls per throughput round.
    pub throughput_calls: usize,
    /// Cold starts of the server and of the floor.
    pub cold_starts: usize,
    /// Limit of every wait (an answer, start-up).
    pub timeout: Duration,
    /// The whole run ends with an error past this instant.
    pub deadline: Instant,
}

impl Plan {
    /// An error once the run's deadline passed.
    pub fn check(&self) -> Result<(), CallError> {
        if Instant::now() > self.deadline {
            Err(CallError::Protocol(
                "the run went past --max-seconds; lower the counts or raise the limit".into(),
            ))
        } else {
            Ok(())
        }
    }
}

/// What one transport measured; the pairs are (server, floor).
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Latency per kind at concurrency 1.
    pub latency: Vec<(Kind, Percentiles, Percentiles)>,
    /// Tool calls per second at the plan's concurrency (median of the rounds).
    pub throughput: Option<(f64, f64)>,
    /// Spawn to `initialize` answered, median, in ms.
    pub cold_start: Option<(f64, f64)>,
    /// Peak RSS in KiB.
    pub peak_rss: Option<(f64, f64)>,
    /// Figures without a floor.
    pub reference: Vec<Reference>,
    /// What was not measured and why.
    pub notes: Vec<String>,
}
