//! Property tests of `alloy-mcp` (issue 11): generated inputs against the real binary, judged by
//! invariants, with the generators and checks of `alloy_conformance::fuzz` under stricter rules
//! than `alloy-conformance fuzz` applies to any server (the Alloy error shape, the field named
//! exactly in `data.field`, formats broken too).
//!
//! - **Tool arguments** from each tool's own `inputSchema`: valid instances get a result, or an
//!   `isError` result carrying the API's status and reason, or a refusal named in
//!   `fixtures/fuzz/alloy-mcp-refusals.txt` (every rule there is shown real by its example);
//!   near-misses are refused naming the field and never reach the API (the mock's journal).
//! - **Frames** over stdio, Streamable HTTP and legacy SSE: frame abuse interleaved with valid
//!   requests, one answer per id, the spec's error codes, only JSON-RPC out, the server still
//!   up, and resident memory flat under rounds of bad frames (stdio).
//! - **Server policy**: random `--read-only` / `--toolsets` combinations list exactly the tools
//!   `docs/tools.md` puts in those toolsets, and a hidden tool is answered exactly like an
//!   unknown one and never reaches the API.
//!
//! Counts are bounded (`ALLOY_FUZZ_SCALE` multiplies them) and nothing asserts on timing. The
//! seed is fixed unless `ALLOY_FUZZ_SEED` says otherwise, and printed; failing case seeds are
//! kept in `conformance/tests/proptest-regressions/` and replayed first.

use super::support::{Server, notice, timeouts};
use alloy_conformance::driver::Transport;
use alloy_conformance::driver::stdio::CommandSpec;
use alloy_conformance::fuzz::arguments::{CallStats, NearMissCalls, Rules, ToolUnderTest, ValidCalls};
use alloy_conformance::fuzz::frames::{self, FrameCases, SafeCalls};
use alloy_conformance::fuzz::refusals::Refusals;
use alloy_conformance::fuzz::runner::{self, Check, Plan, PropertyOutcome, Regressions, Verdict};
use alloy_conformance::fuzz::schema::{GenOptions, Generator};
use alloy_conformance::fuzz::session::{Conn, Target};
use alloy_conformance::fuzz::{FuzzReport, hints, report};
use alloy_conformance::runner::{Launch, mock_options};
use alloy_conformance::scenario::Role;
use alloy_mock_api::MockAlloy;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Cases run by the suites of this test binary so far (each suite prints the running total).
static CASES: AtomicU64 = AtomicU64::new(0);

