//! `alloy-conformance perf`: any MCP server measured over the wire, each figure next to a floor
//! measured in the same run on the same machine, and compared with a stored baseline by ratio to
//! that floor (so a slower machine is not a regression).
//!
//! Per transport (stdio; Streamable HTTP): c=1 latency percentiles of `ping`, `tools/list` and a
//! chosen tool call (rounds of sequential calls after a warm-up, the median of the rounds'
//! percentiles), tool calls per second at `--concurrency` (HTTP: that many sessions at once;
//! stdio: that many requests in flight on the one session), cold start (spawn to `initialize`
//! answered) and peak RSS (`VmHWM`, sampled from `/proc`) of a spawned server. The floor is
//! `perf-floor` (`src/bin/perf-floor.rs`): a minimal synchronous responder over the same pipe or
//! HTTP, answering with the bytes the server answered and making one plain keep-alive GET of
//! `--floor-path` to the same upstream for each tool call. The upstream GET on its own is
//! reported beside the table.
//!
//! Bounded: every wait by `--timeout`, the whole run by `--max-seconds`, the counts by flag
//! limits; loopback only (the embedded mock, spawned servers on 127.0.0.1; a `--http` URL must
//! be loopback); every spawned process is killed when it is no longer needed, on failure and on
//! Ctrl-C.

pub mod figures;
pub mod http;
pub mod load;
pub mod stats;
pub mod stdio;

use crate::driver::Transport;
use crate::driver::stdio::CommandSpec;
use crate::measure::HANDSHAKE_REVISIONS;
use crate::perf::figures::{Comparison, Counts, Figure, Machine, PerfRun, Reference, Settings};
use crate::perf::load::{Frames, Kind, Measured, Plan};
use crate::perf::stats::Percentiles;
use alloy_mock_api::MockAlloy;
use alloy_mock_api::model::OrgRole;
use anyhow::{Context, bail};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `alloy-conformance perf` flags.
#[derive(clap::Args, Debug)]
pub struct PerfArgs {
    /// Measure a server started by this command line (run by `sh -c`) over stdio. It gets
    /// ALLOY_API_URL and ALLOY_API_TOKEN of the embedded mock API.
    #[arg(long, value_name = "CMD", conflicts_with_all = ["http", "from"])]
    pub stdio: Option<String>,
    /// Measure a running server's Streamable HTTP endpoint on this machine
    /// (http://127.0.0.1:PORT/mcp); start it with ALLOY_API_URL pointing at --mock-addr.
    #[arg(long, value_name = "URL", conflicts_with = "from")]
    pub http: Option<String>,
    /// Bearer token for --http (default: the mock's seeded Owner key).
    #[arg(long, value_name = "T", requires = "http")]
    pub token: Option<String>,
    /// Where the mock API listens for a --http server.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub mock_addr: SocketAddr,
    /// How long to wait for a --http server to accept connections.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub wait_for_server: u64,
    /// The alloy-mcp binary of the default run (default: next to this binary, then
    /// target/debug, target/release).
    #[arg(long, value_name = "PATH")]
    pub server: Option<PathBuf>,
    /// Transports of the default run (default: stdio, and http when `alloy-mcp --help` lists
    /// `--http`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub transports: Option<Vec<String>>,
    /// The tool timed (and called at concurrency).
    #[arg(long, value_name = "NAME", default_value = "get_ticket")]
    pub tool: String,
    /// Its arguments, a JSON object.
    #[arg(long, value_name = "JSON", default_value = r#"{"ticket_id":"WEB-1"}"#)]
    pub args: String,
    /// The upstream path the floor GETs for each tool call (and the reference GET); `none` for a
    /// tool that makes no upstream call.
    #[arg(long, value_name = "PATH", default_value = "/api/v1/tickets/WEB-1")]
    pub floor_path: String,
    /// Protocol revision of the handshake (one with `initialize` and `ping`).
    #[arg(long, value_name = "REV", default_value = "2025-11-25")]
    pub protocol_version: String,
    /// Unmeasured calls of each kind first [default: 200; --quick 5].
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Rounds of sequential calls (and of throughput) [default: 3; --quick 1].
    #[arg(long, value_name = "N")]
    pub rounds: Option<usize>,
    /// Sequential calls of each kind per round [default: 2000; --quick 30].
    #[arg(long, value_name = "N")]
    pub calls: Option<usize>,
    /// Sessions (HTTP) or requests in flight (stdio) of the throughput rounds [default: 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Tool calls per throughput round [default: 4000; --quick 40].
    #[arg(long, value_name = "N")]
    pub throughput_calls: Option<usize>,
    /// Cold starts of the server and of the floor, each [default: 10; --quick 2].
    #[arg(long, value_name = "N")]
    pub cold_starts: Option<usize>,
    /// HTTP sessions opened (each with `initialize` and one tool call) and then ended with
    /// DELETE, to see whether the server's memory comes back; 0 skips it [default: 500;
    /// --quick 10].
    #[arg(long, value_name = "N")]
    pub churn_sessions: Option<usize>,
    /// Seconds the server's RSS may take to come back within 10% of what it was before those
    /// sessions [default: 30; --quick 2].
    #[arg(long, value_name = "SECS")]
    pub churn_settle: Option<u64>,
    /// Small counts: checks that the command works and produces every figure, not timings.
    #[arg(long)]
    pub quick: bool,
    /// Write the figures as JSON to FILE (a baseline for later runs).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Compare with a run stored by --json; exit 1 when a ratio to the floor moved past its
    /// budget (throughput -10%, p50 +10%, p95 +15%, p99 +20%, peak RSS +10%, RSS after session
    /// churn +25%).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Do not measure: read the run from FILE (written by --json), e.g. to compare it with
    /// --baseline.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The perf-floor binary (default: next to this binary, or $ALLOY_PERF_FLOOR_BIN).
    #[arg(long, value_name = "PATH")]
    pub floor: Option<PathBuf>,
    /// Seconds to wait for each answer and each start-up.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Seconds the whole measurement may take before it stops with an error.
    #[arg(long, value_name = "SECS", default_value_t = 1200)]
    pub max_seconds: u64,
}

