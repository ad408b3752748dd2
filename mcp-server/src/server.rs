//! [`AlloyServer`]: the rmcp `ServerHandler`.
//!
//! What it adds on top of rmcp (see `shared/notes/rmcp-3.9-and-mcp-spec.md` for why):
//!
//! - **Version negotiation**: `initialize` echoes every version rmcp supports that has a
//!   handshake (2024-11-05 … 2025-11-25); anything else gets 2025-11-25.
//! - **Down-levelling** by negotiated version, because rmcp sends every field to every client:
//!   tool `annotations` only from 2025-03-26 on; `title`, `outputSchema`, `icons` and `_meta`
//!   never (v1 defines none of them; the JSON lives in the text content, so there is no
//!   `structuredContent` either). Prompts and resources never carry `title` or `icons`.
//! - **Tool visibility**: read-only mode and `--toolsets` come from [`crate::tools::catalog`];
//!   a hidden tool is answered exactly like an unknown one (-32602), never reaching the API.
//! - **Argument validation** against each tool's input schema with `jsonschema` (formats
//!   `uuid`, `date`, `date-time`, `email` enforced) before the tool runs: -32602 naming the field.
//! - **Panic and deadline guard**: a panicking or hanging tool becomes an `isError` result.
//! - **Per-request caller**: [`AlloyServer::caller`] (HTTP mode puts a [`Caller`] into the
//!   request's `http::request::Parts` extensions; stdio uses the startup caller).
//! - `tools/list`, `prompts/list`, `resources/list` and `resources/templates/list` answer in
//!   one page; a cursor is -32602.

use crate::errors::{self, StartupError};
use crate::identity::Caller;
use crate::tools::{self, Catalog, Selection, Toolset};
use futures::FutureExt;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    PromptsCapability, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ResourcesCapability,
    ServerCapabilities, ServerConfig, Tool, ToolsCapability,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// The `instructions` of the `initialize` answer.
pub const INSTRUCTIONS: &str = "Alloy is a project tracker: an organization holds projects; a project holds tickets, \
sprints and labels. Wherever a ticket is asked for, its key works as well as its uuid (e.g. WEB-42); projects take their \
key (e.g. WEB). Dates are YYYY-MM-DD (UTC), timestamps RFC 3339; money is in integer cents. Only Approved time entries \
count in time and capitalization reports. Lists return {items, next_cursor, has_more}: pass next_cursor back as cursor \
for the next page. A failed call returns the API's status, code and message; 403 means the key's role or scopes do not \
allow the action. Start with whoami to learn the caller's org and role.";

/// The newest protocol version with an `initialize` handshake: the answer to unknown versions.
const FALLBACK_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// The MCP server. Cheap to clone: everything lives behind one `Arc`, so the HTTP transport can
/// hand every session a clone.
#[derive(Clone)]
pub struct AlloyServer {
    inner: Arc<Inner>,
}

struct Inner {
    startup: Caller,
    catalog: Catalog,
    validators: HashMap<String, jsonschema::Validator>,
    tool_deadline: Duration,
}

impl AlloyServer {
    /// A server acting as `startup` (stdio: the configured key and its verified identity) and
    /// serving the tools `selection` keeps. Fails only on our own bugs (an input schema that
    /// does not compile).
    pub fn new(startup: Caller, selection: &Selection) -> Result<AlloyServer, StartupError> {
        let catalog = tools::catalog(selection);
        let mut validators = HashMap::new();
        for (_, tool) in &catalog.listed {
            let schema = Value::Object(tool.input_schema.as_ref().clone());
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| StartupError::Internal(format!("input schema of {} does not compile: {e}", tool.name)))?;
            validators.insert(tool.name.to_string(), validator);
        }
        // A tool makes a few upstream calls, each bounded by the API timeout; this is the
        // backstop if one of them (or our own code) hangs anyway.
        let tool_deadline = startup.api.timeout() * 2 + Duration::from_secs(5);
        Ok(AlloyServer {
            inner: Arc::new(Inner {
                startup,
                catalog,
                validators,
                tool_deadline,
            }),
        })
    }

    /// The caller of this request: the [`Caller`] an HTTP authentication layer put into the
    /// request's `http::request::Parts` (or directly into the context), else the startup caller.
    pub fn caller(&self, ctx: &RequestContext<RoleServer>) -> Caller {
        ctx.extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .or_else(|| ctx.extensions.get::<Caller>())
            .cloned()
            .unwrap_or_else(|| self.inner.startup.clone())
    }

    /// The served tools in `tools/list` order, with their category, as defined (before
    /// down-levelling).
    pub fn served_tools(&self) -> &[(Toolset, Tool)] {
        &self.inner.catalog.listed
    }

    async fn dispatch(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if self.inner.catalog.router.get(&name).is_none() {
            tracing::info!(tool = %name, "call to an unknown or hidden tool refused");
            return Err(errors::unknown_tool(&name));
        }
        let args = Value::Object(request.arguments.clone().unwrap_or_default());
        if let Some(validator) = self.inner.validators.get(&name) {
            let problems: Vec<_> = validator.iter_errors(&args).collect();
            if !problems.is_empty() {
                let err = errors::schema_violation(problems);
                tracing::info!(tool = %name, error = %err.message, "tool arguments refused");
                return Err(err);
            }
        }
        tracing::info!(tool = %name, "tool call");
        let started = std::time::Instant::now();
        let call = self.inner.catalog.router.call(ToolCallContext::new(self, request, ctx));
        let mut outcome = guard(&name, self.inner.tool_deadline, call).await;
        tracing::debug!(tool = %name, elapsed_ms = started.elapsed().as_millis() as u64, "tool done");
        // v1 defines no structured output: the JSON lives in the text content only.
        if let Ok(CallToolResponse::Complete(result)) = &mut outcome {
            result.structured_content = None;
            result.meta = None;
        }
        outcome
    }
}

