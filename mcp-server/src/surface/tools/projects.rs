//! Project Management (toolset `projects`, contract §5.3 #28–#32): `create_project`,
//! `list_projects`, `get_project`, `update_project`, `delete_project`. Projects are addressed
//! by uuid or key (`WEB`); the reference goes to the API as given. The finance fields (PF,
//! contract §5.2) are shared by create and update.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{
    BudgetPeriod, CapitalizationType, Cursor, DevelopmentPhase, Id, Limit, Patch, ProjectRef,
};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Markdown description, up to 10 000 characters, or `null` for none.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 10000))]
    pub description: Patch<String>,
    /// Workflow uuid (default on create: the org's `Default` workflow; see `list_workflows`). Changing it later needs Admin and a workflow that has every status the project's tickets are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<Id>,
    /// `Capex` or `Opex` (capitalization reporting), or `null` for unclassified.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub capitalization_type: Patch<CapitalizationType>,
    /// ASC 350-40 stage; only `AppDevelopment` time on a `Capex` project is capitalised. `null` for none.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub development_phase: Patch<DevelopmentPhase>,
    /// Cost center, free text of 1–64 characters such as `ENG-001`, or `null` for none.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(min = 1, max = 64))]
    pub cost_center_id: Patch<String>,
    /// Budget in cents (integer ≥ 0) per `budget_period`, or `null` for no budget.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub budget_cents: Patch<u64>,
    /// Period the budget applies to (calendar month, quarter, year, or all time), or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub budget_period: Patch<BudgetPeriod>,
    /// Months over which capitalised cost is amortised, 1–120, or `null`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(range(min = 1, max = 120))]
    pub amortization_months: Patch<u32>,
}

/// Arguments of `create_project`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CreateProjectParams {
    /// Org uuid to create the project in (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Project key, 2–10 letters or digits starting with a letter, e.g. `WEB`; stored upper-case, unique in the org, immutable; prefixes ticket keys (`WEB-42`).
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9]{1,9}$"))]
    pub key: String,
    /// Project name, 1–100 characters.
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
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of the tools that take only a project (`get_project`, `delete_project`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectIdParams {
    /// Project uuid or key, e.g. `WEB`.
    pub project_id: ProjectRef,
}

/// Arguments of `update_project`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateProjectParams {
    /// Project uuid or key, e.g. `WEB`.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// New project name, 1–100 characters.
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
    /// Create a project in the caller's org (or `org_id`), with a unique key such as `WEB`
    /// that prefixes its ticket keys, optionally with a workflow and the finance settings
    /// (capitalization type, development phase, cost center, budget, amortization). The
    /// caller becomes a project member. Returns the new Project (`ticket_counter` 0).
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
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post("/api/v1/projects", Some(&body)).await,
        ))
    }

    /// List the projects of the caller's org (or `org_id`), oldest first, e.g. to find a
    /// project's key or uuid. Use `get_project` for one project and `get_project_summary` for
    /// its ticket, sprint and budget figures. Returns one page `{items: [Project],
    /// next_cursor, has_more}`; pass `next_cursor` back as `cursor` for more.
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
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("org_id", p.org_id.as_ref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get("/api/v1/projects", &query).await))
    }

    /// Get one project by uuid or key (e.g. `WEB`): name, description, workflow, ticket
    /// counter and finance settings (capitalization type, development phase, cost center,
    /// budget, amortization). For counts, the active sprint and budget burn use
    /// `get_project_summary`. Returns the Project.
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(project_path(&p.project_id), &Query::new()).await,
        ))
    }

    /// Change a project's name, description, workflow or finance settings (capitalization
    /// type, development phase, cost center, budget and its period, amortization months); at
    /// least one field, `null` clears a nullable one. The key cannot change. Switching the
    /// workflow needs Admin and is refused when tickets are in statuses the new workflow lacks.
    /// Returns the updated Project.
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
        let body = body(&p)?;
        if let Value::Object(m) = &body {
            errors::require_at_least_one(m, UPDATE_FIELDS)?;
        }
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.patch(project_path(&p.project_id), &body).await,
        ))
    }

    /// Delete a project with its tickets, comments, activity, labels, sprints, members and
    /// draft or rejected time entries (needs Admin; refused while it has submitted or approved
    /// time). Cannot be undone. Returns `{deleted: true, project_id}`.
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
        let caller = self.caller(&ctx);
        let r = caller.api.delete(project_path(&p.project_id)).await;
        Ok(errors::deleted_result(r, "project_id", p.project_id.as_str()))
    }
}
