//! The property runner: proptest strategies played against a live server, asynchronously.
//! Each case has its own 32-byte seed ([`CaseSeed`], derived from the run's seed, the property's
//! name and the case number, so a run replays from its seed), a value drawn with proptest's
//! ChaCha RNG from that seed, and a [`Check`] that judges it (a tool call, a batch of frames).
//! The first failure of a property is shrunk with proptest's own value trees
//! (`simplify`/`complicate`, bounded in steps and time); later failures are counted and their
//! distinct violations kept unshrunk.
//!
//! Failing seeds can be kept in a [`Regressions`] file in proptest's format
//! (`cc <hex seed> # <property>: <input>`): its seeds for a property run first, before any new
//! case, and a new failure's seed is appended (the `cargo test` suites commit theirs under
//! `conformance/tests/proptest-regressions/`).

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Distinct later failures kept per property (besides the shrunk first one).
const MORE_FAILURES: usize = 5;

/// The seed of one case: 32 bytes for proptest's ChaCha RNG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CaseSeed(pub [u8; 32]);

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl CaseSeed {
    /// The seed of case `case` of `property` in a run seeded `run_seed`.
    pub fn derive(run_seed: u64, property: &str, case: u32) -> CaseSeed {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in property.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut x = run_seed ^ h.rotate_left(17) ^ u64::from(case).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut x).to_le_bytes());
        }
        CaseSeed(out)
    }

    /// `cc <64 hex digits>`, as proptest writes a ChaCha seed.
    pub fn to_persistence(&self) -> String {
        let mut s = String::from("cc ");
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Reads [`CaseSeed::to_persistence`] (what follows the hex digits is ignored).
    pub fn parse(line: &str) -> Option<CaseSeed> {
        let hex = line.trim().strip_prefix("cc ")?.split_whitespace().next()?;
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(CaseSeed(out))
    }

    fn runner(&self) -> TestRunner {
        let config = Config {
            failure_persistence: None,
            ..Config::default()
        };
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &self.0))
    }
}

/// A case's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every invariant held.
    Pass,
    /// The invariants broken, one sentence each.
    Fail(Vec<String>),
}

/// Judges one generated value against the server.
pub trait Check<T> {
    /// Plays `value` and judges what came back.
    fn check(&mut self, value: &T) -> impl Future<Output = Verdict>;
    /// The input as a reader should see it in a report (the frames or the call sent).
    fn describe(&self, value: &T) -> String;
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The property's name (`arguments/valid/get_ticket`); part of every case's seed.
    pub name: String,
    /// New cases to generate.
    pub cases: u32,
    /// The run's seed.
    pub seed: u64,
    /// No new case starts after this instant.
    pub deadline: Option<Instant>,
    /// Shrinking stops after this many replays...
    pub max_shrink_steps: u32,
    /// ...or after this long.
    pub max_shrink_time: Duration,
}

impl Plan {
    /// `cases` cases of `name` seeded `seed`, shrinking up to 64 replays or 60 s.
    pub fn new(name: impl Into<String>, cases: u32, seed: u64) -> Plan {
        Plan {
            name: name.into(),
            cases,
            seed,
            deadline: None,
            max_shrink_steps: 64,
            max_shrink_time: Duration::from_secs(60),
        }
    }
}

/// One failing case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Its number in the property (`None` for a seed replayed from a regressions file).
    pub case: Option<u32>,
    /// Its seed.
    pub seed: CaseSeed,
    /// The invariants the (minimized) input broke.
    pub violations: Vec<String>,
    /// The minimized input (the input as generated when it was not shrunk).
    pub input: String,
    /// Replays that shrank it (0: not shrunk).
    pub shrink_steps: u32,
}

/// What one property did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropertyOutcome {
    /// The property.
    pub name: String,
    /// Cases that held.
    pub passed: u32,
    /// Cases that broke an invariant (or could not be generated).
    pub failed: u32,
    /// Cases planned but not started (the time limit).
    pub not_run: u32,
    /// The first failure (shrunk), then up to five later ones with other violations.
    pub failures: Vec<Failure>,
    /// Wall time.
    pub duration: Duration,
}

/// Seeds of past failures, in proptest's regressions format; new failures are appended.
#[derive(Clone, Debug)]
pub struct Regressions {
    path: PathBuf,
    entries: Vec<(CaseSeed, String)>,
}

const REGRESSIONS_HEADER: &str = "# Seeds for failure cases proptest has generated in the past. It is\n\
# automatically read and these particular cases re-run before any\n\
# novel cases are generated.\n\
#\n\
# It is recommended to check this file in to source control so that\n\
# everyone who runs the test benefits from these saved cases.\n";

