//! Command line and environment. Every setting is a flag with an environment variable behind
//! it; a flag wins over its variable (contract §5.1 "Configuration"). [`Cli::into_config`]
//! checks what can be checked without the network, in particular the API token prefix, so a
//! bad key never leaves the machine.

use crate::surface::tools::Toolset;
use crate::upstream::api::ApiToken;
use crate::upstream::identity::IdentityError;
use clap::{ArgAction, Parser};
use std::collections::BTreeSet;
use std::time::Duration;

/// Why the server refused to start. `Display` is the one line printed on stderr; it never
/// contains the API token.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// No token configured.
    #[error(
        "missing API token: set ALLOY_API_TOKEN (or pass --api-token) to an Alloy API key starting with alloy_live_ or alloy_test_"
    )]
    MissingToken,
    /// The token lacks both documented prefixes.
    #[error(
        "invalid API token: ALLOY_API_TOKEN must start with alloy_live_ or alloy_test_ (an Alloy API key, not a password or session token)"
    )]
    InvalidToken,
    /// The token holds a line break, a space or another character a header cannot carry.
    #[error(
        "invalid API token: ALLOY_API_TOKEN contains a line break, space or other character that an API key never has (was a second line or a quote pasted with it?)"
    )]
    UnsendableToken,
    /// No API URL configured.
    #[error("missing API URL: set ALLOY_API_URL (or pass --api-url), e.g. http://localhost:3000")]
    MissingUrl,
    /// The API URL cannot be used.
    #[error("invalid API URL {url:?} in ALLOY_API_URL: {reason}")]
    InvalidUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The identity check failed (`GET /api/v1/auth/me`).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A local problem (HTTP client construction, schema compilation, stdio).
    #[error("internal error: {0}")]
    Internal(String),
}

/// `alloy-mcp`: the command line. `Debug` redacts the token.
#[derive(Parser)]
#[command(
    name = "alloy-mcp",
    version,
    about = "MCP server for the Alloy project tracker: tools, prompts and resources over stdio or HTTP, proxied to the Alloy REST API.",
    long_about = "MCP server for the Alloy project tracker.\n\nWith no flags it serves MCP (newline-delimited JSON-RPC) on stdin/stdout and exits when stdin closes. With --http ADDR it serves Streamable HTTP at /mcp and /, and legacy HTTP+SSE at /sse, to many clients at once; every HTTP request must carry its own Alloy API key (Authorization: Bearer ...). Logs go to stderr; set RUST_LOG to change the level (default info).\n\nBefore serving, the API token's prefix is checked and the identity behind it is fetched from GET /api/v1/auth/me; any failure ends the process with exit code 1 and one line on stderr."
)]
pub struct Cli {
    /// Base URL of the Alloy API, e.g. http://localhost:3000.
    #[arg(long, env = "ALLOY_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// Alloy API key (alloy_live_… or alloy_test_…). Prefer the environment variable: flags are visible to other local users.
    #[arg(long, env = "ALLOY_API_TOKEN", value_name = "KEY", hide_env_values = true)]
    pub api_token: Option<String>,

    /// Seconds one upstream call may take, retries included.
    #[arg(long = "timeout", env = "ALLOY_MCP_TIMEOUT_SECS", value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout_secs: u64,

    /// Serve only read-only tools: write tools are not listed and calls to them are refused like unknown tools.
    #[arg(long, env = "ALLOY_MCP_READ_ONLY", action = ArgAction::SetTrue)]
    pub read_only: bool,

    /// Comma-separated tool categories to serve (connectivity is always on; default: all).
    #[arg(long, env = "ALLOY_MCP_TOOLSETS", value_name = "LIST", value_delimiter = ',', value_parser = ToolsetParser)]
    pub toolsets: Vec<Toolset>,

    /// List each tool with the full input schema the server checks arguments against (every pattern, format and bound; about twice the tokens) instead of the short form written for models. For clients that validate arguments themselves and for schema-driven testing.
    #[arg(long, env = "ALLOY_MCP_FULL_SCHEMAS", action = ArgAction::SetTrue)]
    pub full_schemas: bool,

