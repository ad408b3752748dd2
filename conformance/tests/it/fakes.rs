//! The harness against the fake server: the correct fake passes every scenario on every
//! transport in both eras with equal transcripts (asserted before the one snapshot per scenario
//! and era), and each deliberately broken fake is caught with a readable diff, a silent one by
//! timeouts, an era-confused one by the schema of each era's revision.

use crate::support::{fake_fixtures, launch, outcome, outcome_in, run_fake, timeouts};
use alloy_conformance::driver::{Timeouts, Transport};
use alloy_conformance::era::Era;
use alloy_conformance::expected;
use alloy_conformance::report;
use alloy_conformance::runner::{self, Status};
use alloy_conformance::scenario;
use alloy_conformance::transcript;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_fake_gives_equal_transcripts_on_every_transport_matching_the_snapshots_in_both_eras() {
    let fixtures = fake_fixtures();
    let scenarios = scenario::load_dir(&fixtures.scenarios).expect("the fake's scenarios load");
    let mut failures = Vec::new();
    for s in &scenarios {
        for era in Era::ALL.into_iter().filter(|e| s.runs_in(*e)) {
            let mut runs = Vec::new();
            for t in Transport::ALL.into_iter().filter(|t| s.runs_on(*t) && t.speaks(era)) {
                let run = runner::run_case(s, &launch("correct", t), era, None, timeouts()).await;
                assert!(
                    run.violations.is_empty(),
                    "{} [{t} {era}] broke protocol checks: {:#?}\n{}",
                    s.id,
                    run.violations,
                    run.diagnostics
                );
                runs.push((t, run));
            }
            let (first_t, first) = &runs[0];
            for (t, run) in &runs[1..] {
                assert!(
                    run.transcript == first.transcript,
                    "{} [{era}] differs between {first_t} and {t}:\n{}",
                    s.id,
                    transcript::diff(&first.transcript.to_value(), &run.transcript.to_value())
                );
            }
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(fixtures.expected.join(&s.category));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_input_file(&s.path);
            let name = expected::snapshot_name(s, era);
            let value = first.transcript.to_value();
            let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_json_snapshot!(name, value));
            }));
            if checked.is_err() {
                failures.push(format!("{} [{era}]", s.id));
            }
        }
    }
    assert!(failures.is_empty(), "snapshots differ: {failures:?}");

    // The CLI's path reads the same files and agrees.
    let outcomes = run_fake("correct", &Transport::ALL, &Era::ALL, None, timeouts()).await;
    assert!(outcomes.iter().any(|o| o.era == Era::Stateless));
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status != Status::Passed)
        .map(report::failure_text)
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(report::summary(&outcomes, &[]).failed, 0);
}

