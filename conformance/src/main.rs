//! The `alloy-conformance` command line.
//!
//! - `alloy-conformance run`: with no target flags, judges the local `alloy-mcp` binary (found
//!   next to this binary or under `target/{debug,release}`; nothing is built) over stdio and,
//!   when `alloy-mcp --help` lists `--http`, Streamable HTTP (a skipped transport is announced
//!   on stderr), each case against a fresh embedded mock API. `--stdio "CMD"`,
//!   `--http URL`, `--sse URL` judge another implementation against the same scenarios and
//!   expected transcripts. Prints a table per category and `N passed, N failed`; exits 1 on any
//!   failure, 2 when the run could not start.
//! - `alloy-conformance cost`: bytes and tokens of the tool surface ([`alloy_conformance::cost`]).
//! - `alloy-conformance perf`: speed over the wire next to a floor ([`alloy_conformance::perf`]).
//! - `alloy-conformance fuzz`: generated arguments and frame abuse against a server, judged by
//!   invariants ([`alloy_conformance::fuzz`]).
//! - `alloy-conformance sandbox`: the seeded mock API plus `alloy-mcp --http`, with keys and
//!   client configuration printed (and, with `--keyless-addr`, a front door that adds the
//!   Owner's key), until Ctrl-C or SIGTERM.
//! - `alloy-conformance record` / `replay` / `verify`: a client's own session as a case
//!   ([`alloy_conformance::record`]), served back to it ([`alloy_conformance::replay`]) and
//!   played against another server ([`alloy_conformance::verify`]).

