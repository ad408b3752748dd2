//! Tag Management (toolset `tags`, contract §5.3 #24–#27): `set_tags`, `get_tags`,
//! `delete_tag`, `search_by_tag`. Tags are free-form key/value strings on a ticket (keys
//! `^[a-z0-9][a-z0-9_.:-]{0,63}$`, values up to 256 characters, at most 50 per ticket); the API
//! checks the syntax. `set_tags` merges (PATCH, `null` removes a key) or, with `replace`,
//! replaces the whole set (PUT, where `null` values make no sense and are refused here).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::shared::{Cursor, Limit, ProjectRef, TagKey, TicketRef};
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
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// Tags to set, e.g. `{"env": "prod", "customer": "acme"}`; keys match `^[a-z0-9][a-z0-9_.:-]{0,63}$`, values are strings up to 256 characters; without `replace`, a `null` value removes that key.
    pub tags: BTreeMap<String, Option<String>>,
    /// `true` replaces the ticket's whole tag set with `tags` (keys not listed are removed; `null` values are refused); `false` (default) merges `tags` into the existing ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
}

/// Arguments of `get_tags`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTagsParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
}

/// Arguments of `delete_tag`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteTagParams {
    /// Ticket uuid or key, e.g. `WEB-42`.
    pub ticket_id: TicketRef,
    /// Tag key to remove, e.g. `env`; a key the ticket does not have changes nothing.
    pub key: TagKey,
}

/// Arguments of `search_by_tag`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchByTagParams {
    /// Tag key the tickets must have, e.g. `customer`.
    pub key: TagKey,
    /// Exact tag value to match (case-sensitive); omit to match any value of `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Limit to one project: project uuid or key, e.g. `WEB` (default: the whole org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page, to fetch the next one (with the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

fn tags_path(ticket: &TicketRef) -> ApiPath {
    ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str()).then("tags")
}

#[tool_router(router = tags_router, vis = "pub(crate)")]
impl Tools {
    /// Set key/value tags on a ticket (e.g. `env: prod`, `customer: acme`). By default the
    /// given tags are merged in: a string adds or overwrites that key, `null` removes it, other
    /// keys stay. With `replace: true` the ticket's tags become exactly `tags` (every other key
    /// is removed). Use `delete_tag` to drop one key, labels (`add_ticket_label`) for
    /// project-defined categories. Returns the TicketTags `{ticket_id, tags}`.
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
        if p.replace.unwrap_or(false) {
            if let Some((key, _)) = p.tags.iter().find(|(_, v)| v.is_none()) {
                return Err(errors::invalid_params(
                    &format!("tags.{key}"),
                    "null values are not allowed with `replace: true` (keys left out are removed anyway); give a string, or merge without `replace` to remove a key",
                ));
            }
            let caller = self.caller(&ctx);
            let body = json!({"tags": p.tags});
            Ok(errors::json_result(caller.api.put(path, &body).await))
        } else {
            let caller = self.caller(&ctx);
            let body = json!({"tags": p.tags});
            Ok(errors::json_result(caller.api.patch(path, &body).await))
        }
    }

    /// Get the key/value tags of one ticket. (`get_ticket` returns them too, with everything
    /// else.) Returns the TicketTags `{ticket_id, tags}`.
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
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(tags_path(&p.ticket_id), &Query::new()).await,
        ))
    }

    /// Remove one tag key from a ticket; a key the ticket does not have changes nothing. Use
    /// `set_tags` to change several at once. Returns the TicketTags `{ticket_id, tags}` left.
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
        let caller = self.caller(&ctx);
        let path = tags_path(&p.ticket_id).seg(p.key.as_str());
        Ok(errors::json_result(caller.api.delete(path).await))
    }

    /// Find the tickets that carry a tag key, optionally with an exact value (e.g. every
    /// ticket with `customer: acme`), in the whole org or one project. For other filters
    /// combined with tags use `search_tickets`. Returns one page
    /// `{items: [Ticket], next_cursor, has_more}`; pass `next_cursor` back as `cursor` for more.
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
        let caller = self.caller(&ctx);
        let query = Query::new()
            .set("tag_key", &p.key)
            .opt("tag_value", p.value.as_deref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        let path = match &p.project_id {
            Some(project) => ApiPath::fixed("/api/v1/projects").seg(project.as_str()).then("tickets"),
            None => ApiPath::fixed("/api/v1/tickets"),
        };
        Ok(errors::json_result(caller.api.get(path, &query).await))
    }
}
