//! Who may act where: API keys (contract §4.1 #9–#11, at the MCP Guide's documented
//! `/api/v1/api-keys`), organizations (#12–#15), org members (#16–#18) and invites (#19–#22).
//! Raw API keys and invite codes are shown once, in the create response; only a key's SHA-256
//! is kept. Removing a member cascades to their project and
//! team memberships and their API keys in that org; the last Owner of an org is protected.

use super::Route;
use super::system::slug;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{asc_i, asc_s};
use crate::request::{Body, Ctx, Mode, Reply, email, enumv, int, project_ref, string, timestamp};
use crate::store::filtered;
use crate::store::{Ref, Store};
use crate::values::Ts;
use serde_json::{Value, json};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/api-keys", create_api_key),
        Route::new("GET", "/api/v1/api-keys", list_api_keys),
        Route::new("DELETE", "/api/v1/api-keys/{api_key_id}", delete_api_key),
        Route::new("POST", "/api/v1/orgs", create_org),
        Route::new("GET", "/api/v1/orgs", list_orgs),
        Route::new("GET", "/api/v1/orgs/{org_id}", get_org),
        Route::new("PATCH", "/api/v1/orgs/{org_id}", update_org),
        Route::new("GET", "/api/v1/orgs/{org_id}/members", list_members),
        Route::new("PATCH", "/api/v1/orgs/{org_id}/members/{user_id}", update_member),
        Route::new("DELETE", "/api/v1/orgs/{org_id}/members/{user_id}", remove_member),
        Route::new("POST", "/api/v1/orgs/{org_id}/invites", create_invite),
        Route::new("GET", "/api/v1/orgs/{org_id}/invites", list_invites),
        Route::new("DELETE", "/api/v1/invites/{invite_id}", revoke_invite),
        Route::new("POST", "/api/v1/invites/accept", accept_invite),
    ]
}

// ----- API keys ------------------------------------------------------------------------------

/// An API key as the API returns it; `raw` is the key itself, only given on creation. The
/// allow-list is `project_ids`, the name the MCP Guide documents.
fn api_key_json(k: &ApiKey, raw: Option<&str>) -> Value {
    json!({
        "id": k.id, "org_id": k.org_id, "user_id": k.user_id, "name": k.name,
        "environment": k.environment, "scopes": k.scopes, "project_ids": k.project_ids,
        "expires_at": k.expires_at, "key": raw, "key_prefix": k.key_prefix,
        "last_used_at": k.last_used_at, "created_at": k.created_at,
    })
}

/// Parser: a non-empty list of scopes without repeats, normalised (`write` implies `read`).
fn scopes(v: &Value) -> Result<Vec<ApiKeyScope>, Problem> {
    let arr = v.as_array().ok_or(Problem::InvalidFormat)?;
    if arr.is_empty() {
        return Err(Problem::TooShort);
    }
    let mut out = Vec::new();
    for x in arr {
        let s = x.as_str().and_then(ApiKeyScope::parse).ok_or(Problem::InvalidEnum)?;
        if out.contains(&s) {
            return Err(Problem::DuplicateItem);
        }
        out.push(s);
    }
    if out.contains(&ApiKeyScope::Write) && !out.contains(&ApiKeyScope::Read) {
        out.push(ApiKeyScope::Read);
    }
    out.sort();
    Ok(out)
}

/// Parser: a list of project references without repeated strings (resolved later).
fn project_refs(v: &Value) -> Result<Vec<(String, Ref)>, Problem> {
    let arr = v.as_array().ok_or(Problem::InvalidFormat)?;
    let mut out: Vec<(String, Ref)> = Vec::with_capacity(arr.len());
    for x in arr {
        let r = project_ref(x)?;
        let raw = x.as_str().unwrap_or_default().to_string();
        if out.iter().any(|(s, _)| *s == raw) {
            return Err(Problem::DuplicateItem);
        }
        out.push((raw, r));
    }
    Ok(out)
}

