//! Who is calling: the identity behind an API key (`GET /api/v1/auth/me`) and the
//! [`Caller`] that tools act as.
//!
//! Over stdio there is one caller for the whole process: the startup key and the identity
//! checked before serving ([`verify`]). Over HTTP (a later issue) every request carries its own
//! key; the HTTP authentication middleware inserts a [`Caller`] into the request's extensions,
//! and [`crate::server::AlloyServer::caller`] finds it in the `http::request::Parts` rmcp puts
//! into each request context, falling back to the startup caller. Tools never look anywhere
//! else, so they work unchanged in both modes.

use crate::api::ApiClient;
use crate::errors::StartupError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The identity of an API key: exactly the fields of `GET /api/v1/auth/me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The key's user.
    pub user_id: String,
    /// The org the key acts in (the default `org_id` of every tool).
    pub org_id: String,
    /// The user's email.
    pub email: String,
    /// The user's role in that org (`Owner`, `Admin`, `Member`, `Reporter`, `Viewer`).
    pub role: String,
}

/// A caller: the API client holding its key, and the identity of that key.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The client every upstream call of this caller goes through.
    pub api: ApiClient,
    /// Who the key belongs to.
    pub identity: Arc<Identity>,
}

/// The startup identity check: one attempt at `GET /api/v1/auth/me` (contract §5.1
/// "Startup"). 401, 403, refused connections and timeouts get the messages of the
/// troubleshooting table.
pub async fn verify(api: &ApiClient) -> Result<Identity, StartupError> {
    let r = api.get_once("/api/v1/auth/me").await;
    match &r {
        Ok(resp) if resp.status == 200 => {
            serde_json::from_str::<Identity>(&resp.body).map_err(|e| StartupError::IdentityCheck {
                base_url: api.base_url().to_string(),
                detail: format!("200 with an unexpected body ({e})"),
            })
        }
        _ => Err(StartupError::from_identity_check(api.base_url(), &r)),
    }
}
