//! Launching: how the server under test is reached ([`Launch`]), the deterministic mock API
//! behind every case (fresh, or one shared instance reset per case), spawning a server with
//! the mock's URL and the case's key, HTTP servers on loopback ports below the ephemeral
//! ranges, and the bounded waits until a spawned server listens or a running one accepts
//! connections.

use crate::driver::http::HttpDriver;
use crate::driver::sse::SseDriver;
use crate::driver::stdio::{CommandSpec, StdioDriver};
use crate::driver::{Driver, DriverError, Incoming, Timeouts, Transport};
use crate::scenario::Role;
pub use crate::seeded::mock_options;
use alloy_mock_api::{MockAlloy, Store};
use anyhow::{Context as _, bail};
use std::time::Duration;

/// How the server under test is reached.
#[derive(Clone, Debug)]
pub enum Launch {
    /// Spawned per case; newline-delimited JSON-RPC on stdio.
    Stdio(CommandSpec),
    /// Spawned per case as `<command> --http 127.0.0.1:<free port>`, then reached over
    /// Streamable HTTP at `/mcp` (transport `Http`) or legacy SSE at `/sse` (transport `Sse`).
    SpawnedHttp {
        /// The server command (without `--http`).
        command: CommandSpec,
        /// `Http` or `Sse`.
        transport: Transport,
    },
    /// Already running (the user started it against the mock on a fixed address).
    Remote {
        /// MCP endpoint (`Http`) or event-stream URL (`Sse`).
        url: String,
        /// Bearer token; the seeded Owner key when `None`.
        token: Option<String>,
        /// `Http` or `Sse`.
        transport: Transport,
    },
}

impl Launch {
    /// The transport this launch speaks.
    pub fn transport(&self) -> Transport {
        match self {
            Launch::Stdio(_) => Transport::Stdio,
            Launch::SpawnedHttp { transport, .. } | Launch::Remote { transport, .. } => *transport,
        }
    }

    /// Whether the server is started by someone else (then one mock on a fixed address serves
    /// the whole run and is reset between cases).
    pub fn is_remote(&self) -> bool {
        matches!(self, Launch::Remote { .. })
    }
}

/// The server under test as `fuzz` and `verify` name it: one of `--stdio CMD`, `--http URL`,
/// `--sse URL`, with `--token` for the remote ones.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServerArgs {
    /// A server started by this command line (run by `sh -c`) over stdio; it gets
    /// ALLOY_API_URL and ALLOY_API_TOKEN of the mock API.
    #[arg(long, value_name = "CMD", conflicts_with_all = ["http", "sse"])]
    pub stdio: Option<String>,
    /// A running server's Streamable HTTP endpoint (e.g. http://127.0.0.1:3001/mcp); it must
    /// use the mock on --mock-addr.
    #[arg(long, value_name = "URL", conflicts_with = "sse")]
    pub http: Option<String>,
    /// A running server's legacy HTTP+SSE endpoint (e.g. http://127.0.0.1:3001/sse;
    /// handshake era only).
    #[arg(long, value_name = "URL")]
    pub sse: Option<String>,
    /// Bearer token for --http/--sse (default: a seeded key of the mock: the Owner's for
    /// `fuzz`, the recording's role's for `verify`).
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
}

impl ServerArgs {
    /// Whether the server is one someone else started (`--http` or `--sse`).
    pub fn is_remote(&self) -> bool {
        self.http.is_some() || self.sse.is_some()
    }

    /// The server these flags name (the first given) and how reports name it; `None` when
    /// none is given.
    pub fn launch(&self) -> Option<(Launch, String)> {
        let remote = |url: &String, transport| Launch::Remote {
            url: url.clone(),
            token: self.token.clone(),
            transport,
        };
        match (&self.stdio, &self.http, &self.sse) {
            (Some(cmd), _, _) => Some((Launch::Stdio(CommandSpec::shell(cmd)), format!("`{cmd}` over stdio"))),
            (_, Some(url), _) => Some((remote(url, Transport::Http), format!("{url} (Streamable HTTP)"))),
            (_, _, Some(url)) => Some((remote(url, Transport::Sse), format!("{url} (legacy SSE)"))),
            _ => None,
        }
    }
}

/// Replaces the store of a shared mock with a freshly seeded one (built by starting a second,
/// throwaway mock with the same options, so seeding follows the mock's own code), and empties
/// its journal.
pub async fn reset_mock(mock: &MockAlloy) -> anyhow::Result<()> {
    let (opts, _) = mock_options(None);
    let donor = MockAlloy::start_with(opts).await?;
    let store = donor.with_store(|s| std::mem::replace(s, Store::new(Default::default(), s.clock.clone())));
    mock.with_store(|s| *s = store);
    mock.take_journal();
    Ok(())
}

