//! The one error envelope of the API (contract §1.8): every failure, from a malformed body to
//! a workflow rule, becomes an [`ApiError`] here and leaves as
//! `{"error": {"code", "message", "details"}}` with its HTTP status.

use crate::model::Problem;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A failed request: HTTP status, stable `code`, human `message`, structured `details`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Stable machine token (`not_found`, `validation_error`, ...).
    pub code: &'static str,
    /// English text for humans.
    pub message: String,
    /// Always an object; `reason` is set for 401/403/409/422 and `400 bad_request`.
    pub details: Map<String, Value>,
    /// Extra response headers (e.g. `Retry-After`, `Allow`).
    pub headers: Vec<(&'static str, String)>,
}

/// Result alias used by every handler.
pub type ApiResult<T> = Result<T, ApiError>;

fn details(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

impl ApiError {
    /// Builds an error from its parts.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>, details: Map<String, Value>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details,
            headers: Vec::new(),
        }
    }

    /// Adds one detail field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// The JSON body of the envelope.
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message, "details": Value::Object(self.details.clone())}})
    }

    /// `400 bad_request` with a reason and the offending parameter.
    pub fn bad_request(reason: &str, param: &str, message: impl Into<String>) -> Self {
        Self::new(
            400,
            "bad_request",
            message,
            details(vec![("reason", json!(reason)), ("param", json!(param))]),
        )
    }

    /// `400 bad_request`, `invalid_query` for a query parameter.
    pub fn invalid_query(param: &str, message: impl Into<String>) -> Self {
        Self::bad_request("invalid_query", param, message)
    }

    /// `400 bad_request`, `invalid_id` for a malformed path or query reference.
    pub fn invalid_id(param: &str, value: &str) -> Self {
        Self::bad_request(
            "invalid_id",
            param,
            format!("{param} {value:?} is not a valid reference"),
        )
    }

    /// `400 validation_error` listing every failing field.
    pub fn validation(fields: BTreeMap<String, Problem>) -> Self {
        let summary: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let map: Map<String, Value> = fields.into_iter().map(|(k, v)| (k, json!(v))).collect();
        Self::new(
            400,
            "validation_error",
            format!("invalid fields: {}", summary.join(", ")),
            details(vec![("fields", Value::Object(map))]),
        )
    }

    /// `400 validation_error` for a single field.
    pub fn field(field: &str, problem: Problem) -> Self {
        let mut m = BTreeMap::new();
        m.insert(field.to_string(), problem);
        Self::validation(m)
    }

    /// `401 unauthorized`.
    pub fn unauthorized(reason: &str, message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message, details(vec![("reason", json!(reason))]))
    }

    /// `403 forbidden` with a reason.
    pub fn forbidden(reason: &str, message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message, details(vec![("reason", json!(reason))]))
    }

    /// `404 not_found` for a resource and the reference as sent.
    pub fn not_found(resource: &str, id: &str) -> Self {
        Self::new(
            404,
            "not_found",
            format!("{} {id} not found", resource.replace('_', " ")),
            details(vec![("resource", json!(resource)), ("id", json!(id))]),
        )
    }

    /// `409 conflict` with a reason.
    pub fn conflict(reason: &str, message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message, details(vec![("reason", json!(reason))]))
    }

    /// `409 conflict`, `duplicate` of a unique field.
    pub fn duplicate(field: &str, value: &str) -> Self {
        Self::conflict("duplicate", format!("{field} {value:?} is already taken"))
            .with("field", field)
            .with("value", value)
    }

    /// `422 unprocessable` with a reason.
    pub fn unprocessable(reason: &str, message: impl Into<String>) -> Self {
        Self::new(422, "unprocessable", message, details(vec![("reason", json!(reason))]))
    }

    /// `422 unprocessable`, `invalid_reference` for a body field naming nothing in the org.
    pub fn invalid_reference(field: &str, id: &str) -> Self {
        Self::unprocessable(
            "invalid_reference",
            format!("{field} {id} does not name anything usable here"),
        )
        .with("field", field)
        .with("id", id)
    }

    /// `422 unprocessable`, `invalid_state`.
    pub fn invalid_state(state: &str, expected: &[&str], message: impl Into<String>) -> Self {
        Self::unprocessable("invalid_state", message)
            .with("state", state)
            .with("expected", json!(expected))
    }

    /// `413 payload_too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
            details(vec![("limit_bytes", json!(limit))]),
        )
    }

    /// `429 rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after: i64) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            format!("rate limit exceeded; retry in {retry_after} s"),
            details(vec![("retry_after_seconds", json!(retry_after))]),
        );
        e.headers.push(("Retry-After", retry_after.to_string()));
        e
    }

    /// `500 internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message, Map::new())
    }
}
