//! Judging: the verdict on one played case. A case passes when its normalized transcript
//! equals the expected one and no protocol check failed.

use super::CaseRun;
use crate::driver::Transport;
use crate::era::Era;
use crate::scenario::Scenario;
use crate::transcript::{self, Transcript};
use serde_json::Value;
use std::time::Duration;

/// The verdict on one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Transcript as expected, no violation.
    Passed,
    /// Differs from the expected transcript or broke a protocol rule.
    Failed,
    /// Failed, and listed in the expected-failures file.
    ExpectedFailure,
    /// Passed although listed in the expected-failures file.
    Stale,
    /// A rule of the protocol suite that could not be checked because a prerequisite failed
    /// (the reason is in `note`). Never counts as a pass.
    NotVerified,
    /// A rule about a capability the server does not declare (the reason is in `note`).
    NotApplicable,
}

impl Status {
    /// Whether the case counts as passed in the closing line.
    pub fn counts_as_passed(self) -> bool {
        matches!(self, Status::Passed | Status::ExpectedFailure)
    }

    /// Whether the case counts as skipped (neither passed nor failed) in the closing line.
    pub fn counts_as_skipped(self) -> bool {
        self == Status::NotApplicable
    }

    /// Whether the case failed (including stale baseline entries and unverified rules).
    pub fn counts_as_failed(self) -> bool {
        !self.counts_as_passed() && !self.counts_as_skipped()
    }

    /// Short name for tables and machine-readable output.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "FAIL",
            Status::ExpectedFailure => "xfail",
            Status::Stale => "STALE",
            Status::NotVerified => "NOT-VERIFIED",
            Status::NotApplicable => "N/A",
        }
    }
}

/// One judged case (one scenario on one transport).
#[derive(Clone, Debug)]
pub struct CaseOutcome {
    /// Scenario id, `<category>/<tool>__<case>`.
    pub id: String,
    /// Category (folder).
    pub category: String,
    /// `<tool>__<case>`.
    pub name: String,
    /// Transport.
    pub transport: Transport,
    /// Wire era.
    pub era: Era,
    /// Verdict.
    pub status: Status,
    /// Protocol checks that failed.
    pub violations: Vec<String>,
    /// Expected vs actual (`-` expected, `+` actual), or why there is nothing to compare.
    pub diff: Option<String>,
    /// Transport diagnostics (shown for failures).
    pub diagnostics: String,
    /// Extra explanation (e.g. why a case is stale).
    pub note: Option<String>,
    /// The normalized transcript.
    pub transcript: Transcript,
    /// Wall time.
    pub duration: Duration,
}

/// Judges a run against the expected transcript (`None` = no expected file yet).
pub fn judge(
    scenario: &Scenario,
    transport: Transport,
    era: Era,
    run: CaseRun,
    expected: Option<&Value>,
) -> CaseOutcome {
    let diff = match expected {
        None => Some(format!(
            "no expected transcript for {} in the {era} era (record it with `cargo insta test -p alloy-conformance` and `cargo insta review`, or inspect this run's with `--write-actual DIR`)",
            scenario.id
        )),
        Some(e) => {
            let actual = run.transcript.to_value();
            (*e != actual).then(|| transcript::diff(e, &actual))
        }
    };
    let status = if diff.is_none() && run.violations.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    CaseOutcome {
        id: scenario.id.clone(),
        category: scenario.category.clone(),
        name: scenario.name(),
        transport,
        era,
        status,
        violations: run.violations,
        diff,
        diagnostics: run.diagnostics,
        note: None,
        transcript: run.transcript,
        duration: run.duration,
    }
}
