//! Workflows (contract §3.2, §4.3 #30–#34): statuses with categories, the initial status,
//! transitions and their enforcement. Every structural rule of §3.2 is a `400 validation_error`
//! naming the failing element (`statuses[2].name`, `transitions[0].to`, ...). The built-in
//! `Default` workflow is protected. A PATCH replaces `statuses` and `transitions` whole; a status
//! still held by a ticket cannot be removed (`409 in_use`), transitions whose ends are gone are
//! dropped, and an `initial_status` that is gone resets to the first `Unstarted` status.

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{asc_i, asc_s};
use crate::request::{Body, Ctx, Mode, Reply, check_name_free, enumv, string};
use crate::store::Store;
use crate::store::filtered;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/orgs/{org_id}/workflows", create_workflow),
        Route::new("GET", "/api/v1/orgs/{org_id}/workflows", list_workflows),
        Route::new("GET", "/api/v1/workflows/{workflow_id}", get_workflow),
        Route::new("PATCH", "/api/v1/workflows/{workflow_id}", update_workflow),
        Route::new("DELETE", "/api/v1/workflows/{workflow_id}", delete_workflow),
    ]
}

const SERVER_FIELDS: &[&str] = &[
    "id",
    "org_id",
    "is_default",
    "project_count",
    "created_by",
    "created_at",
    "updated_at",
];

/// Whether a status name has the form `^[A-Z][A-Za-z0-9]{0,31}$`.
pub fn is_status_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=32).contains(&b.len()) && b[0].is_ascii_uppercase() && b.iter().all(|c| c.is_ascii_alphanumeric())
}

/// Parser that accepts any value, so that a field is marked as read and checked by hand.
fn any(v: &Value) -> Result<Value, Problem> {
    Ok(v.clone())
}

/// Checks the keys of an element object: a missing key of `required` is `required`, a key
/// outside it is `unknown_field`. Returns whether the keys are fine.
fn element_keys(b: &mut Body, path: &str, obj: &Map<String, Value>, required: &[&str]) -> bool {
    let mut ok = true;
    for k in obj.keys() {
        if !required.contains(&k.as_str()) {
            b.error(format!("{path}.{k}"), Problem::UnknownField);
            ok = false;
        }
    }
    for k in required {
        if obj.get(*k).is_none_or(Value::is_null) {
            b.error(format!("{path}.{k}"), Problem::Required);
            ok = false;
        }
    }
    ok
}

