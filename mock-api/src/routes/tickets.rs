//! Tickets (contract §4.5 #53–#61): creation with its T1 rules (numbering, references,
//! labels, tags), the per-project and org-wide lists with every ticket filter and `sort`,
//! single reads, PATCH with one activity entry per changed field, delete with its cascade,
//! the T2 workflow transition, and the two T3 batches that answer one result per item.
//! The field rules of PATCH live in [`read_changes`] and [`apply_changes`] so that the
//! batch update (and other domains) apply exactly the same rules.

use super::Route;
use super::tags::read_tag_map;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{Key, asc_i, asc_s, desc_i, desc_s, parse_limit};
use crate::request::{Body, Ctx, Mode, Patch, Reply, date, enumv, int, object, string, uuid, uuid_list};
use crate::store::{Store, parse_ticket_ref};
use crate::values::{Day, Ts};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/projects/{project}/tickets", create_ticket),
        Route::new("GET", "/api/v1/projects/{project}/tickets", list_project_tickets),
        Route::new("GET", "/api/v1/tickets", list_org_tickets),
        Route::new("GET", "/api/v1/tickets/{ticket}", get_ticket),
        Route::new("PATCH", "/api/v1/tickets/{ticket}", update_ticket),
        Route::new("DELETE", "/api/v1/tickets/{ticket}", delete_ticket),
        Route::new("POST", "/api/v1/tickets/{ticket}/transition", transition_ticket),
        Route::new("POST", "/api/v1/tickets/batch-transition", batch_transition),
        Route::new("POST", "/api/v1/tickets/batch-update", batch_update),
    ]
}

/// Most tickets a batch accepts (T3).
pub const BATCH_LIMIT: usize = 50;

/// Model fields of a ticket that PATCH may never send besides [`CREATE_IMMUTABLE`] (and
/// besides the ✓ ones it reads).
const PATCH_IMMUTABLE: &[&str] = &["reporter_id", "label_ids", "tags"];

/// Server-set fields of a ticket that create may never send.
const CREATE_IMMUTABLE: &[&str] = &[
    "id",
    "org_id",
    "project_id",
    "ticket_number",
    "key",
    "status",
    "labels",
    "resolved_at",
    "created_by",
    "created_at",
    "updated_at",
];

// ----- shared rules --------------------------------------------------------------------------

/// The workflow of a ticket's project (every project has one).
pub fn workflow_of(store: &Store, project_id: Uuid) -> ApiResult<Workflow> {
    store
        .project_workflow(project_id)
        .cloned()
        .ok_or_else(|| ApiError::internal("project has no workflow"))
}

/// T1 reference rule for a user field: must be a member of the org (else 422 `invalid_reference`).
pub fn check_user(store: &Store, org: Uuid, field: &str, user: Uuid) -> ApiResult<()> {
    if store.is_member(org, user) {
        Ok(())
    } else {
        Err(ApiError::invalid_reference(field, &user.to_string()))
    }
}

/// T1 reference rule for `sprint_id`: a sprint of the same project (else 422
/// `invalid_reference`) that is not `Completed` (else 422 `invalid_state`).
pub fn check_sprint(store: &Store, project_id: Uuid, sprint_id: Uuid) -> ApiResult<()> {
    let sprint = store
        .sprints
        .get(&sprint_id)
        .filter(|s| s.project_id == project_id)
        .ok_or_else(|| ApiError::invalid_reference("sprint_id", &sprint_id.to_string()))?;
    if sprint.status == SprintStatus::Completed {
        return Err(ApiError::invalid_state(
            "Completed",
            &["Planned", "Active"],
            format!(
                "sprint {} is Completed; tickets can only join Planned or Active sprints",
                sprint.name
            ),
        )
        .with("field", "sprint_id")
        .with("id", sprint_id.to_string()));
    }
    Ok(())
}

/// The error of a batch item in the envelope's inner shape.
pub fn error_json(e: &ApiError) -> Value {
    json!({"code": e.code, "message": e.message, "details": Value::Object(e.details.clone())})
}

