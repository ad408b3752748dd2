//! The harness against the fake server: the correct fake passes every scenario on every
//! transport with equal transcripts (asserted before the one snapshot per scenario), and each
//! deliberately broken fake is caught with a readable diff, a silent one by timeouts.

use crate::support::{fake_fixtures, launch, outcome, run_fake, timeouts};
use alloy_conformance::driver::{Timeouts, Transport};
use alloy_conformance::report;
use alloy_conformance::runner::{self, Status};
use alloy_conformance::scenario;
use alloy_conformance::transcript;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_fake_gives_equal_transcripts_on_every_transport_matching_the_snapshots() {
    let fixtures = fake_fixtures();
    let scenarios = scenario::load_dir(&fixtures.scenarios).expect("the fake's scenarios load");
    let mut failures = Vec::new();
    for s in &scenarios {
        let mut runs = Vec::new();
        for t in Transport::ALL.into_iter().filter(|t| s.runs_on(*t)) {
            let run = runner::run_case(s, &launch("correct", t), None, timeouts()).await;
            assert!(
                run.violations.is_empty(),
                "{} [{t}] broke protocol checks: {:#?}\n{}",
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
                "{} differs between {first_t} and {t}:\n{}",
                s.id,
                transcript::diff(&first.transcript.to_value(), &run.transcript.to_value())
            );
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(fixtures.expected.join(&s.category));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&s.path);
        let name = s.name();
        let value = first.transcript.to_value();
        let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_json_snapshot!(name, value));
        }));
        if checked.is_err() {
            failures.push(s.id.clone());
        }
    }
    assert!(failures.is_empty(), "snapshots differ: {failures:?}");

    // The CLI's path reads the same files and agrees.
    let outcomes = run_fake("correct", &Transport::ALL, None, timeouts()).await;
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status != Status::Passed)
        .map(report::failure_text)
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(report::summary(&outcomes, &[]).failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_that_drops_a_tool_is_caught_with_a_readable_diff() {
    let outcomes = run_fake("drops-a-tool", &[Transport::Stdio], Some("tools/"), timeouts()).await;

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
async fn a_fake_that_answers_with_a_wrong_id_is_caught_on_stdio_and_http() {
    let outcomes = run_fake(
        "wrong-id",
        &[Transport::Stdio, Transport::Http],
        Some("lifecycle/ping__after_initialize"),
        timeouts(),
    )
    .await;
    for t in [Transport::Stdio, Transport::Http] {
        let o = outcome(&outcomes, "lifecycle/ping__after_initialize", t);
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
