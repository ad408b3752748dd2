//! Project labels (contract §4.4 #48–#52) and attaching them to tickets (§4.5 #62, #63).
//! Names are unique per project ignoring case, colours are stored upper-case, lists are
//! ordered by name ignoring case. Deleting a label first detaches it from every ticket with
//! one `LabelRemoved` activity entry each; attach/detach write `LabelAdded`/`LabelRemoved`
//! and are idempotent (a repeat is `200` unchanged, without activity).

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::{ActivityAction, Label, OrgRole, Problem};
use crate::page::asc_s;
use crate::request::{Ctx, Mode, Patch, Reply, string, uuid};
use crate::store::Store;
use serde_json::{Value, json};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/projects/{project}/labels", create_label),
        Route::new("GET", "/api/v1/projects/{project}/labels", list_labels),
        Route::new("GET", "/api/v1/labels/{label_id}", get_label),
        Route::new("PATCH", "/api/v1/labels/{label_id}", update_label),
        Route::new("DELETE", "/api/v1/labels/{label_id}", delete_label),
        Route::new("POST", "/api/v1/tickets/{ticket}/labels", attach_label),
        Route::new("DELETE", "/api/v1/tickets/{ticket}/labels/{label_id}", detach_label),
    ]
}

/// Colour of a label created without one.
pub const DEFAULT_COLOR: &str = "#6B7280";

/// Fields a label body may never send.
const SERVER_SET: &[&str] = &[
    "id",
    "org_id",
    "project_id",
    "ticket_count",
    "created_by",
    "created_at",
    "updated_at",
];

/// Parser: a `#RRGGBB` colour, upper-cased.
pub fn color(v: &Value) -> Result<String, Problem> {
    let s = v.as_str().ok_or(Problem::InvalidFormat)?.trim();
    let b = s.as_bytes();
    if b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(Problem::InvalidFormat)
    }
}

/// `{label_id}` in a path: a label of the caller's org (400 malformed, 404 otherwise).
fn path_label(ctx: &Ctx) -> ApiResult<Label> {
    ctx.path_record()
}

/// `409 duplicate` when another label of the project already has this name (any case).
fn check_unique(store: &Store, project_id: Uuid, name: &str, except: Option<Uuid>) -> ApiResult<()> {
    let lower = name.to_lowercase();
    let taken = store
        .labels
        .values()
        .any(|l| l.project_id == project_id && Some(l.id) != except && l.name.to_lowercase() == lower);
    if taken {
        Err(ApiError::duplicate("name", name))
    } else {
        Ok(())
    }
}

fn create_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, p) = ctx.project_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::Required, &string(1, 50));
    let color = b.get("color", Mode::Optional, &color);
    let description = b.get("description", Mode::Optional, &string(0, 500));
    b.immutable(SERVER_SET);
    b.finish()?;
    let name = name.ok_or_else(|| ApiError::field("name", Problem::Required))?;
    check_unique(ctx.store, p.id, &name, None)?;
    let (now, id) = ctx.store.stamp();
    let l = Label {
        id,
        org_id: p.org_id,
        project_id: p.id,
        name,
        color: color.unwrap_or_else(|| DEFAULT_COLOR.to_string()),
        description,
        ticket_count: 0,
        created_by: caller.user_id,
        created_at: now,
        updated_at: now,
    };
    ctx.store.labels.insert(id, l.clone());
    Ok(Reply::created(
        ctx.store.label_json(&l),
        Some(format!("/api/v1/labels/{id}")),
    ))
}

fn list_labels(ctx: &mut Ctx) -> ApiResult<Reply> {
    let p = ctx.path_project("project")?;
    ctx.caller()?.check_project_read(p.id)?;
    let store = &*ctx.store;
    let items: Vec<&Label> = store.labels.values().filter(|l| l.project_id == p.id).collect();
    let page = ctx.page(
        items,
        |l| vec![asc_s(l.name.to_lowercase()), asc_s(l.id.to_string())],
        |l| store.label_json(l),
    )?;
    Ok(Reply::ok(page))
}

