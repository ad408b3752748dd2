//! The repository's own scenario files (`fixtures/scenarios`): every file loads and passes the
//! format checks, and the tool-independent categories (lifecycle, protocol) play to the end
//! against the correct fake on every transport they name, without a timeout. (Their expected
//! transcripts are those of `alloy-mcp`, so they are not compared here.)

use crate::support::{launch, timeouts};
use alloy_conformance::driver::Transport;
use alloy_conformance::era::Era;
use alloy_conformance::expected;
use alloy_conformance::runner::{self, Fixtures};
use alloy_conformance::scenario;
use alloy_conformance::transcript::{self, Transcript};

#[test]
fn every_repository_scenario_file_loads() {
    let scenarios = scenario::load_dir(&Fixtures::repository().scenarios).expect("all scenario files are valid");
    for category in ["lifecycle", "protocol"] {
        assert!(
            scenarios.iter().filter(|s| s.category == category).count() >= 5,
            "too few {category} scenarios"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_and_protocol_scenarios_play_to_the_end_against_the_correct_fake() {
    let scenarios = scenario::load_dir(&Fixtures::repository().scenarios).expect("loads");
    let mut problems = Vec::new();
    for s in scenarios
        .iter()
        .filter(|s| s.category == "lifecycle" || s.category == "protocol")
    {
        for (t, era) in Transport::ALL
            .into_iter()
            .flat_map(|t| Era::ALL.map(|e| (t, e)))
            .filter(|(t, e)| s.runs_on(*t) && s.runs_in(*e) && t.speaks(*e))
        {
            let run = runner::run_case(s, &launch("correct", t), era, None, timeouts()).await;
            let text = run.transcript.to_value().to_string();
            let timed_out = text.contains("{\"event\":\"timeout\"}") || text.contains("\"aborted\"");
            let harness_trouble = run
                .violations
                .iter()
                .any(|v| v.contains("cannot connect") || v.contains("no answer within"));
            if timed_out || harness_trouble {
                problems.push(format!(
                    "{} [{t} {era}]: {:?}\n{}",
                    s.id,
                    run.violations,
                    run.transcript.to_value()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Every expected transcript (of `alloy-mcp` and of the fake) reads as a typed
/// [`Transcript`] and writes back to exactly the JSON on disk, so the typed form loses
/// nothing and the files never need re-recording for it.
#[test]
fn every_expected_transcript_reads_as_a_typed_transcript_and_writes_back_identically() {
    let roots = [
        Fixtures::repository().expected,
        crate::support::fake_fixtures().expected,
    ];
    let mut seen = 0;
    let mut problems = Vec::new();
    for root in roots {
        for category in std::fs::read_dir(&root)
            .expect("the expected folder")
            .filter_map(Result::ok)
        {
            // Tool-schema snapshots are not transcripts.
            if category.file_name() == "schemas" || !category.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(category.path())
                .expect("a category folder")
                .filter_map(Result::ok)
            {
                let path = file.path();
                let text = std::fs::read_to_string(&path).expect("readable");
                let on_disk = expected::parse_snap(&text).expect("an insta JSON snapshot");
                seen += 1;
                match Transcript::from_value(on_disk.clone()) {
                    Ok(t)
                        if t.to_value() == on_disk
                            && transcript::pretty(&t.to_value()) == transcript::pretty(&on_disk) => {}
                    Ok(t) => problems.push(format!(
                        "{}: writes back as\n{}",
                        path.display(),
                        transcript::diff(&on_disk, &t.to_value())
                    )),
                    Err(e) => problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
    }
    assert!(seen > 200, "only {seen} expected transcripts found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
