//! Label Management (toolset `labels`, contract §5.3 #17–#23): `create_label`, `list_labels`,
//! `add_ticket_label`, `remove_ticket_label`, `get_label`, `update_label`, `delete_label`.
//! Labels belong to one project (uuid or key) and are then addressed by their own uuid; a
//! ticket can carry labels of its own project only.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Cursor, Id, Limit, Patch, ProjectRef, TicketRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Regex of a label colour, `#RRGGBB` (contract §3.3).
const COLOR_PATTERN: &str = "^#[0-9A-Fa-f]{6}$";

/// The editable label fields, for the "at least one" rule of `update_label`.
const LABEL_FIELDS: &[&str] = &["name", "color", "description"];

/// Arguments of `create_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLabelParams {
    /// Project to create the label in: project uuid or key, e.g. `WEB`.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// Label name, 1–50 characters, unique in the project ignoring case, e.g. `frontend`.
    #[schemars(length(min = 1, max = 50))]
    pub name: String,
    /// Colour `#RRGGBB`, e.g. `#FF8800` (default `#6B7280`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = COLOR_PATTERN))]
    pub color: Option<String>,
    /// What the label means, up to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
}

/// Arguments of `list_labels`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListLabelsParams {
    /// Project whose labels to list: project uuid or key, e.g. `WEB`.
    pub project_id: ProjectRef,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `add_ticket_label` and `remove_ticket_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketLabelParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// Label uuid, a label of the ticket's project (see `list_labels`).
    pub label_id: Id,
}

/// Arguments of `get_label` and `delete_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelIdParams {
    /// Label uuid (see `list_labels`).
    pub label_id: Id,
}

/// Arguments of `update_label`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLabelParams {
    /// Label uuid (see `list_labels`).
    #[serde(skip_serializing)]
    pub label_id: Id,
    /// New name, 1–50 characters, unique in the project ignoring case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub name: Option<String>,
    /// New colour `#RRGGBB`, e.g. `#FF8800`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = COLOR_PATTERN))]
    pub color: Option<String>,
    /// New description (up to 500 characters), or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 500))]
    pub description: Patch<String>,
}

fn label_path(label: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/labels").seg(label.as_str())
}

fn project_labels_path(project: &ProjectRef) -> ApiPath {
    ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("labels")
}

#[tool_router(router = labels_router, vis = "pub(crate)")]
impl Tools {
    /// Create a label in a project (e.g. `frontend`, `tech-debt`), to categorise its tickets.
    /// Check `list_labels` first: names are unique per project, ignoring case. Attach it to
    /// tickets with `add_ticket_label`. For free-form key/value metadata use `set_tags`
    /// instead. Returns the new Label.
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
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post(project_labels_path(&p.project_id), Some(&body)).await,
        ))
    }

    /// List a project's labels, ordered by name, with how many tickets carry each. Use it to
    /// find label ids for `add_ticket_label` or for the `label_id` filter of `search_tickets`.
    /// Returns one page `{items: [Label], next_cursor, has_more}`.
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
        let caller = self.caller(&ctx);
        let query = Query::new().opt("limit", p.limit).opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(
            caller.api.get(project_labels_path(&p.project_id), &query).await,
        ))
    }

    /// Attach a label of the ticket's own project to a ticket. Attaching a label the ticket
    /// already carries changes nothing. Returns the Ticket with its `labels`.
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
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(p.ticket_id.as_str())
            .then("labels");
        let body = json!({"label_id": p.label_id});
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// Detach a label from a ticket (the label itself stays; use `delete_label` to remove it
    /// from the project). Detaching a label the ticket does not carry changes nothing.
    /// Returns the Ticket with its remaining `labels`.
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
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(p.ticket_id.as_str())
            .then("labels")
            .seg(p.label_id.as_str());
        Ok(errors::json_result(caller.api.delete(path).await))
    }

    /// Get one label by uuid: name, colour, description, project and how many tickets carry
    /// it. Use `list_labels` to find label ids of a project. Returns the Label.
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(label_path(&p.label_id), &Query::new()).await,
        ))
    }

    /// Rename, recolour or re-describe a label (at least one of `name`, `color`,
    /// `description`; `description: null` clears it). Tickets keep the label. Returns the
    /// updated Label.
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
        let body = body(&p)?;
        if let Value::Object(m) = &body {
            errors::require_at_least_one(m, LABEL_FIELDS)?;
        }
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.patch(label_path(&p.label_id), &body).await,
        ))
    }

    /// Delete a label from its project (needs Admin); it is first detached from every ticket
    /// carrying it. Cannot be undone. To take a label off one ticket use
    /// `remove_ticket_label`. Returns `{deleted: true, label_id}`.
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
        let caller = self.caller(&ctx);
        let r = caller.api.delete(label_path(&p.label_id)).await;
        Ok(errors::deleted_result(r, "label_id", p.label_id.as_str()))
    }
}
