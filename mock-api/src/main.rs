//! The `alloy-mock-api` binary: `alloy-mock-api serve` starts the mock Alloy API on a local
//! port with the bundled seed (or a seed directory, or none), prints the base URL and one API
//! key per seeded user as lines that can be pasted into a shell, and runs until Ctrl-C or
//! SIGTERM, then exits 0. Every startup failure (port in use, bad seed, bad flag value) is one
//! line on stderr and exit code 1.

use alloy_mock_api::model::OrgRole;
use alloy_mock_api::seed::Seed;
use alloy_mock_api::{JournalLimits, MockAlloy, MockOptions, RegistrationMode, Ts};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A faithful, stateful stand-in for the Alloy REST API.
#[derive(Debug, Parser)]
#[command(name = "alloy-mock-api", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the mock API until Ctrl-C or SIGTERM (the default command).
    Serve(ServeArgs),
}

/// How the admin listener is used; shown at the end of `serve --help`.
const ADMIN_HELP: &str = "\
Fault injection and the request journal (with --admin-bind ADDR, e.g. 127.0.0.1:3099):
  POST   /faults        put a fault in force; the newest matching fault wins. JSON body:
                          {\"kind\": \"status\", \"status\": 503}            that status, error envelope
                          {\"kind\": \"rate_limited\", \"retry_after\": 30}  429 with Retry-After
                          {\"kind\": \"delay\", \"delay_ms\": 2000}          the real answer, late
                          {\"kind\": \"malformed_body\"}                   200 with a body that is not JSON
                          {\"kind\": \"drop_connection\"}                  close without an answer
                        optional: \"method\": \"POST\", \"path_prefix\": \"/api/v1/tickets\" (or
                        \"path\" for one exact path), \"times\": 3 (then it leaves on its own)
  GET    /faults        the faults in force, with their ids
  DELETE /faults/ID     remove one fault; DELETE /faults removes all
  GET    /journal       the requests the API received (?last=N for the newest N)
  DELETE /journal       the same, then empty the journal
Example (the body is read as JSON whatever its Content-Type):
  curl -X POST http://127.0.0.1:3099/faults -d '{\"kind\":\"status\",\"status\":503,\"times\":2}'";

/// Options of `serve`; each can also come from the environment variable shown.
#[derive(Debug, Args)]
#[command(after_help = ADMIN_HELP)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the real one is printed).
    #[arg(long, env = "ALLOY_MOCK_BIND", default_value = "127.0.0.1:3000")]
    bind: SocketAddr,

    /// Seed directory holding `seed.json` (default: the seed bundled into this binary).
    #[arg(long, env = "ALLOY_MOCK_SEED", value_name = "DIR")]
    seed: Option<PathBuf>,

    /// Start empty, without any seed data (first-run onboarding is then open); wins over --seed.
    #[arg(long)]
    no_seed: bool,

    /// Deterministic mode: sequential ids and secrets, and a clock fixed at --fixed-now.
    #[arg(long, env = "ALLOY_DETERMINISTIC", value_parser = clap::builder::FalseyValueParser::new())]
    deterministic: bool,

    /// The fixed instant of deterministic mode (RFC 3339; default 2026-04-01T12:00:00.000Z); ignored
    /// without --deterministic.
    #[arg(long, env = "ALLOY_FIXED_NOW", value_name = "TS", value_parser = parse_ts)]
    fixed_now: Option<Ts>,

    /// Authenticated calls per token per minute; 0 turns rate limiting off.
    #[arg(long, env = "ALLOY_RATE_LIMIT_PER_MINUTE", value_name = "N", default_value_t = 600)]
    rate_limit_per_minute: u32,

    /// Public auth calls (register, login, refresh, onboard) per client per minute; 0 = off.
    #[arg(
        long,
        env = "ALLOY_AUTH_RATE_LIMIT_PER_MINUTE",
        value_name = "N",
        default_value_t = 20
    )]
    auth_rate_limit_per_minute: u32,

    /// Who may self-register.
    #[arg(long, env = "ALLOY_REGISTRATION", value_enum, default_value_t = Registration::InviteOnly)]
    registration: Registration,

    /// Most requests the journal keeps (the oldest leave first); 0 turns the journal off.
    #[arg(
        long,
        env = "ALLOY_MOCK_JOURNAL_MAX_ENTRIES",
        value_name = "N",
        default_value_t = JournalLimits::default().max_entries
    )]
    journal_max_entries: usize,

    /// Most bytes the journal holds in all (e.g. 32MiB, 512KiB, 1000000); 0 turns it off.
    #[arg(
        long,
        env = "ALLOY_MOCK_JOURNAL_MAX_BYTES",
        value_name = "SIZE",
        default_value_t = ByteSize(JournalLimits::default().max_bytes)
    )]
    journal_max_bytes: ByteSize,

    /// Body bytes kept per journal entry; a longer body is cut there, marked, and its size kept.
    #[arg(
        long,
        env = "ALLOY_MOCK_JOURNAL_MAX_BODY_BYTES",
        value_name = "SIZE",
        default_value_t = ByteSize(JournalLimits::default().max_body_bytes)
    )]
    journal_max_body_bytes: ByteSize,

    /// Serve the admin listener (fault injection, request journal; see below) on this address,
    /// which must differ from --bind. Off by default; it needs no key, so keep it on loopback.
    #[arg(long, env = "ALLOY_MOCK_ADMIN_BIND", value_name = "ADDR")]
    admin_bind: Option<SocketAddr>,
}

