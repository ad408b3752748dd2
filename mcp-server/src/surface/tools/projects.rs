//! Project Management (toolset `projects`, contract §5.3 #28–#32): `create_project`,
//! `list_projects`, `get_project`, `update_project`, `delete_project`. Projects are addressed
//! by uuid or key (`WEB`); the reference goes to the API as given. The finance fields (PF,
//! contract §5.2) are shared by create and update. There is no `org_id` argument: a key acts
//! in one org, and that org is the only one a project can be created in or listed from.

use crate::surface::tools::Tools;
use crate::surface::tools::shared::{BudgetPeriod, CapitalizationType, DevelopmentPhase, Id, Page, Patch, ProjectRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// The fields `update_project` can change (`name` and PF); at least one must be given.
const UPDATE_FIELDS: &[&str] = &[
    "name",
    "description",
    "workflow_id",
    "capitalization_type",
    "development_phase",
    "cost_center_id",
    "budget_cents",
    "budget_period",
    "amortization_months",
];

/// The project finance fields (PF): description, workflow and the capitalization and budget
/// settings. All optional; `null` means "none" (on update: clears the field).
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct ProjectFields {
    /// Markdown; `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 10000))]
    pub description: Patch<String>,
    /// Default: `Default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<Id>,
    /// Or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub capitalization_type: Patch<CapitalizationType>,
    /// `AppDevelopment` on `Capex` is capitalised; or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub development_phase: Patch<DevelopmentPhase>,
    /// E.g. `ENG-001`, or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(min = 1, max = 64))]
    pub cost_center_id: Patch<String>,
    /// Cents per `budget_period`, or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub budget_cents: Patch<u64>,
    /// Or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub budget_period: Patch<BudgetPeriod>,
    /// Or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(range(min = 1, max = 120))]
    pub amortization_months: Patch<u32>,
}

/// Arguments of `create_project`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CreateProjectParams {
    /// E.g. `WEB`; prefixes ticket keys.
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9]{1,9}$"))]
    pub key: String,
    /// Project name.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Optional description, workflow and finance settings.
    #[serde(flatten)]
    pub fields: ProjectFields,
}

/// Arguments of `list_projects`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectsParams {
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of the tools that take only a project (`get_project`, `delete_project`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectIdParams {
    /// Project key or uuid.
    pub project_id: ProjectRef,
}

/// Arguments of `update_project`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateProjectParams {
    /// Project key or uuid.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// The description, workflow and finance fields to change.
    #[serde(flatten)]
    pub fields: ProjectFields,
}

fn project_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str())
}

#[tool_router(router = projects_router, vis = "pub(crate)")]
impl Tools {
    /// Create a project (the caller joins it), optionally with a workflow and finance settings.
    #[tool(
        title = "Create project",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_project(
        &self,
        Parameters(p): Parameters<CreateProjectParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, "/api/v1/projects", &p).await
    }

    /// The org's projects, oldest first, with their keys and settings.
    #[tool(
        title = "List projects",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_projects(
        &self,
        Parameters(p): Parameters<ListProjectsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new().page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, "/api/v1/projects", query).await
    }

    /// A project's own fields; counts, sprint and budget burn: `get_project_summary`.
    #[tool(
        title = "Get project",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_project(
        &self,
        Parameters(p): Parameters<ProjectIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.get_json(&ctx, project_path(&p.project_id), Query::new()).await
    }

    /// Change a project's name, description, workflow or finance settings (`null` clears).
    #[tool(
        title = "Update project",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_project(
        &self,
        Parameters(p): Parameters<UpdateProjectParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.patch_params(&ctx, project_path(&p.project_id), &p, UPDATE_FIELDS)
            .await
    }

    /// Delete a project with all its tickets, sprints and labels, for good (Admin; refused with
    /// submitted time).
    #[tool(
        title = "Delete project",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_project(
        &self,
        Parameters(p): Parameters<ProjectIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.delete_item(&ctx, project_path(&p.project_id), "project_id", p.project_id.as_str())
            .await
    }
}
