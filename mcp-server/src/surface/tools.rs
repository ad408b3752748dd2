//! The tools, one file per category (the `--toolsets` ids), joined here.
//!
//! # How to add a tool
//!
//! 1. **Pick the file.** The tool's category (contract §5.3) is the file:
//!    `src/tools/<toolset id>.rs`. Nothing else needs editing: there is no list of tools
//!    beside the routers, and read-only mode and `--toolsets` derive from the annotations and
//!    from the file the tool lives in.
//! 2. **Write the params struct** next to the tool, named `<Tool>Params` (`CreateTicketParams`):
//!
//!    ```text
//!    /// Arguments of `get_label`.
//!    #[derive(Debug, Deserialize, Serialize, JsonSchema)]
//!    #[serde(deny_unknown_fields)]
//!    pub struct GetLabelParams {
//!        /// Label uuid.
//!        pub label_id: Id,
//!    }
//!    ```
//!
//!    - `#[serde(deny_unknown_fields)]` (it becomes `additionalProperties: false`).
//!    - A `///` sentence on every field: it is the description the model reads. State units
//!      and defaults in it ("Page size, 1–200 (default 50).").
//!    - Field types carry the format: [`shared::TicketRef`] (uuid or `WEB-42`),
//!      [`shared::ProjectRef`], [`shared::Id`] (uuid), [`shared::Date`], [`shared::DateTime`],
//!      [`shared::Email`], [`shared::Limit`], [`shared::Cursor`], the enums in [`shared`]
//!      (never a plain `String` for an enum). Bounds via `#[schemars(length(min = 1, max =
//!      100))]` / `#[schemars(range(min = 0, max = 100))]`.
//!    - Required = not `Option`. Optional = `Option<T>` with
//!      `#[serde(default, skip_serializing_if = "Option::is_none")]` (`null` means "not given").
//!      A nullable PATCH field (`null` clears it) = [`shared::Patch<T>`] with
//!      `#[serde(default, skip_serializing_if = "Patch::is_absent")]`.
//!    - A tool without arguments takes no `Parameters` at all.
//! 3. **Write the tool** in the file's single `#[tool_router(router = <id>_router, vis =
//!    "pub(crate)")] impl Tools` block. The function name is the tool name (`verb_noun`);
//!    its `///` doc is the description: say what it does, when to use it (and when another
//!    tool fits better), and what it returns. Annotations are always explicit, all four hints:
//!
//!    ```text
//!    /// Get one label by id. Use `list_labels` to find label ids of a project. Returns the Label.
//!    #[tool(annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false))]
//!    async fn get_label(
//!        &self,
//!        Parameters(p): Parameters<GetLabelParams>,
//!        ctx: RequestContext<RoleServer>,
//!    ) -> Result<CallToolResult, ErrorData> {
//!        self.get_json(&ctx, ApiPath::fixed("/api/v1/labels").seg(p.label_id.as_str()), Query::new()).await
//!    }
//!    ```
//!
//!    `read_only_hint = true` exactly for tools that only read: read-only mode keeps those and
//!    nothing else. `destructive_hint` for deletes, detaches, wholesale replacement and
//!    irreversible business changes; `idempotent_hint` per §5.3; `open_world_hint = false`.
//! 4. **Call the API** with the steps most tools are made of (`tools/shared/calls.rs`):
//!    `self.get_json`, `post_json`, `post_params`, `patch_params`, `delete_item` (one call as
//!    the caller, its answer mapped by the errors module), `org_path` (a path under the
//!    caller's org) and `resolving` (for tools that look up names first, [`names`]). A list
//!    tool flattens [`shared::Page`] into its params and sends
//!    `Query::new().page(p.page.limit, p.page.cursor.as_ref())`.
//!    Otherwise go through `self.caller(&ctx)`: it is the caller of this request (stdio:
//!    the startup key; HTTP: the request's key) with its [`crate::upstream::identity::Identity`] (use
//!    `caller.identity.org_id` / `user_id` for defaults). Use the generic client only:
//!    `api.get(path, &Query)` (retried), `api.get_text` (CSV), `api.post(path, Some(&body))`,
//!    `api.put`, `api.patch`, `api.delete`. Paths are [`crate::upstream::api::ApiPath`]s: fixed words from the code
//!    plus `.seg(value)` for every value taken from the arguments (encoded; `.`/`..` refused),
//!    never a formatted string. Bodies: [`body`]`(&params)` serializes the params; mark the
//!    fields that go into the path `#[serde(skip_serializing)]` (absent fields are skipped,
//!    [`shared::Patch::Null`] becomes `null`).
//! 5. **Map the outcome through [`crate::surface::errors`]**, never by hand: `errors::json_result(r)`
//!    (the API's JSON), `errors::deleted_result(r, "label_id", value)` for 204 deletes,
//!    `errors::text_result(r)` for CSV, `errors::json_value(r)` when a tool combines calls.
//!    Rules the schema cannot express ("at least one of", "exactly one of") are checked first
//!    with `errors::require_at_least_one` / `errors::require_exactly_one` and returned as
//!    `Err(..)` (JSON-RPC -32602); everything the API says becomes an `isError` result.
//!    Never pre-check permissions: the API decides.
//!
//! 6. **Test it** in `tests/it/<toolset id>.rs` (add the module to `tests/it/main.rs`):
//!    `let mut s = spawn_stack().await;` starts the mock API and the real binary;
//!    `s.call_ok(name, args)` (success, returns the parsed JSON), `call_err_status` /
//!    `call_err_reason` / `call_not_found` (`isError` results), `call_invalid_field` (-32602
//!    naming the field); `s.api.mock.fault(..)` injects upstream faults and
//!    `s.api.last_call(method, path)` shows what reached the API. One success and one failure per
//!    tool at least. Then add its conformance scenarios (`fixtures/scenarios/<toolset>/`) and
//!    accept the new schema snapshot in `fixtures/expected/schemas/`
//!    (`cargo build -p alloy-mcp && INSTA_UPDATE=always cargo test -p alloy-conformance --test
//!    alloy_mcp tools_list`) after reading it, and regenerate `docs/tools.md`
//!    (`UPDATE_DOCS=1 cargo test -p alloy-mcp --test it docs`).
//!
//! Before a tool runs, the server has already checked that the tool is visible, validated the
//! arguments against the input schema (formats included) and wrapped the call in a panic
//! guard and a deadline, so the body only does steps 4–5.
//!
//! Order: `tools/list` lists categories in [`Toolset`] order, tools by name within a
//! category.