/// Reads the key's project allow-list: `project_ids` (the documented name) or its input alias
/// `allowed_project_ids` (the stored column's name, which older clients send). Both at once is
/// ambiguous: `allowed_project_ids: duplicate_item`. Returns the field name the caller used, so
/// a later `invalid_reference` names what they sent.
fn read_project_ids(b: &mut Body) -> (&'static str, Vec<(String, Ref)>) {
    const NAME: &str = "project_ids";
    const ALIAS: &str = "allowed_project_ids";
    let field = if b.present(NAME) || !b.present(ALIAS) {
        NAME
    } else {
        ALIAS
    };
    let refs = b.get(field, Mode::Optional, &project_refs).unwrap_or_default();
    if field == NAME {
        // Sent under both names: refuse the alias rather than guess which list was meant.
        b.field(ALIAS, Mode::Optional, &|_| Err::<(), _>(Problem::DuplicateItem));
    }
    (field, refs)
}

/// A new API key as read from a create body, before its secret is drawn.
#[derive(Clone, Debug)]
pub struct NewKey {
    /// `name`.
    pub name: String,
    /// `scopes`, normalised (`write` implies `read`).
    pub scopes: Vec<ApiKeyScope>,
    /// The resolved project allow-list.
    pub project_ids: Vec<Uuid>,
    /// `expires_at`.
    pub expires_at: Option<Ts>,
    /// `environment` (default `live`).
    pub environment: ApiKeyEnvironment,
}

/// Reads and checks the body of `POST /api/v1/api-keys` for `caller` at `now`: fields, the
/// caller key's scope and project limits, references. The seed reads its keys with it too.
pub fn read_new_key<'b>(
    store: &Store,
    caller: &Caller,
    body: impl FnOnce() -> ApiResult<Body<'b>>,
    now: Ts,
) -> ApiResult<NewKey> {
    caller.require_scope(true)?;
    let mut b = body()?;
    let name = b.get("name", Mode::Required, &string(1, 100));
    let wanted = b
        .get("scopes", Mode::Optional, &scopes)
        .unwrap_or_else(|| vec![ApiKeyScope::Read, ApiKeyScope::Write]);
    let (list_field, refs) = read_project_ids(&mut b);
    let expires_at = b.get("expires_at", Mode::Optional, &timestamp);
    let environment = b.get("environment", Mode::Optional, &enumv(ApiKeyEnvironment::parse));
    b.immutable(&[
        "id",
        "org_id",
        "user_id",
        "key",
        "key_prefix",
        "last_used_at",
        "created_at",
    ]);
    // Resolution happens before the permission checks: a project-restricted caller may only
    // hand on projects it can itself reach, so an unknown reference is outside its list too.
    let resolved: Vec<(String, Option<Uuid>)> = refs
        .iter()
        .map(|(raw, r)| (raw.clone(), store.find_project(caller.org_id, r).map(|p| p.id)))
        .collect();
    if let Some(key) = &caller.key {
        if let Some(extra) = wanted.iter().find(|s| !key.scopes.contains(s)) {
            return Err(ApiError::forbidden(
                "missing_scope",
                "a new API key cannot have scopes its creating key lacks",
            )
            .with("required_scope", extra.as_str()));
        }
        if !key.allowed_projects.is_empty() {
            let subset = resolved
                .iter()
                .all(|(_, id)| id.is_some_and(|id| key.allowed_projects.contains(&id)));
            if resolved.is_empty() || !subset {
                return Err(ApiError::forbidden(
                    "project_restricted_key",
                    "a project-restricted API key may only create keys restricted to a subset of its projects",
                ));
            }
        }
    }
    if expires_at.is_some_and(|t| t <= now) {
        b.error("expires_at", Problem::OutOfRange);
    }
    b.finish()?;
    let name = name.ok_or_else(|| ApiError::field("name", Problem::Required))?;
    let mut project_ids = Vec::new();
    for (raw, id) in &resolved {
        let id = id.ok_or_else(|| ApiError::invalid_reference(list_field, raw))?;
        if !project_ids.contains(&id) {
            project_ids.push(id);
        }
    }
    Ok(NewKey {
        name,
        scopes: wanted,
        project_ids,
        expires_at,
        environment: environment.unwrap_or(ApiKeyEnvironment::Live),
    })
}

