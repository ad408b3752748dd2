//! Every message a server sends, checked against the official JSON Schema of the revision the
//! case runs at. The five `schema.json` files in `conformance/schemas/mcp/` are the
//! specification's own (vendored unchanged, provenance and license beside them) and are
//! compiled in with `include_str!`; a definition is compiled the first time it is needed.
//! [`check_message`] validates the JSON-RPC envelope of anything received, the result of a
//! response against the result definition of the request's method, requests and notifications
//! from the server against `ServerRequest` / `ServerNotification`, and names the failing schema
//! path. [`undeclared_fields`] finds fields the revision does not define (`resultType` or
//! `ttlMs` sent to a handshake-era client, tool `annotations` to a 2024-11-05 one): the
//! schemas leave most objects open, so plain validation would not see them.
//!
//! Also here: the `tools/list` checks that go beyond shape (each `inputSchema`/`outputSchema`
//! is itself a valid JSON Schema, annotations are present, names are unique) and the per-tool
//! artifacts that get their own snapshots.

use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// Protocol revisions with an `initialize` handshake, oldest first.
pub const KNOWN_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The stateless revision: no handshake, per-request `_meta`, `server/discover`.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// Every revision the harness has a schema for, oldest first.
pub const ALL_VERSIONS: [&str; 5] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

const SCHEMA_FILES: [(&str, &str); 5] = [
    ("2024-11-05", include_str!("../schemas/mcp/2024-11-05/schema.json")),
    ("2025-03-26", include_str!("../schemas/mcp/2025-03-26/schema.json")),
    ("2025-06-18", include_str!("../schemas/mcp/2025-06-18/schema.json")),
    ("2025-11-25", include_str!("../schemas/mcp/2025-11-25/schema.json")),
    ("2026-07-28", include_str!("../schemas/mcp/2026-07-28/schema.json")),
];

/// The result definition of a request method at `version` (`None`: no definition, e.g. a
/// method the revision does not have).
pub fn result_shape(version: &str, method: &str) -> Option<&'static str> {
    let stateless = version_at_least(version, STATELESS_VERSION);
    Some(match method {
        "initialize" if !stateless => "InitializeResult",
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" if !stateless => "EmptyResult",
        "server/discover" if stateless => "DiscoverResult",
        "subscriptions/listen" if stateless => "SubscriptionsListenResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "resources/list" => "ListResourcesResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "resources/read" => "ReadResourceResult",
        "completion/complete" => "CompleteResult",
        _ => return None,
    })
}

/// Whether `a` is the same revision as `b` or a later one (revisions are dates).
pub fn version_at_least(a: &str, b: &str) -> bool {
    a >= b
}

/// The revision whose schema applies to `negotiated` (an unknown or absent version is judged by
/// the newest handshake revision).
pub fn rules_for(negotiated: Option<&str>) -> &'static str {
    negotiated
        .and_then(|v| ALL_VERSIONS.into_iter().find(|k| *k == v))
        .unwrap_or(KNOWN_VERSIONS[KNOWN_VERSIONS.len() - 1])
}

struct Schemas {
    /// Parsed documents and the key their definitions live under (`definitions` before
    /// 2025-11-25, `$defs` after).
    docs: HashMap<&'static str, (Value, &'static str)>,
    compiled: Mutex<HashMap<(&'static str, String), Arc<Validator>>>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let docs = SCHEMA_FILES
            .into_iter()
            .map(|(version, text)| {
                // The files are part of this crate; a broken one is a build-time mistake that
                // the unit tests below catch, so failing loudly here is right.
                let doc: Value = serde_json::from_str(text).expect("bundled MCP schema files are valid JSON");
                let key = if doc.get("$defs").is_some() {
                    "$defs"
                } else {
                    "definitions"
                };
                (version, (doc, key))
            })
            .collect();
        Schemas {
            docs,
            compiled: Mutex::new(HashMap::new()),
        }
    })
}

fn definitions(version: &'static str) -> Option<&'static Map<String, Value>> {
    let (doc, key) = schemas().docs.get(version)?;
    doc.get(*key)?.as_object()
}

/// Whether the revision defines `name`.
pub fn defines(version: &str, name: &str) -> bool {
    definitions(rules_for(Some(version))).is_some_and(|d| d.contains_key(name))
}

fn validator(version: &'static str, name: &str) -> Result<Arc<Validator>, String> {
    let key = (version, name.to_string());
    if let Some(v) = schemas().compiled.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(v);
    }
    let (doc, defs_key) = schemas()
        .docs
        .get(version)
        .ok_or_else(|| format!("no schema for {version}"))?;
    if !definitions(version).is_some_and(|d| d.contains_key(name)) {
        return Err(format!("the {version} schema has no definition `{name}`"));
    }
    let mut root = doc.clone();
    if let Some(obj) = root.as_object_mut() {
        obj.insert("$ref".into(), Value::String(format!("#/{defs_key}/{name}")));
    }
    let compiled = Arc::new(
        jsonschema::options()
            .build(&root)
            .map_err(|e| format!("the {version} definition `{name}` does not compile: {e}"))?,
    );
    if let Ok(mut c) = schemas().compiled.lock() {
        c.insert(key, compiled.clone());
    }
    Ok(compiled)
}

