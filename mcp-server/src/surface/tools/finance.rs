//! Finance & Reporting (toolset `finance`, contract §5.3 #65–#69): `get_time_report`,
//! `get_capitalization_report`, `submit_time_entry`, `approve_time_entry`,
//! `get_capitalization_export`.
//!
//! Reports count Approved time only; the period defaults (`to` = today, `from` = the first of
//! `to`'s month) are the API's, so `from`/`to` go to the API only when given. Reports cover the
//! caller's org (a key acts in one org: no `org_id` argument). A report filtered by a project
//! checks the project first: the API's filter would answer an empty report for a mistyped key.
//! The CSV export is returned as the raw text.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::names::{Resolver, Step};
use crate::surface::tools::shared::{Date, Id, ProjectRef, ReportGroupBy, UserRef};
use crate::surface::tools::time::TimeEntryIdParams;
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// Arguments of `get_time_report`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTimeReportParams {
    /// Default: 1st of `to`'s month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// Row per (default `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<ReportGroupBy>,
    /// Project key or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// `me`, an email or a uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserRef>,
    /// Team uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Id>,
}

/// Arguments of `get_capitalization_report` and `get_capitalization_export`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapitalizationParams {
    /// Default: 1st of `to`'s month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// Project key or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// E.g. `ENG-001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub cost_center_id: Option<String>,
}

impl CapitalizationParams {
    /// The query of #93 and #94, after checking the project it filters by.
    async fn query(&self, names: &mut Resolver<'_>) -> Step<Query> {
        names.ensure_projects(&self.project_id).await?;
        Ok(Query::new()
            .opt("from", self.from.as_ref())
            .opt("to", self.to.as_ref())
            .opt("project_id", self.project_id.as_ref())
            .opt("cost_center_id", self.cost_center_id.as_deref()))
    }
}

fn action_path(id: &Id, action: &'static str) -> ApiPath {
    ApiPath::fixed("/api/v1/time-entries").seg(id.as_str()).then(action)
}

#[tool_router(router = finance_router, vis = "pub(crate)")]
impl Tools {
    /// Approved time over a period (default this month) per user, team, project, ticket or day.
    /// Entries: `list_time_entries`.
    #[tool(
        title = "Time report",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_time_report(
        &self,
        Parameters(p): Parameters<GetTimeReportParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            names.ensure_projects(&p.project_id).await?;
            let user = names.user_if_given("user_id", p.user_id.as_ref()).await?;
            let query = Query::new()
                .opt("from", p.from.as_ref())
                .opt("to", p.to.as_ref())
                .opt("group_by", p.group_by)
                .opt("project_id", p.project_id.as_ref())
                .opt("user_id", user)
                .opt("team_id", p.team_id.as_ref());
            Ok(errors::json_result(
                caller.api.get("/api/v1/reports/time", &query).await,
            ))
        })
        .await
    }

    /// CapEx/OpEx of Approved time over a period (default this month) at labor rates, per project
    /// and cost center, in cents.
    #[tool(
        title = "Capitalization report",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_capitalization_report(
        &self,
        Parameters(p): Parameters<CapitalizationParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let query = p.query(names).await?;
            Ok(errors::json_result(
                caller.api.get("/api/v1/reports/capitalization", &query).await,
            ))
        })
        .await
    }

    /// Submit a Draft or Rejected time entry for approval; it can no longer be edited.
    #[tool(
        title = "Submit time entry",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn submit_time_entry(
        &self,
        Parameters(p): Parameters<TimeEntryIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_json(&ctx, action_path(&p.time_entry_id, "submit"), None)
            .await
    }

    /// Approve a Submitted time entry (Admin): final; it now counts in reports and budgets.
    #[tool(
        title = "Approve time entry",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn approve_time_entry(
        &self,
        Parameters(p): Parameters<TimeEntryIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_json(&ctx, action_path(&p.time_entry_id, "approve"), None)
            .await
    }

    /// The capitalization report's entries as CSV for accounting.
    #[tool(
        title = "Capitalization CSV",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_capitalization_export(
        &self,
        Parameters(p): Parameters<CapitalizationParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.resolving(&ctx, async |caller, names| {
            let query = p.query(names).await?;
            Ok(errors::text_result(
                caller
                    .api
                    .get_text("/api/v1/reports/capitalization/export", &query)
                    .await,
            ))
        })
        .await
    }
}
