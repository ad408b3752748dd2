//! `get_project_summary`: the seeded project WEB's figures, and failures passed through.

use crate::support::{Launch, one_call_tests, spawn_seeded_stack, spawn_stack};
use alloy_mock_api::{Fault, FaultKind};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn get_project_summary_returns_counts_sprint_and_budget_of_a_seeded_project() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let sum = s.call_ok("get_project_summary", json!({"project_id": "web"})).await;
    assert_eq!(sum["project"]["key"], json!("WEB"));
    assert_eq!(sum["workflow"]["name"], json!("Default"));
    let statuses: Vec<&String> = sum["tickets"]["by_status"]
        .as_object()
        .expect("by_status")
        .keys()
        .collect();
    assert_eq!(
        statuses,
        ["Backlog", "Todo", "InProgress", "InReview", "Done", "Cancelled"]
    );
    let by_status_total: i64 = sum["tickets"]["by_status"]
        .as_object()
        .expect("by_status")
        .values()
        .filter_map(serde_json::Value::as_i64)
        .sum();
    assert_eq!(json!(by_status_total), sum["tickets"]["total"]);
    assert_eq!(sum["active_sprint"]["name"], json!("Sprint 2 - Accessibility pass"));
    assert_eq!(sum["planned_sprint_count"], json!(1));
    assert_eq!(sum["budget"]["budget_period"], json!("Quarterly"));
    assert_eq!(sum["budget"]["period_start"], json!("2026-04-01"));
    assert!(sum["member_count"].as_i64().is_some_and(|n| n > 0), "{sum}");
    assert_eq!(
        s.api.requests("/api/v1/projects/"),
        [("GET".to_string(), "/api/v1/projects/web/summary".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_project_summary_reports_a_persistent_upstream_failure() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::Status(500)).path("/api/v1/projects/WEB/summary");
    let _fault = s.api.mock.fault(fault).await;
    s.call_err_code("get_project_summary", json!({"project_id": "WEB"}), 500, "internal")
        .await;
}

one_call_tests! {
    get_project_summary_reports_unknown_projects:
        as Owner, "get_project_summary" {"project_id": "NOPE"} => call_not_found("project");
}