/// How to start the floor.
#[derive(Clone, Debug)]
pub struct FloorSpec {
    /// The `perf-floor` binary.
    pub binary: PathBuf,
    /// The upstream base URL.
    pub upstream: String,
    /// The Bearer key of the upstream GET.
    pub token: String,
    /// The path GETed for each tool call; `None` for a tool that makes no upstream call.
    pub path: Option<String>,
}

impl FloorSpec {
    /// The floor's command line answering with the results in `answers`.
    pub fn command(&self, answers: &Path) -> CommandSpec {
        let answers = answers.to_string_lossy();
        let mut args = vec!["--answers", &answers];
        if let Some(path) = &self.path {
            args.extend([
                "--upstream",
                &self.upstream,
                "--token",
                &self.token,
                "--get",
                path,
                "--get-on",
                Kind::Tool.method(),
            ]);
        }
        CommandSpec::new(self.binary.to_string_lossy(), &args)
    }
}

/// Finds `perf-floor`: `explicit`, `$ALLOY_PERF_FLOOR_BIN`, or next to the running executable
/// (its folder, and `target/<profile>` for a test binary in `target/<profile>/deps`).
pub fn locate_floor(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let name = format!("perf-floor{}", std::env::consts::EXE_SUFFIX);
    let mut candidates: Vec<PathBuf> = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ALLOY_PERF_FLOOR_BIN").map(PathBuf::from))
        .into_iter()
        .collect();
    if candidates.is_empty()
        && let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join(&name));
        if dir.ends_with("deps")
            && let Some(up) = dir.parent()
        {
            candidates.push(up.join(&name));
        }
    }
    if let Some(found) = candidates.iter().find(|c| c.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|c| format!("  {}", c.display())).collect();
    bail!(
        "the floor binary perf-floor is not built; looked in:\n{}\nbuild it with `cargo build -p alloy-conformance` (same profile as this binary)",
        looked.join("\n")
    )
}

/// The results the floor answers with, as a JSON file that is removed on drop.
pub struct AnswersFile {
    path: PathBuf,
}

