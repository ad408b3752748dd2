//! The `alloy-mcp` binary: parse the configuration, check the token prefix (no network), check
//! the identity behind the token (`GET /api/v1/auth/me`), then serve MCP on stdio until stdin
//! closes, or with `--http ADDR` over HTTP until SIGINT/SIGTERM ([`alloy_mcp::http`]). Any
//! startup failure prints one line on stderr and exits with code 1. Logs go to stderr
//! (`RUST_LOG`, default `info`); stdout carries protocol messages only.

use alloy_mcp::api::ApiClient;
use alloy_mcp::config::Cli;
use alloy_mcp::errors::StartupError;
use alloy_mcp::http::HttpOptions;
use alloy_mcp::identity::{self, Caller};
use alloy_mcp::server::AlloyServer;
use alloy_mcp::stdio::{self, StdioOptions};
use alloy_mcp::tools::Selection;
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
    let api = ApiClient::new(&config.api_url, config.token.clone(), config.timeout)
        .map_err(|e| StartupError::Internal(format!("cannot build the HTTP client: {e}")))?;
    let me = identity::verify(&api).await?;
    tracing::info!(
        api = %config.api_url, user_id = %me.user_id, org_id = %me.org_id, role = %me.role,
        read_only = config.read_only, "identity verified"
    );
    let selection = Selection {
        read_only: config.read_only,
        toolsets: config.toolsets.clone(),
    };
    if let Some(http) = http {
        return Ok(alloy_mcp::http::serve(&config, api, &selection, http).await?);
    }
    let caller = Caller {
        api,
        identity: Arc::new(me),
    };
    let server = AlloyServer::new(caller, &selection)?;
    tracing::info!(tools = server.served_tools().len(), "serving MCP on stdio");
    let options = StdioOptions {
        drain: config.timeout * 2 + Duration::from_secs(6),
        ..StdioOptions::default()
    };
    stdio::serve_stdio(server, options)
        .await
        .map_err(|e| StartupError::Internal(format!("stdio failed: {e}")))?;
    tracing::info!("stdin closed; exiting");
    Ok(())
}

/// Logs to stderr only, filtered by `RUST_LOG` (default `info`), without colours.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}
