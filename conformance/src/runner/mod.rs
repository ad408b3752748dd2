//! The runner: plays one scenario on one transport against a server, with a fresh
//! deterministic mock Alloy API behind it, and judges the result. A case passes when the
//! normalized transcript equals the expected one (see [`crate::expected`]) and no protocol
//! check failed: every answer has the id of its request, every result has the shape of the
//! negotiated revision, every `tools/list` schema is valid JSON Schema, tool-call arguments in
//! the scenario fit the server's own schema, nothing timed out.
//!
//! Per case: start (or reset) the mock; start or connect the server ([`Launch`]), handing a
//! spawned one `ALLOY_API_URL` and `ALLOY_API_TOKEN` (the seeded key of the scenario's `role`,
//! the Owner's by default; over HTTP the same key is the Bearer token); unless the scenario
//! says `"handshake": false`, `initialize` with the scenario's version (id 0, so scenario ids
//! start at 1) and send `notifications/initialized`; fetch `tools/list` (unrecorded) when a step
//! calls a tool; then send each step, wait as the step says, and record what came back plus the
//! mock's journal. The first timeout or a closed connection ends the case.

mod judge;
mod launch;
mod play;

pub use judge::{CaseOutcome, Status, judge};
pub use launch::{Launch, mock_options};

use crate::driver::{Driver, Timeouts, Transport};
use crate::scenario::{self, Role, Scenario};
use crate::transcript::{self, CaseEvent, Exchange, Transcript};
use alloy_mock_api::MockAlloy;
use futures::StreamExt;
use launch::{connect, reset_mock};
use play::Case;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What one case produced before judging.
#[derive(Clone, Debug)]
pub struct CaseRun {
    /// The normalized transcript.
    pub transcript: Transcript,
    /// Protocol checks that failed (empty = none).
    pub violations: Vec<String>,
    /// Transport facts for the failure report (stderr, session, statuses).
    pub diagnostics: String,
    /// Wall time of the case.
    pub duration: Duration,
}

/// Runs `scenario` over `launch` with a fresh deterministic mock, or with `shared` reset.
pub async fn run_case(scenario: &Scenario, launch: &Launch, shared: Option<&MockAlloy>, timeouts: Timeouts) -> CaseRun {
    let started = Instant::now();
    let fresh;
    let mock = match shared {
        Some(m) => {
            if let Err(e) = reset_mock(m).await {
                return setup_failure(scenario, format!("cannot reset the mock API: {e:#}"), started);
            }
            m
        }
        None => {
            let (opts, _) = mock_options(None);
            match MockAlloy::start_with(opts).await {
                Ok(m) => {
                    fresh = m;
                    &fresh
                }
                Err(e) => return setup_failure(scenario, format!("cannot start the mock API: {e:#}"), started),
            }
        }
    };
    let mut case = Case::new(scenario, mock, timeouts);
    let connected = connect(launch, mock, scenario.role(), timeouts).await;
    let (mut driver, process) = match connected {
        Ok(pair) => pair,
        Err((e, process)) => {
            case.violations.push(format!("cannot connect: {e}"));
            case.record(Exchange::Event(CaseEvent::ConnectFailed));
            let diagnostics = process.map(|p| p.diagnostics()).unwrap_or_default();
            return case.finish(diagnostics, started);
        }
    };
    case.play(driver.as_mut()).await;
    let mut diagnostics = driver.diagnostics();
    driver.close().await;
    if let Some(p) = process {
        diagnostics.push_str(&p.diagnostics());
    }
    case.finish(diagnostics, started)
}

/// A server's full `tools/list` (every page) after a handshake at `version`, with the protocol
/// checks it failed (shape, schema meta-validation, annotations). The material for the sorted
/// name list and the one schema snapshot per tool.
#[derive(Clone, Debug)]
pub struct ToolList {
    /// The tools, in the server's order.
    pub tools: Vec<Value>,
    /// Protocol checks that failed.
    pub violations: Vec<String>,
}

