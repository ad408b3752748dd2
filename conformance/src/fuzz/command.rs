//! `alloy-conformance fuzz`: the generators and invariants of [`crate::fuzz`] against any MCP
//! server, its tools taken from its own `tools/list`. With no target flag it fuzzes the local
//! `alloy-mcp` (over `--transport stdio`, `http` or `sse`) against the embedded seeded mock, as
//! `run` does; `--stdio CMD` starts another server with the mock's URL and key, `--http URL` and
//! `--sse URL` reach a running one (the mock then listens on `--mock-addr`). Exit 0 when every
//! case held, 1 when an invariant broke, 2 when the run could not start.

use super::arguments::Rules;
use super::refusals::Refusals;
use super::schema::GenOptions;
use super::session::{Conn, Target};
use super::{FuzzOptions, Phase};
use crate::driver::stdio::CommandSpec;
use crate::driver::{Timeouts, Transport};
use crate::report::Format;
use crate::runner::{Launch, ServerArgs, mock_options};
use crate::scenario::Role;
use alloy_mock_api::MockAlloy;
use alloy_mock_api::model::OrgRole;
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The phases, as the flag names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PhaseArg {
    /// Schema-valid arguments for every tool called.
    Realistic,
    /// Near-misses, frame abuse and (for a server the harness starts) the memory check.
    Aggressive,
    /// Half the cases each.
    Both,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Tables and failures.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML.
    Junit,
}

/// `alloy-conformance fuzz`.
#[derive(Debug, clap::Args)]
pub struct FuzzArgs {
    /// The server under test.
    #[command(flatten)]
    pub target: ServerArgs,
    /// Cases in all (split between the phases, the tools and the frames).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub cases: u32,
    /// The run's seed; the same seed, cases and server replay the same inputs (default: from
    /// the clock, printed in the report).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Start no new case after this many seconds (cases not run are reported).
    #[arg(long, value_name = "SECS")]
    pub time_limit: Option<f64>,
    /// Which inputs: schema-valid arguments, near-misses and frame abuse, or both.
    #[arg(long, value_enum, default_value = "both")]
    pub phase: PhaseArg,
    /// Also call tools whose annotations say destructive (or do not say read-only or
    /// non-destructive). Never against data you care about.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Refusals of valid arguments the server may make (`<tool> <field> <example>  # reason`;
    /// default for the local alloy-mcp: fixtures/fuzz/alloy-mcp-refusals.txt).
    #[arg(long, value_name = "FILE")]
    pub allowed_refusals: Option<PathBuf>,
    /// The protocol revision asked for in `initialize` (default 2025-11-25; a server that
    /// speaks only an older one answers with it, and its tools then have no annotations, so
    /// only --allow-destructive calls them).
    #[arg(long, value_name = "VERSION")]
    pub protocol_version: Option<String>,
    /// The transport of the default run against the local alloy-mcp.
    #[arg(long, value_name = "T", default_value = "stdio")]
    pub transport: String,
    /// The alloy-mcp binary of the default run (default: next to this binary, then
    /// target/debug, target/release).
    #[arg(long, value_name = "PATH")]
    pub server: Option<PathBuf>,
    /// Where the mock API listens when fuzzing --http/--sse servers (a loopback address); start
    /// the server under test with ALLOY_API_URL pointing here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub mock_addr: SocketAddr,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Seconds to wait for start-up and the initialize answer.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub handshake_timeout: f64,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.001))
}

/// The command line that replays a run: the target, the seed and what shapes the cases.
fn replay_line(args: &FuzzArgs, seed: u64) -> String {
    let mut parts = vec!["alloy-conformance fuzz".to_string()];
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    match (&args.target.stdio, &args.target.http, &args.target.sse) {
        (Some(c), _, _) => parts.push(format!("--stdio {}", quote(c))),
        (_, Some(u), _) => parts.push(format!("--http {u}")),
        (_, _, Some(u)) => parts.push(format!("--sse {u}")),
        _ => parts.push(format!("--transport {}", args.transport)),
    }
    parts.push(format!("--seed {seed} --cases {}", args.cases));
    if args.phase != PhaseArg::Both {
        parts.push(format!("--phase {:?}", args.phase).to_lowercase());
    }
    if args.allow_destructive {
        parts.push("--allow-destructive".into());
    }
    if let Some(v) = &args.protocol_version {
        parts.push(format!("--protocol-version {v}"));
    }
    parts.join(" ")
}