/// The editable fields of a ticket (PATCH #57 and `changes` of #61), parsed but not yet
/// checked against the store.
#[derive(Clone, Debug)]
pub struct TicketChanges {
    /// `title` (1–255).
    pub title: Patch<String>,
    /// `description` (≤ 50 000, nullable).
    pub description: Patch<String>,
    /// `priority`.
    pub priority: Patch<Priority>,
    /// `ticket_type`.
    pub ticket_type: Patch<TicketType>,
    /// `assignee_id` (nullable).
    pub assignee_id: Patch<Uuid>,
    /// `sprint_id` (nullable; null = backlog).
    pub sprint_id: Patch<Uuid>,
    /// `story_points` (0–100, nullable).
    pub story_points: Patch<i64>,
    /// `due_date` (nullable).
    pub due_date: Patch<Day>,
}

impl TicketChanges {
    /// Whether no field was sent.
    pub fn is_empty(&self) -> bool {
        !(self.title.is_present()
            || self.description.is_present()
            || self.priority.is_present()
            || self.ticket_type.is_present()
            || self.assignee_id.is_present()
            || self.sprint_id.is_present()
            || self.story_points.is_present()
            || self.due_date.is_present())
    }
}

/// Reads the PATCH fields of a ticket from `b` (PATCH modes; the non-✓ model fields are
/// marked `immutable`). Call `b.finish()` afterwards.
pub fn read_changes(b: &mut Body) -> TicketChanges {
    let c = TicketChanges {
        title: b.field("title", Mode::NotNull, &string(1, 255)),
        description: b.field("description", Mode::Nullable, &string(0, 50_000)),
        priority: b.field("priority", Mode::NotNull, &enumv(Priority::parse)),
        ticket_type: b.field("ticket_type", Mode::NotNull, &enumv(TicketType::parse)),
        assignee_id: b.field("assignee_id", Mode::Nullable, &uuid),
        sprint_id: b.field("sprint_id", Mode::Nullable, &uuid),
        story_points: b.field("story_points", Mode::Nullable, &int(0, 100)),
        due_date: b.field("due_date", Mode::Nullable, &date),
    };
    b.immutable(CREATE_IMMUTABLE);
    b.immutable(PATCH_IMMUTABLE);
    c
}

