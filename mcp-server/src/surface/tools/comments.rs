//! Comments (toolset `comments`, contract §5.3 #13–#16): `add_comment`, `list_comments`,
//! `update_comment`, `delete_comment`. Comments hang off a ticket (uuid or key) and are then
//! addressed by their own uuid.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Id, Page, TicketRef};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};

/// Arguments of `add_comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCommentParams {
    /// Key (`WEB-42`) or uuid.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// Markdown.
    #[schemars(length(min = 1, max = 10000))]
    pub body: String,
}

/// Arguments of `list_comments`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCommentsParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
}

/// Arguments of `update_comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentParams {
    /// Comment uuid.
    #[serde(skip_serializing)]
    pub comment_id: Id,
    /// Markdown.
    #[schemars(length(min = 1, max = 10000))]
    pub body: String,
}

/// Arguments of `delete_comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteCommentParams {
    /// Comment uuid.
    pub comment_id: Id,
}

fn comments_path(ticket: &TicketRef) -> ApiPath {
    ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str()).then("comments")
}

fn comment_path(comment: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/comments").seg(comment.as_str())
}

#[tool_router(router = comments_router, vis = "pub(crate)")]
impl Tools {
    /// Comment on a ticket as the caller; to change the ticket itself use `update_ticket`.
    #[tool(
        title = "Add comment",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn add_comment(
        &self,
        Parameters(p): Parameters<AddCommentParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.post_params(&ctx, comments_path(&p.ticket_id), &p).await
    }

    /// A ticket's comments, oldest first; its change history: `get_ticket_activity`.
    #[tool(
        title = "List comments",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_comments(
        &self,
        Parameters(p): Parameters<ListCommentsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new().page(p.page.limit, p.page.cursor.as_ref());
        self.get_json(&ctx, comments_path(&p.ticket_id), query).await
    }

    /// Replace a comment's text (its author only).
    #[tool(
        title = "Edit comment",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_comment(
        &self,
        Parameters(p): Parameters<UpdateCommentParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let body = body(&p)?;
        let r = self.caller(&ctx).api.patch(comment_path(&p.comment_id), &body).await;
        Ok(errors::json_result(r))
    }

    /// Delete a comment for good (its author or an Admin).
    #[tool(
        title = "Delete comment",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_comment(
        &self,
        Parameters(p): Parameters<DeleteCommentParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.delete_item(&ctx, comment_path(&p.comment_id), "comment_id", p.comment_id.as_str())
            .await
    }
}
