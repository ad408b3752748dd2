//! Workflow Management (toolset `workflows`, contract §5.3 #44–#48): `create_workflow`,
//! `list_workflows`, `update_workflow`, `get_workflow`, `delete_workflow`. A workflow is the
//! ordered list of statuses (each with a category) a project's tickets move through, the allowed
//! transitions between them and whether those are enforced (`strict`). Every org has a built-in
//! `Default` workflow that cannot be changed or deleted. Workflows live in the caller's org (the
//! only org a key acts in, so there is no `org_id` argument).

use crate::surface::tools::Tools;
use crate::surface::tools::shared::{Id, Page, Patch, StatusCategory, StatusName, WorkflowEnforcement};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

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
    /// E.g. `InReview`.
    pub name: StatusName,
    /// Open = `Unstarted`, `Started`.
    pub category: StatusCategory,
}

/// One allowed move between two statuses of a workflow.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct TransitionInput {
    /// From this status.
    pub from: StatusName,
    /// To this one.
    pub to: StatusName,
}

/// Arguments of `create_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflowParams {
    /// Unique in the org.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
    /// Board order; an `Unstarted` and a `Completed` at least.
    #[schemars(length(min = 2, max = 20))]
    pub statuses: Vec<WorkflowStatusInput>,
    /// An `Unstarted` status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_status: Option<StatusName>,
    /// Allowed moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionInput>>,
    /// `strict`: only listed moves (default `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<WorkflowEnforcement>,
}

/// Arguments of `list_workflows`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWorkflowsParams {
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `update_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflowParams {
    /// Workflow uuid.
    #[serde(skip_serializing)]
    pub workflow_id: Id,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 500))]
    pub description: Patch<String>,
    /// The whole new list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 20))]
    pub statuses: Option<Vec<WorkflowStatusInput>>,
    /// An `Unstarted` status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_status: Option<StatusName>,
    /// The whole new list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionInput>>,
    /// `strict`: only listed moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<WorkflowEnforcement>,
}

/// Arguments of `get_workflow` and `delete_workflow`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowIdParams {
    /// Workflow uuid.
    pub workflow_id: Id,
}

fn workflow_path(workflow: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/workflows").seg(workflow.as_str())
}

#[tool_router(router = workflows_router, vis = "pub(crate)")]
impl Tools {
    /// Create a workflow (Admin): statuses in board order, transitions, enforcement. Assign it with
    /// `update_project`.
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
        self.post_params(&ctx, self.org_path(&ctx, "workflows"), &p).await
    }

    /// The org's workflows, `Default` first, with statuses and project counts.
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
        let query = Query::new().page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, self.org_path(&ctx, "workflows"), query).await
    }

    /// Change a custom workflow (Admin). `statuses` and `transitions` replace the lists: read it
    /// with `get_workflow` first.
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
        self.patch_params(&ctx, workflow_path(&p.workflow_id), &p, WORKFLOW_FIELDS)
            .await
    }

    /// One workflow: statuses in board order, transitions, enforcement.
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
        self.get_json(&ctx, workflow_path(&p.workflow_id), Query::new()).await
    }

    /// Delete a custom workflow no project uses, for good (Admin).
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
        self.delete_item(
            &ctx,
            workflow_path(&p.workflow_id),
            "workflow_id",
            p.workflow_id.as_str(),
        )
        .await
    }
}
