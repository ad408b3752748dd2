//! Projects & Sprints (toolset `summary`, contract §5.3 #49): `get_project_summary`, the
//! one-call overview of a project (ticket counts, active sprint, budget burn, time).

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
    /// Project key or uuid.
    pub project_id: ProjectRef,
}

#[tool_router(router = summary_router, vis = "pub(crate)")]
impl Tools {
    /// A project's figures: ticket counts (unassigned, backlog, overdue), active sprint progress,
    /// budget burn, time. Its own fields: `get_project`.
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
        let path = ApiPath::fixed("/api/v1/projects")
            .seg(p.project_id.as_str())
            .then("summary");
        self.get_json(&ctx, path, Query::new()).await
    }
}
