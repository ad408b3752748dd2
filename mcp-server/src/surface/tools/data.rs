//! Data Export & Import (toolset `data`, contract §5.3 #70–#71): `export_data` returns an
//! ExportBundle of the org or some projects; `import_data` sends such a bundle back as the
//! request body, with its options (`on_conflict`, `dry_run`) as query parameters. Both act on
//! the caller's org (a key acts in one org: no `org_id` argument); `export_data` checks each
//! project it is asked for first, since the API would leave an unknown one out silently.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{OnConflict, ProjectRef};
use crate::upstream::api::Query;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Arguments of `export_data`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDataParams {
    /// Default the whole org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_ids: Option<Vec<ProjectRef>>,
    /// Default true (much larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_activity: Option<bool>,
}

/// Arguments of `import_data`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDataParams {
    /// As `export_data` returned it.
    pub bundle: Map<String, Value>,
    /// A row whose id exists: `skip` (default), `overwrite` or `fail` (refuse all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// Only report what would happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

#[tool_router(router = data_router, vis = "pub(crate)")]
impl Tools {
    /// Export the org, or some projects, as one JSON bundle (Admin), for backups and moves.
    #[tool(
        title = "Export data",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn export_data(
        &self,
        Parameters(p): Parameters<ExportDataParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            names.ensure_projects(p.project_ids.iter().flatten()).await?;
            let query = Query::new()
                .list("project_id", p.project_ids.as_deref())
                .opt("include_activity", p.include_activity);
            Ok(errors::json_result(caller.api.get("/api/v1/export", &query).await))
        })
        .await
    }

    /// Import an `export_data` bundle, all or nothing (Admin); run `dry_run` first and show the
    /// user.
    #[tool(
        title = "Import data",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn import_data(
        &self,
        Parameters(p): Parameters<ImportDataParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new().opt("on_conflict", p.on_conflict).opt("dry_run", p.dry_run);
        let body = Value::Object(p.bundle);
        let r = self
            .caller(&ctx)
            .api
            .post_with_query("/api/v1/import", &query, Some(&body))
            .await;
        Ok(errors::json_result(r))
    }
}
