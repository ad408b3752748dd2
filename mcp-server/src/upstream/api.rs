//! The generic Alloy REST client every tool uses: [`ApiClient`] with `get`, `get_text`, `post`,
//! `put`, `patch` and `delete`. There is deliberately no typed method per endpoint: a tool names
//! its path, builds a [`Query`] or a JSON body, and hands the [`ApiResult`] to
//! [`crate::surface::errors`], which decides what the model sees.
//!
//! Upstream policy (contract §5.1 "Upstream calls"):
//!
//! - every call carries `Authorization: Bearer <key>` and is bounded by one deadline
//!   (`--timeout`, default 30 s) that covers all of its attempts;
//! - GETs retry on 429, any 5xx and connection errors: at most 3 attempts, waiting
//!   200 ms then 400 ms, or `Retry-After` when that is longer; a wait that would pass the
//!   deadline is skipped and the last answer returned;
//! - writes are never retried.
//!
//! The token is never logged: [`ApiToken`] prints redacted.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The largest upstream answer read (a 10 MiB export bundle fits with room to spare); a larger
/// one is not read on and becomes [`ApiFailure::TooLarge`].
pub const MAX_UPSTREAM_BODY: usize = 32 * 1024 * 1024;

/// How many attempts an idempotent read gets.
const MAX_GET_ATTEMPTS: u32 = 3;

/// The backoff before the second and third attempt (used unless `Retry-After` is longer).
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(400)];

/// The two prefixes an Alloy API key starts with.
pub const TOKEN_PREFIXES: [&str; 2] = ["alloy_live_", "alloy_test_"];