/// The same deliberately wrong server is caught in each era: it sends `resultType`, `ttlMs`
/// and `cacheScope` to handshake clients (fields their revision does not define) and leaves
/// them out at the stateless wire (where the 2026-07-28 schema requires them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_era_confused_fake_is_caught_in_each_era_by_the_schema_of_the_revision() {
    let id = "tools/tools_list__all";
    let outcomes = run_fake(
        "era-confused",
        &[Transport::Stdio, Transport::Http],
        &Era::ALL,
        Some(id),
        timeouts(),
    )
    .await;
    for t in [Transport::Stdio, Transport::Http] {
        let old = outcome_in(&outcomes, id, t, Era::Handshake);
        assert_eq!(old.status, Status::Failed, "{}", report::failure_text(old));
        for field in ["/resultType", "/ttlMs", "/cacheScope"] {
            assert!(
                old.violations
                    .iter()
                    .any(|v| v.contains(&format!("`{field}`, a field 2025-06-18 does not define"))),
                "[{t}] {field}: {:?}",
                old.violations
            );
        }
        let new = outcome_in(&outcomes, id, t, Era::Stateless);
        assert_eq!(new.status, Status::Failed, "{}", report::failure_text(new));
        assert!(
            new.violations.iter().any(
                |v| v.contains("tools/list result is not a 2026-07-28 ListToolsResult") && v.contains("resultType")
            ),
            "[{t}] {:?}",
            new.violations
        );
        assert!(
            new.violations
                .iter()
                .any(|v| v.contains("schema 2026-07-28 #/ListToolsResult")),
            "the failing schema path is named: {:?}",
            new.violations
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_that_drops_a_tool_is_caught_with_a_readable_diff() {
    let outcomes = run_fake(
        "drops-a-tool",
        &[Transport::Stdio],
        &[Era::Handshake],
        Some("tools/"),
        timeouts(),
    )
    .await;

    let list = outcome(&outcomes, "tools/tools_list__all", Transport::Stdio);
    assert_eq!(list.status, Status::Failed);
    let diff = list.diff.as_deref().expect("a diff");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && l.contains("\"name\": \"echo\"")),
        "the diff shows the missing tool as an expected line:\n{diff}"
    );

    let call = outcome(&outcomes, "tools/echo__says_hello", Transport::Stdio);
    assert_eq!(call.status, Status::Failed);
    assert!(
        call.violations
            .iter()
            .any(|v| v.contains("tool `echo` is not in the server's tools/list")),
        "{:?}",
        call.violations
    );
    let text = report::failure_text(call);
    assert!(text.contains("transcript (- expected, + actual):"), "{text}");
    assert!(text.contains("Unknown tool: echo"), "{text}");

    let untouched = outcome(&outcomes, "tools/fetch_api__health", Transport::Stdio);
    assert_eq!(untouched.status, Status::Passed, "{}", report::failure_text(untouched));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_that_answers_with_a_wrong_id_is_caught_on_stdio_and_http_in_both_eras() {
    let outcomes = run_fake(
        "wrong-id",
        &[Transport::Stdio, Transport::Http],
        &Era::ALL,
        Some("protocol/unknown__method"),
        timeouts(),
    )
    .await;
    for (t, era) in [Transport::Stdio, Transport::Http]
        .into_iter()
        .flat_map(|t| Era::ALL.map(|e| (t, e)))
    {
        let o = outcome_in(&outcomes, "protocol/unknown__method", t, era);
        assert_eq!(o.status, Status::Failed);
        assert!(
            o.violations
                .iter()
                .any(|v| v == "step 1: answered with id 1001 to the request with id 1"),
            "{:?}",
            o.violations
        );
        assert!(
            o.violations.iter().any(|v| v.contains("id 1001, which no request had")),
            "{:?}",
            o.violations
        );
        let diff = o.diff.as_deref().expect("a diff");
        assert!(diff.contains("-          \"id\": 1,"), "{diff}");
        assert!(diff.contains("+          \"id\": 1001,"), "{diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_fake_times_out_on_every_transport_instead_of_hanging() {
    let short = Timeouts {
        handshake: Duration::from_millis(400),
        request: Duration::from_millis(400),
    };
    let run = run_fake(
        "silent",
        &Transport::ALL,
        &[Era::Handshake],
        Some("lifecycle/ping__after_initialize"),
        short,
    );
    let outcomes = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the harness gives up on a silent server by itself");
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert_eq!(o.status, Status::Failed, "{}", o.transport);
        let said = o.violations.join("\n");
        assert!(said.contains("no answer within 400 ms"), "[{}] {said}", o.transport);
    }
    let stdio = outcome(&outcomes, "lifecycle/ping__after_initialize", Transport::Stdio);
    let exchanges = stdio.transcript.to_value()["exchanges"].clone();
    assert_eq!(exchanges[0]["recv"], serde_json::json!([{"event": "timeout"}]));
    assert!(stdio.violations.iter().any(|v| v.starts_with("handshake:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_tool_list_gives_a_sorted_name_list_and_one_schema_snapshot_per_tool() {
    let list = runner::list_tools(&launch("correct", Transport::Stdio), "2025-06-18", timeouts())
        .await
        .expect("a tool list");
    assert!(list.violations.is_empty(), "{:?}", list.violations);
    let (names, per_tool) = alloy_conformance::shapes::tool_artifacts(&list.tools);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(fake_fixtures().expected.join("schemas"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_json_snapshot!("tool_names", names);
        for (name, tool) in &per_tool {
            insta::assert_json_snapshot!(format!("tool_schema@{name}"), tool);
        }
    });
}
