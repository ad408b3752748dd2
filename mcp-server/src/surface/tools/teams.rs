//! Team Management (toolset `teams`, contract §5.3 #41–#43): `create_team`, `list_teams`,
//! `delete_team`. Teams group org members, e.g. for time reports by team; they live under the
//! caller's org (the only org a key acts in, so there is no `org_id` argument). Members are
//! named by `me`, email or uuid.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Id, Page, UserRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Arguments of `create_team`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamParams {
    /// Unique in the org.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
    /// `me`, emails or uuids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_ids: Option<Vec<UserRef>>,
}

/// Arguments of `list_teams`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTeamsParams {
    /// Has this user: `me`, an email, a uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserRef>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `delete_team`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTeamParams {
    /// Team uuid.
    pub team_id: Id,
}

/// `/api/v1/orgs/{org_id}/teams` of the caller's org.
fn teams_path(caller_org: &str) -> ApiPath {
    ApiPath::fixed("/api/v1/orgs").seg(caller_org).then("teams")
}

#[tool_router(router = teams_router, vis = "pub(crate)")]
impl Tools {
    /// Create a team of org members (Admin); check `list_teams` first.
    #[tool(
        title = "Create team",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_team(
        &self,
        Parameters(p): Parameters<CreateTeamParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let Value::Object(mut body) = body(&p)? else {
                return Err(errors::internal("team did not serialize to an object").into());
            };
            if let Some(members) = &p.member_ids {
                let mut ids = Vec::new();
                for m in members {
                    ids.push(Value::String(names.user("member_ids", m.as_str()).await?));
                }
                body.insert("member_ids".into(), Value::Array(ids));
            }
            let path = teams_path(&caller.identity.org_id);
            Ok(errors::json_result(
                caller.api.post(path, Some(&Value::Object(body))).await,
            ))
        })
        .await
    }

    /// The org's teams with member ids (team ids filter `get_time_report`).
    #[tool(
        title = "List teams",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_teams(
        &self,
        Parameters(p): Parameters<ListTeamsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let user = names.user_if_given("user_id", p.user_id.as_ref()).await?;
            let query = Query::new()
                .opt("user_id", user)
                .page(p.page.limit, p.page.cursor.as_ref());
            Ok(errors::json_result(
                caller.api.get(teams_path(&caller.identity.org_id), &query).await,
            ))
        })
        .await
    }

    /// Delete a team for good (Admin); its members and their work stay.
    #[tool(
        title = "Delete team",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_team(
        &self,
        Parameters(p): Parameters<DeleteTeamParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let path = ApiPath::fixed("/api/v1/teams").seg(p.team_id.as_str());
        self.delete_item(&ctx, path, "team_id", p.team_id.as_str()).await
    }
}