use crate::surface::errors;
use crate::upstream::identity::Caller;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::Tool;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

pub mod access;
pub mod activity;
pub mod comments;
pub mod compact;
pub mod connectivity;
pub mod data;
pub mod finance;
pub mod labels;
pub mod names;
pub mod projects;
pub mod shared;
pub mod sprints;
pub mod summary;
pub mod tags;
pub mod teams;
pub mod tickets;
pub mod time;
pub mod workflows;

/// What every tool runs on: the receiver of the `#[tool_router]` impl blocks, one per toolset
/// file. It knows only the caller to fall back on; the protocol handler
/// ([`crate::surface::server::AlloyServer`]) holds it and dispatches to it, so the tools do
/// not depend on the handler.
#[derive(Clone, Debug)]
pub struct Tools {
    startup: Caller,
}

impl Tools {
    /// Tools acting as `startup` when a request brings no caller of its own (stdio).
    pub fn new(startup: Caller) -> Tools {
        Tools { startup }
    }

    /// The caller of this request: the [`Caller`] an HTTP authentication layer put into the
    /// request's `http::request::Parts` (or directly into the context), else the startup caller.
    pub fn caller(&self, ctx: &RequestContext<RoleServer>) -> Caller {
        ctx.extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .or_else(|| ctx.extensions.get::<Caller>())
            .cloned()
            .unwrap_or_else(|| self.startup.clone())
    }
}

/// A tool category: one file under `src/surface/tools/`, one `--toolsets` id. This enum is the
/// one list of toolsets: the ids are the variants in lower case (clap's `ValueEnum`), their
/// order is the `tools/list` order (contract §5.3), and `--help`, the error for an unknown id
/// and the README's list (checked by a test) all come from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Toolset {
    /// `ping`, `whoami` (always served).
    Connectivity,
    /// Tickets.
    Tickets,
    /// Comments.
    Comments,
    /// Label Management.
    Labels,
    /// Tag Management.
    Tags,
    /// Project Management.
    Projects,
    /// Sprint Lifecycle.
    Sprints,
    /// Team Management.
    Teams,
    /// Workflow Management.
    Workflows,
    /// Projects & Sprints (the project summary).
    Summary,
    /// Organization & Access.
    Access,
    /// Activity.
    Activity,
    /// Time Tracking.
    Time,
    /// Finance & Reporting.
    Finance,
    /// Data Export & Import.
    Data,
}

