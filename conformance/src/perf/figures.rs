//! The figures of a `perf` run (what `--json FILE` writes and `--baseline FILE` reads), their
//! text table, and the comparison with a baseline.
//!
//! Every figure is a pair measured in the same run: the server's value and the floor's, and
//! their ratio `server / floor`. A baseline is compared by ratio, so a slower machine (where
//! the floor is slower too) is not a regression. Budgets (the change of the ratio allowed
//! before the command fails): throughput −10 %, p50 +10 %, p95 +15 %, p99 +20 %, peak RSS
//! +10 %, RSS after session churn +25 %. p90, the maximum and cold start are shown and not
//! budgeted (too noisy to fail on).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The version of the JSON format written by `--json`.
pub const FORMAT: u32 = 1;

/// One measured figure and its floor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable key: `<transport>.<what>.<stat>` (`stdio.tool.p50`, `http.throughput.calls_per_s`).
    pub id: String,
    /// `stdio` or `http`.
    pub transport: String,
    /// `ping`, `tools/list`, the tool's name, `throughput`, `cold start`, `peak RSS`.
    pub what: String,
    /// `p50`, `p90`, `p95`, `p99`, `max`, `calls/s`, `median`, `VmHWM`.
    pub stat: String,
    /// `µs`, `calls/s`, `ms`, `KiB`.
    pub unit: String,
    /// The server's value.
    pub server: f64,
    /// The floor's value, measured in the same run.
    pub floor: f64,
    /// `server / floor`.
    pub ratio: f64,
    /// Whether a larger value is better (throughput).
    pub higher_is_better: bool,
}

impl Figure {
    /// A figure with its ratio computed.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        transport: &str,
        key: &str,
        what: &str,
        stat: &str,
        unit: &str,
        server: f64,
        floor: f64,
        higher_is_better: bool,
    ) -> Figure {
        Figure {
            id: format!("{transport}.{key}.{}", stat.replace('/', "_per_")),
            transport: transport.to_string(),
            what: what.to_string(),
            stat: stat.to_string(),
            unit: unit.to_string(),
            server,
            floor,
            ratio: if floor > 0.0 { server / floor } else { f64::NAN },
            higher_is_better,
        }
    }

    /// The allowed relative change of the ratio, when the figure is budgeted.
    pub fn budget(&self) -> Option<f64> {
        match self.stat.as_str() {
            "p50" => Some(0.10),
            "p95" => Some(0.15),
            "p99" => Some(0.20),
            "calls/s" => Some(0.10),
            "VmHWM" => Some(0.10),
            // RSS after many sessions ended against RSS before them: allocator decay makes it
            // move more between runs than the peak, and what it guards against (memory kept
            // for good) moves it by multiples.
            "VmRSS" => Some(0.25),
            _ => None,
        }
    }

    /// Whether server, floor and ratio are finite and positive.
    pub fn is_sound(&self) -> bool {
        [self.server, self.floor, self.ratio]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }
}

/// The machine a run was measured on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available.
    pub cpus: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `std::env::consts::OS`/`ARCH`.
    pub os: String,
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            cpu_model,
            os: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// How many calls of each kind a run makes (the same names in its JSON).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Unmeasured calls of each kind first.
    pub warmup: usize,
    /// Rounds of sequential calls.
    pub rounds: usize,
    /// Sequential calls of each kind per round.
    pub calls: usize,
    /// Sessions (HTTP) or requests in flight (stdio) of the throughput run.
    pub concurrency: usize,
    /// Tool calls of each throughput round.
    pub throughput_calls: usize,
    /// Cold starts of the server and of the floor, each.
    pub cold_starts: usize,
    /// HTTP sessions opened, then ended, to see whether their memory returns (0: not measured;
    /// absent from runs stored before it existed).
    #[serde(default)]
    pub churn_sessions: usize,
    /// Seconds the memory may take to come back after those sessions ended.
    #[serde(default)]
    pub churn_settle_s: u64,
}

/// The counts a run used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The protocol revision of the handshake.
    pub protocol_version: String,
    /// The tool called.
    pub tool: String,
    /// Its arguments.
    pub arguments: serde_json::Value,
    /// The upstream path the floor GETs for each tool call (`none`: no GET).
    pub floor_path: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Whether `--quick` chose the counts (they check the command works, not timings).
    pub quick: bool,
}

/// A plain figure beside the run (no floor): the upstream GET on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// What was measured.
    pub what: String,
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
}

