//! Teams of org members (contract §3.2, §4.2 #23–#29). Names are unique per org ignoring case;
//! `member_ids` is kept ascending and only changes through the team-member endpoints, which
//! are idempotent. Removing a member from the org removes them from its teams (see `access`).

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{asc_i, asc_s};
use crate::request::{Ctx, Mode, Patch, Reply, check_name_free, string, uuid, uuid_list};
use crate::store::Store;
use crate::store::filtered;
use serde_json::Value;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/orgs/{org_id}/teams", create_team),
        Route::new("GET", "/api/v1/orgs/{org_id}/teams", list_teams),
        Route::new("GET", "/api/v1/teams/{team_id}", get_team),
        Route::new("PATCH", "/api/v1/teams/{team_id}", update_team),
        Route::new("DELETE", "/api/v1/teams/{team_id}", delete_team),
        Route::new("POST", "/api/v1/teams/{team_id}/members", add_team_member),
        Route::new(
            "DELETE",
            "/api/v1/teams/{team_id}/members/{user_id}",
            remove_team_member,
        ),
    ]
}

fn team_json(t: &Team) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// Resolves `{team_id}` in the caller's org (404 otherwise).
fn path_team(ctx: &Ctx) -> ApiResult<Team> {
    ctx.path_record()
}

const SERVER_FIELDS: &[&str] = &["id", "org_id", "created_by", "created_at", "updated_at"];

fn create_team(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, org) = ctx.org_write(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::Required, &string(1, 100));
    let description = b.get("description", Mode::Optional, &string(0, 500));
    let mut member_ids = b.get("member_ids", Mode::Optional, &uuid_list).unwrap_or_default();
    b.immutable(SERVER_FIELDS);
    b.finish()?;
    let name = name.ok_or_else(|| ApiError::field("name", Problem::Required))?;
    check_name_free(ctx.store, (org, None), &name, |t: &Team| &t.name)?;
    if let Some(bad) = member_ids.iter().find(|u| !ctx.store.is_member(org, **u)) {
        return Err(ApiError::invalid_reference("member_ids", &bad.to_string()));
    }
    member_ids.sort();
    let (now, id) = ctx.store.stamp();
    let team = Team {
        id,
        org_id: org,
        name,
        description,
        member_ids,
        created_by: caller.user_id,
        created_at: now,
        updated_at: now,
    };
    ctx.store.teams.insert(id, team.clone());
    Ok(Reply::created(team_json(&team), Some(format!("/api/v1/teams/{id}"))))
}

fn list_teams(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.path_org("org_id")?;
    let user = ctx.query.uuid("user_id")?;
    caller.require_scope(false)?;
    let items: Vec<Team> = filtered(&ctx.store.teams, |t| {
        t.org_id == org && user.is_none_or(|u| t.member_ids.contains(&u))
    });
    let page = ctx.page(
        items,
        |t| vec![asc_i(t.created_at.0), asc_s(t.id.to_string())],
        team_json,
    )?;
    Ok(Reply::ok(page))
}

fn get_team(ctx: &mut Ctx) -> ApiResult<Reply> {
    let team = path_team(ctx)?;
    ctx.caller()?.require_scope(false)?;
    Ok(Reply::ok(team_json(&team)))
}

fn update_team(ctx: &mut Ctx) -> ApiResult<Reply> {
    let team = ctx.record_org_write::<Team>(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let name = b.field("name", Mode::NotNull, &string(1, 100));
    let description = b.field("description", Mode::Nullable, &string(0, 500));
    b.immutable(SERVER_FIELDS);
    b.immutable(&["member_ids"]);
    b.finish()?;
    let mut next = team.clone();
    if let Patch::Set(n) = name {
        check_name_free(ctx.store, (team.org_id, Some(team.id)), &n, |t: &Team| &t.name)?;
        next.name = n;
    }
    description.apply_opt(&mut next.description);
    if next.name != team.name || next.description != team.description {
        next.updated_at = ctx.store.now();
        ctx.store.teams.insert(team.id, next.clone());
    }
    Ok(Reply::ok(team_json(&next)))
}

fn delete_team(ctx: &mut Ctx) -> ApiResult<Reply> {
    let team = ctx.record_org_write::<Team>(OrgRole::Admin)?;
    ctx.store.teams.remove(&team.id);
    Ok(Reply::no_content())
}

/// The stored `team`, to change (404 if it is gone).
fn team_mut<'s>(store: &'s mut Store, team: &Team) -> ApiResult<&'s mut Team> {
    store
        .teams
        .get_mut(&team.id)
        .ok_or_else(|| ApiError::not_found("team", &team.id.to_string()))
}

fn add_team_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let team = ctx.record_org_write::<Team>(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let user = b.get("user_id", Mode::Required, &uuid);
    b.finish()?;
    let user = user.ok_or_else(|| ApiError::field("user_id", Problem::Required))?;
    if !ctx.store.is_member(team.org_id, user) {
        return Err(ApiError::invalid_reference("user_id", &user.to_string()));
    }
    let now = ctx.store.now();
    let t = team_mut(ctx.store, &team)?;
    if !t.member_ids.contains(&user) {
        t.member_ids.push(user);
        t.member_ids.sort();
        t.updated_at = now;
    }
    Ok(Reply::ok(team_json(t)))
}

fn remove_team_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let user = ctx.path_uuid("user_id")?;
    let team = path_team(ctx)?;
    caller.check_org_write(OrgRole::Admin)?;
    let now = ctx.store.now();
    let t = team_mut(ctx.store, &team)?;
    if t.member_ids.contains(&user) {
        t.member_ids.retain(|u| *u != user);
        t.updated_at = now;
    }
    Ok(Reply::ok(team_json(t)))
}
