//! Organization & Access (toolset `access`, contract §5.3 #50–#58): org members and invites,
//! project members, and the caller's API keys. Org-scoped paths (`/orgs/{org_id}/…`) are those
//! of the caller's org: a key acts in one org, so there is no `org_id` argument. Project
//! members are named by `me`, email or uuid.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{
    ApiKeyEnvironment, ApiKeyScope, DateTime, Email, Id, InviteRole, InviteStatus, OrgRole, Page, ProjectRef, UserRef,
};
use crate::upstream::api::{ApiPath, Query};
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
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Vec<OrgRole>>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `create_invite`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteParams {
    /// Who to invite.
    pub email: Email,
    /// Default `Member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<InviteRole>,
    /// Default 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 30))]
    pub expires_in_days: Option<u32>,
}

/// Arguments of `list_invites`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvitesParams {
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<InviteStatus>>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `add_project_member` and `remove_project_member`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMemberParams {
    /// Project key or uuid.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// `me`, an email or a uuid.
    pub user_id: UserRef,
}

/// Arguments of `list_project_members`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectMembersParams {
    /// Project key or uuid.
    pub project_id: ProjectRef,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `create_api_key`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyParams {
    /// What it is for.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Default both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2), extend("uniqueItems" = true))]
    pub scopes: Option<Vec<ApiKeyScope>>,
    /// Only these projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_ids: Option<Vec<ProjectRef>>,
    /// Default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime>,
    /// Default `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<ApiKeyEnvironment>,
}

/// Arguments of `list_api_keys`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListApiKeysParams {
    /// The org's keys (Admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `delete_api_key`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteApiKeyParams {
    /// The key's `id`.
    pub api_key_id: Id,
}

fn project_members_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("members")
}

#[tool_router(router = access_router, vis = "pub(crate)")]
impl Tools {
    /// The org's members: user id, email, name, role (tools take emails).
    #[tool(
        title = "List org members",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_members(
        &self,
        Parameters(p): Parameters<ListMembersParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new()
            .list("role", p.role.as_deref())
            .page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, self.org_path(&ctx, "members"), query).await
    }

    /// Invite someone to the org by email (Admin); the `code` is shown only once.
    #[tool(
        title = "Invite to the org",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_invite(
        &self,
        Parameters(p): Parameters<CreateInviteParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, self.org_path(&ctx, "invites"), &p).await
    }

    /// The org's invites, optionally by state (codes hidden).
    #[tool(
        title = "List invites",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_invites(
        &self,
        Parameters(p): Parameters<ListInvitesParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new()
            .list("status", p.status.as_deref())
            .page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, self.org_path(&ctx, "invites"), query).await
    }

    /// Add an org member to a project (it matters for Reporters, who work only in their projects).
    #[tool(
        title = "Add project member",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_project_member(
        &self,
        Parameters(p): Parameters<ProjectMemberParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let user = names.user("user_id", p.user_id.as_str()).await?;
            let body = json!({"user_id": user});
            Ok(errors::json_result(
                caller.api.post(project_members_path(&p.project_id), Some(&body)).await,
            ))
        })
        .await
    }

    /// Remove a user from a project; they stay in the org.
    #[tool(
        title = "Remove project member",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn remove_project_member(
        &self,
        Parameters(p): Parameters<ProjectMemberParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let user = names.user("user_id", p.user_id.as_str()).await?;
            let path = project_members_path(&p.project_id).seg(&user);
            Ok(match caller.api.delete(path).await {
                Ok(resp) if resp.is_success() => errors::success(&json!({
                    "removed": true,
                    "project_id": p.project_id,
                    "user_id": p.user_id,
                })),
                other => errors::json_result(other),
            })
        })
        .await
    }

    /// A project's members; the whole org: `list_members`.
    #[tool(
        title = "List project members",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_project_members(
        &self,
        Parameters(p): Parameters<ListProjectMembersParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new().page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, project_members_path(&p.project_id), query).await
    }

    /// Create an API key for the caller; its secret `key` is shown only once.
    #[tool(
        title = "Create API key",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_api_key(
        &self,
        Parameters(p): Parameters<CreateApiKeyParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, "/api/v1/api-keys", &p).await
    }

    /// The caller's API keys, or with `all` the org's (Admin); never secrets.
    #[tool(
        title = "List API keys",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_api_keys(
        &self,
        Parameters(p): Parameters<ListApiKeysParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new()
            .opt("all", p.all)
            .page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, "/api/v1/api-keys", query).await
    }

    /// Revoke an API key (own, or any as Admin); its calls fail from then on.
    #[tool(
        title = "Revoke API key",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_api_key(
        &self,
        Parameters(p): Parameters<DeleteApiKeyParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let path = ApiPath::fixed("/api/v1/api-keys").seg(p.api_key_id.as_str());
        self.delete_item(&ctx, path, "api_key_id", p.api_key_id.as_str()).await
    }
}