impl Regressions {
    /// The file at `path` (missing: none yet).
    pub fn load(path: &Path) -> std::io::Result<Regressions> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let entries = text
            .lines()
            .filter_map(|line| {
                let seed = CaseSeed::parse(line)?;
                let property = line
                    .split_once(" # ")
                    .map(|(_, c)| c.split_once(':').map_or(c, |(p, _)| p).trim().to_string())
                    .unwrap_or_default();
                Some((seed, property))
            })
            .collect();
        Ok(Regressions {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The seeds kept for `property`.
    pub fn seeds(&self, property: &str) -> Vec<CaseSeed> {
        self.entries
            .iter()
            .filter(|(_, p)| p == property)
            .map(|(s, _)| *s)
            .collect()
    }

    /// Appends a failure's seed (once).
    pub fn record(&mut self, property: &str, seed: CaseSeed, input: &str) -> std::io::Result<()> {
        if self.entries.iter().any(|(s, p)| *s == seed && p == property) {
            return Ok(());
        }
        let mut text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(_) => REGRESSIONS_HEADER.to_string(),
        };
        let summary: String = input.replace('\n', " ").chars().take(300).collect();
        let _ = writeln!(text, "{} # {property}: shrinks to {summary}", seed.to_persistence());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.path, text)?;
        self.entries.push((seed, property.to_string()));
        Ok(())
    }
}

/// Runs `plan` over `strategy` with `checker`: the regressions' seeds for it first, then new
/// cases until `plan.cases` or the deadline.
pub async fn run<T, C>(
    plan: &Plan,
    strategy: &BoxedStrategy<T>,
    checker: &mut C,
    mut regressions: Option<&mut Regressions>,
) -> PropertyOutcome
where
    T: std::fmt::Debug,
    C: Check<T>,
{
    let started = Instant::now();
    let mut out = PropertyOutcome {
        name: plan.name.clone(),
        ..PropertyOutcome::default()
    };
    let replays: Vec<(Option<u32>, CaseSeed)> = regressions
        .as_deref()
        .map(|r| r.seeds(&plan.name))
        .unwrap_or_default()
        .into_iter()
        .map(|s| (None, s))
        .chain((0..plan.cases).map(|i| (Some(i), CaseSeed::derive(plan.seed, &plan.name, i))))
        .collect();
    for (n, (case, seed)) in replays.iter().enumerate() {
        if plan.deadline.is_some_and(|d| Instant::now() >= d) {
            out.not_run = (replays.len() - n) as u32;
            break;
        }
        let mut runner = seed.runner();
        let mut tree = match strategy.new_tree(&mut runner) {
            Ok(t) => t,
            Err(reason) => {
                out.failed += 1;
                note_failure(
                    &mut out,
                    Failure {
                        case: *case,
                        seed: *seed,
                        violations: vec![format!("no input could be generated: {reason}")],
                        input: String::new(),
                        shrink_steps: 0,
                    },
                );
                continue;
            }
        };
        let value = tree.current();
        let violations = match checker.check(&value).await {
            Verdict::Pass => {
                out.passed += 1;
                continue;
            }
            Verdict::Fail(v) => v,
        };
        out.failed += 1;
        let failure = if out.failures.is_empty() {
            let (input, violations, steps) = shrink(plan, &mut tree, checker, value, violations).await;
            Failure {
                case: *case,
                seed: *seed,
                violations,
                input,
                shrink_steps: steps,
            }
        } else {
            Failure {
                case: *case,
                seed: *seed,
                input: checker.describe(&value),
                violations,
                shrink_steps: 0,
            }
        };
        if let Some(r) = regressions.as_deref_mut()
            && out.failures.is_empty()
            && let Err(e) = r.record(&plan.name, *seed, &failure.input)
        {
            eprintln!(
                "alloy-conformance: cannot keep the failing seed in {}: {e}",
                r.path.display()
            );
        }
        note_failure(&mut out, failure);
    }
    out.duration = started.elapsed();
    out
}

/// Keeps the first failure, and later ones whose first violation is new (at most
/// [`MORE_FAILURES`]).
fn note_failure(out: &mut PropertyOutcome, f: Failure) {
    let new = !out
        .failures
        .iter()
        .any(|k| k.violations.first().map(|v| kind(v)) == f.violations.first().map(|v| kind(v)));
    if out.failures.is_empty() || (new && out.failures.len() <= MORE_FAILURES) {
        out.failures.push(f);
    }
}

/// A violation without its details (the part before the first colon), to tell kinds apart.
fn kind(v: &str) -> &str {
    v.split(':').next().unwrap_or(v)
}