impl AnswersFile {
    /// Writes `answers` to a fresh file in the temp folder.
    pub fn write(answers: &serde_json::Map<String, Value>) -> anyhow::Result<AnswersFile> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "alloy-perf-answers-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, Value::Object(answers.clone()).to_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(AnswersFile { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for AnswersFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The floor's answers from the server's: `initialize`'s result and one result per
/// [`Kind::ALL`]. A tool result with `isError: true` is refused (timing a failure says nothing
/// about the tool), as is a `tools/list` without tools.
pub fn floor_answers(init: Value, results: Vec<Value>) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut answers = serde_json::Map::new();
    answers.insert("initialize".into(), init);
    for (kind, result) in Kind::ALL.into_iter().zip(results) {
        match kind {
            Kind::Tool if result.get("isError").and_then(Value::as_bool) == Some(true) => bail!(
                "the tool call answered isError: {}; pick --tool/--args that succeed against the mock",
                crate::measure::preview(result.to_string().as_bytes())
            ),
            Kind::ToolsList if !result.get("tools").is_some_and(Value::is_array) => {
                bail!("tools/list answered without a tools array")
            }
            _ => {}
        }
        answers.insert(kind.method().into(), result);
    }
    Ok(answers)
}

/// Counts after defaults, `--quick` and limits.
fn settings(args: &PerfArgs) -> anyhow::Result<Settings> {
    let pick =
        |given: Option<usize>, normal: usize, quick: usize| given.unwrap_or(if args.quick { quick } else { normal });
    let arguments: Value =
        serde_json::from_str(&args.args).with_context(|| format!("--args {} is not JSON", args.args))?;
    if !arguments.is_object() {
        bail!("--args must be a JSON object (the tool's arguments), got {}", args.args);
    }
    if !HANDSHAKE_REVISIONS.contains(&args.protocol_version.as_str()) {
        bail!(
            "--protocol-version {}: perf speaks the handshake revisions {}",
            args.protocol_version,
            HANDSHAKE_REVISIONS.join(", ")
        );
    }
    if !args.floor_path.starts_with('/') && args.floor_path != "none" {
        bail!(
            "--floor-path must start with / (a path on the mock API) or be `none`, got {}",
            args.floor_path
        );
    }
    let s = Settings {
        protocol_version: args.protocol_version.clone(),
        tool: args.tool.clone(),
        arguments,
        floor_path: args.floor_path.clone(),
        counts: Counts {
            warmup: pick(args.warmup, 200, 5),
            rounds: pick(args.rounds, 3, 1),
            calls: pick(args.calls, 2000, 30),
            concurrency: pick(args.concurrency, 8, 4),
            throughput_calls: pick(args.throughput_calls, 4000, 40),
            cold_starts: pick(args.cold_starts, 10, 2),
            churn_sessions: pick(args.churn_sessions, 500, 10),
            churn_settle_s: args.churn_settle.unwrap_or(if args.quick { 2 } else { 30 }),
        },
        quick: args.quick,
    };
    let within = |flag: &str, v: usize, lo: usize, hi: usize| {
        if v < lo || v > hi {
            bail!("--{flag} {v}: between {lo} and {hi}");
        }
        Ok(())
    };
    within("warmup", s.counts.warmup, 0, 1_000_000)?;
    within("rounds", s.counts.rounds, 1, 100)?;
    within("calls", s.counts.calls, 1, 1_000_000)?;
    within("concurrency", s.counts.concurrency, 1, 256)?;
    within(
        "throughput-calls",
        s.counts.throughput_calls,
        s.counts.concurrency,
        10_000_000,
    )?;
    within("cold-starts", s.counts.cold_starts, 1, 1000)?;
    within("churn-sessions", s.counts.churn_sessions, 0, 100_000)?;
    within("churn-settle", s.counts.churn_settle_s as usize, 0, 600)?;
    Ok(s)
}

