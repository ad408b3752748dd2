//! Projects, project members and the project summary (contract §4.4 #39–#47, §4.9).

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{asc_i, asc_s};
use crate::request::{Ctx, Mode, Patch, Reply, enumv, int, string, uuid};
use crate::store::filtered;
use crate::store::{Store, cost_of};
use crate::values::Day;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/projects", create_project),
        Route::new("GET", "/api/v1/projects", list_projects),
        Route::new("GET", "/api/v1/projects/{project}", get_project),
        Route::new("PATCH", "/api/v1/projects/{project}", update_project),
        Route::new("DELETE", "/api/v1/projects/{project}", delete_project),
        Route::new("GET", "/api/v1/projects/{project}/summary", project_summary),
        Route::new("POST", "/api/v1/projects/{project}/members", add_member),
        Route::new("GET", "/api/v1/projects/{project}/members", list_members),
        Route::new("DELETE", "/api/v1/projects/{project}/members/{user_id}", remove_member),
    ]
}

/// Parser: a project key (`^[A-Za-z][A-Za-z0-9]{1,9}$`), upper-cased.
fn project_key(v: &Value) -> Result<String, Problem> {
    let s = v.as_str().ok_or(Problem::InvalidFormat)?.trim();
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(Problem::Required);
    }
    if b.len() < 2 {
        return Err(Problem::TooShort);
    }
    if b.len() > 10 {
        return Err(Problem::TooLong);
    }
    if !b[0].is_ascii_alphabetic() || !b.iter().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Problem::InvalidFormat);
    }
    Ok(s.to_ascii_uppercase())
}

fn project_json(p: &Project) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// The finance and descriptive fields shared by create and PATCH.
struct ProjectFields {
    name: Patch<String>,
    description: Patch<String>,
    workflow_id: Patch<Uuid>,
    capitalization_type: Patch<CapitalizationType>,
    development_phase: Patch<DevelopmentPhase>,
    cost_center_id: Patch<String>,
    budget_cents: Patch<i64>,
    budget_period: Patch<BudgetPeriod>,
    amortization_months: Patch<i64>,
}

fn read_fields(b: &mut crate::request::Body, create: bool) -> ProjectFields {
    let (req, opt_null, not_null) = if create {
        (Mode::Required, Mode::Optional, Mode::Optional)
    } else {
        (Mode::NotNull, Mode::Nullable, Mode::NotNull)
    };
    ProjectFields {
        name: b.field("name", req, &string(1, 100)),
        description: b.field("description", opt_null, &string(0, 10_000)),
        workflow_id: b.field("workflow_id", not_null, &uuid),
        capitalization_type: b.field("capitalization_type", opt_null, &enumv(CapitalizationType::parse)),
        development_phase: b.field("development_phase", opt_null, &enumv(DevelopmentPhase::parse)),
        cost_center_id: b.field("cost_center_id", opt_null, &string(1, 64)),
        budget_cents: b.field("budget_cents", opt_null, &int(0, i64::MAX)),
        budget_period: b.field("budget_period", opt_null, &enumv(BudgetPeriod::parse)),
        amortization_months: b.field("amortization_months", opt_null, &int(1, 120)),
    }
}

fn create_project(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let mut b = ctx.body()?;
    let org = match b.field("org_id", Mode::Optional, &uuid) {
        Patch::Set(id) if id != caller.org_id => return Err(ApiError::not_found("organization", &id.to_string())),
        _ => caller.org_id,
    };
    caller.check_org_write(OrgRole::Member)?;
    let key = b.get("key", Mode::Required, &project_key);
    let f = read_fields(&mut b, true);
    b.immutable(&["id", "ticket_counter", "created_by", "created_at", "updated_at"]);
    b.finish()?;
    let (Some(key), Patch::Set(name)) = (key, f.name.clone()) else {
        return Err(ApiError::internal("project fields missing after validation"));
    };
    let workflow_id = match f.workflow_id {
        Patch::Set(w) => {
            if ctx.store.workflows.get(&w).is_none_or(|w| w.org_id != org) {
                return Err(ApiError::invalid_reference("workflow_id", &w.to_string()));
            }
            w
        }
        _ => ctx
            .store
            .default_workflow(org)
            .map(|w| w.id)
            .ok_or_else(|| ApiError::internal("org has no Default workflow"))?,
    };
    if ctx.store.projects.values().any(|p| p.org_id == org && p.key == key) {
        return Err(ApiError::duplicate("key", &key));
    }
    let (now, id) = ctx.store.stamp();
    let mut p = Project {
        id,
        org_id: org,
        key,
        name,
        description: None,
        workflow_id,
        ticket_counter: 0,
        capitalization_type: None,
        development_phase: None,
        cost_center_id: None,
        budget_cents: None,
        budget_period: None,
        amortization_months: None,
        created_by: caller.user_id,
        created_at: now,
        updated_at: now,
    };
    f.description.apply_opt(&mut p.description);
    f.capitalization_type.apply_opt(&mut p.capitalization_type);
    f.development_phase.apply_opt(&mut p.development_phase);
    f.cost_center_id.apply_opt(&mut p.cost_center_id);
    f.budget_cents.apply_opt(&mut p.budget_cents);
    f.budget_period.apply_opt(&mut p.budget_period);
    f.amortization_months.apply_opt(&mut p.amortization_months);
    ctx.store.projects.insert(id, p.clone());
    ctx.store.project_members.insert(
        (id, caller.user_id),
        ProjectMember {
            project_id: id,
            user_id: caller.user_id,
            added_by: caller.user_id,
            added_at: now,
        },
    );
    Ok(Reply::created(project_json(&p), Some(format!("/api/v1/projects/{id}"))))
}

