//! Golden data: the sorted list of tool names and one snapshot per tool definition (name,
//! description, input schema, annotations) as a 2025-06-18 client sees it. Tool names and
//! schemas are public API: a diff here is an API change, reviewed with `cargo insta review`,
//! never accepted blindly.

use crate::support::spawn_stack;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn tool_definitions_match_their_snapshots() {
    let mut s = spawn_stack().await;
    let tools = s.mcp.list_tools().await;
    let mut names: Vec<String> = tools
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    insta::assert_json_snapshot!("tool_names", names);
    for tool in tools {
        let name = tool["name"].as_str().map(str::to_string).unwrap_or_default();
        insta::assert_json_snapshot!(format!("tool_schema@{name}"), tool);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_initialize_answer_matches_its_snapshot() {
    let mut s = spawn_stack().await;
    let r: Value = s.mcp.initialize("2025-06-18").await;
    insta::assert_json_snapshot!("initialize@2025-06-18", r["result"]);
}
