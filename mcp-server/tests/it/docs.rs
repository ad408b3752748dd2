//! The generated tool reference `docs/tools.md`: rendered from the live `tools/list` of the real
//! binary (as a 2025-06-18 client sees it, annotations included) and grouped by toolset. The
//! test fails when the committed file is stale; `UPDATE_DOCS=1 cargo test -p alloy-mcp --test it
//! docs` rewrites it.

use crate::support::spawn_stack;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn docs_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("tools.md")
}

/// A short type for a property schema: `string`, `integer 1–200`, `Low | Medium`, `array of uuid`.
fn type_of(schema: &Value, defs: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return type_of(&defs[name], defs);
    }
    if let Some(any) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let parts: Vec<String> = any.iter().map(|s| type_of(s, defs)).collect();
        return parts.join(" or ");
    }
    if let Some(values) = schema["enum"].as_array() {
        let vs: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map(|s| format!("`{s}`")).unwrap_or(v.to_string()))
            .collect();
        return vs.join(" \\| ");
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".into(),
    };
    let mut out = ty.clone();
    if ty.starts_with("array") {
        out = format!("array of {}", type_of(&schema["items"], defs));
    }
    if let Some(f) = schema["format"].as_str() {
        out = format!("{out} ({f})");
    }
    match (schema["minimum"].as_f64(), schema["maximum"].as_f64()) {
        (Some(a), Some(b)) => write!(out, " {a}–{b}").unwrap_or(()),
        (Some(a), None) => write!(out, " ≥ {a}").unwrap_or(()),
        (None, Some(b)) => write!(out, " ≤ {b}").unwrap_or(()),
        _ => {}
    }
    if !schema["default"].is_null() {
        write!(out, ", default {}", schema["default"]).unwrap_or(());
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn render(tools: &[Value]) -> String {
    let toolset_of: BTreeMap<String, String> = alloy_mcp::surface::tools::all_tools()
        .into_iter()
        .map(|(set, tool)| (tool.name.to_string(), set.id()))
        .collect();
    let mut out = String::new();
    out.push_str("# alloy-mcp tool reference\n\n");
    out.push_str("Generated from the live `tools/list` of `alloy-mcp` (as a 2025-06-18 client sees it) by\n");
    out.push_str("`mcp-server/tests/it/docs.rs`. Do not edit by hand: regenerate with\n");
    out.push_str("`UPDATE_DOCS=1 cargo test -p alloy-mcp --test it docs`.\n\n");
    out.push_str("The schemas below are the published ones; the server checks the full forms (a ticket key is\n");
    out.push_str("`^[A-Za-z][A-Za-z0-9]{1,9}-[1-9][0-9]{0,8}$` or a uuid, `null` on an optional argument means\n");
    out.push_str("\"not given\"). Where a user is taken, `me` and a member's email work as well as a uuid; labels\n");
    out.push_str("are named within their project, sprints by name, `active` or `last` (with `project_id` where\n");
    out.push_str("the tool has no other way to know the project). An unknown or ambiguous name is refused as an\n");
    out.push_str(
        "invalid argument listing the candidates (`data.candidates`). Lists return 25 items unless `limit` says\n",
    );
    out.push_str("otherwise (at most 100); ticket and time-entry lists are compact unless `detail` is `full`:\n");
    out.push_str("`{columns, items: [[value per column]], next_cursor, has_more}`.\n\n");
    out.push_str("A result is the API's JSON as the text content. No tool publishes an `outputSchema` and no\n");
    out.push_str("result carries `structuredContent`, on purpose: an output schema per tool would add to every\n");
    out.push_str("`tools/list` (whose whole answer is held under 48 KiB, see `fixtures/budget/tools.json`) a\n");
    out.push_str("description of shapes the model reads anyway in each result; the protocol asks a server that\n");
    out.push_str("sends `structuredContent` to repeat it as text, so each result would cost twice; and the\n");
    out.push_str("shapes are the Alloy REST API's, documented there, so a client gains no check it lacks today.\n\n");
    let mut by_set: Vec<(&str, Vec<&Value>)> = Vec::new();
    for t in tools {
        let name = t["name"].as_str().unwrap_or("");
        let set = toolset_of.get(name).map_or("unknown", String::as_str);
        match by_set.iter_mut().find(|(s, _)| *s == set) {
            Some((_, v)) => v.push(t),
            None => by_set.push((set, vec![t])),
        }
    }
    let _ = writeln!(
        out,
        "{} tools in {} toolsets (`--toolsets` ids). `--read-only` keeps the tools marked read-only.\n",
        tools.len(),
        by_set.len()
    );
    for (set, list) in &by_set {
        let names: Vec<String> = list
            .iter()
            .map(|t| format!("`{}`", t["name"].as_str().unwrap_or("")))
            .collect();
        let _ = writeln!(out, "- `{set}`: {}", names.join(", "));
    }
    for (set, list) in &by_set {
        let _ = writeln!(out, "\n## Toolset `{set}`");
        for t in list {
            let name = t["name"].as_str().unwrap_or("");
            let a = &t["annotations"];
            let flag = |k: &str| if a[k].as_bool() == Some(true) { "yes" } else { "no" };
            let _ = writeln!(out, "\n### `{name}`\n");
            let _ = writeln!(out, "{}\n", t["description"].as_str().unwrap_or("").trim());
            let _ = writeln!(
                out,
                "Read-only: {} · destructive: {} · idempotent: {}\n",
                flag("readOnlyHint"),
                flag("destructiveHint"),
                flag("idempotentHint")
            );
            let schema = &t["inputSchema"];
            let defs = if schema["$defs"].is_object() {
                &schema["$defs"]
            } else {
                &schema["definitions"]
            };
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match schema["properties"].as_object() {
                Some(props) if !props.is_empty() => {
                    out.push_str("| Argument | Type | Required | Description |\n|---|---|---|---|\n");
                    for (p, s) in props {
                        let desc = s["description"].as_str().unwrap_or("");
                        let req = if required.contains(&p.as_str()) { "yes" } else { "no" };
                        let _ = writeln!(out, "| `{p}` | {} | {req} | {} |", cell(&type_of(s, defs)), cell(desc));
                    }
                }
                _ => out.push_str("No arguments.\n"),
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn docs_tools_md_is_generated_from_the_live_tool_list_and_up_to_date() {
    let mut s = spawn_stack().await;
    let tools = s.list_tools().await;
    let rendered = render(&tools);
    let path = docs_path();
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("docs dir")).expect("create docs/");
        std::fs::write(&path, &rendered).expect("write docs/tools.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/tools.md is stale: regenerate it with `UPDATE_DOCS=1 cargo test -p alloy-mcp --test it docs` and commit it"
    );
}

/// The README's settings section names every toolset id, and nothing else (the ids come from
/// one enum; a renamed or added toolset must show up in the documentation).
#[test]
fn the_readme_lists_exactly_the_toolset_ids() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.starts_with("A flag wins over its variable. Toolset ids:"))
        .expect("the README's toolset line");
    let mut listed = String::new();
    for l in readme.lines().skip_while(|l| *l != line) {
        listed.push_str(l);
        listed.push(' ');
        if l.contains("data`.") {
            break;
        }
    }
    let end = listed.find("data`.").map_or(listed.len(), |i| i + "data`".len());
    let documented: Vec<&str> = listed[..end].split('`').skip(1).step_by(2).collect();
    let ids: Vec<String> = alloy_mcp::surface::tools::Toolset::all()
        .iter()
        .map(|t| t.id())
        .collect();
    assert_eq!(documented, ids, "README toolset list: {listed}");
}
