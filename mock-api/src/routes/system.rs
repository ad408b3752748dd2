//! System and session routes: `/health`, first-run onboarding, register, login, refresh,
//! logout and `/api/v1/auth/me` (contract §4.1 #1–#8).

use super::{Access, Route};
use crate::error::{ApiError, ApiResult};
use crate::model::{OrgRole, Problem, User};
use crate::request::{Body, Ctx, Mode, Reply, email, string, uuid};
use crate::store::{RegistrationMode, Session, Store};
use serde_json::json;
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::with_access("GET", "/health", Access::Public, health),
        Route::with_access("GET", "/api/v1/onboard", Access::Public, onboard_state),
        Route::with_access("POST", "/api/v1/onboard", Access::PublicAuth, onboard),
        Route::with_access("POST", "/api/v1/auth/register", Access::PublicAuth, register),
        Route::with_access("POST", "/api/v1/auth/login", Access::PublicAuth, login),
        Route::with_access("POST", "/api/v1/auth/refresh", Access::PublicAuth, refresh),
        Route::new("POST", "/api/v1/auth/logout", logout),
        Route::new("GET", "/api/v1/auth/me", me),
    ]
}

fn health(ctx: &mut Ctx) -> ApiResult<Reply> {
    let uptime = (ctx.store.now().0 - ctx.store.started_at.0).max(0) / 1000;
    Ok(Reply::ok(json!({
        "status": "ok", "service": "alloy", "version": "0.1.0", "database": "alloy-mock-api (in memory)",
        "db_healthy": true, "migration_version": "V32", "uptime_seconds": uptime,
    })))
}

fn onboard_state(ctx: &mut Ctx) -> ApiResult<Reply> {
    Ok(Reply::ok(json!({"needs_onboarding": ctx.store.users.is_empty()})))
}

/// Issues an access/refresh token pair bound to `org_id`.
fn issue_tokens(store: &mut Store, user_id: Uuid, org_id: Uuid) -> serde_json::Value {
    let now = store.now();
    let access = format!("jwt.{}", store.secret(40));
    let refresh = format!("rt_{}", store.secret(40));
    store.sessions.insert(
        access.clone(),
        Session {
            user_id,
            org_id,
            expires_at: now.plus_days(0).plus_ms(3_600_000),
        },
    );
    store.refresh_tokens.insert(
        refresh.clone(),
        Session {
            user_id,
            org_id,
            expires_at: now.plus_days(30),
        },
    );
    let user = store.users.get(&user_id);
    json!({
        "access_token": access, "refresh_token": refresh, "user_id": user_id,
        "email": user.map(|u| u.email.clone()), "display_name": user.map(|u| u.display_name.clone()),
    })
}

/// The fields of a new user, as register and onboard read them (`email`, `password` 8–200,
/// `display_name` 1–100); the seed reads its users with the same rules, `password` optional.
pub fn read_user(b: &mut Body, password: Mode) -> (Option<String>, Option<String>, Option<String>) {
    let email = b.get("email", Mode::Required, &email);
    let password = b.get("password", password, &string(8, 200));
    let display_name = b.get("display_name", Mode::Required, &string(1, 100));
    (email, password, display_name)
}

fn new_user(store: &mut Store, email: String, display_name: String, password: Option<String>) -> Uuid {
    let (now, id) = store.stamp();
    store.users.insert(
        id,
        User {
            id,
            email,
            display_name,
            password,
            active: true,
            created_at: now,
            updated_at: now,
        },
    );
    id
}

fn onboard(ctx: &mut Ctx) -> ApiResult<Reply> {
    let mut b = ctx.body()?;
    let (email, password, display_name) = read_user(&mut b, Mode::Required);
    let org_name = b.get("org_name", Mode::Required, &string(1, 100));
    let org_slug = b.get("org_slug", Mode::Required, &slug);
    b.finish()?;
    let (Some(email), Some(password), Some(display_name), Some(org_name), Some(org_slug)) =
        (email, password, display_name, org_name, org_slug)
    else {
        return Err(ApiError::internal("onboard fields missing after validation"));
    };
    if !ctx.store.users.is_empty() {
        return Err(ApiError::conflict(
            "already_onboarded",
            "this installation is already onboarded",
        ));
    }
    let user = new_user(ctx.store, email, display_name, Some(password));
    let org = ctx.store.create_org(org_name, org_slug, user);
    let mut tokens = issue_tokens(ctx.store, user, org);
    tokens["org_id"] = json!(org);
    Ok(Reply::created(tokens, None))
}

/// Parser: an org slug (`^[a-z0-9][a-z0-9-]*[a-z0-9]$`, 3–50).
pub fn slug(v: &serde_json::Value) -> Result<String, Problem> {
    let s = v.as_str().ok_or(Problem::InvalidFormat)?.trim();
    let n = s.chars().count();
    if n < 3 {
        return Err(Problem::TooShort);
    }
    if n > 50 {
        return Err(Problem::TooLong);
    }
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !edge(b[0]) || !edge(b[b.len() - 1]) || !b.iter().all(|c| edge(*c) || *c == b'-') {
        return Err(Problem::InvalidFormat);
    }
    Ok(s.to_string())
}

