//! Who is calling: the identity behind an API key (`GET /api/v1/auth/me`) and the
//! [`Caller`] that tools act as.
//!
//! Over stdio there is one caller for the whole process: the startup key and the identity
//! checked before serving ([`verify`]). Over HTTP every request carries its own
//! key; the HTTP authentication middleware inserts a [`Caller`] into the request's extensions,
//! and the MCP surface finds it in each request's context. Tools never look anywhere else, so
//! they work unchanged in both modes.

use crate::upstream::api::{ApiClient, ApiFailure, ApiResult};
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

/// Why the identity behind a key could not be established. `Display` is the one line a user
/// reads (the troubleshooting table's words); it never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// `GET /api/v1/auth/me` answered 401.
    #[error(
        "unauthorized: the Alloy API at {base_url} rejected ALLOY_API_TOKEN ({detail}); the key is expired or revoked: create a new API key"
    )]
    Unauthorized {
        /// The API base URL.
        base_url: String,
        /// The API's code and message.
        detail: String,
    },
    /// `GET /api/v1/auth/me` answered 403.
    #[error(
        "forbidden: the Alloy API at {base_url} refused ALLOY_API_TOKEN ({detail}); the key lacks the read/write scopes: create a key with both scopes"
    )]
    Forbidden {
        /// The API base URL.
        base_url: String,
        /// The API's code and message.
        detail: String,
    },
    /// Nothing listens at the API URL.
    #[error("connection refused: start the Alloy API or fix ALLOY_API_URL (nothing answers at {base_url})")]
    ConnectionRefused {
        /// The API base URL.
        base_url: String,
    },
    /// No answer within the timeout.
    #[error(
        "timed out after {secs} s waiting for the Alloy API at {base_url}: the URL is wrong or unreachable; fix ALLOY_API_URL"
    )]
    Timeout {
        /// The API base URL.
        base_url: String,
        /// The timeout in seconds.
        secs: u64,
    },
    /// Another transport failure.
    #[error("cannot reach the Alloy API at {base_url} ({detail}): fix ALLOY_API_URL or start the API")]
    Unreachable {
        /// The API base URL.
        base_url: String,
        /// What went wrong.
        detail: String,
    },
    /// The identity check answered something unexpected.
    #[error("the identity check GET {base_url}/api/v1/auth/me failed: {detail}")]
    Unexpected {
        /// The API base URL.
        base_url: String,
        /// Status and message.
        detail: String,
    },
}

impl IdentityError {
    /// The error for an identity check that did not answer 200.
    pub fn from_answer(base_url: &str, r: &ApiResult) -> IdentityError {
        let base_url = base_url.to_string();
        match r {
            Err(ApiFailure::ConnectionRefused { .. }) => IdentityError::ConnectionRefused { base_url },
            Err(ApiFailure::Timeout { after, .. }) => IdentityError::Timeout {
                base_url,
                secs: after.as_secs(),
            },
            Err(ApiFailure::Unreachable { detail, .. }) => IdentityError::Unreachable {
                base_url,
                detail: detail.clone(),
            },
            Err(
                f @ (ApiFailure::RefusedPath { .. } | ApiFailure::OutcomeUnknown { .. } | ApiFailure::TooLarge { .. }),
            ) => IdentityError::Unexpected {
                base_url,
                detail: f.to_string(),
            },
            Ok(resp) => {
                let detail = resp.status_line();
                match resp.status {
                    401 => IdentityError::Unauthorized { base_url, detail },
                    403 => IdentityError::Forbidden { base_url, detail },
                    _ => IdentityError::Unexpected { base_url, detail },
                }
            }
        }
    }
}

/// The startup identity check: one attempt at `GET /api/v1/auth/me` (contract §5.1
/// "Startup"). 401, 403, refused connections and timeouts get the messages of the
/// troubleshooting table.
pub async fn verify(api: &ApiClient) -> Result<Identity, IdentityError> {
    let r = api.get_once("/api/v1/auth/me").await;
    match &r {
        Ok(resp) if resp.status == 200 => {
            serde_json::from_str::<Identity>(&resp.body).map_err(|e| IdentityError::Unexpected {
                base_url: api.base_url().to_string(),
                detail: format!("200 with an unexpected body ({e})"),
            })
        }
        _ => Err(IdentityError::from_answer(api.base_url(), &r)),
    }
}
