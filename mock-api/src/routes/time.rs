//! Time entries (contract §3.6, §4.7 #83–#91): logging time on a ticket, the org-wide and
//! per-ticket lists, edits, and the lifecycle Draft → Submitted → Approved (or Rejected and
//! back to Draft). The owner of an entry or an Admin may act on it (else `403 not_owner`); a
//! state that does not allow the action answers `422 invalid_state`. Approved entries are final:
//! reports and budgets price them, so nothing here changes them again.

use super::Route;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{Key, desc_i, desc_s};
use crate::request::{Ctx, Mode, Patch, Reply, int, string, ticket_ref, uuid};
use crate::store::Store;
use crate::values::Day;
use serde_json::Value;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/tickets/{ticket}/time-entries", create_entry),
        Route::new("GET", "/api/v1/tickets/{ticket}/time-entries", list_ticket_entries),
        Route::new("GET", "/api/v1/time-entries", list_entries),
        Route::new("GET", "/api/v1/time-entries/{time_entry_id}", get_entry),
        Route::new("PATCH", "/api/v1/time-entries/{time_entry_id}", update_entry),
        Route::new("DELETE", "/api/v1/time-entries/{time_entry_id}", delete_entry),
        Route::new("POST", "/api/v1/time-entries/{time_entry_id}/submit", submit_entry),
        Route::new("POST", "/api/v1/time-entries/{time_entry_id}/approve", approve_entry),
        Route::new("POST", "/api/v1/time-entries/{time_entry_id}/reject", reject_entry),
    ]
}

/// The earliest date an entry may carry.
fn earliest_date() -> Option<Day> {
    Day::from_ymd(2000, 1, 1)
}

/// Parser: an entry date, `out_of_range` after `today` or before 2000-01-01.
fn entry_date(today: Day) -> impl Fn(&Value) -> Result<Day, Problem> {
    move |v| {
        let d = crate::request::date(v)?;
        if d > today || earliest_date().is_some_and(|min| d < min) {
            Err(Problem::OutOfRange)
        } else {
            Ok(d)
        }
    }
}

/// Fields of the model a client never sends.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "org_id",
    "project_id",
    "ticket_key",
    "status",
    "submitted_at",
    "approved_at",
    "rejected_at",
    "approved_by",
    "rejected_by",
    "rejection_reason",
    "created_at",
    "updated_at",
];

/// A time entry as the API returns it.
pub fn entry_json(e: &TimeEntry) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

/// Sort key of the time-entry lists: `date` desc, then `created_at` desc, then `id` desc.
fn entry_key(e: &TimeEntry) -> Vec<Key> {
    vec![
        desc_i(e.date.0.to_julian_day() as i64),
        desc_i(e.created_at.0),
        desc_s(e.id.to_string()),
    ]
}

/// The owner of the entry or an Admin, else `403 not_owner`.
fn require_owner_or_admin(caller: &Caller, e: &TimeEntry) -> ApiResult<()> {
    if e.user_id == caller.user_id || caller.role.at_least(OrgRole::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "not_owner",
            "only the owner of this time entry or an Admin may do this",
        ))
    }
}

/// `422 invalid_state` unless the entry is in one of `expected`.
fn require_state(e: &TimeEntry, expected: &[TimeEntryStatus], action: &str) -> ApiResult<()> {
    if expected.contains(&e.status) {
        return Ok(());
    }
    let names: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
    Err(ApiError::invalid_state(
        e.status.as_str(),
        &names,
        format!(
            "cannot {action} a time entry in state {}; it must be {}",
            e.status,
            names.join(" or ")
        ),
    ))
}