fn list_projects(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    let items: Vec<Project> = filtered(&ctx.store.projects, |p| p.org_id == org && caller.project_visible(p.id));
    let page = ctx.page(
        items,
        |p| vec![asc_i(p.created_at.0), asc_s(p.id.to_string())],
        project_json,
    )?;
    Ok(Reply::ok(page))
}

fn get_project(ctx: &mut Ctx) -> ApiResult<Reply> {
    let p = ctx.path_project("project")?;
    ctx.caller()?.check_project_read(p.id)?;
    Ok(Reply::ok(project_json(&p)))
}

fn update_project(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, p) = ctx.project_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let f = read_fields(&mut b, false);
    if f.workflow_id.is_present() {
        caller.require_role(OrgRole::Admin)?;
    }
    b.immutable(&[
        "id",
        "org_id",
        "key",
        "ticket_counter",
        "created_by",
        "created_at",
        "updated_at",
    ]);
    b.finish()?;
    let mut next = p.clone();
    f.name.apply(&mut next.name);
    f.description.apply_opt(&mut next.description);
    f.capitalization_type.apply_opt(&mut next.capitalization_type);
    f.development_phase.apply_opt(&mut next.development_phase);
    f.cost_center_id.apply_opt(&mut next.cost_center_id);
    f.budget_cents.apply_opt(&mut next.budget_cents);
    f.budget_period.apply_opt(&mut next.budget_period);
    f.amortization_months.apply_opt(&mut next.amortization_months);
    if let Patch::Set(w) = f.workflow_id {
        let wf = ctx
            .store
            .workflows
            .get(&w)
            .filter(|w| w.org_id == p.org_id)
            .cloned()
            .ok_or_else(|| ApiError::invalid_reference("workflow_id", &w.to_string()))?;
        let mut missing: Vec<String> = ctx
            .store
            .tickets
            .values()
            .filter(|t| t.project_id == p.id && !wf.has_status(&t.status))
            .map(|t| t.status.clone())
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            return Err(ApiError::unprocessable(
                "status_mismatch",
                format!(
                    "workflow {} lacks statuses held by this project's tickets: {}",
                    wf.name,
                    missing.join(", ")
                ),
            )
            .with("statuses", json!(missing)));
        }
        next.workflow_id = w;
    }
    let changed = serde_json::to_value(&next).ok() != serde_json::to_value(&p).ok();
    if changed {
        next.updated_at = ctx.store.now();
        ctx.store.projects.insert(p.id, next.clone());
    }
    Ok(Reply::ok(project_json(&next)))
}

fn delete_project(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, p) = ctx.project_write(OrgRole::Admin)?;
    let locked = ctx
        .store
        .time_entries
        .values()
        .filter(|e| e.project_id == p.id && matches!(e.status, TimeEntryStatus::Submitted | TimeEntryStatus::Approved))
        .count();
    if locked > 0 {
        return Err(ApiError::conflict(
            "has_time_entries",
            format!("project {} has {locked} submitted or approved time entries", p.key),
        )
        .with("count", locked));
    }
    delete_project_cascade(ctx.store, p.id);
    Ok(Reply::no_content())
}

/// Removes a project and everything that belongs to it (not API keys' allow-lists).
pub fn delete_project_cascade(store: &mut Store, project_id: Uuid) {
    let tickets: Vec<Uuid> = store
        .tickets
        .values()
        .filter(|t| t.project_id == project_id)
        .map(|t| t.id)
        .collect();
    store.tickets.retain(|_, t| t.project_id != project_id);
    store.comments.retain(|_, c| !tickets.contains(&c.ticket_id));
    store.activity.retain(|_, a| !tickets.contains(&a.ticket_id));
    store.labels.retain(|_, l| l.project_id != project_id);
    store.sprints.retain(|_, s| s.project_id != project_id);
    store.project_members.retain(|(p, _), _| *p != project_id);
    store.time_entries.retain(|_, e| e.project_id != project_id);
    store.projects.remove(&project_id);
}

