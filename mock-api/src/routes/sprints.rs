//! Sprints (contract §3.5, §4.6 #74–#82): the Planned → Active → Completed lifecycle, at most
//! one Active sprint per project, the board, and the burndown of §4.9. Completing a sprint
//! freezes its burndown (computed before carried-over tickets leave) into
//! `Sprint.frozen_burndown`; every ticket that changes sprint gets a `SprintChanged` entry.

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{Key, asc_i, asc_s};
use crate::request::{Ctx, Mode, Reply, date, string, uuid};
use crate::store::Store;
use crate::store::filtered;
use crate::values::{Day, Ts};
use serde_json::{Value, json};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/projects/{project}/sprints", create_sprint),
        Route::new("GET", "/api/v1/projects/{project}/sprints", list_sprints),
        Route::new("GET", "/api/v1/sprints/{sprint_id}", get_sprint),
        Route::new("PATCH", "/api/v1/sprints/{sprint_id}", update_sprint),
        Route::new("DELETE", "/api/v1/sprints/{sprint_id}", delete_sprint),
        Route::new("POST", "/api/v1/sprints/{sprint_id}/start", start_sprint),
        Route::new("POST", "/api/v1/sprints/{sprint_id}/complete", complete_sprint),
        Route::new("GET", "/api/v1/sprints/{sprint_id}/burndown", get_burndown),
        Route::new("GET", "/api/v1/sprints/{sprint_id}/board", get_board),
    ]
}

/// The longest a sprint may last: `end_date` at most this many days after `start_date`.
const MAX_SPRINT_DAYS: i64 = 365;

const SERVER_FIELDS: &[&str] = &[
    "id",
    "org_id",
    "project_id",
    "status",
    "started_at",
    "completed_at",
    "created_by",
    "created_at",
    "updated_at",
];

fn sprint_json(s: &Sprint) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Whether a date range is a valid sprint: `end ≥ start`, at most 365 days apart.
fn valid_range(start: Day, end: Day) -> bool {
    let span = start.days_until(end);
    (0..=MAX_SPRINT_DAYS).contains(&span)
}

/// The tickets currently in a sprint, by ticket number.
fn sprint_tickets(store: &Store, sprint_id: Uuid) -> Vec<&Ticket> {
    let mut v: Vec<&Ticket> = store
        .tickets
        .values()
        .filter(|t| t.sprint_id == Some(sprint_id))
        .collect();
    v.sort_by_key(|t| (t.project_id, t.ticket_number, t.id));
    v
}

/// Moves a ticket to another sprint (or the backlog) and records `SprintChanged`.
fn move_ticket(store: &mut Store, actor: Uuid, ticket_id: Uuid, to: Option<Uuid>, at: Ts) {
    let Some(t) = store.tickets.get_mut(&ticket_id) else {
        return;
    };
    let from = t.sprint_id;
    if from == to {
        return;
    }
    t.sprint_id = to;
    store.log_activity(
        ticket_id,
        actor,
        ActivityAction::SprintChanged,
        Some("sprint_id"),
        Some(json!(from)),
        Some(json!(to)),
        at,
    );
}

fn create_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, p) = ctx.project_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::Required, &string(1, 100));
    let goal = b.get("goal", Mode::Optional, &string(0, 1000));
    let start = b.get("start_date", Mode::Required, &date);
    let end = b.get("end_date", Mode::Required, &date);
    if let (Some(s), Some(e)) = (start, end)
        && !valid_range(s, e)
    {
        b.error("end_date", Problem::OutOfRange);
    }
    b.immutable(SERVER_FIELDS);
    b.finish()?;
    let (Some(name), Some(start_date), Some(end_date)) = (name, start, end) else {
        return Err(ApiError::internal("sprint fields missing after validation"));
    };
    let (now, id) = ctx.store.stamp();
    let s = Sprint {
        id,
        org_id: p.org_id,
        project_id: p.id,
        name,
        goal,
        start_date,
        end_date,
        status: SprintStatus::Planned,
        started_at: None,
        completed_at: None,
        created_by: caller.user_id,
        created_at: now,
        updated_at: now,
        frozen_burndown: None,
    };
    ctx.store.sprints.insert(id, s.clone());
    Ok(Reply::created(sprint_json(&s), Some(format!("/api/v1/sprints/{id}"))))
}