/// Reads `changes` of a batch update: an object holding a non-empty PATCH body; every
/// problem is recorded on `outer` as `changes.<field>`.
pub fn read_nested_changes(outer: &mut Body, field: &str) -> Option<TicketChanges> {
    let raw = match outer.field(field, Mode::Required, &object) {
        Patch::Set(m) => m,
        _ => return None,
    };
    if raw.is_empty() {
        outer.error(field, Problem::Required);
        return None;
    }
    let mut inner = Body::new(raw);
    let changes = read_changes(&mut inner);
    let problems = inner.problems();
    let clean = problems.is_empty();
    for (k, p) in problems {
        outer.error(format!("{field}.{k}"), p);
    }
    clean.then_some(changes)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The stored ticket `id` (404 if it is gone).
fn stored_ticket(store: &Store, id: Uuid) -> ApiResult<Ticket> {
    let t = store.tickets.get(&id).cloned();
    t.ok_or_else(|| ApiError::not_found("ticket", &id.to_string()))
}

/// Applies PATCH fields to a stored ticket: checks references (T1: assignee an org member,
/// sprint of the ticket's project and not Completed → 422), then writes one activity entry
/// per changed field in §3.4 field order, all at `at`. Unchanged values are no-ops.
pub fn apply_changes(store: &mut Store, actor: Uuid, ticket_id: Uuid, c: &TicketChanges, at: Ts) -> ApiResult<Ticket> {
    let old = stored_ticket(store, ticket_id)?;
    if let Patch::Set(a) = c.assignee_id
        && old.assignee_id != Some(a)
    {
        check_user(store, old.org_id, "assignee_id", a)?;
    }
    if let Patch::Set(s) = c.sprint_id
        && old.sprint_id != Some(s)
    {
        check_sprint(store, old.project_id, s)?;
    }
    let mut t = old.clone();
    c.title.apply(&mut t.title);
    c.description.apply_opt(&mut t.description);
    c.priority.apply(&mut t.priority);
    c.ticket_type.apply(&mut t.ticket_type);
    c.assignee_id.apply_opt(&mut t.assignee_id);
    c.sprint_id.apply_opt(&mut t.sprint_id);
    c.story_points.apply_opt(&mut t.story_points);
    c.due_date.apply_opt(&mut t.due_date);
    // One activity entry per field that really changed, in §3.4 field order.
    const FIELDS: [(&str, ActivityAction); 8] = [
        ("title", ActivityAction::Updated),
        ("description", ActivityAction::Updated),
        ("priority", ActivityAction::Updated),
        ("ticket_type", ActivityAction::Updated),
        ("assignee_id", ActivityAction::Assigned),
        ("sprint_id", ActivityAction::SprintChanged),
        ("story_points", ActivityAction::Updated),
        ("due_date", ActivityAction::Updated),
    ];
    let (before, after) = (to_json(&old), to_json(&t));
    let entries: Vec<(ActivityAction, &str, Value, Value)> = FIELDS
        .iter()
        .filter(|(f, _)| before[f] != after[f])
        .map(|(f, action)| (*action, *f, before[f].clone(), after[f].clone()))
        .collect();
    if entries.is_empty() {
        return Ok(old);
    }
    store.tickets.insert(ticket_id, t);
    for (action, field, o, n) in entries {
        store.log_activity(ticket_id, actor, action, Some(field), Some(o), Some(n), at);
    }
    store
        .tickets
        .get(&ticket_id)
        .cloned()
        .ok_or_else(|| ApiError::internal("ticket vanished during update"))
}

/// T2: moves a ticket to `status` in its project's workflow. Unknown status → 422
/// `unknown_status`; same status → unchanged; `strict` workflows need a listed pair (else 422
/// `transition_not_allowed`). Sets `resolved_at` on entering a closed category from an open
/// one, clears it on reopening, and writes one `StatusChanged` at `at`.
pub fn transition(store: &mut Store, actor: Uuid, ticket_id: Uuid, status: &str, at: Ts) -> ApiResult<Ticket> {
    let t = stored_ticket(store, ticket_id)?;
    let wf = workflow_of(store, t.project_id)?;
    if !wf.has_status(status) {
        let names: Vec<&str> = wf.statuses.iter().map(|s| s.name.as_str()).collect();
        return Err(ApiError::unprocessable(
            "unknown_status",
            format!("status {status:?} is not part of workflow {}", wf.name),
        )
        .with("status", status)
        .with("statuses", json!(names)));
    }
    if t.status == status {
        return Ok(t);
    }
    if wf.enforcement == WorkflowEnforcement::Strict
        && !wf.transitions.iter().any(|p| p.from == t.status && p.to == status)
    {
        let allowed: Vec<&str> = wf
            .statuses
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| wf.transitions.iter().any(|p| p.from == t.status && p.to == *n))
            .collect();
        return Err(ApiError::unprocessable(
            "transition_not_allowed",
            format!(
                "transition {} -> {status} is not allowed by workflow {}",
                t.status, wf.name
            ),
        )
        .with("from", t.status.as_str())
        .with("to", status)
        .with("allowed", json!(allowed)));
    }
    let was_open = wf.category_of(&t.status).is_open();
    let now_open = wf.category_of(status).is_open();
    let mut next = t.clone();
    next.status = status.to_string();
    if was_open && !now_open {
        next.resolved_at = Some(at);
    } else if now_open {
        next.resolved_at = None;
    }
    store.tickets.insert(ticket_id, next);
    store.log_activity(
        ticket_id,
        actor,
        ActivityAction::StatusChanged,
        Some("status"),
        Some(json!(t.status)),
        Some(json!(status)),
        at,
    );
    store
        .tickets
        .get(&ticket_id)
        .cloned()
        .ok_or_else(|| ApiError::internal("ticket vanished during transition"))
}

// ----- create ------------------------------------------------------------------------------

