//! Team Management (toolset `teams`, contract §5.3 #41–#43): `create_team`, `list_teams`,
//! `delete_team`. Teams group org members, e.g. for time reports by team; they live under an
//! org, whose id defaults to the caller's org.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Cursor, Id, Limit};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// Arguments of `create_team`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing)]
    pub org_id: Option<Id>,
    /// Team name, 1–100 characters, unique in the org (case-insensitive), e.g. `Frontend`.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// What the team does, up to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
    /// User uuids of the first members; each must be an org member (see `list_members`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_ids: Option<Vec<Id>>,
}

/// Arguments of `list_teams`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTeamsParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Only teams that contain this user (user uuid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Id>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one (with the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `delete_team`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTeamParams {
    /// Team uuid (see `list_teams`).
    pub team_id: Id,
}

/// `/api/v1/orgs/{org_id}/teams`, the org defaulting to the caller's.
fn teams_path(caller_org: &str, org_id: Option<&Id>) -> ApiPath {
    let org = org_id.map_or(caller_org, Id::as_str);
    ApiPath::fixed("/api/v1/orgs").seg(org).then("teams")
}

#[tool_router(router = teams_router, vis = "pub(crate)")]
impl Tools {
    /// Create a team in the org (needs Admin), optionally with its first members. Use
    /// `list_teams` first to avoid a duplicate name. Returns the new Team with its sorted
    /// `member_ids`.
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
        let caller = self.caller(&ctx);
        let path = teams_path(&caller.identity.org_id, p.org_id.as_ref());
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// List the teams of the org, oldest first, optionally only those containing one user. Use
    /// it to find team ids (e.g. for `get_time_report` with `team_id`) or who is in which team.
    /// Returns one page `{items: [Team], next_cursor, has_more}`.
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
        let caller = self.caller(&ctx);
        let path = teams_path(&caller.identity.org_id, p.org_id.as_ref());
        let query = Query::new()
            .opt("user_id", p.user_id.as_ref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Delete a team (needs Admin). Its members, their tickets and their time are untouched;
    /// only the grouping goes. Cannot be undone. Returns `{deleted: true, team_id}`.
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
        let caller = self.caller(&ctx);
        let r = caller
            .api
            .delete(ApiPath::fixed("/api/v1/teams").seg(p.team_id.as_str()))
            .await;
        Ok(errors::deleted_result(r, "team_id", p.team_id.as_str()))
    }
}
