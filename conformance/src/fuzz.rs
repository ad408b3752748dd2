//! Property tests and fuzzing of any MCP server from outside the process (issue 11): the
//! generators, the invariants, and `alloy-conformance fuzz`.
//!
//! - [`schema`]: a tool's own `inputSchema` as proptest strategies of valid instances and of
//!   near-misses (one mutation each, knowing the field it broke); [`pattern`]: how a JSON
//!   Schema `pattern` becomes a string strategy; [`hints`]: values of the seeded mock API mixed
//!   into generated arguments.
//! - [`arguments`]: tool calls with those arguments and what they must get back; [`frames`]:
//!   frame abuse and the invariants of every answer, and the memory check; [`refusals`]: the
//!   cross-field rules a server may refuse valid arguments by.
//! - [`runner`]: properties played against a live server (per-case seeds, proptest shrinking,
//!   regression files); [`session`]: the connection, reopened when a server broke.
//! - [`run`] is a whole fuzzing run (realistic and aggressive phases over the server's own
//!   `tools/list`), [`report`] renders it as text, JSON or JUnit, and [`command`] is the CLI.
//!
//! The `cargo test` suites of `alloy-mcp` (`tests/alloy_mcp/properties/`) use the same pieces
//! with stricter rules (the Alloy error shape, the field named exactly, formats broken too).

pub mod arguments;
pub mod command;
pub mod frames;
pub mod hints;
pub mod pattern;
pub mod refusals;
pub mod report;
pub mod runner;
pub mod schema;
pub mod session;

use arguments::{CallStats, NearMissCalls, Rules, ToolUnderTest, ValidCalls};
use runner::{Plan, PropertyOutcome};
use schema::{GenError, GenOptions, Generator};
use session::Conn;
use std::time::{Duration, Instant};

/// Which inputs a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Schema-valid arguments for every tool called.
    Realistic,
    /// Near-misses and frame abuse (and the memory check).
    Aggressive,
    /// Half the cases each.
    Both,
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Cases in all.
    pub cases: u32,
    /// The run's seed (a run replays from it).
    pub seed: u64,
    /// No case starts after this.
    pub deadline: Option<Instant>,
    /// Which phases.
    pub phase: Phase,
    /// Whether tools that are not safe (destructive, or not annotated as safe) are called.
    pub allow_destructive: bool,
    /// How answers are judged.
    pub rules: Rules,
    /// How arguments are generated.
    pub generation: GenOptions,
    /// Whether the memory check runs (when the harness started the server).
    pub memory: bool,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct FuzzReport {
    /// The server, in words.
    pub target: String,
    /// The revision negotiated.
    pub negotiated: String,
    /// The run's seed.
    pub seed: u64,
    /// Cases planned.
    pub planned: u32,
    /// Every property, in run order.
    pub properties: Vec<PropertyOutcome>,
    /// Tools not called, and why.
    pub skipped: Vec<(String, String)>,
    /// Problems with the run itself (counted as failures).
    pub problems: Vec<String>,
    /// What the tool calls got.
    pub stats: CallStats,
    /// The memory check, when it ran.
    pub memory: Option<frames::MemoryReport>,
    /// Sessions opened (more than one: the server had to be reconnected to).
    pub sessions: u32,
    /// Wall time.
    pub duration: Duration,
}

impl FuzzReport {
    /// Cases that held, and cases that failed plus run problems.
    pub fn totals(&self) -> (u32, u32) {
        let passed = self.properties.iter().map(|p| p.passed).sum();
        let failed = self.properties.iter().map(|p| p.failed).sum::<u32>() + self.problems.len() as u32;
        (passed, failed)
    }
}

/// `total` spread over `n` parts as evenly as whole numbers allow.
fn spread(total: u32, n: usize) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let n32 = n as u32;
    (0..n32).map(|i| total / n32 + u32::from(i < total % n32)).collect()
}

