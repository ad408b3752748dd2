//! [`AlloyServer`]: the rmcp `ServerHandler`.
//!
//! What it adds on top of rmcp (see `shared/notes/rmcp-3.9-and-mcp-spec.md` for why):
//!
//! - **Version negotiation**: `initialize` echoes every version rmcp supports that has a
//!   handshake (2024-11-05 … 2025-11-25); anything else gets 2025-11-25.
//! - **Down-levelling** by negotiated version, because rmcp sends every field to every client:
//!   tool `annotations` only from 2025-03-26 on, tool `title` from 2025-06-18 on (the revision
//!   that defines it); `outputSchema`, `icons` and `_meta` never (the JSON lives in the text
//!   content, so there is no `structuredContent` either; `lib.rs` says why). Prompts and
//!   resources never carry `title` or `icons`.
//! - **Tool visibility**: read-only mode and `--toolsets` come from [`crate::surface::tools::catalog`];
//!   a hidden tool is answered exactly like an unknown one (-32602), never reaching the API.
//! - **Argument validation** against each tool's full input schema (the catalog's validation
//!   form; `tools/list` publishes a shorter one) with `jsonschema` (formats `uuid`, `date`,
//!   `date-time`, `email` enforced) before the tool runs: -32602 naming the field. A tool's
//!   validator is compiled on its first call, not at start-up: compiling all 71 took most of the
//!   cold start (12–20 ms), and a session calls a few tools (issue 13). That every schema
//!   compiles is a unit test.
//! - **Panic and deadline guard**: a panicking or hanging tool becomes an `isError` result.
//! - **Per-request caller**: [`AlloyServer::caller`] (HTTP mode puts a [`Caller`] into the
//!   request's `http::request::Parts` extensions; stdio uses the startup caller).
//! - `tools/list`, `prompts/list`, `resources/list` and `resources/templates/list` answer in
//!   one page; a cursor is -32602.

use crate::surface::errors;
use crate::surface::tools::{self, Catalog, Selection, Tools, Toolset};
use crate::upstream::identity::Caller;
use futures::FutureExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    PromptsCapability, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ResourcesCapability,
    ServerCapabilities, ServerConfig, SubscriptionFilter, Tool, ToolsCapability,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `instructions` of the `initialize` answer.
pub const INSTRUCTIONS: &str = "Alloy is a project tracker: an organization holds projects; a project holds tickets, \
sprints and labels. Wherever a ticket is asked for, its key works as well as its uuid (e.g. WEB-42); projects take their \
key (e.g. WEB). Dates are YYYY-MM-DD (UTC), timestamps RFC 3339; money is in integer cents. Only Approved time entries \
count in time and capitalization reports. Lists return {items, next_cursor, has_more}: pass next_cursor back as cursor \
for the next page; ticket and time-entry lists give each item as a row of `columns` unless detail is \"full\". People are \
`me`, an email or a uuid; labels (within their project) and sprints also take their name, sprints `active` or `last` \
too. A failed call returns the API's status, code and message; 403 means the key's role or scopes do not allow the \
action. Start with whoami to learn the caller's org and role.";

/// How long (ms) a stateless client may treat the lists fixed for the server's life (tools,
/// prompts, resource templates) as fresh. Lists of data (`resources/list`) and reads are
/// fresh for 0 ms. Every result is `cacheScope: private`: what a caller sees depends on its
/// key (and the tool list on the server's flags), so no shared cache may keep it.
const FIXED_LIST_TTL_MS: u64 = 300_000;

