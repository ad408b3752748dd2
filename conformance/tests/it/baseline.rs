//! The strict expected-failures baseline, both ways: a listed failure is excused, a listed pass
//! is stale and fails, an unlisted failure fails, a line naming no scenario fails.

use alloy_conformance::driver::Transport;
use alloy_conformance::era::Era;
use alloy_conformance::expected_failures::ExpectedFailures;
use alloy_conformance::report;
use alloy_conformance::runner::{CaseOutcome, Status};
use std::collections::BTreeSet;
use std::time::Duration;

fn case(id: &str, transport: Transport, status: Status) -> CaseOutcome {
    let (category, name) = id.split_once('/').expect("an id");
    CaseOutcome {
        id: id.into(),
        category: category.into(),
        name: name.into(),
        transport,
        era: Era::Handshake,
        status,
        violations: Vec::new(),
        diff: None,
        diagnostics: String::new(),
        note: None,
        transcript: Default::default(),
        duration: Duration::ZERO,
    }
}

#[test]
fn listed_failures_pass_and_listed_passes_fail_as_stale() {
    let baseline = ExpectedFailures::parse(
        "# known gaps of some server\n\
         protocol/batch__rejected http   # answers 415\n\
         lifecycle/ping__before_initialize  # answers before initialize\n\
         lifecycle/initialize__unknown_version stdio  # picks another version\n\
         typo/does_not__exist  # a typo\n",
    )
    .expect("parses");
    let mut outcomes = vec![
        case("protocol/batch__rejected", Transport::Http, Status::Failed),
        case("protocol/batch__rejected", Transport::Stdio, Status::Failed),
        case("lifecycle/ping__before_initialize", Transport::Stdio, Status::Failed),
        case("lifecycle/ping__before_initialize", Transport::Http, Status::Passed),
        case(
            "lifecycle/initialize__unknown_version",
            Transport::Stdio,
            Status::Passed,
        ),
        case("lifecycle/initialize__unknown_version", Transport::Http, Status::Passed),
    ];
    let known: BTreeSet<String> = outcomes.iter().map(|o| o.id.clone()).collect();
    let problems = baseline.apply(&mut outcomes, &known);

    let statuses: Vec<Status> = outcomes.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        vec![
            Status::ExpectedFailure, // listed for http, failed
            Status::Failed,          // not listed for stdio
            Status::ExpectedFailure, // listed for every transport, failed
            Status::Stale,           // listed for every transport, passed
            Status::Stale,           // listed for stdio, passed
            Status::Passed,          // not listed for http
        ]
    );
    assert!(
        outcomes[3]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("delete the line"))
    );
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("typo/does_not__exist"), "{problems:?}");

    let s = report::summary(&outcomes, &problems);
    assert_eq!((s.passed, s.failed), (3, 4));
    let text = report::text(&outcomes, &problems);
    assert_eq!(text.lines().last(), Some("3 passed, 4 failed"));
    assert!(text.contains("STALE") && text.contains("xfail"), "{text}");
}

#[test]
fn a_baseline_without_lines_changes_nothing() {
    let baseline = ExpectedFailures::parse("# nothing known\n").expect("parses");
    let mut outcomes = vec![case("a/b__c", Transport::Stdio, Status::Failed)];
    let problems = baseline.apply(&mut outcomes, &BTreeSet::new());
    assert!(problems.is_empty());
    assert_eq!(outcomes[0].status, Status::Failed);
}
