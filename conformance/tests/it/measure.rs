//! `cost` and `perf` against the fake server, a server that is not alloy-mcp: every revision it
//! speaks is measured, the stateless one included, a silent server ends in an
//! error naming the timeout instead of a hang, and `perf` measures any server's tool (here one
//! without an upstream call, so the floor makes none either).

use crate::support::fake_bin;
use alloy_conformance::cost::{self, Target};
use alloy_conformance::driver::stdio::CommandSpec;
use alloy_conformance::measure::{HANDSHAKE_REVISIONS, STATELESS_REVISION};
use alloy_conformance::perf::figures::PerfRun;
use std::process::Command;
use std::time::Duration;

fn fake(mode: &str) -> Target {
    Target::Stdio(CommandSpec::new(fake_bin(), &[]).with_env("FAKE_MCP_MODE", mode))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_measures_every_revision_the_fake_speaks_in_both_eras() {
    let report = cost::measure(&fake("correct"), Duration::from_secs(20))
        .await
        .expect("the fake is measured");
    for rev in HANDSHAKE_REVISIONS {
        let r = report.revisions.iter().find(|r| r.revision == rev).expect("reported");
        assert!(r.offered, "{rev}: {:?}", r.note);
        let names: Vec<&str> = r.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["echo", "fetch_api"], "{rev}");
        let sum: u64 = r.tools.iter().map(|t| t.model_facing.bytes).sum();
        assert_eq!(sum, r.model_facing_total.bytes);
        assert_eq!(r.pages, 1);
        assert_eq!(r.prompts.as_ref().map(|p| p.items), Some(1));
        assert_eq!(r.resource_templates.as_ref().map(|p| p.items), Some(1));
    }
    // The fake is dual-era: 2026-07-28 is measured through `server/discover` and per-request
    // `_meta`, with the same tools.
    let stateless = report
        .revisions
        .iter()
        .find(|r| r.revision == STATELESS_REVISION)
        .expect("reported");
    assert!(stateless.offered, "{:?}", stateless.note);
    let names: Vec<&str> = stateless.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["echo", "fetch_api"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_of_a_silent_server_ends_in_an_error_naming_the_timeout() {
    let err = cost::measure(&fake("silent"), Duration::from_millis(500))
        .await
        .expect_err("nothing to measure");
    let text = format!("{err:#}");
    assert!(text.contains("no answer within 500 ms"), "{text}");
}

#[test]
fn perf_quick_measures_another_servers_tool_over_stdio() {
    let dir = std::env::temp_dir().join(format!("alloy-perf-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args(["perf", "--quick", "--timeout", "20", "--stdio", fake_bin()])
        .args(["--tool", "echo", "--args", r#"{"text":"hi"}"#, "--floor-path", "none"])
        .arg("--json")
        .arg(&file)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let run = PerfRun::load(&file).expect("a run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.settings.tool, "echo");
    for id in [
        "ping.p50",
        "tools_list.p99",
        "tool.p50",
        "throughput.calls_per_s",
        "cold_start.median",
        "peak_rss.VmHWM",
    ] {
        let f = run
            .figures
            .iter()
            .find(|f| f.id == format!("stdio.{id}"))
            .unwrap_or_else(|| panic!("stdio.{id}:\n{text}"));
        assert!(f.is_sound(), "{f:?}");
    }
    assert!(
        run.figures.iter().all(|f| f.transport == "stdio"),
        "--stdio measures stdio only"
    );
    assert!(run.reference.is_empty(), "no upstream GET with --floor-path none");
}

#[test]
fn perf_of_a_silent_server_exits_2_naming_what_did_not_answer() {
    let out = Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
        .args(["perf", "--quick", "--timeout", "0.5", "--stdio", fake_bin()])
        .env("FAKE_MCP_MODE", "silent")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("initialize") && err.contains("no answer within 500 ms"),
        "{err}"
    );
}
