//! Activity (toolset `activity`, contract §5.3 #59): `get_ticket_activity`, a ticket's change
//! history (one entry per change: creation, field updates, status moves, assignment, sprint,
//! labels, tags, comments), newest first.

use crate::surface::tools::Tools;
use crate::surface::tools::shared::{ActivityAction, Page, TicketRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// Arguments of `get_ticket_activity`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTicketActivityParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Vec<ActivityAction>>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

#[tool_router(router = activity_router, vis = "pub(crate)")]
impl Tools {
    /// A ticket's change history, newest first (who changed what, when). Comment texts:
    /// `list_comments`.
    #[tool(
        title = "Ticket history",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_ticket_activity(
        &self,
        Parameters(p): Parameters<GetTicketActivityParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(p.ticket_id.as_str())
            .then("activity");
        let query = Query::new()
            .list("action", p.action.as_deref())
            .page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, path, query).await
    }
}