/// The personal-org slug of a display name: lower-cased, runs outside `[a-z0-9]` → `-`.
fn personal_slug(store: &mut Store, display_name: &str) -> String {
    let mut out = String::new();
    for c in display_name.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut base: String = out.trim_matches('-').chars().take(43).collect();
    base = base.trim_end_matches('-').to_string();
    if base.is_empty() {
        base = "user".into();
    }
    loop {
        let candidate = format!("{base}-{}", store.slug_suffix(6));
        if !store.orgs.values().any(|o| o.slug == candidate) {
            return candidate;
        }
    }
}

fn register(ctx: &mut Ctx) -> ApiResult<Reply> {
    let mut b = ctx.body()?;
    let (email, password, display_name) = read_user(&mut b, Mode::Required);
    let code = b.get("invite_code", Mode::Optional, &string(1, 100));
    let mode = ctx.store.settings.registration;
    if mode == RegistrationMode::Disabled
        || (mode == RegistrationMode::InviteOnly && code.is_none() && !b.present("invite_code"))
    {
        return Err(ApiError::forbidden(
            "registration_closed",
            "registration needs an invite code on this installation",
        ));
    }
    b.finish()?;
    let (Some(email), Some(password), Some(display_name)) = (email, password, display_name) else {
        return Err(ApiError::internal("register fields missing after validation"));
    };
    let now = ctx.store.now();
    let invite = match &code {
        Some(code) => {
            let inv = ctx
                .store
                .invites
                .values()
                .find(|i| &i.code == code)
                .cloned()
                .ok_or_else(|| ApiError::invalid_reference("invite_code", code))?;
            if inv.email != email {
                return Err(ApiError::forbidden(
                    "invite_email_mismatch",
                    "this invite was sent to another email address",
                ));
            }
            if inv.status != crate::model::InviteStatus::Pending || inv.expires_at <= now {
                return Err(ApiError::invalid_state(
                    inv.status.as_str(),
                    &["Pending"],
                    "this invite can no longer be used",
                ));
            }
            Some(inv)
        }
        None => None,
    };
    if ctx.store.users.values().any(|u| u.email == email) {
        return Err(ApiError::duplicate("email", &email));
    }
    let user = new_user(ctx.store, email, display_name.clone(), Some(password));
    let slug = personal_slug(ctx.store, &display_name);
    let personal = ctx.store.create_org(display_name, slug, user);
    let bound = match invite {
        Some(inv) => {
            ctx.store.memberships.insert(
                (inv.org_id, user),
                crate::model::Membership {
                    user_id: user,
                    org_id: inv.org_id,
                    role: inv.role,
                    joined_at: now,
                },
            );
            if let Some(i) = ctx.store.invites.get_mut(&inv.id) {
                i.status = crate::model::InviteStatus::Accepted;
                i.accepted_at = Some(now);
            }
            inv.org_id
        }
        None => personal,
    };
    Ok(Reply::created(issue_tokens(ctx.store, user, bound), None))
}

fn login(ctx: &mut Ctx) -> ApiResult<Reply> {
    let mut b = ctx.body()?;
    let email = b.get("email", Mode::Required, &email);
    let password = b.get("password", Mode::Required, &string(1, 200));
    let org_id = b.get("org_id", Mode::Optional, &uuid);
    b.finish()?;
    let bad = || ApiError::unauthorized("invalid_credentials", "wrong email or password");
    let (Some(email), Some(password)) = (email, password) else {
        return Err(bad());
    };
    let user = ctx
        .store
        .users
        .values()
        .find(|u| u.email == email)
        .cloned()
        .ok_or_else(bad)?;
    if !user.active || user.password.as_deref() != Some(password.as_str()) {
        return Err(bad());
    }
    let org = match org_id {
        Some(o) if ctx.store.is_member(o, user.id) => o,
        Some(o) => return Err(ApiError::not_found("organization", &o.to_string())),
        None => ctx
            .store
            .memberships
            .values()
            .filter(|m| m.user_id == user.id)
            .min_by_key(|m| (m.joined_at, m.org_id))
            .map(|m| m.org_id)
            .ok_or_else(bad)?,
    };
    Ok(Reply::ok(issue_tokens(ctx.store, user.id, org)))
}

fn refresh(ctx: &mut Ctx) -> ApiResult<Reply> {
    let mut b = ctx.body()?;
    let token = b.get("refresh_token", Mode::Required, &string(1, 200));
    b.finish()?;
    let token = token.unwrap_or_default();
    let now = ctx.store.now();
    let s = ctx
        .store
        .refresh_tokens
        .remove(&token)
        .filter(|s| s.expires_at > now)
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "unknown or expired refresh token"))?;
    Ok(Reply::ok(issue_tokens(ctx.store, s.user_id, s.org_id)))
}

fn logout(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let mut b = ctx.body()?;
    let token = b.get("refresh_token", Mode::Required, &string(1, 200));
    b.finish()?;
    if let Some(t) = token
        && ctx
            .store
            .refresh_tokens
            .get(&t)
            .is_some_and(|s| s.user_id == caller.user_id)
    {
        ctx.store.refresh_tokens.remove(&t);
    }
    Ok(Reply::no_content())
}

fn me(ctx: &mut Ctx) -> ApiResult<Reply> {
    let c = ctx.caller()?;
    c.require_scope(false)?;
    Ok(Reply::ok(
        json!({"user_id": c.user_id, "org_id": c.org_id, "email": c.email, "role": c.role}),
    ))
}

/// Whether `role` may be granted by invite (every role but Owner).
pub fn invitable(role: OrgRole) -> bool {
    role != OrgRole::Owner
}
