//! [`Refusal`]: the one type for every HTTP answer that refuses a request, with `IntoResponse`
//! (axum's way; `surface::errors` is the same for tool outcomes). Each kind names its status,
//! its JSON-RPC code and its words once; handlers return `Result<_, Refusal>` and `?`.
//!
//! Bodies are JSON-RPC error responses (`application/json`), so a client that expected a
//! JSON-RPC answer can read why, except for authentication: a 401/403 carries the OAuth
//! `WWW-Authenticate` challenge and the JSON body of RFC 6750 (`error`, `error_description`,
//! `resource_metadata`).

use crate::transport::pipeline::{Reply, ReplyKind, error_body};
use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::model::ErrorCode;
use serde_json::{Value, json};
use std::time::Duration;

/// The revision a request names in its `MCP-Protocol-Version` header.
pub(crate) fn protocol_version(headers: &HeaderMap) -> Option<String> {
    headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// JSON-RPC code of an unknown or foreign session (the TypeScript SDK's code).
pub(crate) const SESSION_NOT_FOUND: ErrorCode = ErrorCode(-32001);

/// Why a request is refused before (or instead of) reaching rmcp.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A path nothing is served at (404).
    NoRoute,
    /// The body is larger than the limit (413; the connection is closed).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the body failed, or took too long (400 / 408).
    BodyUnreadable {
        /// What went wrong.
        detail: String,
        /// Whether the client was too slow.
        timed_out: bool,
    },
    /// A browser page from a foreign origin (403).
    ForeignOrigin,
    /// An unexpected `Host` (403, DNS rebinding).
    ForeignHost,
    /// The session is unknown, ended, or belongs to another key (404).
    UnknownSession {
        /// What the client should do.
        hint: &'static str,
    },
    /// `POST /message` without `sessionId` (400).
    MissingSessionId,
    /// Too many sessions on this server (503).
    TooManySessions,
    /// Too many sessions of this key (429).
    TooManySessionsOfKey,
    /// The session does not take its messages (503).
    SessionStalled,
    /// Too many failed keys from this client (429 with `Retry-After`).
    Throttled {
        /// Until the window ends.
        wait: Duration,
    },
    /// Too many open connections from this client address (429, connection closed).
    TooManyConnections,
    /// The API cannot tell who a key belongs to right now (503 with `Retry-After`).
    CannotVerifyKey {
        /// Why.
        detail: String,
    },
    /// No key, a malformed key, or a key the API does not accept (401), or one it refuses
    /// its identity (403).
    Unauthenticated {
        /// 401 or 403.
        status: StatusCode,
        /// The RFC 6750 error code (`invalid_token`, `insufficient_scope`), if a key was sent.
        error: Option<&'static str>,
        /// What is wrong, for people.
        description: &'static str,
        /// `<public URL>/.well-known/oauth-protected-resource`.
        resource_metadata: String,
    },
    /// The pipeline refused the message (400 when it was not a usable JSON-RPC message, else
    /// 200 with the JSON-RPC error).
    Pipeline(Reply),
    /// rmcp refused the request in plain text (406, 415, an unknown `MCP-Protocol-Version`,
    /// ...): the same status, as a JSON-RPC error.
    Rmcp {
        /// rmcp's status.
        status: StatusCode,
        /// rmcp's words.
        message: String,
    },
    /// No answer came within the deadline (504) or the answer stream ended early (500).
    NoAnswer {
        /// The request's id.
        id: Value,
        /// Whether the deadline passed (else the stream ended).
        timed_out: bool,
    },
    /// Our own bug (500).
    Internal(&'static str),
}

impl Refusal {
    fn parts(&self) -> (StatusCode, Value, ErrorCode, String) {
        use Refusal::*;
        let null = Value::Null;
        match self {
            NoRoute => (
                StatusCode::NOT_FOUND,
                null,
                ErrorCode::INVALID_REQUEST,
                "Not Found: MCP is served at /mcp (Streamable HTTP) and /sse (legacy HTTP+SSE)".into(),
            ),
            TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                null,
                ErrorCode::INVALID_REQUEST,
                format!("Payload Too Large: the request body exceeds {limit} bytes"),
            ),
            BodyUnreadable { detail, timed_out } => (
                if *timed_out {
                    StatusCode::REQUEST_TIMEOUT
                } else {
                    StatusCode::BAD_REQUEST
                },
                null,
                ErrorCode::INVALID_REQUEST,
                format!("Bad Request: reading the body failed: {detail}"),
            ),
            ForeignOrigin => (
                StatusCode::FORBIDDEN,
                null,
                ErrorCode::INVALID_REQUEST,
                "Forbidden: Origin not allowed (see --allowed-origins)".into(),
            ),
            ForeignHost => (
                StatusCode::FORBIDDEN,
                null,
                ErrorCode::INVALID_REQUEST,
                "Forbidden: Host not allowed (see --public-url and --allowed-hosts)".into(),
            ),
            UnknownSession { hint } => (StatusCode::NOT_FOUND, null, SESSION_NOT_FOUND, (*hint).into()),
            MissingSessionId => (
                StatusCode::BAD_REQUEST,
                null,
                ErrorCode::INVALID_REQUEST,
                "Bad Request: the sessionId query parameter is required (from the endpoint event of GET /sse)".into(),
            ),
            TooManySessions => (
                StatusCode::SERVICE_UNAVAILABLE,
                null,
                ErrorCode::INTERNAL_ERROR,
                "Service Unavailable: too many open sessions; retry later".into(),
            ),
            TooManySessionsOfKey => (
                StatusCode::TOO_MANY_REQUESTS,
                null,
                ErrorCode::INTERNAL_ERROR,
                "Too Many Requests: this key has too many open sessions; end some (DELETE) or let them expire".into(),
            ),
            SessionStalled => (
                StatusCode::SERVICE_UNAVAILABLE,
                null,
                ErrorCode::INTERNAL_ERROR,
                "Service Unavailable: the session is not reading its messages (is its event stream being read?)".into(),
            ),
            Throttled { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                null,
                ErrorCode::INTERNAL_ERROR,
                "Too Many Requests: too many failed API keys from this client; retry later".into(),
            ),
            TooManyConnections => (
                StatusCode::TOO_MANY_REQUESTS,
                null,
                ErrorCode::INTERNAL_ERROR,
                "Too Many Requests: too many open connections from this address; close some".into(),
            ),
            CannotVerifyKey { detail } => (
                StatusCode::SERVICE_UNAVAILABLE,
                null,
                ErrorCode::INTERNAL_ERROR,
                format!("Service Unavailable: cannot verify the API key: {detail}"),
            ),
            Unauthenticated { status, .. } => (*status, null, ErrorCode::INVALID_REQUEST, String::new()),
            Pipeline(reply) => (
                match reply.kind {
                    ReplyKind::Malformed => StatusCode::BAD_REQUEST,
                    ReplyKind::Refused => StatusCode::OK,
                    ReplyKind::Removed => StatusCode::NOT_FOUND,
                },
                reply.id.clone(),
                reply.code,
                reply.message.clone(),
            ),
            Rmcp { status, message } => {
                let code = match *status {
                    StatusCode::NOT_FOUND => SESSION_NOT_FOUND,
                    s if s.is_server_error() => ErrorCode::INTERNAL_ERROR,
                    _ => ErrorCode::INVALID_REQUEST,
                };
                (*status, null, code, message.clone())
            }
            NoAnswer { id, timed_out } => (
                if *timed_out {
                    StatusCode::GATEWAY_TIMEOUT
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                },
                id.clone(),
                ErrorCode::INTERNAL_ERROR,
                if *timed_out {
                    "no answer within the deadline".into()
                } else {
                    "the answer stream ended without an answer".into()
                },
            ),
            Internal(what) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                null,
                ErrorCode::INTERNAL_ERROR,
                format!("internal error: {what}"),
            ),
        }
    }
}

