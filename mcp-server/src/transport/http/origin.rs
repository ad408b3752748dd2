//! DNS-rebinding defence for every route but the discovery documents: the `Origin` and `Host`
//! checks.
//!
//! - **Origin**: a request without `Origin` (every non-browser client) passes. A present
//!   `Origin` must match the allow-list: by default `http(s)://localhost`, `127.0.0.1` and
//!   `[::1]` on any port, plus the public URL's origin; `--allowed-origins` replaces the
//!   loopback entries (the public URL's origin stays). Otherwise 403.
//! - **Host**: DNS rebinding makes a browser send the attacker's *name* as `Host`, never an IP
//!   literal, so IP literals always pass; names must be `localhost`, the public URL's host or
//!   listed in `--allowed-hosts` (`*` turns the check off). Behind a proxy, setting
//!   `--public-url` to the proxy's URL is enough. Otherwise 403.

use super::Shared;
use super::refusal::Refusal;
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::Response;
use std::net::IpAddr;
use std::sync::Arc;

/// Middleware: 403 for a foreign `Origin` or an unexpected `Host`.
pub(crate) async fn origin_and_host(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    match check(&shared, &req) {
        Ok(()) => next.run(req).await,
        Err(refusal) => refusal.render(super::refusal::protocol_version(req.headers()).as_deref()),
    }
}

fn check(shared: &Shared, req: &Request) -> Result<(), Refusal> {
    let settings = &shared.settings;
    if let Some(origin) = req.headers().get(ORIGIN) {
        let allowed = origin
            .to_str()
            .ok()
            .is_some_and(|o| settings.origins.iter().any(|r| r.allows(o)));
        if !allowed {
            tracing::info!(origin = ?origin, "request from a foreign Origin refused");
            return Err(Refusal::ForeignOrigin);
        }
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(|h| host_allowed(h, &settings.hosts)) {
        tracing::info!(host = ?host, "request with an unexpected Host refused");
        return Err(Refusal::ForeignHost);
    }
    Ok(())
}

/// Splits `host[:port]` (IPv6 in brackets) into a lower-case host and the port.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_ascii_lowercase(), Some(p.parse().ok()?))),
        Some(_) => Some((authority.to_ascii_lowercase(), None)), // a bare IPv6 address
        None => Some((authority.to_ascii_lowercase(), None)),
    }
}

fn host_allowed(authority: &str, rules: &[HostRule]) -> bool {
    let Some((host, port)) = split_host_port(authority) else {
        return false;
    };
    if host.is_empty() {
        return false;
    }
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let host = host.trim_end_matches('.');
    rules.iter().any(|r| r.matches(host, port))
}

/// One `Host` allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HostRule {
    /// `*`: any host.
    Any,
    /// A name, optionally with the one port it is allowed on.
    Name(String, Option<u16>),
}

impl HostRule {
    /// `localhost` on any port (IP literals always pass).
    pub(crate) fn loopback() -> Vec<HostRule> {
        vec![HostRule::name("localhost")]
    }

    /// A name on any port.
    pub(crate) fn name(host: &str) -> HostRule {
        HostRule::Name(host.trim_matches(['[', ']']).to_ascii_lowercase(), None)
    }

    /// Parses `*`, `host` or `host:port`.
    pub(crate) fn parse(entry: &str) -> Result<HostRule, String> {
        if entry == "*" {
            return Ok(HostRule::Any);
        }
        if entry.contains("://") || entry.contains('/') {
            return Err("expected host or host:port, without scheme or path".into());
        }
        let (host, port) = split_host_port(entry).ok_or("expected host or host:port")?;
        if host.is_empty() {
            return Err("empty host".into());
        }
        Ok(HostRule::Name(host, port))
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        match self {
            HostRule::Any => true,
            HostRule::Name(name, None) => name == host,
            HostRule::Name(name, Some(p)) => name == host && port == Some(*p),
        }
    }
}

/// One `Origin` allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OriginRule {
    /// `*`: any origin.
    Any,
    /// `null` (sandboxed documents, `file:` pages).
    Null,
    /// `scheme://host[:port]`; `None` port = any (`:*`).
    Exact {
        /// Lower-case scheme.
        scheme: String,
        /// Lower-case host (IPv6 without brackets).
        host: String,
        /// The port (the scheme's default when not written); `None` = any.
        port: Option<u16>,
    },
}