/// Runs a tool future so that it always answers: a panic becomes an `isError` result
/// ([`errors::panic_result`]), and so does overrunning `deadline`.
pub async fn guard<F>(tool: &str, deadline: Duration, call: F) -> Result<CallToolResponse, ErrorData>
where
    F: Future<Output = Result<CallToolResponse, ErrorData>>,
{
    match tokio::time::timeout(deadline, AssertUnwindSafe(call).catch_unwind()).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => Ok(errors::panic_result(tool, panic.as_ref()).into()),
        Err(_) => Ok(errors::deadline_result(tool, deadline).into()),
    }
}

/// Whether `version` (the negotiated one; `None` = not negotiated yet, treated as the newest)
/// is at least `min`. Versions are dates and compare as strings.
fn at_least(version: Option<&ProtocolVersion>, min: &ProtocolVersion) -> bool {
    version.is_none_or(|v| v.as_str() >= min.as_str())
}

/// A tool as a client of `version` may see it (module docs: "Down-levelling").
pub fn downlevel_tool(tool: &Tool, version: Option<&ProtocolVersion>) -> Tool {
    let mut t = tool.clone();
    t.title = None;
    t.output_schema = None;
    t.icons = None;
    t.meta = None;
    if at_least(version, &ProtocolVersion::V_2025_03_26) {
        if let Some(a) = t.annotations.as_mut() {
            a.title = None;
        }
    } else {
        t.annotations = None;
    }
    t
}

fn reject_cursor(request: Option<&PaginatedRequestParams>) -> Result<(), ErrorData> {
    match request.and_then(|r| r.cursor.as_ref()) {
        Some(_) => Err(errors::invalid_cursor()),
        None => Ok(()),
    }
}

impl ServerHandler for AlloyServer {
    fn get_info(&self) -> ServerConfig {
        let mut tools = ToolsCapability::default();
        tools.list_changed = Some(false);
        let mut prompts = PromptsCapability::default();
        prompts.list_changed = Some(false);
        let mut resources = ResourcesCapability::default();
        resources.subscribe = Some(false);
        resources.list_changed = Some(false);
        let mut caps = ServerCapabilities::default();
        caps.tools = Some(tools);
        caps.prompts = Some(prompts);
        caps.resources = Some(resources);
        ServerConfig::new(caps)
            .with_protocol_version(FALLBACK_VERSION)
            .with_server_info(Implementation::new(crate::SERVER_NAME, crate::SERVER_VERSION))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let version = ctx.protocol_version();
        let tools = self
            .inner
            .catalog
            .listed
            .iter()
            .map(|(_, t)| downlevel_tool(t, version.as_ref()))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.catalog.router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.dispatch(request, ctx).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let prompts = crate::prompts::list_prompts()
            .into_iter()
            .map(|mut p| {
                p.title = None;
                p.icons = None;
                p.meta = None;
                if let Some(args) = p.arguments.as_mut() {
                    for a in args.iter_mut() {
                        a.title = None;
                    }
                }
                p
            })
            .collect();
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        crate::prompts::get_prompt(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let caller = self.caller(&ctx);
        Ok(ListResourcesResult::with_all_items(
            crate::resources::list(&caller).await,
        ))
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        Ok(ListResourceTemplatesResult::with_all_items(
            crate::resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&ctx);
        crate::resources::read(&caller, &request.uri).await.map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{CallToolResult, ContentBlock};

    #[tokio::test]
    async fn a_panicking_tool_becomes_an_error_result() {
        let call = async {
            if tools::Toolset::ALL.len() > 1 {
                panic!("tool bug");
            }
            Ok(CallToolResult::success(vec![ContentBlock::text("unreachable")]).into())
        };
        let outcome = guard("broken_tool", Duration::from_secs(5), call)
            .await
            .expect("a result, not an error");
        let CallToolResponse::Complete(result) = outcome else {
            panic!("expected a complete result");
        };
        assert_eq!(result.is_error, Some(true));
        let text = &result.content[0].as_text().expect("text").text;
        assert!(text.contains("\"code\":\"internal\""), "{text}");
        assert!(text.contains("tool bug"), "{text}");
    }

    #[tokio::test]
    async fn a_hanging_tool_becomes_an_error_result_at_its_deadline() {
        let call = async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(CallToolResult::success(vec![]).into())
        };
        let outcome = guard("slow_tool", Duration::from_millis(50), call)
            .await
            .expect("a result");
        let CallToolResponse::Complete(result) = outcome else {
            panic!("expected a complete result");
        };
        assert_eq!(result.is_error, Some(true));
    }

    #[test]
    fn old_clients_get_no_annotations_and_nobody_gets_titles() {
        let (_, tool) = tools::all_tools()
            .into_iter()
            .find(|(_, t)| t.name == "get_ticket")
            .expect("get_ticket exists");
        let mut tool = tool;
        tool.title = Some("Get ticket".into());
        let old = downlevel_tool(&tool, Some(&ProtocolVersion::V_2024_11_05));
        assert!(old.annotations.is_none() && old.title.is_none());
        let new = downlevel_tool(&tool, Some(&ProtocolVersion::V_2025_06_18));
        assert!(new.annotations.is_some() && new.title.is_none());
    }
}