impl Toolset {
    /// Every toolset, in `tools/list` order.
    pub fn all() -> &'static [Toolset] {
        <Toolset as clap::ValueEnum>::value_variants()
    }

    /// The `--toolsets` id (= the file name).
    pub fn id(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// The router of this category's file. The only place that names the routers.
    fn router(self) -> ToolRouter<Tools> {
        match self {
            Toolset::Connectivity => Tools::connectivity_router(),
            Toolset::Tickets => Tools::tickets_router(),
            Toolset::Comments => Tools::comments_router(),
            Toolset::Labels => Tools::labels_router(),
            Toolset::Tags => Tools::tags_router(),
            Toolset::Projects => Tools::projects_router(),
            Toolset::Sprints => Tools::sprints_router(),
            Toolset::Teams => Tools::teams_router(),
            Toolset::Workflows => Tools::workflows_router(),
            Toolset::Summary => Tools::summary_router(),
            Toolset::Access => Tools::access_router(),
            Toolset::Activity => Tools::activity_router(),
            Toolset::Time => Tools::time_router(),
            Toolset::Finance => Tools::finance_router(),
            Toolset::Data => Tools::data_router(),
        }
    }
}

/// Whether a tool only reads (its `readOnlyHint` is true). Read-only mode keeps exactly these.
pub fn is_read_only(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}

/// What calling a tool does, as its annotations say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolKind {
    /// `readOnlyHint: true`.
    Read,
    /// Changes data, `destructiveHint: false`.
    Write,
    /// `destructiveHint: true`: removes or overwrites data, or cannot be undone.
    Destructive,
}

impl ToolKind {
    fn of(tool: &Tool) -> ToolKind {
        let hint = |f: fn(&rmcp::model::ToolAnnotations) -> Option<bool>| tool.annotations.as_ref().and_then(f);
        if hint(|a| a.read_only_hint) == Some(true) {
            ToolKind::Read
        } else if hint(|a| a.destructive_hint) == Some(false) {
            ToolKind::Write
        } else {
            // The spec's default for a tool that writes is destructive.
            ToolKind::Destructive
        }
    }
}

/// The kind of the tool named `name` (any toolset, whatever is served), from its annotations;
/// `None` for a name that is not a tool.
pub fn kind_of(name: &str) -> Option<ToolKind> {
    static KINDS: std::sync::LazyLock<std::collections::HashMap<String, ToolKind>> = std::sync::LazyLock::new(|| {
        all_tools()
            .into_iter()
            .map(|(_, t)| (t.name.to_string(), ToolKind::of(&t)))
            .collect()
    });
    KINDS.get(name).copied()
}

/// Which tools to serve, and in which form.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Hide and refuse every tool that is not read-only.
    pub read_only: bool,
    /// Serve only these categories (`connectivity` is always added); `None` = all.
    pub toolsets: Option<BTreeSet<Toolset>>,
    /// Publish each tool with its validation schema (`--full-schemas`) instead of the short
    /// form ([`publish`]).
    pub full_schemas: bool,
}

/// The served tools: one router for dispatch and the `tools/list` order.
pub struct Catalog {
    /// Every served tool (the union of the selected category routers, minus hidden tools),
    /// defined with its published input schema.
    pub router: ToolRouter<Tools>,
    /// The served tools in `tools/list` order, with their category, as published.
    pub listed: Vec<(Toolset, Tool)>,
    /// Per served tool: the full input schema the server checks arguments against (every
    /// pattern, format and bound; `null` accepted on optional arguments), of which the
    /// published schema is the short form ([`publish`]).
    pub validation: HashMap<String, Value>,
}

/// Every tool of every category, in `tools/list` order (for docs and tests), as published.
pub fn all_tools() -> Vec<(Toolset, Tool)> {
    catalog(&Selection::default()).listed
}

/// Builds the served catalog: the selected categories joined with `+`, then, in read-only
/// mode, every tool without `readOnlyHint: true` removed. Each tool's generated schema becomes
/// two: the validation schema and the published one.
pub fn catalog(selection: &Selection) -> Catalog {
    let mut router = ToolRouter::new();
    let mut listed = Vec::new();
    let mut validation = HashMap::new();
    for &set in Toolset::all() {
        let wanted = set == Toolset::Connectivity || selection.toolsets.as_ref().is_none_or(|s| s.contains(&set));
        if !wanted {
            continue;
        }
        let mut part = set.router();
        for route in part.map.values_mut() {
            let generated = Value::Object(tidy(&mut route.attr));
            let mut full = generated.clone();
            strip_published(&mut full);
            let listed = if selection.full_schemas {
                full.clone()
            } else {
                publish(generated)
            };
            validation.insert(route.attr.name.to_string(), full);
            if let Value::Object(listed) = listed {
                route.attr.input_schema = std::sync::Arc::new(listed);
            }
        }
        let mut tools = part.list_all();
        if selection.read_only {
            for t in tools.iter().filter(|t| !is_read_only(t)) {
                part.remove_route(&t.name);
                validation.remove(t.name.as_ref());
            }
            tools.retain(is_read_only);
        }
        listed.extend(tools.into_iter().map(|t| (set, t)));
        router += part;
    }
    Catalog {
        router,
        listed,
        validation,
    }
}

