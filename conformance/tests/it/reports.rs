//! Report rendering: the text closing line stands alone, JSON parses, JUnit XML is well-formed
//! even when diffs and messages carry markup and control characters.

use alloy_conformance::driver::Transport;
use alloy_conformance::era::Era;
use alloy_conformance::report::{self, Format};
use alloy_conformance::runner::{CaseOutcome, Status};
use std::time::Duration;

fn outcomes() -> Vec<CaseOutcome> {
    let base = CaseOutcome {
        id: "protocol/unknown__method".into(),
        category: "protocol".into(),
        name: "unknown__method".into(),
        transport: Transport::Stdio,
        era: Era::Handshake,
        status: Status::Passed,
        violations: Vec::new(),
        diff: None,
        diagnostics: String::new(),
        note: None,
        transcript: Default::default(),
        duration: Duration::from_millis(12),
    };
    let mut failed = base.clone();
    failed.transport = Transport::Http;
    failed.status = Status::Failed;
    failed.violations = vec!["step 1: answered with id 2 to the request with id 1 <&> \"quoted\" \u{1b}[31m".into()];
    failed.diff = Some("--- expected\n+++ actual\n-  \"a\": \"<b>&amp;\"\n+  \"a\": \"]]>\u{0}\"\n".into());
    failed.diagnostics = "stderr: panicked at 'x < y'".into();
    let mut xfail = base.clone();
    xfail.id = "lifecycle/ping__basic".into();
    xfail.category = "lifecycle".into();
    xfail.name = "ping__basic".into();
    xfail.status = Status::ExpectedFailure;
    vec![base, failed, xfail]
}

#[test]
fn the_text_report_has_a_table_per_category_and_ends_with_the_closing_line() {
    let text = report::render(Format::Text, &outcomes(), &[]);
    assert!(text.starts_with("lifecycle"), "{text}");
    assert!(text.contains("protocol") && text.contains("stdio  http"), "{text}");
    assert!(text.contains("✗ protocol/unknown__method [http] FAIL"), "{text}");
    assert_eq!(text.lines().last(), Some("2 passed, 1 failed"));
}

#[test]
fn the_json_report_parses_and_counts() {
    let v: serde_json::Value =
        serde_json::from_str(&report::render(Format::Json, &outcomes(), &["a problem".into()])).expect("JSON");
    assert_eq!(v["passed"], 2);
    assert_eq!(v["failed"], 2);
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["cases"][1]["status"], "fail");
}

#[test]
fn the_junit_report_is_well_formed_xml_with_one_failure() {
    let xml = report::render(
        Format::Junit,
        &outcomes(),
        &["expected-failures line 3: no scenario `x/y__z` exists".into()],
    );
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("4"));
    assert_eq!(root.attribute("failures"), Some("2"));
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 4);
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure") && n.text().is_some())
        .expect("a failure with text");
    let text = failure.text().unwrap_or_default();
    assert!(text.contains("\"<b>&amp;\"") && text.contains("]]>"), "{text}");
    assert!(failure.attribute("message").is_some_and(|m| m.contains("<&>")));
}