use alloy_conformance::driver::stdio::CommandSpec;
use alloy_conformance::driver::{Timeouts, Transport};
use alloy_conformance::era::Era;
use alloy_conformance::expected_failures::ExpectedFailures;
use alloy_conformance::protocol;
use alloy_conformance::report::{self, Format};
use alloy_conformance::runner::{self, CaseOutcome, Fixtures, Launch, Progress};
use alloy_conformance::scenario;
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{MockAlloy, MockOptions};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "alloy-conformance",
    version,
    about = "Judges MCP servers for Alloy from outside the process."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the conformance scenarios against a server and reports per case.
    Run(Box<RunArgs>),
    /// Starts the seeded mock API and `alloy-mcp --http`, prints keys and client configuration,
    /// and runs until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Bytes and o200k tokens of a server's tool surface per protocol revision; `--budget`
    /// compares with a budget file.
    Cost(alloy_conformance::cost::CostArgs),
    /// Latency, throughput, cold start and peak RSS of a server over the wire, each next to a
    /// floor measured in the same run; `--baseline` compares with a stored run.
    Perf(Box<alloy_conformance::perf::PerfArgs>),
    /// A transparent proxy between an MCP client and a server (stdio or HTTP) that writes each
    /// session as a scenario and its expected transcript, ready for `run`, `replay`, `verify`.
    Record(Box<alloy_conformance::record::RecordArgs>),
    /// Serves a recording as an MCP server (stdio or HTTP), answering the client's requests
    /// with the recorded answers.
    Replay(alloy_conformance::replay::ReplayArgs),
    /// Plays a recording's client requests against a server and diffs the answers structurally.
    Verify(Box<alloy_conformance::verify::VerifyArgs>),
    /// Generated tool arguments (schema-valid and near-misses) and frame abuse against a
    /// server, its tools taken from its own tools/list; every broken invariant is reported with
    /// its minimized input and the seed that replays it.
    Fuzz(Box<alloy_conformance::fuzz::command::FuzzArgs>),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EraArg {
    /// `initialize` first (2024-11-05 … 2025-11-25).
    Handshake,
    /// Per-request `_meta`, `server/discover`, no session (2026-07-28).
    Stateless,
    /// Both.
    All,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SuiteArg {
    /// The scenario files, judged against their expected transcripts (Alloy-specific).
    Scenarios,
    /// The protocol-level rules (lifecycle, framing, discover, headers, caching hints, versions,
    /// removed methods, DNS rebinding, sessions), judged by spec assertions: any MCP server.
    Protocol,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Junit,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Judge a server started by this command line (run by `sh -c`), over stdio. It gets
    /// ALLOY_API_URL and ALLOY_API_TOKEN of the mock API.
    #[arg(long, value_name = "CMD")]
    stdio: Option<String>,
    /// Judge a running server's Streamable HTTP endpoint (e.g. http://127.0.0.1:3001/mcp).
    #[arg(long, value_name = "URL")]
    http: Option<String>,
    /// Judge a running server's legacy HTTP+SSE endpoint (e.g. http://127.0.0.1:3001/sse).
    #[arg(long, value_name = "URL")]
    sse: Option<String>,
    /// Bearer token for --http/--sse (default: the mock's seeded Owner key).
    #[arg(long, value_name = "T")]
    token: Option<String>,
    /// Where the mock API listens when judging --http/--sse servers; start the server under
    /// test with ALLOY_API_URL pointing here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    mock_addr: SocketAddr,
    /// How long to wait for a --http/--sse server to accept connections.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    wait_for_server: u64,
    /// The alloy-mcp binary for the default local run (default: next to this binary, then
    /// target/debug, target/release).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// Transports of the default local run (default: stdio and Streamable HTTP, HTTP only when
    /// `alloy-mcp --help` lists `--http`; a transport skipped that way is announced on stderr).
    /// Naming a transport here runs it whether or not the binary seems to offer it.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    transports: Option<Vec<String>>,
    /// Only scenarios whose id matches: a substring, or a glob with * and ? (`tickets/*__not_found`).
    #[arg(long, value_name = "PATTERN")]
    only: Option<String>,
    /// Wire eras to judge (default: every era the server offers, found by asking
    /// `server/discover` and then `initialize`; an era it does not offer is announced on stderr).
    #[arg(long, value_enum, value_name = "ERA")]
    era: Option<EraArg>,
    /// What to run: the scenario files (default) or the generic protocol suite, which judges
    /// any MCP server by the spec's rules rather than by Alloy transcripts.
    #[arg(long, value_enum, default_value = "scenarios")]
    suite: SuiteArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Strict baseline of known failures of the server under test (default for the local
    /// alloy-mcp: fixtures/expected-failures/alloy-mcp.txt, or alloy-mcp-protocol.txt with
    /// --suite protocol).
    #[arg(long, value_name = "FILE")]
    expected_failures: Option<PathBuf>,
    /// Folder holding scenarios/ and expected/ (default: this repository's fixtures/).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Seconds to wait for start-up and the initialize answer.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    handshake_timeout: f64,
    /// Cases run at once (each with its own mock API and server process); servers judged
    /// with --http/--sse share one mock and always run one case at a time.
    #[arg(long, value_name = "N", default_value_t = 4)]
    jobs: usize,
    /// No progress bar even on a terminal.
    #[arg(long)]
    no_progress: bool,
    /// Also write every actual transcript to DIR/<transport>/<category>/<tool>__<case>.snap
    /// (insta format: to inspect, or to review as expected transcripts of a new server).
    #[arg(long, value_name = "DIR")]
    write_actual: Option<PathBuf>,
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Address of the mock API.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    api_addr: SocketAddr,
    /// Address of alloy-mcp's HTTP transport.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3001")]
    mcp_addr: SocketAddr,
    /// The alloy-mcp binary (default: next to this binary, then target/debug, target/release).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// Also listen here and forward to alloy-mcp with the Owner's key added, for clients that
    /// cannot send an Authorization header (e.g. the official MCP conformance suite).
    #[arg(long, value_name = "ADDR")]
    keyless_addr: Option<SocketAddr>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("alloy-conformance: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(*args).await,
            Command::Sandbox(args) => sandbox(args).await,
            Command::Cost(args) => {
                alloy_conformance::measure::interruptible(alloy_conformance::cost::command(args)).await
            }
            Command::Perf(args) => {
                alloy_conformance::measure::interruptible(alloy_conformance::perf::command(*args)).await
            }
            Command::Record(args) => alloy_conformance::record::command(*args).await,
            Command::Replay(args) => alloy_conformance::replay::command(args).await,
            Command::Verify(args) => {
                alloy_conformance::measure::interruptible(alloy_conformance::verify::command(*args)).await
            }
            Command::Fuzz(args) => {
                alloy_conformance::measure::interruptible(alloy_conformance::fuzz::command::command(*args)).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("alloy-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.001))
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let timeouts = Timeouts {
        handshake: secs(args.handshake_timeout),
        request: secs(args.timeout),
    };
    let fixtures = match &args.fixtures {
        Some(dir) => Fixtures::under(dir.clone()),
        None => Fixtures::repository(),
    };

    let mut launches = Vec::new();
    if let Some(cmd) = &args.stdio {
        launches.push(Launch::Stdio(CommandSpec::shell(cmd)));
    }
    if let Some(url) = &args.http {
        launches.push(Launch::Remote {
            url: url.clone(),
            token: args.token.clone(),
            transport: Transport::Http,
        });
    }
    if let Some(url) = &args.sse {
        launches.push(Launch::Remote {
            url: url.clone(),
            token: args.token.clone(),
            transport: Transport::Sse,
        });
    }
    let local = launches.is_empty();
    if local {
        launches = local_launches(&args, timeouts).await?;
    }
    // The local alloy-mcp is judged against its own baseline (the server's known gaps, each
    // with its reason) unless another file is named.
    let baseline_path = match &args.expected_failures {
        Some(p) => Some(p.clone()),
        None if local => {
            let name = match args.suite {
                SuiteArg::Scenarios => "alloy-mcp.txt",
                SuiteArg::Protocol => "alloy-mcp-protocol.txt",
            };
            let p = fixtures.scenarios.join("..").join("expected-failures").join(name);
            p.exists().then(|| {
                eprintln!("baseline: {}", p.display());
                p
            })
        }
        None => None,
    };
    let baseline = match &baseline_path {
        Some(p) => Some(ExpectedFailures::load(p)?),
        None => None,
    };

    let (_, warning) = runner::mock_options(None);
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let shared = if args.suite == SuiteArg::Scenarios && launches.iter().any(Launch::is_remote) {
        Some(start_shared_mock(&args).await?)
    } else {
        None
    };
    for l in &launches {
        if let Launch::Remote { url, .. } = l {
            runner::wait_reachable(url, Duration::from_secs(args.wait_for_server)).await?;
        }
    }
    let eras = eras_to_judge(args.era, &launches, shared.as_ref(), timeouts).await?;

    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    // The bar counts finished cases (several run at once) and names the last one.
    let (mut total, mut done) = (0usize, 0usize);
    let mut progress = |p: Progress<'_>| {
        if !show_progress {
            return;
        }
        match p {
            Progress::Started { total: t, .. } => total = t,
            Progress::Finished(o) => {
                done += 1;
                let width = 30;
                let filled = done * width / total.max(1);
                let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
                let mut err = std::io::stderr();
                let _ = write!(
                    err,
                    "\r\x1b[2K[{bar}] {done}/{total} {} [{} {}]",
                    o.id, o.transport, o.era
                );
                let _ = err.flush();
            }
        }
    };
    let (mut outcomes, known): (Vec<CaseOutcome>, std::collections::BTreeSet<String>) = match args.suite {
        SuiteArg::Scenarios => {
            let options = runner::RunOptions {
                eras: &eras,
                only: args.only.as_deref(),
                shared: shared.as_ref(),
                timeouts,
                jobs: args.jobs,
            };
            let outcomes = runner::run_all(&fixtures, &launches, options, &mut progress).await?;
            let known = scenario::load_dir(&fixtures.scenarios)?
                .into_iter()
                .map(|s| s.id)
                .collect();
            (outcomes, known)
        }
        SuiteArg::Protocol => {
            let outcomes = protocol::run_suite(
                &launches,
                &eras,
                args.only.as_deref(),
                timeouts,
                args.jobs,
                &mut progress,
            )
            .await;
            (outcomes, protocol::rule_ids())
        }
    };
    if show_progress {
        eprint!("\r\x1b[2K");
    }

    if let Some(dir) = &args.write_actual
        && args.suite == SuiteArg::Scenarios
    {
        let scenarios = scenario::load_dir(&fixtures.scenarios)?;
        for o in &outcomes {
            if let Some(s) = scenarios.iter().find(|s| s.id == o.id) {
                alloy_conformance::expected::write(&dir.join(o.transport.name()), s, o.era, &o.transcript.to_value())?;
            }
        }
    }
    let mut problems = Vec::new();
    if let Some(b) = &baseline {
        problems = b.apply(&mut outcomes, &known);
    }
    if outcomes.is_empty() {
        problems.push(match &args.only {
            Some(p) => format!("no case matches --only {p}"),
            None => "no case ran".to_string(),
        });
    }
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Junit => Format::Junit,
    };
    print!("{}", report::render(format, &outcomes, &problems));
    let summary = report::summary(&outcomes, &problems);
    if format != Format::Text {
        eprintln!("{}", report::closing_line(summary));
    }
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The default target: the local alloy-mcp over stdio and, when it offers it, Streamable HTTP.
async fn local_launches(args: &RunArgs, timeouts: Timeouts) -> anyhow::Result<Vec<Launch>> {
    let server = alloy_conformance::local::locate(args.server.as_deref(), true)?;
    if let Some(w) = alloy_conformance::local::staleness_warning(&server) {
        eprintln!("warning: {w}");
    }
    let command = CommandSpec::new(server.to_string_lossy(), &[]);
    let names = match &args.transports {
        Some(names) => names.clone(),
        None => {
            let offered = alloy_conformance::local::probe(&server, timeouts.handshake).await?;
            let mut names = vec![Transport::Stdio.name().to_string()];
            if offered.offers(Transport::Http) {
                names.push(Transport::Http.name().to_string());
            } else if let Some((_, why)) = offered.missing.iter().find(|(t, _)| *t == Transport::Http) {
                eprintln!("SKIPPED transport http: {why}; judging stdio only");
            }
            names
        }
    };
    names
        .iter()
        .map(|name| {
            let transport =
                Transport::parse(name).with_context(|| format!("unknown transport `{name}` (stdio, http, sse)"))?;
            Ok(match transport {
                Transport::Stdio => Launch::Stdio(command.clone()),
                t => Launch::SpawnedHttp {
                    command: command.clone(),
                    transport: t,
                },
            })
        })
        .collect()
}

/// The eras named by `--era`, or every era the server offers (asked once, on the first launch
/// that can speak both); an era it does not offer is announced.
async fn eras_to_judge(
    asked: Option<EraArg>,
    launches: &[Launch],
    shared: Option<&MockAlloy>,
    timeouts: Timeouts,
) -> anyhow::Result<Vec<Era>> {
    match asked {
        Some(EraArg::Handshake) => return Ok(vec![Era::Handshake]),
        Some(EraArg::Stateless) => return Ok(vec![Era::Stateless]),
        Some(EraArg::All) => return Ok(Era::ALL.to_vec()),
        None => {}
    }
    let Some(launch) = launches.iter().find(|l| l.transport().speaks(Era::Stateless)) else {
        return Ok(vec![Era::Handshake]);
    };
    let offered = runner::offered_eras(launch, shared, timeouts).await;
    for (era, why) in &offered.missing {
        eprintln!("SKIPPED era {era}: {why}");
    }
    if offered.eras.is_empty() {
        bail!(
            "the server answered neither server/discover nor initialize usefully; name an era with --era to judge it anyway"
        );
    }
    Ok(offered.eras)
}

/// The mock for servers someone else started: on a fixed address, reset before every case.
async fn start_shared_mock(args: &RunArgs) -> anyhow::Result<MockAlloy> {
    let (opts, _) = runner::mock_options(Some(args.mock_addr));
    let mock = MockAlloy::start_with(opts)
        .await
        .with_context(|| format!("cannot start the mock API on {}", args.mock_addr))?;
    eprintln!(
        "mock Alloy API on {url}\n  the server under test must use ALLOY_API_URL={url} ALLOY_API_TOKEN={key}",
        url = mock.base_url(),
        key = mock.key(OrgRole::Owner)
    );
    Ok(mock)
}

async fn sandbox(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let (mut opts, warning) = runner::mock_options(Some(args.api_addr));
    // A sandbox is for people: real clock and random secrets, same seed.
    opts.deterministic = false;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let mock = MockAlloy::start_with(MockOptions { ..opts })
        .await
        .with_context(|| format!("cannot start the mock API on {}", args.api_addr))?;
    let api_url = mock.base_url();
    let owner = mock.key(OrgRole::Owner).to_string();
    println!("Mock Alloy API: {api_url}");
    println!("API keys (one per role, primary org):");
    for role in [
        OrgRole::Owner,
        OrgRole::Admin,
        OrgRole::Member,
        OrgRole::Reporter,
        OrgRole::Viewer,
    ] {
        let key = mock.key(role);
        println!(
            "  {:<9} {}",
            role.as_str(),
            if key.is_empty() { "(none seeded)" } else { key }
        );
    }

    let server = alloy_conformance::local::locate(args.server.as_deref(), true);
    let mut child = match &server {
        Ok(path) => {
            let child = tokio::process::Command::new(path)
                .arg("--http")
                .arg(args.mcp_addr.to_string())
                .env("ALLOY_API_URL", &api_url)
                .env("ALLOY_API_TOKEN", &owner)
                .stdin(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot start {}", path.display()))?;
            Some(child)
        }
        Err(e) => {
            println!(
                "\nalloy-mcp is not running: {e:#}\nThe mock API keeps running; start a server against it yourself."
            );
            None
        }
    };
    if let Ok(path) = server.as_ref() {
        let mcp_url = format!("http://{}/mcp", args.mcp_addr);
        println!(
            "\nalloy-mcp (HTTP): {mcp_url}   (legacy SSE: http://{}/sse)",
            args.mcp_addr
        );
        println!("\nClient configuration (Streamable HTTP):");
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"mcpServers": {"alloy": {
                "type": "http", "url": mcp_url, "headers": {"Authorization": format!("Bearer {owner}")}}}}))?
        );
        println!("\nClient configuration (stdio):");
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"mcpServers": {"alloy": {
                "command": path.display().to_string(),
                "env": {"ALLOY_API_URL": api_url, "ALLOY_API_TOKEN": owner}}}}))?
        );
    }
    if let (Some(addr), Ok(_)) = (args.keyless_addr, server.as_ref()) {
        let listener = alloy_conformance::keyproxy::bind(addr).await?;
        tokio::spawn(alloy_conformance::keyproxy::serve(
            listener,
            args.mcp_addr,
            owner.clone(),
        ));
        println!("\nWithout a key (the Owner's is added): http://{addr}/mcp");
    }
    println!("\nRunning; Ctrl-C or SIGTERM stops everything.");
    let exited = async {
        match child.as_mut() {
            Some(c) => c.wait().await.ok(),
            None => std::future::pending().await,
        }
    };
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminated => {}
            }
        } => {
            if let Some(c) = child.as_mut() {
                let _ = c.kill().await;
            }
            Ok(ExitCode::SUCCESS)
        }
        status = exited => {
            eprintln!("alloy-mcp exited ({}); stopping", status.map(|s| s.to_string()).unwrap_or_default());
            Ok(ExitCode::from(1))
        }
    }
}
