//! Every repository scenario against `alloy-mcp` over stdio and Streamable HTTP (HTTP once the
//! binary offers it), in each era it applies to: no protocol check fails (except the cases
//! `fixtures/expected-failures/alloy-mcp.txt` lists, which must fail), the normalized
//! transcripts of both transports are equal, and they equal the one expected transcript of the
//! era (`fixtures/expected/<category>/<tool>__<case>.snap`, `…@stateless.snap`; the files the
//! CLI reads too). The
//! protocol-level categories also run over legacy HTTP+SSE against the same files. Record or update expected transcripts with
//! `INSTA_UPDATE=always cargo test -p alloy-conformance --test alloy_mcp` (or `cargo insta test`
//! and `cargo insta review`), then review the diff before committing.
//!
//! `ALLOY_CONFORMANCE_ONLY=<pattern>[,<pattern>…]` narrows the run (patterns as for the CLI's
//! `--only`); `ALLOY_CONFORMANCE_JOBS=N` sets how many cases run at once (default 4).

use crate::support::{Server, WANTED, notice, timeouts};
use alloy_conformance::driver::Transport;
use alloy_conformance::era::Era;
use alloy_conformance::expected_failures::ExpectedFailures;
use alloy_conformance::runner::{self, CaseRun, Fixtures, judge};
use alloy_conformance::scenario::{self, Scenario};
use alloy_conformance::{expected, transcript};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