fn create_ticket(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, p) = ctx.project_write(OrgRole::Reporter)?;
    caller.require_project_member(ctx.store, p.id)?;
    let mut b = ctx.body()?;
    let title = b.get("title", Mode::Required, &string(1, 255));
    let description = b.get("description", Mode::Optional, &string(0, 50_000));
    let priority = b.get("priority", Mode::Optional, &enumv(Priority::parse));
    let ticket_type = b.get("ticket_type", Mode::Optional, &enumv(TicketType::parse));
    let reporter_id = b.get("reporter_id", Mode::Optional, &uuid);
    let assignee_id = b.get("assignee_id", Mode::Optional, &uuid);
    let sprint_id = b.get("sprint_id", Mode::Optional, &uuid);
    let story_points = b.get("story_points", Mode::Optional, &int(0, 100));
    let due_date = b.get("due_date", Mode::Optional, &date);
    let label_ids = b.get("label_ids", Mode::Optional, &uuid_list).unwrap_or_default();
    let tags = match b.get("tags", Mode::Optional, &object) {
        Some(m) => read_tag_map(&mut b, "tags", &m, false),
        None => BTreeMap::new(),
    };
    b.immutable(CREATE_IMMUTABLE);
    b.finish()?;
    let title = title.ok_or_else(|| ApiError::field("title", Problem::Required))?;
    let org = p.org_id;
    let reporter_id = reporter_id.unwrap_or(caller.user_id);
    check_user(ctx.store, org, "reporter_id", reporter_id)?;
    if let Some(a) = assignee_id {
        check_user(ctx.store, org, "assignee_id", a)?;
    }
    if let Some(s) = sprint_id {
        check_sprint(ctx.store, p.id, s)?;
    }
    for l in &label_ids {
        if ctx.store.labels.get(l).is_none_or(|l| l.project_id != p.id) {
            return Err(ApiError::invalid_reference("label_ids", &l.to_string()));
        }
    }
    let wf = workflow_of(ctx.store, p.id)?;
    let number = {
        let proj = ctx
            .store
            .projects
            .get_mut(&p.id)
            .ok_or_else(|| ApiError::internal("project vanished during create"))?;
        proj.ticket_counter += 1;
        proj.ticket_counter
    };
    let (now, id) = ctx.store.stamp();
    let key = format!("{}-{number}", p.key);
    let tags: BTreeMap<String, String> = tags.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
    let t = Ticket {
        id,
        org_id: org,
        project_id: p.id,
        ticket_number: number,
        key: key.clone(),
        title: title.clone(),
        description,
        status: wf.initial_status.clone(),
        priority: priority.unwrap_or(Priority::Medium),
        ticket_type: ticket_type.unwrap_or(TicketType::Task),
        reporter_id,
        assignee_id,
        sprint_id,
        story_points,
        due_date,
        label_ids: label_ids.clone(),
        tags: tags.clone(),
        resolved_at: None,
        created_by: caller.user_id,
        created_at: now,
        updated_at: now,
    };
    ctx.store.tickets.insert(id, t);
    let me = caller.user_id;
    let created = json!({"key": key, "title": title, "status": wf.initial_status});
    ctx.store
        .log_activity(id, me, ActivityAction::Created, None, None, Some(created), now);
    for l in &label_ids {
        ctx.store.log_activity(
            id,
            me,
            ActivityAction::LabelAdded,
            Some("labels"),
            None,
            Some(json!(l)),
            now,
        );
    }
    for (k, v) in &tags {
        ctx.store
            .log_activity(id, me, ActivityAction::TagSet, Some(k), None, Some(json!(v)), now);
    }
    let t = ctx
        .store
        .tickets
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::internal("ticket vanished after create"))?;
    Ok(Reply::created(
        ctx.store.ticket_json(&t),
        Some(format!("/api/v1/tickets/{id}")),
    ))
}

// ----- lists -------------------------------------------------------------------------------

/// The ticket `sort` values of §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    CreatedAsc,
    CreatedDesc,
    UpdatedAsc,
    UpdatedDesc,
    PriorityDesc,
}

fn priority_rank(p: Priority) -> i64 {
    match p {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    }
}

/// Sort key of a ticket under `-priority`: Critical first, then `created_at` asc, `id` asc.
pub fn priority_key(t: &Ticket) -> Vec<Key> {
    vec![
        desc_i(priority_rank(t.priority)),
        asc_i(t.created_at.0),
        asc_s(t.id.to_string()),
    ]
}

