//! Tickets (toolset `tickets`, contract §5.3 #3–#12): create, read, search, update, transition,
//! batch transition and batch update, assign, "my tickets", delete. Tickets are addressed by
//! uuid or key (`WEB-42`); the reference goes to the API as given.
//!
//! This file is the worked example of the house pattern (see `tools.rs`): one params struct
//! per tool, one `#[tool_router]` block, each tool = (optional extra checks) → one generic API
//! call → one `errors::*_result`.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{
    Cursor, Date, Id, IdOrNone, Limit, Patch, Priority, ProjectRef, StatusCategory, StatusName, TicketRef, TicketSort,
    TicketType,
};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Arguments of `create_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketParams {
    /// Project to create the ticket in: project uuid or key, e.g. `WEB`.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// Title, 1–255 characters.
    #[schemars(length(min = 1, max = 255))]
    pub title: String,
    /// Description in Markdown, up to 50 000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50000))]
    pub description: Option<String>,
    /// Priority (default `Medium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Ticket type (default `Task`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    /// User uuid of the assignee (an org member); omit to leave it unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Id>,
    /// Sprint uuid (a Planned or Active sprint of the same project); omit for the backlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<Id>,
    /// Story points, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub story_points: Option<u32>,
    /// Due date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    /// User uuid of the reporter (default: the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_id: Option<Id>,
    /// Label uuids of the same project to attach (see `list_labels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_ids: Option<Vec<Id>>,
    /// Key/value tags, e.g. `{"env": "prod"}`; keys match `^[a-z0-9][a-z0-9_.:-]{0,63}$`, values up to 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Arguments of `get_ticket` and `delete_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIdParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
}

/// Arguments of `search_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchTicketsParams {
    /// Limit to one project: project uuid or key, e.g. `WEB` (default: the whole org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Text that must occur in the title or description (case-insensitive for ASCII letters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Status names to match, e.g. `["Todo", "InProgress"]` (statuses of the project's workflow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<StatusName>>,
    /// Status categories to match; open tickets are `Unstarted` and `Started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<Vec<StatusCategory>>,
    /// Priorities to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Vec<Priority>>,
    /// Ticket types to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<Vec<TicketType>>,
    /// Assignee user uuid, or `none` for unassigned tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<IdOrNone>,
    /// Reporter user uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_id: Option<Id>,
    /// Sprint uuid, or `none` for backlog tickets (in no sprint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<IdOrNone>,
    /// Label uuid; only tickets carrying that label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_id: Option<Id>,
    /// Tag key; only tickets having that tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_key: Option<String>,
    /// Exact tag value (needs `tag_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<String>,
    /// Order (default `created_at`); `-priority` = Critical first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<TicketSort>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one (with the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// The editable ticket fields; every field is optional, at least one must be given.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct TicketChanges {
    /// New title, 1–255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub title: Option<String>,
    /// New Markdown description (up to 50 000 characters), or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 50000))]
    pub description: Patch<String>,
    /// New priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// New ticket type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    /// Assignee user uuid, or `null` to unassign.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub assignee_id: Patch<Id>,
    /// Sprint uuid (Planned or Active, same project), or `null` to move to the backlog.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub sprint_id: Patch<Id>,
    /// Story points 0–100, or `null` to clear them.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(range(min = 0, max = 100))]
    pub story_points: Patch<u32>,
    /// Due date `YYYY-MM-DD`, or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub due_date: Patch<Date>,
}

impl TicketChanges {
    /// The changes as a JSON object holding exactly the given fields; -32602 when empty.
    fn to_body(&self) -> Result<Map<String, Value>, ErrorData> {
        let body = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => return Err(errors::internal("ticket changes did not serialize to an object")),
        };
        if body.is_empty() {
            // The editable fields are the type's own (TF of the contract).
            let fields = crate::surface::tools::shared::field_names::<TicketChanges>();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            errors::require_at_least_one(&body, &fields)?;
        }
        Ok(body)
    }
}

/// Arguments of `update_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateTicketParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// The fields to change (at least one).
    #[serde(flatten)]
    pub changes: TicketChanges,
}

