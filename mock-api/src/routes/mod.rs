//! The route table and the request pipeline. Each domain file exports `routes()`; this module
//! joins them, matches a request to a route (unknown path → 404 `route`, known path with
//! another method → 405 with `allow`), then runs the fixed check order of contract §1.7:
//! 401 → 429 → 413 / 400 syntax → the handler (which does 404 → 403 → 400 fields → 409/422).

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::request::{Ctx, Query, Reply, ReplyBody};
use crate::store::{Store, parse_uuid, sha256_hex};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub mod access;
pub mod activity;
pub mod comments;
pub mod data;
pub mod finance;
pub mod labels;
pub mod projects;
pub mod sprints;
pub mod system;
pub mod tags;
pub mod teams;
pub mod tickets;
pub mod time;
pub mod workflows;

/// A route handler.
pub type Handler = fn(&mut Ctx) -> Result<Reply, ApiError>;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token needed (and public auth rate limit applies where marked).
    Public,
    /// Public, counted against the per-client auth rate limit.
    PublicAuth,
    /// Bearer token required.
    Token,
}

/// One route: method, path pattern under the root (`/api/v1/tickets/{ticket}`), handler.
#[derive(Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern; `{name}` matches one segment.
    pub path: &'static str,
    /// Access rule.
    pub access: Access,
    /// The handler.
    pub handler: Handler,
}

impl Route {
    /// A token-authenticated route.
    pub const fn new(method: &'static str, path: &'static str, handler: Handler) -> Route {
        Route {
            method,
            path,
            access: Access::Token,
            handler,
        }
    }

    /// A route with an explicit access rule.
    pub const fn with_access(method: &'static str, path: &'static str, access: Access, handler: Handler) -> Route {
        Route {
            method,
            path,
            access,
            handler,
        }
    }
}

/// The route table: every route, and a `matchit` router from each path pattern to the routes
/// (one per method) of that path. Static segments win over parameters, so
/// `/tickets/batch-update` is not a ticket.
pub struct Routes {
    list: Vec<Route>,
    paths: matchit::Router<Vec<usize>>,
    /// Patterns the router refused (a conflict in the table; a test keeps this empty).
    conflicts: Vec<String>,
}

impl Routes {
    /// Builds the router over `list`.
    pub fn new(list: Vec<Route>) -> Routes {
        let mut by_path: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        for (i, r) in list.iter().enumerate() {
            by_path.entry(r.path).or_default().push(i);
        }
        let (mut paths, mut conflicts) = (matchit::Router::new(), Vec::new());
        for (path, routes) in by_path {
            if let Err(e) = paths.insert(path, routes) {
                conflicts.push(format!("{path}: {e}"));
            }
        }
        Routes { list, paths, conflicts }
    }

    /// Patterns the router refused: a mistake in the table, which `MockAlloy` refuses to start with.
    pub fn conflicts(&self) -> &[String] {
        &self.conflicts
    }
}

impl std::ops::Deref for Routes {
    type Target = [Route];

    fn deref(&self) -> &[Route] {
        &self.list
    }
}

/// Every route of the API.
pub fn all_routes() -> Routes {
    Routes::new(
        vec![
            system::routes(),
            access::routes(),
            teams::routes(),
            workflows::routes(),
            projects::routes(),
            labels::routes(),
            tickets::routes(),
            tags::routes(),
            activity::routes(),
            comments::routes(),
            sprints::routes(),
            time::routes(),
            finance::routes(),
            data::routes(),
        ]
        .concat(),
    )
}

/// A request as the pipeline sees it, independent of the HTTP server underneath. The body is
/// borrowed from the server's request: a large body is never copied.
#[derive(Clone, Debug, Default)]
pub struct RawRequest<'a> {
    /// Upper-case method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Raw body bytes (all of them, unless `body_len` is larger than any body the API accepts).
    pub body: &'a [u8],
    /// How many body bytes the client sent.
    pub body_len: usize,
}

/// A finished response.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Content type of the body, when there is one.
    pub content_type: Option<&'static str>,
}

