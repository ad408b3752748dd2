//! The `alloy-conformance fuzz` command end to end against the fake over stdio: a correct
//! server passes with the closing line and a seed that replays the same cases; a server that
//! accepts arguments its schema forbids, or that exits on a frame it cannot read, fails with a
//! non-zero exit, the minimized input and the seed; JSON and JUnit carry the same facts; and
//! no process the command started outlives it.

use crate::support::{conformance_cli, fake_bin, stdout};
use std::process::Output;

/// `alloy-conformance fuzz --stdio <fake> <marker>` in `mode`. The marker, an argument the fake
/// ignores, finds the servers this call started in `/proc` afterwards.
fn fuzz(mode: &str, marker: &str, extra: &[&str]) -> Output {
    conformance_cli("fuzz", &format!("{} {marker}", fake_bin()), None, mode, extra)
}

/// Processes whose command line holds `marker`.
fn running_with(marker: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker) && !c.contains("alloy-conformance"))
        .collect()
}

fn marker(name: &str) -> String {
    format!("--fuzz-test-{name}-{}", std::process::id())
}

#[test]
fn fuzz_passes_the_correct_fake_and_leaves_no_process_behind() {
    let m = marker("correct");
    let args = ["--cases", "80", "--seed", "42"];
    let first = fuzz("correct", &m, &args);
    let text = stdout(&first);
    assert!(
        first.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(text.lines().last(), Some("80 passed, 0 failed"), "{text}");
    assert!(text.contains(", seed 42, 80 cases planned"), "{text}");
    for property in [
        "realistic/echo",
        "aggressive/near-miss/echo",
        "aggressive/frames",
        "aggressive/memory",
    ] {
        assert!(text.contains(property), "{property} ran: {text}");
    }
    assert!(running_with(&m).is_empty(), "left running: {:?}", running_with(&m));
}

/// The report from its failures on (no timings there).
fn failures(text: &str) -> &str {
    text.find("FAILURES").map_or("", |at| &text[at..])
}

#[test]
fn fuzz_fails_a_fake_that_accepts_bad_arguments_with_the_minimized_call_and_its_seed() {
    let m = marker("lax");
    let out = fuzz(
        "lax-arguments",
        &m,
        &["--cases", "60", "--seed", "3", "--phase", "aggressive"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ aggressive/near-miss/echo"), "{text}");
    assert!(text.contains("were accepted"), "{text}");
    // Shrinking takes the call down to one broken field: `{}` (text missing) or a scalar of the
    // wrong type, never the generated string that carried it.
    let minimized = text
        .lines()
        .skip_while(|l| !l.contains("minimized input"))
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(minimized.starts_with("tools/call echo {"), "{text}");
    assert!(minimized.len() < 80, "minimized: {minimized}");
    assert!(text.contains("case seed: cc "), "{text}");
    assert!(text.contains("replay: alloy-conformance fuzz --stdio"), "{text}");
    assert!(text.contains("--seed 3 --cases 60 --phase aggressive"), "{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.ends_with(" failed") && !last.ends_with(" 0 failed"), "{text}");
    // The same seed replays the same inputs, another seed draws others.
    let again = fuzz(
        "lax-arguments",
        &m,
        &["--cases", "60", "--seed", "3", "--phase", "aggressive"],
    );
    assert_eq!(failures(&stdout(&again)), failures(&text));
    let other = fuzz(
        "lax-arguments",
        &m,
        &["--cases", "60", "--seed", "4", "--phase", "aggressive"],
    );
    assert_ne!(failures(&stdout(&other)), failures(&text));
    assert!(running_with(&m).is_empty(), "left running: {:?}", running_with(&m));
}

#[test]
fn fuzz_fails_a_fake_that_exits_on_garbage_with_the_frame_that_killed_it() {
    let m = marker("exits");
    let out = fuzz(
        "exits-on-garbage",
        &m,
        &["--cases", "30", "--seed", "5", "--phase", "aggressive"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ aggressive/frames"), "{text}");
    assert!(text.contains("the server stopped answering after the case"), "{text}");
    // (The exit status may be read a moment after the pipe closed; it is not asserted.)
    assert!(text.contains("minimized input (after"), "{text}");
    assert!(running_with(&m).is_empty(), "left running: {:?}", running_with(&m));
}

#[test]
fn fuzz_reports_as_json_and_junit_with_the_closing_line_on_stderr() {
    let m = marker("formats");
    let out = fuzz(
        "lax-arguments",
        &m,
        &[
            "--cases",
            "20",
            "--seed",
            "9",
            "--phase",
            "aggressive",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["seed"], 9);
    let failed = report["failed"].as_u64().expect("a count");
    assert!(failed > 0, "{report}");
    let failure = report["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["failures"].as_array().cloned().unwrap_or_default())
        .next()
        .expect("a failure");
    assert!(
        failure["input"].as_str().is_some_and(|i| i.starts_with("tools/call ")),
        "{failure}"
    );
    assert!(
        failure["seed"].as_str().is_some_and(|s| s.starts_with("cc ")),
        "{failure}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!(" passed, {failed} failed")), "{err}");

    let out = fuzz("correct", &m, &["--cases", "20", "--seed", "9", "--format", "junit"]);
    assert!(out.status.success());
    let xml = String::from_utf8_lossy(&out.stdout);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")), "{xml}");
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")), "{xml}");
    assert!(running_with(&m).is_empty(), "left running: {:?}", running_with(&m));
}