/// Validates `instance` against the definition `shape` of a revision; one line per problem,
/// naming where in the instance and which schema path failed.
pub fn check_shape(version: &str, shape: &str, instance: &Value) -> Vec<String> {
    let version = rules_for(Some(version));
    let v = match validator(version, shape) {
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    v.iter_errors(instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!(
                "{at}: {} (schema {version} #/{shape}{})",
                shorten_error(&e.to_string()),
                e.schema_path()
            )
        })
        .collect()
}

fn shorten_error(s: &str) -> String {
    if s.chars().count() > 300 {
        let mut t: String = s.chars().take(300).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// The first definition of `names` the revision has (definitions were renamed between
/// revisions, e.g. `JSONRPCError` became `JSONRPCErrorResponse`).
fn first_defined(version: &str, names: &[&'static str]) -> &'static str {
    names.iter().copied().find(|n| defines(version, n)).unwrap_or(names[0])
}

/// Checks one message the server sent (a response, a request or a notification) against the
/// schema of `negotiated`; `method` is the method of the request a response answers, when
/// known. Responses are checked for their envelope and their result definition, and (for the
/// handshake revisions) for fields the revision does not define.
pub fn check_message(negotiated: Option<&str>, method: Option<&str>, message: &Value) -> Vec<String> {
    let version = rules_for(negotiated);
    let is_response = message.get("method").is_none();
    if !is_response {
        let is_request = message.get("id").is_some();
        let union = if is_request {
            "ServerRequest"
        } else {
            "ServerNotification"
        };
        if is_request && !defines(version, union) {
            return vec![format!(
                "a request from the server, which {version} does not allow (server-to-client requests were replaced by input-required results)"
            )];
        }
        return check_shape(version, union, message)
            .into_iter()
            .map(|p| format!("{} is not a {version} {union}: {p}", describe(message)))
            .collect();
    }
    if message.get("error").is_some() {
        let shape = first_defined(version, &["JSONRPCErrorResponse", "JSONRPCError"]);
        // JSON-RPC 2.0 answers a request whose id cannot be read with `"id": null`. The schemas
        // before 2025-11-25 require an id and cannot express that case, so there `null` is
        // accepted; from 2025-11-25 on the id may be left out, and `null` is a violation. Before
        // any revision is negotiated the server cannot know which rule applies (over HTTP the
        // spec has it assume 2025-03-26), so both forms pass.
        if message.get("id") == Some(&Value::Null) && (negotiated.is_none() || !version_at_least(version, "2025-11-25"))
        {
            let mut with_id = message.clone();
            with_id["id"] = Value::from(0);
            return check_shape(version, shape, &with_id)
                .into_iter()
                .map(|p| format!("error response ({version}): {p}"))
                .collect();
        }
        return check_shape(version, shape, message)
            .into_iter()
            .map(|p| format!("error response ({version}): {p}"))
            .collect();
    }
    let envelope = first_defined(version, &["JSONRPCResultResponse", "JSONRPCResponse"]);
    let mut problems: Vec<String> = check_shape(version, envelope, message)
        .into_iter()
        .map(|p| format!("response envelope ({version}): {p}"))
        .collect();
    if let (Some(method), Some(result)) = (method, message.get("result"))
        && let Some(shape) = result_shape(version, method)
    {
        problems.extend(
            check_shape(version, shape, result)
                .into_iter()
                .map(|p| format!("{method} result is not a {version} {shape}: {p}")),
        );
        if !version_at_least(version, STATELESS_VERSION) {
            problems.extend(
                undeclared_fields(version, shape, result)
                    .into_iter()
                    .map(|p| format!("{method} result has `{p}`, a field {version} does not define")),
            );
        }
    }
    problems
}

fn describe(message: &Value) -> String {
    match message.get("method").and_then(Value::as_str) {
        Some(m) => format!("`{m}`"),
        None => "a message".into(),
    }
}

/// Members that carry data of their own kind (JSON Schemas, tool arguments and output,
/// extension metadata): what is inside them is not the revision's to define.
const OPAQUE: [&str; 5] = [
    "inputSchema",
    "outputSchema",
    "structuredContent",
    "_meta",
    "experimental",
];

/// JSON pointers of the object members in `instance` that the definition `shape` of `version`
/// does not declare, where the definition lists its members without allowing others. Follows
/// `$ref`, `allOf`, the matching branch of `anyOf`/`oneOf`, `properties` and `items`; skips
/// [`OPAQUE`] members.
pub fn undeclared_fields(version: &str, shape: &str, instance: &Value) -> Vec<String> {
    let version = rules_for(Some(version));
    let Some(defs) = definitions(version) else {
        return Vec::new();
    };
    let Some(schema) = defs.get(shape) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk_declared(defs, schema, instance, "", &mut out, 0);
    out
}

fn resolve<'a>(defs: &'a Map<String, Value>, schema: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..16 {
        match s.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
            Some(name) if s.get("properties").is_none() => match defs.get(name) {
                Some(next) => s = next,
                None => break,
            },
            _ => break,
        }
    }
    s
}

/// Whether `instance` can be the object `branch` describes: its required members are there and
/// its `const` members agree.
fn branch_fits(defs: &Map<String, Value>, branch: &Value, instance: &Value) -> bool {
    let branch = resolve(defs, branch);
    let Some(obj) = instance.as_object() else {
        return branch.get("type").and_then(Value::as_str) != Some("object");
    };
    let required_present = branch
        .get("required")
        .and_then(Value::as_array)
        .is_none_or(|r| r.iter().filter_map(Value::as_str).all(|k| obj.contains_key(k)));
    let consts_agree = branch.get("properties").and_then(Value::as_object).is_none_or(|props| {
        props.iter().all(|(k, p)| match (p.get("const"), obj.get(k)) {
            (Some(c), Some(v)) => c == v,
            _ => true,
        })
    });
    required_present && consts_agree
}

fn walk_declared(
    defs: &Map<String, Value>,
    schema: &Value,
    instance: &Value,
    at: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let schema = resolve(defs, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            walk_declared(defs, s, instance, at, out, depth + 1);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array)
            && let Some(b) = branches.iter().find(|b| branch_fits(defs, b, instance))
        {
            walk_declared(defs, b, instance, at, out, depth + 1);
        }
    }
    match instance {
        Value::Object(obj) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            let open = schema
                .get("additionalProperties")
                .is_some_and(|a| a != &Value::Bool(false))
                || schema.get("patternProperties").is_some();
            for (k, v) in obj {
                let here = format!("{at}/{k}");
                match props.get(k) {
                    Some(_) if OPAQUE.contains(&k.as_str()) => {}
                    Some(sub) => walk_declared(defs, sub, v, &here, out, depth + 1),
                    None if !open => out.push(here),
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_declared(defs, item_schema, item, &format!("{at}/{i}"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Checks beyond shape for a `tools/list` answer: every `inputSchema` (and `outputSchema`) is a
/// valid JSON Schema by meta-validation, names are unique, and from 2025-03-26 on every tool
/// carries `annotations` with the four hints.
pub fn check_tools(negotiated: Option<&str>, tools: &[Value]) -> Vec<String> {
    let version = rules_for(negotiated);
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for tool in tools {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("(no name)");
        if !seen.insert(name.to_string()) {
            problems.push(format!("tool `{name}` is listed twice"));
        }
        for key in ["inputSchema", "outputSchema"] {
            let Some(schema) = tool.get(key) else { continue };
            problems.extend(
                meta_problems(schema)
                    .into_iter()
                    .map(|p| format!("tool `{name}` {key}: {p}")),
            );
        }
        if version_at_least(version, "2025-03-26") {
            match tool.get("annotations") {
                None => problems.push(format!("tool `{name}` has no annotations")),
                Some(a) => {
                    for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
                        if !a.get(hint).is_some_and(Value::is_boolean) {
                            problems.push(format!("tool `{name}` annotations lack a boolean `{hint}`"));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// Meta-validation of a schema document (its `$schema` draft, 2020-12 when absent).
pub fn meta_problems(schema: &Value) -> Vec<String> {
    let doc = match schema {
        Value::Object(m) if !m.contains_key("$schema") => {
            let mut m = m.clone();
            m.insert(
                "$schema".into(),
                Value::String("https://json-schema.org/draft/2020-12/schema".into()),
            );
            Value::Object(m)
        }
        other => other.clone(),
    };
    let validator = match std::panic::catch_unwind(|| jsonschema::meta::validator_for(&doc)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return vec![format!("unknown or unusable meta-schema: {e}")],
        Err(_) => return vec!["the `$schema` names no known JSON Schema draft".to_string()],
    };
    let problems: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!(
                "{}: {}",
                if at.is_empty() { "/" } else { &at },
                shorten_error(&e.to_string())
            )
        })
        .collect();
    if !problems.is_empty() {
        return problems;
    }
    match jsonschema::options().build(&doc) {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("does not compile: {e}")],
    }
}

/// Per-tool snapshot material from a `tools/list` answer: the sorted name list and, per tool,
/// its public contract (description, schemas, annotations).
pub fn tool_artifacts(tools: &[Value]) -> (Vec<String>, BTreeMap<String, Value>) {
    let mut names: Vec<String> = tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    names.sort();
    let per_tool = tools
        .iter()
        .filter_map(|t| Some((t.get("name")?.as_str()?.to_string(), t.clone())))
        .collect();
    (names, per_tool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_vendored_schema_compiles_its_result_definitions() {
        for v in ALL_VERSIONS {
            assert!(
                check_shape(v, "EmptyResult", &json!({"resultType": "complete"})).is_empty(),
                "{v}"
            );
            for method in [
                "tools/list",
                "tools/call",
                "prompts/get",
                "resources/read",
                "completion/complete",
            ] {
                let shape = result_shape(v, method).expect("a result definition");
                assert!(
                    !check_shape(v, shape, &json!({"x": 1}))
                        .iter()
                        .any(|p| p.contains("compile")),
                    "{v} {shape}"
                );
            }
        }
        assert!(check_shape("2025-06-18", "InitializeResult", &json!({})).len() >= 3);
    }

    #[test]
    fn a_failure_names_the_instance_and_the_schema_path() {
        let p = check_shape("2025-06-18", "ListToolsResult", &json!({"tools": [{"name": 3}]}));
        assert!(
            p.iter()
                .any(|p| p.starts_with("/tools/0") && p.contains("schema 2025-06-18 #/ListToolsResult")),
            "{p:?}"
        );
    }

    #[test]
    fn resource_links_exist_only_from_2025_06_18() {
        let result = json!({"content": [{"type": "resource_link", "uri": "alloy://me", "name": "me"}]});
        assert!(!check_shape("2025-03-26", "CallToolResult", &result).is_empty());
        assert!(check_shape("2025-06-18", "CallToolResult", &result).is_empty());
    }

    #[test]
    fn an_error_without_id_is_valid_only_from_2025_11_25() {
        let e = json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}});
        assert!(!check_message(Some("2025-06-18"), None, &e).is_empty());
        assert!(check_message(Some("2025-11-25"), None, &e).is_empty());
        let with_null = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
        assert!(check_message(Some("2024-11-05"), None, &with_null).is_empty());
        assert!(!check_message(Some("2025-11-25"), None, &with_null).is_empty());
    }

    #[test]
    fn stateless_results_need_a_result_type_and_list_results_caching_hints() {
        let list = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}});
        let p = check_message(Some(STATELESS_VERSION), Some("tools/list"), &list);
        assert!(p.iter().any(|p| p.contains("resultType")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("ttlMs")), "{p:?}");
        let ok = json!({"jsonrpc": "2.0", "id": 1, "result": {"resultType": "complete", "tools": [], "ttlMs": 0, "cacheScope": "private"}});
        assert_eq!(
            check_message(Some(STATELESS_VERSION), Some("tools/list"), &ok),
            Vec::<String>::new()
        );
    }

    #[test]
    fn fields_of_later_revisions_are_reported_to_older_clients() {
        let list = json!({"jsonrpc": "2.0", "id": 1, "result": {"resultType": "complete", "ttlMs": 0, "tools": [
            {"name": "a", "inputSchema": {"type": "object", "additionalProperties": false},
             "annotations": {"readOnlyHint": true}}]}});
        let p = check_message(Some("2024-11-05"), Some("tools/list"), &list);
        for field in ["/resultType", "/ttlMs", "/tools/0/annotations"] {
            assert!(p.iter().any(|p| p.contains(&format!("`{field}`"))), "{field}: {p:?}");
        }
        assert!(!p.iter().any(|p| p.contains("additionalProperties")), "{p:?}");
        let p = check_message(Some("2025-03-26"), Some("tools/list"), &list);
        assert!(!p.iter().any(|p| p.contains("annotations")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("`/resultType`")), "{p:?}");
    }

    #[test]
    fn server_requests_are_refused_at_the_stateless_revision() {
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": "roots/list"});
        assert!(check_message(Some("2025-06-18"), None, &req).is_empty());
        assert!(!check_message(Some(STATELESS_VERSION), None, &req).is_empty());
    }

    #[test]
    fn a_tool_list_with_a_broken_schema_and_no_annotations_is_reported() {
        let tools = vec![
            json!({"name": "a", "inputSchema": {"type": "object", "properties": {"x": {"type": "strng"}}}}),
            json!({"name": "a", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true}}),
        ];
        let problems = check_tools(Some("2025-06-18"), &tools);
        assert!(problems.iter().any(|p| p.contains("inputSchema")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("listed twice")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("no annotations")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("destructiveHint")), "{problems:?}");
        assert!(
            check_tools(Some("2024-11-05"), &tools[..1])
                .iter()
                .all(|p| !p.contains("annotations"))
        );
    }
}