fn create_api_key(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let now = ctx.store.now();
    let k = read_new_key(ctx.store, &caller, || ctx.body(), now)?;
    let prefix = match k.environment {
        ApiKeyEnvironment::Live => "alloy_live_",
        ApiKeyEnvironment::Test => "alloy_test_",
    };
    let raw = format!("{prefix}{}", ctx.store.secret(32));
    let id = ctx.store.insert_api_key(
        caller.org_id,
        caller.user_id,
        &k.name,
        &raw,
        k.scopes,
        k.project_ids,
        k.expires_at,
    );
    let key = ctx
        .store
        .api_keys
        .get(&id)
        .ok_or_else(|| ApiError::internal("API key vanished after insert"))?;
    Ok(Reply::created(api_key_json(key, Some(&raw)), None))
}

fn list_api_keys(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let all = ctx.query.bool("all", false)?;
    caller.require_scope(false)?;
    if all {
        caller.require_role(OrgRole::Admin)?;
    }
    let items: Vec<ApiKey> = filtered(&ctx.store.api_keys, |k| {
        k.org_id == caller.org_id && (all || k.user_id == caller.user_id)
    });
    let page = ctx.page(
        items,
        |k| vec![asc_i(k.created_at.0), asc_s(k.id.to_string())],
        |k| api_key_json(k, None),
    )?;
    Ok(Reply::ok(page))
}

fn delete_api_key(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let key: ApiKey = ctx.path_record()?;
    caller.require_scope(true)?;
    if key.user_id != caller.user_id && !caller.role.at_least(OrgRole::Admin) {
        return Err(ApiError::forbidden(
            "not_owner",
            "only the key's owner or an Admin may delete this API key",
        ));
    }
    ctx.store.api_keys.remove(&key.id);
    Ok(Reply::no_content())
}

// ----- organizations -------------------------------------------------------------------------

fn org_json(o: &Organization) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn create_org(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    caller.require_scope(true)?;
    caller.require_unrestricted()?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::Required, &string(1, 100));
    let slug = b.get("slug", Mode::Required, &slug);
    b.immutable(&["id", "created_at", "updated_at"]);
    b.finish()?;
    let (Some(name), Some(slug)) = (name, slug) else {
        return Err(ApiError::internal("org fields missing after validation"));
    };
    if ctx.store.orgs.values().any(|o| o.slug == slug) {
        return Err(ApiError::duplicate("slug", &slug));
    }
    let id = ctx.store.create_org(name, slug, caller.user_id);
    let org = ctx
        .store
        .orgs
        .get(&id)
        .ok_or_else(|| ApiError::internal("org vanished after insert"))?;
    Ok(Reply::created(org_json(org), Some(format!("/api/v1/orgs/{id}"))))
}

fn list_orgs(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    caller.require_scope(false)?;
    let items: Vec<Organization> = filtered(&ctx.store.orgs, |o| ctx.store.is_member(o.id, caller.user_id));
    let page = ctx.page(
        items,
        |o| vec![asc_i(o.created_at.0), asc_s(o.id.to_string())],
        org_json,
    )?;
    Ok(Reply::ok(page))
}

fn get_org(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let id = ctx.path_uuid("org_id")?;
    let org = ctx
        .store
        .orgs
        .get(&id)
        .filter(|o| ctx.store.is_member(o.id, caller.user_id))
        .ok_or_else(|| ApiError::not_found("organization", ctx.param("org_id")))?;
    caller.require_scope(false)?;
    Ok(Reply::ok(org_json(org)))
}