/// The figures of one transport's measurement.
pub fn figures_of(transport: Transport, m: &Measured, s: &Settings) -> Vec<Figure> {
    let t = transport.name();
    let mut out = Vec::new();
    for (kind, srv, flr) in &m.latency {
        let what = match kind {
            Kind::Tool => s.tool.as_str(),
            other => other.method(),
        };
        let stat = |name: &str, f: fn(&Percentiles) -> f64| {
            Figure::new(t, kind.key(), what, name, "µs", f(srv), f(flr), false)
        };
        out.push(stat("p50", |p| p.p50));
        out.push(stat("p90", |p| p.p90));
        out.push(stat("p95", |p| p.p95));
        out.push(stat("p99", |p| p.p99));
        out.push(stat("max", |p| p.max));
    }
    if let Some((srv, flr)) = m.throughput {
        let what = match transport {
            Transport::Stdio => format!("{} ({} in flight)", s.tool, s.counts.concurrency),
            _ => format!("{} ({} sessions)", s.tool, s.counts.concurrency),
        };
        out.push(Figure::new(
            t,
            "throughput",
            &what,
            "calls/s",
            "calls/s",
            srv,
            flr,
            true,
        ));
    }
    if let Some((srv, flr)) = m.cold_start {
        out.push(Figure::new(
            t,
            "cold_start",
            "cold start",
            "median",
            "ms",
            srv,
            flr,
            false,
        ));
    }
    if let Some((srv, flr)) = m.peak_rss {
        out.push(Figure::new(t, "peak_rss", "peak RSS", "VmHWM", "KiB", srv, flr, false));
    }
    if let Some((after, before)) = m.churn_rss {
        let what = format!("after {} sessions ended", s.counts.churn_sessions);
        out.push(Figure::new(t, "churn_rss", &what, "VmRSS", "KiB", after, before, false));
    }
    out
}

/// The upstream on its own: c=1 GET latency and GET/s at the plan's concurrency.
async fn upstream_reference(base: &str, token: &str, path: &str, plan: &Plan) -> anyhow::Result<Vec<Reference>> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let client = || {
        reqwest::Client::builder()
            .tcp_nodelay(true)
            .timeout(plan.timeout)
            .build()
            .context("cannot build an HTTP client")
    };
    async fn get(c: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<()> {
        let resp = c.get(url).bearer_auth(token).send().await?;
        let status = resp.status();
        resp.bytes().await?;
        if !status.is_success() {
            bail!("GET {url} answered {status}: set --floor-path to a path the mock serves");
        }
        Ok(())
    }
    let c = client()?;
    for _ in 0..plan.counts.warmup {
        get(&c, &url, token).await?;
    }
    let mut samples = Vec::with_capacity(plan.counts.calls);
    for i in 0..plan.counts.calls {
        if i % 64 == 0 {
            plan.check()?;
        }
        let start = Instant::now();
        get(&c, &url, token).await?;
        samples.push(start.elapsed().as_nanos() as u64);
    }
    let p = Percentiles::of(&mut samples).context("no samples")?;
    let (each, extra) = (
        plan.counts.throughput_calls / plan.counts.concurrency,
        plan.counts.throughput_calls % plan.counts.concurrency,
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..plan.counts.concurrency {
        let (c, url, token) = (client()?, url.clone(), token.to_string());
        let n = each + usize::from(i < extra);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                get(&c, &url, &token).await?;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await.context("a GET task failed")??;
    }
    let per_s = plan.counts.throughput_calls as f64 / start.elapsed().as_secs_f64();
    Ok(vec![
        Reference {
            what: format!("GET {path} c=1 p50"),
            value: p.p50,
            unit: "µs".into(),
        },
        Reference {
            what: format!("GET {path} at concurrency {}", plan.counts.concurrency),
            value: per_s,
            unit: "calls/s".into(),
        },
    ])
}

/// Whether `url`'s host is a loopback address or `localhost`.
fn is_loopback_url(url: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("--http {url} is not a URL"))?;
    let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--http {url}: perf sends load only to this machine (127.0.0.0/8, [::1], localhost)");
    }
    Ok(parsed)
}