/// A byte count written as a number with an optional binary unit: `1000`, `512KiB`, `32MiB`,
/// `1GiB` (`K`, `M`, `G`, `KB`, `MB`, `GB` mean the same binary units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ByteSize(usize);

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => {
                return Err(format!(
                    "{s:?} is not a size: write bytes, or a number with KiB, MiB or GiB"
                ));
            }
        };
        let n: usize = digits
            .parse()
            .map_err(|_| format!("{s:?} is not a size: write bytes, or a number with KiB, MiB or GiB"))?;
        n.checked_mul(1usize << shift)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
            let size = 1usize << shift;
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// The registration modes of `ALLOY_REGISTRATION`.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "snake_case")]
enum Registration {
    /// Anyone may register.
    Open,
    /// Registration needs an invite code.
    InviteOnly,
    /// Registration is closed.
    Disabled,
}

fn parse_ts(s: &str) -> Result<Ts, String> {
    Ts::parse(s).ok_or_else(|| format!("{s:?} is not an RFC 3339 timestamp like 2026-04-01T12:00:00.000Z"))
}

fn main() -> ExitCode {
    let parsed = Cli::try_parse().and_then(|cli| match cli.command {
        Some(Command::Serve(args)) => Ok(args),
        // No subcommand: serve with the defaults (and whatever the environment sets).
        None => match Cli::try_parse_from(["alloy-mock-api", "serve"])?.command {
            Some(Command::Serve(args)) => Ok(args),
            None => Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
        },
    });
    let args = match parsed {
        Ok(args) => args,
        // Help and version go to stdout with exit 0, as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        // A bad flag or value is one line and exit 1, like every other startup failure.
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            return fail(&format!(
                "{} (see alloy-mock-api serve --help)",
                line.trim_start_matches("error: ")
            ));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("alloy-mock-api: {msg}");
    ExitCode::FAILURE
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let seed = match (&args.seed, args.no_seed) {
        (_, true) => None,
        (Some(dir), false) => Some(Seed::load_dir(dir)?),
        (None, false) => Some(Seed::bundled()?),
    };
    if args.fixed_now.is_some() && !args.deterministic {
        eprintln!("alloy-mock-api: note: --fixed-now / ALLOY_FIXED_NOW only applies with --deterministic; ignoring it");
    }
    let seed_name = seed.as_ref().map(|s| s.source().to_string());
    let opts = MockOptions {
        bind: Some(args.bind),
        deterministic: args.deterministic,
        fixed_now: args.fixed_now,
        seed,
        rate_limit_per_minute: args.rate_limit_per_minute,
        auth_rate_limit_per_minute: args.auth_rate_limit_per_minute,
        registration: match args.registration {
            Registration::Open => RegistrationMode::Open,
            Registration::InviteOnly => RegistrationMode::InviteOnly,
            Registration::Disabled => RegistrationMode::Disabled,
        },
        journal: JournalLimits {
            max_entries: args.journal_max_entries,
            max_bytes: args.journal_max_bytes.0,
            max_body_bytes: args.journal_max_body_bytes.0,
        },
        admin_bind: args.admin_bind,
        ..MockOptions::default()
    };
    let mock = MockAlloy::start_with(opts).await?;
    if let Some(a) = mock.admin_address()
        && !a.ip().is_loopback()
    {
        eprintln!(
            "alloy-mock-api: note: the admin listener on {a} needs no key: anyone who reaches it can inject faults \
             and read the journal"
        );
    }
    // Register the signal handlers before announcing readiness: a client that signals right
    // after reading the banner must reach them, not the default action.
    let shutdown = shutdown_signals()?;
    print_banner(&mock, args.deterministic, seed_name.as_deref())?;
    shutdown.wait().await?;
    eprintln!("alloy-mock-api: shutting down");
    drop(mock);
    Ok(())
}

/// Prints the base URL and the seeded keys; every line is valid shell (comments or exports).
fn print_banner(mock: &MockAlloy, deterministic: bool, seed: Option<&str>) -> anyhow::Result<()> {
    let url = mock.base_url();
    let mode = if deterministic { "deterministic" } else { "live clock" };
    let mut out = String::new();
    out.push_str(&format!(
        "# alloy-mock-api {} listening on {url} ({mode}; seed: {})\n",
        env!("CARGO_PKG_VERSION"),
        seed.unwrap_or("none")
    ));
    out.push_str(&format!("export ALLOY_API_URL={url}\n"));
    if let Some(admin) = mock.admin_address() {
        out.push_str(&format!(
            "# Admin (faults, journal): http://{admin}  (see alloy-mock-api serve --help)\n"
        ));
    }
    let keys = &mock.keys().keys;
    if let Some(owner) = mock.keys().entry(OrgRole::Owner) {
        out.push_str(&format!(
            "export ALLOY_API_TOKEN={}  # Owner {} ({})\n",
            owner.key, owner.email, owner.org_slug
        ));
    }
    if !keys.is_empty() {
        out.push_str("# Seeded API keys (role, email, org, key):\n");
        let width = keys.iter().map(|k| k.email.len()).max().unwrap_or(0);
        for k in keys {
            out.push_str(&format!(
                "#   {:<8} {:<width$}  {:<8} {}\n",
                k.role.as_str(),
                k.email,
                k.org_slug,
                k.key
            ));
        }
    }
    out.push_str("# Press Ctrl-C to stop.\n");
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// SIGINT and (on Unix) SIGTERM, registered as soon as this is created.
struct Shutdown {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

fn shutdown_signals() -> anyhow::Result<Shutdown> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Shutdown {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }
    #[cfg(not(unix))]
    Ok(Shutdown {})
}

impl Shutdown {
    /// Resolves on the first of the signals.
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