/// Starts (or connects to) the server with a fresh mock and fetches its tool list.
pub async fn list_tools(launch: &Launch, version: &str, timeouts: Timeouts) -> anyhow::Result<ToolList> {
    let (opts, _) = mock_options(None);
    let mock = MockAlloy::start_with(opts).await?;
    let scenario = Scenario {
        id: "tools/tools_list__all_pages".into(),
        category: "tools".into(),
        tool: "tools_list".into(),
        case: "all_pages".into(),
        path: PathBuf::new(),
        file: scenario::ScenarioFile {
            description: "the full tool list".into(),
            protocol_version: Some(version.to_string()),
            handshake: true,
            transports: None,
            role: None,
            steps: Vec::new(),
        },
    };
    let (mut driver, process) = connect(launch, &mock, Role::default(), timeouts)
        .await
        .map_err(|(e, p)| {
            anyhow::anyhow!(
                "cannot connect: {e}\n{}",
                p.map(|p| p.diagnostics()).unwrap_or_default()
            )
        })?;
    let mut case = Case::new(&scenario, &mock, timeouts);
    let tools = if case.handshake(driver.as_mut()).await {
        case.fetch_tools(driver.as_mut()).await
    } else {
        None
    };
    let diagnostics = driver.diagnostics();
    driver.close().await;
    drop(process);
    match tools {
        Some(tools) => Ok(ToolList {
            tools,
            violations: case.violations,
        }),
        None => anyhow::bail!("no tool list: {:?}\n{diagnostics}", case.violations),
    }
}

fn setup_failure(scenario: &Scenario, message: String, started: Instant) -> CaseRun {
    let mut rec = Transcript::new(&scenario.id, &scenario.file.description);
    rec.exchanges.push(Exchange::Event(CaseEvent::SetupFailed));
    CaseRun {
        transcript: transcript::normalize(&rec),
        violations: vec![message],
        diagnostics: String::new(),
        duration: started.elapsed(),
    }
}

/// Where the harness finds scenarios and expected transcripts.
#[derive(Clone, Debug)]
pub struct Fixtures {
    /// `<root>/<category>/<tool>__<case>.json`.
    pub scenarios: PathBuf,
    /// `<root>/<category>/<tool>__<case>.snap`.
    pub expected: PathBuf,
}

impl Fixtures {
    /// This repository's `fixtures/scenarios` and `fixtures/expected`.
    pub fn repository() -> Fixtures {
        Fixtures::under(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures"))
    }

    /// `<dir>/scenarios` and `<dir>/expected`.
    pub fn under(dir: PathBuf) -> Fixtures {
        Fixtures {
            scenarios: dir.join("scenarios"),
            expected: dir.join("expected"),
        }
    }
}

/// Progress events for a progress bar.
#[derive(Clone, Debug)]
pub enum Progress<'a> {
    /// A case is about to run.
    Started {
        /// 1-based index.
        index: usize,
        /// Number of cases.
        total: usize,
        /// Scenario id.
        id: &'a str,
        /// Transport.
        transport: Transport,
    },
    /// A case finished.
    Finished(&'a CaseOutcome),
}

/// Runs every selected scenario on every launch (one case per scenario and transport) and
/// judges each against its expected transcript. Up to `jobs` cases run at once (each with its
/// own mock and server process); with a `shared` mock, which is reset per case, one at a time.
/// Outcomes come back in scenario order whatever order the cases finished in.
pub async fn run_all(
    fixtures: &Fixtures,
    launches: &[Launch],
    only: Option<&str>,
    shared: Option<&MockAlloy>,
    timeouts: Timeouts,
    jobs: usize,
    progress: &mut dyn FnMut(Progress<'_>),
) -> anyhow::Result<Vec<CaseOutcome>> {
    let scenarios = scenario::load_dir(&fixtures.scenarios)?;
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| only.is_none_or(|p| scenario::matches_filter(p, &s.id)))
        .collect();
    let mut cases = Vec::new();
    for s in &selected {
        let expected = crate::expected::read(&fixtures.expected, s)?;
        for l in launches.iter().filter(|l| s.runs_on(l.transport())) {
            cases.push((*s, l, expected.clone()));
        }
    }
    let total = cases.len();
    let jobs = if shared.is_some() { 1 } else { jobs.max(1) };
    let progress = std::cell::RefCell::new(progress);
    let mut finished: Vec<(usize, CaseOutcome)> = Vec::with_capacity(total);
    {
        let progress = &progress;
        let mut running = futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (scenario, launch, expected))| {
                (progress.borrow_mut())(Progress::Started {
                    index: index + 1,
                    total,
                    id: &scenario.id,
                    transport: launch.transport(),
                });
                async move {
                    let run = run_case(scenario, launch, shared, timeouts).await;
                    (index, judge(scenario, launch.transport(), run, expected.as_ref()))
                }
            })
            .buffer_unordered(jobs);
        while let Some((index, outcome)) = running.next().await {
            (progress.borrow_mut())(Progress::Finished(&outcome));
            finished.push((index, outcome));
        }
    }
    finished.sort_by_key(|(i, _)| *i);
    Ok(finished.into_iter().map(|(_, o)| o).collect())
}