fn get_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let l: Label = ctx.record_project_read()?;
    Ok(Reply::ok(ctx.store.label_json(&l)))
}

fn update_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, l) = ctx.record_project_write::<Label>(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let name = b.field("name", Mode::NotNull, &string(1, 50));
    let color = b.field("color", Mode::NotNull, &color);
    let description = b.field("description", Mode::Nullable, &string(0, 500));
    b.immutable(SERVER_SET);
    b.finish()?;
    let mut next = l.clone();
    if let Patch::Set(n) = name {
        check_unique(ctx.store, l.project_id, &n, Some(l.id))?;
        next.name = n;
    }
    if let Patch::Set(c) = color {
        next.color = c;
    }
    description.apply_opt(&mut next.description);
    if (&next.name, &next.color, &next.description) != (&l.name, &l.color, &l.description) {
        next.updated_at = ctx.store.now();
        ctx.store.labels.insert(l.id, next.clone());
    }
    Ok(Reply::ok(ctx.store.label_json(&next)))
}

fn delete_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, l) = ctx.record_project_write::<Label>(OrgRole::Admin)?;
    let now = ctx.store.now();
    let carrying: Vec<Uuid> = ctx
        .store
        .tickets
        .values()
        .filter(|t| t.label_ids.contains(&l.id))
        .map(|t| t.id)
        .collect();
    for t in carrying {
        detach(ctx.store, caller.user_id, t, l.id, now);
    }
    ctx.store.labels.remove(&l.id);
    Ok(Reply::no_content())
}

/// Removes a label from a ticket with a `LabelRemoved` entry; no-op when not attached.
pub fn detach(store: &mut Store, actor: Uuid, ticket_id: Uuid, label_id: Uuid, at: crate::values::Ts) {
    let removed = store.tickets.get_mut(&ticket_id).is_some_and(|t| {
        let before = t.label_ids.len();
        t.label_ids.retain(|l| *l != label_id);
        t.label_ids.len() != before
    });
    if removed {
        store.log_activity(
            ticket_id,
            actor,
            ActivityAction::LabelRemoved,
            Some("labels"),
            Some(json!(label_id)),
            None,
            at,
        );
    }
}

fn attach_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, t) = ctx.ticket_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let label_id = b.get("label_id", Mode::Required, &uuid);
    b.finish()?;
    let label_id = label_id.ok_or_else(|| ApiError::field("label_id", Problem::Required))?;
    if ctx
        .store
        .labels
        .get(&label_id)
        .is_none_or(|l| l.project_id != t.project_id)
    {
        return Err(ApiError::invalid_reference("label_id", &label_id.to_string()));
    }
    if !t.label_ids.contains(&label_id) {
        let now = ctx.store.now();
        if let Some(stored) = ctx.store.tickets.get_mut(&t.id) {
            stored.label_ids.push(label_id);
        }
        ctx.store.log_activity(
            t.id,
            caller.user_id,
            ActivityAction::LabelAdded,
            Some("labels"),
            None,
            Some(json!(label_id)),
            now,
        );
    }
    ticket_reply(ctx.store, t.id)
}

/// The ticket `id` as it stands after a label change.
fn ticket_reply(store: &Store, id: Uuid) -> ApiResult<Reply> {
    let t = store
        .tickets
        .get(&id)
        .ok_or_else(|| ApiError::internal("ticket vanished while labelling"))?;
    Ok(Reply::ok(store.ticket_json(t)))
}

fn detach_label(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let t = ctx.path_ticket("ticket")?;
    let l = path_label(ctx)?;
    caller.check_project_write(t.project_id, OrgRole::Member)?;
    let now = ctx.store.now();
    detach(ctx.store, caller.user_id, t.id, l.id, now);
    ticket_reply(ctx.store, t.id)
}