/// Whether `version` is the stateless revision (2026-07-28) or later.
fn is_stateless(version: Option<&ProtocolVersion>) -> bool {
    version.is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// The newest protocol version with an `initialize` handshake: the answer to unknown versions.
const FALLBACK_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// A tool's input schema does not compile (our bug; a unit test compiles every schema).
#[derive(Debug, thiserror::Error)]
#[error("internal error: the input schema of {tool} does not compile: {reason}")]
pub struct SchemaError {
    /// The tool.
    pub tool: String,
    /// The validator's complaint.
    pub reason: String,
}

/// The MCP server. Cheap to clone: everything lives behind one `Arc`, so the HTTP transport can
/// hand every session a clone.
#[derive(Clone)]
pub struct AlloyServer {
    inner: Arc<Inner>,
}

struct Inner {
    tools: Tools,
    catalog: ToolCatalog,
    tool_deadline: Duration,
}

impl AlloyServer {
    /// A server acting as `startup` (stdio: the configured key and its verified identity) and
    /// serving the tools `selection` keeps (its catalog built on a thread of its own, see
    /// [`ToolCatalog`]; validators are compiled on each tool's first call).
    pub fn new(startup: Caller, selection: &Selection) -> AlloyServer {
        AlloyServer::with_catalog(startup, ToolCatalog::start(selection))
    }

    /// A server acting as `startup` and serving `catalog`, whose build may still be under way.
    pub fn with_catalog(startup: Caller, catalog: ToolCatalog) -> AlloyServer {
        let tool_deadline = startup.api.deadlines().tool;
        AlloyServer {
            inner: Arc::new(Inner {
                tools: Tools::new(startup),
                catalog,
                tool_deadline,
            }),
        }
    }

    /// The caller of this request (see [`Tools::caller`]).
    pub fn caller(&self, ctx: &RequestContext<RoleServer>) -> Caller {
        self.inner.tools.caller(ctx)
    }

    /// The served tools in `tools/list` order, with their category, as defined (before
    /// down-levelling). Waits for the catalog's build ([`ToolCatalog`]).
    pub fn served_tools(&self) -> &[(Toolset, Tool)] {
        self.inner.catalog.listed()
    }

    async fn dispatch(
        &self,
        mut request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let served = self.inner.catalog.get();
        if served.router.get(&name).is_none() {
            tracing::info!(tool = %name, "call to an unknown or hidden tool refused");
            return Err(errors::unknown_tool(&name));
        }
        let revision = ctx.protocol_version();
        // Validated in place (lent out of the request and put back), never copied.
        let mut args = Value::Object(request.arguments.take().unwrap_or_default());
        if let Some(validation) = served.validators.get(&name) {
            let validator = validation.validator(&name).map_err(|e| {
                tracing::error!(error = %e, "a tool's input schema does not compile");
                ErrorData::internal_error(e.to_string(), None)
            })?;
            let schema = &validation.schema;
            let problems: Vec<_> = validator.iter_errors(&args).collect();
            if !problems.is_empty() {
                let err = errors::schema_violation(problems);
                tracing::info!(tool = %name, error = %err.message, "tool arguments refused");
                return errors::argument_error(err, revision.as_ref().map(ProtocolVersion::as_str));
            }
            whole_numbers_as_integers(&mut args, schema);
        }
        if let Value::Object(map) = args {
            request.arguments = Some(map);
        }
        // Per call at `debug`, not `info`: a log line per call cost about 20 µs (issue 13).
        tracing::debug!(tool = %name, "tool call");
        let started = std::time::Instant::now();
        let call = served
            .router
            .call(ToolCallContext::new(&self.inner.tools, request, ctx));
        let mut outcome = guard(&name, self.inner.tool_deadline, call).await;
        tracing::debug!(tool = %name, elapsed_ms = started.elapsed().as_millis() as u64, "tool done");
        // An argument the tool itself found wrong (a rule beyond the schema) follows the same
        // revision rule as a schema violation.
        if let Err(e) = outcome {
            outcome = if e.code == rmcp::model::ErrorCode::INVALID_PARAMS {
                errors::argument_error(e, revision.as_ref().map(ProtocolVersion::as_str))
            } else {
                Err(e)
            };
        }
        // v1 defines no structured output: the JSON lives in the text content only.
        if let Ok(CallToolResponse::Complete(result)) = &mut outcome {
            result.structured_content = None;
            result.meta = None;
        }
        outcome
    }
}

/// The served tools, built on a thread of their own from the moment [`ToolCatalog::start`] is
/// called: generating, publishing and stripping 71 input schemas took 5–8 ms of a 13 ms cold
/// start (issue 13), and nothing before the first tool request needs them (`initialize`
/// answers with capabilities only). `alloy-mcp` starts the build before it checks its key, so
/// the build overlaps that round trip and the handshake; the first request that needs the
/// tools waits for what is left of it. Without a thread to be had, the catalog is built in
/// place.
pub struct ToolCatalog {
    served: OnceLock<Served>,
    builder: Mutex<Option<JoinHandle<Served>>>,
}

/// What the catalog becomes in the server: the tools to route and to list, and a validator
/// per tool.
struct Served {
    router: ToolRouter<Tools>,
    listed: Vec<(Toolset, Tool)>,
    /// Per tool: the validation schema, and its validator once the tool was first called.
    validators: HashMap<String, Validation>,
    /// How long the build took.
    build_time: Duration,
}

impl ToolCatalog {
    /// Starts building the catalog of the tools `selection` keeps.
    pub fn start(selection: &Selection) -> ToolCatalog {
        let wanted = selection.clone();
        let spawned = std::thread::Builder::new()
            .name("alloy-mcp-catalog".into())
            .spawn(move || Served::build(&wanted));
        match spawned {
            Ok(builder) => ToolCatalog {
                served: OnceLock::new(),
                builder: Mutex::new(Some(builder)),
            },
            Err(_) => ToolCatalog {
                served: OnceLock::from(Served::build(selection)),
                builder: Mutex::new(None),
            },
        }
    }

    /// The served tools in `tools/list` order, with their category, as defined (before
    /// down-levelling). Waits for the build, like every use of the catalog.
    pub fn listed(&self) -> &[(Toolset, Tool)] {
        &self.get().listed
    }

    /// The built catalog. The first caller blocks its thread until the builder is done (once,
    /// for at most the rest of the build; the others wait for the first). A panic of the
    /// build (our bug) is raised again here.
    fn get(&self) -> &Served {
        self.served.get_or_init(|| {
            let builder = self.builder.lock().unwrap_or_else(PoisonError::into_inner).take();
            match builder.map(JoinHandle::join) {
                Some(Ok(served)) => {
                    // Logged here, once serving, not by the builder: a start-up that fails
                    // says so in one line on stderr and nothing else.
                    tracing::info!(
                        tools = served.listed.len(),
                        build_us = served.build_time.as_micros() as u64,
                        "tool catalog ready"
                    );
                    served
                }
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => panic!("the tool catalog failed to build (see the first panic)"),
            }
        })
    }
}

impl Served {
    fn build(selection: &Selection) -> Served {
        let started = Instant::now();
        let Catalog {
            router,
            listed,
            validation,
        } = tools::catalog(selection);
        let validators = validation
            .into_iter()
            .map(|(name, schema)| (name, Validation::of(schema)))
            .collect();
        Served {
            router,
            listed,
            validators,
            build_time: started.elapsed(),
        }
    }
}

/// A tool's validation schema and its validator, compiled once, on the tool's first call.
struct Validation {
    schema: Value,
    compiled: OnceLock<Result<jsonschema::Validator, String>>,
}

impl Validation {
    /// `schema` is the tool's validation schema (the catalog's, not the published one).
    fn of(mut schema: Value) -> Validation {
        bound_integer_formats(&mut schema);
        Validation {
            schema,
            compiled: OnceLock::new(),
        }
    }

    /// The validator of `tool`, compiled now if this is its first call.
    fn validator(&self, tool: &str) -> Result<&jsonschema::Validator, SchemaError> {
        self.compiled
            .get_or_init(|| {
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&self.schema)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| SchemaError {
                tool: tool.to_string(),
                reason: reason.clone(),
            })
    }
}

/// The validation schema of a tool states the ranges schemars only names as a `format`
/// (`uint32`, `int64`, ...), so an out-of-range number is refused naming its field instead of
/// failing to deserialize. The published schema is left as it is.
fn bound_integer_formats(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            let bounds: Option<(f64, f64)> = match m.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((0.0, f64::from(u8::MAX))),
                Some("uint16") => Some((0.0, f64::from(u16::MAX))),
                Some("uint32" | "uint") => Some((0.0, f64::from(u32::MAX))),
                Some("uint64") => Some((0.0, u64::MAX as f64)),
                Some("int32" | "int") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
                Some("int64") => Some((i64::MIN as f64, i64::MAX as f64)),
                _ => None,
            };
            if let Some((low, high)) = bounds {
                m.entry("minimum").or_insert(serde_json::json!(low));
                m.entry("maximum").or_insert(serde_json::json!(high));
            }
            m.values_mut().for_each(bound_integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integer_formats),
        _ => {}
    }
}

