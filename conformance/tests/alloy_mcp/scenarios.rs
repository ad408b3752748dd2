//! Every repository scenario against `alloy-mcp` over stdio and Streamable HTTP (HTTP once the
//! binary offers it): no protocol check fails, the normalized transcripts of both transports are
//! equal, and they equal the one expected transcript
//! (`fixtures/expected/<category>/<tool>__<case>.snap`, the file the CLI reads too). The
//! protocol-level categories also run over legacy HTTP+SSE against the same files. Record or update expected transcripts with
//! `INSTA_UPDATE=always cargo test -p alloy-conformance --test alloy_mcp` (or `cargo insta test`
//! and `cargo insta review`), then review the diff before committing.
//!
//! `ALLOY_CONFORMANCE_ONLY=<pattern>[,<pattern>…]` narrows the run (patterns as for the CLI's
//! `--only`); `ALLOY_CONFORMANCE_JOBS=N` sets how many cases run at once (default 4).

use crate::support::{Server, WANTED, notice, timeouts};
use alloy_conformance::driver::Transport;
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
async fn every_scenario_passes_on_stdio_and_http_with_equal_transcripts_matching_the_expected_file() {
    let server = Server::find().await;
    let transports = server.transports("every_scenario_passes_on_stdio_and_http");
    let failures = play_and_judge(&server, &transports, |_| true).await;
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
    let failures = play_and_judge(&server, &[Transport::Sse], |s| {
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

/// Plays the selected repository scenarios (further narrowed by `ALLOY_CONFORMANCE_ONLY`) on
/// each of `transports` the scenario runs on and judges them; one text per failing scenario.
async fn play_and_judge(server: &Server, transports: &[Transport], select: impl Fn(&Scenario) -> bool) -> Vec<String> {
    let fixtures = Fixtures::repository();
    let scenarios = scenario::load_dir(&fixtures.scenarios).expect("the scenario files load");
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
        cases.extend(on.into_iter().map(|(t, l)| (*s, *t, l)));
    }
    let total = cases.len();
    let runs: Vec<(String, Transport, CaseRun)> = futures::stream::iter(cases)
        .map(|(s, t, l)| async move { (s.id.clone(), t, runner::run_case(s, l, None, timeouts()).await) })
        .buffer_unordered(jobs())
        .collect()
        .await;
    let mut by_scenario: BTreeMap<String, Vec<(Transport, CaseRun)>> = BTreeMap::new();
    for (id, t, run) in runs {
        by_scenario.entry(id).or_default().push((t, run));
    }

    // One entry per failing scenario: its protocol violations per transport, transcripts that
    // differ between transports, and the diff against the expected file.
    let mut failures = Vec::new();
    for s in &selected {
        let Some(mut runs) = by_scenario.remove(&s.id) else {
            continue;
        };
        runs.sort_by_key(|(t, _)| *t);
        let committed = expected::read(&fixtures.expected, s).expect("the expected file is readable");
        let mut problems = Vec::new();
        for (t, run) in &runs {
            if !run.violations.is_empty() {
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
        }
        let (first_t, first) = &runs[0];
        for (t, run) in &runs[1..] {
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
        let outcome = judge(s, *first_t, first.clone(), committed.as_ref());
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(fixtures.expected.join(&s.category));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&s.path);
        settings.set_description(s.file.description.clone());
        let name = s.name();
        let value = first.transcript.to_value();
        let snapshot = std::panic::catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_json_snapshot!(name, value));
        }));
        if snapshot.is_err() {
            problems.push(format!(
                "  differs from {} (- expected, + actual [{first_t}]):\n{}",
                expected::path_for(&fixtures.expected, s).display(),
                indent(outcome.diff.as_deref().unwrap_or_default())
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("✗ {}\n{}", s.id, problems.concat()));
        }
    }
    notice(&format!(
        "{total} scenario cases on {} against {}; {} scenarios failed",
        transports.iter().map(|t| t.name()).collect::<Vec<_>>().join("+"),
        server.binary.display(),
        failures.len()
    ));
    failures
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
