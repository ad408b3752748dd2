//! Tickets (toolset `tickets`, contract §5.3 #3–#12): create, read, search, update, transition,
//! batch transition and batch update, assign, "my tickets", delete. Tickets are addressed by
//! uuid or key (`WEB-42`); the reference goes to the API as given. Users are taken as `me`, an
//! email or a uuid, sprints and labels by name or uuid ([`names`]); ticket lists are compact
//! unless asked for `detail: "full"` ([`compact`]).
//!
//! This file is the worked example of the house pattern (see `tools.rs`): one params struct
//! per tool, one `#[tool_router]` block, each tool = (optional extra checks and lookups) → one
//! generic API call → one `errors::*_result`.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::compact;
use crate::surface::tools::names::{Resolver, Step, is_uuid};
use crate::surface::tools::shared::{
    AssigneeFilter, Date, DateOrTime, Detail, LabelRef, Page, Patch, Priority, ProjectRef, SprintFilter, SprintRef,
    StatusCategory, StatusName, TicketRef, TicketSort, TicketType, UserRef,
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
    /// Project key or uuid.
    #[serde(skip_serializing)]
    pub project_id: ProjectRef,
    /// Title.
    #[schemars(length(min = 1, max = 255))]
    pub title: String,
    /// Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50000))]
    pub description: Option<String>,
    /// Default `Medium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Default `Task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    /// `me`, an email or a uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<UserRef>,
    /// Sprint name, `active` or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<SprintRef>,
    /// Story points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub story_points: Option<u32>,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    /// Default `me`; an email or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_id: Option<UserRef>,
    /// Label names (or uuids).
    #[serde(default, skip_serializing)]
    pub labels: Option<Vec<LabelRef>>,
    /// E.g. `{"env": "prod"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Arguments of `get_ticket` and `delete_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIdParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
}

/// Arguments of `search_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchTicketsParams {
    /// Project key or uuid (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Text in the title or description (ignoring case); one distinctive word works best.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Workflow statuses, e.g. `Todo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<StatusName>>,
    /// Open = `Unstarted`, `Started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<Vec<StatusCategory>>,
    /// Any of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Vec<Priority>>,
    /// Any of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<Vec<TicketType>>,
    /// `me`, an email, a uuid or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<AssigneeFilter>,
    /// `me`, an email or a uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_id: Option<UserRef>,
    /// Uuid, `none` (backlog); with `project_id` a name, `active`, `last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<SprintFilter>,
    /// Uuid; with `project_id` a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_id: Option<LabelRef>,
    /// Tag key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_key: Option<String>,
    /// With `tag_key`: this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<String>,
    /// Date or timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<DateOrTime>,
    /// Date (inclusive) or timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<DateOrTime>,
    /// Date or timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_after: Option<DateOrTime>,
    /// Default `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<TicketSort>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
    /// `full`: whole tickets, not rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// The ticket fields `batch_update_tickets` changes too: planning, never text.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct PlanningChanges {
    /// New priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// New type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    /// `me`, an email, a uuid; `null` unassigns.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub assignee_id: Patch<UserRef>,
    /// Sprint name, `active`, uuid; `null`: backlog.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub sprint_id: Patch<SprintRef>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(range(min = 0, max = 100))]
    pub story_points: Patch<u32>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub due_date: Patch<Date>,
}

/// The editable ticket fields: the text and the planning fields; at least one must be given.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct TicketChanges {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub title: Option<String>,
    /// Markdown; `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 50000))]
    pub description: Patch<String>,
    /// The planning fields.
    #[serde(flatten)]
    pub planning: PlanningChanges,
}

/// The changes of `changes` as a JSON object holding exactly the given fields; -32602 when
/// empty, naming the fields of `T` (the type's own: no second list).
fn changes_body<T: Serialize + JsonSchema>(changes: &T) -> Result<Map<String, Value>, ErrorData> {
    let body = match serde_json::to_value(changes) {
        Ok(Value::Object(m)) => m,
        _ => return Err(errors::internal("ticket changes did not serialize to an object")),
    };
    if body.is_empty() {
        let fields = crate::surface::tools::shared::field_names::<T>();
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        errors::require_at_least_one(&body, &fields)?;
    }
    Ok(body)
}