impl Sort {
    fn parse(raw: Option<&str>) -> ApiResult<Sort> {
        match raw {
            None | Some("created_at") => Ok(Sort::CreatedAsc),
            Some("-created_at") => Ok(Sort::CreatedDesc),
            Some("updated_at") => Ok(Sort::UpdatedAsc),
            Some("-updated_at") => Ok(Sort::UpdatedDesc),
            Some("-priority") => Ok(Sort::PriorityDesc),
            Some(s) => Err(ApiError::invalid_query(
                "sort",
                format!("sort must be created_at, -created_at, updated_at, -updated_at or -priority, got {s:?}"),
            )),
        }
    }

    fn key(self, t: &Ticket) -> Vec<Key> {
        let id = t.id.to_string();
        match self {
            Sort::CreatedAsc => vec![asc_i(t.created_at.0), asc_s(id)],
            Sort::CreatedDesc => vec![desc_i(t.created_at.0), desc_s(id)],
            Sort::UpdatedAsc => vec![asc_i(t.updated_at.0), asc_s(id)],
            Sort::UpdatedDesc => vec![desc_i(t.updated_at.0), desc_s(id)],
            Sort::PriorityDesc => priority_key(t),
        }
    }
}

/// `uuid` or `none` in a query (`None` = not given, `Some(None)` = `none`).
fn uuid_or_none(ctx: &Ctx, name: &str) -> ApiResult<Option<Option<Uuid>>> {
    match ctx.query.get(name) {
        None => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(_) => ctx.query.uuid(name).map(|u| u.map(Some)),
    }
}

/// The ticket filters of §4.5, parsed from a query.
struct Filter {
    /// `Some(None)`: the project reference named nothing, so nothing matches.
    project: Option<Option<Uuid>>,
    q: Option<String>,
    status: Option<Vec<String>>,
    category: Option<Vec<StatusCategory>>,
    priority: Option<Vec<Priority>>,
    ticket_type: Option<Vec<TicketType>>,
    assignee: Option<Option<Uuid>>,
    reporter: Option<Uuid>,
    sprint: Option<Option<Uuid>>,
    label: Option<Uuid>,
    tag_key: Option<String>,
    tag_value: Option<String>,
    created_after: Option<Ts>,
    created_before: Option<Ts>,
    updated_after: Option<Ts>,
    sort: Sort,
}

impl Filter {
    fn parse(ctx: &Ctx, with_project: bool) -> ApiResult<Filter> {
        let q = &ctx.query;
        let tag_key = q.get("tag_key").map(str::to_string);
        let tag_value = q.get("tag_value").map(str::to_string);
        if tag_value.is_some() && tag_key.is_none() {
            return Err(ApiError::invalid_query("tag_value", "tag_value needs tag_key"));
        }
        parse_limit(q.get("limit"))?;
        q.uuid("org_id")?;
        Ok(Filter {
            project: if with_project {
                ctx.query_project("project_id")?
            } else {
                None
            },
            q: q.get("q").map(str::to_ascii_lowercase),
            status: q.csv("status"),
            category: q.csv_enum("status_category", StatusCategory::parse)?,
            priority: q.csv_enum("priority", Priority::parse)?,
            ticket_type: q.csv_enum("ticket_type", TicketType::parse)?,
            assignee: uuid_or_none(ctx, "assignee_id")?,
            reporter: q.uuid("reporter_id")?,
            sprint: uuid_or_none(ctx, "sprint_id")?,
            label: q.uuid("label_id")?,
            tag_key,
            tag_value,
            created_after: q.ts("created_after")?,
            created_before: q.ts("created_before")?,
            updated_after: q.ts("updated_after")?,
            sort: Sort::parse(q.get("sort"))?,
        })
    }

