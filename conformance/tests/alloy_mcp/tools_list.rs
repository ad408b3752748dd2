//! `tools/list` of `alloy-mcp` under every known protocol revision and on every offered
//! transport: protocol checks pass (result shape, every `inputSchema` and `outputSchema` valid by
//! JSON Schema meta-validation, unique names, the four annotation hints from 2025-03-26 on), the
//! names are the same everywhere, and the committed snapshots hold the sorted name list
//! (`fixtures/expected/schemas/tool_names.snap`), one snapshot per tool as listed under the
//! default revision (`tool_schema@<name>.snap`) and which revisions carry annotations
//! (`tool_annotations_by_version.snap`).

use crate::support::{Server, timeouts};
use alloy_conformance::runner::{self, Fixtures};
use alloy_conformance::scenario::DEFAULT_PROTOCOL_VERSION;
use alloy_conformance::shapes::{self, KNOWN_VERSIONS};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn names(tools: &[Value]) -> Vec<String> {
    shapes::tool_artifacts(tools).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_list_passes_the_checks_of_every_revision_and_matches_one_snapshot_per_tool() {
    let server = Server::find().await;
    let transports = server.transports("the_tool_list_passes_the_checks_of_every_revision");
    let mut problems = Vec::new();
    let mut default_list = None;
    let mut annotated = serde_json::Map::new();
    let mut reference: Option<Vec<String>> = None;
    for version in KNOWN_VERSIONS {
        for t in &transports {
            let list = runner::list_tools(&server.launch(*t), version, timeouts())
                .await
                .unwrap_or_else(|e| panic!("tools/list under {version} [{t}]: {e:#}"));
            problems.extend(list.violations.iter().map(|v| format!("{version} [{t}]: {v}")));
            let n = names(&list.tools);
            match &reference {
                None => reference = Some(n.clone()),
                Some(r) if *r != n => problems.push(format!(
                    "{version} [{t}]: the tool names differ from those under {} [stdio]",
                    KNOWN_VERSIONS[0]
                )),
                Some(_) => {}
            }
            let with = list
                .tools
                .iter()
                .filter(|tool| tool.get("annotations").is_some())
                .count();
            let counts = json!({"tools": list.tools.len(), "with_annotations": with});
            match annotated.get(version) {
                Some(before) if *before != counts => problems.push(format!(
                    "{version} [{t}]: {counts} annotated, unlike on stdio ({before})"
                )),
                _ => {
                    annotated.insert(version.to_string(), counts);
                }
            }
            if version == DEFAULT_PROTOCOL_VERSION && default_list.is_none() {
                default_list = Some(list.tools);
            }
        }
    }
    assert!(problems.is_empty(), "tools/list problems:\n{}", problems.join("\n"));

    let tools = default_list.expect("a tool list under the default revision");
    let (sorted, per_tool) = shapes::tool_artifacts(&tools);
    let dir = Fixtures::repository().expected.join("schemas");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_json_snapshot!("tool_names", sorted);
        insta::assert_json_snapshot!("tool_annotations_by_version", annotated);
        for (name, tool) in &per_tool {
            insta::assert_json_snapshot!(format!("tool_schema@{name}"), tool);
        }
    });

    // A snapshot of a tool the server no longer lists is stale.
    let listed: BTreeSet<&str> = sorted.iter().map(String::as_str).collect();
    let stale: Vec<String> = std::fs::read_dir(&dir)
        .expect("the schemas folder exists")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|f| {
            f.strip_prefix("tool_schema@")
                .and_then(|rest| rest.strip_suffix(".snap"))
                .is_some_and(|tool| !listed.contains(tool))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "snapshots of tools the server does not list (delete them): {stale:?}"
    );
}
