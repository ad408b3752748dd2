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
//! Files, one job each: `options` (the flags, checked), `listener` (the accept loop: header
//! timeout, connections per address), `origin` (403 for a foreign `Origin` or an unexpected
//! `Host`, also on `/health`), `auth` (401/403/429/503; puts the request's [`Caller`] and
//! `auth::KeyId` into the request extensions), `body` (limit 413, timeout 408), `refusal` (the
//! one type every refusal is), `streamable` and `sse` (the two transports, each message
//! through the session's inbound pipeline; a session used with another key is 404),
//! `discovery` (the documents and `/health`). Sessions are
//! capped ([`MAX_SESSIONS`] per transport, [`MAX_SESSIONS_PER_KEY`] per key) and close after
//! `--session-idle` without traffic; a sweeper forgets what rmcp closed.
//!
//! Identity: every request acts with its own key. The MCP surface finds
//! the [`Caller`] the auth layer inserted (rmcp copies the request's `http::request::Parts`,
//! extensions included, into each JSON-RPC request; the legacy transport inserts the `Caller`
//! into the message itself). The server's own `ALLOY_API_TOKEN` is used only for the startup
//! check: the handler's fallback caller holds no key at all, so a request that somehow lacked
//! a caller would be refused upstream instead of acting as the server.
//!
//! Shutdown (SIGINT/SIGTERM): stop accepting, end idle streams (standalone GET streams; legacy
//! streams once their in-flight answers went out), let in-flight requests finish (bounded by
//! the drain deadline, like stdio's), then stop the session workers.

mod auth;
mod body;
mod discovery;
mod listener;
mod options;
mod origin;
mod refusal;
mod sse;
mod streamable;

pub use options::{HttpError, HttpFlags, HttpOptions, Limits, default_public_url};

use crate::surface::server::{AlloyServer, ToolCatalog};
use crate::upstream::api::{ApiClient, ApiToken};
use crate::upstream::identity::{Caller, Identity};
use axum::Router;
use axum::routing::{get, post};
use options::Settings;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
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
    pub limits: Limits,
}

/// The key the handler's fallback caller holds: not an Alloy key, so the API refuses it.
const NO_KEY: &str = "no-key:http-requests-carry-their-own";

/// Serves HTTP until SIGINT/SIGTERM. `api` is the verified startup client; its key is not used
/// for any request. `catalog` holds the tools served (its build may still be under way).
pub async fn serve(api: ApiClient, catalog: ToolCatalog, options: HttpOptions) -> Result<(), HttpError> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|source| HttpError::Bind {
            addr: options.bind,
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| HttpError::Internal(format!("the listener has no address: {e}")))?;
    let settings = Settings::new(&options, local, api.base_url());

    let nobody = Caller {
        api: api.with_token(ApiToken::new(NO_KEY)),
        identity: Arc::new(Identity {
            user_id: String::new(),
            org_id: String::new(),
            email: String::new(),
            role: String::new(),
        }),
    };
    let server = AlloyServer::with_catalog(nobody, catalog);

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

    let deadlines = api.deadlines();
    let shared = Arc::new(Shared {
        settings,
        api,
        server,
        auth: Arc::new(auth::AuthCache::new(auth::CACHE_TTL)),
        throttle: auth::Throttle::new(auth::MAX_FAILURES, auth::FAILURE_WINDOW),
        sessions: streamable::Sessions::new(manager),
        legacy: Arc::new(sse::Legacy::default()),
        shutdown: shutdown.clone(),
        answer_deadline: deadlines.answer,
        session_idle: options.session_idle,
        limits: options.limits,
    });
    let app = router(shared.clone(), service);

    // Handlers first, then the banner: a signal right after the banner must not kill us.
    let signal = shutdown_signal()?;
    tracing::info!(
        public_url = %shared.settings.public_url,
        "listening on http://{local} (Streamable HTTP at /mcp and /, legacy SSE at /sse)"
    );
    let sweeper = tokio::spawn(sweep(shared.clone()));
    let stop = shutdown.clone();
    tokio::spawn(async move {
        signal.await;
        tracing::info!("shutting down: finishing in-flight requests");
        stop.cancel();
    });
    listener::serve(listener, app, options.limits, shutdown, deadlines.drain).await;
    workers.cancel();
    sweeper.abort();
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
        .merge(Router::new().route("/health", get(discovery::health)))
        .layer(from_fn_with_state(shared.clone(), origin::origin_and_host));
    Router::new()
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
        .fallback(|| async { refusal::Refusal::NoRoute })
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