    fn matches(&self, t: &Ticket, wf: Option<&Workflow>) -> bool {
        let text = |s: &str| {
            self.q
                .as_ref()
                .is_none_or(|q| s.to_ascii_lowercase().contains(q.as_str()))
        };
        let q_ok = self.q.is_none() || text(&t.title) || t.description.as_deref().is_some_and(text);
        let cat = wf
            .map(|w| w.category_of(&t.status))
            .unwrap_or(StatusCategory::Unstarted);
        q_ok && self.project.is_none_or(|p| p == Some(t.project_id))
            && self.status.as_ref().is_none_or(|s| s.contains(&t.status))
            && self.category.as_ref().is_none_or(|c| c.contains(&cat))
            && self.priority.as_ref().is_none_or(|p| p.contains(&t.priority))
            && self.ticket_type.as_ref().is_none_or(|p| p.contains(&t.ticket_type))
            && self.assignee.is_none_or(|a| a == t.assignee_id)
            && self.reporter.is_none_or(|r| r == t.reporter_id)
            && self.sprint.is_none_or(|s| s == t.sprint_id)
            && self.label.is_none_or(|l| t.label_ids.contains(&l))
            && self
                .tag_key
                .as_ref()
                .is_none_or(|k| match (t.tags.get(k), &self.tag_value) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(v), Some(want)) => v == want,
                })
            && self.created_after.is_none_or(|a| t.created_at >= a)
            && self.created_before.is_none_or(|b| t.created_at <= b)
            && self.updated_after.is_none_or(|a| t.updated_at >= a)
    }
}

fn list_tickets(ctx: &Ctx, filter: &Filter, scope: impl Fn(&Ticket) -> bool) -> ApiResult<Value> {
    let store = &*ctx.store;
    let workflows: BTreeMap<Uuid, Option<&Workflow>> = store
        .projects
        .keys()
        .map(|p| (*p, store.project_workflow(*p)))
        .collect();
    let items: Vec<&Ticket> = store
        .tickets
        .values()
        .filter(|t| scope(t) && filter.matches(t, workflows.get(&t.project_id).copied().flatten()))
        .collect();
    let sort = filter.sort;
    ctx.page(items, |t| sort.key(t), |t| store.ticket_json(t))
}

fn list_project_tickets(ctx: &mut Ctx) -> ApiResult<Reply> {
    // Query syntax (400) is checked before the project is looked up (404), per §1.7.
    let filter = Filter::parse(ctx, false)?;
    let p = ctx.path_project("project")?;
    ctx.caller()?.check_project_read(p.id)?;
    Ok(Reply::ok(list_tickets(ctx, &filter, |t| t.project_id == p.id)?))
}

fn list_org_tickets(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let filter = Filter::parse(ctx, true)?;
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    Ok(Reply::ok(list_tickets(ctx, &filter, |t| {
        t.org_id == org && caller.project_visible(t.project_id)
    })?))
}

// ----- single tickets ----------------------------------------------------------------------

fn get_ticket(ctx: &mut Ctx) -> ApiResult<Reply> {
    let t = ctx.path_ticket("ticket")?;
    ctx.caller()?.check_project_read(t.project_id)?;
    Ok(Reply::ok(ctx.store.ticket_json(&t)))
}

fn update_ticket(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, t) = ctx.ticket_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let changes = read_changes(&mut b);
    b.finish()?;
    let now = ctx.store.now();
    let t = apply_changes(ctx.store, caller.user_id, t.id, &changes, now)?;
    Ok(Reply::ok(ctx.store.ticket_json(&t)))
}

fn delete_ticket(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, t) = ctx.ticket_write(OrgRole::Admin)?;
    let locked = ctx
        .store
        .time_entries
        .values()
        .filter(|e| e.ticket_id == t.id && matches!(e.status, TimeEntryStatus::Submitted | TimeEntryStatus::Approved))
        .count();
    if locked > 0 {
        return Err(ApiError::conflict(
            "has_time_entries",
            format!("ticket {} has {locked} submitted or approved time entries", t.key),
        )
        .with("count", locked));
    }
    delete_ticket_cascade(ctx.store, t.id);
    Ok(Reply::no_content())
}

/// Removes a ticket with its comments, activity and remaining time entries; labels and tags
/// live on the ticket itself. The project's counter is untouched, so numbers are never reused.
pub fn delete_ticket_cascade(store: &mut Store, ticket_id: Uuid) {
    store.comments.retain(|_, c| c.ticket_id != ticket_id);
    store.activity.retain(|_, a| a.ticket_id != ticket_id);
    store.time_entries.retain(|_, e| e.ticket_id != ticket_id);
    store.tickets.remove(&ticket_id);
}