fn member_json(store: &Store, m: &ProjectMember) -> Value {
    let user = store.users.get(&m.user_id);
    let role = store
        .projects
        .get(&m.project_id)
        .and_then(|p| store.membership(p.org_id, m.user_id))
        .map(|m| m.role);
    json!({
        "project_id": m.project_id, "user_id": m.user_id, "email": user.map(|u| u.email.clone()),
        "display_name": user.map(|u| u.display_name.clone()), "org_role": role,
        "added_by": m.added_by, "added_at": m.added_at,
    })
}

fn add_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, p) = ctx.project_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let user = b.get("user_id", Mode::Required, &uuid);
    b.finish()?;
    let user = user.ok_or_else(|| ApiError::field("user_id", Problem::Required))?;
    if !ctx.store.is_member(p.org_id, user) {
        return Err(ApiError::invalid_reference("user_id", &user.to_string()));
    }
    if ctx.store.project_members.contains_key(&(p.id, user)) {
        return Err(ApiError::conflict(
            "already_member",
            "that user is already a member of this project",
        ));
    }
    let m = ProjectMember {
        project_id: p.id,
        user_id: user,
        added_by: caller.user_id,
        added_at: ctx.store.now(),
    };
    ctx.store.project_members.insert((p.id, user), m.clone());
    Ok(Reply::created(member_json(ctx.store, &m), None))
}

fn list_members(ctx: &mut Ctx) -> ApiResult<Reply> {
    let p = ctx.path_project("project")?;
    ctx.caller()?.check_project_read(p.id)?;
    let items: Vec<ProjectMember> = filtered(&ctx.store.project_members, |m| m.project_id == p.id);
    let page = ctx.page(
        items,
        |m| vec![asc_i(m.added_at.0), asc_s(m.user_id.to_string())],
        |m| member_json(ctx.store, m),
    )?;
    Ok(Reply::ok(page))
}

fn remove_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let p = ctx.path_project("project")?;
    let user = ctx.path_uuid("user_id")?;
    if !ctx.store.project_members.contains_key(&(p.id, user)) {
        return Err(ApiError::not_found("project_member", ctx.param("user_id")));
    }
    caller.check_project_write(p.id, OrgRole::Member)?;
    ctx.store.project_members.remove(&(p.id, user));
    Ok(Reply::no_content())
}

/// The budget window containing `today` for a period: `None` = all time.
pub fn budget_window(period: Option<BudgetPeriod>, today: Day) -> Option<(Day, Day)> {
    let (y, m) = (today.year(), today.month());
    let first = |y: i32, m: u8| Day::from_ymd(y, m, 1);
    let span = |start: Option<Day>, months: i32| -> Option<(Day, Day)> {
        let s = start?;
        let total = s.year() * 12 + (s.month() as i32 - 1) + months;
        let next = first(total.div_euclid(12), (total.rem_euclid(12) + 1) as u8)?;
        Some((s, next.plus(-1)))
    };
    match period? {
        BudgetPeriod::Monthly => span(first(y, m), 1),
        BudgetPeriod::Quarterly => span(first(y, (m - 1) / 3 * 3 + 1), 3),
        BudgetPeriod::Annual => span(first(y, 1), 12),
        BudgetPeriod::Lifetime => None,
    }
}

fn project_summary(ctx: &mut Ctx) -> ApiResult<Reply> {
    let p = ctx.path_project("project")?;
    ctx.caller()?.check_project_read(p.id)?;
    Ok(Reply::ok(summary(ctx.store, &p)))
}