/// Validates a `statuses` array; `None` when any rule fails (errors are recorded in `b`).
fn read_statuses(b: &mut Body, v: &Value) -> Option<Vec<WorkflowStatus>> {
    let Some(arr) = v.as_array() else {
        b.error("statuses", Problem::InvalidFormat);
        return None;
    };
    let mut ok = true;
    if arr.len() < 2 {
        b.error("statuses", Problem::TooShort);
        ok = false;
    } else if arr.len() > 20 {
        b.error("statuses", Problem::TooLong);
        ok = false;
    }
    let mut out: Vec<WorkflowStatus> = Vec::new();
    for (i, x) in arr.iter().enumerate() {
        let path = format!("statuses[{i}]");
        let Some(obj) = x.as_object() else {
            b.error(path, Problem::InvalidFormat);
            ok = false;
            continue;
        };
        ok &= element_keys(b, &path, obj, &["name", "category"]);
        let name = match obj.get("name") {
            None | Some(Value::Null) => None,
            Some(n) => match n.as_str().map(str::trim) {
                Some(s) if is_status_name(s) => Some(s.to_string()),
                _ => {
                    b.error(format!("{path}.name"), Problem::InvalidFormat);
                    None
                }
            },
        };
        let category = match obj.get("category") {
            Some(Value::Null) | None => None,
            Some(c) => {
                let c = c.as_str().and_then(StatusCategory::parse);
                if c.is_none() {
                    b.error(format!("{path}.category"), Problem::InvalidEnum);
                }
                c
            }
        };
        match (name, category) {
            (Some(name), Some(category)) => {
                if out.iter().any(|s| s.name == name) {
                    b.error(format!("{path}.name"), Problem::DuplicateItem);
                    ok = false;
                } else {
                    out.push(WorkflowStatus { name, category });
                }
            }
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let has = |c: StatusCategory| out.iter().any(|s| s.category == c);
    if !has(StatusCategory::Unstarted) || !has(StatusCategory::Completed) {
        // The list needs somewhere to start and somewhere to finish.
        b.error("statuses", Problem::InvalidFormat);
        return None;
    }
    Some(out)
}

/// Validates a `transitions` array against `statuses` (when those are valid).
fn read_transitions(b: &mut Body, v: &Value, statuses: Option<&[WorkflowStatus]>) -> Option<Vec<Transition>> {
    let Some(arr) = v.as_array() else {
        b.error("transitions", Problem::InvalidFormat);
        return None;
    };
    let mut ok = true;
    let mut out: Vec<Transition> = Vec::new();
    for (i, x) in arr.iter().enumerate() {
        let path = format!("transitions[{i}]");
        let Some(obj) = x.as_object() else {
            b.error(path, Problem::InvalidFormat);
            ok = false;
            continue;
        };
        ok &= element_keys(b, &path, obj, &["from", "to"]);
        let end = |b: &mut Body, key: &str| -> Option<String> {
            let raw = obj.get(key).filter(|v| !v.is_null())?;
            let Some(s) = raw.as_str().map(str::trim) else {
                b.error(format!("{path}.{key}"), Problem::InvalidFormat);
                return None;
            };
            if let Some(list) = statuses
                && !list.iter().any(|st| st.name == s)
            {
                b.error(format!("{path}.{key}"), Problem::InvalidEnum);
                return None;
            }
            Some(s.to_string())
        };
        let from = end(b, "from");
        let to = end(b, "to");
        let (Some(from), Some(to)) = (from, to) else {
            ok = false;
            continue;
        };
        if from == to {
            b.error(format!("{path}.to"), Problem::InvalidFormat);
            ok = false;
            continue;
        }
        let t = Transition { from, to };
        if out.contains(&t) {
            b.error(path, Problem::DuplicateItem);
            ok = false;
            continue;
        }
        out.push(t);
    }
    ok.then_some(out)
}

/// Validates `initial_status` against `statuses`: it must be one of their `Unstarted` names.
fn check_initial(b: &mut Body, initial: &str, statuses: &[WorkflowStatus]) -> bool {
    let ok = statuses
        .iter()
        .any(|s| s.name == initial && s.category == StatusCategory::Unstarted);
    if !ok {
        b.error("initial_status", Problem::InvalidEnum);
    }
    ok
}

/// The first `Unstarted` status (the default initial status).
fn first_unstarted(statuses: &[WorkflowStatus]) -> String {
    statuses
        .iter()
        .find(|s| s.category == StatusCategory::Unstarted)
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn protected(action: &str) -> ApiError {
    ApiError::unprocessable("protected", format!("the Default workflow cannot be {action}"))
        .with("what", "default_workflow")
}

fn create_workflow(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, org) = ctx.org_write(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::Required, &string(1, 100));
    let description = b.get("description", Mode::Optional, &string(0, 500));
    let statuses = b
        .get("statuses", Mode::Required, &any)
        .and_then(|v| read_statuses(&mut b, &v));
    let initial = b.get("initial_status", Mode::Optional, &string(1, 32));
    let transitions = b.get("transitions", Mode::Optional, &any);
    let transitions = match transitions {
        Some(v) => read_transitions(&mut b, &v, statuses.as_deref()),
        None => Some(Vec::new()),
    };
    let enforcement = b.get("enforcement", Mode::Optional, &enumv(WorkflowEnforcement::parse));
    if let (Some(i), Some(list)) = (&initial, &statuses) {
        check_initial(&mut b, i, list);
    }
    b.immutable(SERVER_FIELDS);
    b.finish()?;
    let (Some(name), Some(statuses), Some(transitions)) = (name, statuses, transitions) else {
        return Err(ApiError::internal("workflow fields missing after validation"));
    };
    check_name_free(ctx.store, (org, None), &name, |w: &Workflow| &w.name)?;
    let (now, id) = ctx.store.stamp();
    let wf = Workflow {
        id,
        org_id: org,
        name,
        description,
        is_default: false,
        initial_status: initial.unwrap_or_else(|| first_unstarted(&statuses)),
        statuses,
        transitions,
        enforcement: enforcement.unwrap_or(WorkflowEnforcement::None),
        project_count: 0,
        created_by: Some(caller.user_id),
        created_at: now,
        updated_at: now,
    };
    ctx.store.workflows.insert(id, wf.clone());
    Ok(Reply::created(
        ctx.store.workflow_json(&wf),
        Some(format!("/api/v1/workflows/{id}")),
    ))
}

fn list_workflows(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.path_org("org_id")?;
    caller.require_scope(false)?;
    let items: Vec<Workflow> = filtered(&ctx.store.workflows, |w| w.org_id == org);
    let store = &*ctx.store;
    let page = crate::page::paginate(
        items,
        |w| vec![asc_i(w.created_at.0), asc_s(w.id.to_string())],
        ctx.query.get("limit"),
        ctx.query.get("cursor"),
        |w| store.workflow_json(w),
    )?;
    Ok(Reply::ok(page))
}

/// Resolves `{workflow_id}` in the caller's org (404 otherwise).
fn path_workflow(ctx: &Ctx) -> ApiResult<Workflow> {
    ctx.path_record()
}

fn get_workflow(ctx: &mut Ctx) -> ApiResult<Reply> {
    let wf = path_workflow(ctx)?;
    ctx.caller()?.require_scope(false)?;
    Ok(Reply::ok(ctx.store.workflow_json(&wf)))
}

fn update_workflow(ctx: &mut Ctx) -> ApiResult<Reply> {
    let wf = ctx.record_org_write::<Workflow>(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::NotNull, &string(1, 100));
    let description = b.field("description", Mode::Nullable, &string(0, 500));
    let new_statuses = b
        .get("statuses", Mode::NotNull, &any)
        .map(|v| read_statuses(&mut b, &v));
    let initial = b.get("initial_status", Mode::NotNull, &string(1, 32));
    let new_transitions = b.get("transitions", Mode::NotNull, &any);
    let enforcement = b.get("enforcement", Mode::NotNull, &enumv(WorkflowEnforcement::parse));
    // The statuses every other field is checked against: the new list when one was sent
    // (and valid), else the current one.
    let effective: Option<Vec<WorkflowStatus>> = match &new_statuses {
        Some(list) => list.clone(),
        None => Some(wf.statuses.clone()),
    };
    let transitions = new_transitions.map(|v| read_transitions(&mut b, &v, effective.as_deref()));
    if let (Some(i), Some(list)) = (&initial, &effective) {
        check_initial(&mut b, i, list);
    }
    b.immutable(SERVER_FIELDS);
    b.finish()?;
    if wf.is_default {
        return Err(protected("changed"));
    }
    let statuses = effective.unwrap_or_else(|| wf.statuses.clone());
    let mut next = wf.clone();
    if let Some(n) = name {
        check_name_free(ctx.store, (wf.org_id, Some(wf.id)), &n, |w: &Workflow| &w.name)?;
        next.name = n;
    }
    description.apply_opt(&mut next.description);
    if new_statuses.is_some() {
        in_use_check(ctx.store, &wf, &statuses)?;
        next.transitions
            .retain(|t| statuses.iter().any(|s| s.name == t.from) && statuses.iter().any(|s| s.name == t.to));
        next.statuses = statuses.clone();
    }
    if let Some(Some(t)) = transitions {
        next.transitions = t;
    }
    match initial {
        Some(i) => next.initial_status = i,
        None => {
            let kept = statuses
                .iter()
                .any(|s| s.name == next.initial_status && s.category == StatusCategory::Unstarted);
            if !kept {
                next.initial_status = first_unstarted(&statuses);
            }
        }
    }
    if let Some(e) = enforcement {
        next.enforcement = e;
    }
    let changed = serde_json::to_value(&next).ok() != serde_json::to_value(&wf).ok();
    if changed {
        next.updated_at = ctx.store.now();
        ctx.store.workflows.insert(wf.id, next.clone());
    }
    Ok(Reply::ok(ctx.store.workflow_json(&next)))
}

/// 409 `in_use` when a status that `statuses` drops is still held by a ticket of a project
/// using the workflow; `dependents` counts those tickets per status, in the old list's order.
fn in_use_check(store: &Store, wf: &Workflow, statuses: &[WorkflowStatus]) -> ApiResult<()> {
    let projects: Vec<Uuid> = store
        .projects
        .values()
        .filter(|p| p.workflow_id == wf.id)
        .map(|p| p.id)
        .collect();
    let mut dependents = Map::new();
    for old in &wf.statuses {
        if statuses.iter().any(|s| s.name == old.name) {
            continue;
        }
        let n = store
            .tickets
            .values()
            .filter(|t| projects.contains(&t.project_id) && t.status == old.name)
            .count();
        if n > 0 {
            dependents.insert(old.name.clone(), json!(n));
        }
    }
    if dependents.is_empty() {
        return Ok(());
    }
    let names: Vec<&String> = dependents.keys().collect();
    let message = format!(
        "statuses still held by tickets cannot be removed: {}",
        names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    );
    Err(ApiError::conflict("in_use", message).with("dependents", Value::Object(dependents)))
}

fn delete_workflow(ctx: &mut Ctx) -> ApiResult<Reply> {
    let wf = ctx.record_org_write::<Workflow>(OrgRole::Admin)?;
    if wf.is_default {
        return Err(protected("deleted"));
    }
    let used = ctx.store.projects.values().filter(|p| p.workflow_id == wf.id).count();
    if used > 0 {
        return Err(
            ApiError::conflict("in_use", format!("workflow {} is used by {used} project(s)", wf.name))
                .with("dependents", json!({"projects": used})),
        );
    }
    ctx.store.workflows.remove(&wf.id);
    Ok(Reply::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_follow_the_contract_form() {
        assert!(is_status_name("Todo"));
        assert!(is_status_name("QA2"));
        assert!(!is_status_name("todo"));
        assert!(!is_status_name("In Progress"));
        assert!(!is_status_name(&format!("A{}", "b".repeat(32))));
    }

    #[test]
    fn every_broken_status_and_transition_is_named() {
        let mut b = Body::new(Map::new());
        let statuses = json!([{"name": "todo", "category": "Unstarted"}, {"name": "Done", "category": "Finished"}, {"name": "Done", "category": "Completed", "x": 1}]);
        assert!(read_statuses(&mut b, &statuses).is_none());
        let e = b.finish().expect_err("invalid");
        assert_eq!(
            e.details["fields"],
            json!({"statuses[0].name": "invalid_format", "statuses[1].category": "invalid_enum", "statuses[2].x": "unknown_field"})
        );
        let list = vec![
            WorkflowStatus {
                name: "Todo".into(),
                category: StatusCategory::Unstarted,
            },
            WorkflowStatus {
                name: "Done".into(),
                category: StatusCategory::Completed,
            },
        ];
        let mut b = Body::new(Map::new());
        let t = json!([{"from": "Todo", "to": "Done"}, {"from": "Todo", "to": "Done"}, {"from": "Done", "to": "Done"}, {"from": "Nope", "to": "Done"}]);
        assert!(read_transitions(&mut b, &t, Some(&list)).is_none());
        let e = b.finish().expect_err("invalid");
        assert_eq!(
            e.details["fields"],
            json!({"transitions[1]": "duplicate_item", "transitions[2].to": "invalid_format", "transitions[3].from": "invalid_enum"})
        );
    }
}