/// A JSON body with the `application/json` content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.render(None)
    }
}

impl Refusal {
    /// The response, for a client of `revision` (the request's `MCP-Protocol-Version`, when
    /// it sent one): from 2025-11-25 on, an error that names no request leaves its id out.
    pub(crate) fn render(self, revision: Option<&str>) -> Response {
        if let Refusal::Unauthenticated {
            status,
            error,
            description,
            resource_metadata,
        } = &self
        {
            let mut challenge = format!("Bearer resource_metadata=\"{resource_metadata}\"");
            if let Some(e) = error {
                challenge.push_str(&format!(", error=\"{e}\", error_description=\"{description}\""));
            }
            let body = json!({
                "error": error.unwrap_or("unauthorized"),
                "error_description": description,
                "resource_metadata": resource_metadata,
            });
            let mut response = json_response(*status, &body);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(WWW_AUTHENTICATE, v);
            }
            return response;
        }
        let (status, id, code, message) = self.parts();
        let body = match &self {
            // The pipeline knows the session's revision better than a header.
            Refusal::Pipeline(reply) => reply.to_value(),
            _ => error_body(&id, code, &message, revision),
        };
        let mut response = json_response(status, &body);
        let headers = response.headers_mut();
        match self {
            Refusal::TooLarge { .. } | Refusal::TooManyConnections | Refusal::BodyUnreadable { .. } => {
                headers.insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Refusal::Throttled { wait } => {
                if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                    headers.insert(RETRY_AFTER, v);
                }
            }
            Refusal::CannotVerifyKey { .. } => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> Value {
        let bytes = axum::body::to_bytes(r.into_body(), 64 * 1024).await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn refusals_are_json_rpc_errors_with_their_status() {
        let r = Refusal::TooLarge { limit: 10 }.into_response();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.headers()[CONNECTION], "close");
        let v = body(r).await;
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(v["id"], Value::Null);
        let r = Refusal::Throttled {
            wait: Duration::from_millis(1500),
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn authentication_refusals_carry_the_oauth_challenge() {
        let r = Refusal::Unauthenticated {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: "nope",
            resource_metadata: "http://x/.well-known/oauth-protected-resource".into(),
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers()[WWW_AUTHENTICATE].to_str().expect("ascii").to_string();
        assert!(challenge.contains("resource_metadata=\"http://x/") && challenge.contains("invalid_token"));
        let v = body(r).await;
        assert_eq!(v["error"], "invalid_token");
    }
}
