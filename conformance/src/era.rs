//! Eras of the MCP wire. The **handshake** era (revisions 2024-11-05 … 2025-11-25) opens with
//! `initialize` and, over Streamable HTTP, a session; the **stateless** era (2026-07-28) has no
//! handshake and no session: every request carries its protocol version and the client's
//! capabilities in `params._meta`, `server/discover` tells what a server offers, and over HTTP
//! every POST mirrors the method (and the tool, prompt or resource) in `Mcp-Method` /
//! `Mcp-Name` headers next to `MCP-Protocol-Version`. This module holds what the harness adds to
//! a message to speak the stateless wire, in one place for every driver and case.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::fmt;

/// The stateless revision.
pub const STATELESS_VERSION: &str = crate::shapes::STATELESS_VERSION;

/// `_meta` key of the protocol version of a stateless request.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client's capabilities.
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's identity.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// Result `_meta` key of the server's identity.
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// A wire era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// `initialize` first; sessions over Streamable HTTP (2024-11-05 … 2025-11-25).
    Handshake,
    /// No handshake, per-request `_meta`, `server/discover`, no session (2026-07-28).
    Stateless,
}

impl Era {
    /// Both eras, in report order.
    pub const ALL: [Era; 2] = [Era::Handshake, Era::Stateless];

    /// `handshake` or `stateless`: the word used in scenario files, baselines and reports.
    pub fn name(self) -> &'static str {
        match self {
            Era::Handshake => "handshake",
            Era::Stateless => "stateless",
        }
    }

    /// Parses [`Era::name`].
    pub fn parse(s: &str) -> Option<Era> {
        Era::ALL.into_iter().find(|e| e.name() == s)
    }

    /// The era a protocol version belongs to.
    pub fn of_version(version: &str) -> Era {
        if crate::shapes::version_at_least(version, STATELESS_VERSION) {
            Era::Stateless
        } else {
            Era::Handshake
        }
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `_meta` the harness puts on every stateless request: the version and empty client
/// capabilities (the harness declares none, so a server must not send it anything that needs
/// one). `clientInfo` is sent with `server/discover` only, so that transcripts do not change
/// with the harness's version.
pub fn request_meta(version: &str) -> Value {
    json!({META_PROTOCOL_VERSION: version, META_CLIENT_CAPABILITIES: {}})
}

/// `message` as sent at the stateless wire: a request (a message with `method` and `id`) whose
/// `params` is absent or an object gets `params._meta` with [`request_meta`] (members the
/// message already has in `_meta` win). Anything else is returned unchanged: notifications,
/// and requests whose `params` is deliberately not an object.
pub fn with_request_meta(message: &Value, version: &str) -> Value {
    let mut m = message.clone();
    let Some(obj) = m.as_object_mut() else { return m };
    if !obj.contains_key("method") || !obj.contains_key("id") {
        return m;
    }
    let params = obj.entry("params").or_insert_with(|| Value::Object(Map::new()));
    let Some(params) = params.as_object_mut() else { return m };
    let meta = params.entry("_meta").or_insert_with(|| Value::Object(Map::new()));
    if let (Some(meta), Value::Object(defaults)) = (meta.as_object_mut(), request_meta(version)) {
        for (k, v) in defaults {
            meta.entry(k).or_insert(v);
        }
    }
    m
}

/// The `Mcp-Method` and `Mcp-Name` header values the 2026-07-28 Streamable HTTP transport
/// requires for `message` (`Mcp-Name` for `tools/call`, `prompts/get` and `resources/read`).
pub fn standard_headers(message: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return out;
    };
    out.push(("Mcp-Method", header_value(method)));
    let source = match method {
        "tools/call" | "prompts/get" => message.pointer("/params/name"),
        "resources/read" => message.pointer("/params/uri"),
        _ => None,
    };
    if let Some(name) = source.and_then(Value::as_str) {
        out.push(("Mcp-Name", header_value(name)));
    }
    out
}

/// A header value as the transport encodes it: plain when it is visible ASCII or inner spaces
/// and does not look like the sentinel, else `=?base64?…?=` of its UTF-8 bytes.
pub fn header_value(s: &str) -> String {
    let visible = s.bytes().all(|b| (0x20..=0x7e).contains(&b) || b == b'\t');
    let padded = s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']);
    let looks_encoded = s.starts_with("=?base64?") && s.ends_with("?=");
    if !s.is_empty() && visible && !padded && !looks_encoded {
        s.to_string()
    } else {
        format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_get_meta_and_notifications_do_not() {
        let r = with_request_meta(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            STATELESS_VERSION,
        );
        assert_eq!(r["params"]["_meta"][META_PROTOCOL_VERSION], STATELESS_VERSION);
        assert_eq!(r["params"]["_meta"][META_CLIENT_CAPABILITIES], json!({}));
        let kept = with_request_meta(
            &json!({"id": 1, "method": "x", "params": {"_meta": {META_PROTOCOL_VERSION: "1900-01-01"}}}),
            STATELESS_VERSION,
        );
        assert_eq!(kept["params"]["_meta"][META_PROTOCOL_VERSION], "1900-01-01");
        let n = json!({"jsonrpc": "2.0", "method": "notifications/cancelled"});
        assert_eq!(with_request_meta(&n, STATELESS_VERSION), n);
        let odd = json!({"id": 1, "method": "x", "params": [1]});
        assert_eq!(with_request_meta(&odd, STATELESS_VERSION), odd);
    }

    #[test]
    fn names_that_are_not_header_safe_are_base64_encoded() {
        assert_eq!(header_value("get_ticket"), "get_ticket");
        assert_eq!(header_value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(
            header_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
        let h = standard_headers(&json!({"method": "resources/read", "params": {"uri": "alloy://me"}}));
        assert_eq!(
            h,
            vec![
                ("Mcp-Method", "resources/read".to_string()),
                ("Mcp-Name", "alloy://me".to_string())
            ]
        );
    }
}
