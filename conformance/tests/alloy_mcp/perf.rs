//! `alloy-conformance perf --quick` against the real `alloy-mcp` over every offered transport:
//! every figure is there (session churn over HTTP too), finite and consistent (percentiles in order, ratio = server / floor),
//! and a baseline built from that run's JSON with every figure 30% better makes `--baseline`
//! exit 1 naming each budgeted figure, while the run compared with itself passes. Timings are
//! never asserted: `--quick` checks the command works.

use crate::support::Server;
use alloy_conformance::perf::figures::{Figure, PerfRun};
use std::collections::BTreeSet;
use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alloy-conformance"))
}

fn sorted(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[0] <= w[1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perf_quick_gives_every_figure_and_a_better_baseline_fails_naming_what_regressed() {
    let server = Server::find().await;
    let transports = server.transports("perf_quick_gives_every_figure");
    let dir = std::env::temp_dir().join(format!("alloy-perf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run_file = dir.join("run.json");
    let names: Vec<&str> = transports.iter().map(|t| t.name()).collect();
    let out = cli()
        .args(["perf", "--quick", "--timeout", "30", "--transports", &names.join(",")])
        .arg("--json")
        .arg(&run_file)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let run = PerfRun::load(&run_file).expect("--json writes a run");
    assert!(run.settings.quick);

    for t in &names {
        let fig = |id: &str| -> &Figure {
            run.figures
                .iter()
                .find(|f| f.id == format!("{t}.{id}"))
                .unwrap_or_else(|| panic!("{t}.{id} is measured:\n{text}"))
        };
        for kind in ["ping", "tools_list", "tool"] {
            let stats: Vec<&Figure> = ["p50", "p90", "p95", "p99", "max"]
                .iter()
                .map(|s| fig(&format!("{kind}.{s}")))
                .collect();
            assert!(
                sorted(&stats.iter().map(|f| f.server).collect::<Vec<_>>()),
                "{t} {kind}: {stats:?}"
            );
            assert!(
                sorted(&stats.iter().map(|f| f.floor).collect::<Vec<_>>()),
                "{t} {kind}: {stats:?}"
            );
        }
        fig("throughput.calls_per_s");
        fig("cold_start.median");
        fig("peak_rss.VmHWM");
        if *t == "http" {
            // Session churn: the RSS after the sessions ended, next to the server's own before.
            let churn = fig("churn_rss.VmRSS");
            assert_eq!(
                churn.what,
                format!("after {} sessions ended", run.settings.counts.churn_sessions)
            );
            assert!(run.settings.counts.churn_sessions > 0, "{:?}", run.settings);
            assert!(text.contains("sessions held at once: RSS"), "{text}");
        }
    }
    for f in &run.figures {
        assert!(f.is_sound(), "{f:?}");
        assert!((f.ratio - f.server / f.floor).abs() < 1e-9 * f.ratio.max(1.0), "{f:?}");
    }
    assert_eq!(run.reference.len(), 2, "{:?}", run.reference);
    assert!(run.reference.iter().all(|r| r.value.is_finite() && r.value > 0.0));
    assert!(text.contains("ratio"), "{text}");

    // The same run as its own baseline: nothing moved.
    let same = cli()
        .args(["perf", "--from"])
        .arg(&run_file)
        .arg("--baseline")
        .arg(&run_file)
        .output()
        .expect("runs");
    let same_text = String::from_utf8_lossy(&same.stdout);
    assert!(same.status.success(), "{same_text}");
    assert!(same_text.contains("no figure moved past its budget"), "{same_text}");

    // Every figure 30% better in the baseline.
    let mut better = run.clone();
    for f in &mut better.figures {
        f.server *= if f.higher_is_better { 1.3 } else { 0.7 };
        f.ratio = f.server / f.floor;
    }
    let better_file = dir.join("better.json");
    std::fs::write(&better_file, serde_json::to_string(&better).expect("serializes")).expect("written");
    let cmp = cli()
        .args(["perf", "--from"])
        .arg(&run_file)
        .arg("--baseline")
        .arg(&better_file)
        .output()
        .expect("runs");
    let cmp_text = String::from_utf8_lossy(&cmp.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(cmp.status.code(), Some(1), "{cmp_text}");
    let regressed_line = cmp_text
        .lines()
        .find(|l| l.starts_with("regressed past budget: "))
        .unwrap_or_else(|| panic!("a closing line names the regressions:\n{cmp_text}"));
    let named: BTreeSet<&str> = regressed_line
        .trim_start_matches("regressed past budget: ")
        .split(", ")
        .collect();
    let budgeted: BTreeSet<&str> = run
        .figures
        .iter()
        .filter(|f| f.budget().is_some())
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(named, budgeted, "exactly the budgeted figures regress:\n{cmp_text}");
    for id in &budgeted {
        assert!(
            cmp_text.lines().any(|l| l.contains(id) && l.contains("REGRESSED")),
            "{id}: {cmp_text}"
        );
    }
}