/// Arguments of `transition_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionTicketParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// Target status, a status of the project's workflow, e.g. `InProgress` (Default workflow: Backlog, Todo, InProgress, InReview, Done, Cancelled).
    pub status: StatusName,
}

/// Arguments of `batch_transition`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchTransitionParams {
    /// 1–50 distinct ticket uuids or keys, e.g. `["WEB-1", "WEB-2"]`.
    #[schemars(length(min = 1, max = 50), extend("uniqueItems" = true))]
    pub ticket_ids: Vec<TicketRef>,
    /// Target status for every ticket, e.g. `Done`.
    pub status: StatusName,
}

/// Arguments of `batch_update_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BatchUpdateTicketsParams {
    /// 1–50 distinct ticket uuids or keys, e.g. `["WEB-1", "WEB-2"]`.
    #[schemars(length(min = 1, max = 50), extend("uniqueItems" = true))]
    pub ticket_ids: Vec<TicketRef>,
    /// The fields to change on every ticket (at least one).
    #[serde(flatten)]
    pub changes: TicketChanges,
}

/// Arguments of `assign_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTicketParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// User uuid of the new assignee (an org member), or `null` to unassign.
    pub assignee_id: Patch<Id>,
}

/// Arguments of `get_my_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyTicketsParams {
    /// Status names to match; when given, closed tickets in those statuses are included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<StatusName>>,
    /// Include closed (Completed or Cancelled) tickets (default false: open tickets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_closed: Option<bool>,
    /// Limit to one project: project uuid or key, e.g. `WEB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Sprint uuid, or `none` for backlog tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<IdOrNone>,
    /// Order (default `-priority`: Critical first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<TicketSort>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// The list endpoint for an optional project: #54 for one project, #55 for the whole org.
fn ticket_list_path(project: Option<&ProjectRef>) -> ApiPath {
    match project {
        Some(p) => ApiPath::fixed("/api/v1/projects").seg(p.as_str()).then("tickets"),
        None => ApiPath::fixed("/api/v1/tickets"),
    }
}

fn ticket_path(ticket: &TicketRef) -> ApiPath {
    ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str())
}