fn update_org(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (_, id) = ctx.org_write(OrgRole::Owner)?;
    let mut b = ctx.body()?;
    let name = b.get("name", Mode::NotNull, &string(1, 100));
    let new_slug = b.get("slug", Mode::NotNull, &slug);
    b.immutable(&["id", "created_at", "updated_at"]);
    b.finish()?;
    if let Some(s) = &new_slug
        && ctx.store.orgs.values().any(|o| o.id != id && &o.slug == s)
    {
        return Err(ApiError::duplicate("slug", s));
    }
    let now = ctx.store.now();
    let org = ctx
        .store
        .orgs
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("organization", &id.to_string()))?;
    let mut changed = false;
    if let Some(n) = name
        && n != org.name
    {
        org.name = n;
        changed = true;
    }
    if let Some(s) = new_slug
        && s != org.slug
    {
        org.slug = s;
        changed = true;
    }
    if changed {
        org.updated_at = now;
    }
    Ok(Reply::ok(org_json(org)))
}

// ----- members -------------------------------------------------------------------------------

/// A member as the API returns it.
pub fn member_json(store: &Store, m: &Membership) -> Value {
    let user = store.users.get(&m.user_id);
    json!({
        "user_id": m.user_id, "org_id": m.org_id, "email": user.map(|u| u.email.clone()),
        "display_name": user.map(|u| u.display_name.clone()), "role": m.role, "joined_at": m.joined_at,
    })
}

fn owner_count(store: &Store, org: Uuid) -> usize {
    store
        .memberships
        .values()
        .filter(|m| m.org_id == org && m.role == OrgRole::Owner)
        .count()
}

fn last_owner(what: &str) -> ApiError {
    ApiError::unprocessable("protected", format!("cannot {what} the last Owner of the organization"))
        .with("what", "last_owner")
}

/// Resolves `{org_id}` and `{user_id}` to a membership of the token org: both paths are
/// checked for syntax (400) before either is looked up (404 `organization` / `member`).
fn path_member(ctx: &Ctx) -> ApiResult<(Uuid, Membership)> {
    let user = ctx.path_uuid("user_id")?;
    let org = ctx.path_org("org_id")?;
    let m = ctx
        .store
        .membership(org, user)
        .cloned()
        .ok_or_else(|| ApiError::not_found("member", ctx.param("user_id")))?;
    Ok((org, m))
}

fn list_members(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.path_org("org_id")?;
    let roles = ctx.query.csv_enum("role", OrgRole::parse)?;
    caller.require_scope(false)?;
    let items: Vec<Membership> = filtered(&ctx.store.memberships, |m| {
        m.org_id == org && roles.as_ref().is_none_or(|r| r.contains(&m.role))
    });
    let store = &*ctx.store;
    let page = crate::page::paginate(
        items,
        |m| vec![asc_i(m.joined_at.0), asc_s(m.user_id.to_string())],
        ctx.query.get("limit"),
        ctx.query.get("cursor"),
        |m| member_json(store, m),
    )?;
    Ok(Reply::ok(page))
}

/// Owner-only member changes: anything touching the `Owner` role.
fn require_owner_for(caller: &Caller, touches_owner: bool) -> ApiResult<()> {
    if touches_owner {
        caller.require_role(OrgRole::Owner)
    } else {
        Ok(())
    }
}

fn update_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let (org, m) = path_member(ctx)?;
    caller.check_org_write(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let role = b.get("role", Mode::Required, &enumv(OrgRole::parse));
    require_owner_for(&caller, m.role == OrgRole::Owner || role == Some(OrgRole::Owner))?;
    b.immutable(&["user_id", "org_id", "email", "display_name", "joined_at"]);
    b.finish()?;
    let role = role.ok_or_else(|| ApiError::field("role", Problem::Required))?;
    if m.role == OrgRole::Owner && role != OrgRole::Owner && owner_count(ctx.store, org) <= 1 {
        return Err(last_owner("demote"));
    }
    if let Some(slot) = ctx.store.memberships.get_mut(&(org, m.user_id)) {
        slot.role = role;
    }
    let m = ctx.store.membership(org, m.user_id).cloned().unwrap_or(m);
    Ok(Reply::ok(member_json(ctx.store, &m)))
}