/// A whole run against the server behind `conn`: its `tools/list`, then the phases.
pub async fn run(conn: &mut Conn, options: &FuzzOptions, target: &str) -> FuzzReport {
    let started = Instant::now();
    let mut report = FuzzReport {
        target: target.to_string(),
        seed: options.seed,
        planned: options.cases,
        ..FuzzReport::default()
    };
    let listed = match conn.session().await {
        Ok(s) => {
            report.negotiated = s.negotiated().to_string();
            s.list_tools().await
        }
        Err(e) => Err(e),
    };
    let listed = match listed {
        Ok(l) => l,
        Err(e) => {
            report.problems.push(format!("cannot list the server's tools: {e}"));
            report.duration = started.elapsed();
            return report;
        }
    };
    let tools = ToolUnderTest::from_list(&listed);
    let mut valid = Vec::new();
    let mut near = Vec::new();
    for t in &tools {
        if !t.is_safe() && !options.allow_destructive {
            report.skipped.push((
                t.name.clone(),
                "destructive, or not annotated as read-only or non-destructive (--allow-destructive calls it)".into(),
            ));
            continue;
        }
        let g = match Generator::new(&t.schema, options.generation.clone()) {
            Ok(g) => g,
            Err(e) => {
                report.skipped.push((t.name.clone(), e.to_string()));
                continue;
            }
        };
        match g.valid() {
            Ok(s) => valid.push((t, s)),
            Err(e) => report.skipped.push((t.name.clone(), e.to_string())),
        }
        match g.near_misses() {
            Ok(s) => near.push((t, s)),
            Err(GenError::NoMutation) => {}
            Err(e) => report.skipped.push((t.name.clone(), format!("near-misses: {e}"))),
        }
    }
    let (mut realistic, mut aggressive) = match options.phase {
        Phase::Realistic => (options.cases, 0),
        Phase::Aggressive => (0, options.cases),
        Phase::Both => (options.cases - options.cases / 2, options.cases / 2),
    };
    // With no tool to call, the realistic cases go to frame abuse (they must not vanish).
    if valid.is_empty() && realistic > 0 {
        report.problems.extend(
            (options.phase == Phase::Realistic)
                .then(|| "no tool can be called with valid arguments (see NOT CALLED)".to_string()),
        );
        if options.phase == Phase::Both {
            aggressive += realistic;
        }
        realistic = 0;
    }
    let plan = |name: String, cases: u32| Plan {
        deadline: options.deadline,
        ..Plan::new(name, cases, options.seed)
    };
    let mut stats = CallStats::default();
    let rules = &options.rules;
    for ((tool, strategy), cases) in valid.iter().zip(spread(realistic, valid.len())) {
        if cases == 0 {
            continue;
        }
        if let Err(e) = crate::runner::reset_mock(&conn.target.mock).await {
            report.problems.push(format!("cannot reset the mock API: {e:#}"));
        }
        let mut check = ValidCalls {
            conn,
            tool,
            rules,
            stats: &mut stats,
        };
        let outcome = runner::run(
            &plan(format!("realistic/{}", tool.name), cases),
            strategy,
            &mut check,
            None,
        )
        .await;
        report.properties.push(outcome);
    }
    if aggressive > 0 {
        let spawned = conn.session().await.ok().and_then(|s| s.pid()).is_some();
        let memory = u32::from(options.memory && spawned);
        let frame_cases = if near.is_empty() {
            aggressive - memory
        } else {
            (aggressive - memory) / 2
        };
        let near_cases = aggressive - memory - frame_cases;
        for ((tool, strategy), cases) in near.iter().zip(spread(near_cases, near.len())) {
            if cases == 0 {
                continue;
            }
            if let Err(e) = crate::runner::reset_mock(&conn.target.mock).await {
                report.problems.push(format!("cannot reset the mock API: {e:#}"));
            }
            let mut check = NearMissCalls {
                conn,
                tool,
                rules,
                stats: &mut stats,
            };
            let name = format!("aggressive/near-miss/{}", tool.name);
            report
                .properties
                .push(runner::run(&plan(name, cases), strategy, &mut check, None).await);
        }
        if frame_cases > 0 {
            let calls: frames::SafeCalls = valid
                .iter()
                .filter(|(t, _)| t.is_read_only())
                .take(12)
                .map(|(t, s)| (t.name.clone(), s.clone()))
                .collect();
            let mut check = frames::FrameCases {
                conn,
                tool: tools.first().map(|t| t.name.clone()).unwrap_or_else(|| "echo".into()),
                played: 0,
            };
            let strategy = frames::cases(&calls);
            report.properties.push(
                runner::run(
                    &plan("aggressive/frames".into(), frame_cases),
                    &strategy,
                    &mut check,
                    None,
                )
                .await,
            );
        }
        if memory == 1 {
            report
                .properties
                .push(memory_property(conn, &mut report.memory, options.deadline).await);
        }
    }
    report.stats = stats;
    report.sessions = conn.sessions_opened();
    report.duration = started.elapsed();
    report
}

/// The memory check as a one-case property.
async fn memory_property(
    conn: &mut Conn,
    slot: &mut Option<frames::MemoryReport>,
    deadline: Option<Instant>,
) -> PropertyOutcome {
    let started = Instant::now();
    let mut out = PropertyOutcome {
        name: "aggressive/memory".into(),
        ..PropertyOutcome::default()
    };
    if deadline.is_some_and(|d| Instant::now() >= d) {
        out.not_run = 1;
        return out;
    }
    let violation = match frames::memory(conn, 2, 6).await {
        Ok(Some(m)) => {
            let held = m.holds();
            let text = format!(
                "resident memory went from {:.1} MiB to {:.1} MiB over {} bad frames ({:.1} MiB); at most {:.1} MiB of growth is allowed",
                m.warm_kib as f64 / 1024.0,
                m.end_kib as f64 / 1024.0,
                m.frames,
                m.bytes as f64 / (1024.0 * 1024.0),
                m.bound_kib as f64 / 1024.0
            );
            *slot = Some(m);
            (!held).then_some(text)
        }
        Ok(None) => {
            out.not_run = 1;
            return out;
        }
        Err(e) => {
            conn.reset_session().await;
            Some(e)
        }
    };
    match violation {
        None => out.passed = 1,
        Some(v) => {
            out.failed = 1;
            out.failures.push(runner::Failure {
                case: Some(0),
                seed: runner::CaseSeed([0; 32]),
                violations: vec![v],
                input: "2 warm-up rounds, then 6 measured rounds, of frames::memory_round (8 × 1 MiB garbage, 8 × 1 MiB method names, 64 truncated, nested 5,000 deep, ids of the wrong type and unknown methods)".into(),
                shrink_steps: 0,
            });
        }
    }
    out.duration = started.elapsed();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_spread_evenly() {
        assert_eq!(spread(10, 3), vec![4, 3, 3]);
        assert_eq!(spread(2, 3), vec![1, 1, 0]);
        assert_eq!(spread(5, 0), Vec::<u32>::new());
        assert_eq!(spread(2000, 71).iter().sum::<u32>(), 2000);
    }
}
