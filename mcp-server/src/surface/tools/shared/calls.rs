//! The steps most tools are made of, as methods of [`Tools`]: one request to the Alloy API as
//! the caller of the tool call, its answer mapped by [`errors`] (the API's JSON, or the
//! `{"deleted": true, …}` of a delete), and [`Tools::resolving`] for the tools that look
//! names up before their own call.

use crate::surface::errors;
use crate::surface::tools::names::{Resolver, Step, settle};
use crate::surface::tools::{Tools, body};
use crate::upstream::api::{ApiPath, Query};
use crate::upstream::identity::Caller;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Serialize;
use serde_json::Value;

/// What a tool answers: its result, or a refused argument (JSON-RPC -32602).
type Answer = Result<CallToolResult, ErrorData>;

impl Tools {
    /// `GET path?query`: the API's JSON.
    pub(crate) async fn get_json(
        &self,
        ctx: &RequestContext<RoleServer>,
        path: impl Into<ApiPath>,
        query: Query,
    ) -> Answer {
        Ok(errors::json_result(self.caller(ctx).api.get(path, &query).await))
    }

    /// `POST path` with `body`, if any: the API's JSON.
    pub(crate) async fn post_json(
        &self,
        ctx: &RequestContext<RoleServer>,
        path: impl Into<ApiPath>,
        body: Option<&Value>,
    ) -> Answer {
        Ok(errors::json_result(self.caller(ctx).api.post(path, body).await))
    }

    /// `POST path` with the params as the body (see [`body`]: the fields that went into the path
    /// are skipped): the API's JSON.
    pub(crate) async fn post_params<P: Serialize>(
        &self,
        ctx: &RequestContext<RoleServer>,
        path: impl Into<ApiPath>,
        params: &P,
    ) -> Answer {
        let body = body(params)?;
        self.post_json(ctx, path, Some(&body)).await
    }

    /// `PATCH path` with the params as the body, which must name one of `fields` at least
    /// (else -32602, before any call): the API's JSON.
    pub(crate) async fn patch_params<P: Serialize>(
        &self,
        ctx: &RequestContext<RoleServer>,
        path: impl Into<ApiPath>,
        params: &P,
        fields: &[&str],
    ) -> Answer {
        let body = body(params)?;
        if let Value::Object(m) = &body {
            errors::require_at_least_one(m, fields)?;
        }
        Ok(errors::json_result(self.caller(ctx).api.patch(path, &body).await))
    }

    /// `DELETE path`: `{"deleted": true, "<id_param>": "<value>"}`, the reference as given.
    pub(crate) async fn delete_item(
        &self,
        ctx: &RequestContext<RoleServer>,
        path: impl Into<ApiPath>,
        id_param: &str,
        value: &str,
    ) -> Answer {
        let r = self.caller(ctx).api.delete(path).await;
        Ok(errors::deleted_result(r, id_param, value))
    }

    /// `/api/v1/orgs/{org_id}/<rest>` of the caller's org.
    pub(crate) fn org_path(&self, ctx: &RequestContext<RoleServer>, rest: &'static str) -> ApiPath {
        ApiPath::fixed("/api/v1/orgs")
            .seg(&self.caller(ctx).identity.org_id)
            .then(rest)
    }

    /// The steps of a tool that looks names up first, with the caller and a [`Resolver`] of its
    /// own: a refused argument stays an error, a failed lookup becomes the answer ([`settle`]).
    pub(crate) async fn resolving(
        &self,
        ctx: &RequestContext<RoleServer>,
        steps: impl AsyncFnOnce(&Caller, &mut Resolver<'_>) -> Step<CallToolResult>,
    ) -> Answer {
        let caller = self.caller(ctx);
        let mut names = Resolver::new(&caller);
        settle(steps(&caller, &mut names).await)
    }
}