/// Parser: a status name (a non-empty string; membership in the workflow is a 422 rule).
fn status_name(v: &Value) -> Result<String, Problem> {
    string(1, 255)(v)
}

fn transition_ticket(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, t) = ctx.ticket_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let status = b.get("status", Mode::Required, &status_name);
    b.finish()?;
    let status = status.ok_or_else(|| ApiError::field("status", Problem::Required))?;
    let now = ctx.store.now();
    let t = transition(ctx.store, caller.user_id, t.id, &status, now)?;
    Ok(Reply::ok(ctx.store.ticket_json(&t)))
}

// ----- batches (T3) ------------------------------------------------------------------------

/// Parser of `ticket_ids`: 1–50 distinct strings, each a ticket reference by syntax.
fn ticket_ids(v: &Value) -> Result<Vec<String>, Problem> {
    let arr = v.as_array().ok_or(Problem::InvalidFormat)?;
    let mut out: Vec<String> = Vec::with_capacity(arr.len());
    for x in arr {
        let s = x.as_str().ok_or(Problem::InvalidFormat)?;
        if parse_ticket_ref(s).is_none() {
            return Err(Problem::InvalidFormat);
        }
        out.push(s.to_string());
    }
    if out.is_empty() || out.len() > BATCH_LIMIT {
        return Err(Problem::OutOfRange);
    }
    let distinct: BTreeSet<&String> = out.iter().collect();
    if distinct.len() != out.len() {
        return Err(Problem::DuplicateItem);
    }
    Ok(out)
}

/// Runs `op` on each referenced ticket in input order and collects the BatchResult.
fn run_batch(
    store: &mut Store,
    caller: &Caller,
    refs: &[String],
    mut op: impl FnMut(&mut Store, Uuid) -> ApiResult<Ticket>,
) -> Value {
    let mut results = Vec::with_capacity(refs.len());
    let mut ok = 0;
    for raw in refs {
        let outcome = parse_ticket_ref(raw)
            .and_then(|r| store.find_ticket(caller.org_id, &r).map(|t| (t.id, t.project_id)))
            .ok_or_else(|| ApiError::not_found("ticket", raw))
            .and_then(|(id, project)| {
                caller.require_project(project)?;
                op(store, id)
            });
        match outcome {
            Ok(t) => {
                ok += 1;
                results.push(json!({"ticket_id": raw, "ok": true, "ticket": store.ticket_json(&t), "error": null}));
            }
            Err(e) => results.push(json!({"ticket_id": raw, "ok": false, "ticket": null, "error": error_json(&e)})),
        }
    }
    json!({"results": results, "succeeded": ok, "failed": refs.len() - ok})
}

/// The caller of a batch: write scope and at least Member.
fn batch_caller(ctx: &Ctx) -> ApiResult<Caller> {
    let caller = ctx.caller()?;
    caller.require_scope(true)?;
    caller.require_role(OrgRole::Member)?;
    Ok(caller)
}

fn batch_transition(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = batch_caller(ctx)?;
    let mut b = ctx.body()?;
    let refs = b.get("ticket_ids", Mode::Required, &ticket_ids);
    let status = b.get("status", Mode::Required, &status_name);
    b.finish()?;
    let (Some(refs), Some(status)) = (refs, status) else {
        return Err(ApiError::internal("batch fields missing after validation"));
    };
    let now = ctx.store.now();
    let me = caller.user_id;
    let out = run_batch(ctx.store, &caller, &refs, |s, id| transition(s, me, id, &status, now));
    Ok(Reply::ok(out))
}

fn batch_update(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = batch_caller(ctx)?;
    let mut b = ctx.body()?;
    let refs = b.get("ticket_ids", Mode::Required, &ticket_ids);
    let changes = read_nested_changes(&mut b, "changes");
    b.finish()?;
    let (Some(refs), Some(changes)) = (refs, changes) else {
        return Err(ApiError::internal("batch fields missing after validation"));
    };
    let now = ctx.store.now();
    let me = caller.user_id;
    let out = run_batch(ctx.store, &caller, &refs, |s, id| {
        apply_changes(s, me, id, &changes, now)
    });
    Ok(Reply::ok(out))
}