/// Where a sprint name in a ticket body is looked up.
enum ProjectOf<'p> {
    /// The project given.
    Given(&'p ProjectRef),
    /// The project of this ticket.
    Ticket(&'p TicketRef),
    /// The one project of these tickets.
    Tickets(&'p [TicketRef]),
}

/// Replaces the user and sprint references of a ticket body (`assignee_id`, `reporter_id`,
/// `sprint_id`) by uuids; `null` (clear) and uuids stay as they are.
async fn resolve_refs(body: &mut Map<String, Value>, names: &mut Resolver<'_>, project: ProjectOf<'_>) -> Step<()> {
    for field in ["assignee_id", "reporter_id"] {
        if let Some(Value::String(reference)) = body.get(field) {
            let id = names.user(field, &reference.clone()).await?;
            body.insert(field.into(), Value::String(id));
        }
    }
    if let Some(Value::String(reference)) = body.get("sprint_id") {
        let reference = reference.clone();
        if !is_uuid(&reference) {
            let project = match project {
                ProjectOf::Given(p) => p.as_str().to_string(),
                ProjectOf::Ticket(t) => names.ticket_project(t).await?,
                ProjectOf::Tickets(ts) => names.tickets_project("sprint_id", ts).await?,
            };
            let id = names.sprint("sprint_id", Some(&project), &reference).await?;
            body.insert("sprint_id".into(), Value::String(id));
        }
    }
    Ok(())
}

/// Arguments of `update_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateTicketParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// The fields to change (at least one).
    #[serde(flatten)]
    pub changes: TicketChanges,
}

/// Arguments of `transition_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionTicketParams {
    /// Key (`WEB-42`) or uuid.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// E.g. `InProgress`.
    pub status: StatusName,
}

/// Arguments of `batch_transition`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchTransitionParams {
    /// Ticket keys or uuids.
    #[schemars(length(min = 1, max = 50), extend("uniqueItems" = true))]
    pub ticket_ids: Vec<TicketRef>,
    /// E.g. `Done`.
    pub status: StatusName,
}

/// Arguments of `batch_update_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BatchUpdateTicketsParams {
    /// Ticket keys or uuids.
    #[schemars(length(min = 1, max = 50), extend("uniqueItems" = true))]
    pub ticket_ids: Vec<TicketRef>,
    /// The fields to change on every ticket (at least one).
    #[serde(flatten)]
    pub changes: PlanningChanges,
}

/// Arguments of `assign_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTicketParams {
    /// Key (`WEB-42`) or uuid.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// `me`, an email, a uuid; `null` unassigns.
    pub assignee_id: Patch<UserRef>,
}

/// Arguments of `get_my_tickets`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyTicketsParams {
    /// Only these (closed included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<StatusName>>,
    /// Closed tickets too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_closed: Option<bool>,
    /// Project key or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Uuid, `none` (backlog); with `project_id` a name, `active`, `last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint_id: Option<SprintFilter>,
    /// Default `-priority`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<TicketSort>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
    /// `full`: whole tickets, not rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// The list endpoint for an optional project: #54 for one project, #55 for the whole org.
pub fn ticket_list_path(project: Option<&ProjectRef>) -> ApiPath {
    match project {
        Some(p) => ApiPath::fixed("/api/v1/projects").seg(p.as_str()).then("tickets"),
        None => ApiPath::fixed("/api/v1/tickets"),
    }
}

fn ticket_path(ticket: &TicketRef) -> ApiPath {
    ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str())
}

