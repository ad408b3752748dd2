//! The five project tools: each one succeeding against the mock, and each one failing (an
//! `isError` result with the API's status and code, or -32602 for refused arguments).

use crate::support::{Launch, assert_last_page, names_in, one_call_tests, spawn_seeded_stack, spawn_stack};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn create_project_creates_a_project_with_finance_fields() {
    let mut s = spawn_stack().await;
    let args = json!({
        "key": "mob",
        "name": "Mobile app",
        "description": "iOS and Android",
        "capitalization_type": "Capex",
        "development_phase": "AppDevelopment",
        "cost_center_id": "ENG-002",
        "budget_cents": 5_000_000,
        "budget_period": "Quarterly",
        "amortization_months": 36,
    });
    let p = s.call_ok("create_project", args).await;
    assert_eq!(p["key"], json!("MOB"));
    assert_eq!(p["name"], json!("Mobile app"));
    assert_eq!(p["ticket_counter"], json!(0));
    assert_eq!(p["org_id"], json!(s.api.org_id));
    assert_eq!(p["capitalization_type"], json!("Capex"));
    assert_eq!(p["development_phase"], json!("AppDevelopment"));
    assert_eq!(p["budget_cents"], json!(5_000_000));
    assert_eq!(p["budget_period"], json!("Quarterly"));
    assert_eq!(p["amortization_months"], json!(36));
    let sent = s.api.last_call("POST", "/api/v1/projects");
    let body = sent.body.expect("body");
    assert!(body.get("org_id").is_none(), "org_id is sent only when given: {body}");
    assert_eq!(body["key"], json!("mob"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_project_refuses_a_malformed_key_and_an_unknown_enum() {
    let mut s = spawn_stack().await;
    for (args, field) in [
        (json!({"key": "9LIVES", "name": "x"}), "key"),
        (
            json!({"key": "MOB", "name": "x", "budget_period": "Weekly"}),
            "budget_period",
        ),
    ] {
        s.call_invalid_field("create_project", args, field).await;
    }
    let posts = s
        .api
        .requests("/api/v1/projects")
        .into_iter()
        .filter(|(m, _)| m == "POST")
        .count();
    assert_eq!(posts, 1, "only the setup's project WEB reached the API");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_projects_pages_through_the_callers_org() {
    let mut s = spawn_stack().await;
    for key in ["API", "OPS"] {
        s.api.project(key, key).await;
    }
    let first = s.call_ok("list_projects", json!({"limit": 2})).await;
    assert_eq!(names_in(&first["items"], "key"), ["WEB", "API"]);
    let second = s.next_page("list_projects", json!({"limit": 2}), &first).await;
    assert_eq!(second["items"][0]["key"], json!("OPS"));
    assert_last_page(&second);
    let lists: Vec<_> = s
        .api
        .mock
        .journal()
        .into_iter()
        .filter(|e| e.method == "GET" && e.path == "/api/v1/projects")
        .collect();
    assert!(
        lists.iter().all(|l| !l.query.iter().any(|(k, _)| k == "org_id")),
        "the key's org is the only one: {lists:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_projects_pages_by_25_unless_told_and_refuses_pages_over_100() {
    let mut s = spawn_stack().await;
    s.call_ok("list_projects", json!({})).await;
    let e = s.api.first_call("GET", "/api/v1/projects");
    assert!(
        e.query.contains(&("limit".to_string(), "25".to_string())),
        "{:?}",
        e.query
    );
    s.call_invalid_field("list_projects", json!({"limit": 101}), "limit")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_project_accepts_a_key_in_any_case_or_the_uuid() {
    let mut s = spawn_stack().await;
    let p = s.call_ok("get_project", json!({"project_id": "web"})).await;
    assert_eq!(p["key"], json!("WEB"));
    assert_eq!(p["name"], json!("Website"));
    let again = s.call_ok("get_project", json!({"project_id": p["id"]})).await;
    assert_eq!(again, p);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_project_reports_unknown_projects_and_refuses_malformed_references() {
    let mut s = spawn_stack().await;
    s.call_not_found("get_project", json!({"project_id": "NOPE"}), "project")
        .await;
    s.call_invalid_field("get_project", json!({"project_id": "WEB-1"}), "project_id")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_project_changes_and_clears_fields() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "WEB", "name": "Storefront", "budget_cents": 100_000, "budget_period": "Monthly", "cost_center_id": "ENG-001"});
    let p = s.call_ok("update_project", args).await;
    assert_eq!(p["name"], json!("Storefront"));
    assert_eq!(p["budget_cents"], json!(100_000));
    assert_eq!(p["cost_center_id"], json!("ENG-001"));
    let args = json!({"project_id": "web", "budget_cents": null, "cost_center_id": null});
    let p = s.call_ok("update_project", args).await;
    assert_eq!(p["budget_cents"], json!(null));
    assert_eq!(p["cost_center_id"], json!(null));
    assert_eq!(p["budget_period"], json!("Monthly"));
    let sent = s.api.last_request("patched", |e| e.method == "PATCH");
    assert_eq!(sent.path, "/api/v1/projects/web");
    assert_eq!(sent.body, Some(json!({"budget_cents": null, "cost_center_id": null})));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_project_needs_at_least_one_field() {
    let mut s = spawn_stack().await;
    let e = s.call_invalid("update_project", json!({"project_id": "WEB"})).await;
    let message = e["message"].as_str().expect("message");
    assert!(message.contains("at least one") && message.contains("name"), "{e}");
    s.call_invalid_field("update_project", json!({"project_id": "WEB", "key": "SHOP"}), "key")
        .await;
    assert!(s.api.requests("/api/v1/projects/WEB").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_project_deletes_once_and_then_reports_not_found() {
    let mut s = spawn_stack().await;
    let r = s.call_ok("delete_project", json!({"project_id": "web"})).await;
    assert_eq!(r, json!({"deleted": true, "project_id": "web"}));
    s.call_not_found("delete_project", json!({"project_id": "web"}), "project")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_project_reports_submitted_or_approved_time_as_a_conflict() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    s.call_err_reason("delete_project", json!({"project_id": "WEB"}), 409, "has_time_entries")
        .await;
    let p = s.call_ok("get_project", json!({"project_id": "WEB"})).await;
    assert_eq!(p["key"], json!("WEB"));
}

one_call_tests! {
    create_project_reports_a_taken_key_as_a_conflict:
        as Owner, "create_project" {"key": "web", "name": "Another website"} => call_err_reason(409, "duplicate");
    update_project_reports_a_viewer_as_forbidden:
        as Viewer, "update_project" {"project_id": "WEB", "name": "Mine now"} => call_err_reason(403, "insufficient_role");
}