/// Everything one `perf` run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerfRun {
    /// [`FORMAT`].
    pub format: u32,
    /// What was measured.
    pub server: String,
    /// Where.
    pub machine: Machine,
    /// With which counts.
    pub settings: Settings,
    /// The figures, in table order.
    pub figures: Vec<Figure>,
    /// The upstream on its own.
    #[serde(default)]
    pub reference: Vec<Reference>,
    /// What was not measured, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl PerfRun {
    /// Reads a run written by `--json`; the error names the file and what is wrong.
    pub fn load(path: &Path) -> anyhow::Result<PerfRun> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let run: PerfRun = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a perf run written by `perf --json`", path.display()))?;
        if run.format != FORMAT {
            anyhow::bail!(
                "{} has format {}, this harness reads {FORMAT}: measure the baseline again",
                path.display(),
                run.format
            );
        }
        Ok(run)
    }

    /// The table of figures: value, floor, ratio.
    pub fn render(&self) -> String {
        let mut out = format!(
            "perf of {}\nmachine: {} CPUs, {} ({}); revision {}; tool {} {}\n",
            self.server,
            self.machine.cpus,
            self.machine.cpu_model,
            self.machine.os,
            self.settings.protocol_version,
            self.settings.tool,
            self.settings.arguments
        );
        out.push_str(&format!(
            "{} rounds of {} sequential calls after {} warm-up; throughput: {} calls at concurrency {}; {} cold starts{}\n\n",
            self.settings.counts.rounds,
            self.settings.counts.calls,
            self.settings.counts.warmup,
            self.settings.counts.throughput_calls,
            self.settings.counts.concurrency,
            self.settings.counts.cold_starts,
            if self.settings.quick {
                " (--quick: counts too small for timings)"
            } else {
                ""
            }
        ));
        out.push_str(&format!(
            "{:<6} {:<28} {:<8} {:>12} {:>12} {:>8}\n",
            "", "measurement", "stat", "server", "floor", "ratio"
        ));
        let mut last = (String::new(), String::new());
        for f in &self.figures {
            let (t, w) = if last == (f.transport.clone(), f.what.clone()) {
                (String::new(), String::new())
            } else {
                (f.transport.clone(), f.what.clone())
            };
            last = (f.transport.clone(), f.what.clone());
            out.push_str(&format!(
                "{:<6} {:<28} {:<8} {:>12} {:>12} {:>8}\n",
                t,
                w,
                f.stat,
                value(f.server, &f.unit),
                value(f.floor, &f.unit),
                format!("{:.2}", f.ratio)
            ));
        }
        if !self.reference.is_empty() {
            out.push_str("\nupstream on its own (plain keep-alive GET of the floor path):\n");
            for r in &self.reference {
                out.push_str(&format!("  {:<40} {}\n", r.what, value(r.value, &r.unit)));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }
}

/// `412.3 µs`, `5,870 calls/s`, `19.4 ms`, `19.1 MiB`.
pub fn value(v: f64, unit: &str) -> String {
    match unit {
        "µs" if v >= 10_000.0 => format!("{:.1} ms", v / 1000.0),
        "µs" => format!("{v:.0} µs"),
        "ms" => format!("{v:.1} ms"),
        "KiB" => format!("{:.1} MiB", v / 1024.0),
        "calls/s" => format!("{}/s", crate::cost::group(v.round() as u64)),
        other => format!("{v:.1} {other}"),
    }
}

/// One line of a baseline comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    /// The figure's id.
    pub id: String,
    /// Ratio to the floor in the baseline.
    pub baseline_ratio: f64,
    /// Ratio to the floor now.
    pub ratio: f64,
    /// Relative change of the ratio, signed so that positive is worse.
    pub worse_by: f64,
    /// The allowed change, when budgeted.
    pub budget: Option<f64>,
    /// Whether the change exceeds the budget.
    pub regressed: bool,
}

