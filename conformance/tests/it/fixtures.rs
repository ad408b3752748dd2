//! The repository's own scenario files (`fixtures/scenarios`): every file loads and passes the
//! format checks, and the tool-independent categories (lifecycle, protocol) play to the end
//! against the correct fake on every transport they name, without a timeout. (Their expected
//! transcripts are those of `alloy-mcp`, so they are not compared here.)

use crate::support::{launch, timeouts};
use alloy_conformance::driver::Transport;
use alloy_conformance::runner::{self, Fixtures};
use alloy_conformance::scenario;

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
        for t in Transport::ALL.into_iter().filter(|t| s.runs_on(*t)) {
            let run = runner::run_case(s, &launch("correct", t), None, timeouts()).await;
            let text = run.transcript.to_string();
            let timed_out = text.contains("{\"event\":\"timeout\"}") || text.contains("\"aborted\"");
            let harness_trouble = run
                .violations
                .iter()
                .any(|v| v.contains("cannot connect") || v.contains("no answer within"));
            if timed_out || harness_trouble {
                problems.push(format!("{} [{t}]: {:?}\n{}", s.id, run.violations, run.transcript));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
