//! What a `perf` run sends and how long it may take: the three kinds of call, their frames,
//! the counts ([`Plan`]) and the result of measuring one transport ([`Measured`]).

use crate::measure::CallError;
use crate::perf::figures::Counts;
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

/// Sequential calls are timed in chunks of this many, alternating between the server and the
/// floor, so that a change in the machine's load during a round hits both alike.
pub const CHUNK: usize = 100;

/// The counts and limits of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Protocol revision of the handshake.
    pub version: String,
    /// The frames.
    pub frames: Frames,
    /// How many calls of each kind.
    pub counts: Counts,
    /// Limit of every wait (an answer, start-up).
    pub timeout: Duration,
    /// The whole run ends with an error past this instant.
    pub deadline: Instant,
}

impl Plan {
    /// Empty sample lists (server, floor) for one round of one kind of call.
    pub fn round_samples(&self) -> (Vec<u64>, Vec<u64>) {
        (
            Vec::with_capacity(self.counts.calls),
            Vec::with_capacity(self.counts.calls),
        )
    }

    /// The chunk sizes of one round's sequential calls ([`CHUNK`] each, the rest last).
    pub fn chunks(&self) -> impl Iterator<Item = usize> {
        let calls = self.counts.calls;
        (0..calls.div_ceil(CHUNK)).map(move |i| CHUNK.min(calls - i * CHUNK))
    }

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

/// The c=1 rounds of one transport: per kind (in [`Kind::ALL`] order) the server's and the
/// floor's percentiles of each round.
#[derive(Clone, Debug)]
pub struct Rounds(pub Vec<(Vec<Percentiles>, Vec<Percentiles>)>);

impl Rounds {
    /// No rounds yet.
    pub fn new() -> Rounds {
        Rounds(vec![(Vec::new(), Vec::new()); Kind::ALL.len()])
    }

    /// Adds one round of the kind at `index` from the server's and the floor's samples (ns).
    pub fn push(&mut self, index: usize, server: &mut [u64], floor: &mut [u64]) -> anyhow::Result<()> {
        let (s, f) = match (Percentiles::of(server), Percentiles::of(floor)) {
            (Some(s), Some(f)) => (s, f),
            _ => anyhow::bail!("a round without samples (--calls 0?)"),
        };
        let slot = self
            .0
            .get_mut(index)
            .ok_or_else(|| anyhow::anyhow!("no kind #{index}"))?;
        slot.0.push(s);
        slot.1.push(f);
        Ok(())
    }
}

impl Default for Rounds {
    fn default() -> Self {
        Rounds::new()
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
    /// RSS in KiB after many sessions ended, and before them (the pair's "floor" is the server
    /// itself before the sessions).
    pub churn_rss: Option<(f64, f64)>,
    /// What was not measured and why.
    pub notes: Vec<String>,
}

impl Measured {
    /// Adds the latency of each kind: the median over rounds of each percentile.
    pub fn add_latency(&mut self, rounds: &Rounds) {
        for (kind, (s, f)) in Kind::ALL.into_iter().zip(&rounds.0) {
            if let (Some(s), Some(f)) = (Percentiles::median_of_rounds(s), Percentiles::median_of_rounds(f)) {
                self.latency.push((kind, s, f));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(calls: usize) -> Plan {
        Plan {
            version: "2025-11-25".into(),
            frames: Frames::new("get_ticket", &json!({"ticket_id": "WEB-1"})),
            counts: Counts {
                warmup: 0,
                rounds: 1,
                calls,
                concurrency: 1,
                throughput_calls: 1,
                cold_starts: 1,
                churn_sessions: 0,
                churn_settle_s: 0,
            },
            timeout: Duration::from_secs(1),
            deadline: Instant::now() + Duration::from_secs(60),
        }
    }

    #[test]
    fn a_round_is_cut_into_chunks_that_add_up_to_its_calls() {
        assert_eq!(plan(250).chunks().collect::<Vec<_>>(), vec![100, 100, 50]);
        assert_eq!(plan(100).chunks().collect::<Vec<_>>(), vec![100]);
        assert_eq!(plan(7).chunks().sum::<usize>(), 7);
    }

    #[test]
    fn frames_carry_their_id_and_the_tool_call() {
        let p = plan(1);
        let tool: Value = serde_json::from_str(&p.frames.frame(Kind::Tool, 9)).expect("json");
        assert_eq!(tool["id"], 9);
        assert_eq!(tool["params"]["arguments"]["ticket_id"], "WEB-1");
        let ping: Value = serde_json::from_str(&p.frames.frame(Kind::Ping, 3)).expect("json");
        assert_eq!(ping, json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}));
    }

    #[test]
    fn a_past_deadline_stops_the_run() {
        let mut p = plan(1);
        assert!(p.check().is_ok());
        p.deadline = Instant::now() - Duration::from_millis(1);
        assert!(p.check().is_err());
    }
}