#[tool_router(router = tickets_router, vis = "pub(crate)")]
impl Tools {
    /// Create a ticket in a project. Use it to file a bug, task or feature; check for
    /// duplicates with `search_tickets` first. The ticket starts in the workflow's initial
    /// status (Default workflow: `Backlog`); use `transition_ticket` to move it. Returns the new
    /// Ticket, including its key (e.g. `WEB-43`).
    #[tool(
        title = "Create ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_ticket(
        &self,
        Parameters(p): Parameters<CreateTicketParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/projects")
            .seg(p.project_id.as_str())
            .then("tickets");
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// Get one ticket by uuid or key (e.g. `WEB-42`): title, description, status, priority,
    /// type, assignee, sprint, points, due date, labels and tags. Returns the Ticket.
    #[tool(
        title = "Get ticket",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_ticket(
        &self,
        Parameters(p): Parameters<TicketIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(ticket_path(&p.ticket_id), &Query::new()).await,
        ))
    }

    /// Find tickets in the caller's org, or in one project, by text and filters (status,
    /// category, priority, type, assignee, reporter, sprint, label, tag), all combined with AND.
    /// Use `get_my_tickets` for the caller's own work. Returns one page
    /// `{items: [Ticket], next_cursor, has_more}`; pass `next_cursor` back as `cursor` for more.
    #[tool(
        title = "Search tickets",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn search_tickets(
        &self,
        Parameters(p): Parameters<SearchTicketsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("q", p.query.as_deref())
            .list("status", p.status.as_deref())
            .list("status_category", p.status_category.as_deref())
            .list("priority", p.priority.as_deref())
            .list("ticket_type", p.ticket_type.as_deref())
            .opt("assignee_id", p.assignee_id.as_ref())
            .opt("reporter_id", p.reporter_id.as_ref())
            .opt("sprint_id", p.sprint_id.as_ref())
            .opt("label_id", p.label_id.as_ref())
            .opt("tag_key", p.tag_key.as_deref())
            .opt("tag_value", p.tag_value.as_deref())
            .opt("sort", p.sort)
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        let path = ticket_list_path(p.project_id.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Change fields of one ticket: title, description, priority, type, assignee, sprint,
    /// story points, due date (at least one; `null` clears a nullable field). The status is
    /// changed with `transition_ticket`, labels with `add_ticket_label`, tags with `set_tags`.
    /// Returns the updated Ticket.
    #[tool(
        title = "Update ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_ticket(
        &self,
        Parameters(p): Parameters<UpdateTicketParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let body = Value::Object(p.changes.to_body()?);
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.patch(ticket_path(&p.ticket_id), &body).await,
        ))
    }

    /// Move one ticket to another status of its project's workflow (e.g. `Todo` →
    /// `InProgress`). Strict workflows allow only listed transitions; a refused move returns
    /// the allowed targets in the error details. Moving to the current status changes nothing.
    /// Returns the Ticket.
    #[tool(
        title = "Move ticket to a status",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn transition_ticket(
        &self,
        Parameters(p): Parameters<TransitionTicketParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = ticket_path(&p.ticket_id).then("transition");
        let body = body(&p)?;
        Ok(errors::json_result(caller.api.post(path, Some(&body)).await))
    }

    /// Move up to 50 tickets to one status in a single call. Each ticket is handled on its own
    /// (not atomically): the result reports every ticket in input order as
    /// `{ticket_id, ok, ticket, error}`, plus `succeeded` and `failed` counts.
    #[tool(
        title = "Move tickets to a status",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn batch_transition(
        &self,
        Parameters(p): Parameters<BatchTransitionParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post("/api/v1/tickets/batch-transition", Some(&body)).await,
        ))
    }

    /// Apply the same field changes (priority, type, assignee, sprint, points, due date, title,
    /// description; at least one) to up to 50 tickets, e.g. to plan them into a sprint. Each
    /// ticket is handled on its own: the result reports every ticket in input order as
    /// `{ticket_id, ok, ticket, error}`, plus `succeeded` and `failed` counts.
    #[tool(
        title = "Update several tickets",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn batch_update_tickets(
        &self,
        Parameters(p): Parameters<BatchUpdateTicketsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let changes = p.changes.to_body()?;
        let caller = self.caller(&ctx);
        let body = json!({"ticket_ids": p.ticket_ids, "changes": changes});
        Ok(errors::json_result(
            caller.api.post("/api/v1/tickets/batch-update", Some(&body)).await,
        ))
    }

    /// Assign a ticket to a user (an org member's user uuid), or unassign it with `null`.
    /// Find user ids with `list_members` or `whoami`. Returns the Ticket.
    #[tool(
        title = "Assign ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn assign_ticket(
        &self,
        Parameters(p): Parameters<AssignTicketParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.patch(ticket_path(&p.ticket_id), &body).await,
        ))
    }

    /// List the tickets assigned to the caller (the owner of the API key), open ones only
    /// unless `include_closed` is true or `status` is given, most urgent first by default.
    /// Use it for "what am I working on". Returns one page `{items: [Ticket], next_cursor, has_more}`.
    #[tool(
        title = "My tickets",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_my_tickets(
        &self,
        Parameters(p): Parameters<GetMyTicketsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let open_only = p.status.as_ref().is_none_or(Vec::is_empty) && !p.include_closed.unwrap_or(false);
        let query = Query::new()
            .set("assignee_id", &caller.identity.user_id)
            .list("status", p.status.as_deref())
            .opt("status_category", open_only.then_some("Unstarted,Started"))
            .opt("sprint_id", p.sprint_id.as_ref())
            .set("sort", p.sort.unwrap_or(TicketSort::PriorityDesc))
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        let path = ticket_list_path(p.project_id.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }

    /// Delete a ticket with its comments, activity and draft time entries (needs Admin; refused
    /// while it has submitted or approved time). Cannot be undone; ticket numbers are never
    /// reused. Prefer `transition_ticket` to `Cancelled` to close a ticket. Returns
    /// `{deleted: true, ticket_id}`.
    #[tool(
        title = "Delete ticket",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_ticket(
        &self,
        Parameters(p): Parameters<TicketIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let r = caller.api.delete(ticket_path(&p.ticket_id)).await;
        Ok(errors::deleted_result(r, "ticket_id", p.ticket_id.as_str()))
    }
}