/// Builds the ProjectSummary of §4.9.
pub fn summary(store: &Store, p: &Project) -> Value {
    let today = store.today();
    let wf = store.workflows.get(&p.workflow_id);
    let cat = |s: &str| wf.map(|w| w.category_of(s)).unwrap_or(StatusCategory::Unstarted);
    let tickets: Vec<&Ticket> = store.tickets.values().filter(|t| t.project_id == p.id).collect();
    let mut by_status = Map::new();
    if let Some(w) = wf {
        for s in &w.statuses {
            by_status.insert(
                s.name.clone(),
                json!(tickets.iter().filter(|t| t.status == s.name).count()),
            );
        }
    }
    let count_map = |names: Vec<(&str, usize)>| -> Value {
        Value::Object(names.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
    };
    let by_category = count_map(
        StatusCategory::ALL
            .iter()
            .map(|c| (c.as_str(), tickets.iter().filter(|t| cat(&t.status) == *c).count()))
            .collect(),
    );
    let by_priority = count_map(
        Priority::ALL
            .iter()
            .map(|c| (c.as_str(), tickets.iter().filter(|t| t.priority == *c).count()))
            .collect(),
    );
    let by_type = count_map(
        TicketType::ALL
            .iter()
            .map(|c| (c.as_str(), tickets.iter().filter(|t| t.ticket_type == *c).count()))
            .collect(),
    );
    let open: Vec<&&Ticket> = tickets.iter().filter(|t| cat(&t.status).is_open()).collect();
    let active = store
        .sprints
        .values()
        .find(|s| s.project_id == p.id && s.status == SprintStatus::Active)
        .map(|s| {
            let scope: Vec<&&Ticket> = tickets
                .iter()
                .filter(|t| t.sprint_id == Some(s.id) && cat(&t.status) != StatusCategory::Cancelled)
                .collect();
            let done: Vec<&&&Ticket> = scope
                .iter()
                .filter(|t| cat(&t.status) == StatusCategory::Completed)
                .collect();
            json!({
                "id": s.id, "name": s.name, "goal": s.goal, "start_date": s.start_date, "end_date": s.end_date,
                "days_remaining": today.days_until(s.end_date).max(0),
                "total_tickets": scope.len(), "completed_tickets": done.len(),
                "total_points": scope.iter().map(|t| t.story_points.unwrap_or(0)).sum::<i64>(),
                "completed_points": done.iter().map(|t| t.story_points.unwrap_or(0)).sum::<i64>(),
            })
        });
    let window = budget_window(p.budget_period, today);
    let in_window = |d: Day| window.is_none_or(|(a, b)| d >= a && d <= b);
    let entries: Vec<&TimeEntry> = store
        .time_entries
        .values()
        .filter(|e| e.project_id == p.id && in_window(e.date))
        .collect();
    let cost = |st: TimeEntryStatus| -> i64 {
        entries
            .iter()
            .filter(|e| e.status == st)
            .map(|e| {
                store
                    .rate_on(e.org_id, e.user_id, e.date)
                    .map(|r| cost_of(e.minutes, r))
                    .unwrap_or(0)
            })
            .sum()
    };
    let minutes = |st: TimeEntryStatus| -> i64 { entries.iter().filter(|e| e.status == st).map(|e| e.minutes).sum() };
    let spent = cost(TimeEntryStatus::Approved);
    let burn = p
        .budget_cents
        .filter(|b| *b > 0)
        .map(|b| ((spent * 1000 + b / 2) / b) as f64 / 10.0);
    json!({
        "project": {"id": p.id, "key": p.key, "name": p.name},
        "workflow": wf.map(|w| json!({"id": w.id, "name": w.name, "enforcement": w.enforcement})),
        "tickets": {
            "total": tickets.len(), "by_status": by_status, "by_category": by_category,
            "by_priority": by_priority, "by_type": by_type,
            "open_unassigned": open.iter().filter(|t| t.assignee_id.is_none()).count(),
            "open_in_backlog": open.iter().filter(|t| t.sprint_id.is_none()).count(),
            "open_overdue": open.iter().filter(|t| t.due_date.is_some_and(|d| d < today)).count(),
        },
        "active_sprint": active,
        "planned_sprint_count": store.sprints.values().filter(|s| s.project_id == p.id && s.status == SprintStatus::Planned).count(),
        "budget": {
            "budget_cents": p.budget_cents, "budget_period": p.budget_period,
            "period_start": window.map(|w| w.0), "period_end": window.map(|w| w.1),
            "spent_cents": spent, "pending_cents": cost(TimeEntryStatus::Submitted),
            "remaining_cents": p.budget_cents.map(|b| b - spent), "burn_percent": burn,
        },
        "time": {
            "approved_minutes": minutes(TimeEntryStatus::Approved),
            "submitted_minutes": minutes(TimeEntryStatus::Submitted),
            "draft_minutes": minutes(TimeEntryStatus::Draft),
        },
        "member_count": store.project_members.keys().filter(|(pid, _)| *pid == p.id).count(),
        "generated_at": store.now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_windows_are_calendar_periods() {
        let d = Day::parse("2026-05-17").expect("date");
        let show = |w: Option<(Day, Day)>| w.map(|(a, b)| format!("{a}..{b}"));
        assert_eq!(
            show(budget_window(Some(BudgetPeriod::Monthly), d)).as_deref(),
            Some("2026-05-01..2026-05-31")
        );
        assert_eq!(
            show(budget_window(Some(BudgetPeriod::Quarterly), d)).as_deref(),
            Some("2026-04-01..2026-06-30")
        );
        assert_eq!(
            show(budget_window(Some(BudgetPeriod::Annual), d)).as_deref(),
            Some("2026-01-01..2026-12-31")
        );
        let dec = Day::parse("2026-12-05").expect("date");
        assert_eq!(
            show(budget_window(Some(BudgetPeriod::Quarterly), dec)).as_deref(),
            Some("2026-10-01..2026-12-31")
        );
        assert_eq!(budget_window(Some(BudgetPeriod::Lifetime), d), None);
    }
}