fn list_sprints(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let p = ctx.path_project("project")?;
    let statuses = ctx.query.csv_enum("status", SprintStatus::parse)?;
    caller.check_project_read(p.id)?;
    let items: Vec<Sprint> = filtered(&ctx.store.sprints, |s| {
        s.project_id == p.id && statuses.as_ref().is_none_or(|st| st.contains(&s.status))
    });
    let key = |s: &Sprint| {
        vec![
            asc_i(s.start_date.start().0),
            asc_i(s.created_at.0),
            asc_s(s.id.to_string()),
        ]
    };
    let page = ctx.page(items, key, sprint_json)?;
    Ok(Reply::ok(page))
}

fn get_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let s: Sprint = ctx.record_project_read()?;
    Ok(Reply::ok(sprint_json(&s)))
}

fn update_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, s) = ctx.record_project_write::<Sprint>(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::NotNull, &string(1, 100));
    let goal = b.field("goal", Mode::Nullable, &string(0, 1000));
    let start = b.get("start_date", Mode::NotNull, &date);
    let end = b.get("end_date", Mode::NotNull, &date);
    if (start.is_some() || end.is_some()) && !valid_range(start.unwrap_or(s.start_date), end.unwrap_or(s.end_date)) {
        // Blame the end date when it was sent; otherwise the start date is what broke the range.
        b.error(
            if end.is_some() { "end_date" } else { "start_date" },
            Problem::OutOfRange,
        );
    }
    b.immutable(SERVER_FIELDS);
    b.finish()?;
    match s.status {
        SprintStatus::Completed => {
            return Err(ApiError::invalid_state(
                "Completed",
                &["Planned", "Active"],
                "a Completed sprint cannot be changed",
            ));
        }
        SprintStatus::Active if start.is_some_and(|d| d != s.start_date) => {
            return Err(ApiError::invalid_state(
                "Active",
                &["Planned"],
                "the start date of an Active sprint cannot be changed",
            ));
        }
        _ => {}
    }
    let mut next = s.clone();
    if let Some(n) = name {
        next.name = n;
    }
    goal.apply_opt(&mut next.goal);
    if let Some(d) = start {
        next.start_date = d;
    }
    if let Some(d) = end {
        next.end_date = d;
    }
    let changed = serde_json::to_value(&next).ok() != serde_json::to_value(&s).ok();
    if changed {
        next.updated_at = ctx.store.now();
        ctx.store.sprints.insert(s.id, next.clone());
    }
    Ok(Reply::ok(sprint_json(&next)))
}

fn delete_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, s) = ctx.record_project_write::<Sprint>(OrgRole::Admin)?;
    if s.status == SprintStatus::Active {
        return Err(ApiError::invalid_state(
            "Active",
            &["Planned", "Completed"],
            "an Active sprint cannot be deleted; complete it first",
        ));
    }
    let now = ctx.store.now();
    let ids: Vec<Uuid> = sprint_tickets(ctx.store, s.id).iter().map(|t| t.id).collect();
    for id in ids {
        move_ticket(ctx.store, caller.user_id, id, None, now);
    }
    ctx.store.sprints.remove(&s.id);
    Ok(Reply::no_content())
}

fn start_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, s) = ctx.record_project_write::<Sprint>(OrgRole::Member)?;
    ctx.body()?.finish()?;
    if s.status != SprintStatus::Planned {
        return Err(ApiError::invalid_state(
            s.status.as_str(),
            &["Planned"],
            format!("a {} sprint cannot be started", s.status),
        ));
    }
    if let Some(active) = ctx
        .store
        .sprints
        .values()
        .find(|o| o.project_id == s.project_id && o.status == SprintStatus::Active)
    {
        return Err(ApiError::conflict(
            "active_sprint_exists",
            format!("sprint {} is already active in this project", active.name),
        )
        .with("sprint_id", active.id.to_string()));
    }
    let now = ctx.store.now();
    let mut next = s.clone();
    next.status = SprintStatus::Active;
    next.started_at = Some(now);
    next.updated_at = now;
    ctx.store.sprints.insert(s.id, next.clone());
    Ok(Reply::ok(sprint_json(&next)))
}

