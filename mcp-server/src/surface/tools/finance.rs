//! Finance & Reporting (toolset `finance`, contract §5.3 #65–#69): `get_time_report`,
//! `get_capitalization_report`, `submit_time_entry`, `approve_time_entry`,
//! `get_capitalization_export`.
//!
//! Reports count Approved time only; the period defaults (`to` = today, `from` = the first of
//! `to`'s month) are the API's, so `from`/`to` go to the API only when given, as does `org_id`.
//! The CSV export is returned as the raw text.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{Date, Id, ProjectRef, ReportGroupBy};
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
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// First day of the period, `YYYY-MM-DD`, inclusive (default: the first of `to`'s month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Last day of the period, `YYYY-MM-DD`, inclusive (default: today, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// One row per `user`, `team`, `project`, `ticket` or `day` (default `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<ReportGroupBy>,
    /// Only time of this project: project uuid or key, e.g. `WEB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Only time of this user (uuid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Id>,
    /// Only time of the users currently in this team (uuid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Id>,
}

/// Arguments of `get_capitalization_report` and `get_capitalization_export`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapitalizationParams {
    /// Org uuid (default: the caller's org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// First day of the period, `YYYY-MM-DD`, inclusive (default: the first of `to`'s month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Last day of the period, `YYYY-MM-DD`, inclusive (default: today, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// Only time of this project: project uuid or key, e.g. `WEB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Only projects of this cost center, e.g. `ENG-001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub cost_center_id: Option<String>,
}

impl CapitalizationParams {
    /// The query of #93 and #94.
    fn query(&self) -> Query {
        Query::new()
            .opt("org_id", self.org_id.as_ref())
            .opt("from", self.from.as_ref())
            .opt("to", self.to.as_ref())
            .opt("project_id", self.project_id.as_ref())
            .opt("cost_center_id", self.cost_center_id.as_deref())
    }
}

fn action_path(id: &Id, action: &'static str) -> ApiPath {
    ApiPath::fixed("/api/v1/time-entries").seg(id.as_str()).then(action)
}

#[tool_router(router = finance_router, vis = "pub(crate)")]
impl Tools {
    /// Total Approved time over a period (default: this month to today), grouped by `user`,
    /// `team`, `project`, `ticket` or `day`, optionally for one project, user or team. Use it
    /// for "who worked how much on what"; use `list_time_entries` to see single entries and
    /// `get_capitalization_report` for costs. Returns the TimeReport `{org_id, from, to,
    /// group_by, filters, totals: {minutes, hours, entry_count, submitted_minutes}, rows}`;
    /// `submitted_minutes` is time still awaiting approval.
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
        let caller = self.caller(&ctx);
        let query = Query::new()
            .opt("org_id", p.org_id.as_ref())
            .opt("from", p.from.as_ref())
            .opt("to", p.to.as_ref())
            .opt("group_by", p.group_by)
            .opt("project_id", p.project_id.as_ref())
            .opt("user_id", p.user_id.as_ref())
            .opt("team_id", p.team_id.as_ref());
        Ok(errors::json_result(
            caller.api.get("/api/v1/reports/time", &query).await,
        ))
    }

    /// Software capitalization (ASC 350-40 / IAS 38) of Approved time over a period (default:
    /// this month to today): each entry costed at the user's labor rate and split into CapEx
    /// (Capex projects in the AppDevelopment phase) and OpEx, per project and per cost center,
    /// with monthly amortization and warnings (missing labor rates, unclassified projects,
    /// missing phases). Amounts are in cents. For the entry-level CSV use
    /// `get_capitalization_export`. Returns the CapitalizationReport `{org_id, from, to,
    /// filters, totals, projects, cost_centers, warnings}`.
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get("/api/v1/reports/capitalization", &p.query()).await,
        ))
    }

    /// Submit a Draft or Rejected time entry for approval (owner or Admin). After this the
    /// entry can no longer be edited; an Admin approves it with `approve_time_entry`. Returns
    /// the TimeEntry (`status` `Submitted`).
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.post(action_path(&p.time_entry_id, "submit"), None).await,
        ))
    }

    /// Approve a Submitted time entry (needs Admin). Approval is final: the entry never changes
    /// again and from now on counts in time and capitalization reports and project budgets.
    /// Draft entries must be submitted first (`submit_time_entry`). Returns the TimeEntry
    /// (`status` `Approved`, with `approved_at` and `approved_by`).
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.post(action_path(&p.time_entry_id, "approve"), None).await,
        ))
    }

    /// The capitalization data as CSV, one row per Approved entry of the period (default: this
    /// month to today), with the same filters as `get_capitalization_report`: entry, date,
    /// period, project and its classification, cost center, user, ticket, minutes, hours,
    /// hourly rate, cost, CapEx and OpEx cents, amortization months. Use it to hand the data
    /// to accounting; use `get_capitalization_report` for totals. Returns the CSV text (header
    /// row always present).
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
        let caller = self.caller(&ctx);
        Ok(errors::text_result(
            caller
                .api
                .get_text("/api/v1/reports/capitalization/export", &p.query())
                .await,
        ))
    }
}