    /// Serve MCP over HTTP on this address (e.g. 127.0.0.1:3001, or 0.0.0.0:3001 for every interface; port 0 picks a free port) instead of stdio. Each request must carry its own Alloy API key.
    #[arg(long = "http", env = "ALLOY_MCP_HTTP_ADDR", value_name = "ADDR")]
    pub http: Option<String>,

    /// HTTP: the URL clients reach this server at (behind a proxy: the proxy's URL). Default: http://BIND-ADDRESS, with 0.0.0.0 and :: shown as localhost.
    #[arg(long, env = "ALLOY_MCP_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// HTTP: the OAuth issuer named in the discovery documents. Default: the API URL.
    #[arg(long, env = "ALLOY_MCP_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,

    /// HTTP: comma-separated browser origins allowed to call the server (scheme://host, scheme://host:port, scheme://host:* for any port; * = every origin). Default: loopback origins and the public URL's origin.
    #[arg(long, env = "ALLOY_MCP_ALLOWED_ORIGINS", value_name = "LIST")]
    pub allowed_origins: Option<String>,

    /// HTTP: comma-separated extra Host header values to accept (host or host:port; * = any). Loopback names, the bind address and the public URL's host are always accepted.
    #[arg(long, env = "ALLOY_MCP_ALLOWED_HOSTS", value_name = "LIST")]
    pub allowed_hosts: Option<String>,

    /// HTTP: seconds after which an idle session (no request, no message) is closed.
    #[arg(long = "session-idle", env = "ALLOY_MCP_SESSION_IDLE_SECS", value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub session_idle_secs: u64,

    /// HTTP: seconds a client has to send a request's headers, counted from when its connection can send one; a connection silent that long (also between requests) is closed.
    #[arg(long = "header-timeout", env = "ALLOY_MCP_HEADER_TIMEOUT_SECS", value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,

    /// HTTP: seconds a client has to send a whole request body (408 after).
    #[arg(long = "body-timeout", env = "ALLOY_MCP_BODY_TIMEOUT_SECS", value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// HTTP: open connections one client address may hold (more are answered 429 and closed); 0 = no cap. Behind a reverse proxy every client shares the proxy's address: raise it.
    #[arg(
        long = "max-connections-per-ip",
        env = "ALLOY_MCP_MAX_CONNECTIONS_PER_IP",
        value_name = "N",
        default_value_t = 64
    )]
    pub max_connections_per_ip: usize,

    /// HTTP: threads that serve sessions; 1 runs every session on one thread (no hand-offs between threads: the lowest latency and memory), 0 = one per CPU core.
    #[arg(long = "http-threads", env = "ALLOY_MCP_HTTP_THREADS", value_name = "N", default_value_t = HTTP_THREADS_DEFAULT,
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub http_threads: u16,
}

/// The default of `--http-threads`.
pub const HTTP_THREADS_DEFAULT: u16 = 0;

/// The threads that run the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// One thread runs every task (stdio, or `--http-threads 1`).
    One,
    /// One worker per CPU core (`--http-threads 0`, the HTTP default).
    PerCore,
    /// This many workers.
    Exactly(usize),
}

/// Parses one `--toolsets` entry like clap's own enum parser (case-insensitive, the valid ids
/// listed in `--help` and in the error), after trimming the spaces of `tickets, sprints`.
#[derive(Clone, Copy, Debug)]
struct ToolsetParser;

impl clap::builder::TypedValueParser for ToolsetParser {
    type Value = Toolset;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Toolset, clap::Error> {
        let trimmed = value
            .to_str()
            .map_or_else(|| value.to_owned(), |v| v.trim().to_lowercase().into());
        clap::builder::EnumValueParser::<Toolset>::new().parse_ref(cmd, arg, &trimmed)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let values = Toolset::all().iter().filter_map(clap::ValueEnum::to_possible_value);
        Some(Box::new(values))
    }
}

impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("api_url", &self.api_url)
            .field("api_token", &self.api_token.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("read_only", &self.read_only)
            .field("toolsets", &self.toolsets)
            .field("full_schemas", &self.full_schemas)
            .field("http", &self.http)
            .field("public_url", &self.public_url)
            .field("issuer", &self.issuer)
            .field("allowed_origins", &self.allowed_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("session_idle_secs", &self.session_idle_secs)
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("http_threads", &self.http_threads)
            .finish()
    }
}

/// Validated settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Base URL of the API, without a trailing slash.
    pub api_url: String,
    /// The API key of the stdio session.
    pub token: ApiToken,
    /// The deadline of one upstream call, retries included.
    pub timeout: Duration,
    /// Whether write tools are hidden and refused.
    pub read_only: bool,
    /// The tool categories to serve; `None` = all.
    pub toolsets: Option<BTreeSet<Toolset>>,
    /// Whether `tools/list` carries the full input schemas instead of the short ones.
    pub full_schemas: bool,
    /// HTTP mode (`--http`), checked later by [`crate::transport::http::HttpOptions::resolve`]; `None` = stdio.
    pub http: Option<crate::transport::http::HttpFlags>,
}

impl Cli {
    /// Whether `--http` (or `ALLOY_MCP_HTTP_ADDR`) asks for HTTP mode; blank means stdio.
    pub fn serves_http(&self) -> bool {
        self.http.as_deref().is_some_and(|a| !a.trim().is_empty())
    }

    /// The threads of the runtime: stdio always runs on one; HTTP as `--http-threads` says.
    pub fn threads(&self) -> Threads {
        if !self.serves_http() {
            return Threads::One;
        }
        match self.http_threads {
            0 => Threads::PerCore,
            1 => Threads::One,
            n => Threads::Exactly(usize::from(n)),
        }
    }

    /// Checks the settings without touching the network.
    pub fn into_config(self) -> Result<Config, StartupError> {
        let token = match self.api_token.map(|t| t.trim().to_string()) {
            Some(t) if !t.is_empty() => ApiToken::new(t),
            _ => return Err(StartupError::MissingToken),
        };
        if !token.has_valid_prefix() {
            return Err(StartupError::InvalidToken);
        }
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return Err(StartupError::UnsendableToken);
        }
        let api_url = match self.api_url.map(|u| u.trim().trim_end_matches('/').to_string()) {
            Some(u) if !u.is_empty() => u,
            _ => return Err(StartupError::MissingUrl),
        };
        match reqwest::Url::parse(&api_url) {
            Ok(u) if u.scheme() == "http" && u.host().is_some() => {}
            Ok(u) if u.scheme() == "https" => {
                return Err(StartupError::InvalidUrl {
                    url: api_url,
                    reason: "this build has no TLS support; use http:// (e.g. through a local TLS-terminating proxy)"
                        .into(),
                });
            }
            Ok(_) => {
                return Err(StartupError::InvalidUrl {
                    url: api_url,
                    reason: "expected http://host[:port]".into(),
                });
            }
            Err(e) => {
                return Err(StartupError::InvalidUrl {
                    url: api_url,
                    reason: e.to_string(),
                });
            }
        }
        let toolsets = (!self.toolsets.is_empty()).then(|| self.toolsets.iter().copied().collect());
        let http = self
            .http
            .filter(|a| !a.trim().is_empty())
            .map(|bind| crate::transport::http::HttpFlags {
                bind,
                public_url: self.public_url,
                issuer: self.issuer,
                allowed_origins: self.allowed_origins,
                allowed_hosts: self.allowed_hosts,
                session_idle: Duration::from_secs(self.session_idle_secs),
                limits: crate::transport::http::Limits {
                    header_timeout: Duration::from_secs(self.header_timeout_secs),
                    body_timeout: Duration::from_secs(self.body_timeout_secs),
                    max_connections_per_ip: self.max_connections_per_ip,
                },
            });
        Ok(Config {
            api_url,
            token,
            timeout: Duration::from_secs(self.timeout_secs),
            read_only: self.read_only,
            toolsets,
            full_schemas: self.full_schemas,
            http,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("alloy-mcp").chain(args.iter().copied())).expect("parses")
    }