/// The seed of every suite: `ALLOY_FUZZ_SEED`, or a fixed one (CI replays the same cases).
fn seed() -> u64 {
    std::env::var("ALLOY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202)
}

/// `base` times `ALLOY_FUZZ_SCALE` (default 1).
fn scaled(base: u32) -> u32 {
    let scale: f64 = std::env::var("ALLOY_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((f64::from(base) * scale).round() as u32).max(1)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn regressions(suite: &str) -> Regressions {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/proptest-regressions/{suite}.txt"));
    Regressions::load(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn refusals() -> Refusals {
    Refusals::load(&repo().join("fixtures/fuzz/alloy-mcp-refusals.txt")).unwrap_or_else(|e| panic!("{e:#}"))
}

async fn mock() -> Arc<MockAlloy> {
    let (opts, warning) = mock_options(None);
    assert!(warning.is_none(), "{warning:?}");
    Arc::new(MockAlloy::start_with(opts).await.expect("the mock API starts"))
}

/// A connection to the server started with `args` over `transport`, asking for `version`.
fn conn(server: &Server, transport: Transport, version: &str, args: &[&str], mock: Arc<MockAlloy>) -> Conn {
    let command = CommandSpec::new(server.binary.to_string_lossy(), args);
    let launch = match transport {
        Transport::Stdio => Launch::Stdio(command),
        t => Launch::SpawnedHttp { command, transport: t },
    };
    Conn::new(Target {
        launch,
        mock,
        role: Role::default(),
        version: version.to_string(),
        timeouts: timeouts(),
    })
}

/// The arguments of the suites that generate tool arguments: `tools/list` then carries the
/// schemas the server checks (every pattern, format and bound), not the short ones it
/// publishes to models, so an instance valid for the generator is valid for the server.
const FULL_SCHEMAS: &[&str] = &["--full-schemas"];

/// The strict rules of `alloy-mcp`: an `isError` answer to valid arguments is the Alloy shape
/// with a client-error status (404 for random ids, 403/409/422 for rules of the API itself).
fn strict(transport: Transport) -> Rules {
    Rules {
        refusals: refusals(),
        upstream_statuses: Some(vec![400, 403, 404, 409, 422]),
        exact_field: true,
        exempt: match transport {
            Transport::Stdio => Vec::new(),
            _ => vec![("GET".to_string(), "/api/v1/auth/me".to_string())],
        },
        reset_after_unsafe: true,
    }
}

/// Fails the test with the report of every broken property; prints the counts either way.
fn conclude(suite: &str, outcomes: Vec<PropertyOutcome>, stats: CallStats, extra: &str) {
    let report = FuzzReport {
        target: format!("alloy-mcp ({suite})"),
        seed: seed(),
        properties: outcomes,
        stats,
        ..FuzzReport::default()
    };
    let (passed, failed) = report.totals();
    let total = CASES.fetch_add(u64::from(passed + failed), Ordering::SeqCst) + u64::from(passed + failed);
    notice(&format!(
        "property suite `{suite}`: {} cases ({passed} passed, {failed} failed){extra}, seed {}; {total} property cases in this run so far",
        passed + failed,
        seed()
    ));
    let replay = format!(
        "ALLOY_FUZZ_SEED={} cargo test -p alloy-conformance --test alloy_mcp {suite}",
        seed()
    );
    assert_eq!(failed, 0, "\n{}", report::text(&report, &replay));
}

async fn listed_tools(conn: &mut Conn) -> Vec<ToolUnderTest> {
    let session = conn.session().await.unwrap_or_else(|e| panic!("{e}"));
    let listed = session.list_tools().await.unwrap_or_else(|e| panic!("{e}"));
    let tools = ToolUnderTest::from_list(&listed);
    assert!(tools.len() > 50, "alloy-mcp lists {} tools", tools.len());
    tools
}

/// What a suite of generated tool arguments starts from: alloy-mcp over stdio with
/// `--full-schemas` in `version`, its tools, the strict rules, and empty tallies.
struct ArgumentSuite {
    mock: Arc<MockAlloy>,
    conn: Conn,
    tools: Vec<ToolUnderTest>,
    rules: Rules,
    options: GenOptions,
    kept: Regressions,
    stats: CallStats,
    outcomes: Vec<PropertyOutcome>,
}

impl ArgumentSuite {
    async fn start(version: &str, break_formats: bool, regressions_file: &str) -> ArgumentSuite {
        let server = Server::find().await;
        let mock = mock().await;
        let mut conn = conn(&server, Transport::Stdio, version, FULL_SCHEMAS, mock.clone());
        let tools = listed_tools(&mut conn).await;
        let options = GenOptions {
            hints: hints::from_mock(&mock),
            break_formats,
        };
        ArgumentSuite {
            mock,
            conn,
            tools,
            rules: strict(Transport::Stdio),
            options,
            kept: regressions(regressions_file),
            stats: CallStats::default(),
            outcomes: Vec::new(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_schema_valid_arguments_of_every_tool_get_a_result_or_the_apis_status_and_reason() {
    let mut s = ArgumentSuite::start("2025-11-25", false, "arguments").await;
    let cases = scaled(75);
    for tool in &s.tools {
        let strategy = Generator::new(&tool.schema, s.options.clone())
            .and_then(|g| g.valid())
            .unwrap_or_else(|e| panic!("no generator of valid arguments for {}: {e}", tool.name));
        alloy_conformance::runner::reset_mock(&s.mock)
            .await
            .expect("the mock API resets");
        let mut check = ValidCalls {
            conn: &mut s.conn,
            tool,
            rules: &s.rules,
            stats: &mut s.stats,
        };
        let plan = Plan::new(format!("arguments/valid/{}", tool.name), cases, seed());
        s.outcomes
            .push(runner::run(&plan, &strategy, &mut check, Some(&mut s.kept)).await);
    }
    s.conn.reset_session().await;
    let extra = format!(
        " over {} tools ({} results, isError by status {:?}, refused by a named rule {:?})",
        s.tools.len(),
        s.stats.results,
        s.stats.tool_errors,
        s.stats.refused_by_rule
    );
    conclude("arguments/valid", s.outcomes, s.stats, &extra);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_near_misses_are_refused_naming_the_field_and_never_reach_the_api() {
    // 2025-06-18: a refusal is a JSON-RPC -32602 whose `data.field` names the field exactly.
    let mut s = ArgumentSuite::start("2025-06-18", true, "near-misses").await;
    let cases = scaled(45);
    for tool in &s.tools {
        let strategy = match Generator::new(&tool.schema, s.options.clone()).and_then(|g| g.near_misses()) {
            Ok(strategy) => strategy,
            // A tool without arguments has no near-miss but an extra field, which the
            // generator makes whenever `additionalProperties` is false; none at all is fine.
            Err(_) => continue,
        };
        let mut check = NearMissCalls {
            conn: &mut s.conn,
            tool,
            rules: &s.rules,
            stats: &mut s.stats,
        };
        let plan = Plan::new(format!("arguments/near-miss/{}", tool.name), cases, seed());
        s.outcomes
            .push(runner::run(&plan, &strategy, &mut check, Some(&mut s.kept)).await);
    }
    s.conn.reset_session().await;
    conclude("arguments/near-miss", s.outcomes, s.stats, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_every_named_refusal_is_real_and_refused_before_any_write() {
    let server = Server::find().await;
    let mock = mock().await;
    let mut conn = conn(&server, Transport::Stdio, "2025-06-18", FULL_SCHEMAS, mock.clone());
    let tools = listed_tools(&mut conn).await;
    let rules = refusals();
    assert!(!rules.rules.is_empty());
    let mut problems = Vec::new();
    for rule in &rules.rules {
        let Some(tool) = tools.iter().find(|t| t.name == rule.tool) else {
            problems.push(format!("line {}: no tool `{}` is listed", rule.line, rule.tool));
            continue;
        };
        let generator = Generator::new(&tool.schema, GenOptions::default()).expect("a generator");
        if !generator.validator().is_valid(&rule.example) {
            problems.push(format!(
                "line {}: the example does not fit {}'s schema (a rule covers valid arguments only)",
                rule.line, rule.tool
            ));
            continue;
        }
        mock.take_journal();
        let session = conn.session().await.unwrap_or_else(|e| panic!("{e}"));
        let answered = session
            .request(
                "tools/call",
                Some(json!({"name": rule.tool, "arguments": rule.example})),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let field = answered.answer.pointer("/error/data/field").and_then(Value::as_str);
        let code = answered.answer.pointer("/error/code").and_then(Value::as_i64);
        if code != Some(-32602) || field.is_none_or(|f| rules.allowing(&rule.tool, f) != Some(rule)) {
            problems.push(format!(
                "line {}: {} {} was answered {}, not refused naming `{}`",
                rule.line, rule.tool, rule.example, answered.answer, rule.field
            ));
        }
        // A rule across fields is refused before any call; an unresolved name after the
        // lookup that found no match (a GET of the org's members or the project's labels or
        // sprints). Nothing is ever written.
        let called = mock.take_journal();
        if called.iter().any(|e| e.method != "GET") {
            problems.push(format!(
                "line {}: the API was written to: {:?}",
                rule.line,
                called
                    .iter()
                    .map(|e| format!("{} {}", e.method, e.path))
                    .collect::<Vec<_>>()
            ));
        }
    }
    conn.reset_session().await;
    CASES.fetch_add(rules.rules.len() as u64, Ordering::SeqCst);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The frame suite on one transport.
async fn frames_on(transport: Transport, cases: u32, memory: bool) {
    let server = Server::find().await;
    if let Some((_, why)) = server.offered.missing.iter().find(|(t, _)| *t == transport) {
        notice(&format!("SKIPPED the frame suite over {transport}: {why}"));
        return;
    }
    let mock = mock().await;
    let mut conn = conn(&server, transport, "2025-11-25", &[], mock.clone());
    let tools = listed_tools(&mut conn).await;
    let options = GenOptions {
        hints: hints::from_mock(&mock),
        break_formats: false,
    };
    let calls: SafeCalls = tools
        .iter()
        .filter(|t| t.is_read_only())
        .filter_map(|t| {
            let s = Generator::new(&t.schema, options.clone()).ok()?.valid().ok()?;
            Some((t.name.clone(), s))
        })
        .collect();
    assert!(calls.len() > 20, "{} read-only tools", calls.len());
    let suite = format!("frames/{transport}");
    let mut kept = regressions(&format!("frames-{transport}"));
    let mut check = FrameCases {
        conn: &mut conn,
        tool: "get_ticket".into(),
        played: 0,
    };
    let plan = Plan::new(suite.clone(), cases, seed());
    let mut outcomes = vec![runner::run(&plan, &frames::cases(&calls), &mut check, Some(&mut kept)).await];
    let mut extra = String::new();
    if memory {
        let (outcome, text) = memory_check(&mut conn).await;
        outcomes.push(outcome);
        extra = format!(" and the memory check ({text})");
    }
    conn.reset_session().await;
    conclude(&suite, outcomes, CallStats::default(), &extra);
}

/// Resident memory under rounds of bad frames, as a one-case property.
async fn memory_check(conn: &mut Conn) -> (PropertyOutcome, String) {
    let mut out = PropertyOutcome {
        name: "frames/memory".into(),
        ..PropertyOutcome::default()
    };
    let text = match frames::memory(conn, 2, 4).await {
        Ok(Some(m)) => {
            let text = format!(
                "VmRSS {} KiB after the warm-up, {} KiB after {} bad frames",
                m.warm_kib, m.end_kib, m.frames
            );
            if m.holds() {
                out.passed = 1;
            } else {
                out.failed = 1;
                out.failures.push(runner::Failure {
                    case: Some(0),
                    seed: runner::CaseSeed([0; 32]),
                    violations: vec![format!("memory grew beyond {} KiB: {text}", m.bound_kib)],
                    input: "frames::memory_round × 6".into(),
                    shrink_steps: 0,
                });
            }
            text
        }
        Ok(None) => panic!("the harness started the server but has no pid to read"),
        Err(e) => {
            out.failed = 1;
            out.failures.push(runner::Failure {
                case: Some(0),
                seed: runner::CaseSeed([0; 32]),
                violations: vec![e.clone()],
                input: "frames::memory_round × 6".into(),
                shrink_steps: 0,
            });
            e
        }
    };
    (out, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_frames_over_stdio_keep_one_answer_per_id_the_spec_codes_and_flat_memory() {
    frames_on(Transport::Stdio, scaled(400), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_frames_over_streamable_http_keep_one_answer_per_id_and_the_spec_codes() {
    frames_on(Transport::Http, scaled(250), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_frames_over_legacy_sse_keep_one_answer_per_id_and_the_spec_codes() {
    frames_on(Transport::Sse, scaled(250), false).await;
}

/// The toolset of every tool, as `docs/tools.md` (generated from `tools/list`, checked by a
/// test) groups them.
fn toolsets_of_tools() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(repo().join("docs/tools.md")).expect("docs/tools.md");
    let mut out = BTreeMap::new();
    let mut toolset = None;
    for line in doc.lines() {
        if let Some(rest) = line.strip_prefix("## Toolset `") {
            toolset = rest.split('`').next().map(str::to_string);
        } else if let (Some(rest), Some(t)) = (line.strip_prefix("### `"), &toolset)
            && let Some(name) = rest.split('`').next()
        {
            out.insert(name.to_string(), t.clone());
        }
    }
    out
}

/// One policy: `--read-only` or not, and the toolsets given (`None`: the flag left out).
#[derive(Clone, Debug)]
struct Policy {
    read_only: bool,
    toolsets: Option<Vec<String>>,
}

impl Policy {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.read_only {
            args.push("--read-only".to_string());
        }
        if let Some(sets) = &self.toolsets {
            // An empty list is refused by the command line; `connectivity` alone is its meaning.
            args.push("--toolsets".to_string());
            args.push(if sets.is_empty() {
                "connectivity".to_string()
            } else {
                sets.join(",")
            });
        }
        args
    }
}

/// Starts a server per policy and checks what it lists and how it answers hidden tools.
struct PolicyCases<'a> {
    server: &'a Server,
    mock: Arc<MockAlloy>,
    /// Every tool of the unrestricted server, with schema-valid arguments for it.
    all: &'a [(ToolUnderTest, Value)],
    toolset_of: &'a BTreeMap<String, String>,
    calls: u64,
}

impl Check<Policy> for PolicyCases<'_> {
    async fn check(&mut self, policy: &Policy) -> Verdict {
        let args = policy.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut conn = conn(self.server, Transport::Stdio, "2025-06-18", &args, self.mock.clone());
        let mut v = Vec::new();
        let listed = match conn.session().await {
            Ok(s) => s.list_tools().await,
            Err(e) => Err(e),
        };
        let listed: BTreeSet<String> = match listed {
            Ok(l) => ToolUnderTest::from_list(&l).into_iter().map(|t| t.name).collect(),
            Err(e) => {
                conn.reset_session().await;
                return Verdict::Fail(vec![format!("cannot list the tools: {e}")]);
            }
        };
        let expected: BTreeSet<String> = self
            .all
            .iter()
            .map(|(t, _)| t)
            .filter(|t| !policy.read_only || t.is_read_only())
            .filter(|t| {
                let set = self.toolset_of.get(&t.name).map_or("", String::as_str);
                set == "connectivity" || policy.toolsets.as_ref().is_none_or(|s| s.iter().any(|x| x == set))
            })
            .map(|t| t.name.clone())
            .collect();
        if listed != expected {
            v.push(format!(
                "tools/list differs from the policy: listed but hidden {:?}; hidden but not listed {:?}",
                listed.difference(&expected).collect::<Vec<_>>(),
                expected.difference(&listed).collect::<Vec<_>>()
            ));
        }
        let unknown = self.answer(&mut conn, "no_such_tool", &json!({})).await;
        let normal = |answer: &Value, name: &str| {
            let mut a = answer.clone();
            if let Some(o) = a.as_object_mut() {
                o.remove("id");
            }
            a.to_string().replace(name, "<tool>")
        };
        let unknown = unknown.map(|a| normal(&a, "no_such_tool"));
        for (tool, arguments) in self.all.iter().filter(|(t, _)| !listed.contains(&t.name)) {
            self.calls += 1;
            self.mock.take_journal();
            let answer = self.answer(&mut conn, &tool.name, arguments).await;
            let called = self.mock.take_journal();
            if !called.is_empty() {
                v.push(format!(
                    "the hidden tool {} reached the API: {} requests",
                    tool.name,
                    called.len()
                ));
            }
            match (&answer, &unknown) {
                (Ok(a), Ok(u)) if normal(a, &tool.name) == *u => {}
                (a, u) => v.push(format!(
                    "the hidden tool {} was answered {a:?}, an unknown tool {u:?}",
                    tool.name
                )),
            }
        }
        conn.reset_session().await;
        if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v) }
    }

    fn describe(&self, policy: &Policy) -> String {
        format!("alloy-mcp {}", policy.args().join(" "))
    }
}

impl PolicyCases<'_> {
    async fn answer(&self, conn: &mut Conn, tool: &str, arguments: &Value) -> Result<Value, String> {
        let session = conn.session().await?;
        session
            .request("tools/call", Some(json!({"name": tool, "arguments": arguments})))
            .await
            .map(|a| a.answer)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_hidden_tools_are_not_listed_answered_like_unknown_tools_and_never_reach_the_api() {
    let server = Server::find().await;
    let mock = mock().await;
    let toolset_of = toolsets_of_tools();
    let mut full = conn(&server, Transport::Stdio, "2025-06-18", &[], mock.clone());
    let tools = listed_tools(&mut full).await;
    full.reset_session().await;
    let names: BTreeSet<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let documented: BTreeSet<&str> = toolset_of.keys().map(String::as_str).collect();
    assert_eq!(names, documented, "docs/tools.md and tools/list name the same tools");
    // One schema-valid instance per tool: what a hidden tool is called with.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let options = GenOptions {
        hints: hints::from_mock(&mock),
        break_formats: false,
    };
    let all: Vec<(ToolUnderTest, Value)> = tools
        .into_iter()
        .map(|t| {
            let s = Generator::new(&t.schema, options.clone())
                .and_then(|g| g.valid())
                .expect("a generator");
            let v = s.new_tree(&mut runner).expect("a value").current();
            (t, v)
        })
        .collect();
    let sets: Vec<String> = toolset_of
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let strategy = (
        any::<bool>(),
        proptest::option::weighted(0.85, proptest::sample::subsequence(sets.clone(), 0..=sets.len())),
    )
        .prop_map(|(read_only, toolsets)| Policy { read_only, toolsets })
        .boxed();
    let mut check = PolicyCases {
        server: &server,
        mock: mock.clone(),
        all: &all,
        toolset_of: &toolset_of,
        calls: 0,
    };
    let mut kept = regressions("policy");
    let plan = Plan::new("policy", scaled(16), seed());
    let outcome = runner::run(&plan, &strategy, &mut check, Some(&mut kept)).await;
    let calls = check.calls;
    // Each hidden tool called is a case of its own (the count the budget is about).
    CASES.fetch_add(calls, Ordering::SeqCst);
    conclude(
        "policy",
        vec![outcome],
        CallStats::default(),
        &format!(" ({calls} calls of hidden tools)"),
    );
}