/// Cases played at the same time (each is one server process and one in-process mock).
fn jobs() -> usize {
    std::env::var("ALLOY_CONFORMANCE_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .filter(|j| *j > 0)
        .unwrap_or(4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_on_stdio_and_http_in_both_eras_with_equal_transcripts_matching_the_expected_file() {
    let server = Server::find().await;
    let transports = server.transports("every_scenario_passes_on_stdio_and_http");
    let failures = play_and_judge(&server, &transports, &Era::ALL, |_| true).await;
    assert!(
        failures.is_empty(),
        "{} scenarios failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The legacy HTTP+SSE transport (2024-11-05 clients) on the tool-independent categories and
/// the connectivity tools: the same expected transcripts as stdio and Streamable HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_sse_transport_matches_the_expected_files_of_the_protocol_level_scenarios() {
    let server = Server::find().await;
    if !server.offered.offers(Transport::Sse) {
        let why = server
            .offered
            .missing
            .iter()
            .find(|(t, _)| *t == Transport::Sse)
            .map(|(_, w)| w.as_str());
        notice(&format!(
            "SKIPPED transport sse in `the_legacy_sse_transport_matches`: {}",
            why.unwrap_or("not offered")
        ));
        return;
    }
    let categories = ["lifecycle", "protocol", "resources", "connectivity"];
    let failures = play_and_judge(&server, &[Transport::Sse], &[Era::Handshake], |s| {
        categories.contains(&s.category.as_str())
    })
    .await;
    assert!(
        failures.is_empty(),
        "{} scenarios failed over SSE:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The strict baseline of alloy-mcp's known gaps (`fixtures/expected-failures/alloy-mcp.txt`),
/// shared with the CLI's default run: a listed case must break a protocol check (else it is
/// stale), an unlisted one must not. Transcripts are compared whatever the baseline says.
fn baseline() -> (ExpectedFailures, std::path::PathBuf) {
    let path = Fixtures::repository()
        .scenarios
        .join("..")
        .join("expected-failures")
        .join("alloy-mcp.txt");
    let b = ExpectedFailures::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    (b, path)
}

/// Plays the selected repository scenarios (further narrowed by `ALLOY_CONFORMANCE_ONLY`) on
/// each of `transports` the scenario runs on, in each era it applies to (`eras`), and judges
/// them; one text per failing scenario and era.
async fn play_and_judge(
    server: &Server,
    transports: &[Transport],
    eras: &[Era],
    select: impl Fn(&Scenario) -> bool,
) -> Vec<String> {
    let fixtures = Fixtures::repository();
    let scenarios = scenario::load_dir(&fixtures.scenarios).expect("the scenario files load");
    let (baseline, baseline_path) = baseline();
    let only = std::env::var("ALLOY_CONFORMANCE_ONLY").ok();
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| select(s))
        .filter(|s| {
            only.as_deref()
                .is_none_or(|p| p.split(',').any(|p| scenario::matches_filter(p.trim(), &s.id)))
        })
        .collect();
    if selected.is_empty() {
        notice(&format!("no scenario selected (ALLOY_CONFORMANCE_ONLY={only:?})"));
        return Vec::new();
    }

    let launches: Vec<(Transport, runner::Launch)> = transports.iter().map(|t| (*t, server.launch(*t))).collect();
    let mut cases = Vec::new();
    for s in &selected {
        let on: Vec<&(Transport, runner::Launch)> = launches.iter().filter(|(t, _)| s.runs_on(*t)).collect();
        // Announce a scenario that cannot run because alloy-mcp lacks a transport it names
        // (a scenario restricted to other transports than this test's is simply not selected).
        if on.is_empty() && WANTED.iter().any(|t| s.runs_on(*t) && !server.offered.offers(*t)) {
            notice(&format!(
                "SKIPPED scenario {}: it runs only on transports alloy-mcp does not offer yet",
                s.id
            ));
        }
        for era in eras.iter().copied().filter(|e| s.runs_in(*e)) {
            cases.extend(on.iter().filter(|(t, _)| t.speaks(era)).map(|(t, l)| (*s, era, *t, l)));
        }
    }
    let total = cases.len();
    let runs: Vec<(String, Era, Transport, CaseRun)> = futures::stream::iter(cases)
        .map(|(s, era, t, l)| async move {
            (
                s.id.clone(),
                era,
                t,
                runner::run_case(s, l, era, None, timeouts()).await,
            )
        })
        .buffer_unordered(jobs())
        .collect()
        .await;
    let mut by_case: BTreeMap<(String, Era), Vec<(Transport, CaseRun)>> = BTreeMap::new();
    for (id, era, t, run) in runs {
        by_case.entry((id, era)).or_default().push((t, run));
    }

    // One entry per failing scenario and era: its protocol violations per transport (unless
    // the baseline lists them), transcripts that differ between transports, and the diff
    // against the expected file.
    let mut failures = Vec::new();
    for s in &selected {
        for era in Era::ALL {
            let Some(mut runs) = by_case.remove(&(s.id.clone(), era)) else {
                continue;
            };
            runs.sort_by_key(|(t, _)| *t);
            let committed = expected::read(&fixtures.expected, s, era).expect("the expected file is readable");
            // Transports the baseline lists for this case are known to be wrong: they must
            // still fail (a broken check, or a transcript other than the expected one), and
            // their transcripts are not compared with the others'. The first unlisted
            // transport's transcript is the one the expected file holds.
            let listed = |t: Transport| baseline.entry_for(&s.id, t, era);
            let reference = runs.iter().position(|(t, _)| listed(*t).is_none()).unwrap_or(0);
            let mut problems = Vec::new();
            for (t, run) in &runs {
                match listed(*t) {
                    Some(entry) => {
                        let differs = committed.as_ref() != Some(&run.transcript.to_value())
                            || (listed(runs[reference].0).is_none() && run.transcript != runs[reference].1.transcript);
                        if run.violations.is_empty() && !differs {
                            problems.push(format!(
                                "  [{t}] STALE: listed in {} line {} ({}) but it passes: delete the line\n",
                                baseline_path.display(),
                                entry.line,
                                entry.reason
                            ));
                        }
                    }
                    None if !run.violations.is_empty() => {
                        let mut text = format!("  protocol checks [{t}]:\n");
                        for v in &run.violations {
                            text.push_str(&format!("    - {v}\n"));
                        }
                        let diagnostics = run.diagnostics.trim_end();
                        if !diagnostics.is_empty() {
                            text.push_str(&format!("  diagnostics [{t}]:\n"));
                            for line in diagnostics.lines() {
                                text.push_str(&format!("    {line}\n"));
                            }
                        }
                        problems.push(text);
                    }
                    None => {}
                }
            }
            let (first_t, first) = &runs[reference];
            for (t, run) in runs.iter().filter(|(t, _)| *t != *first_t && listed(*t).is_none()) {
                if run.transcript != first.transcript {
                    problems.push(format!(
                        "  the transcripts differ between {first_t} and {t} (- {first_t}, + {t}):\n{}",
                        indent(&transcript::diff(
                            &first.transcript.to_value(),
                            &run.transcript.to_value()
                        ))
                    ));
                }
            }
            let outcome = judge(s, *first_t, era, first.clone(), committed.as_ref());
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(fixtures.expected.join(&s.category));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_input_file(&s.path);
            settings.set_description(s.file.description.clone());
            let name = expected::snapshot_name(s, era);
            let value = first.transcript.to_value();
            let snapshot = std::panic::catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_json_snapshot!(name, value));
            }));
            if snapshot.is_err() {
                problems.push(format!(
                    "  differs from {} (- expected, + actual [{first_t}]):\n{}",
                    expected::path_for(&fixtures.expected, s, era).display(),
                    indent(outcome.diff.as_deref().unwrap_or_default())
                ));
            }
            if !problems.is_empty() {
                failures.push(format!("✗ {} [{era}]\n{}", s.id, problems.concat()));
            }
        }
    }
    let known: std::collections::BTreeSet<String> = scenarios.iter().map(|s| s.id.clone()).collect();
    for e in baseline.entries.iter().filter(|e| !known.contains(&e.id)) {
        failures.push(format!(
            "✗ {} line {}: no scenario `{}` exists",
            baseline_path.display(),
            e.line,
            e.id
        ));
    }
    notice(&format!(
        "{total} scenario cases on {} in the {} era(s) against {}; {} scenario cases failed",
        transports.iter().map(|t| t.name()).collect::<Vec<_>>().join("+"),
        eras.iter().map(|e| e.name()).collect::<Vec<_>>().join("+"),
        server.binary.display(),
        failures.len()
    ));
    failures
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