    #[test]
    fn a_token_without_a_documented_prefix_is_refused_before_any_network_call() {
        let c = cli(&["--api-url", "http://localhost:3000", "--api-token", "sk_live_nope"]);
        let err = c.into_config().expect_err("bad prefix");
        let text = err.to_string();
        assert!(text.contains("ALLOY_API_TOKEN"), "{text}");
        assert!(text.contains("alloy_live_") && text.contains("alloy_test_"), "{text}");
        assert!(!text.contains("sk_live_nope"), "{text}");
    }

    #[test]
    fn a_token_with_a_line_break_inside_is_blamed_on_the_token_not_the_url() {
        let c = cli(&[
            "--api-url",
            "http://localhost:3000",
            "--api-token",
            "alloy_test_abc\ndef",
        ]);
        let text = c.into_config().expect_err("line break").to_string();
        assert!(
            text.contains("ALLOY_API_TOKEN") && text.contains("line break"),
            "{text}"
        );
        assert!(!text.contains("ALLOY_API_URL") && !text.contains("abc"), "{text}");
    }

    #[test]
    fn the_command_line_never_prints_the_token() {
        let c = cli(&["--api-token", "alloy_test_secret"]);
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn http_threads_choose_the_runtime_and_stdio_always_runs_on_one_thread() {
        let threads = |args: &[&str]| Cli::try_parse_from(args).expect("valid flags").threads();
        assert_eq!(threads(&["alloy-mcp"]), Threads::One);
        assert_eq!(threads(&["alloy-mcp", "--http-threads", "4"]), Threads::One);
        assert_eq!(threads(&["alloy-mcp", "--http", "127.0.0.1:0"]), Threads::PerCore);
        assert_eq!(
            threads(&["alloy-mcp", "--http", "127.0.0.1:0", "--http-threads", "1"]),
            Threads::One
        );
        assert_eq!(
            threads(&["alloy-mcp", "--http", "127.0.0.1:0", "--http-threads", "3"]),
            Threads::Exactly(3)
        );
    }

    #[test]
    fn http_threads_default_to_one_per_core_and_are_bounded() {
        let cli = Cli::try_parse_from(["alloy-mcp"]).expect("no flags");
        assert_eq!(cli.http_threads, HTTP_THREADS_DEFAULT);
        let cli = Cli::try_parse_from(["alloy-mcp", "--http-threads", "1"]).expect("one thread");
        assert_eq!(cli.http_threads, 1);
        let err = Cli::try_parse_from(["alloy-mcp", "--http-threads", "5000"]).expect_err("too many");
        assert!(err.to_string().contains("--http-threads"), "{err}");
    }

    #[test]
    fn unknown_toolsets_are_named_in_the_error_with_the_valid_ids() {
        let err = Cli::try_parse_from(["alloy-mcp", "--toolsets", "tickets,bogus"]).expect_err("bogus is refused");
        let text = err.to_string();
        assert!(text.contains("bogus"), "{text}");
        for set in Toolset::all() {
            assert!(text.contains(&set.id()), "{text} lacks {}", set.id());
        }
    }

    #[test]
    fn a_valid_configuration_keeps_the_toolsets_and_trims_the_url() {
        let c = cli(&[
            "--api-url",
            "http://localhost:3000/",
            "--api-token",
            "alloy_live_x",
            "--toolsets",
            "tickets, sprints",
            "--read-only",
        ]);
        let cfg = c.into_config().expect("valid");
        assert_eq!(cfg.api_url, "http://localhost:3000");
        assert!(cfg.read_only);
        let sets = cfg.toolsets.expect("toolsets");
        assert!(sets.contains(&Toolset::Tickets) && sets.contains(&Toolset::Sprints));
    }
}