/// Body limit of ordinary requests.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Body limit of `POST /api/v1/import`.
pub const IMPORT_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Path parameters of a matched route, by name.
type Params = Vec<(&'static str, String)>;

/// Finds the route of `method path` (trailing slashes ignored): 404 `route` when no pattern
/// fits, 405 with `allow` when only the method is wrong. Path parameters come back decoded,
/// named as in the route's pattern.
fn match_route<'r>(routes: &'r Routes, method: &str, path: &str) -> Result<(&'r Route, Params), ApiError> {
    let trimmed = path.trim_end_matches('/');
    let found = routes.paths.at(if trimmed.is_empty() { "/" } else { trimmed });
    let found = found.map_err(|_| ApiError::not_found("route", path))?;
    let group: Vec<&Route> = found.value.iter().filter_map(|i| routes.list.get(*i)).collect();
    if let Some(r) = group.iter().find(|r| r.method == method) {
        let names = r.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'));
        let params = names.zip(found.params.iter()).map(|(n, (_, v))| (n, percent_decode(v)));
        return Ok((r, params.collect()));
    }
    let mut allow: Vec<&str> = group.iter().map(|r| r.method).collect();
    allow.sort();
    allow.dedup();
    let message = format!("{method} is not allowed on {path}");
    let mut e = ApiError::new(405, "method_not_allowed", message, Default::default()).with("allow", json!(allow));
    e.headers.push(("Allow", allow.join(", ")));
    Err(e)
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Size of the rate-limit table at which buckets of past minutes are dropped.
const RATE_BUCKETS_BEFORE_PRUNE: usize = 4096;

fn rate_check(store: &mut Store, bucket: String, limit: u32) -> Result<Vec<(String, String)>, ApiError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let now = store.now().unix_seconds();
    let window = now - now.rem_euclid(60);
    // Buckets of past minutes are dead weight; the client part of a bucket comes from a header
    // anyone can set, so without this the table would grow with every new value sent.
    if store.rate_windows.len() >= RATE_BUCKETS_BEFORE_PRUNE {
        store.rate_windows.retain(|_, (w, _)| *w == window);
    }
    let entry = store.rate_windows.entry(bucket).or_insert((window, 0));
    if entry.0 != window {
        *entry = (window, 0);
    }
    let reset = window + 60;
    if entry.1 >= limit {
        let mut e = ApiError::rate_limited((reset - now).max(1));
        e.headers.push(("X-RateLimit-Limit", limit.to_string()));
        e.headers.push(("X-RateLimit-Remaining", "0".into()));
        e.headers.push(("X-RateLimit-Reset", reset.to_string()));
        return Err(e);
    }
    entry.1 += 1;
    Ok(vec![
        ("X-RateLimit-Limit".into(), limit.to_string()),
        ("X-RateLimit-Remaining".into(), (limit - entry.1).to_string()),
        ("X-RateLimit-Reset".into(), reset.to_string()),
    ])
}

/// Runs one request through the whole pipeline.
pub fn handle(store: &mut Store, routes: &Routes, req: &RawRequest<'_>) -> RawResponse {
    let request_id = req
        .headers
        .get("x-request-id")
        .and_then(|v| parse_uuid(v))
        .unwrap_or_else(|| store.new_request_id());
    let mut extra = Vec::new();
    let result = run(store, routes, req, &mut extra);
    let mut resp = match result {
        Ok(reply) => {
            let mut headers = reply.headers;
            headers.extend(extra);
            match reply.body {
                ReplyBody::Json(v) => RawResponse {
                    status: reply.status,
                    headers,
                    body: serde_json::to_vec(&v).unwrap_or_default(),
                    content_type: Some("application/json"),
                },
                ReplyBody::Text(t, ct) => RawResponse {
                    status: reply.status,
                    headers,
                    body: t.into_bytes(),
                    content_type: Some(ct),
                },
                ReplyBody::Empty => RawResponse {
                    status: reply.status,
                    headers,
                    body: Vec::new(),
                    content_type: None,
                },
            }
        }
        Err(e) => {
            let mut headers: Vec<(String, String)> =
                e.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            headers.extend(extra);
            RawResponse {
                status: e.status,
                headers,
                body: serde_json::to_vec(&e.body()).unwrap_or_default(),
                content_type: Some("application/json"),
            }
        }
    };
    resp.headers.push(("X-Request-Id".into(), request_id.to_string()));
    resp
}