/// Normalizes a tool definition as generated by the macros: the doc comment's hard line breaks
/// become spaces (paragraph breaks stay), an input schema without its own
/// `additionalProperties` (tools without arguments) refuses unknown arguments too, and the
/// `writeOnly` marks of path fields are dropped. Returns the input schema (a copy of the
/// generated one, which rmcp keeps cached), for the caller to give the tool its final form.
fn tidy(tool: &mut Tool) -> serde_json::Map<String, Value> {
    if let Some(d) = tool.description.as_ref() {
        let paragraphs: Vec<String> = d
            .split("\n\n")
            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
            .collect();
        tool.description = Some(paragraphs.join("\n\n").into());
    }
    let mut schema = tool.input_schema.as_ref().clone();
    schema.entry("additionalProperties").or_insert(Value::Bool(false));
    // schemars marks the fields that go into the path (`skip_serializing`) `writeOnly`, which
    // says nothing to a client filling in arguments.
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for prop in props.values_mut() {
            if let Value::Object(p) = prop {
                p.remove("writeOnly");
            }
        }
    }
    schema
}

/// The published form of a generated input schema: what a client (and the model) reads. It
/// says the same in fewer characters, and the server still checks the full form:
///
/// - no `$schema` (every MCP input schema is JSON Schema);
/// - an optional argument is `T`, not `T` or `null`: optional means "leave it out" (the server
///   still takes `null` as "not given"); a [`shared::Patch`] field keeps its `null`, which
///   clears the value;
/// - no `description` on array items (the array's own description says what they are);
/// - a type's [`shared::PUBLISHED`] keywords replace its own (the uuid-or-key and
///   uuid-`me`-or-email regexes give way to the field's description).
pub fn publish(mut schema: Value) -> Value {
    if let Value::Object(root) = &mut schema {
        root.remove("$schema");
    }
    publish_in(&mut schema, false);
    schema
}

/// Publishes `schema` in place; `argument` says it is the schema of an argument (a property),
/// the only place where `null` means "not given" (in tag values, for example, it removes a
/// key).
fn publish_in(schema: &mut Value, argument: bool) {
    let Value::Object(m) = schema else {
        return;
    };
    if argument {
        drop_null(m);
    }
    if let Some(Value::Object(published)) = m.remove(shared::PUBLISHED) {
        for (k, v) in published {
            if v.is_null() {
                m.remove(&k);
            } else {
                m.insert(k, v);
            }
        }
    }
    if let Some(Value::Object(items)) = m.get_mut("items") {
        items.remove("description");
    }
    // schemars names the Rust width of an integer (`uint32`); the bounds that matter are
    // published as `minimum`/`maximum`, and the server checks the width.
    if m.get("format").and_then(Value::as_str).is_some_and(is_numeric_format) {
        m.remove("format");
    }
    for (k, v) in m.iter_mut() {
        match (k.as_str(), v) {
            ("properties", Value::Object(children)) => children.values_mut().for_each(|c| publish_in(c, true)),
            ("$defs" | "definitions", Value::Object(children)) => {
                children.values_mut().for_each(|c| publish_in(c, false))
            }
            ("items" | "additionalProperties" | "not", child @ Value::Object(_)) => publish_in(child, false),
            ("anyOf" | "oneOf" | "allOf", Value::Array(children)) => {
                children.iter_mut().for_each(|c| publish_in(c, false))
            }
            _ => {}
        }
    }
}

/// `T` or `null` → `T` (as `type: [T, "null"]`, with `null` among the `enum` values, or as an
/// `anyOf` of the schema and `{"type": "null"}`).
fn drop_null(m: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(types)) = m.get("type") {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if non_null.len() == 1 && types.len() == 2 {
            m.insert("type".into(), non_null[0].clone());
            if let Some(Value::Array(values)) = m.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
        }
    }
    if let Some(Value::Array(branches)) = m.get("anyOf") {
        let non_null: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        if let ([Value::Object(only)], 2) = (non_null.as_slice(), branches.len()) {
            let only = only.clone();
            m.remove("anyOf");
            for (k, v) in only {
                m.entry(k).or_insert(v);
            }
        }
    }
}