fn complete_sprint(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, s) = ctx.record_project_write::<Sprint>(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let target = b.get("move_unfinished_to", Mode::Optional, &uuid);
    b.finish()?;
    if s.status != SprintStatus::Active {
        return Err(ApiError::invalid_state(
            s.status.as_str(),
            &["Active"],
            format!("a {} sprint cannot be completed", s.status),
        ));
    }
    if let Some(t) = target {
        let found = ctx
            .store
            .sprints
            .get(&t)
            .filter(|o| o.org_id == s.org_id && o.project_id == s.project_id)
            .ok_or_else(|| ApiError::invalid_reference("move_unfinished_to", &t.to_string()))?;
        if found.status != SprintStatus::Planned {
            return Err(ApiError::invalid_state(
                found.status.as_str(),
                &["Planned"],
                format!(
                    "unfinished tickets can only move to a Planned sprint, not a {} one",
                    found.status
                ),
            ));
        }
    }
    let now = ctx.store.now();
    let mut done = s.clone();
    done.status = SprintStatus::Completed;
    done.completed_at = Some(now);
    done.updated_at = now;
    // The series is frozen before carried-over tickets leave, so it shows the sprint as it ended.
    done.frozen_burndown = Some(compute_burndown(ctx.store, &done));
    let wf = ctx.store.project_workflow(s.project_id).cloned();
    let category = |status: &str| {
        wf.as_ref()
            .map(|w| w.category_of(status))
            .unwrap_or(StatusCategory::Unstarted)
    };
    let (open, closed): (Vec<&Ticket>, Vec<&Ticket>) = sprint_tickets(ctx.store, s.id)
        .into_iter()
        .partition(|t| category(&t.status).is_open());
    let carried: Vec<Uuid> = open.iter().map(|t| t.id).collect();
    let completed: Vec<Uuid> = closed.iter().map(|t| t.id).collect();
    for id in &carried {
        move_ticket(ctx.store, caller.user_id, *id, target, now);
    }
    ctx.store.sprints.insert(s.id, done.clone());
    Ok(Reply::ok(json!({
        "sprint": sprint_json(&done),
        "completed_ticket_ids": completed,
        "carried_over_ticket_ids": carried,
        "moved_to_sprint_id": target,
    })))
}

fn get_burndown(ctx: &mut Ctx) -> ApiResult<Reply> {
    let s: Sprint = ctx.record_project_read()?;
    Ok(Reply::ok(burndown(ctx.store, &s)))
}

/// Rank of a priority for the board's `-priority` order: Critical first.
fn priority_rank(p: Priority) -> i64 {
    match p {
        Priority::Critical => 0,
        Priority::High => 1,
        Priority::Medium => 2,
        Priority::Low => 3,
    }
}

fn board_key(t: &Ticket) -> Vec<Key> {
    vec![
        asc_i(priority_rank(t.priority)),
        asc_i(t.created_at.0),
        asc_s(t.id.to_string()),
    ]
}

fn get_board(ctx: &mut Ctx) -> ApiResult<Reply> {
    let s: Sprint = ctx.record_project_read()?;
    let store = &*ctx.store;
    let wf = store
        .project_workflow(s.project_id)
        .ok_or_else(|| ApiError::internal("the sprint's project has no workflow"))?;
    let tickets = sprint_tickets(store, s.id);
    let columns: Vec<Value> = wf
        .statuses
        .iter()
        .map(|st| {
            let mut col: Vec<&Ticket> = tickets.iter().copied().filter(|t| t.status == st.name).collect();
            col.sort_by(|a, b| crate::page::cmp_keys(&board_key(a), &board_key(b)));
            let rendered: Vec<Value> = col.iter().map(|t| store.ticket_json(t)).collect();
            json!({"status": st.name, "category": st.category, "ticket_count": col.len(), "tickets": rendered})
        })
        .collect();
    Ok(Reply::ok(json!({
        "sprint_id": s.id, "project_id": s.project_id, "workflow_id": wf.id, "columns": columns,
    })))
}

// ----- burndown ------------------------------------------------------------------------------

/// The Burndown of a sprint (§4.9): the stored series of a Completed sprint, or the series
/// computed now for any other (the export reuses this).
pub fn burndown(store: &Store, sprint: &Sprint) -> Value {
    match (&sprint.status, &sprint.frozen_burndown) {
        (SprintStatus::Completed, Some(frozen)) => frozen.clone(),
        _ => compute_burndown(store, sprint),
    }
}