fn run(
    store: &mut Store,
    routes: &Routes,
    req: &RawRequest<'_>,
    extra: &mut Vec<(String, String)>,
) -> Result<Reply, ApiError> {
    let (route, params) = match_route(routes, &req.method, &req.path)?;
    let client = req
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "local".into());
    let caller: Option<Caller> = match route.access {
        Access::Token => {
            let token = req.headers.get("authorization").and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
            let caller = auth::authenticate(store, token.filter(|t| !t.is_empty()))?;
            let limit = store.settings.rate_limit_per_minute;
            extra.extend(rate_check(
                store,
                format!("token:{}", sha256_hex(token.unwrap_or(""))),
                limit,
            )?);
            Some(caller)
        }
        Access::PublicAuth => {
            let limit = store.settings.auth_rate_limit_per_minute;
            extra.extend(rate_check(store, format!("ip:{client}"), limit)?);
            None
        }
        Access::Public => None,
    };
    let limit = if route.path == "/api/v1/import" {
        IMPORT_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    if req.body_len.max(req.body.len()) > limit {
        return Err(ApiError::too_large(limit));
    }
    let mut query = Query::default();
    for (k, v) in &req.query {
        query.0.insert(k.clone(), v.clone());
    }
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let ct = req
            .headers
            .get("content-type")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        if !ct.starts_with("application/json") {
            return Err(ApiError::bad_request(
                "unsupported_media_type",
                "content-type",
                "send request bodies as JSON with Content-Type: application/json",
            ));
        }
        Some(serde_json::from_slice::<Value>(req.body).map_err(|e| {
            ApiError::bad_request("malformed_json", "body", format!("request body is not valid JSON: {e}"))
        })?)
    };
    call_handler(route, store, caller, params, query, body, client)
}

/// Runs the route's handler on the request context made of the other parts.
fn call_handler(
    route: &Route,
    store: &mut Store,
    caller: Option<Caller>,
    params: Vec<(&'static str, String)>,
    query: Query,
    body: Option<Value>,
    client: String,
) -> Result<Reply, ApiError> {
    let mut ctx = Ctx {
        store,
        caller,
        params,
        query,
        body,
        client,
    };
    (route.handler)(&mut ctx)
}

/// Runs the handler of `method path` for an already authenticated `caller` with `body`: the
/// router and the handler, without the checks before them (authentication, rate limits, body
/// size and syntax). The seed loader replays its records through it.
pub(crate) fn dispatch(
    store: &mut Store,
    routes: &Routes,
    (method, path): (&str, &str),
    caller: Caller,
    body: Option<Value>,
) -> Result<Reply, ApiError> {
    let (route, params) = match_route(routes, method, path)?;
    let (caller, query, client) = (Some(caller), Query::default(), String::new());
    call_handler(route, store, caller, params, query, body, client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_win_and_wrong_methods_get_405() {
        let routes = all_routes();
        let (r, _) = match_route(&routes, "POST", "/api/v1/tickets/batch-update").expect("route");
        assert_eq!(r.path, "/api/v1/tickets/batch-update");
        let (r, p) = match_route(&routes, "GET", "/api/v1/tickets/WEB-1").expect("route");
        assert_eq!(r.path, "/api/v1/tickets/{ticket}");
        assert_eq!(p, vec![("ticket", "WEB-1".to_string())]);
        let e = match_route(&routes, "PUT", "/api/v1/auth/me").err().expect("405");
        assert_eq!(e.status, 405);
        let e = match_route(&routes, "GET", "/api/v1/nope").err().expect("404");
        assert_eq!(e.details["resource"], "route");
    }

    #[test]
    fn a_static_segment_wins_but_a_deeper_parameter_route_still_matches() {
        let routes = all_routes();
        let (r, p) = match_route(&routes, "POST", "/api/v1/tickets/batch-update/transition").expect("route");
        assert_eq!(r.path, "/api/v1/tickets/{ticket}/transition");
        assert_eq!(p, vec![("ticket", "batch-update".to_string())]);
        let (r, p) = match_route(&routes, "GET", "/api/v1/tickets/WEB%2D1/").expect("route");
        assert_eq!(
            (r.path, p),
            ("/api/v1/tickets/{ticket}", vec![("ticket", "WEB-1".to_string())])
        );
        for path in [
            "/",
            "",
            "//api/v1/tickets",
            "/api/v1//tickets",
            "*",
            "/api/v1/tickets/WEB-1/nope",
        ] {
            let e = match_route(&routes, "GET", path).err().expect("404");
            assert_eq!((e.status, &e.details["resource"]), (404, &json!("route")), "{path:?}");
        }
    }

    #[test]
    fn route_table_has_no_duplicate_method_and_path() {
        let routes = all_routes();
        assert!(routes.conflicts.is_empty(), "{:?}", routes.conflicts);
        let mut seen = std::collections::BTreeSet::new();
        for r in routes.iter() {
            assert!(
                seen.insert((r.method, r.path)),
                "duplicate route {} {}",
                r.method,
                r.path
            );
        }
    }
}