async fn wait_reachable(url: &reqwest::Url, within: Duration) -> anyhow::Result<()> {
    let host = url
        .host_str()
        .unwrap_or("127.0.0.1")
        .trim_matches(['[', ']'])
        .to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let deadline = Instant::now() + within;
    loop {
        if tokio::net::TcpStream::connect((host.as_str(), port)).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} does not accept connections (start the server under test first)");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Measures every transport asked for and returns the run.
pub async fn measure_run(args: &PerfArgs) -> anyhow::Result<PerfRun> {
    let settings = settings(args)?;
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.001, 3600.0));
    let plan = Plan {
        version: settings.protocol_version.clone(),
        frames: Frames::new(&settings.tool, &settings.arguments),
        counts: settings.counts,
        timeout,
        deadline: Instant::now() + Duration::from_secs(args.max_seconds),
    };
    let floor_binary = locate_floor(args.floor.as_deref())?;

    // The mock: on a fixed address for a server started by someone else, else anywhere. Its
    // journal is kept short: a run makes tens of thousands of requests.
    let remote = match &args.http {
        Some(url) => Some(is_loopback_url(url)?),
        None => None,
    };
    let (mut opts, warning) = crate::runner::mock_options(remote.as_ref().map(|_| args.mock_addr));
    opts.journal.max_entries = 64;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let mock = MockAlloy::start_with(opts).await.with_context(|| {
        format!(
            "cannot start the mock API{}",
            if remote.is_some() {
                format!(" on {}", args.mock_addr)
            } else {
                String::new()
            }
        )
    })?;
    let key = mock.key(OrgRole::Owner).to_string();
    let floor = FloorSpec {
        binary: floor_binary,
        upstream: mock.base_url(),
        token: key.clone(),
        path: (settings.floor_path != "none").then(|| settings.floor_path.clone()),
    };

    enum Job {
        Stdio(CommandSpec),
        Http(http::HttpTarget),
    }
    let mut jobs = Vec::new();
    let server_name;
    let mut token = key.clone();
    if let Some(url) = &remote {
        eprintln!(
            "mock Alloy API on {u}\n  the server under test must use ALLOY_API_URL={u} ALLOY_API_TOKEN={key}",
            u = mock.base_url()
        );
        wait_reachable(url, Duration::from_secs(args.wait_for_server)).await?;
        if let Some(t) = &args.token {
            token = t.clone();
        }
        server_name = format!("{url} (Streamable HTTP)");
        jobs.push(Job::Http(http::HttpTarget::Remote(url.to_string())));
    } else {
        let env = |c: CommandSpec| {
            c.with_env("ALLOY_API_URL", mock.base_url())
                .with_env("ALLOY_API_TOKEN", key.clone())
        };
        if let Some(cmd) = &args.stdio {
            server_name = format!("{cmd} (stdio)");
            jobs.push(Job::Stdio(env(CommandSpec::shell(cmd))));
        } else {
            let binary = crate::local::locate(args.server.as_deref(), true)?;
            if let Some(w) = crate::local::staleness_warning(&binary) {
                eprintln!("warning: {w}");
            }
            let names = match &args.transports {
                Some(n) => n.clone(),
                None => {
                    let offered = crate::local::probe(&binary, timeout).await?;
                    let mut n = vec!["stdio".to_string()];
                    if offered.offers(Transport::Http) {
                        n.push("http".into());
                    } else {
                        eprintln!("SKIPPED transport http: `alloy-mcp --help` lists no --http");
                    }
                    n
                }
            };
            let spec = env(CommandSpec::new(binary.to_string_lossy(), &[]));
            for name in &names {
                match Transport::parse(name) {
                    Some(Transport::Stdio) => jobs.push(Job::Stdio(spec.clone())),
                    Some(Transport::Http) => jobs.push(Job::Http(http::HttpTarget::Spawn(spec.clone()))),
                    _ => bail!("--transports {name}: perf measures stdio and http"),
                }
            }
            server_name = binary.display().to_string();
        }
    }

    let mut run = PerfRun {
        format: figures::FORMAT,
        server: server_name,
        machine: Machine::this(),
        settings: settings.clone(),
        figures: Vec::new(),
        reference: match &floor.path {
            Some(path) => upstream_reference(&mock.base_url(), &key, path, &plan)
                .await
                .context("the upstream reference GET")?,
            None => Vec::new(),
        },
        notes: Vec::new(),
    };
    for job in jobs {
        let (transport, measured) = match job {
            Job::Stdio(spec) => {
                let (floor, plan) = (floor.clone(), plan.clone());
                let m = tokio::task::spawn_blocking(move || stdio::measure(&spec, &floor, &plan))
                    .await
                    .context("the stdio measurement thread failed")?
                    .context("stdio")?;
                (Transport::Stdio, m)
            }
            Job::Http(target) => (
                Transport::Http,
                http::measure(&target, &token, &floor, &plan).await.context("http")?,
            ),
        };
        run.figures.extend(figures_of(transport, &measured, &settings));
        run.notes.extend(measured.notes);
    }
    drop(mock);
    Ok(run)
}