/// One ticket's status history as the burndown reads it.
struct History {
    created_at: Ts,
    /// Status before any `StatusChanged` entry.
    initial: String,
    /// `(at, id, new status)` of every `StatusChanged` entry, oldest first.
    changes: Vec<(Ts, Uuid, String)>,
    points: i64,
    cancelled_now: bool,
}

impl History {
    fn of(store: &Store, t: &Ticket, cancelled_now: bool) -> History {
        let mut created: Option<(Ts, Uuid, String)> = None;
        let mut changes: Vec<(Ts, Uuid, String)> = Vec::new();
        let mut first_old: Option<(Ts, Uuid, String)> = None;
        for a in store.activity.values().filter(|a| a.ticket_id == t.id) {
            let status_in = |v: &Option<Value>| -> Option<String> {
                v.as_ref()
                    .and_then(|v| v.get("status").or(Some(v)))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            match a.action {
                ActivityAction::Created => {
                    if let Some(s) = status_in(&a.new_value) {
                        created = Some((a.created_at, a.id, s));
                    }
                }
                ActivityAction::StatusChanged => {
                    if let Some(s) = a.new_value.as_ref().and_then(Value::as_str) {
                        changes.push((a.created_at, a.id, s.to_string()));
                    }
                    if let Some(old) = a.old_value.as_ref().and_then(Value::as_str)
                        && first_old.as_ref().is_none_or(|f| (a.created_at, a.id) < (f.0, f.1))
                    {
                        first_old = Some((a.created_at, a.id, old.to_string()));
                    }
                }
                _ => {}
            }
        }
        changes.sort();
        // Without a `Created` entry, the status before the first change is that change's
        // `old_value`; with no history at all, the current status.
        let initial = created
            .map(|c| c.2)
            .or(first_old.map(|f| f.2))
            .unwrap_or_else(|| t.status.clone());
        History {
            created_at: t.created_at,
            initial,
            changes,
            points: t.story_points.unwrap_or(0),
            cancelled_now,
        }
    }

    /// The status at the end of the day whose next day starts at `next`.
    fn status_before(&self, next: Ts) -> &str {
        self.changes
            .iter()
            .rev()
            .find(|c| c.0 < next)
            .map(|c| c.2.as_str())
            .unwrap_or(&self.initial)
    }
}

/// `total × (n−1−i) / (n−1)` rounded half-up to 2 decimals; `0` when the sprint has one day.
fn ideal(total: i64, i: i64, n: i64) -> f64 {
    let d = n - 1;
    if d <= 0 {
        return 0.0;
    }
    let num = total as i128 * (d - i) as i128 * 100;
    let cents = (2 * num + d as i128).div_euclid(2 * d as i128);
    cents as f64 / 100.0
}

/// Computes the burndown series of §4.9 from the tickets now in the sprint and their history.
pub fn compute_burndown(store: &Store, sprint: &Sprint) -> Value {
    burndown_over(store, sprint, &sprint_tickets(store, sprint.id))
}

/// The status a ticket had at `at`, from its `Created` and `StatusChanged` activity (`None`
/// when it has none by then).
pub fn status_at(store: &Store, ticket_id: Uuid, at: Ts) -> Option<String> {
    let mut seen: Vec<(Ts, Uuid, &str)> = (store.activity.values())
        .filter(|a| a.ticket_id == ticket_id && a.created_at <= at)
        .filter_map(|a| {
            let status = match a.action {
                ActivityAction::Created => a.new_value.as_ref()?.get("status")?.as_str(),
                ActivityAction::StatusChanged => a.new_value.as_ref()?.as_str(),
                _ => None,
            };
            status.map(|s| (a.created_at, a.id, s))
        })
        .collect();
    seen.sort();
    seen.last().map(|s| s.2.to_string())
}

/// The sprint a ticket was in just before `at` (moves made at `at` itself not yet applied).
pub fn sprint_before(store: &Store, t: &Ticket, at: Ts) -> Option<Uuid> {
    let id = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
    let mut moves: Vec<(Ts, Uuid, Option<Uuid>, Option<Uuid>)> = (store.activity.values())
        .filter(|a| a.ticket_id == t.id && a.action == ActivityAction::SprintChanged)
        .map(|a| (a.created_at, a.id, id(&a.old_value), id(&a.new_value)))
        .collect();
    moves.sort();
    match moves.iter().rev().find(|m| m.0 < at) {
        Some(m) => m.3,
        None => moves.first().map_or(t.sprint_id, |m| m.2),
    }
}

/// The burndown `complete` froze for a sprint completed at `at`, rebuilt from history: over the
/// tickets in the sprint just before `at` (those carried over at `at` included), each with its
/// status at `at`. The seed freezes the sprints it completes in the past with it.
pub fn burndown_as_of(store: &Store, sprint: &Sprint, at: Ts) -> Value {
    let mut then: Vec<Ticket> = (store.tickets.values())
        .filter(|t| sprint_before(store, t, at) == Some(sprint.id))
        .map(|t| {
            let mut t = t.clone();
            t.sprint_id = Some(sprint.id);
            t.status = status_at(store, t.id, at).unwrap_or(t.status);
            t
        })
        .collect();
    then.sort_by_key(|t| (t.project_id, t.ticket_number, t.id));
    burndown_over(store, sprint, &then.iter().collect::<Vec<_>>())
}

/// The burndown series of §4.9 over `tickets` (as the sprint holds them) and their history.
fn burndown_over(store: &Store, sprint: &Sprint, tickets: &[&Ticket]) -> Value {
    let frozen = sprint.status == SprintStatus::Completed;
    let last_actual = match (frozen, sprint.completed_at) {
        (true, Some(at)) => at.day(),
        _ => store.today(),
    };
    let wf = store.project_workflow(sprint.project_id);
    let category = |status: &str| wf.map(|w| w.category_of(status)).unwrap_or(StatusCategory::Unstarted);
    let histories: Vec<History> = tickets
        .iter()
        .map(|t| History::of(store, t, category(&t.status) == StatusCategory::Cancelled))
        .collect();
    let counted: Vec<&History> = histories.iter().filter(|h| !h.cancelled_now).collect();
    let total_tickets = counted.len() as i64;
    let total_points: i64 = counted.iter().map(|h| h.points).sum();
    // The API keeps sprints within a year; the bound only guards imported or seeded oddities.
    let n = (sprint.start_date.days_until(sprint.end_date) + 1).clamp(1, 10 * (MAX_SPRINT_DAYS + 1));
    let mut days = Vec::with_capacity(n as usize);
    for i in 0..n {
        let day = sprint.start_date.plus(i);
        let next = day.plus(1).start();
        let mut row = json!({
            "date": day,
            "remaining_tickets": null, "remaining_points": null,
            "completed_tickets": null, "completed_points": null,
            "ideal_tickets": ideal(total_tickets, i, n), "ideal_points": ideal(total_points, i, n),
        });
        if day <= last_actual {
            let (mut rt, mut rp, mut ct, mut cp) = (0i64, 0i64, 0i64, 0i64);
            for h in histories.iter().filter(|h| h.created_at < next) {
                match category(h.status_before(next)) {
                    StatusCategory::Unstarted | StatusCategory::Started => {
                        rt += 1;
                        rp += h.points;
                    }
                    StatusCategory::Completed => {
                        ct += 1;
                        cp += h.points;
                    }
                    StatusCategory::Cancelled => {}
                }
            }
            row["remaining_tickets"] = json!(rt);
            row["remaining_points"] = json!(rp);
            row["completed_tickets"] = json!(ct);
            row["completed_points"] = json!(cp);
        }
        days.push(row);
    }
    json!({
        "sprint_id": sprint.id, "status": sprint.status, "start_date": sprint.start_date, "end_date": sprint.end_date,
        "frozen": frozen, "total_tickets": total_tickets, "total_points": total_points, "days": days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_line_rounds_half_up_to_two_decimals() {
        assert_eq!(ideal(10, 0, 4), 10.0);
        assert_eq!(ideal(10, 1, 4), 6.67);
        assert_eq!(ideal(10, 2, 4), 3.33);
        assert_eq!(ideal(10, 3, 4), 0.0);
        assert_eq!(ideal(1, 1, 9), 0.88);
        assert_eq!(ideal(5, 0, 1), 0.0);
        // 3 × 1 / 8 = 0.375 → 0.38 (half-up).
        assert_eq!(ideal(3, 7, 9), 0.38);
    }

    #[test]
    fn sprint_ranges_allow_one_day_up_to_a_year() {
        let d = Day::parse("2026-04-01").expect("date");
        assert!(valid_range(d, d));
        assert!(valid_range(d, d.plus(365)));
        assert!(!valid_range(d, d.plus(366)));
        assert!(!valid_range(d, d.plus(-1)));
    }
}