fn create_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, ticket) = ctx.ticket_write(OrgRole::Member)?;
    let today = ctx.store.today();
    let mut b = ctx.body()?;
    let user = b.get("user_id", Mode::Optional, &uuid);
    if user.is_some_and(|u| u != caller.user_id) {
        caller.require_role(OrgRole::Admin)?;
    }
    let minutes = b.get("minutes", Mode::Required, &int(1, 1440));
    let date = b.get("date", Mode::Optional, &entry_date(today));
    let description = b.get("description", Mode::Optional, &string(0, 2000));
    b.immutable(&[SERVER_FIELDS, &["ticket_id"]].concat());
    b.finish()?;
    let minutes = minutes.ok_or_else(|| ApiError::field("minutes", Problem::Required))?;
    let user_id = user.unwrap_or(caller.user_id);
    if !ctx.store.is_member(caller.org_id, user_id) {
        return Err(ApiError::invalid_reference("user_id", &user_id.to_string()));
    }
    let (now, id) = ctx.store.stamp();
    let e = TimeEntry {
        id,
        org_id: caller.org_id,
        project_id: ticket.project_id,
        ticket_id: ticket.id,
        ticket_key: ticket.key.clone(),
        user_id,
        date: date.unwrap_or(today),
        minutes,
        description,
        status: TimeEntryStatus::Draft,
        submitted_at: None,
        approved_at: None,
        rejected_at: None,
        approved_by: None,
        rejected_by: None,
        rejection_reason: None,
        created_at: now,
        updated_at: now,
    };
    ctx.store.time_entries.insert(id, e.clone());
    Ok(Reply::created(
        entry_json(&e),
        Some(format!("/api/v1/time-entries/{id}")),
    ))
}

fn list_ticket_entries(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let ticket = ctx.path_ticket("ticket")?;
    let status = ctx.query.csv_enum("status", TimeEntryStatus::parse)?;
    caller.check_project_read(ticket.project_id)?;
    let items: Vec<TimeEntry> = ctx
        .store
        .time_entries
        .values()
        .filter(|e| e.ticket_id == ticket.id)
        .filter(|e| status.as_ref().is_none_or(|s| s.contains(&e.status)))
        .cloned()
        .collect();
    Ok(Reply::ok(ctx.page(items, entry_key, entry_json)?))
}

fn list_entries(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let user = ctx.query.uuid("user_id")?;
    let status = ctx.query.csv_enum("status", TimeEntryStatus::parse)?;
    let from = ctx.query.date("from")?;
    let to = ctx.query.date("to")?;
    let project = ctx.query_project("project_id")?;
    let ticket = ctx.query_ticket("ticket_id")?;
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    let items: Vec<TimeEntry> = ctx
        .store
        .time_entries
        .values()
        .filter(|e| e.org_id == org && caller.project_visible(e.project_id))
        .filter(|e| user.is_none_or(|u| e.user_id == u))
        .filter(|e| project.is_none_or(|p| p == Some(e.project_id)))
        .filter(|e| ticket.is_none_or(|t| t == Some(e.ticket_id)))
        .filter(|e| status.as_ref().is_none_or(|s| s.contains(&e.status)))
        .filter(|e| from.is_none_or(|d| e.date >= d) && to.is_none_or(|d| e.date <= d))
        .cloned()
        .collect();
    Ok(Reply::ok(ctx.page(items, entry_key, entry_json)?))
}

fn get_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let e: TimeEntry = ctx.record_project_read()?;
    Ok(Reply::ok(entry_json(&e)))
}

