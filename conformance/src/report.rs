//! Reports of a run: a text table per category (one column per transport and era) followed by
//! the failures (FAIL, STALE and NOT-VERIFIED) with their violations, diff and diagnostics, and
//! the closing line `N passed, N failed` (`, N skipped` when rules did not apply); the same
//! facts as JSON; and JUnit XML for CI dashboards.
//! Problems with the run itself (a stale or mistyped expected-failures line) count as failures.

use crate::driver::Transport;
use crate::era::Era;
use crate::runner::{CaseOutcome, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Output formats of `alloy-conformance run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable tables.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML.
    Junit,
}

/// Counts for the closing line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Passed and expected failures.
    pub passed: usize,
    /// Failed, stale, not verified, and problems with the run.
    pub failed: usize,
    /// Not applicable (a capability the server does not declare).
    pub skipped: usize,
}

/// Counts the outcomes and run problems.
pub fn summary(outcomes: &[CaseOutcome], problems: &[String]) -> Summary {
    let count = |f: fn(Status) -> bool| outcomes.iter().filter(|o| f(o.status)).count();
    Summary {
        passed: count(Status::counts_as_passed),
        failed: count(Status::counts_as_failed) + problems.len(),
        skipped: count(Status::counts_as_skipped),
    }
}

/// The closing line, exactly `N passed, N failed`, followed by `, N skipped` when rules did
/// not apply.
pub fn closing_line(s: Summary) -> String {
    if s.skipped == 0 {
        format!("{} passed, {} failed", s.passed, s.failed)
    } else {
        format!("{} passed, {} failed, {} skipped", s.passed, s.failed, s.skipped)
    }
}

/// A report column: a transport in an era.
fn column(o: &CaseOutcome) -> String {
    match o.era {
        Era::Handshake => o.transport.name().to_string(),
        Era::Stateless => format!("{}/{}", o.transport.name(), o.era.name()),
    }
}

fn by_category(outcomes: &[CaseOutcome]) -> BTreeMap<&str, Vec<&CaseOutcome>> {
    let mut m: BTreeMap<&str, Vec<&CaseOutcome>> = BTreeMap::new();
    for o in outcomes {
        m.entry(o.category.as_str()).or_default().push(o);
    }
    m
}

/// The text report, ending with the closing line and a newline.
pub fn text(outcomes: &[CaseOutcome], problems: &[String]) -> String {
    let mut out = String::new();
    let mut columns: Vec<(Era, Transport, String)> = Vec::new();
    for era in Era::ALL {
        for t in Transport::ALL {
            if let Some(o) = outcomes.iter().find(|o| o.transport == t && o.era == era) {
                columns.push((era, t, column(o)));
            }
        }
    }
    let cell_width = columns.iter().map(|(_, _, c)| c.len()).max().unwrap_or(5).max(5) + 2;
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(10).max(10) + 2;
    for (category, cases) in by_category(outcomes) {
        let _ = write!(out, "{category:<w$}", w = width + 2);
        for (_, _, c) in &columns {
            let _ = write!(out, "{c:<cell_width$}");
        }
        out.push('\n');
        let mut names: Vec<&str> = cases.iter().map(|o| o.name.as_str()).collect();
        names.dedup();
        for name in names {
            let _ = write!(out, "  {name:<width$}");
            for (era, t, _) in &columns {
                let cell = cases
                    .iter()
                    .find(|o| o.name == name && o.transport == *t && o.era == *era)
                    .map_or("-", |o| o.status.label());
                let _ = write!(out, "{cell:<cell_width$}");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let failures: Vec<&CaseOutcome> = outcomes.iter().filter(|o| o.status.counts_as_failed()).collect();
    let skipped: Vec<&CaseOutcome> = outcomes.iter().filter(|o| o.status.counts_as_skipped()).collect();
    if !skipped.is_empty() {
        out.push_str("NOT APPLICABLE\n\n");
        for o in skipped {
            let _ = writeln!(out, "- {} [{}] {}", o.id, column(o), o.note.as_deref().unwrap_or(""));
        }
        out.push('\n');
    }
    if !failures.is_empty() || !problems.is_empty() {
        out.push_str("FAILURES\n\n");
    }
    for o in failures {
        out.push_str(&failure_text(o));
        out.push('\n');
    }
    for p in problems {
        let _ = writeln!(out, "✗ {p}\n");
    }
    out.push_str(&closing_line(summary(outcomes, problems)));
    out.push('\n');
    out
}

/// One failure: header, note, violations, diff, diagnostics.
pub fn failure_text(o: &CaseOutcome) -> String {
    let mut out = format!("✗ {} [{}] {}\n", o.id, column(o), o.status.label());
    if let Some(n) = &o.note {
        let _ = writeln!(out, "  {n}");
    }
    if !o.violations.is_empty() {
        out.push_str("  protocol checks:\n");
        for v in &o.violations {
            let _ = writeln!(out, "    - {v}");
        }
    }
    if let Some(d) = &o.diff {
        if d.starts_with("no expected transcript") {
            let _ = writeln!(out, "  {d}");
        } else {
            out.push_str("  transcript (- expected, + actual):\n");
            for line in d.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if matches!(o.status, Status::Failed | Status::NotVerified) && !o.diagnostics.trim().is_empty() {
        out.push_str("  diagnostics:\n");
        for line in o.diagnostics.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

/// The JSON report.
pub fn json(outcomes: &[CaseOutcome], problems: &[String]) -> Value {
    let s = summary(outcomes, problems);
    json!({
        "passed": s.passed,
        "failed": s.failed,
        "skipped": s.skipped,
        "problems": problems,
        "cases": outcomes.iter().map(|o| json!({
            "id": o.id,
            "category": o.category,
            "name": o.name,
            "transport": o.transport.name(),
            "era": o.era.name(),
            "status": o.status.label().to_ascii_lowercase(),
            "violations": o.violations,
            "diff": o.diff,
            "note": o.note,
            "diagnostics": if o.status == Status::Failed { Some(&o.diagnostics) } else { None },
            "duration_ms": o.duration.as_millis() as u64,
        })).collect::<Vec<_>>(),
    })
}

/// Escapes text for XML attributes and content (and drops characters XML 1.0 forbids).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML report: one `testsuite` per category, one `testcase` per scenario and
/// transport; failures and stale entries carry a `failure` with the full failure text.
pub fn junit(outcomes: &[CaseOutcome], problems: &[String]) -> String {
    let s = summary(outcomes, problems);
    let total_ms: u128 = outcomes.iter().map(|o| o.duration.as_millis()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"alloy-conformance\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
        outcomes.len() + problems.len(),
        s.failed,
        total_ms as f64 / 1000.0
    );
    for (category, cases) in by_category(outcomes) {
        let failures = cases.iter().filter(|o| o.status.counts_as_failed()).count();
        let ms: u128 = cases.iter().map(|o| o.duration.as_millis()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
            xml_escape(category),
            cases.len(),
            ms as f64 / 1000.0
        );
        for o in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"alloy-conformance.{}.{}\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(category),
                column(o),
                xml_escape(&o.name),
                o.duration.as_millis() as f64 / 1000.0
            );
            match o.status {
                Status::Passed => out.push_str("/>\n"),
                Status::ExpectedFailure => {
                    out.push_str(">\n      <system-out>expected failure (listed in the expected-failures file)</system-out>\n    </testcase>\n");
                }
                Status::NotApplicable => {
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        xml_escape(o.note.as_deref().unwrap_or("not applicable"))
                    );
                }
                Status::Failed | Status::Stale | Status::NotVerified => {
                    let message = o
                        .note
                        .clone()
                        .or_else(|| o.violations.first().cloned())
                        .unwrap_or_else(|| "the transcript differs from the expected one".into());
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        xml_escape(&message),
                        o.status.label().to_ascii_lowercase(),
                        xml_escape(&failure_text(o))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    if !problems.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"run\" tests=\"{0}\" failures=\"{0}\">",
            problems.len()
        );
        for (i, p) in problems.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <testcase classname=\"alloy-conformance.run\" name=\"problem-{}\">\n      <failure message=\"{}\"/>\n    </testcase>",
                i + 1,
                xml_escape(p)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Renders `format`.
pub fn render(format: Format, outcomes: &[CaseOutcome], problems: &[String]) -> String {
    match format {
        Format::Text => text(outcomes, problems),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&json(outcomes, problems)).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Junit => junit(outcomes, problems),
    }
}
