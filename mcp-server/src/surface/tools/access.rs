//! Organization & Access (toolset `access`, contract §5.3 #50–#58): org members and invites,
//! project members, and the caller's API keys. An omitted `org_id` of an org-scoped path
//! (`/orgs/{org_id}/…`) is filled from the caller's identity (contract §5.2).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{
    ApiKeyEnvironment, ApiKeyScope, Cursor, DateTime, Email, Id, InviteRole, InviteStatus, Limit, OrgRole, ProjectRef,
};
use crate::upstream::api::{ApiPath, Query};
use crate::upstream::identity::Caller;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Arguments of `list_members`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMembersParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Only members with one of these roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Vec<OrgRole>>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `create_invite`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteParams {
    /// Org uuid to invite into (default: the caller's org).
    #[serde(default, skip_serializing)]
    pub org_id: Option<Id>,
    /// Email address of the person to invite.
    pub email: Email,
    /// Role the invite grants (default `Member`; `Owner` cannot be invited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<InviteRole>,
    /// Days until the invite expires, 1–30 (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 30))]
    pub expires_in_days: Option<u32>,
}

/// Arguments of `list_invites`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvitesParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Only invites in one of these states (`Expired` = still Pending past `expires_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<InviteStatus>>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `add_project_member` and `remove_project_member`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMemberParams {
    /// Project uuid or key, e.g. `WEB`.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// User uuid of an org member (see `list_members`).
    pub user_id: Id,
}

/// Arguments of `list_project_members`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectMembersParams {
    /// Project uuid or key, e.g. `WEB`.
    pub project_id: ProjectRef,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `create_api_key`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyParams {
    /// A name that says what the key is for, 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Scopes (default both; `write` implies `read`); a key calling this may only grant its own scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2), extend("uniqueItems" = true))]
    pub scopes: Option<Vec<ApiKeyScope>>,
    /// Restrict the key to these projects (uuids or keys, e.g. `["WEB"]`); omitted or `[]` = all projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_ids: Option<Vec<ProjectRef>>,
    /// Expiry, an RFC 3339 timestamp in the future (default: never expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime>,
    /// `live` or `test`: the key's prefix (`alloy_live_` / `alloy_test_`); default `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<ApiKeyEnvironment>,
}

/// Arguments of `list_api_keys`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListApiKeysParams {
    /// List every key of the org instead of only the caller's (default false; true needs Admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `delete_api_key`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteApiKeyParams {
    /// API key uuid (the `id` from `list_api_keys`, not the secret key).
    pub api_key_id: Id,
}

/// `/api/v1/orgs/{org_id}/<rest>` with the given org, or the caller's org when omitted.
fn org_path(caller: &Caller, org_id: Option<&Id>, rest: &'static str) -> ApiPath {
    let org = org_id.map_or(caller.identity.org_id.as_str(), Id::as_str);
    ApiPath::fixed("/api/v1/orgs").seg(org).then(rest)
}

fn project_members_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("members")
}

#[tool_router(router = access_router, vis = "pub(crate)")]
impl Tools {
    /// List the members of the caller's org (or `org_id`) with their user ids, emails, display
    /// names and roles, oldest membership first; optionally only some roles. Use it to find
    /// user ids for assignments and project membership; use `list_project_members` for one
    /// project. Returns one page `{items: [Member], next_cursor, has_more}`.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn list_members(
        &self,
        Parameters(p): Parameters<ListMembersParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = org_path(&caller, p.org_id.as_ref(), "members");
        let query = Query::new()
            .list("role", p.role.as_deref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Invite someone by email to the caller's org (or `org_id`) with a role (default
    /// `Member`), valid for 1–30 days (default 7). Needs Admin; refused when the email is
    /// already a member or has a pending invite (check with `list_members` / `list_invites`).
    /// Returns the Invite including its `code`, shown only here: pass it to the invitee.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn create_invite(
        &self,
        Parameters(p): Parameters<CreateInviteParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = org_path(&caller, p.org_id.as_ref(), "invites");
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// List the invites of the caller's org (or `org_id`), optionally by state (`Pending`,
    /// `Accepted`, `Revoked`, `Expired`), e.g. to find stale invites. Codes are not shown.
    /// Returns one page `{items: [Invite], next_cursor, has_more}`.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn list_invites(
        &self,
        Parameters(p): Parameters<ListInvitesParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = org_path(&caller, p.org_id.as_ref(), "invites");
        let query = Query::new()
            .list("status", p.status.as_deref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Add an org member to a project. Project membership matters for Reporters, who may only
    /// file tickets and comments in their projects; Members and above act on every project.
    /// Refused when the user is not an org member or already in the project. Returns the
    /// ProjectMember.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn add_project_member(
        &self,
        Parameters(p): Parameters<ProjectMemberParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post(project_members_path(&p.project_id), Some(&body)).await,
        ))
    }

    /// Remove a user from a project (the user stays an org member; tickets and time are
    /// untouched). Use `list_project_members` to see who is in. Returns `{removed: true,
    /// project_id, user_id}`.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn remove_project_member(
        &self,
        Parameters(p): Parameters<ProjectMemberParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = project_members_path(&p.project_id).seg(p.user_id.as_str());
        Ok(match caller.api.delete(path).await {
            Ok(resp) if resp.is_success() => errors::success(&json!({
                "removed": true,
                "project_id": p.project_id,
                "user_id": p.user_id,
            })),
            other => errors::json_result(other),
        })
    }

    /// List the members of one project with their emails, display names and org roles, in
    /// the order they were added. Use `list_members` for the whole org. Returns one page
    /// `{items: [ProjectMember], next_cursor, has_more}`.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn list_project_members(
        &self,
        Parameters(p): Parameters<ListProjectMembersParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let query = Query::new().opt("limit", p.limit).opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(
            caller.api.get(project_members_path(&p.project_id), &query).await,
        ))
    }

    /// Create an API key for the caller in the caller's org, optionally limited in scopes,
    /// projects and lifetime. Returns the ApiKey with the secret `key`, shown only this once:
    /// tell the user to store it. Use `list_api_keys` to review existing keys.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn create_api_key(
        &self,
        Parameters(p): Parameters<CreateApiKeyParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post("/api/v1/api-keys", Some(&body)).await,
        ))
    }

    /// List the caller's API keys in the caller's org, or with `all` every key of the org
    /// (needs Admin), for access reviews: name, prefix, scopes, allowed projects, expiry and
    /// last use (never the secret). Returns one page `{items: [ApiKey], next_cursor, has_more}`.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn list_api_keys(
        &self,
        Parameters(p): Parameters<ListApiKeysParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("all", p.all)
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get("/api/v1/api-keys", &query).await))
    }

    /// Revoke (delete) an API key by its uuid: the caller's own key, or any key of the org for
    /// an Admin. Calls made with it fail from then on, including this server's own key if it
    /// is the one deleted. Cannot be undone. Returns `{deleted: true, api_key_id}`.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn delete_api_key(
        &self,
        Parameters(p): Parameters<DeleteApiKeyParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/api-keys").seg(p.api_key_id.as_str());
        let r = caller.api.delete(path).await;
        Ok(errors::deleted_result(r, "api_key_id", p.api_key_id.as_str()))
    }
}
