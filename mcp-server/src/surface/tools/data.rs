//! Data Export & Import (toolset `data`, contract §5.3 #70–#71): `export_data` returns an
//! ExportBundle of the org or some projects; `import_data` sends such a bundle back as the
//! request body, with its options (`org_id`, `on_conflict`, `dry_run`) as query parameters.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{Id, OnConflict, ProjectRef};
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
    /// Org uuid to export (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Export only these projects (uuids or keys, e.g. `["WEB", "API"]`); omit for the whole org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_ids: Option<Vec<ProjectRef>>,
    /// Include ticket activity history (default true; false makes the bundle much smaller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_activity: Option<bool>,
}

/// Arguments of `import_data`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDataParams {
    /// The bundle to import: an ExportBundle object exactly as `export_data` returned it (`format` `alloy-export`, `version` 1).
    pub bundle: Map<String, Value>,
    /// Target org uuid (default: the caller's org); may differ from the bundle's source org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// What to do with a row whose id already exists in the target org: `skip` keeps the existing row (default), `overwrite` replaces it (approved time is never overwritten), `fail` refuses the whole import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// Check everything and report what would happen without writing anything (default false). Recommended before a real import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

#[tool_router(router = data_router, vis = "pub(crate)")]
impl Tools {
    /// Export the caller's org (or `org_id`), or only some projects, as one JSON bundle:
    /// users, members, teams, workflows, labor rates, projects, project members, labels,
    /// sprints, tickets, comments, activity and time entries (never passwords, API keys or
    /// invites). Needs Admin. Use it for backups and moving data; `import_data` reads it back.
    /// Returns the ExportBundle.
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
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("org_id", p.org_id.as_ref())
            .list("project_id", p.project_ids.as_deref())
            .opt("include_activity", p.include_activity);
        Ok(errors::json_result(caller.api.get("/api/v1/export", &query).await))
    }

    /// Import a bundle made by `export_data` into the caller's org (or `org_id`), all or
    /// nothing. Rows whose id already exists are skipped, overwritten or refused per
    /// `on_conflict`; clashes of natural keys (project key, names, ticket numbers) refuse the
    /// import. Needs Admin. Run with `dry_run: true` first and show the user the result.
    /// Returns the ImportResult: counts created/updated/skipped per entity, id remaps,
    /// conflicts and warnings.
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
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("org_id", p.org_id.as_ref())
            .opt("on_conflict", p.on_conflict)
            .opt("dry_run", p.dry_run);
        let body = Value::Object(p.bundle);
        Ok(errors::json_result(
            caller.api.post_with_query("/api/v1/import", &query, Some(&body)).await,
        ))
    }
}
