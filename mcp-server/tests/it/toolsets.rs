//! Read-only mode and toolsets: hidden tools are not listed and are refused exactly like
//! unknown tools, without touching the API.

use crate::support::{Launch, spawn_stack, spawn_stack_with};
use serde_json::{Value, json};

fn names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_mode_lists_only_read_only_tools() {
    let mut s = spawn_stack_with(Launch::default().args(&["--read-only"])).await;
    let tools = s.list_tools().await;
    assert!(names(&tools).contains(&"get_ticket".to_string()));
    for t in &tools {
        assert_eq!(t["annotations"]["readOnlyHint"], json!(true), "{t}");
    }
    assert!(!names(&tools).contains(&"create_ticket".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_mode_refuses_write_tools_like_unknown_ones_without_calling_the_api() {
    let mut s = spawn_stack_with(Launch::default().env("ALLOY_MCP_READ_ONLY", "true")).await;
    let hidden = s
        .call_invalid("create_ticket", json!({"project_id": "WEB", "title": "x"}))
        .await;
    let unknown = s.call_invalid("no_such_tool", json!({})).await;
    assert_eq!(hidden["code"], unknown["code"]);
    assert_eq!(hidden["message"], json!("unknown tool: create_ticket"));
    let e = s.call_invalid("delete_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(e["message"], json!("unknown tool: delete_ticket"));
    assert!(s.api.requests("/api/v1/projects/WEB/tickets").is_empty());
    assert!(s.api.requests("/api/v1/tickets").is_empty());
    s.call_ok("search_tickets", json!({})).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_false_in_the_environment_keeps_write_tools() {
    let mut s = spawn_stack_with(Launch::default().env("ALLOY_MCP_READ_ONLY", "false")).await;
    assert!(names(&s.list_tools().await).contains(&"create_ticket".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn toolsets_limit_the_categories_and_always_keep_connectivity() {
    let mut s = spawn_stack_with(Launch::default().args(&["--toolsets", "comments"])).await;
    let listed = names(&s.list_tools().await);
    assert!(
        listed.starts_with(&["ping".to_string(), "whoami".to_string()]),
        "{listed:?}"
    );
    assert!(!listed.contains(&"get_ticket".to_string()), "{listed:?}");
    let e = s.call_invalid("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(e["message"], json!("unknown tool: get_ticket"));
    assert!(s.api.requests("/api/v1/tickets").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn all_toolsets_are_served_by_default() {
    let mut s = spawn_stack().await;
    let listed = names(&s.list_tools().await);
    assert!(listed.contains(&"delete_ticket".to_string()) && listed.contains(&"ping".to_string()));
}
