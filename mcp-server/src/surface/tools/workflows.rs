//! Workflow Management (toolset `workflows`, contract §5.3 #44–#48): `create_workflow`,
//! `list_workflows`, `update_workflow`, `get_workflow`, `delete_workflow`. A workflow is the
//! ordered list of statuses (each with a category) a project's tickets move through, the allowed
//! transitions between them and whether those are enforced (`strict`). Every org has a built-in
//! `Default` workflow that cannot be changed or deleted.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Cursor, Id, Limit, Patch, StatusCategory, StatusName, WorkflowEnforcement};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fields `update_workflow` can change (at least one must be given).
const WORKFLOW_FIELDS: &[&str] = &[
    "name",
    "description",
    "statuses",
    "initial_status",
    "transitions",
    "enforcement",
];

/// One status of a workflow: a board column.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct WorkflowStatusInput {
    /// Status name: a capital letter then letters or digits, up to 32 characters, e.g. `InReview`.
    pub name: StatusName,
    /// Category of the status; open = `Unstarted` or `Started`, closed = `Completed` or `Cancelled`.
    pub category: StatusCategory,
}

/// One allowed move between two statuses of a workflow.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct TransitionInput {
    /// Status the ticket leaves (one of the workflow's statuses).
    pub from: StatusName,
    /// Status the ticket enters (another of the workflow's statuses).
    pub to: StatusName,
}

/// Arguments of `create_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflowParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing)]
    pub org_id: Option<Id>,
    /// Workflow name, 1–100 characters, unique in the org (case-insensitive), e.g. `Delivery`.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// What the workflow is for, up to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
    /// 2–20 statuses with distinct names, in board column order; at least one `Unstarted` and one `Completed`.
    #[schemars(length(min = 2, max = 20))]
    pub statuses: Vec<WorkflowStatusInput>,
    /// Status new tickets start in; must be an `Unstarted` status (default: the first `Unstarted` one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_status: Option<StatusName>,
    /// Allowed moves `{from, to}` between listed statuses (distinct, `from` ≠ `to`); only enforced when `enforcement` is `strict` (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionInput>>,
    /// `none` (default): any status may follow any other; `strict`: only the listed transitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<WorkflowEnforcement>,
}

/// Arguments of `list_workflows`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWorkflowsParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `update_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflowParams {
    /// Workflow uuid (see `list_workflows`); the `Default` workflow cannot be changed.
    #[serde(skip_serializing)]
    pub workflow_id: Id,
    /// New name, 1–100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// New description (up to 500 characters), or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 500))]
    pub description: Patch<String>,
    /// The complete new status list (2–20, replaces the old one; a rename = remove + add). Removing a status that tickets still hold is refused; transitions whose ends are gone are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 20))]
    pub statuses: Option<Vec<WorkflowStatusInput>>,
    /// New initial status (an `Unstarted` status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_status: Option<StatusName>,
    /// The complete new transition list (replaces the old one; `[]` removes all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionInput>>,
    /// New enforcement: `none` or `strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<WorkflowEnforcement>,
}

/// Arguments of `get_workflow` and `delete_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowIdParams {
    /// Workflow uuid (see `list_workflows`, or a project's `workflow_id`).
    pub workflow_id: Id,
}

/// `/api/v1/orgs/{org_id}/workflows`, the org defaulting to the caller's.
fn workflows_path(caller_org: &str, org_id: Option<&Id>) -> ApiPath {
    let org = org_id.map_or(caller_org, Id::as_str);
    ApiPath::fixed("/api/v1/orgs").seg(org).then("workflows")
}

fn workflow_path(workflow: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/workflows").seg(workflow.as_str())
}

#[tool_router(router = workflows_router, vis = "pub(crate)")]
impl Tools {
    /// Create a custom workflow (needs Admin): its statuses in board order with categories,
    /// the initial status, the allowed transitions and the enforcement (`strict` refuses moves
    /// not listed). Assign it to a project afterwards with `update_project` (`workflow_id`).
    /// Returns the new Workflow.
    #[tool(
        title = "Create workflow",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_workflow(
        &self,
        Parameters(p): Parameters<CreateWorkflowParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = workflows_path(&caller.identity.org_id, p.org_id.as_ref());
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// List the org's workflows, `Default` first, with their statuses, transitions,
    /// enforcement and how many projects use each. Use `get_workflow` for one workflow by id.
    /// Returns one page `{items: [Workflow], next_cursor, has_more}`.
    #[tool(
        title = "List workflows",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_workflows(
        &self,
        Parameters(p): Parameters<ListWorkflowsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = workflows_path(&caller.identity.org_id, p.org_id.as_ref());
        let query = Query::new().opt("limit", p.limit).opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Change a custom workflow (needs Admin; at least one field; `description: null` clears
    /// it). `statuses` and `transitions` replace the whole lists, so send every entry to keep.
    /// Removing a status still held by tickets is refused (409 `in_use`); the `Default`
    /// workflow cannot be changed. Read the current one with `get_workflow` first. Returns the
    /// updated Workflow.
    #[tool(
        title = "Update workflow",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_workflow(
        &self,
        Parameters(p): Parameters<UpdateWorkflowParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let body = body(&p)?;
        if let Value::Object(m) = &body {
            errors::require_at_least_one(m, WORKFLOW_FIELDS)?;
        }
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.patch(workflow_path(&p.workflow_id), &body).await,
        ))
    }

    /// Get one workflow by id: its statuses (in board order, with categories), initial status,
    /// allowed transitions, enforcement and project count. A project's `workflow_id` (from
    /// `get_project`) names its workflow. Returns the Workflow.
    #[tool(
        title = "Get workflow",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_workflow(
        &self,
        Parameters(p): Parameters<WorkflowIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(workflow_path(&p.workflow_id), &Query::new()).await,
        ))
    }

    /// Delete a custom workflow no project uses (needs Admin; a used one → 409 `in_use`, the
    /// `Default` workflow → 422 `protected`). Move projects to another workflow first with
    /// `update_project`. Cannot be undone. Returns `{deleted: true, workflow_id}`.
    #[tool(
        title = "Delete workflow",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_workflow(
        &self,
        Parameters(p): Parameters<WorkflowIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let r = caller.api.delete(workflow_path(&p.workflow_id)).await;
        Ok(errors::deleted_result(r, "workflow_id", p.workflow_id.as_str()))
    }
}
