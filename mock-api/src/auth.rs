//! Who is calling and what they may do: token resolution (API keys by SHA-256 hash, session
//! tokens), org binding, and the permission checks of contract §1.7 in their fixed order
//! (scope, project allow-list, role, project membership).

use crate::error::{ApiError, ApiResult};
use crate::model::{ApiKeyScope, OrgRole};
use crate::store::{Store, sha256_hex};
use uuid::Uuid;

/// The API key a request came with.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// Key id.
    pub id: Uuid,
    /// Its scopes (`write` implies `read`).
    pub scopes: Vec<ApiKeyScope>,
    /// Project allow-list; empty = all projects.
    pub allowed_projects: Vec<Uuid>,
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The acting user.
    pub user_id: Uuid,
    /// The org the token is bound to.
    pub org_id: Uuid,
    /// The user's role in that org, read on this request.
    pub role: OrgRole,
    /// The user's email.
    pub email: String,
    /// Set when the token is an API key.
    pub key: Option<KeyInfo>,
}

/// Whether a token has an API-key prefix.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with("alloy_live_") || token.starts_with("alloy_test_")
}

/// Resolves the bearer token of a request to a caller, or the matching 401.
pub fn authenticate(store: &mut Store, token: Option<&str>) -> ApiResult<Caller> {
    let token =
        token.ok_or_else(|| ApiError::unauthorized("missing_token", "missing Authorization: Bearer <token> header"))?;
    let now = store.now();
    let (user_id, org_id, key) = if is_api_key(token) {
        let hash = sha256_hex(token);
        let key = store
            .api_keys
            .values_mut()
            .find(|k| k.key_hash == hash)
            .ok_or_else(|| ApiError::unauthorized("invalid_token", "unknown or revoked API key"))?;
        if key.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::unauthorized(
                "expired_token",
                "API key has expired; create a new one",
            ));
        }
        key.last_used_at = Some(now);
        let info = KeyInfo {
            id: key.id,
            scopes: key.scopes.clone(),
            allowed_projects: key.project_ids.clone(),
        };
        (key.user_id, key.org_id, Some(info))
    } else {
        let s = store
            .sessions
            .get(token)
            .ok_or_else(|| ApiError::unauthorized("invalid_token", "invalid access token"))?;
        if s.expires_at <= now {
            return Err(ApiError::unauthorized(
                "expired_token",
                "access token has expired; refresh it",
            ));
        }
        (s.user_id, s.org_id, None)
    };
    let user = store
        .users
        .get(&user_id)
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the token's user is not active"))?;
    let role = store
        .membership(org_id, user_id)
        .map(|m| m.role)
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the token's user is no longer a member of its org"))?;
    Ok(Caller {
        user_id,
        org_id,
        role,
        email: user.email.clone(),
        key,
    })
}

impl Caller {
    /// Scope check: `read` for GET, `write` for everything else.
    pub fn require_scope(&self, write: bool) -> ApiResult<()> {
        let Some(key) = &self.key else { return Ok(()) };
        let need = if write { ApiKeyScope::Write } else { ApiKeyScope::Read };
        let ok = key.scopes.contains(&need) || (!write && key.scopes.contains(&ApiKeyScope::Write));
        if ok {
            Ok(())
        } else {
            Err(
                ApiError::forbidden("missing_scope", format!("this API key lacks the {need} scope"))
                    .with("required_scope", need.as_str()),
            )
        }
    }

    /// Whether the key's allow-list lets this project through.
    pub fn project_visible(&self, project_id: Uuid) -> bool {
        match &self.key {
            Some(k) if !k.allowed_projects.is_empty() => k.allowed_projects.contains(&project_id),
            _ => true,
        }
    }

    /// Whether the key is restricted to some projects.
    pub fn is_project_restricted(&self) -> bool {
        self.key.as_ref().is_some_and(|k| !k.allowed_projects.is_empty())
    }

    /// Project allow-list check for an item of a project.
    pub fn require_project(&self, project_id: Uuid) -> ApiResult<()> {
        if self.project_visible(project_id) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "project_not_allowed",
                "this API key is not allowed to access that project",
            )
            .with("project_id", project_id.to_string()))
        }
    }

    /// Org-level writes and export/import are refused to project-restricted keys.
    pub fn require_unrestricted(&self) -> ApiResult<()> {
        if self.is_project_restricted() {
            Err(ApiError::forbidden(
                "project_restricted_key",
                "a project-restricted API key cannot perform org-level operations",
            ))
        } else {
            Ok(())
        }
    }

    /// Role check.
    pub fn require_role(&self, min: OrgRole) -> ApiResult<()> {
        if self.role.at_least(min) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "insufficient_role",
                format!("this operation needs the {min} role or higher"),
            )
            .with("required_role", min.as_str())
            .with("role", self.role.as_str()))
        }
    }

    /// A Reporter may only act in projects they are a member of.
    pub fn require_project_member(&self, store: &Store, project_id: Uuid) -> ApiResult<()> {
        if self.role == OrgRole::Reporter && !store.project_members.contains_key(&(project_id, self.user_id)) {
            return Err(
                ApiError::forbidden("not_project_member", "you are not a member of this project")
                    .with("project_id", project_id.to_string()),
            );
        }
        Ok(())
    }

    /// The standard write check on an item of a project: scope, allow-list, role.
    pub fn check_project_write(&self, project_id: Uuid, min: OrgRole) -> ApiResult<()> {
        self.require_scope(true)?;
        self.require_project(project_id)?;
        self.require_role(min)
    }

    /// The standard read check on an item of a project: scope, allow-list.
    pub fn check_project_read(&self, project_id: Uuid) -> ApiResult<()> {
        self.require_scope(false)?;
        self.require_project(project_id)
    }

    /// The standard org-level write check: scope, unrestricted key, role.
    pub fn check_org_write(&self, min: OrgRole) -> ApiResult<()> {
        self.require_scope(true)?;
        self.require_unrestricted()?;
        self.require_role(min)
    }
}