/// The uuid or `none` of a sprint filter, if given (a name needs the project).
async fn sprint_filter(
    names: &mut Resolver<'_>,
    project: Option<&ProjectRef>,
    filter: Option<&SprintFilter>,
) -> Step<Option<String>> {
    let Some(f) = filter else {
        return Ok(None);
    };
    if f.as_str().eq_ignore_ascii_case("none") {
        return Ok(Some("none".into()));
    }
    let id = names
        .sprint("sprint_id", project.map(ProjectRef::as_str), f.as_str())
        .await?;
    Ok(Some(id))
}

/// A bound of a time filter as the API takes it: timestamps as given, a date as the first
/// (`end_of_day` false) or last millisecond of that UTC day.
fn instant(bound: &DateOrTime, end_of_day: bool) -> String {
    let s = bound.as_str();
    match (s.len(), end_of_day) {
        (10, false) => format!("{s}T00:00:00Z"),
        (10, true) => format!("{s}T23:59:59.999Z"),
        _ => s.to_string(),
    }
}

/// The tickets of a list answer, compact unless `detail` is `full`.
pub async fn ticket_page(
    names: &mut Resolver<'_>,
    r: crate::upstream::api::ApiResult,
    detail: Option<Detail>,
) -> Step<CallToolResult> {
    let page = errors::json_value(r)?;
    Ok(errors::success(&compact::tickets(names, page, detail).await))
}