/// The `perf` command: measure (or read `--from`), print, write `--json`, compare with
/// `--baseline` (exit 1 past a budget). Errors are the caller's exit 2.
pub async fn command(args: PerfArgs) -> anyhow::Result<ExitCode> {
    let baseline = match &args.baseline {
        Some(p) => Some(PerfRun::load(p)?),
        None => None,
    };
    let run = match &args.from {
        Some(p) => PerfRun::load(p)?,
        None => measure_run(&args).await?,
    };
    print!("{}", run.render());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&run)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    let unsound: Vec<&str> = run
        .figures
        .iter()
        .filter(|f| !f.is_sound())
        .map(|f| f.id.as_str())
        .collect();
    if !unsound.is_empty() {
        eprintln!(
            "warning: figures without a finite positive value: {}",
            unsound.join(", ")
        );
    }
    if let (Some(base), Some(path)) = (&baseline, &args.baseline) {
        let c = Comparison::of(&run, base);
        print!("\n{}", c.render(&path.display().to_string()));
        if !c.regressions().is_empty() {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: PerfArgs,
    }

    fn parse(flags: &[&str]) -> PerfArgs {
        Cli::try_parse_from(std::iter::once("perf").chain(flags.iter().copied()))
            .expect("flags parse")
            .args
    }

    #[test]
    fn quick_counts_are_small_and_explicit_flags_win() {
        let s = settings(&parse(&["--quick", "--calls", "7"])).expect("valid");
        assert!(s.quick && s.counts.rounds == 1 && s.counts.calls == 7 && s.counts.throughput_calls < 100);
        let s = settings(&parse(&[])).expect("valid");
        assert_eq!(
            (
                s.counts.warmup,
                s.counts.rounds,
                s.counts.calls,
                s.counts.concurrency,
                s.counts.throughput_calls
            ),
            (200, 3, 2000, 8, 4000)
        );
    }

    #[test]
    fn bad_flags_are_refused_naming_the_flag() {
        let err = |flags: &[&str]| format!("{:#}", settings(&parse(flags)).expect_err("refused"));
        assert!(err(&["--args", "[1]"]).contains("--args must be a JSON object"));
        assert!(err(&["--args", "{"]).contains("--args { is not JSON"));
        assert!(err(&["--protocol-version", "2026-07-28"]).contains("--protocol-version"));
        assert!(err(&["--concurrency", "0"]).contains("--concurrency 0"));
        assert!(err(&["--concurrency", "8", "--throughput-calls", "4"]).contains("--throughput-calls 4"));
        assert!(err(&["--floor-path", "tickets"]).contains("--floor-path"));
    }

    #[test]
    fn only_loopback_servers_are_measured() {
        assert!(is_loopback_url("http://127.0.0.1:3001/mcp").is_ok());
        assert!(is_loopback_url("http://[::1]:3001/mcp").is_ok());
        assert!(is_loopback_url("http://localhost:3001/mcp").is_ok());
        let err = format!(
            "{:#}",
            is_loopback_url("http://10.0.0.5:3001/mcp").expect_err("refused")
        );
        assert!(err.contains("only to this machine"), "{err}");
    }

    #[test]
    fn a_failing_tool_is_refused_as_a_floor_answer() {
        let ok = floor_answers(
            serde_json::json!({}),
            vec![
                serde_json::json!({}),
                serde_json::json!({"tools": []}),
                serde_json::json!({"content": []}),
            ],
        )
        .expect("valid");
        assert_eq!(ok.len(), 4);
        let err = floor_answers(
            serde_json::json!({}),
            vec![
                serde_json::json!({}),
                serde_json::json!({"tools": []}),
                serde_json::json!({"isError": true}),
            ],
        )
        .expect_err("refused");
        assert!(err.to_string().contains("isError"), "{err}");
    }
}
