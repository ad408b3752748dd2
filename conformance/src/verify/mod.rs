//! `alloy-conformance verify FILE`: plays the client requests of a recording against a server
//! (a newer `alloy-mcp`, another implementation) and compares the answers with the recorded
//! ones structurally ([`diff`]): not the whole transcript as `run` does, only what the client
//! received, member by member, JSON inside text content included, with `--ignore` for what may
//! differ. The case is played by the runner exactly as `run` plays it (a fresh deterministic
//! mock API for a spawned stdio server; for a running HTTP server the mock on `--mock-addr`,
//! reset first), in the recording's era.
//!
//! Prints one block per step whose answer differs, with a path and a sentence per difference,
//! and exits 1; exits 0 when every answer is as recorded; 2 when the recording or the server
//! cannot be used.

pub mod diff;

use crate::driver::Timeouts;
use crate::era::Era;
use crate::recording::{self, Recording};
use crate::runner::{self, Launch, ServerArgs};
use crate::transcript::{Exchange, FrameExchange, Received, Sent, Transcript};
use alloy_mock_api::MockAlloy;
use anyhow::{Context, bail};
use diff::{Difference, Pattern};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// An era named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EraArg {
    /// `initialize` first (2024-11-05 … 2025-11-25).
    Handshake,
    /// The 2026-07-28 wire.
    Stateless,
}

impl EraArg {
    /// The era.
    pub fn era(self) -> Era {
        match self {
            EraArg::Handshake => Era::Handshake,
            EraArg::Stateless => Era::Stateless,
        }
    }
}

/// `alloy-conformance verify`.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// The recording: its scenario file (DIR/scenarios/<category>/<tool>__<case>.json) or its
    /// expected transcript (DIR/expected/<category>/<tool>__<case>.snap).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The server under test.
    #[command(flatten)]
    pub target: ServerArgs,
    /// Differences at or below this path are not reported (repeatable): `result.serverInfo.version`,
    /// `**.updated_at`, `result.tools[name=get_ticket].description`, `result.content[*].text.id`.
    #[arg(long = "ignore", value_name = "PATH")]
    pub ignore: Vec<String>,
    /// The transcript of a scenario that runs in both eras.
    #[arg(long, value_enum, value_name = "ERA")]
    pub era: Option<EraArg>,
    /// Where the mock API listens for --http/--sse servers.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub mock_addr: SocketAddr,
    /// How long to wait for a --http/--sse server to accept connections.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub wait_for_server: u64,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Seconds to wait for start-up and the first answer.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub handshake_timeout: f64,
}