pub(crate) type Connected = (Box<dyn Driver>, Option<StdioDriver>);

pub(crate) async fn connect(
    launch: &Launch,
    mock: &MockAlloy,
    role: Role,
    timeouts: Timeouts,
) -> Result<Connected, (DriverError, Option<StdioDriver>)> {
    let key = role.key(mock.keys()).to_string();
    let with_env = |c: &CommandSpec| {
        c.clone()
            .with_env("ALLOY_API_URL", mock.base_url())
            .with_env("ALLOY_API_TOKEN", key.clone())
    };
    match launch {
        Launch::Stdio(command) => {
            let d = StdioDriver::spawn(&with_env(command), timeouts).map_err(|e| (e, None))?;
            Ok((Box::new(d), None))
        }
        Launch::SpawnedHttp { command, transport } => {
            // A server that exits before it listens (e.g. it lost its port to another process
            // after all) is started again on another port, twice at most.
            let mut attempt = 0;
            let (addr, process) = loop {
                attempt += 1;
                let port = free_port().map_err(|e| (e, None))?;
                let addr = format!("127.0.0.1:{port}");
                let mut spec = with_env(command);
                spec.args.push("--http".into());
                spec.args.push(addr.clone());
                let mut process = StdioDriver::spawn(&spec, timeouts).map_err(|e| (e, None))?;
                match wait_listening(&addr, &mut process, timeouts.handshake).await {
                    Ok(()) => break (addr, process),
                    Err(DriverError::ExitedBeforeListening { .. }) if attempt < 3 => continue,
                    Err(e) => return Err((e, Some(process))),
                }
            };
            let driver: Box<dyn Driver> = match transport {
                Transport::Sse => match SseDriver::connect(&format!("http://{addr}/sse"), Some(&key), timeouts).await {
                    Ok(d) => Box::new(d),
                    Err(e) => return Err((e, Some(process))),
                },
                _ => match HttpDriver::connect(&format!("http://{addr}/mcp"), Some(&key), timeouts) {
                    Ok(d) => Box::new(d),
                    Err(e) => return Err((e, Some(process))),
                },
            };
            Ok((driver, Some(process)))
        }
        Launch::Remote { url, token, transport } => {
            // A case that names a role acts with that role's key; others with the given token.
            let token = match token {
                Some(t) if role == Role::default() => t.clone(),
                _ => key,
            };
            let driver: Box<dyn Driver> = match transport {
                Transport::Sse => Box::new(
                    SseDriver::connect(url, Some(&token), timeouts)
                        .await
                        .map_err(|e| (e, None))?,
                ),
                _ => Box::new(HttpDriver::connect(url, Some(&token), timeouts).map_err(|e| (e, None))?),
            };
            Ok((driver, None))
        }
    }
}

/// Ports handed to spawned servers come from below every common ephemeral range (Linux
/// 32768-60999, BSD/macOS/Windows 49152-65535), so no socket bound to port 0 meanwhile (a mock
/// API, another server) can take the port between this check and the server's own bind; a
/// process-wide counter keeps concurrent cases of this run on different ports.
const SERVER_PORTS: std::ops::Range<u16> = 20_000..32_000;

fn free_port() -> Result<u16, DriverError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = u32::from(SERVER_PORTS.end - SERVER_PORTS.start);
    // Start at an offset that differs between processes (several harness runs at once).
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    let _ = NEXT.compare_exchange(u32::MAX, seed % span, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::SeqCst) % span;
        let port = SERVER_PORTS.start + offset as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(DriverError::Connect(format!(
        "no free loopback port in {}..{}",
        SERVER_PORTS.start, SERVER_PORTS.end
    )))
}

/// Waits (bounded) until something accepts TCP connections on `addr`, failing early when the
/// process exits.
async fn wait_listening(addr: &str, process: &mut StdioDriver, within: Duration) -> Result<(), DriverError> {
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(25));
    loop {
        tick.tick().await;
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(Incoming::Closed) = process.try_recv() {
            return Err(DriverError::ExitedBeforeListening { addr: addr.to_string() });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DriverError::Connect(format!(
                "nothing listens on {addr} after {} ms",
                within.as_millis()
            )));
        }
    }
}

/// Waits (bounded) until `url`'s host accepts TCP connections.
pub async fn wait_reachable(url: &str, within: Duration) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("bad URL {url}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut told = false;
    loop {
        tick.tick().await;
        if tokio::net::TcpStream::connect((host.as_str(), port)).await.is_ok() {
            return Ok(());
        }
        if !told {
            eprintln!("waiting up to {} s for {url} to accept connections", within.as_secs());
            told = true;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{url} does not accept connections (start the server under test first)");
        }
    }
}
