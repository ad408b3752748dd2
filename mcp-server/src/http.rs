//! HTTP mode (`alloy-mcp --http ADDR`): the same tools, prompts and resources as stdio, served
//! to many clients at once on one listener.
//!
//! | route | auth | what |
//! |---|---|---|
//! | `POST/GET/DELETE /mcp` and `/` | key | Streamable HTTP (2025-03-26 and later): rmcp's `StreamableHttpService`, stateful, behind `streamable::guard` |
//! | `GET /sse`, `POST /message?sessionId=…` | key | legacy HTTP+SSE for 2024-11-05 clients, rebuilt on rmcp's `(Sink, Stream)` transport (`sse`) |
//! | `GET /.well-known/oauth-protected-resource` (also `…/mcp`) | none | RFC 9728 document (`discovery`) |
//! | `GET /.well-known/oauth-authorization-server` | none | RFC 8414 document |
//! | `GET /health` | none | liveness and session counts |
//!
//! Layers on the MCP routes, outermost first: `guard::origin_and_host` (403 for a foreign
//! `Origin` or an unexpected `Host`), `auth::require_key` (401/429, puts the request's
//! [`Caller`] and `auth::KeyId` into the request extensions), then per transport the body
//! limit (413), JSON-RPC framing errors as JSON (`-32700` with HTTP 400, `-32600`, `-32602`),
//! and the session-to-key binding (a session used with another key is 404). Sessions are
//! capped ([`MAX_SESSIONS`] per transport, [`MAX_SESSIONS_PER_KEY`] per key) and close after
//! `--session-idle` without traffic; a sweeper forgets what rmcp closed.
//!
//! Identity: every request acts with its own key. [`crate::server::AlloyServer::caller`] finds
//! the [`Caller`] the auth layer inserted (rmcp copies the request's `http::request::Parts`,
//! extensions included, into each JSON-RPC request; the legacy transport inserts the `Caller`
//! into the message itself). The server's own `ALLOY_API_TOKEN` is used only for the startup
//! check: the handler's fallback caller holds no key at all, so a request that somehow lacked
//! a caller would be refused upstream instead of acting as the server.
//!
//! Shutdown (SIGINT/SIGTERM): stop accepting, end idle streams (standalone GET streams; legacy
//! streams once their in-flight answers went out), let in-flight requests finish (bounded by
//! twice the upstream timeout plus 6 s, like stdio's drain), then stop the session workers.

mod auth;
mod discovery;
mod guard;
mod sse;
mod streamable;

use crate::api::{ApiClient, ApiToken};
use crate::config::Config;
use crate::identity::{Caller, Identity};
use crate::server::AlloyServer;
use crate::tools::Selection;
use axum::Router;
use axum::routing::{get, post};
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The largest request body accepted (contract §5.1: a 10 MiB bundle fits); larger is 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// At most this many sessions per transport; a new one beyond it is refused with 503.
pub const MAX_SESSIONS: usize = 10_000;

/// At most this many sessions per transport opened with one key (so one key cannot use up
/// [`MAX_SESSIONS`]); a new one beyond it is refused with 429.
pub const MAX_SESSIONS_PER_KEY: usize = 500;

/// The `--http` flags as given; [`HttpOptions::resolve`] checks them.
#[derive(Clone, Debug)]
pub struct HttpFlags {
    /// `--http` / `ALLOY_MCP_HTTP_ADDR`.
    pub bind: String,
    /// `--public-url` / `ALLOY_MCP_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// `--issuer` / `ALLOY_MCP_ISSUER`.
    pub issuer: Option<String>,
    /// `--allowed-origins` / `ALLOY_MCP_ALLOWED_ORIGINS`.
    pub allowed_origins: Option<String>,
    /// `--allowed-hosts` / `ALLOY_MCP_ALLOWED_HOSTS`.
    pub allowed_hosts: Option<String>,
    /// `--session-idle` / `ALLOY_MCP_SESSION_IDLE_SECS`.
    pub session_idle: Duration,
}