/// Runs `verify`.
pub async fn command(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let ignore: Vec<Pattern> = args
        .ignore
        .iter()
        .map(|p| Pattern::parse(p).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let recording = recording::load(&args.file, args.era.map(EraArg::era))?;
    let timeouts = Timeouts {
        handshake: Duration::from_secs_f64(args.handshake_timeout.max(0.001)),
        request: Duration::from_secs_f64(args.timeout.max(0.001)),
    };
    let Some((launch, target)) = args.target.launch() else {
        bail!("give the server to verify: --stdio CMD, --http URL or --sse URL");
    };
    if !launch.transport().speaks(recording.era) {
        bail!(
            "{} is a {} recording; legacy SSE speaks the handshake era only",
            recording.scenario.id,
            recording.era
        );
    }
    let shared = match &launch {
        Launch::Remote { url, .. } => {
            let (opts, _) = runner::mock_options(Some(args.mock_addr));
            let mock = MockAlloy::start_with(opts)
                .await
                .with_context(|| format!("cannot start the mock API on {}", args.mock_addr))?;
            eprintln!(
                "verify: mock Alloy API on {url}; the server under test must use ALLOY_API_URL={url}",
                url = mock.base_url()
            );
            runner::wait_reachable(url, Duration::from_secs(args.wait_for_server)).await?;
            Some(mock)
        }
        _ => None,
    };
    let run = runner::run_case(&recording.scenario, &launch, recording.era, shared.as_ref(), timeouts).await;
    let report = compare(&recording.transcript, &run.transcript, &ignore);
    print!(
        "{}",
        render(&recording, &target, &report, &run.violations, &run.diagnostics, &ignore)
    );
    Ok(if report.differing() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Differences printed per step; the rest are counted.
const SHOWN_PER_STEP: usize = 40;

/// The differences of one step.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// `step N: method …`.
    pub label: String,
    /// What differs.
    pub differences: Vec<String>,
}

/// The comparison of a whole recording.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Steps compared.
    pub steps: usize,
    /// Steps (and the opening `discover`) whose answers differ, in order.
    pub differing_steps: Vec<StepReport>,
}

impl Report {
    /// How many steps differ.
    pub fn differing(&self) -> usize {
        self.differing_steps.len()
    }
}

/// Compares the answers of `actual` with those of `expected`, step by step.
pub fn compare(expected: &Transcript, actual: &Transcript, ignore: &[Pattern]) -> Report {
    let mut report = Report::default();
    let mut actual_entries = actual.exchanges.iter().peekable();
    for e in &expected.exchanges {
        let a = actual_entries.next();
        match e {
            Exchange::Frame(ef) => {
                report.steps += 1;
                let label = label(report.steps, ef);
                let differences = match a {
                    Some(Exchange::Frame(af)) => compare_recv(&ef.recv, &af.recv, ignore),
                    Some(Exchange::Event(ev)) => vec![format!(
                        "not played: the case ended before it ({})",
                        serde_json::to_value(ev).map(|v| v.to_string()).unwrap_or_default()
                    )],
                    Some(other) => vec![format!("the server's run shows {} here", entry_name(other))],
                    None => vec!["not played: the run ended before this step".into()],
                };
                if !differences.is_empty() {
                    report.differing_steps.push(StepReport { label, differences });
                }
            }
            Exchange::Discover { discover } => {
                let differences = match a {
                    Some(Exchange::Discover { discover: got }) if got.supported == discover.supported => Vec::new(),
                    Some(Exchange::Discover { discover: got }) => vec![format!(
                        "supportedVersions: expected {:?}, got {:?}",
                        discover.supported, got.supported
                    )],
                    Some(other) => vec![format!(
                        "no clean server/discover answer: the run shows {}",
                        entry_name(other)
                    )],
                    None => vec!["the run ended before server/discover".into()],
                };
                if !differences.is_empty() {
                    report.differing_steps.push(StepReport {
                        label: "server/discover (before the steps)".into(),
                        differences,
                    });
                }
            }
            Exchange::Handshake { handshake } => {
                if !matches!(a, Some(Exchange::Handshake { handshake: got }) if got.negotiated == handshake.negotiated)
                {
                    report.differing_steps.push(StepReport {
                        label: "initialize (before the steps)".into(),
                        differences: vec![format!(
                            "expected protocol version {} to be negotiated",
                            handshake.negotiated
                        )],
                    });
                }
            }
            Exchange::Event(_) => {}
        }
    }
    for extra in actual_entries {
        if let Exchange::Event(ev) = extra {
            report.differing_steps.push(StepReport {
                label: "after the steps".into(),
                differences: vec![format!(
                    "the run ended with {}",
                    serde_json::to_value(ev).map(|v| v.to_string()).unwrap_or_default()
                )],
            });
        }
    }
    report
}

fn entry_name(e: &Exchange) -> String {
    match e {
        Exchange::Handshake { .. } => "a handshake".into(),
        Exchange::Discover { .. } => "a server/discover".into(),
        Exchange::Event(ev) => serde_json::to_value(ev).map(|v| v.to_string()).unwrap_or_default(),
        Exchange::Frame(_) => "another step".into(),
    }
}

/// `step N: tools/call create_ticket (id 4)`.
fn label(n: usize, f: &FrameExchange) -> String {
    let what = match &f.sent {
        Sent::Send(v) | Sent::SendOversized { message: v, .. } => {
            let method = v.get("method").and_then(Value::as_str);
            let name = v
                .pointer("/params/name")
                .or_else(|| v.pointer("/params/uri"))
                .and_then(Value::as_str);
            let id = v.get("id").map(|i| format!(" (id {i})")).unwrap_or_default();
            match (method, name) {
                (Some(m), Some(n)) if matches!(m, "tools/call" | "prompts/get" | "resources/read") => {
                    format!("{m} {n}{id}")
                }
                (Some(m), _) => format!("{m}{id}"),
                (None, _) => format!("{}{id}", crate::driver::shorten(&v.to_string(), 60)),
            }
        }
        Sent::SendRaw(t) => format!("(not JSON) {}", crate::driver::shorten(t, 60)),
    };
    format!("step {n}: {what}")
}

/// The differences between two `recv` lists: message by message (a count that differs is
/// said first).
fn compare_recv(expected: &[Received], actual: &[Received], ignore: &[Pattern]) -> Vec<String> {
    let mut out = Vec::new();
    if expected.len() != actual.len() {
        out.push(format!("expected {} message(s), got {}", expected.len(), actual.len()));
    }
    let many = expected.len().max(actual.len()) > 1;
    for (i, pair) in expected.iter().zip(actual).enumerate() {
        let as_value = |r: &Received| serde_json::to_value(r).unwrap_or(json!(null));
        let (e, a) = (as_value(pair.0), as_value(pair.1));
        let prefix = if many {
            format!("message {}: ", i + 1)
        } else {
            String::new()
        };
        for Difference { path, what } in diff::compare(&e, &a, ignore) {
            out.push(format!("{prefix}{path}: {what}"));
        }
    }
    let as_text =
        |r: &Received| crate::driver::shorten(&serde_json::to_value(r).map(|v| v.to_string()).unwrap_or_default(), 160);
    for r in expected.iter().skip(actual.len()) {
        out.push(format!("missing message: {}", as_text(r)));
    }
    for r in actual.iter().skip(expected.len()) {
        out.push(format!("message not expected: {}", as_text(r)));
    }
    out
}

fn render(
    recording: &Recording,
    target: &str,
    report: &Report,
    violations: &[String],
    diagnostics: &str,
    ignore: &[Pattern],
) -> String {
    let mut out = format!(
        "verify {} ({} era, {} steps) against {target}\n",
        recording.scenario.id, recording.era, report.steps
    );
    if !ignore.is_empty() {
        let list: Vec<String> = ignore.iter().map(Pattern::to_string).collect();
        out.push_str(&format!("ignoring: {}\n", list.join(", ")));
    }
    for s in &report.differing_steps {
        out.push_str(&format!("\n✗ {}\n", s.label));
        for d in s.differences.iter().take(SHOWN_PER_STEP) {
            out.push_str(&format!("    {d}\n"));
        }
        if s.differences.len() > SHOWN_PER_STEP {
            out.push_str(&format!(
                "    … and {} more differences in this step\n",
                s.differences.len() - SHOWN_PER_STEP
            ));
        }
    }
    if !violations.is_empty() {
        out.push_str("\nprotocol checks that failed during the run (reported, not compared):\n");
        for v in violations {
            out.push_str(&format!("    - {v}\n"));
        }
    }
    if report.differing() > 0 && !diagnostics.trim().is_empty() {
        out.push_str("\nserver diagnostics:\n");
        for line in diagnostics.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out.push('\n');
    if report.differing() == 0 {
        out.push_str(&format!(
            "verify: every answer as recorded ({} steps; upstream requests are not compared, run compares them)\n",
            report.steps
        ));
    } else {
        out.push_str(&format!(
            "verify: {} of {} steps answered differently from the recording (--ignore PATH leaves out what may differ)\n",
            report.differing(),
            report.steps
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: Value) -> Transcript {
        Transcript::from_value(json!({"scenario": "r/s__c", "description": "d", "exchanges": v})).expect("transcript")
    }

    #[test]
    fn answers_are_compared_per_step_and_upstream_is_not() {
        let expected = t(json!([
            {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_ticket"}},
             "recv": [{"jsonrpc": "2.0", "id": 1, "result": {"isError": false}}], "upstream": [{"method": "POST"}]},
            {"send": {"jsonrpc": "2.0", "id": 2, "method": "ping"}, "recv": [{"jsonrpc": "2.0", "id": 2, "result": {}}]}
        ]));
        let actual = t(json!([
            {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_ticket"}},
             "recv": [{"jsonrpc": "2.0", "id": 1, "result": {"isError": true}}]},
            {"event": "aborted", "skipped_steps": 1}
        ]));
        let r = compare(&expected, &actual, &[]);
        assert_eq!(r.steps, 2);
        assert_eq!(r.differing(), 2);
        assert_eq!(r.differing_steps[0].label, "step 1: tools/call create_ticket (id 1)");
        assert_eq!(
            r.differing_steps[0].differences,
            vec!["result.isError: expected false, got true"]
        );
        assert!(
            r.differing_steps[1].differences[0].contains("aborted"),
            "{:?}",
            r.differing_steps[1]
        );
        assert_eq!(compare(&expected, &expected, &[]).differing(), 0);
    }
}
