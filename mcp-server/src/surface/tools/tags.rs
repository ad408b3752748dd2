//! Tag Management (toolset `tags`, contract §5.3 #24–#27): `set_tags`, `get_tags`,
//! `delete_tag`, `search_by_tag`. Tags are free-form key/value strings on a ticket (keys
//! `^[a-z0-9][a-z0-9_.:-]{0,63}$`, values up to 256 characters, at most 50 per ticket); the API
//! checks the syntax. `set_tags` merges (PATCH, `null` removes a key) or, with `replace`,
//! replaces the whole set (PUT, where `null` values make no sense and are refused here).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{Detail, Page, ProjectRef, TagKey, TicketRef};
use crate::surface::tools::tickets::{ticket_list_path, ticket_page};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// Arguments of `set_tags`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTagsParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// E.g. `{"env": "prod"}`; `null` removes a key.
    pub tags: BTreeMap<String, Option<String>>,
    /// Tags become exactly `tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
}

/// Arguments of `get_tags`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTagsParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
}

/// Arguments of `delete_tag`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTagParams {
    /// Key (`WEB-42`) or uuid.
    pub ticket_id: TicketRef,
    /// E.g. `env`.
    pub key: TagKey,
}

/// Arguments of `search_by_tag`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchByTagParams {
    /// E.g. `customer`.
    pub key: TagKey,
    /// Exact value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Project key or uuid (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
    /// `full`: whole tickets, not rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

fn tags_path(ticket: &TicketRef) -> ApiPath {
    ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str()).then("tags")
}

#[tool_router(router = tags_router, vis = "pub(crate)")]
impl Tools {
    /// Set key/value tags on a ticket (e.g. `env: prod`), merged in, or with `replace` replacing
    /// all. Project categories are labels.
    #[tool(
        title = "Set ticket tags",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn set_tags(
        &self,
        Parameters(p): Parameters<SetTagsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let path = tags_path(&p.ticket_id);
        let replace = p.replace.unwrap_or(false);
        if replace && let Some((key, _)) = p.tags.iter().find(|(_, v)| v.is_none()) {
            return Err(errors::invalid_params(
                &format!("tags.{key}"),
                "null values are not allowed with `replace: true` (keys left out are removed anyway); give a string, or merge without `replace` to remove a key",
            ));
        }
        let api = self.caller(&ctx).api;
        let body = json!({"tags": p.tags});
        let r = if replace {
            api.put(path, &body).await
        } else {
            api.patch(path, &body).await
        };
        Ok(errors::json_result(r))
    }

    /// A ticket's key/value tags (`get_ticket` has them too).
    #[tool(
        title = "Get ticket tags",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_tags(
        &self,
        Parameters(p): Parameters<GetTagsParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        self.get_json(&ctx, tags_path(&p.ticket_id), Query::new()).await
    }

    /// Remove one key/value tag from a ticket by its key.
    #[tool(
        title = "Remove a ticket tag",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_tag(
        &self,
        Parameters(p): Parameters<DeleteTagParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let path = tags_path(&p.ticket_id).seg(p.key.as_str());
        Ok(errors::json_result(self.caller(&ctx).api.delete(path).await))
    }

    /// Tickets with a tag key, or key and value (e.g. `customer: acme`). With other filters:
    /// `search_tickets`.
    #[tool(
        title = "Find tickets by tag",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn search_by_tag(
        &self,
        Parameters(p): Parameters<SearchByTagParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let query = Query::new()
            .set("tag_key", &p.key)
            .opt("tag_value", p.value.as_deref())
            .page(p.page.limit, p.page.cursor.as_ref());
        self.resolving(&ctx, async |caller, names| {
            let r = caller.api.get(ticket_list_path(p.project_id.as_ref()), &query).await;
            ticket_page(names, r, p.detail).await
        })
        .await
    }
}