/// The formats schemars gives integers and floats, which are not JSON Schema formats.
fn is_numeric_format(format: &str) -> bool {
    matches!(
        format,
        "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "float"
            | "double"
    )
}

/// The validation form of a generated schema: everything but the [`shared::PUBLISHED`]
/// keywords.
fn strip_published(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            m.remove(shared::PUBLISHED);
            m.values_mut().for_each(strip_published);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_published),
        _ => {}
    }
}

/// The JSON body of a write: `params` serialized. Absent optional fields are skipped, and so
/// are the fields that go into the path: their type says so (`#[serde(skip_serializing)]`).
pub fn body<T: Serialize>(params: &T) -> Result<Value, ErrorData> {
    match serde_json::to_value(params) {
        Ok(Value::Object(m)) => Ok(Value::Object(m)),
        Ok(_) => Err(errors::internal("tool arguments did not serialize to an object")),
        Err(e) => Err(errors::internal(format!("tool arguments did not serialize: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_schema_is_the_short_form_of_the_validation_schema() {
        let generated = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "ticket_id": {"type": "string", "pattern": shared::TICKET_REF_PATTERN,
                    shared::PUBLISHED: {"pattern": null}},
                "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 1},
                "sort": {"type": ["string", "null"], "enum": ["a", "b", null]},
                "priority": {"type": ["array", "null"], "items": {"description": "Ticket priority.", "type": "string"}},
                "due_date": {"type": ["string", "null"], "format": "date",
                    shared::PUBLISHED: {"type": ["string", "null"]}},
                "user": {"type": "string", "pattern": "^(x|y)$", shared::PUBLISHED: {"pattern": null}},
                "tags": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
            }
        });
        assert_eq!(
            publish(generated.clone()),
            json!({
                "type": "object",
                "properties": {
                    "ticket_id": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 1},
                    "sort": {"type": "string", "enum": ["a", "b"]},
                    "priority": {"type": "array", "items": {"type": "string"}},
                    "due_date": {"type": ["string", "null"], "format": "date"},
                    "user": {"type": "string"},
                    "tags": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
                }
            })
        );
        let mut full = generated.clone();
        strip_published(&mut full);
        assert_eq!(
            full["properties"]["ticket_id"],
            json!({"type": "string", "pattern": shared::TICKET_REF_PATTERN})
        );
        assert_eq!(full["properties"]["limit"]["type"], json!(["integer", "null"]));
        assert!(!full.to_string().contains(shared::PUBLISHED));
    }

    #[test]
    fn every_tool_has_a_title_and_validates_what_it_publishes_and_more() {
        let catalog = catalog(&Selection::default());
        assert_eq!(catalog.validation.len(), catalog.listed.len());
        for (_, tool) in &catalog.listed {
            assert!(
                tool.title.as_ref().is_some_and(|t| !t.is_empty()),
                "{} has a title",
                tool.name
            );
            let published = Value::Object(tool.input_schema.as_ref().clone());
            assert!(!published.to_string().contains(shared::PUBLISHED), "{}", tool.name);
            let full = &catalog.validation[tool.name.as_ref()];
            let published_names = published["properties"]
                .as_object()
                .map(|p| p.keys().collect::<Vec<_>>());
            let full_names = full["properties"].as_object().map(|p| p.keys().collect::<Vec<_>>());
            assert_eq!(published_names, full_names, "{}: the same arguments", tool.name);
            assert_eq!(
                published["required"], full["required"],
                "{}: the same required ones",
                tool.name
            );
        }
    }

    #[test]
    fn full_schemas_lists_exactly_what_the_server_checks() {
        let short = catalog(&Selection::default());
        let full = catalog(&Selection {
            full_schemas: true,
            ..Selection::default()
        });
        assert_eq!(short.listed.len(), full.listed.len());
        let mut longer = 0;
        for ((_, s), (_, f)) in short.listed.iter().zip(&full.listed) {
            assert_eq!(s.name, f.name);
            let listed = Value::Object(f.input_schema.as_ref().clone());
            assert_eq!(listed, full.validation[f.name.as_ref()], "{}", f.name);
            assert_eq!(full.validation[f.name.as_ref()], short.validation[s.name.as_ref()]);
            longer += usize::from(
                listed.to_string().len() > Value::Object(s.input_schema.as_ref().clone()).to_string().len(),
            );
        }
        assert!(
            longer > full.listed.len() / 2,
            "only {longer} full schemas are longer than the short ones"
        );
    }
}
