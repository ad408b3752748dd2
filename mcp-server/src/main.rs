//! The `alloy-mcp` binary: parse the configuration, check the token prefix (no network), check
//! the identity behind the token (`GET /api/v1/auth/me`), then serve MCP on stdio until stdin
//! closes, or with `--http ADDR` over HTTP until SIGINT/SIGTERM ([`alloy_mcp::transport::http`]). Any
//! startup failure prints one line on stderr and exits with code 1. Logs go to stderr
//! (`RUST_LOG`, default `info`); stdout carries protocol messages only. stdio runs on a
//! single-threaded runtime, HTTP on a multi-threaded one (`--http-threads`: 1 = single-threaded).

use alloy_mcp::config::Cli;
use alloy_mcp::config::StartupError;
use alloy_mcp::config::Threads;
use alloy_mcp::surface::server::{AlloyServer, ToolCatalog};
use alloy_mcp::surface::tools::Selection;
use alloy_mcp::transport::http::HttpOptions;
use alloy_mcp::transport::stdio::{self, StdioOptions};
use alloy_mcp::upstream::api::ApiClient;
use alloy_mcp::upstream::identity::{self, Caller};
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

/// jemalloc instead of the system allocator, with its background thread on: pages that fall
/// free are handed back to the OS within seconds (its decay time), so the memory of ended HTTP
/// sessions goes back instead of staying at the peak as it did with glibc's malloc, whose
/// per-thread arenas kept it (measured by `alloy-conformance perf`'s session churn).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    // stdio serves one client: one thread runs every task (the session, the tool calls, the
    // upstream connections), so a message never waits for another thread to wake up. HTTP
    // serves many sessions at once and uses every core.
    let mut builder = match cli.threads() {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::PerCore => tokio::runtime::Builder::new_multi_thread(),
        Threads::Exactly(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("alloy-mcp: internal error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, not a log record: this is what a user sees when the client shows stderr.
            eprintln!("alloy-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.into_config()?;
    // HTTP flags are checked before any network call, like the token prefix.
    let http = config.http.as_ref().map(HttpOptions::resolve).transpose()?;
    let selection = Selection {
        read_only: config.read_only,
        toolsets: config.toolsets.clone(),
        full_schemas: config.full_schemas,
    };
    // Built on a thread of its own while the key is checked and the client shakes hands.
    let catalog = ToolCatalog::start(&selection);
    let api = ApiClient::new(&config.api_url, config.token.clone(), config.timeout)
        .map_err(|e| StartupError::Internal(format!("cannot build the HTTP client: {e}")))?;
    let me = identity::verify(&api).await.map_err(StartupError::Identity)?;
    tracing::info!(
        api = %config.api_url, user_id = %me.user_id, org_id = %me.org_id, role = %me.role,
        read_only = config.read_only, "identity verified"
    );
    if let Some(http) = http {
        return Ok(alloy_mcp::transport::http::serve(api, catalog, http).await?);
    }
    let drain = api.deadlines().drain;
    let caller = Caller {
        api,
        identity: Arc::new(me),
    };
    let server = AlloyServer::with_catalog(caller, catalog);
    tracing::info!("serving MCP on stdio");
    let options = StdioOptions {
        drain,
        ..StdioOptions::default()
    };
    stdio::serve_stdio(server, options)
        .await
        .map_err(|e| StartupError::Internal(format!("stdio failed: {e}")))?;
    tracing::info!("stdin closed; exiting");
    Ok(())
}

/// Libraries whose debug and trace records carry message payloads (tool results hold new API
/// keys, upstream bodies hold anything): they log at `info` at most, whatever `RUST_LOG` says.
const PAYLOAD_LOGGERS: [&str; 7] = ["rmcp", "hyper", "hyper_util", "reqwest", "h2", "axum", "tower"];

/// Logs to stderr only, filtered by `RUST_LOG` (default `info`), without colours. No secret is
/// logged at any level: our own records name methods, tools, ids and sizes, never bodies, and
/// the libraries that would log payloads are capped (see [`PAYLOAD_LOGGERS`]).
fn init_logging() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for target in PAYLOAD_LOGGERS {
        if let Ok(cap) = format!("{target}=info").parse() {
            filter = filter.add_directive(cap);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}