/// An Alloy API key. Cloning is cheap; `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
    /// Wraps a key.
    pub fn new(token: impl Into<Arc<str>>) -> ApiToken {
        ApiToken(token.into())
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key has one of the two documented prefixes.
    pub fn has_valid_prefix(&self) -> bool {
        TOKEN_PREFIXES.iter().any(|p| self.0.starts_with(p))
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// Query parameters of one request, in order. Arrays become comma-separated values
/// (contract §5.2 "Query mapping").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// An empty query.
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds `name=value`.
    pub fn set(mut self, name: &str, value: impl fmt::Display) -> Query {
        self.0.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `name=value` when a value is given.
    pub fn opt<V: fmt::Display>(self, name: &str, value: Option<V>) -> Query {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// Adds `name=a,b,c` when the list is given and not empty.
    pub fn list<V: fmt::Display>(self, name: &str, values: Option<&[V]>) -> Query {
        match values {
            Some(vs) if !vs.is_empty() => {
                let joined = vs.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
                self.set(name, joined)
            }
            _ => self,
        }
    }

    /// Adds one page of a list: `limit=<limit>` (the page size type's default when not given)
    /// and `cursor=<cursor>` when given.
    pub fn page<L: fmt::Display + Default, C: fmt::Display>(self, limit: Option<L>, cursor: Option<C>) -> Query {
        self.set("limit", limit.unwrap_or_default()).opt("cursor", cursor)
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Everything but the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded in a
/// path segment.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A path of the Alloy API, the only thing the client sends requests to. It is built from
/// fixed words written in the code ([`ApiPath::fixed`], [`ApiPath::then`]: `&'static str`, so
/// never input) and segments taken from input ([`ApiPath::seg`]), which are percent-encoded
/// (everything but RFC 3986 unreserved characters), so `/`, `?`, `#` and `%` cannot change the
/// route. A segment that is empty, `.` or `..` would still steer the path (URL parsers remove
/// dot segments, `%2E%2E` included), so it is refused: the client then sends nothing and
/// reports [`ApiFailure::RefusedPath`]. The client also checks that the URL it is about to
/// send has exactly this path, so no other spelling can slip through either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiPath {
    text: String,
    refused: Option<String>,
}

impl ApiPath {
    /// A fixed path, e.g. `/api/v1/projects`.
    pub fn fixed(path: &'static str) -> ApiPath {
        ApiPath {
            text: path.to_string(),
            refused: None,
        }
    }

    /// Appends fixed words, e.g. `.then("tags")` or `.then("labels/batch")`.
    pub fn then(mut self, words: &'static str) -> ApiPath {
        self.text.push('/');
        self.text.push_str(words);
        self
    }

    /// Appends one segment taken from input (an id, a key, a name), percent-encoded.
    pub fn seg(mut self, raw: &str) -> ApiPath {
        self.text.push('/');
        if raw.is_empty() || raw == "." || raw == ".." {
            self.refused
                .get_or_insert_with(|| format!("{raw:?} cannot be used as a path segment"));
            self.text.push_str("<refused>");
            return self;
        }
        self.text.extend(utf8_percent_encode(raw, NOT_UNRESERVED));
        self
    }

    /// The path as sent (encoded).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Why this path must not be sent, if it must not.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }
}

impl From<&'static str> for ApiPath {
    fn from(path: &'static str) -> ApiPath {
        ApiPath::fixed(path)
    }
}

impl fmt::Display for ApiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The time limits that follow from the upstream timeout `t` (one call, retries included), in
/// one place: a tool makes a few calls, a transport waits for the tool, shutdown waits for
/// the transports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// One upstream call, retries included (`--timeout`).
    pub call: Duration,
    /// A whole tool call: `2 t + 5 s`, the backstop if a call (or our code) hangs anyway.
    pub tool: Duration,
    /// Draining at shutdown or end of input: a tool deadline and one second more.
    pub drain: Duration,
    /// How long a transport waits for the answer to one request: a tool deadline and 5 s.
    pub answer: Duration,
}

impl Deadlines {
    /// The limits for an upstream timeout of `call`.
    pub fn for_timeout(call: Duration) -> Deadlines {
        let tool = call * 2 + Duration::from_secs(5);
        Deadlines {
            call,
            tool,
            drain: tool + Duration::from_secs(1),
            answer: tool + Duration::from_secs(5),
        }
    }
}

/// An HTTP answer of the API, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The whole body as text (never truncated).
    pub body: String,
}

impl ApiResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The inner object of the API's error envelope `{"error": {"code", "message",
    /// "details"}}`, if the body has one.
    pub fn envelope(&self) -> Option<serde_json::Map<String, Value>> {
        match serde_json::from_str::<Value>(&self.body).ok()? {
            Value::Object(mut m) => match m.remove("error")? {
                Value::Object(e) if e.get("code").is_some_and(Value::is_string) => Some(e),
                _ => None,
            },
            _ => None,
        }
    }

    /// `"<status> <code>: <message>"` (or the quoted body when it has no envelope).
    pub fn status_line(&self) -> String {
        let (code, message) = self
            .envelope()
            .map(|e| {
                (
                    e.get("code").and_then(Value::as_str).unwrap_or("error").to_string(),
                    e.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
                )
            })
            .unwrap_or_else(|| ("upstream_error".to_string(), quote(&self.body)));
        format!("{} {code}: {message}", self.status)
    }
}

/// How many characters of an odd upstream body a message quotes.
const QUOTE_CHARS: usize = 200;

/// The first 200 characters of `s` (an ellipsis marks a cut).
pub fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE_CHARS).collect();
    if s.chars().nth(QUOTE_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A call that produced no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiFailure {
    /// Nothing listens at the address.
    #[error("cannot reach the Alloy API at {base_url} (connection refused): start it, or set ALLOY_API_URL")]
    ConnectionRefused {
        /// The configured base URL.
        base_url: String,
    },
    /// No complete answer within the deadline.
    #[error(
        "the Alloy API at {base_url} did not answer within {} s: the URL may be wrong or unreachable (ALLOY_API_URL), or the API is overloaded",
        .after.as_secs_f64()
    )]
    Timeout {
        /// The configured base URL.
        base_url: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// Any other transport problem (DNS, reset connection, invalid URL).
    #[error("cannot reach the Alloy API at {base_url} ({detail}): check ALLOY_API_URL and that the API is running")]
    Unreachable {
        /// The configured base URL.
        base_url: String,
        /// What went wrong, without secrets.
        detail: String,
    },
    /// A write got no complete answer after it was sent: it may or may not have taken effect.
    #[error(
        "the Alloy API at {base_url} did not complete its answer to {method} {path} ({cause}): the change may or may not have been made; check the current state (get or list the item) before trying again, so it is not made twice"
    )]
    OutcomeUnknown {
        /// The configured base URL.
        base_url: String,
        /// The write's method.
        method: String,
        /// The write's path.
        path: String,
        /// Timeout or broken connection, without secrets.
        cause: String,
    },
    /// The answer was larger than this client reads.
    #[error(
        "the Alloy API at {base_url} answered with more than {limit} bytes; ask for less (a smaller page, narrower filters)"
    )]
    TooLarge {
        /// The configured base URL.
        base_url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// Nothing was sent: an argument would have changed which API route the request reaches.
    #[error("not sent to the Alloy API: {reason}; the argument would change which API route is called")]
    RefusedPath {
        /// Which segment was refused, and why.
        reason: String,
    },
}