fn remove_member(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let (org, m) = path_member(ctx)?;
    caller.check_org_write(OrgRole::Admin)?;
    require_owner_for(&caller, m.role == OrgRole::Owner)?;
    if m.role == OrgRole::Owner && owner_count(ctx.store, org) <= 1 {
        return Err(last_owner("remove"));
    }
    remove_member_cascade(ctx.store, org, m.user_id);
    Ok(Reply::no_content())
}

/// Removes a user from an org with their project and team memberships and API keys there;
/// tickets keep their `assignee_id`.
pub fn remove_member_cascade(store: &mut Store, org: Uuid, user: Uuid) {
    let projects: Vec<Uuid> = store
        .projects
        .values()
        .filter(|p| p.org_id == org)
        .map(|p| p.id)
        .collect();
    store
        .project_members
        .retain(|(p, u), _| !(*u == user && projects.contains(p)));
    let now = store.now();
    for t in store.teams.values_mut().filter(|t| t.org_id == org) {
        if t.member_ids.contains(&user) {
            t.member_ids.retain(|u| *u != user);
            t.updated_at = now;
        }
    }
    store.api_keys.retain(|_, k| !(k.org_id == org && k.user_id == user));
    store.memberships.remove(&(org, user));
}

// ----- invites -------------------------------------------------------------------------------

/// The status an invite reports: a Pending invite past its expiry reads as `Expired`.
fn invite_status(i: &Invite, now: Ts) -> InviteStatus {
    if i.status == InviteStatus::Pending && i.expires_at <= now {
        InviteStatus::Expired
    } else {
        i.status
    }
}

/// An invite as the API returns it; the code only when `with_code`.
fn invite_json(i: &Invite, now: Ts, with_code: bool) -> Value {
    json!({
        "id": i.id, "org_id": i.org_id, "email": i.email, "role": i.role, "expires_at": i.expires_at,
        "status": invite_status(i, now), "code": with_code.then_some(&i.code), "invited_by": i.invited_by,
        "accepted_at": i.accepted_at, "revoked_at": i.revoked_at, "created_at": i.created_at,
    })
}

/// A new invite as read from a create body.
#[derive(Clone, Debug)]
pub struct NewInvite {
    /// `email`, lower-cased.
    pub email: String,
    /// `role` (never Owner; default Member).
    pub role: OrgRole,
    /// `expires_in_days` 1–30 (default 7).
    pub days: i64,
}

/// Reads the body of `POST /orgs/{org_id}/invites` for `caller` (Admin, unrestricted key).
pub fn read_new_invite<'b>(caller: &Caller, body: impl FnOnce() -> ApiResult<Body<'b>>) -> ApiResult<NewInvite> {
    caller.check_org_write(OrgRole::Admin)?;
    let mut b = body()?;
    let email = b.get("email", Mode::Required, &email);
    let role = b.get("role", Mode::Optional, &enumv(OrgRole::parse));
    if role == Some(OrgRole::Owner) {
        b.error("role", Problem::InvalidEnum);
    }
    let days = b.get("expires_in_days", Mode::Optional, &int(1, 30)).unwrap_or(7);
    b.immutable(&[
        "id",
        "org_id",
        "expires_at",
        "status",
        "code",
        "invited_by",
        "accepted_at",
        "revoked_at",
        "created_at",
    ]);
    b.finish()?;
    let email = email.ok_or_else(|| ApiError::field("email", Problem::Required))?;
    Ok(NewInvite {
        email,
        role: role.unwrap_or(OrgRole::Member),
        days,
    })
}

/// 409 when `email` is already a member of `org` or has a pending invite there at `now`.
pub fn check_invitable(store: &Store, org: Uuid, email: &str, now: Ts) -> ApiResult<()> {
    let member = store
        .users
        .values()
        .find(|u| u.email == email)
        .is_some_and(|u| store.is_member(org, u.id));
    if member {
        return Err(ApiError::conflict(
            "already_member",
            format!("{email} is already a member of this organization"),
        ));
    }
    let pending = store
        .invites
        .values()
        .any(|i| i.org_id == org && i.email == email && invite_status(i, now) == InviteStatus::Pending);
    if pending {
        return Err(ApiError::conflict(
            "invite_pending",
            format!("{email} already has a pending invite"),
        ));
    }
    Ok(())
}