impl OriginRule {
    /// `http(s)://localhost`, `127.0.0.1` and `[::1]`, any port.
    pub(crate) fn loopback() -> Vec<OriginRule> {
        let mut rules = Vec::new();
        for scheme in ["http", "https"] {
            for host in ["localhost", "127.0.0.1", "::1"] {
                rules.push(OriginRule::Exact {
                    scheme: scheme.into(),
                    host: host.into(),
                    port: None,
                });
            }
        }
        rules
    }

    /// The origin of a URL (the public URL).
    pub(crate) fn of_url(url: &reqwest::Url) -> Option<OriginRule> {
        Some(OriginRule::Exact {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.trim_matches(['[', ']']).to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }

    /// Parses `*`, `null`, `scheme://host`, `scheme://host:port` or `scheme://host:*`.
    pub(crate) fn parse(entry: &str) -> Result<OriginRule, String> {
        match entry {
            "*" => return Ok(OriginRule::Any),
            "null" => return Ok(OriginRule::Null),
            _ => {}
        }
        let (text, any_port) = match entry.strip_suffix(":*") {
            Some(rest) => (rest, true),
            None => (entry, false),
        };
        let url = reqwest::Url::parse(text).map_err(|e| format!("expected scheme://host[:port] ({e})"))?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err("an origin is scheme://host[:port], without path".into());
        }
        match OriginRule::of_url(&url) {
            Some(OriginRule::Exact { scheme, host, port }) => Ok(OriginRule::Exact {
                scheme,
                host,
                port: if any_port { None } else { port },
            }),
            _ => Err("an origin needs a host".into()),
        }
    }

    /// Whether the `Origin` header value `origin` matches.
    pub(crate) fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim();
        match self {
            OriginRule::Any => true,
            OriginRule::Null => origin == "null",
            OriginRule::Exact { scheme, host, port } => {
                let Ok(url) = reqwest::Url::parse(origin) else {
                    return false;
                };
                let Some(h) = url.host_str() else {
                    return false;
                };
                url.scheme().eq_ignore_ascii_case(scheme)
                    && h.trim_matches(['[', ']']).eq_ignore_ascii_case(host)
                    && port.is_none_or(|p| url.port_or_known_default() == Some(p))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_pass_on_any_port_and_foreign_ones_do_not() {
        let rules = OriginRule::loopback();
        let ok = |o: &str| rules.iter().any(|r| r.allows(o));
        assert!(ok("http://localhost:5173"));
        assert!(ok("https://127.0.0.1"));
        assert!(ok("http://[::1]:8080"));
        assert!(!ok("https://evil.example"));
        assert!(!ok("http://localhost.evil.example"));
        assert!(!ok("null"));
        assert!(!ok("garbage"));
    }

    #[test]
    fn configured_origins_match_scheme_host_and_port() {
        let exact = OriginRule::parse("https://app.example.com").expect("valid");
        assert!(exact.allows("https://app.example.com"));
        assert!(exact.allows("https://app.example.com:443"));
        assert!(!exact.allows("https://app.example.com:8443"));
        assert!(!exact.allows("http://app.example.com"));
        let any_port = OriginRule::parse("http://dev.test:*").expect("valid");
        assert!(any_port.allows("http://dev.test:3000"));
        assert!(OriginRule::parse("http://x.test/path").is_err());
        assert!(OriginRule::parse("x.test").is_err());
    }

    #[test]
    fn ip_literal_hosts_always_pass_and_names_need_a_rule() {
        let mut rules = HostRule::loopback();
        assert!(host_allowed("127.0.0.1:3001", &rules));
        assert!(host_allowed("[::1]:3001", &rules));
        assert!(host_allowed("192.168.1.20:3001", &rules));
        assert!(host_allowed("localhost:3001", &rules));
        assert!(host_allowed("LOCALHOST", &rules));
        assert!(!host_allowed("evil.example:3001", &rules));
        assert!(!host_allowed("", &rules));
        rules.push(HostRule::parse("mcp.example.com:443").expect("valid"));
        assert!(host_allowed("mcp.example.com:443", &rules));
        assert!(!host_allowed("mcp.example.com:8443", &rules));
        rules.push(HostRule::parse("*").expect("valid"));
        assert!(host_allowed("anything.example", &rules));
        assert!(HostRule::parse("http://x").is_err());
    }
}
