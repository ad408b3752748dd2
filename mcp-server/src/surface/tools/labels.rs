//! Label Management (toolset `labels`, contract §5.3 #17–#23): `create_label`, `list_labels`,
//! `add_ticket_label`, `remove_ticket_label`, `get_label`, `update_label`, `delete_label`.
//! Labels belong to one project (uuid or key) and are then addressed by their own uuid; a
//! ticket can carry labels of its own project only, which is also where a label name given to
//! `add_ticket_label` / `remove_ticket_label` is looked up ([`crate::surface::tools::names`]).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::names::{Resolver, Step};
use crate::surface::tools::shared::{Id, LabelRef, Page, Patch, ProjectRef, TicketRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Regex of a label colour, `#RRGGBB` (contract §3.3).
const COLOR_PATTERN: &str = "^#[0-9A-Fa-f]{6}$";

/// The editable label fields, for the "at least one" rule of `update_label`.
const LABEL_FIELDS: &[&str] = &["name", "color", "description"];

/// Arguments of `create_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLabelParams {
    /// Project key or uuid.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// Unique in the project.
    #[schemars(length(min = 1, max = 50))]
    pub name: String,
    /// `#RRGGBB` (default `#6B7280`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = COLOR_PATTERN))]
    pub color: Option<String>,
    /// What it means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
}

/// Arguments of `list_labels`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListLabelsParams {
    /// Project key or uuid.
    pub project_id: ProjectRef,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `add_ticket_label` and `remove_ticket_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketLabelParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// Label name or uuid.
    pub label_id: LabelRef,
}

/// Arguments of `get_label` and `delete_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelIdParams {
    /// Label uuid.
    pub label_id: Id,
}

/// Arguments of `update_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLabelParams {
    /// Label uuid.
    #[serde(skip_serializing)]
    pub label_id: Id,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub name: Option<String>,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = COLOR_PATTERN))]
    pub color: Option<String>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 500))]
    pub description: Patch<String>,
}

impl TicketLabelParams {
    /// The path of the ticket's labels and the uuid of the label, a name being looked up in
    /// the ticket's project.
    async fn resolve(&self, names: &mut Resolver<'_>) -> Step<(ApiPath, String)> {
        let project = names.ticket_project(&self.ticket_id).await?;
        let label = names.label("label_id", &project, self.label_id.as_str()).await?;
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(self.ticket_id.as_str())
            .then("labels");
        Ok((path, label))
    }
}

fn label_path(label: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/labels").seg(label.as_str())
}

fn project_labels_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("labels")
}

#[tool_router(router = labels_router, vis = "pub(crate)")]
impl Tools {
    /// Create a project label such as `tech-debt` (check `list_labels` first); free key/value data:
    /// `set_tags`.
    #[tool(
        title = "Create label",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_label(
        &self,
        Parameters(p): Parameters<CreateLabelParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, project_labels_path(&p.project_id), &p).await
    }

    /// A project's labels with ticket counts (tools take label names).
    #[tool(
        title = "List labels",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_labels(
        &self,
        Parameters(p): Parameters<ListLabelsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new().page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, project_labels_path(&p.project_id), query).await
    }

    /// Put a label of the ticket's project on the ticket.
    #[tool(
        title = "Label a ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_ticket_label(
        &self,
        Parameters(p): Parameters<TicketLabelParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let (path, label) = p.resolve(names).await?;
            let body = json!({"label_id": label});
            Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
        })
        .await
    }

    /// Take a label off one ticket; it stays in the project.
    #[tool(
        title = "Unlabel a ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn remove_ticket_label(
        &self,
        Parameters(p): Parameters<TicketLabelParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let (path, label) = p.resolve(names).await?;
            Ok(errors::json_result(caller.api.delete(path.seg(&label)).await))
        })
        .await
    }

    /// Get one label by uuid, with its ticket count.
    #[tool(
        title = "Get label",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_label(
        &self,
        Parameters(p): Parameters<LabelIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.get_json(&ctx, label_path(&p.label_id), Query::new()).await
    }

    /// Rename, recolour or re-describe a label; tickets keep it.
    #[tool(
        title = "Update label",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_label(
        &self,
        Parameters(p): Parameters<UpdateLabelParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.patch_params(&ctx, label_path(&p.label_id), &p, LABEL_FIELDS).await
    }

    /// Delete a label from its project and all tickets, for good (Admin). One ticket:
    /// `remove_ticket_label`.
    #[tool(
        title = "Delete label",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_label(
        &self,
        Parameters(p): Parameters<LabelIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.delete_item(&ctx, label_path(&p.label_id), "label_id", p.label_id.as_str())
            .await
    }
}
