//! Sprint Lifecycle (toolset `sprints`, contract §5.3 #33–#40): `create_sprint`,
//! `list_sprints`, `update_sprint`, `start_sprint`, `complete_sprint`, `get_sprint_burndown`,
//! `get_sprint` (optionally with its board) and `delete_sprint`. Sprints belong to a project and
//! move only Planned → Active → Completed; at most one sprint per project is Active. Every tool
//! that takes a sprint takes its uuid, or with `project_id` its name, `active` or `last`
//! ([`crate::surface::tools::names`]).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::names::{Resolver, Step, is_uuid};
use crate::surface::tools::shared::{Date, Page, Patch, ProjectRef, SprintRef, SprintStatus};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The fields `update_sprint` can change (at least one must be given).
const SPRINT_FIELDS: &[&str] = &["name", "goal", "start_date", "end_date"];

/// Arguments of `create_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSprintParams {
    /// Project key or uuid.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// E.g. `Sprint 4`.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub goal: Option<String>,
    /// First day.
    pub start_date: Date,
    /// Last day (≤ 365 days).
    pub end_date: Date,
}

/// Arguments of `list_sprints`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSprintsParams {
    /// Project key or uuid.
    pub project_id: ProjectRef,
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<SprintStatus>>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `update_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSprintParams {
    /// Uuid; with `project_id` a name or `active`.
    #[serde(skip_serializing)]
    pub sprint_id: SprintRef,
    /// Project key, for names.
    #[serde(default, skip_serializing)]
    pub project_id: Option<ProjectRef>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 1000))]
    pub goal: Patch<String>,
    /// New first day (Planned only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Date>,
    /// New last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Date>,
}

/// Arguments of the tools that take only a sprint (`start_sprint`, `get_sprint_burndown`,
/// `delete_sprint`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SprintIdParams {
    /// Uuid; with `project_id` a name, `active`, `last`.
    pub sprint_id: SprintRef,
    /// Project key, for names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
}

/// Arguments of `complete_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteSprintParams {
    /// Uuid; with `project_id` a name or `active`.
    #[serde(skip_serializing)]
    pub sprint_id: SprintRef,
    /// Project key, for names.
    #[serde(default, skip_serializing)]
    pub project_id: Option<ProjectRef>,
    /// A Planned sprint (name or uuid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_unfinished_to: Option<SprintRef>,
}

/// Arguments of `get_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSprintParams {
    /// Uuid; with `project_id` a name, `active`, `last`.
    pub sprint_id: SprintRef,
    /// Project key, for names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Also the board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_board: Option<bool>,
}

fn project_sprints_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("sprints")
}

fn sprint_path(sprint: &str) -> ApiPath {
    ApiPath::fixed("/api/v1/sprints").seg(sprint)
}

/// The uuid of the sprint a tool is about.
async fn sprint_id(names: &mut Resolver<'_>, sprint: &SprintRef, project: Option<&ProjectRef>) -> Step<String> {
    names
        .sprint("sprint_id", project.map(ProjectRef::as_str), sprint.as_str())
        .await
}

#[tool_router(router = sprints_router, vis = "pub(crate)")]
impl Tools {
    /// Create a Planned sprint; plan tickets into it with `batch_update_tickets`, begin it with
    /// `start_sprint`.
    #[tool(
        title = "Create sprint",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_sprint(
        &self,
        Parameters(p): Parameters<CreateSprintParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, project_sprints_path(&p.project_id), &p).await
    }

    /// A project's sprints, earliest first, optionally by status.
    #[tool(
        title = "List sprints",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_sprints(
        &self,
        Parameters(p): Parameters<ListSprintsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new()
            .list("status", p.status.as_deref())
            .page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, project_sprints_path(&p.project_id), query).await
    }

    /// Change a sprint's name, goal or dates; its status: `start_sprint`, `complete_sprint`.
    #[tool(
        title = "Update sprint",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_sprint(
        &self,
        Parameters(p): Parameters<UpdateSprintParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let body = body(&p)?;
        if let Value::Object(m) = &body {
            errors::require_at_least_one(m, SPRINT_FIELDS)?;
        }
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            Ok(errors::json_result(caller.api.patch(sprint_path(&id), &body).await))
        })
        .await
    }

    /// Start a Planned sprint (a project has one Active sprint at most).
    #[tool(
        title = "Start sprint",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn start_sprint(
        &self,
        Parameters(p): Parameters<SprintIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            let path = sprint_path(&id).then("start");
            Ok(errors::json_result(caller.api.post(path, None).await))
        })
        .await
    }

    /// Complete the Active sprint, for good: open tickets move to the backlog or
    /// `move_unfinished_to`; the burndown freezes.
    #[tool(
        title = "Complete sprint",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn complete_sprint(
        &self,
        Parameters(p): Parameters<CompleteSprintParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            let mut body = serde_json::Map::new();
            if let Some(target) = &p.move_unfinished_to {
                let target = if is_uuid(target.as_str()) {
                    target.as_str().to_string()
                } else {
                    // A name is looked up in the sprint's own project.
                    let project = match &p.project_id {
                        Some(project) => project.as_str().to_string(),
                        None => {
                            let sprint = errors::json_value(caller.api.get(sprint_path(&id), &Query::new()).await)?;
                            sprint["project_id"].as_str().unwrap_or_default().to_string()
                        }
                    };
                    names
                        .sprint("move_unfinished_to", Some(&project), target.as_str())
                        .await?
                };
                body.insert("move_unfinished_to".into(), Value::String(target));
            }
            let path = sprint_path(&id).then("complete");
            Ok(errors::json_result(
                caller.api.post(path, Some(&Value::Object(body))).await,
            ))
        })
        .await
    }

    /// A sprint's daily remaining and completed tickets and points against the ideal line.
    #[tool(
        title = "Sprint burndown",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_sprint_burndown(
        &self,
        Parameters(p): Parameters<SprintIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            let path = sprint_path(&id).then("burndown");
            Ok(errors::json_result(caller.api.get(path, &Query::new()).await))
        })
        .await
    }

    /// One sprint; with `include_board` also its tickets by status.
    #[tool(
        title = "Get sprint",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_sprint(
        &self,
        Parameters(p): Parameters<GetSprintParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            let path = sprint_path(&id);
            let sprint = errors::json_value(caller.api.get(path.clone(), &Query::new()).await)?;
            let board = if p.include_board.unwrap_or(false) {
                errors::json_value(caller.api.get(path.then("board"), &Query::new()).await)?
            } else {
                Value::Null
            };
            Ok(errors::success(&json!({"sprint": sprint, "board": board})))
        })
        .await
    }

    /// Delete a Planned or Completed sprint, for good (Admin); its tickets go to the backlog.
    #[tool(
        title = "Delete sprint",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_sprint(
        &self,
        Parameters(p): Parameters<SprintIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let id = sprint_id(names, &p.sprint_id, p.project_id.as_ref()).await?;
            let r = caller.api.delete(sprint_path(&id)).await;
            Ok(errors::deleted_result(r, "sprint_id", p.sprint_id.as_str()))
        })
        .await
    }
}