/// Runs the command.
pub async fn command(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let timeouts = Timeouts {
        handshake: secs(args.handshake_timeout),
        request: secs(args.timeout),
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    // The mock holds seeded keys and accepts anything the fuzzer makes a server send: it
    // listens on loopback only.
    if !args.mock_addr.ip().is_loopback() {
        bail!(
            "--mock-addr {} is not a loopback address: the mock API listens on loopback only",
            args.mock_addr
        );
    }
    let remote = args.target.is_remote();
    let local = args.target.stdio.is_none() && !remote;
    let (mut opts, warning) = mock_options(remote.then_some(args.mock_addr));
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    opts.bind = remote.then_some(args.mock_addr);
    let mock = MockAlloy::start_with(opts)
        .await
        .with_context(|| format!("cannot start the mock API on {}", args.mock_addr))?;
    let (launch, what) = match args.target.launch() {
        Some(server) => server,
        None => {
            let server = crate::local::locate(args.server.as_deref(), true)?;
            if let Some(w) = crate::local::staleness_warning(&server) {
                eprintln!("warning: {w}");
            }
            let transport = Transport::parse(&args.transport)
                .with_context(|| format!("unknown transport `{}` (stdio, http, sse)", args.transport))?;
            let command = CommandSpec::new(server.to_string_lossy(), &[]);
            let launch = match transport {
                Transport::Stdio => Launch::Stdio(command),
                t => Launch::SpawnedHttp { command, transport: t },
            };
            (launch, format!("alloy-mcp over {transport}"))
        }
    };
    if remote {
        eprintln!(
            "mock Alloy API on {url}\n  the server under test must use ALLOY_API_URL={url} ALLOY_API_TOKEN={key}",
            url = mock.base_url(),
            key = mock.key(OrgRole::Owner)
        );
    }
    let refusals_path = match &args.allowed_refusals {
        Some(p) => Some(p.clone()),
        None if local => {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fuzz/alloy-mcp-refusals.txt");
            p.exists().then(|| {
                eprintln!("allowed refusals: {}", p.display());
                p
            })
        }
        None => None,
    };
    let refusals = match &refusals_path {
        Some(p) => Refusals::load(p)?,
        None => Refusals::default(),
    };
    let transport = launch.transport();
    // A server that speaks only an older revision answers with it; legacy SSE servers too.
    let version = args
        .protocol_version
        .clone()
        .unwrap_or_else(|| "2025-11-25".to_string());
    // Over HTTP every request is authenticated upstream (GET /api/v1/auth/me); that is the
    // transport's, not the tool's, call.
    let exempt = match transport {
        Transport::Stdio => Vec::new(),
        _ => vec![("GET".to_string(), "/api/v1/auth/me".to_string())],
    };
    let mock = Arc::new(mock);
    let options = FuzzOptions {
        cases: args.cases,
        seed,
        deadline: args.time_limit.map(|s| Instant::now() + secs(s)),
        phase: match args.phase {
            PhaseArg::Realistic => Phase::Realistic,
            PhaseArg::Aggressive => Phase::Aggressive,
            PhaseArg::Both => Phase::Both,
        },
        allow_destructive: args.allow_destructive,
        rules: Rules {
            refusals,
            upstream_statuses: None,
            exact_field: false,
            exempt,
            reset_after_unsafe: true,
        },
        generation: GenOptions {
            hints: super::hints::from_mock(&mock),
            break_formats: false,
        },
        memory: true,
    };
    let mut conn = Conn::new(Target {
        launch,
        mock,
        role: Role::default(),
        version,
        timeouts,
    });
    if let Some(url) = args.target.http.as_ref().or(args.target.sse.as_ref()) {
        wait_reachable(url, timeouts.handshake).await?;
    }
    if let Err(e) = conn.session().await {
        bail!("cannot start a session with {what}: {e}");
    }
    let report = super::run(&mut conn, &options, &what).await;
    conn.reset_session().await;
    let replay = replay_line(&args, seed);
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Junit => Format::Junit,
    };
    print!("{}", super::report::render(format, &report, &replay));
    if format != Format::Text {
        eprintln!("{}", super::report::closing_line(&report));
    }
    let (_, failed) = report.totals();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Waits (bounded) until `url`'s host accepts TCP connections: a server started by hand may
/// still be coming up.
async fn wait_reachable(url: &str, within: Duration) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("bad URL {url}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        if tokio::net::TcpStream::connect((host.as_str(), port)).await.is_ok() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{url} does not accept connections (start the server under test first)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: FuzzArgs,
    }

    #[test]
    fn the_replay_line_names_the_target_the_seed_and_what_shapes_the_cases() {
        let cli = Cli::parse_from(["x", "--stdio", "node it's.js", "--cases", "30", "--phase", "aggressive"]);
        assert_eq!(
            replay_line(&cli.args, 5),
            r"alloy-conformance fuzz --stdio 'node it'\''s.js' --seed 5 --cases 30 --phase aggressive"
        );
        let local = Cli::parse_from(["x", "--transport", "sse", "--allow-destructive"]);
        assert_eq!(
            replay_line(&local.args, 1),
            "alloy-conformance fuzz --transport sse --seed 1 --cases 500 --allow-destructive"
        );
        assert!(Cli::try_parse_from(["x", "--stdio", "a", "--http", "http://h"]).is_err());
    }
}
