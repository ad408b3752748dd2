//! Comments (toolset `comments`, contract §5.3 #13–#16): `add_comment`, `list_comments`,
//! `update_comment`, `delete_comment`. Comments hang off a ticket (uuid or key) and are then
//! addressed by their own uuid.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{Cursor, Id, Limit, TicketRef};
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
    /// Ticket to comment on: ticket uuid or key, e.g. `WEB-42`.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// Comment text in Markdown, 1–10 000 characters.
    #[schemars(length(min = 1, max = 10000))]
    pub body: String,
}

/// Arguments of `list_comments`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCommentsParams {
    /// Ticket whose comments to list: ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Arguments of `update_comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentParams {
    /// Comment uuid (the `id` returned by `add_comment` or `list_comments`).
    #[serde(skip_serializing)]
    pub comment_id: Id,
    /// The new comment text in Markdown, 1–10 000 characters; replaces the old text whole.
    #[schemars(length(min = 1, max = 10000))]
    pub body: String,
}

/// Arguments of `delete_comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteCommentParams {
    /// Comment uuid (the `id` returned by `add_comment` or `list_comments`).
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
    /// Add a comment (Markdown) to a ticket, as the caller. Use it for discussion, status
    /// notes or questions; use `update_ticket` to change the ticket's own fields instead.
    /// Reporters may comment only in projects they are members of. Returns the new Comment
    /// (`id`, `ticket_id`, `author_id`, `body`, `created_at`).
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
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.post(comments_path(&p.ticket_id), Some(&body)).await,
        ))
    }

    /// List a ticket's comments, oldest first. Use `get_ticket_activity` for the change
    /// history instead. Returns one page `{items: [Comment], next_cursor, has_more}`; pass
    /// `next_cursor` back as `cursor` for more.
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
        let caller = self.caller(&ctx);
        let query = Query::new().opt("limit", p.limit).opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(
            caller.api.get(comments_path(&p.ticket_id), &query).await,
        ))
    }

    /// Replace the text of a comment. Only its author may edit it; find comment ids with
    /// `list_comments`. Returns the updated Comment with `edited_at` set.
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
        let caller = self.caller(&ctx);
        let body = body(&p)?;
        Ok(errors::json_result(
            caller.api.patch(comment_path(&p.comment_id), &body).await,
        ))
    }

    /// Delete a comment (its author, or any Admin). Cannot be undone. Returns
    /// `{deleted: true, comment_id}`.
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
        let caller = self.caller(&ctx);
        let r = caller.api.delete(comment_path(&p.comment_id)).await;
        Ok(errors::deleted_result(r, "comment_id", p.comment_id.as_str()))
    }
}