#[tool_router(router = tickets_router, vis = "pub(crate)")]
impl Tools {
    /// Create a ticket with its labels and tags in one call; look for duplicates with
    /// `search_tickets` first.
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
        self.resolving(&ctx, async |caller, names| {
            let Value::Object(mut body) = body(&p)? else {
                return Err(errors::internal("ticket did not serialize to an object").into());
            };
            resolve_refs(&mut body, names, ProjectOf::Given(&p.project_id)).await?;
            if let Some(labels) = &p.labels {
                let mut ids = Vec::new();
                for label in labels {
                    ids.push(names.label("labels", p.project_id.as_str(), label.as_str()).await?);
                }
                body.insert("label_ids".into(), json!(ids));
            }
            let path = ApiPath::fixed("/api/v1/projects")
                .seg(p.project_id.as_str())
                .then("tickets");
            Ok(errors::json_result(
                caller.api.post(path, Some(&Value::Object(body))).await,
            ))
        })
        .await
    }

    /// Get one whole ticket: description, people, sprint, points, dates, labels, tags.
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
        self.get_json(&ctx, ticket_path(&p.ticket_id), Query::new()).await
    }

    /// Find tickets by text and filters (all must match); the caller's own work:
    /// `get_my_tickets`.
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
        self.resolving(&ctx, async |caller, names| {
            let project = p.project_id.as_ref();
            let assignee = match p.assignee_id.as_ref().map(AssigneeFilter::as_str) {
                Some(none) if none.eq_ignore_ascii_case("none") => Some("none".to_string()),
                Some(user) => Some(names.user("assignee_id", user).await?),
                None => None,
            };
            let reporter = names.user_if_given("reporter_id", p.reporter_id.as_ref()).await?;
            let sprint = sprint_filter(names, project, p.sprint_id.as_ref()).await?;
            let label = match (&p.label_id, project) {
                (Some(l), _) if is_uuid(l.as_str()) => Some(l.as_str().to_string()),
                (Some(l), Some(project)) => Some(names.label("label_id", project.as_str(), l.as_str()).await?),
                (Some(_), None) => {
                    return Err(errors::invalid_params(
                        "label_id",
                        "a label name needs `project_id` (labels belong to a project); or give the label uuid",
                    )
                    .into());
                }
                (None, _) => None,
            };
            let query = Query::new()
                .opt("q", p.query.as_deref())
                .list("status", p.status.as_deref())
                .list("status_category", p.status_category.as_deref())
                .list("priority", p.priority.as_deref())
                .list("ticket_type", p.ticket_type.as_deref())
                .opt("assignee_id", assignee)
                .opt("reporter_id", reporter)
                .opt("sprint_id", sprint)
                .opt("label_id", label)
                .opt("tag_key", p.tag_key.as_deref())
                .opt("tag_value", p.tag_value.as_deref())
                .opt("created_after", p.created_after.as_ref().map(|b| instant(b, false)))
                .opt("created_before", p.created_before.as_ref().map(|b| instant(b, true)))
                .opt("updated_after", p.updated_after.as_ref().map(|b| instant(b, false)))
                .opt("sort", p.sort)
                .page(p.page.limit, p.page.cursor.as_ref());
            let r = caller.api.get(ticket_list_path(project), &query).await;
            ticket_page(names, r, p.detail).await
        })
        .await
    }

    /// Change a ticket's fields (`null` clears). Status: `transition_ticket`; labels:
    /// `add_ticket_label`; tags: `set_tags`.
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
        let mut body = changes_body(&p.changes)?;
        self.resolving(&ctx, async |caller, names| {
            resolve_refs(&mut body, names, ProjectOf::Ticket(&p.ticket_id)).await?;
            Ok(errors::json_result(
                caller.api.patch(ticket_path(&p.ticket_id), &Value::Object(body)).await,
            ))
        })
        .await
    }

    /// Move a ticket to a status of its workflow; a refused move lists the allowed ones.
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
        self.post_params(&ctx, ticket_path(&p.ticket_id).then("transition"), &p)
            .await
    }

    /// Move up to 50 tickets to one status, each on its own; returns per-ticket `results`.
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
        self.post_params(&ctx, "/api/v1/tickets/batch-transition", &p).await
    }

    /// Set the same priority, type, assignee, sprint, points or due date on up to 50 tickets (e.g.
    /// sprint planning), each on its own. Titles and descriptions: `update_ticket`.
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
        let mut changes = changes_body(&p.changes)?;
        self.resolving(&ctx, async |caller, names| {
            resolve_refs(&mut changes, names, ProjectOf::Tickets(&p.ticket_ids)).await?;
            let body = json!({"ticket_ids": p.ticket_ids, "changes": changes});
            Ok(errors::json_result(
                caller.api.post("/api/v1/tickets/batch-update", Some(&body)).await,
            ))
        })
        .await
    }

    /// Assign a ticket (to `me`, an email or a user uuid), or unassign it with `null`.
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
        self.resolving(&ctx, async |caller, names| {
            let assignee = match &p.assignee_id {
                Patch::Value(user) => Value::String(names.user("assignee_id", user.as_str()).await?),
                Patch::Absent | Patch::Null => Value::Null,
            };
            let body = json!({"assignee_id": assignee});
            Ok(errors::json_result(
                caller.api.patch(ticket_path(&p.ticket_id), &body).await,
            ))
        })
        .await
    }

    /// The caller's assigned tickets, open ones unless `include_closed`, most urgent first. Others'
    /// tickets: `search_tickets`.
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
        self.resolving(&ctx, async |caller, names| {
            let project = p.project_id.as_ref();
            let sprint = sprint_filter(names, project, p.sprint_id.as_ref()).await?;
            let open_only = p.status.as_ref().is_none_or(Vec::is_empty) && !p.include_closed.unwrap_or(false);
            let query = Query::new()
                .set("assignee_id", &caller.identity.user_id)
                .list("status", p.status.as_deref())
                .opt("status_category", open_only.then_some("Unstarted,Started"))
                .opt("sprint_id", sprint)
                .set("sort", p.sort.unwrap_or(TicketSort::PriorityDesc))
                .page(p.page.limit, p.page.cursor.as_ref());
            let r = caller.api.get(ticket_list_path(project), &query).await;
            ticket_page(names, r, p.detail).await
        })
        .await
    }

    /// Delete a ticket for good (Admin; refused with submitted time); to close it,
    /// `transition_ticket` to `Cancelled`.
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
        self.delete_item(&ctx, ticket_path(&p.ticket_id), "ticket_id", p.ticket_id.as_str())
            .await
    }
}