/// JSON Schema counts `1.0` as an integer; serde does not. Where the schema asks for an
/// integer, a whole number written as a float becomes that integer before the arguments are
/// deserialized; everything else (free-form objects such as an import bundle) is untouched.
fn whole_numbers_as_integers(value: &mut Value, schema: &Value) {
    match value {
        Value::Number(n) if n.is_f64() && allows_integer(schema) => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                if f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    *value = Value::from(f as i64);
                } else if f >= 0.0 && f < u64::MAX as f64 {
                    *value = Value::from(f as u64);
                }
            }
        }
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if let Some(s) = schema.get("properties").and_then(|p| p.get(k)) {
                    whole_numbers_as_integers(v, s);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                items.iter_mut().for_each(|v| whole_numbers_as_integers(v, s));
            }
        }
        _ => {}
    }
}

/// Whether `schema` admits an integer (`type` `integer`, alone, in a list, or in an `anyOf`).
fn allows_integer(schema: &Value) -> bool {
    let typed = match schema.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    typed
        || ["anyOf", "oneOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.iter().any(allows_integer))
        })
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
    if !at_least(version, &ProtocolVersion::V_2025_06_18) {
        t.title = None;
    }
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
            .get()
            .listed
            .iter()
            .map(|(_, t)| downlevel_tool(t, version.as_ref()))
            .collect();
        let mut result = ListToolsResult::with_all_items(tools);
        if is_stateless(version.as_ref()) {
            result = result
                .with_ttl_ms(FIXED_LIST_TTL_MS)
                .with_cache_scope(CacheScope::Private);
        }
        Ok(result)
    }

    /// `subscriptions/listen` (2026-07-28): acknowledged with nothing accepted, because no
    /// list or resource of this server changes while it runs (the capabilities say
    /// `listChanged: false`, `subscribe: false`); the stream stays open until the client
    /// cancels it or the session ends, and never carries a notification.
    fn accepted_subscription_filter(&self, _requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        Some(SubscriptionFilter::new())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.catalog.get().router.get(name).cloned()
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
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let prompts = crate::surface::prompts::list_prompts()
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
        let mut result = ListPromptsResult::with_all_items(prompts);
        if is_stateless(ctx.protocol_version().as_ref()) {
            result = result
                .with_ttl_ms(FIXED_LIST_TTL_MS)
                .with_cache_scope(CacheScope::Private);
        }
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        crate::surface::prompts::get_prompt(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let caller = self.caller(&ctx);
        Ok(ListResourcesResult::with_all_items(
            crate::surface::resources::list(&caller).await,
        ))
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        reject_cursor(request.as_ref())?;
        let mut result = ListResourceTemplatesResult::with_all_items(crate::surface::resources::templates());
        if is_stateless(ctx.protocol_version().as_ref()) {
            result = result
                .with_ttl_ms(FIXED_LIST_TTL_MS)
                .with_cache_scope(CacheScope::Private);
        }
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&ctx);
        crate::surface::resources::read(&caller, &request.uri)
            .await
            .map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{CallToolResult, ContentBlock};

    #[tokio::test]
    async fn a_panicking_tool_becomes_an_error_result() {
        let call = async {
            if tools::Toolset::all().len() > 1 {
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
    fn whole_floats_become_integers_and_integer_formats_get_their_ranges() {
        let schema = serde_json::json!({"properties": {
            "a": {"type": "integer"}, "b": {"type": "array", "items": {"type": ["integer", "null"]}},
            "c": {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "d": {"type": "integer"},
            "free": {"type": "object"}, "f": {"type": "number"}}});
        let mut v = serde_json::json!({"a": 1.0, "b": [2.0, 2.5], "c": -3.0, "d": 1e300, "free": {"x": 1.0}, "f": 4.0});
        whole_numbers_as_integers(&mut v, &schema);
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": [2, 2.5], "c": -3, "d": 1e300, "free": {"x": 1.0}, "f": 4.0})
        );
        let mut schema =
            serde_json::json!({"properties": {"n": {"type": "integer", "format": "uint32", "minimum": 0}}});
        bound_integer_formats(&mut schema);
        assert_eq!(schema["properties"]["n"]["maximum"], serde_json::json!(4294967295.0));
        assert_eq!(schema["properties"]["n"]["minimum"], serde_json::json!(0));
    }

    #[test]
    fn every_tools_input_schema_compiles() {
        for (name, schema) in tools::catalog(&Selection::default()).validation {
            if let Err(e) = Validation::of(schema).validator(&name) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn old_clients_get_no_annotations_and_titles_start_at_2025_06_18() {
        let (_, tool) = tools::all_tools()
            .into_iter()
            .find(|(_, t)| t.name == "get_ticket")
            .expect("get_ticket exists");
        assert_eq!(tool.title.as_deref(), Some("Get ticket"));
        let old = downlevel_tool(&tool, Some(&ProtocolVersion::V_2024_11_05));
        assert!(old.annotations.is_none() && old.title.is_none());
        let march = downlevel_tool(&tool, Some(&ProtocolVersion::V_2025_03_26));
        assert!(march.annotations.is_some() && march.title.is_none());
        let new = downlevel_tool(&tool, Some(&ProtocolVersion::V_2025_06_18));
        assert!(new.annotations.is_some() && new.title.as_deref() == Some("Get ticket"));
        assert!(new.output_schema.is_none());
    }
}
