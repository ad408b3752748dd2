//! Authentication of every MCP request: `Authorization: Bearer <Alloy API key>`.
//!
//! 1. No Bearer token → 401 (no `error` parameter). A token without `alloy_live_`/`alloy_test_`
//!    → 401 `error="invalid_token"`. Neither touches the API.
//! 2. The key's SHA-256 digest looks up the identity cache (≤ [`CACHE_TTL`], at most
//!    [`MAX_CACHED`] entries). A miss asks `GET /api/v1/auth/me` with that key: 200 caches the
//!    identity; 401/404 → 401 `invalid_token`; 403 → 403 `insufficient_scope`; anything else
//!    (API down, 5xx, 429) → 503 with `Retry-After`, nothing cached.
//! 3. The request gets a [`Caller`] acting with *its* key (the pool is shared) and a [`KeyId`].
//!    Any upstream 401 for that key evicts its cache entry, so a revoked key is refused at
//!    the door from its next request on.
//!
//! Every 401 carries `WWW-Authenticate: Bearer resource_metadata="<public URL>/.well-known/
//! oauth-protected-resource"`. A client (peer IP) whose presented keys fail [`MAX_FAILURES`]
//! times within [`FAILURE_WINDOW`] gets 429 with `Retry-After` for new keys until the window
//! ends; keys already in the cache keep working, so one noisy client behind a shared proxy
//! does not lock out the others. Keys are never logged, and never kept: only their digests.

use super::Shared;
use super::refusal::Refusal;
use crate::upstream::api::ApiToken;
use crate::upstream::identity::{Caller, Identity};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a verified identity is trusted without asking the API again.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(30);
/// At most this many identities are cached.
pub(crate) const MAX_CACHED: usize = 10_000;
/// Failed keys per client and window before the client is throttled.
pub(crate) const MAX_FAILURES: u32 = 20;
/// The throttling window.
pub(crate) const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// At most this many clients are tracked by the throttle.
const MAX_TRACKED: usize = 10_000;

/// The SHA-256 digest of an API key: how sessions and the cache know a key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The digest of `token`.
    pub(crate) fn of(token: &str) -> KeyId {
        KeyId(Sha256::digest(token.as_bytes()).into())
    }

    /// Constant-time comparison (the time taken does not depend on where they differ).
    pub(crate) fn same_as(&self, other: &KeyId) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyId(<digest>)")
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

struct Cached {
    key: KeyId,
    identity: Arc<Identity>,
    expires: Instant,
}

/// Verified identities by key digest.
pub(crate) struct AuthCache {
    ttl: Duration,
    entries: Mutex<HashMap<KeyId, Cached>>,
}

impl AuthCache {
    pub(crate) fn new(ttl: Duration) -> AuthCache {
        AuthCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &KeyId) -> Option<Arc<Identity>> {
        let now = Instant::now();
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.key.same_as(key) && e.expires > now).then(|| e.identity.clone())
    }

    fn insert(&self, key: KeyId, identity: Arc<Identity>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= MAX_CACHED {
            entries.retain(|_, e| e.expires > now);
        }
        if entries.len() >= MAX_CACHED
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert(
            key,
            Cached {
                key,
                identity,
                expires: now + self.ttl,
            },
        );
    }

    /// Forgets `key` (the API answered 401 for it).
    pub(crate) fn evict(&self, key: &KeyId) {
        if let Ok(mut entries) = self.entries.lock()
            && entries.remove(key).is_some()
        {
            tracing::info!("the API refused a cached key; its identity was evicted");
        }
    }

    /// Drops expired entries.
    pub(crate) fn purge_expired(&self) {
        let now = Instant::now();
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.expires > now);
        }
    }
}

struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failed keys per client IP in fixed windows.
pub(crate) struct Throttle {
    max_failures: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl Throttle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Throttle {
        Throttle {
            max_failures,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` while `ip` is throttled.
    fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let clients = self.clients.lock().ok()?;
        let w = clients.get(&ip)?;
        let ends = w.started + self.window;
        (w.failures >= self.max_failures && ends > now).then(|| ends - now)
    }

    fn fail(&self, ip: IpAddr) {
        let now = Instant::now();
        let Ok(mut clients) = self.clients.lock() else {
            return;
        };
        if !clients.contains_key(&ip) && clients.len() >= MAX_TRACKED {
            let window = self.window;
            clients.retain(|_, w| w.started + window > now);
            if clients.len() >= MAX_TRACKED
                && let Some(oldest) = clients.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| *k)
            {
                clients.remove(&oldest);
            }
        }
        let w = clients.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if w.started + self.window <= now {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
        if w.failures == self.max_failures {
            tracing::warn!(client = %ip, "too many failed API keys; throttling this client");
        }
    }

    /// Drops windows that ended.
    pub(crate) fn purge_expired(&self) {
        let now = Instant::now();
        let window = self.window;
        if let Ok(mut clients) = self.clients.lock() {
            clients.retain(|_, w| w.started + window > now);
        }
    }
}

/// The Bearer token of a request, if any (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthenticated(
    shared: &Shared,
    status: StatusCode,
    error: Option<&'static str>,
    description: &'static str,
) -> Refusal {
    Refusal::Unauthenticated {
        status,
        error,
        description,
        resource_metadata: shared.settings.resource_metadata.clone(),
    }
}

/// The outcome of asking the API who a key belongs to.
enum Check {
    Valid(Arc<Identity>),
    Rejected,
    Forbidden,
    Unavailable(String),
}

async fn check_upstream(shared: &Shared, token: &str) -> Check {
    let api = shared.api.with_token(ApiToken::new(token));
    match api.get_once("/api/v1/auth/me").await {
        Ok(r) if r.status == 200 => match serde_json::from_str::<Identity>(&r.body) {
            Ok(identity) => Check::Valid(Arc::new(identity)),
            Err(e) => Check::Unavailable(format!("the API's identity answer is not understood ({e})")),
        },
        Ok(r) if matches!(r.status, 401 | 404) => Check::Rejected,
        Ok(r) if r.status == 403 => Check::Forbidden,
        Ok(r) => Check::Unavailable(format!("the API answered {} to the identity check", r.status)),
        Err(f) => Check::Unavailable(f.to_string()),
    }
}

/// Middleware: authenticates the request and inserts its [`Caller`] and [`KeyId`].
pub(crate) async fn require_key(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match authenticate(&shared, req.headers(), ip).await {
        Ok((caller, key)) => {
            req.extensions_mut().insert(caller);
            req.extensions_mut().insert(key);
            next.run(req).await
        }
        Err(refusal) => refusal.render(super::refusal::protocol_version(req.headers()).as_deref()),
    }
}

/// Who a request acts as: its Bearer key checked (prefix, cache, then the API) into a
/// [`Caller`] acting with that key, and the key's digest.
pub(crate) async fn authenticate(shared: &Shared, headers: &HeaderMap, ip: IpAddr) -> Result<(Caller, KeyId), Refusal> {
    let Some(token) = bearer(headers) else {
        return Err(unauthenticated(
            shared,
            StatusCode::UNAUTHORIZED,
            None,
            "an Alloy API key is required: send Authorization: Bearer <key>",
        ));
    };
    let key = KeyId::of(token);
    let identity = match shared.auth.get(&key) {
        Some(identity) => identity,
        None => verify(shared, token, ip).await?,
    };
    let cache = Arc::downgrade(&shared.auth);
    let api = shared
        .api
        .with_token(ApiToken::new(token))
        .with_unauthorized_hook(Arc::new(move || {
            if let Some(c) = cache.upgrade() {
                c.evict(&key);
            }
        }));
    Ok((Caller { api, identity }, key))
}

/// Asks the API about a key not in the cache (throttled per client address).
async fn verify(shared: &Shared, token: &str, ip: IpAddr) -> Result<Arc<Identity>, Refusal> {
    if let Some(wait) = shared.throttle.blocked(ip) {
        return Err(Refusal::Throttled { wait });
    }
    if !ApiToken::new(token).has_valid_prefix() {
        shared.throttle.fail(ip);
        tracing::info!(client = %ip, "request with a malformed API key refused");
        return Err(unauthenticated(
            shared,
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "the token is not an Alloy API key (alloy_live_... or alloy_test_...)",
        ));
    }
    match check_upstream(shared, token).await {
        Check::Valid(identity) => {
            tracing::debug!(user_id = %identity.user_id, org_id = %identity.org_id, "API key verified");
            shared.auth.insert(KeyId::of(token), identity.clone());
            Ok(identity)
        }
        Check::Rejected => {
            shared.throttle.fail(ip);
            tracing::info!(client = %ip, "request with an unknown, expired or revoked API key refused");
            Err(unauthenticated(
                shared,
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the Alloy API does not accept this key (unknown, expired or revoked)",
            ))
        }
        Check::Forbidden => Err(unauthenticated(
            shared,
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the Alloy API refused this key its identity (missing scopes)",
        )),
        Check::Unavailable(detail) => {
            tracing::warn!(reason = %detail, "cannot verify an API key");
            Err(Refusal::CannotVerifyKey { detail })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn identity() -> Arc<Identity> {
        Arc::new(Identity {
            user_id: "u".into(),
            org_id: "o".into(),
            email: "e@x.test".into(),
            role: "Owner".into(),
        })
    }

    #[test]
    fn digests_compare_in_constant_time_and_never_print() {
        let a = KeyId::of("alloy_test_a");
        assert!(a.same_as(&KeyId::of("alloy_test_a")));
        assert!(!a.same_as(&KeyId::of("alloy_test_b")));
        assert!(!ct_eq(b"ab", b"abc"));
        assert_eq!(format!("{a:?}"), "KeyId(<digest>)");
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_other_schemes_are_absent() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer  alloy_test_x "));
        assert_eq!(bearer(&h), Some("alloy_test_x"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwdw=="));
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn cached_identities_expire_and_can_be_evicted() {
        let cache = AuthCache::new(Duration::from_secs(30));
        let k = KeyId::of("alloy_test_k");
        assert!(cache.get(&k).is_none());
        cache.insert(k, identity());
        assert!(cache.get(&k).is_some());
        cache.evict(&k);
        assert!(cache.get(&k).is_none());
        let expired = AuthCache::new(Duration::ZERO);
        expired.insert(k, identity());
        assert!(expired.get(&k).is_none());
    }

    #[test]
    fn a_client_is_throttled_after_too_many_failures_and_others_are_not() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        for _ in 0..2 {
            t.fail(a);
        }
        assert!(t.blocked(a).is_none());
        t.fail(a);
        let wait = t.blocked(a).expect("throttled");
        assert!(wait <= Duration::from_secs(60));
        assert!(t.blocked(b).is_none());
        let short = Throttle::new(1, Duration::ZERO);
        short.fail(a);
        assert!(short.blocked(a).is_none(), "the window is over at once");
    }
}
