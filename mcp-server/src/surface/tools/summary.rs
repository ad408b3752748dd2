//! Projects & Sprints (toolset `summary`, contract §5.3 #49): `get_project_summary`, the
//! one-call overview of a project (ticket counts, active sprint, budget burn, time).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::ProjectRef;
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// Arguments of `get_project_summary`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetProjectSummaryParams {
    /// Project uuid or key, e.g. `WEB`.
    pub project_id: ProjectRef,
}

#[tool_router(router = summary_router, vis = "pub(crate)")]
impl Tools {
    /// Get a one-call overview of a project: ticket counts by status, category, priority and
    /// type, open tickets that are unassigned, in the backlog or overdue; the active sprint
    /// with its progress and days remaining; the number of planned sprints; the budget for the
    /// current period with spent (approved time), pending (submitted time), remaining and burn
    /// percent; minutes by time-entry status; and the member count. Use it for status reports
    /// and budget checks; use `get_project` for the project's own fields. Returns the
    /// ProjectSummary.
    #[tool(
        title = "Project summary",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_project_summary(
        &self,
        Parameters(p): Parameters<GetProjectSummaryParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/projects")
            .seg(p.project_id.as_str())
            .then("summary");
        Ok(errors::json_result(caller.api.get(path, &Query::new()).await))
    }
}
