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
pub(crate) use launch::connect;
pub use launch::{Launch, ServerArgs, mock_options, reset_mock, wait_reachable};

use crate::driver::{Driver, Timeouts, Transport};
use crate::era::Era;
use crate::scenario::{self, Role, Scenario};
use crate::transcript::{self, CaseEvent, Exchange, Transcript};
use alloy_mock_api::MockAlloy;
use futures::StreamExt;
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
pub async fn run_case(
    scenario: &Scenario,
    launch: &Launch,
    era: Era,
    shared: Option<&MockAlloy>,
    timeouts: Timeouts,
) -> CaseRun {
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
    let mut case = Case::new(scenario, mock, era, timeouts);
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

/// Starts (or connects to) the server with a fresh mock and fetches its tool list; at
/// `version` 2026-07-28 over the stateless wire (after `server/discover`).
pub async fn list_tools(launch: &Launch, version: &str, timeouts: Timeouts) -> anyhow::Result<ToolList> {
    let (opts, _) = mock_options(None);
    let mock = MockAlloy::start_with(opts).await?;
    let scenario = synthetic_scenario("tools/tools_list__all_pages", "the full tool list", version);
    let (mut driver, process) = connect(launch, &mock, Role::default(), timeouts)
        .await
        .map_err(|(e, p)| {
            anyhow::anyhow!(
                "cannot connect: {e}\n{}",
                p.map(|p| p.diagnostics()).unwrap_or_default()
            )
        })?;
    let mut case = Case::new(&scenario, &mock, Era::of_version(version), timeouts);
    let tools = if case.prepare(driver.as_mut()).await {
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

/// A scenario without steps, for the harness's own preparatory connections.
fn synthetic_scenario(id: &str, description: &str, version: &str) -> Scenario {
    let (category, name) = id.split_once('/').unwrap_or(("harness", id));
    let (tool, case) = name.split_once("__").unwrap_or((name, "probe"));
    Scenario {
        id: id.to_string(),
        category: category.to_string(),
        tool: tool.to_string(),
        case: case.to_string(),
        path: PathBuf::new(),
        file: scenario::ScenarioFile {
            description: description.to_string(),
            protocol_version: Some(version.to_string()),
            handshake: true,
            transports: None,
            eras: None,
            role: None,
            redact: None,
            steps: Vec::new(),
        },
    }
}

/// The eras a server offers, and why it does not offer the others.
#[derive(Clone, Debug, Default)]
pub struct OfferedEras {
    /// Offered eras, in [`Era::ALL`] order.
    pub eras: Vec<Era>,
    /// Eras not offered, with what the server did instead.
    pub missing: Vec<(Era, String)>,
}

/// Asks the server which eras it offers, the way a dual-era client finds out: `server/discover`
/// at the stateless wire (offered when the answer lists 2026-07-28), then, on a new connection,
/// `initialize` at the newest handshake revision (offered when it is answered with a result).
pub async fn offered_eras(launch: &Launch, shared: Option<&MockAlloy>, timeouts: Timeouts) -> OfferedEras {
    let mut offered = OfferedEras::default();
    for era in Era::ALL {
        let version = match era {
            Era::Handshake => crate::shapes::KNOWN_VERSIONS[crate::shapes::KNOWN_VERSIONS.len() - 1],
            Era::Stateless => crate::era::STATELESS_VERSION,
        };
        let scenario = synthetic_scenario("harness/eras__probe", "which eras the server offers", version);
        let run = run_case(&scenario, launch, era, shared, timeouts).await;
        let lacks = run
            .violations
            .iter()
            .any(|v| v.contains("lacks") || v.contains("not played"));
        if !lacks && !run.violations.iter().any(|v| v.starts_with("cannot connect")) {
            offered.eras.push(era);
        } else {
            let why = run.violations.join("; ");
            offered.missing.push((era, why));
        }
    }
    offered
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
        /// Era.
        era: Era,
    },
    /// A case finished.
    Finished(&'a CaseOutcome),
}

/// What to run and how, besides the fixtures and the launches.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Eras to judge.
    pub eras: &'a [Era],
    /// Only scenarios whose id matches this `--only` pattern.
    pub only: Option<&'a str>,
    /// A mock on a fixed address shared by every case (reset per case; cases then run one at
    /// a time), for servers started by someone else.
    pub shared: Option<&'a MockAlloy>,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Cases at once.
    pub jobs: usize,
}

/// Runs every selected scenario on every launch in every era of `options.eras` it applies to
/// (one case per scenario, era and transport; legacy SSE only in the handshake era) and judges
/// each against the expected transcript of its era. Up to `jobs` cases run at once (each with
/// its own mock and server process); with a `shared` mock, which is reset per case, one at a
/// time. Outcomes come back in scenario order whatever order the cases finished in.
pub async fn run_all(
    fixtures: &Fixtures,
    launches: &[Launch],
    options: RunOptions<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> anyhow::Result<Vec<CaseOutcome>> {
    let RunOptions {
        eras,
        only,
        shared,
        timeouts,
        jobs,
    } = options;
    let scenarios = scenario::load_dir(&fixtures.scenarios)?;
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| only.is_none_or(|p| scenario::matches_filter(p, &s.id)))
        .collect();
    let mut cases = Vec::new();
    for s in &selected {
        for era in eras.iter().copied().filter(|e| s.runs_in(*e)) {
            let expected = crate::expected::read(&fixtures.expected, s, era)?;
            for l in launches
                .iter()
                .filter(|l| s.runs_on(l.transport()) && l.transport().speaks(era))
            {
                cases.push((*s, era, l, expected.clone()));
            }
        }
    }
    let total = cases.len();
    let jobs = if shared.is_some() { 1 } else { jobs.max(1) };
    let progress = std::cell::RefCell::new(progress);
    let mut finished: Vec<(usize, CaseOutcome)> = Vec::with_capacity(total);
    {
        let progress = &progress;
        let mut running = futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (scenario, era, launch, expected))| {
                (progress.borrow_mut())(Progress::Started {
                    index: index + 1,
                    total,
                    id: &scenario.id,
                    transport: launch.transport(),
                    era,
                });
                async move {
                    let run = run_case(scenario, launch, era, shared, timeouts).await;
                    (index, judge(scenario, launch.transport(), era, run, expected.as_ref()))
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
