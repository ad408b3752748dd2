//! Activity (toolset `activity`, contract §5.3 #59): `get_ticket_activity`, a ticket's change
//! history (one entry per change: creation, field updates, status moves, assignment, sprint,
//! labels, tags, comments), newest first.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{ActivityAction, Cursor, Limit, TicketRef};
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
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// Only entries with these actions, e.g. `["StatusChanged", "Assigned"]` (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Vec<ActivityAction>>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one (with the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

#[tool_router(router = activity_router, vis = "pub(crate)")]
impl Tools {
    /// Get a ticket's change history, newest first: who created it, changed which field from
    /// what to what, moved its status, (un)assigned it, moved it between sprints, added or
    /// removed labels and tags, or commented, and when. Filter with `action`. Use
    /// `list_comments` for the comment texts. Returns one page `{items: [Activity], next_cursor,
    /// has_more}`; each Activity has `actor_id`, `action`, `field`, `old_value`, `new_value`,
    /// `created_at`.
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
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(p.ticket_id.as_str())
            .then("activity");
        let query = Query::new()
            .list("action", p.action.as_deref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }
}
