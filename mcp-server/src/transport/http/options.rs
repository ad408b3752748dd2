//! The `--http` settings: the flags as given ([`HttpFlags`]), checked without touching the
//! network ([`HttpOptions::resolve`]), and what the handlers read once the listener is bound
//! ([`Settings`]).

use super::origin::{HostRule, OriginRule};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

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
    /// Connection limits (`--header-timeout`, `--body-timeout`, `--max-connections-per-ip`).
    pub limits: Limits,
}

/// What one client may hold of the listener. Defaults a public deployment can live with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request's headers, counted from when the connection can send one: a
    /// new connection, or one whose previous answer went out. A connection silent that long
    /// is closed, so this is also the idle timeout of kept-alive connections.
    pub header_timeout: Duration,
    /// Time allowed for a whole request body (408 after).
    pub body_timeout: Duration,
    /// Open connections one client address may hold; more are answered 429 and closed.
    pub max_connections_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections_per_ip: 64,
        }
    }
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
    pub(crate) bind: SocketAddr,
    public_url: Option<reqwest::Url>,
    issuer: Option<String>,
    origins: Option<Vec<OriginRule>>,
    hosts: Vec<HostRule>,
    pub(crate) session_idle: Duration,
    pub(crate) limits: Limits,
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
                        OriginRule::parse(e).map_err(|reason| HttpError::InvalidListEntry {
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
                    HostRule::parse(e).map_err(|reason| HttpError::InvalidListEntry {
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
            limits: flags.limits,
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
    pub origins: Vec<OriginRule>,
    /// `Host` values allowed besides IP literals.
    pub hosts: Vec<HostRule>,
}

impl Settings {
    pub(crate) fn new(options: &HttpOptions, local: SocketAddr, api_url: &str) -> Settings {
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
        let mut origins = options.origins.clone().unwrap_or_else(OriginRule::loopback);
        if let Some(own) = parsed.as_ref().and_then(OriginRule::of_url) {
            origins.push(own);
        }
        let mut hosts = HostRule::loopback();
        if let Some(h) = public_host {
            hosts.push(HostRule::name(&h));
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
            limits: Limits::default(),
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
