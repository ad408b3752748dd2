//! Reports of a fuzzing run in the three formats `run` has: a text table of properties
//! (cases, passed, failed) followed by every broken invariant with its minimized input, the
//! seed that replays it and the command line; the same facts as JSON; JUnit XML (one
//! `testsuite` per phase, one `testcase` per property). Every format ends with the closing line
//! `N passed, N failed` counted in cases (text: the last line of stdout; JSON and JUnit: stderr).

use super::FuzzReport;
use super::runner::{Failure, PropertyOutcome};
use crate::report::{Format, xml_escape};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The closing line, counted in cases.
pub fn closing_line(r: &FuzzReport) -> String {
    let (passed, failed) = r.totals();
    format!("{passed} passed, {failed} failed")
}

fn phase_of(p: &PropertyOutcome) -> &str {
    p.name.split('/').next().unwrap_or("fuzz")
}

fn failure_text(p: &PropertyOutcome, f: &Failure, first: bool, replay: &str) -> String {
    let mut out = String::new();
    let case = f
        .case
        .map_or("a kept regression seed".to_string(), |c| format!("case {}", c + 1));
    let _ = writeln!(out, "✗ {} ({case})", p.name);
    for v in &f.violations {
        for (i, line) in v.lines().enumerate() {
            let _ = writeln!(out, "  {}{line}", if i == 0 { "- " } else { "    " });
        }
    }
    if !f.input.is_empty() {
        let what = if f.shrink_steps > 0 {
            format!("minimized input (after {} shrink replays)", f.shrink_steps)
        } else if first {
            "input (it did not shrink further)".to_string()
        } else {
            "input (not shrunk; a later failure of the same property)".to_string()
        };
        let _ = writeln!(out, "  {what}:");
        for line in f.input.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    if f.seed.0 != [0; 32] {
        let _ = writeln!(out, "  case seed: {}", f.seed.to_persistence());
    }
    let _ = writeln!(out, "  replay: {replay}");
    out
}

/// The text report, ending with the closing line and a newline. `replay` is the command line
/// that runs the same cases again.
pub fn text(r: &FuzzReport, replay: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "alloy-conformance fuzz: {} (protocol {}), seed {}, {} cases planned, {:.1} s",
        r.target,
        if r.negotiated.is_empty() { "-" } else { &r.negotiated },
        r.seed,
        r.planned,
        r.duration.as_secs_f64()
    );
    let width = r.properties.iter().map(|p| p.name.len()).max().unwrap_or(10).max(10) + 2;
    if !r.properties.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<width$}{:>7}{:>8}{:>8}{:>9}",
            "property", "cases", "passed", "failed", "seconds"
        );
    }
    let mut phase = "";
    for p in &r.properties {
        if phase_of(p) != phase && !phase.is_empty() {
            out.push('\n');
        }
        phase = phase_of(p);
        let _ = writeln!(
            out,
            "{:<width$}{:>7}{:>8}{:>8}{:>9.1}{}",
            p.name,
            p.passed + p.failed,
            p.passed,
            p.failed,
            p.duration.as_secs_f64(),
            if p.not_run > 0 {
                format!("  ({} not run: time limit)", p.not_run)
            } else {
                String::new()
            }
        );
    }
    let s = &r.stats;
    if s.results
        + s.tool_errors.values().sum::<u32>()
        + s.near_misses_refused_by_error
        + s.near_misses_refused_by_result
        > 0
    {
        let errors: Vec<String> = s
            .tool_errors
            .iter()
            .map(|(status, n)| {
                if *status == 0 {
                    format!("{n} without status")
                } else {
                    format!("{n} × {status}")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "\nvalid arguments: {} results, isError results {}{}",
            s.results,
            if errors.is_empty() {
                "none".into()
            } else {
                errors.join(", ")
            },
            if s.refused_by_rule.is_empty() {
                String::new()
            } else {
                format!(
                    ", refused by a named rule {}",
                    s.refused_by_rule
                        .iter()
                        .map(|(f, n)| format!("{n} × `{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        let _ = writeln!(
            out,
            "near-misses: {} refused as -32602, {} as isError results",
            s.near_misses_refused_by_error, s.near_misses_refused_by_result
        );
    }
    if let Some(m) = &r.memory {
        let _ = writeln!(
            out,
            "memory: VmRSS {:.1} MiB after the warm-up, {:.1} MiB after {} bad frames ({:.1} MiB)",
            m.warm_kib as f64 / 1024.0,
            m.end_kib as f64 / 1024.0,
            m.frames,
            m.bytes as f64 / (1024.0 * 1024.0)
        );
    }
    if r.sessions > 1 {
        let _ = writeln!(
            out,
            "sessions: {} (a session broke and was reopened {} times)",
            r.sessions,
            r.sessions - 1
        );
    }
    if !r.skipped.is_empty() {
        out.push_str("\nNOT CALLED\n");
        for (tool, why) in &r.skipped {
            let _ = writeln!(out, "- {tool}: {why}");
        }
    }
    let failing: Vec<&PropertyOutcome> = r.properties.iter().filter(|p| !p.failures.is_empty()).collect();
    if !failing.is_empty() || !r.problems.is_empty() {
        out.push_str("\nFAILURES\n\n");
    }
    for p in failing {
        for (i, f) in p.failures.iter().enumerate() {
            out.push_str(&failure_text(p, f, i == 0, replay));
            out.push('\n');
        }
    }
    for problem in &r.problems {
        let _ = writeln!(out, "✗ {problem}\n");
    }
    out.push_str(&closing_line(r));
    out.push('\n');
    out
}

fn failure_json(f: &Failure) -> Value {
    json!({
        "case": f.case.map(|c| c + 1),
        "seed": f.seed.to_persistence(),
        "violations": f.violations,
        "input": f.input,
        "shrink_steps": f.shrink_steps,
    })
}

/// The JSON report.
pub fn json(r: &FuzzReport, replay: &str) -> Value {
    let (passed, failed) = r.totals();
    json!({
        "target": r.target,
        "protocol_version": r.negotiated,
        "seed": r.seed,
        "replay": replay,
        "planned": r.planned,
        "passed": passed,
        "failed": failed,
        "duration_ms": r.duration.as_millis() as u64,
        "properties": r.properties.iter().map(|p| json!({
            "name": p.name,
            "cases": p.passed + p.failed,
            "passed": p.passed,
            "failed": p.failed,
            "not_run": p.not_run,
            "duration_ms": p.duration.as_millis() as u64,
            "failures": p.failures.iter().map(failure_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "not_called": r.skipped.iter().map(|(t, why)| json!({"tool": t, "why": why})).collect::<Vec<_>>(),
        "problems": r.problems,
        "stats": {
            "results": r.stats.results,
            "tool_errors_by_status": r.stats.tool_errors.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "refused_by_rule": r.stats.refused_by_rule,
            "near_misses_refused_by_error": r.stats.near_misses_refused_by_error,
            "near_misses_refused_by_result": r.stats.near_misses_refused_by_result,
        },
        "memory": r.memory.as_ref().map(|m| json!({
            "warm_kib": m.warm_kib, "end_kib": m.end_kib, "frames": m.frames, "bytes": m.bytes, "bound_kib": m.bound_kib,
        })),
        "sessions": r.sessions,
    })
}

/// The JUnit XML report.
pub fn junit(r: &FuzzReport, replay: &str) -> String {
    let (_, failed) = r.totals();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"alloy-conformance fuzz\" tests=\"{}\" failures=\"{failed}\" time=\"{:.3}\">",
        r.properties.len() + r.problems.len(),
        r.duration.as_secs_f64()
    );
    let mut phases: BTreeMap<&str, Vec<&PropertyOutcome>> = BTreeMap::new();
    for p in &r.properties {
        phases.entry(phase_of(p)).or_default().push(p);
    }
    for (phase, props) in phases {
        let failures = props.iter().filter(|p| p.failed > 0).count();
        let secs: f64 = props.iter().map(|p| p.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{secs:.3}\">",
            xml_escape(phase),
            props.len()
        );
        for p in props {
            let _ = write!(
                out,
                "    <testcase classname=\"alloy-conformance.fuzz.{}\" name=\"{}\" time=\"{:.3}\">\n      <system-out>{} cases, {} passed, {} failed</system-out>\n",
                xml_escape(phase),
                xml_escape(&p.name),
                p.duration.as_secs_f64(),
                p.passed + p.failed,
                p.passed,
                p.failed
            );
            if p.failed > 0 {
                let message = p
                    .failures
                    .first()
                    .and_then(|f| f.violations.first())
                    .cloned()
                    .unwrap_or_else(|| "an invariant broke".into());
                let body: String = p
                    .failures
                    .iter()
                    .enumerate()
                    .map(|(i, f)| failure_text(p, f, i == 0, replay))
                    .collect();
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"invariant\">{}</failure>",
                    xml_escape(&message),
                    xml_escape(&body)
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if !r.problems.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"run\" tests=\"{0}\" failures=\"{0}\">",
            r.problems.len()
        );
        for (i, p) in r.problems.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <testcase classname=\"alloy-conformance.fuzz.run\" name=\"problem-{}\">\n      <failure message=\"{}\"/>\n    </testcase>",
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
pub fn render(format: Format, r: &FuzzReport, replay: &str) -> String {
    match format {
        Format::Text => text(r, replay),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&json(r, replay)).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Junit => junit(r, replay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::runner::CaseSeed;

    fn sample() -> FuzzReport {
        FuzzReport {
            target: "a server".into(),
            negotiated: "2025-11-25".into(),
            seed: 9,
            planned: 12,
            properties: vec![
                PropertyOutcome {
                    name: "realistic/echo".into(),
                    passed: 6,
                    ..PropertyOutcome::default()
                },
                PropertyOutcome {
                    name: "aggressive/near-miss/echo".into(),
                    passed: 3,
                    failed: 3,
                    failures: vec![Failure {
                        case: Some(0),
                        seed: CaseSeed::derive(9, "aggressive/near-miss/echo", 0),
                        violations: vec!["arguments that break the schema were accepted: <x>".into()],
                        input: "tools/call echo {\"text\":5}".into(),
                        shrink_steps: 4,
                    }],
                    ..PropertyOutcome::default()
                },
            ],
            ..FuzzReport::default()
        }
    }

    #[test]
    fn every_format_counts_cases_and_carries_the_minimized_input_and_seed() {
        let r = sample();
        let replay = "alloy-conformance fuzz --stdio x --seed 9 --cases 12";
        let t = text(&r, replay);
        assert_eq!(t.lines().last(), Some("9 passed, 3 failed"), "{t}");
        assert!(
            t.contains("minimized input (after 4 shrink replays):\n    tools/call echo {\"text\":5}"),
            "{t}"
        );
        assert!(t.contains("case seed: cc "), "{t}");
        assert!(t.contains(&format!("replay: {replay}")), "{t}");
        let j = json(&r, replay);
        assert_eq!((j["passed"].as_u64(), j["failed"].as_u64()), (Some(9), Some(3)));
        assert_eq!(j["properties"][1]["failures"][0]["shrink_steps"], 4);
        let x = junit(&r, replay);
        let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
        let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].text().unwrap_or_default().contains("tools/call echo"));
    }
}