/// Why HTTP mode cannot start. `Display` is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// `--http` is not an address.
    #[error("invalid --http address {addr:?} (ALLOY_MCP_HTTP_ADDR): {reason}")]
    InvalidAddr {
        /// As given.
        addr: String,
        /// What is wrong.
        reason: String,
    },
    /// A URL flag cannot be used.
    #[error("invalid {flag} {value:?}: {reason}")]
    InvalidUrl {
        /// The flag and its variable.
        flag: &'static str,
        /// As given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// An entry of an allow-list cannot be used.
    #[error("invalid entry {value:?} in {flag}: {reason}")]
    InvalidListEntry {
        /// The flag and its variable.
        flag: &'static str,
        /// The entry.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Anything else (signal handlers, the server itself).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Checked HTTP settings (before binding).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    bind: SocketAddr,
    public_url: Option<reqwest::Url>,
    issuer: Option<String>,
    origins: Option<Vec<guard::OriginRule>>,
    hosts: Vec<guard::HostRule>,
    session_idle: Duration,
}

impl HttpOptions {
    /// Checks the flags without touching the network (a host name in `--http` is resolved
    /// locally).
    pub fn resolve(flags: &HttpFlags) -> Result<HttpOptions, HttpError> {
        let bind = parse_bind(flags.bind.trim())?;
        let public_url = match non_empty(&flags.public_url) {
            None => None,
            Some(raw) => Some(parse_base_url("--public-url (ALLOY_MCP_PUBLIC_URL)", raw)?),
        };
        let issuer = match non_empty(&flags.issuer) {
            None => None,
            Some(raw) => {
                parse_base_url("--issuer (ALLOY_MCP_ISSUER)", raw)?;
                Some(raw.trim_end_matches('/').to_string())
            }
        };
        let origins = match non_empty(&flags.allowed_origins) {
            None => None,
            Some(list) => Some(
                split_list(list)
                    .map(|e| {
                        guard::OriginRule::parse(e).map_err(|reason| HttpError::InvalidListEntry {
                            flag: "--allowed-origins (ALLOY_MCP_ALLOWED_ORIGINS)",
                            value: e.to_string(),
                            reason,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let hosts = match non_empty(&flags.allowed_hosts) {
            None => Vec::new(),
            Some(list) => split_list(list)
                .map(|e| {
                    guard::HostRule::parse(e).map_err(|reason| HttpError::InvalidListEntry {
                        flag: "--allowed-hosts (ALLOY_MCP_ALLOWED_HOSTS)",
                        value: e.to_string(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(HttpOptions {
            bind,
            public_url,
            issuer,
            origins,
            hosts,
            session_idle: flags.session_idle,
        })
    }

    /// The address to bind.
    pub fn bind(&self) -> SocketAddr {
        self.bind
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|e| !e.is_empty())
}

fn parse_bind(raw: &str) -> Result<SocketAddr, HttpError> {
    let invalid = |reason: &str| HttpError::InvalidAddr {
        addr: raw.to_string(),
        reason: reason.to_string(),
    };
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if raw.parse::<u16>().is_ok() {
        return Err(invalid(
            "expected HOST:PORT, e.g. 127.0.0.1:3001 (this machine only) or 0.0.0.0:3001 (every interface)",
        ));
    }
    match raw.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| invalid("the host name resolves to no address")),
        Err(e) => Err(invalid(&format!("expected HOST:PORT, e.g. 127.0.0.1:3001 ({e})"))),
    }
}

/// A base URL: http(s), a host, no query or fragment; a trailing slash is dropped.
fn parse_base_url(flag: &'static str, raw: &str) -> Result<reqwest::Url, HttpError> {
    let invalid = |reason: &str| HttpError::InvalidUrl {
        flag,
        value: raw.to_string(),
        reason: reason.to_string(),
    };
    let url = reqwest::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("expected http(s)://host[:port][/path]"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    Ok(url)
}

/// Settings the handlers read, fixed once the listener is bound.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// What clients reach us at, without a trailing slash.
    pub public_url: String,
    /// The OAuth issuer of the discovery documents.
    pub issuer: String,
    /// `<public URL>/.well-known/oauth-protected-resource`, named in every 401.
    pub resource_metadata: String,
    /// The path (after the public URL's own path) legacy clients POST messages to.
    pub message_path: String,
    /// Browser origins allowed (`Origin` header).
    pub origins: Vec<guard::OriginRule>,
    /// `Host` values allowed besides IP literals.
    pub hosts: Vec<guard::HostRule>,
}

impl Settings {
    fn new(options: &HttpOptions, local: SocketAddr, api_url: &str) -> Settings {
        let public_url = match &options.public_url {
            Some(u) => u.as_str().trim_end_matches('/').to_string(),
            None => default_public_url(local),
        };
        let parsed = reqwest::Url::parse(&public_url).ok();
        let public_host = parsed.as_ref().and_then(|u| u.host_str()).map(str::to_string);
        let path_prefix = parsed
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let mut origins = options.origins.clone().unwrap_or_else(guard::OriginRule::loopback);
        if let Some(own) = parsed.as_ref().and_then(guard::OriginRule::of_url) {
            origins.push(own);
        }
        let mut hosts = guard::HostRule::loopback();
        if let Some(h) = public_host {
            hosts.push(guard::HostRule::name(&h));
        }
        hosts.extend(options.hosts.iter().cloned());
        Settings {
            issuer: options.issuer.clone().unwrap_or_else(|| api_url.to_string()),
            resource_metadata: format!("{public_url}/.well-known/oauth-protected-resource"),
            message_path: format!("{path_prefix}/message"),
            public_url,
            origins,
            hosts,
        }
    }
}

/// `http://<bind address>`, with `0.0.0.0` and `::` shown as `localhost` (contract §5.1).
pub fn default_public_url(local: SocketAddr) -> String {
    let port = local.port();
    match local.ip() {
        ip if ip.is_unspecified() => format!("http://localhost:{port}"),
        IpAddr::V4(ip) => format!("http://{ip}:{port}"),
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
    }
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub settings: Settings,
    /// The server's client: its pool and timeout serve every key ([`ApiClient::with_token`]).
    pub api: ApiClient,
    pub server: AlloyServer,
    pub auth: Arc<auth::AuthCache>,
    pub throttle: auth::Throttle,
    pub sessions: streamable::Sessions,
    pub legacy: Arc<sse::Legacy>,
    /// Cancelled on SIGINT/SIGTERM.
    pub shutdown: CancellationToken,
    /// How long one request may take to be answered (tool deadline plus a margin).
    pub answer_deadline: Duration,
    pub session_idle: Duration,
}

/// The key the handler's fallback caller holds: not an Alloy key, so the API refuses it.
const NO_KEY: &str = "no-key:http-requests-carry-their-own";

/// Serves HTTP until SIGINT/SIGTERM. `api` is the verified startup client; its key is not used
/// for any request.
pub async fn serve(
    config: &Config,
    api: ApiClient,
    selection: &Selection,
    options: HttpOptions,
) -> Result<(), HttpError> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|source| HttpError::Bind {
            addr: options.bind,
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| HttpError::Internal(format!("the listener has no address: {e}")))?;
    let settings = Settings::new(&options, local, &config.api_url);

    let nobody = Caller {
        api: api.with_token(ApiToken::new(NO_KEY)),
        identity: Arc::new(Identity {
            user_id: String::new(),
            org_id: String::new(),
            email: String::new(),
            role: String::new(),
        }),
    };
    let server = AlloyServer::new(nobody, selection).map_err(|e| HttpError::Internal(e.to_string()))?;
    let tools = server.served_tools().len();

    let workers = CancellationToken::new();
    let shutdown = CancellationToken::new();
    let mut session_config = SessionConfig::default();
    session_config.keep_alive = Some(options.session_idle);
    let mut manager = LocalSessionManager::default();
    manager.session_config = session_config;
    let manager = Arc::new(manager);
    let factory = {
        let server = server.clone();
        move || Ok(server.clone())
    };
    let service = StreamableHttpService::new(
        factory,
        manager.clone(),
        // Host and Origin are checked (with JSON answers) by our own layer, the body limit too.
        StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_max_request_body_bytes(MAX_BODY_BYTES + 1)
            .with_cancellation_token(workers.child_token()),
    );

    let answer_deadline = config.timeout * 2 + Duration::from_secs(10);
    let shared = Arc::new(Shared {
        settings,
        api,
        server,
        auth: Arc::new(auth::AuthCache::new(auth::CACHE_TTL)),
        throttle: auth::Throttle::new(auth::MAX_FAILURES, auth::FAILURE_WINDOW),
        sessions: streamable::Sessions::new(manager),
        legacy: Arc::new(sse::Legacy::default()),
        shutdown: shutdown.clone(),
        answer_deadline,
        session_idle: options.session_idle,
    });
    let app = router(shared.clone(), service);

    // Handlers first, then the banner: a signal right after the banner must not kill us.
    let signal = shutdown_signal()?;
    tracing::info!(
        tools,
        public_url = %shared.settings.public_url,
        "listening on http://{local} (Streamable HTTP at /mcp and /, legacy SSE at /sse)"
    );
    let sweeper = tokio::spawn(sweep(shared.clone()));

    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let stop = shutdown.clone();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(
        async move {
            signal.await;
            tracing::info!("shutting down: finishing in-flight requests");
            stop.cancel();
        },
    );
    let drain = config.timeout * 2 + Duration::from_secs(6);
    let mut server = std::pin::pin!(server.into_future());
    let outcome = tokio::select! {
        r = &mut server => r,
        () = async { shutdown.cancelled().await; tokio::time::sleep(drain).await } => {
            tracing::warn!(after_secs = drain.as_secs(), "gave up waiting for in-flight requests");
            Ok(())
        }
    };
    workers.cancel();
    sweeper.abort();
    outcome.map_err(|e| HttpError::Internal(format!("the HTTP server failed: {e}")))?;
    tracing::info!("HTTP server stopped");
    Ok(())
}

fn router(shared: Arc<Shared>, service: StreamableHttpService<AlloyServer, LocalSessionManager>) -> Router {
    use axum::middleware::from_fn_with_state;
    let streamable = Router::new()
        .route_service("/mcp", service.clone())
        .route_service("/", service)
        .layer(from_fn_with_state(shared.clone(), streamable::guard));
    let legacy = Router::new()
        .route("/sse", get(sse::open))
        .route("/message", post(sse::message));
    let protected = streamable
        .merge(legacy)
        .layer(from_fn_with_state(shared.clone(), auth::require_key))
        .layer(from_fn_with_state(shared.clone(), guard::origin_and_host));
    Router::new()
        .route("/health", get(discovery::health))
        .route(
            "/.well-known/oauth-protected-resource",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(discovery::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .merge(protected)
        .fallback(guard::not_found)
        .with_state(shared)
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed before this returns.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, HttpError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind| {
            signal(kind).map_err(|e| HttpError::Internal(format!("cannot install a signal handler: {e}")))
        };
        let mut int = install(SignalKind::interrupt())?;
        let mut term = install(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT received"),
                _ = term.recv() => tracing::info!("SIGTERM received"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Periodic housekeeping: forget Streamable sessions rmcp has closed (idle expiry), close idle
/// legacy sessions, drop stale cache and throttle entries. Bounded work per tick.
async fn sweep(shared: Arc<Shared>) {
    let period = (shared.session_idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(15));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.sessions.prune().await;
        shared.legacy.expire_idle(shared.session_idle);
        shared.auth.purge_expired();
        shared.throttle.purge_expired();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(bind: &str) -> HttpFlags {
        HttpFlags {
            bind: bind.into(),
            public_url: None,
            issuer: None,
            allowed_origins: None,
            allowed_hosts: None,
            session_idle: Duration::from_secs(300),
        }
    }

    #[test]
    fn the_public_url_defaults_to_the_bind_address_with_wildcards_shown_as_localhost() {
        let addr = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert_eq!(default_public_url(addr("0.0.0.0:3001")), "http://localhost:3001");
        assert_eq!(default_public_url(addr("[::]:3001")), "http://localhost:3001");
        assert_eq!(default_public_url(addr("127.0.0.1:8080")), "http://127.0.0.1:8080");
        assert_eq!(default_public_url(addr("[::1]:9")), "http://[::1]:9");
    }

    #[test]
    fn a_bare_port_or_garbage_is_not_an_address() {
        assert!(HttpOptions::resolve(&flags("3001")).is_err());
        assert!(HttpOptions::resolve(&flags("not an address")).is_err());
        assert_eq!(
            HttpOptions::resolve(&flags("127.0.0.1:0")).expect("valid").bind(),
            "127.0.0.1:0".parse::<SocketAddr>().expect("addr")
        );
    }

    #[test]
    fn settings_derive_the_documents_urls_from_the_public_url_and_the_api_url() {
        let mut f = flags("0.0.0.0:3001");
        let local = "0.0.0.0:3001".parse().expect("addr");
        let s = Settings::new(&HttpOptions::resolve(&f).expect("valid"), local, "http://api.test:3000");
        assert_eq!(s.public_url, "http://localhost:3001");
        assert_eq!(s.issuer, "http://api.test:3000");
        assert_eq!(
            s.resource_metadata,
            "http://localhost:3001/.well-known/oauth-protected-resource"
        );
        assert_eq!(s.message_path, "/message");
        f.public_url = Some("https://mcp.example.com/alloy/".into());
        f.issuer = Some("https://auth.example.com".into());
        let s = Settings::new(&HttpOptions::resolve(&f).expect("valid"), local, "http://api.test:3000");
        assert_eq!(s.public_url, "https://mcp.example.com/alloy");
        assert_eq!(s.issuer, "https://auth.example.com");
        assert_eq!(s.message_path, "/alloy/message");
    }

    #[test]
    fn url_flags_must_be_http_base_urls() {
        let mut f = flags("127.0.0.1:0");
        f.public_url = Some("ftp://x".into());
        assert!(HttpOptions::resolve(&f).is_err());
        f.public_url = Some("http://x/?q=1".into());
        assert!(HttpOptions::resolve(&f).is_err());
        f.public_url = None;
        f.allowed_origins = Some("http://ok.test, nonsense".into());
        let err = HttpOptions::resolve(&f).expect_err("bad origin").to_string();
        assert!(err.contains("nonsense"), "{err}");
    }
}
