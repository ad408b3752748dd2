//! MCP result shapes per protocol revision. The JSON Schemas in `conformance/schemas/` were
//! written in this project from each revision's specification and are compiled in with
//! `include_str!`. Every response the harness receives is checked against the JSON-RPC envelope
//! and, for the methods listed in [`result_shape`], against the result shape of the version
//! the session negotiated. Also here: the `tools/list` checks that go beyond shape (each
//! `inputSchema`/`outputSchema` is itself a valid JSON Schema, annotations are present, names
//! are unique) and the per-tool artifacts that get their own snapshots.

use jsonschema::Validator;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

/// Protocol revisions with an `initialize` handshake, oldest first.
pub const KNOWN_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

const SCHEMA_FILES: [(&str, &str); 4] = [
    ("2024-11-05", include_str!("../schemas/mcp-2024-11-05.json")),
    ("2025-03-26", include_str!("../schemas/mcp-2025-03-26.json")),
    ("2025-06-18", include_str!("../schemas/mcp-2025-06-18.json")),
    ("2025-11-25", include_str!("../schemas/mcp-2025-11-25.json")),
];

/// The result shape (a `$defs` name in the schema files) of a request method.
pub fn result_shape(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => "EmptyResult",
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

/// Whether `a` is the same revision as `b` or a later one (unknown strings compare as dates).
pub fn version_at_least(a: &str, b: &str) -> bool {
    a >= b
}

struct Shapes {
    validators: HashMap<(&'static str, String), Validator>,
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let mut validators = HashMap::new();
        for (version, text) in SCHEMA_FILES {
            // The files are part of this crate; a broken one is a build-time mistake that the
            // unit tests below catch, so failing loudly here is right.
            let doc: Value = serde_json::from_str(text).expect("bundled MCP schema files are valid JSON");
            let names: Vec<String> = doc
                .get("$defs")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for name in names {
                let mut root = doc.clone();
                if let Some(obj) = root.as_object_mut() {
                    obj.insert("$ref".into(), Value::String(format!("#/$defs/{name}")));
                }
                let validator = jsonschema::options()
                    .build(&root)
                    .expect("bundled MCP schema definitions compile");
                validators.insert((version, name), validator);
            }
        }
        Shapes { validators }
    })
}

/// The revision whose rules apply to `negotiated` (an unknown or absent version is judged by
/// the newest known revision).
pub fn rules_for(negotiated: Option<&str>) -> &'static str {
    negotiated
        .and_then(|v| KNOWN_VERSIONS.into_iter().find(|k| *k == v))
        .unwrap_or(KNOWN_VERSIONS[KNOWN_VERSIONS.len() - 1])
}

/// Validates `instance` against the named shape of a revision; one line per problem.
pub fn check_shape(version: &str, shape: &str, instance: &Value) -> Vec<String> {
    let version = rules_for(Some(version));
    let Some(v) = shapes().validators.get(&(version, shape.to_string())) else {
        return vec![format!("no shape `{shape}` for {version}")];
    };
    v.iter_errors(instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!("{at}: {}", shorten_error(&e.to_string()))
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

/// Checks one response message (`result` or `error`) against the envelope and the result shape
/// of `method` (the method of the request it answers, when known) under `negotiated`.
pub fn check_response(negotiated: Option<&str>, method: Option<&str>, message: &Value) -> Vec<String> {
    let version = rules_for(negotiated);
    if message.get("error").is_some() {
        return check_shape(version, "JSONRPCError", message)
            .into_iter()
            .map(|p| format!("error response ({version}): {p}"))
            .collect();
    }
    let mut problems: Vec<String> = check_shape(version, "JSONRPCResponse", message)
        .into_iter()
        .map(|p| format!("response envelope ({version}): {p}"))
        .collect();
    if let (Some(method), Some(result)) = (method, message.get("result"))
        && let Some(shape) = result_shape(method)
    {
        problems.extend(
            check_shape(version, shape, result)
                .into_iter()
                .map(|p| format!("{method} result is not a {version} {shape}: {p}")),
        );
    }
    problems
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
    fn every_bundled_shape_compiles_for_every_version() {
        for v in KNOWN_VERSIONS {
            assert!(check_shape(v, "EmptyResult", &json!({})).is_empty());
            assert!(check_shape(v, "InitializeResult", &json!({})).len() >= 3, "{v}");
        }
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
        assert!(!check_response(Some("2025-06-18"), None, &e).is_empty());
        assert!(check_response(Some("2025-11-25"), None, &e).is_empty());
        let with_null = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
        assert!(check_response(Some("2024-11-05"), None, &with_null).is_empty());
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