fn create_invite(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.path_org("org_id")?;
    let NewInvite { email, role, days } = read_new_invite(&caller, || ctx.body())?;
    let now = ctx.store.now();
    check_invitable(ctx.store, org, &email, now)?;
    let id = ctx.store.new_id();
    let code = format!("inv_{}", ctx.store.secret(24));
    let invite = Invite {
        id,
        org_id: org,
        email,
        role,
        expires_at: now.plus_days(days),
        status: InviteStatus::Pending,
        code,
        invited_by: caller.user_id,
        accepted_at: None,
        revoked_at: None,
        created_at: now,
    };
    ctx.store.invites.insert(id, invite.clone());
    Ok(Reply::created(invite_json(&invite, now, true), None))
}

fn list_invites(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let org = ctx.path_org("org_id")?;
    let statuses = ctx.query.csv_enum("status", InviteStatus::parse)?;
    caller.require_scope(false)?;
    let now = ctx.store.now();
    let items: Vec<Invite> = filtered(&ctx.store.invites, |i| {
        i.org_id == org && statuses.as_ref().is_none_or(|s| s.contains(&invite_status(i, now)))
    });
    let page = ctx.page(
        items,
        |i| vec![asc_i(i.created_at.0), asc_s(i.id.to_string())],
        |i| invite_json(i, now, false),
    )?;
    Ok(Reply::ok(page))
}

/// 422 `invalid_state` unless the invite is still pending at `now` (`verb`: what it cannot be).
fn require_pending(invite: &Invite, now: Ts, verb: &str) -> ApiResult<()> {
    let status = invite_status(invite, now);
    if status != InviteStatus::Pending {
        return Err(ApiError::invalid_state(
            status.as_str(),
            &["Pending"],
            format!("a {status} invite cannot be {verb}"),
        ));
    }
    Ok(())
}

fn revoke_invite(ctx: &mut Ctx) -> ApiResult<Reply> {
    let invite: Invite = ctx.record_org_write(OrgRole::Admin)?;
    let now = ctx.store.now();
    require_pending(&invite, now, "revoked")?;
    if let Some(i) = ctx.store.invites.get_mut(&invite.id) {
        i.status = InviteStatus::Revoked;
        i.revoked_at = Some(now);
    }
    Ok(Reply::no_content())
}

fn accept_invite(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    caller.require_scope(true)?;
    let mut b = ctx.body()?;
    let code = b.get("code", Mode::Required, &string(1, 200));
    b.finish()?;
    let code = code.ok_or_else(|| ApiError::field("code", Problem::Required))?;
    let invite = ctx
        .store
        .invites
        .values()
        .find(|i| i.code == code)
        .cloned()
        .ok_or_else(|| ApiError::invalid_reference("code", &code))?;
    if invite.email != caller.email {
        return Err(ApiError::forbidden(
            "invite_email_mismatch",
            "this invite was sent to another email address",
        ));
    }
    let now = ctx.store.now();
    require_pending(&invite, now, "accepted")?;
    if ctx.store.is_member(invite.org_id, caller.user_id) {
        return Err(ApiError::conflict(
            "already_member",
            "you are already a member of that organization",
        ));
    }
    let m = Membership {
        user_id: caller.user_id,
        org_id: invite.org_id,
        role: invite.role,
        joined_at: now,
    };
    ctx.store.memberships.insert((invite.org_id, caller.user_id), m.clone());
    if let Some(i) = ctx.store.invites.get_mut(&invite.id) {
        i.status = InviteStatus::Accepted;
        i.accepted_at = Some(now);
    }
    Ok(Reply::ok(member_json(ctx.store, &m)))
}