fn update_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, e) = ctx.record_project_write::<TimeEntry>(OrgRole::Member)?;
    require_owner_or_admin(&caller, &e)?;
    let today = ctx.store.today();
    let mut b = ctx.body()?;
    let minutes = b.field("minutes", Mode::NotNull, &int(1, 1440));
    let date = b.field("date", Mode::NotNull, &entry_date(today));
    let description = b.field("description", Mode::Nullable, &string(0, 2000));
    let ticket = b.field("ticket_id", Mode::NotNull, &ticket_ref);
    let raw_ticket = b
        .raw()
        .get("ticket_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    b.immutable(&[SERVER_FIELDS, &["user_id"]].concat());
    b.finish()?;
    let new_ticket = match ticket {
        Patch::Set(r) => {
            let t = ctx
                .store
                .find_ticket(caller.org_id, &r)
                .cloned()
                .ok_or_else(|| ApiError::invalid_reference("ticket_id", &raw_ticket))?;
            caller.require_project(t.project_id)?;
            Some(t)
        }
        _ => None,
    };
    require_state(&e, &[TimeEntryStatus::Draft, TimeEntryStatus::Rejected], "edit")?;
    let mut next = e.clone();
    if let Patch::Set(m) = minutes {
        next.minutes = m;
    }
    if let Patch::Set(d) = date {
        next.date = d;
    }
    description.apply_opt(&mut next.description);
    if let Some(t) = new_ticket {
        next.ticket_id = t.id;
        next.project_id = t.project_id;
        next.ticket_key = t.key;
    }
    let changed = serde_json::to_value(&next).ok() != serde_json::to_value(&e).ok();
    if changed {
        // Editing a rejected entry is how its owner fixes it: it goes back to Draft.
        next.status = TimeEntryStatus::Draft;
        next.updated_at = ctx.store.now();
        ctx.store.time_entries.insert(e.id, next.clone());
    }
    Ok(Reply::ok(entry_json(&next)))
}

fn delete_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, e) = ctx.record_project_write::<TimeEntry>(OrgRole::Member)?;
    require_owner_or_admin(&caller, &e)?;
    if caller.role.at_least(OrgRole::Admin) {
        require_state(
            &e,
            &[
                TimeEntryStatus::Draft,
                TimeEntryStatus::Submitted,
                TimeEntryStatus::Rejected,
            ],
            "delete",
        )?;
    } else {
        require_state(&e, &[TimeEntryStatus::Draft, TimeEntryStatus::Rejected], "delete")?;
    }
    ctx.store.time_entries.remove(&e.id);
    Ok(Reply::no_content())
}

/// Reads an action body that takes no fields (absent or `{}`).
fn empty_body(ctx: &Ctx) -> ApiResult<()> {
    ctx.body()?.finish()
}

fn submit_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, e) = ctx.record_project_write::<TimeEntry>(OrgRole::Member)?;
    require_owner_or_admin(&caller, &e)?;
    empty_body(ctx)?;
    require_state(&e, &[TimeEntryStatus::Draft, TimeEntryStatus::Rejected], "submit")?;
    let now = ctx.store.now();
    let mut next = e;
    next.status = TimeEntryStatus::Submitted;
    next.submitted_at = Some(now);
    next.rejected_at = None;
    next.rejected_by = None;
    next.rejection_reason = None;
    next.updated_at = now;
    save_entry(ctx.store, next)
}

/// Stores the changed entry and answers it.
fn save_entry(store: &mut Store, e: TimeEntry) -> ApiResult<Reply> {
    let reply = Reply::ok(entry_json(&e));
    store.time_entries.insert(e.id, e);
    Ok(reply)
}

fn approve_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, e) = ctx.record_project_write::<TimeEntry>(OrgRole::Admin)?;
    empty_body(ctx)?;
    require_state(&e, &[TimeEntryStatus::Submitted], "approve")?;
    let now = ctx.store.now();
    let mut next = e;
    next.status = TimeEntryStatus::Approved;
    next.approved_at = Some(now);
    next.approved_by = Some(caller.user_id);
    next.updated_at = now;
    save_entry(ctx.store, next)
}

fn reject_entry(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, e) = ctx.record_project_write::<TimeEntry>(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let reason = b.get("reason", Mode::Required, &string(1, 500));
    b.finish()?;
    let reason = reason.ok_or_else(|| ApiError::field("reason", Problem::Required))?;
    require_state(&e, &[TimeEntryStatus::Submitted], "reject")?;
    let now = ctx.store.now();
    let mut next = e;
    next.status = TimeEntryStatus::Rejected;
    next.rejected_at = Some(now);
    next.rejected_by = Some(caller.user_id);
    next.rejection_reason = Some(reason);
    next.updated_at = now;
    save_entry(ctx.store, next)
}
