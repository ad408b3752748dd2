//! The documents served without authentication (contract §5.1 "OAuth discovery"). v1 serves
//! no OAuth flow: they tell a client where authorization would happen and that a Bearer key
//! in the `Authorization` header is what this resource accepts.
//!
//! - `GET /.well-known/oauth-protected-resource` (RFC 9728; also at `…/mcp`, the path-suffixed
//!   location 2025-11-25 clients try first): `resource` = `<public URL>/mcp`,
//!   `authorization_servers` = `[<issuer>]`, `bearer_methods_supported` = `["header"]`,
//!   `scopes_supported` = `["read","write"]`, `resource_name` = `"alloy-mcp"`.
//! - `GET /.well-known/oauth-authorization-server` (RFC 8414): `issuer`,
//!   `authorization_endpoint` = `<issuer>/oauth/authorize`, `token_endpoint` =
//!   `<issuer>/oauth/token`, `response_types_supported` = `["code"]`, `grant_types_supported` =
//!   `["authorization_code","refresh_token"]`, `code_challenge_methods_supported` = `["S256"]`,
//!   `token_endpoint_auth_methods_supported` = `["none"]`, `scopes_supported` =
//!   `["read","write"]`.
//! - `GET /health`: `{"status":"ok","name","version","sessions":{"streamable","legacy"}}`.

use super::Shared;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::Arc;

/// The RFC 9728 protected-resource document.
pub(crate) fn protected_resource_document(shared: &Shared) -> Value {
    let s = &shared.settings;
    json!({
        "resource": format!("{}/mcp", s.public_url),
        "authorization_servers": [s.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["read", "write"],
        "resource_name": crate::SERVER_NAME,
    })
}

/// The RFC 8414 authorization-server document.
pub(crate) fn authorization_server_document(shared: &Shared) -> Value {
    let issuer = &shared.settings.issuer;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["read", "write"],
    })
}

/// `GET /.well-known/oauth-protected-resource`.
pub(crate) async fn protected_resource(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(protected_resource_document(&shared))
}

/// `GET /.well-known/oauth-authorization-server`.
pub(crate) async fn authorization_server(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(authorization_server_document(&shared))
}

/// `GET /health`: the process serves; the API is not asked.
pub(crate) async fn health(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "name": crate::SERVER_NAME,
        "version": crate::SERVER_VERSION,
        "sessions": {
            "streamable": shared.sessions.len(),
            "legacy": shared.legacy.len(),
        },
    }))
}
