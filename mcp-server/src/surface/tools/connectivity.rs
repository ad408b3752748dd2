//! Connectivity (toolset `connectivity`, always served; contract §5.3 #1–#2): `ping` checks
//! the way to the Alloy API and the key, `whoami` reports the identity behind the key.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::upstream::api::Query;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde_json::{Value, json};

#[tool_router(router = connectivity_router, vis = "pub(crate)")]
impl Tools {
    /// Check the API connection and key; use it when tools fail with `upstream_unavailable` or 401.
    /// Never fails.
    #[tool(
        title = "Check the connection",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn ping(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let none = Query::new();
        let (health, me) = tokio::join!(
            caller.api.get("/health", &none),
            caller.api.get("/api/v1/auth/me", &none)
        );
        // `/health` answers 503 with a Health body when the database is down: still reachable.
        let api_reachable = health.is_ok();
        let api = health
            .ok()
            .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter(Value::is_object)
            .unwrap_or(Value::Null);
        let identity = match me {
            Ok(r) if r.status == 200 => serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Ok(errors::success(&json!({
            "pong": true,
            "server": {"name": crate::SERVER_NAME, "version": crate::SERVER_VERSION},
            "api_reachable": api_reachable,
            "api": api,
            "identity": identity,
        })))
    }

    /// The key's `{user_id, org_id, email, role}`, e.g. to explain a 403.
    #[tool(
        title = "Who am I",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn whoami(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        self.get_json(&ctx, "/api/v1/auth/me", Query::new()).await
    }
}