/// The comparison of a run with a baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// One line per figure found in both.
    pub movements: Vec<Movement>,
    /// Figures of the run the baseline lacks, and differences of settings.
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Compares `run` with `baseline` by ratio to the floor.
    pub fn of(run: &PerfRun, baseline: &PerfRun) -> Comparison {
        let mut warnings = Vec::new();
        let (a, b) = (&run.settings, &baseline.settings);
        if (&a.tool, &a.arguments, &a.protocol_version) != (&b.tool, &b.arguments, &b.protocol_version) {
            warnings.push(format!(
                "the baseline called {} {} under {}; this run {} {} under {}",
                b.tool, b.arguments, b.protocol_version, a.tool, a.arguments, a.protocol_version
            ));
        }
        if b.quick && !a.quick {
            warnings.push("the baseline was a --quick run: its figures are not timings".into());
        }
        let mut movements = Vec::new();
        for f in &run.figures {
            let Some(base) = baseline.figures.iter().find(|g| g.id == f.id) else {
                warnings.push(format!("{} is not in the baseline", f.id));
                continue;
            };
            if !f.is_sound() || !base.is_sound() {
                warnings.push(format!(
                    "{}: not compared (ratio {} now, {} in the baseline)",
                    f.id, f.ratio, base.ratio
                ));
                continue;
            }
            let change = f.ratio / base.ratio - 1.0;
            let worse_by = if f.higher_is_better { -change } else { change };
            let budget = f.budget();
            movements.push(Movement {
                id: f.id.clone(),
                baseline_ratio: base.ratio,
                ratio: f.ratio,
                worse_by,
                budget,
                regressed: budget.is_some_and(|b| worse_by > b),
            });
        }
        Comparison { movements, warnings }
    }

    /// The figures past their budget.
    pub fn regressions(&self) -> Vec<&Movement> {
        self.movements.iter().filter(|m| m.regressed).collect()
    }

    /// A readable table of what moved, regressions first marked.
    pub fn render(&self, baseline: &str) -> String {
        let mut out = format!("compared with baseline {baseline} (ratios to the floor; + is worse):\n");
        out.push_str(&format!(
            "  {:<34} {:>9} {:>9} {:>9} {:>8}  verdict\n",
            "figure", "baseline", "now", "change", "budget"
        ));
        for m in &self.movements {
            let verdict = match (m.regressed, m.budget) {
                (true, _) => "REGRESSED",
                (false, None) => "not budgeted",
                (false, Some(_)) if m.worse_by < 0.0 => "better",
                (false, Some(_)) => "ok",
            };
            out.push_str(&format!(
                "  {:<34} {:>9.2} {:>9.2} {:>8.1}% {:>8}  {verdict}\n",
                m.id,
                m.baseline_ratio,
                m.ratio,
                m.worse_by * 100.0,
                m.budget
                    .map(|b| format!("{:.0}%", b * 100.0))
                    .unwrap_or_else(|| "-".into()),
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
        let regressed = self.regressions();
        if regressed.is_empty() {
            out.push_str("no figure moved past its budget\n");
        } else {
            let names: Vec<&str> = regressed.iter().map(|m| m.id.as_str()).collect();
            out.push_str(&format!("regressed past budget: {}\n", names.join(", ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stdio `get_ticket` latency figure (lower is better).
    fn get_ticket(stat: &str, value: f64, floor: f64) -> Figure {
        Figure::new("stdio", "tool", "get_ticket", stat, "µs", value, floor, false)
    }

    /// The HTTP throughput figure (higher is better).
    fn throughput(value: f64, floor: f64) -> Figure {
        Figure::new(
            "http",
            "throughput",
            "throughput",
            "calls/s",
            "calls/s",
            value,
            floor,
            true,
        )
    }

    fn run(figures: Vec<Figure>) -> PerfRun {
        PerfRun {
            format: FORMAT,
            server: "s".into(),
            machine: Machine::this(),
            settings: Settings {
                protocol_version: "2025-11-25".into(),
                tool: "get_ticket".into(),
                arguments: serde_json::json!({}),
                floor_path: "/".into(),
                counts: Counts {
                    warmup: 1,
                    rounds: 1,
                    calls: 1,
                    concurrency: 1,
                    throughput_calls: 1,
                    cold_starts: 1,
                    churn_sessions: 0,
                    churn_settle_s: 0,
                },
                quick: false,
            },
            figures,
            reference: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn ratios_are_compared_so_a_uniformly_slower_machine_is_no_regression() {
        let base = run(vec![get_ticket("p50", 300.0, 180.0), throughput(6000.0, 20000.0)]);
        // Everything twice as slow, floor included.
        let slower = run(vec![get_ticket("p50", 600.0, 360.0), throughput(3000.0, 10000.0)]);
        let c = Comparison::of(&slower, &base);
        assert!(c.regressions().is_empty(), "{}", c.render("b"));
        assert_eq!(c.movements.len(), 2);
    }

    #[test]
    fn each_budget_flags_only_what_moved_past_it() {
        let base = run(vec![
            get_ticket("p50", 100.0, 100.0),
            get_ticket("p99", 100.0, 100.0),
            get_ticket("max", 100.0, 100.0),
            throughput(100.0, 100.0),
        ]);
        let now = run(vec![
            get_ticket("p50", 111.0, 100.0),
            get_ticket("p99", 119.0, 100.0),
            get_ticket("max", 900.0, 100.0),
            throughput(89.0, 100.0),
        ]);
        let c = Comparison::of(&now, &base);
        let ids: Vec<&str> = c.regressions().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, vec!["stdio.tool.p50", "http.throughput.calls_per_s"]);
        let text = c.render("b.json");
        assert!(
            text.contains("regressed past budget: stdio.tool.p50, http.throughput.calls_per_s"),
            "{text}"
        );
        assert!(text.contains("not budgeted"), "{text}");
    }

    #[test]
    fn units_read_naturally() {
        assert_eq!(value(109.4, "µs"), "109 µs");
        assert_eq!(value(19_400.0, "µs"), "19.4 ms");
        assert_eq!(value(19_560.0, "KiB"), "19.1 MiB");
        assert_eq!(value(5870.2, "calls/s"), "5,870/s");
    }
}