impl ApiFailure {
    /// What this failure means for a call with `method`: a write that timed out or lost its
    /// connection after it was sent has an unknown outcome; a refused connection sent nothing.
    fn of_write(self, method: &Method, path: &str) -> ApiFailure {
        if *method == Method::GET {
            return self;
        }
        let (base_url, cause) = match self {
            ApiFailure::Timeout { base_url, after } => {
                (base_url, format!("no answer within {} s", after.as_secs_f64()))
            }
            ApiFailure::Unreachable { base_url, detail } if !detail.starts_with(CONNECT_FAILED) => (base_url, detail),
            other => return other,
        };
        ApiFailure::OutcomeUnknown {
            base_url,
            method: method.to_string(),
            path: path.to_string(),
            cause,
        }
    }
}

/// How [`error_chain`] starts when no connection was made (so nothing was sent).
const CONNECT_FAILED: &str = "connection failed";

/// The outcome of one API call: an HTTP answer (any status) or no answer at all.
pub type ApiResult = Result<ApiResponse, ApiFailure>;

/// Called after the API answered 401 to a client carrying it (HTTP mode: evicts the key's
/// cached identity, so a revoked key is refused at the door on its next request).
pub type UnauthorizedHook = Arc<dyn Fn() + Send + Sync>;

/// A client bound to one API base URL and one API key.
///
/// Cloning is cheap and shares the connection pool; [`ApiClient::with_token`] makes a client
/// for another key on the same pool (HTTP mode: one key per request).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: Arc<str>,
    /// The base URL without query or fragment, parsed once (a request's URL is this one with
    /// its path set, so the host is not parsed again for every call), or why it does not parse.
    base: Result<Arc<reqwest::Url>, Arc<str>>,
    token: ApiToken,
    timeout: Duration,
    on_unauthorized: Option<UnauthorizedHook>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ApiClient {
    /// A client for `base_url` (scheme and host, e.g. `http://localhost:3000`; a trailing
    /// slash is dropped) authenticating with `token`; `timeout` bounds every call.
    pub fn new(base_url: &str, token: ApiToken, timeout: Duration) -> Result<ApiClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        let base_url = base_url.trim_end_matches('/');
        let base = reqwest::Url::parse(base_url)
            .map(|mut url| {
                url.set_query(None);
                url.set_fragment(None);
                Arc::new(url)
            })
            .map_err(|e| Arc::from(e.to_string()));
        Ok(ApiClient {
            http,
            base_url: base_url.into(),
            base,
            token,
            timeout,
            on_unauthorized: None,
        })
    }

    /// The same client (pool, URL, timeout) acting with another key.
    pub fn with_token(&self, token: ApiToken) -> ApiClient {
        ApiClient {
            token,
            on_unauthorized: None,
            ..self.clone()
        }
    }

    /// The same client, calling `hook` whenever the API answers 401.
    pub fn with_unauthorized_hook(&self, hook: UnauthorizedHook) -> ApiClient {
        ApiClient {
            on_unauthorized: Some(hook),
            ..self.clone()
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The key this client sends.
    pub fn token(&self) -> &ApiToken {
        &self.token
    }

    /// The deadline of one call, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Every time limit that follows from this client's timeout.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines::for_timeout(self.timeout)
    }

    /// `GET path?query`, retried per the upstream policy.
    pub async fn get(&self, path: impl Into<ApiPath>, query: &Query) -> ApiResult {
        self.read(path.into(), query, "application/json").await
    }

    /// `GET path?query` for a text answer (the capitalization CSV), retried like [`Self::get`].
    pub async fn get_text(&self, path: impl Into<ApiPath>, query: &Query) -> ApiResult {
        self.read(path.into(), query, "text/csv, application/json").await
    }

    /// `GET path` with exactly one attempt (the startup identity check).
    pub async fn get_once(&self, path: impl Into<ApiPath>) -> ApiResult {
        self.call(Method::GET, path.into(), &Query::new(), None, "application/json", 1)
            .await
    }

    /// `POST path` with an optional JSON body. Never retried.
    pub async fn post(&self, path: impl Into<ApiPath>, body: Option<&Value>) -> ApiResult {
        self.write(Method::POST, path.into(), &Query::new(), body).await
    }

    /// `POST path?query` with an optional JSON body (import takes its options as query
    /// parameters). Never retried.
    pub async fn post_with_query(&self, path: impl Into<ApiPath>, query: &Query, body: Option<&Value>) -> ApiResult {
        self.write(Method::POST, path.into(), query, body).await
    }

    /// `PUT path` with a JSON body. Never retried.
    pub async fn put(&self, path: impl Into<ApiPath>, body: &Value) -> ApiResult {
        self.write(Method::PUT, path.into(), &Query::new(), Some(body)).await
    }

    /// `PATCH path` with a JSON body. Never retried.
    pub async fn patch(&self, path: impl Into<ApiPath>, body: &Value) -> ApiResult {
        self.write(Method::PATCH, path.into(), &Query::new(), Some(body)).await
    }

    /// `DELETE path`. Never retried.
    pub async fn delete(&self, path: impl Into<ApiPath>) -> ApiResult {
        self.write(Method::DELETE, path.into(), &Query::new(), None).await
    }

    /// A `GET` of JSON or of what `accept` names, retried per the upstream policy.
    async fn read(&self, path: ApiPath, query: &Query, accept: &'static str) -> ApiResult {
        self.call(Method::GET, path, query, None, accept, MAX_GET_ATTEMPTS)
            .await
    }

    /// A write with an optional JSON body, answered in JSON. Sent once, never retried.
    async fn write(&self, method: Method, path: ApiPath, query: &Query, body: Option<&Value>) -> ApiResult {
        self.call(method, path, query, body, "application/json", 1).await
    }

    async fn call(
        &self,
        method: Method,
        path: ApiPath,
        query: &Query,
        body: Option<&Value>,
        accept: &'static str,
        max_attempts: u32,
    ) -> ApiResult {
        if let Some(reason) = path.refused() {
            tracing::warn!(%method, path = %path, "API call refused: a path segment would change the route");
            return Err(ApiFailure::RefusedPath {
                reason: reason.to_string(),
            });
        }
        let path = path.as_str();
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&method, path, query, body, accept, deadline).await;
            let retry_after = match &outcome {
                Ok((resp, retry_after)) if is_retryable_status(resp.status) => Some(*retry_after),
                Err(ApiFailure::ConnectionRefused { .. } | ApiFailure::Unreachable { .. }) => Some(None),
                _ => None,
            };
            let give_up = attempt >= max_attempts || retry_after.is_none();
            if !give_up {
                let backoff = BACKOFF[(attempt as usize - 1).min(BACKOFF.len() - 1)];
                let wait = retry_after.flatten().map_or(backoff, |ra| ra.max(backoff));
                if Instant::now() + wait < deadline {
                    tracing::debug!(%method, path, attempt, wait_ms = wait.as_millis() as u64, "retrying Alloy API call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
            }
            let outcome = outcome.map(|(resp, _)| resp).map_err(|f| f.of_write(&method, path));
            if let (Ok(resp), Some(hook)) = (&outcome, &self.on_unauthorized)
                && resp.status == 401
            {
                hook();
            }
            match &outcome {
                Ok(resp) => tracing::debug!(
                    %method, path, status = resp.status, attempts = attempt,
                    elapsed_ms = started.elapsed().as_millis() as u64, "Alloy API call"
                ),
                // A single-attempt check (start-up, HTTP key verification) reports its failure
                // itself, in its own words: logging it here too would say it twice.
                Err(e) if max_attempts == 1 && method == Method::GET => {
                    tracing::debug!(%method, path, error = %e, "Alloy API check failed")
                }
                Err(e) => tracing::warn!(%method, path, attempts = attempt, error = %e, "Alloy API call failed"),
            }
            return outcome;
        }
    }

    /// The URL of `path`: the base URL with `path` after the base's own path (`""`, or e.g.
    /// `/alloy` behind a proxy). The URL parser removes dot segments and may re-encode; what
    /// is sent must be exactly the route the tool built, or nothing is sent.
    fn request_url(&self, path: &str) -> Result<reqwest::Url, ApiFailure> {
        let base = self.base.as_ref().map_err(|e| ApiFailure::Unreachable {
            base_url: self.base_url.to_string(),
            detail: format!("invalid request URL: {e}"),
        })?;
        let base_path = base.path().trim_end_matches('/');
        let mut url = reqwest::Url::clone(base);
        url.set_path(&format!("{base_path}{path}"));
        if url.path().strip_prefix(base_path) != Some(path) {
            return Err(ApiFailure::RefusedPath {
                reason: format!("the path {path:?} would be sent as {:?}", url.path()),
            });
        }
        Ok(url)
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &Query,
        body: Option<&Value>,
        accept: &'static str,
        deadline: Instant,
    ) -> Result<(ApiResponse, Option<Duration>), ApiFailure> {
        let mut url = self.request_url(path)?;
        if !query.pairs().is_empty() {
            url.query_pairs_mut().extend_pairs(query.pairs());
        }
        let mut req = self
            .http
            .request(method.clone(), url)
            .header(USER_AGENT, concat!("alloy-mcp/", env!("CARGO_PKG_VERSION")))
            .header(ACCEPT, accept);
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", self.token.expose())).map_err(|_| ApiFailure::Unreachable {
                base_url: self.base_url.to_string(),
                detail: "the API token contains characters that cannot be sent in a header".into(),
            })?;
        auth.set_sensitive(true);
        req = req.header(AUTHORIZATION, auth);
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(b).unwrap_or_default());
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let exchange = async {
            let mut resp = req.send().await.map_err(|e| self.classify(&e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let too_large = || ApiFailure::TooLarge {
                base_url: self.base_url.to_string(),
                limit: MAX_UPSTREAM_BODY,
            };
            if resp.content_length().is_some_and(|n| n > MAX_UPSTREAM_BODY as u64) {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(&e))? {
                if bytes.len() + chunk.len() > MAX_UPSTREAM_BODY {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            Ok((status, headers, text))
        };
        match tokio::time::timeout(remaining, exchange).await {
            Err(_) => Err(ApiFailure::Timeout {
                base_url: self.base_url.to_string(),
                after: self.timeout,
            }),
            Ok(Err(failure)) => Err(failure),
            Ok(Ok((status, headers, body))) => {
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let content_type = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                Ok((
                    ApiResponse {
                        status,
                        content_type,
                        body,
                    },
                    retry_after,
                ))
            }
        }
    }

    fn classify(&self, e: &reqwest::Error) -> ApiFailure {
        let base_url = self.base_url.to_string();
        if e.is_timeout() {
            return ApiFailure::Timeout {
                base_url,
                after: self.timeout,
            };
        }
        if is_connection_refused(e) {
            return ApiFailure::ConnectionRefused { base_url };
        }
        ApiFailure::Unreachable {
            base_url,
            detail: error_chain(e),
        }
    }
}

/// 429 and every 5xx (the rule; the contract lists only 502/503/504, and a repeated
/// idempotent read costs nothing but time within the deadline).
fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

fn is_connection_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// The error's causes on one line (reqwest errors carry the URL, never headers).
fn error_chain(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        CONNECT_FAILED
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    };
    let mut parts = vec![kind.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        let text = err.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        let p = |raw: &str| ApiPath::fixed("/api/v1/tickets").seg(raw).then("tags");
        assert_eq!(p("WEB-42").as_str(), "/api/v1/tickets/WEB-42/tags");
        assert_eq!(p("../x y/?#").as_str(), "/api/v1/tickets/..%2Fx%20y%2F%3F%23/tags");
        assert_eq!(p("%2e%2e").as_str(), "/api/v1/tickets/%252e%252e/tags");
        assert_eq!(p("é").as_str(), "/api/v1/tickets/%C3%A9/tags");
        assert!(p("a.b").refused().is_none());
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        for raw in ["", ".", ".."] {
            let path = ApiPath::fixed("/api/v1/tickets").seg("WEB-3").then("tags").seg(raw);
            assert!(path.refused().is_some(), "{raw:?} was accepted");
        }
    }

    #[tokio::test]
    async fn a_refused_path_is_never_sent() {
        // Nothing listens on port 9; a request that went out would fail differently.
        let api = ApiClient::new(
            "http://127.0.0.1:9",
            ApiToken::new("alloy_test_x"),
            Duration::from_secs(1),
        )
        .expect("client");
        let path = ApiPath::fixed("/api/v1/tickets").seg("WEB-3").then("tags").seg("..");
        match api.delete(path).await {
            Err(ApiFailure::RefusedPath { reason }) => assert!(reason.contains("\"..\""), "{reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn request_urls_keep_the_base_path_and_the_route_exactly() {
        let api =
            |base: &str| ApiClient::new(base, ApiToken::new("alloy_test_x"), Duration::from_secs(1)).expect("client");
        let behind_proxy = api("https://alloy.example.com:8443/alloy/");
        let route = ApiPath::fixed("/api/v1/tickets").seg("../x y").then("tags");
        let url = behind_proxy.request_url(route.as_str()).expect("url");
        assert_eq!(
            url.as_str(),
            "https://alloy.example.com:8443/alloy/api/v1/tickets/..%2Fx%20y/tags"
        );
        let plain = api("http://127.0.0.1:3000");
        let url = plain.request_url("/api/v1/auth/me").expect("url");
        assert_eq!(url.as_str(), "http://127.0.0.1:3000/api/v1/auth/me");
        // A query or fragment on the base URL is not carried into requests.
        let url = api("http://127.0.0.1:3000/?x=1#top")
            .request_url("/api/v1/auth/me")
            .expect("url");
        assert_eq!(url.as_str(), "http://127.0.0.1:3000/api/v1/auth/me");
        // A route the URL parser would rewrite (a dot segment) is refused, not sent elsewhere.
        match plain.request_url("/api/v1/tickets/../users") {
            Err(ApiFailure::RefusedPath { reason }) => assert!(reason.contains("/api/v1/users"), "{reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        match api("not a url").request_url("/api/v1/auth/me") {
            Err(ApiFailure::Unreachable { detail, .. }) => assert!(detail.contains("invalid request URL"), "{detail}"),
            other => panic!("expected an invalid URL, got {other:?}"),
        }
    }

    #[test]
    fn query_lists_become_comma_separated_values() {
        let q = Query::new()
            .list("status", Some(&["Todo", "Done"][..]))
            .list::<&str>("priority", Some(&[]))
            .opt::<&str>("q", None)
            .opt("limit", Some(5));
        assert_eq!(
            q.pairs(),
            &[
                ("status".to_string(), "Todo,Done".to_string()),
                ("limit".to_string(), "5".to_string())
            ]
        );
    }

    #[test]
    fn tokens_never_print_their_secret() {
        let t = ApiToken::new("alloy_test_secret");
        assert_eq!(format!("{t:?}"), "ApiToken(<redacted>)");
        assert!(t.has_valid_prefix());
        assert!(!ApiToken::new("secret").has_valid_prefix());
    }
}
