//! Sprint Lifecycle (toolset `sprints`, contract §5.3 #33–#40): `create_sprint`,
//! `list_sprints`, `update_sprint`, `start_sprint`, `complete_sprint`, `get_sprint_burndown`,
//! `get_sprint` (optionally with its board) and `delete_sprint`. Sprints belong to a project and
//! move only Planned → Active → Completed; at most one sprint per project is Active.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Cursor, Date, Id, Limit, Patch, ProjectRef, SprintStatus};
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
    /// Project to create the sprint in: project uuid or key, e.g. `WEB`.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// Sprint name, 1–100 characters, e.g. `Sprint 4 - Search`.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// What the sprint should achieve, up to 1000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub goal: Option<String>,
    /// First day of the sprint, `YYYY-MM-DD`.
    pub start_date: Date,
    /// Last day of the sprint, `YYYY-MM-DD`: on or after `start_date`, at most 365 days after it.
    pub end_date: Date,
}

/// Arguments of `list_sprints`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSprintsParams {
    /// Project whose sprints to list: project uuid or key, e.g. `WEB`.
    pub project_id: ProjectRef,
    /// Only sprints in these statuses, e.g. `["Active", "Planned"]` (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<SprintStatus>>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one (with the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `update_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSprintParams {
    /// Sprint uuid (see `list_sprints`).
    #[serde(skip_serializing)]
    pub sprint_id: Id,
    /// New name, 1–100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// New goal (up to 1000 characters), or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 1000))]
    pub goal: Patch<String>,
    /// New first day `YYYY-MM-DD` (only while the sprint is Planned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Date>,
    /// New last day `YYYY-MM-DD` (Planned or Active sprints), at most 365 days after the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Date>,
}

/// Arguments of the tools that take only a sprint (`start_sprint`, `get_sprint_burndown`,
/// `delete_sprint`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SprintIdParams {
    /// Sprint uuid (see `list_sprints`).
    pub sprint_id: Id,
}

/// Arguments of `complete_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteSprintParams {
    /// Sprint uuid of the Active sprint to complete.
    #[serde(skip_serializing)]
    pub sprint_id: Id,
    /// Uuid of a Planned sprint of the same project that receives the open tickets; omit to move them to the backlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_unfinished_to: Option<Id>,
}

/// Arguments of `get_sprint`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSprintParams {
    /// Sprint uuid (see `list_sprints`).
    pub sprint_id: Id,
    /// Also return the sprint board: its tickets grouped by workflow status (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_board: Option<bool>,
}

fn sprint_path(sprint: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/sprints").seg(sprint.as_str())
}

#[tool_router(router = sprints_router, vis = "pub(crate)")]
impl Tools {
    /// Create a sprint in a project; it starts `Planned` (use `start_sprint` to begin it). Plan
    /// tickets into it afterwards with `batch_update_tickets` or `update_ticket` (`sprint_id`).
    /// Returns the new Sprint.
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
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/projects")
            .seg(p.project_id.as_str())
            .then("sprints");
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// List the sprints of a project, oldest start date first, optionally only those in some
    /// statuses (e.g. the `Active` one, or `Planned` ones to plan into). Use `get_sprint` for
    /// one sprint with its board. Returns one page `{items: [Sprint], next_cursor, has_more}`.
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
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/projects")
            .seg(p.project_id.as_str())
            .then("sprints");
        let query = Query::new()
            .list("status", p.status.as_deref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Change a sprint's name, goal or dates (at least one; `goal: null` clears the goal). The
    /// start date can change only while the sprint is Planned, the end date while it is Planned
    /// or Active; Completed sprints cannot change. Use `start_sprint` / `complete_sprint` to
    /// change its status. Returns the updated Sprint.
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.patch(sprint_path(&p.sprint_id), &body).await,
        ))
    }

    /// Start a Planned sprint: it becomes `Active` (dates unchanged). A project can have only one
    /// Active sprint; complete the current one first with `complete_sprint`. Returns the Sprint.
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
        let caller = self.caller(&ctx);
        let path = sprint_path(&p.sprint_id).then("start");
        Ok(errors::json_result(caller.api.post(path, None).await))
    }

    /// Complete the Active sprint: closed tickets stay in it, open tickets move to the backlog or
    /// to the Planned sprint `move_unfinished_to`, and its burndown is frozen. Cannot be undone.
    /// Review it first with `get_sprint` (`include_board`) and `get_sprint_burndown`. Returns
    /// `{sprint, completed_ticket_ids, carried_over_ticket_ids, moved_to_sprint_id}`.
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
        let caller = self.caller(&ctx);
        let path = sprint_path(&p.sprint_id).then("complete");
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// Get the day-by-day burndown of a sprint: remaining and completed tickets and story points
    /// per day next to the ideal line (frozen once the sprint is Completed). Use it to judge
    /// whether a sprint is on track. Returns the Burndown `{sprint_id, status, start_date,
    /// end_date, frozen, total_tickets, total_points, days: [...]}`.
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
        let caller = self.caller(&ctx);
        let path = sprint_path(&p.sprint_id).then("burndown");
        Ok(errors::json_result(caller.api.get(path, &Query::new()).await))
    }

    /// Get one sprint, and with `include_board: true` also its board (the sprint's tickets in
    /// one column per workflow status, most urgent first). Use `list_sprints` to find sprint ids.
    /// Returns `{sprint: Sprint, board: Board or null}`.
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
        let caller = self.caller(&ctx);
        let path = sprint_path(&p.sprint_id);
        let sprint = match errors::json_value(caller.api.get(path.clone(), &Query::new()).await) {
            Ok(v) => v,
            Err(e) => return Ok(*e),
        };
        let board = if p.include_board.unwrap_or(false) {
            match errors::json_value(caller.api.get(path.then("board"), &Query::new()).await) {
                Ok(v) => v,
                Err(e) => return Ok(*e),
            }
        } else {
            Value::Null
        };
        Ok(errors::success(&json!({"sprint": sprint, "board": board})))
    }

    /// Delete a Planned or Completed sprint (needs Admin; an Active sprint must be completed
    /// first). Its tickets go back to the backlog with their statuses untouched. Cannot be
    /// undone. Returns `{deleted: true, sprint_id}`.
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
        let caller = self.caller(&ctx);
        let r = caller.api.delete(sprint_path(&p.sprint_id)).await;
        Ok(errors::deleted_result(r, "sprint_id", p.sprint_id.as_str()))
    }
}