/// proptest's shrinking loop on a live server: simplify while the case still fails,
/// complicate when a simplification passed. Returns the minimal input, its violations and the
/// replays made.
async fn shrink<T, C>(
    plan: &Plan,
    tree: &mut Box<dyn ValueTree<Value = T>>,
    checker: &mut C,
    first: T,
    violations: Vec<String>,
) -> (String, Vec<String>, u32)
where
    T: std::fmt::Debug,
    C: Check<T>,
{
    let until = Instant::now() + plan.max_shrink_time;
    let mut best = (checker.describe(&first), violations);
    let mut steps = 0;
    if !tree.simplify() {
        return (best.0, best.1, steps);
    }
    while steps < plan.max_shrink_steps && Instant::now() < until {
        steps += 1;
        let candidate = tree.current();
        match checker.check(&candidate).await {
            Verdict::Fail(v) => {
                best = (checker.describe(&candidate), v);
                if !tree.simplify() {
                    break;
                }
            }
            Verdict::Pass => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    (best.0, best.1, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails for every number above 100; counts its calls.
    struct Above100(u32);

    impl Check<u32> for Above100 {
        async fn check(&mut self, value: &u32) -> Verdict {
            self.0 += 1;
            if *value > 100 {
                Verdict::Fail(vec![format!("too big: {value}")])
            } else {
                Verdict::Pass
            }
        }

        fn describe(&self, value: &u32) -> String {
            value.to_string()
        }
    }

    #[tokio::test]
    async fn failures_shrink_to_the_boundary_and_later_ones_are_counted() {
        let plan = Plan {
            max_shrink_steps: 500,
            ..Plan::new("numbers", 200, 7)
        };
        let strategy = (0u32..1000).boxed();
        let mut check = Above100(0);
        let out = run(&plan, &strategy, &mut check, None).await;
        assert_eq!(out.passed + out.failed, 200);
        assert!(out.failed > 100, "{out:?}");
        assert_eq!(out.failures[0].input, "101", "shrunk to the smallest failing value");
        assert_eq!(out.failures[0].violations, vec!["too big: 101".to_string()]);
        assert!(out.failures[0].shrink_steps > 0);
        assert_eq!(
            out.failures.len(),
            1,
            "later failures of the same kind are only counted"
        );
    }

    #[tokio::test]
    async fn a_run_replays_from_its_seed_and_a_deadline_stops_new_cases() {
        let strategy = (0u32..1_000_000).boxed();
        let plan = Plan::new("replay", 20, 42);
        let draw = |plan: &Plan| -> Vec<u32> {
            (0..plan.cases)
                .map(|i| {
                    let mut r = CaseSeed::derive(plan.seed, &plan.name, i).runner();
                    strategy.new_tree(&mut r).expect("a value").current()
                })
                .collect()
        };
        assert_eq!(draw(&plan), draw(&plan));
        assert_ne!(draw(&plan), draw(&Plan::new("replay", 20, 43)));
        let past = Plan {
            deadline: Some(Instant::now()),
            ..plan
        };
        let out = run(&past, &strategy, &mut Above100(0), None).await;
        assert_eq!((out.passed, out.failed, out.not_run), (0, 0, 20));
    }

    #[tokio::test]
    async fn failing_seeds_are_kept_in_proptest_format_and_run_first() {
        let path = std::env::temp_dir().join(format!("alloy-conformance-regressions-{}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut regressions = Regressions::load(&path).expect("a missing file is empty");
        let strategy = (0u32..1000).boxed();
        let out = run(
            &Plan::new("kept", 50, 1),
            &strategy,
            &mut Above100(0),
            Some(&mut regressions),
        )
        .await;
        assert!(out.failed > 0);
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(text.starts_with("# Seeds for failure cases proptest"), "{text}");
        let line = text.lines().find(|l| l.starts_with("cc ")).expect("a seed line");
        assert!(line.contains(" # kept: shrinks to 101"), "{line}");
        let seed = CaseSeed::parse(line).expect("parses");
        assert_eq!(CaseSeed::parse(&seed.to_persistence()), Some(seed));

        let mut again = Regressions::load(&path).expect("reads");
        assert_eq!(again.seeds("kept"), vec![seed]);
        let mut check = Above100(0);
        let out = run(&Plan::new("kept", 0, 1), &strategy, &mut check, Some(&mut again)).await;
        assert_eq!(
            (out.passed + out.failed, out.failures[0].case),
            (1, None),
            "the kept seed ran"
        );
        let _ = std::fs::remove_file(&path);
    }
}
