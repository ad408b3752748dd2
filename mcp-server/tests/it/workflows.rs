//! The five workflow tools: each one succeeding and each one failing (an `isError` result
//! with the API's status and reason, or -32602 for arguments the schema or a rule refuses),
//! plus strict enforcement reaching the model through `transition_ticket`.

use crate::support::{Launch, NO_SUCH_ID, Stack, one_call_tests, spawn_seeded_stack, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// A three-status strict workflow: Open → Doing → Shipped, nothing else.
fn pipeline() -> Value {
    json!({
        "name": "Pipeline",
        "description": "Straight line",
        "statuses": [
            {"name": "Open", "category": "Unstarted"},
            {"name": "Doing", "category": "Started"},
            {"name": "Shipped", "category": "Completed"},
        ],
        "transitions": [{"from": "Open", "to": "Doing"}, {"from": "Doing", "to": "Shipped"}],
        "enforcement": "strict",
    })
}

/// The id of the workflow named `name` in the caller's org.
async fn workflow_id(s: &mut Stack, name: &str) -> String {
    let page = s.call_ok("list_workflows", json!({})).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|w| w["name"] == json!(name))
        .and_then(|w| w["id"].as_str())
        .unwrap_or_else(|| panic!("no workflow {name}: {page}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_workflow_creates_a_strict_workflow_in_the_callers_org() {
    let mut s = spawn_stack().await;
    let w = s.call_ok("create_workflow", pipeline()).await;
    assert_eq!(w["name"], json!("Pipeline"));
    assert_eq!(w["enforcement"], json!("strict"));
    assert_eq!(w["initial_status"], json!("Open"));
    assert_eq!(w["is_default"], json!(false));
    assert_eq!(w["statuses"], pipeline()["statuses"]);
    assert_eq!(w["transitions"], pipeline()["transitions"]);
    assert_eq!(w["project_count"], json!(0));
    let posted = s.api.first_request("created through #30", |e| {
        e.method == "POST" && e.path.ends_with("/workflows")
    });
    assert_eq!(posted.path, format!("/api/v1/orgs/{}/workflows", s.api.org_id));
    assert_eq!(posted.body, Some(pipeline()));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_workflow_refuses_bad_statuses_and_reports_the_apis_rules() {
    let mut s = spawn_stack().await;
    let mut bad = pipeline();
    bad["statuses"][1]["category"] = json!("Ongoing");
    s.call_invalid_field("create_workflow", bad, "statuses[1].category")
        .await;
    let mut one = pipeline();
    one["statuses"] = json!([{"name": "Open", "category": "Unstarted"}]);
    one["transitions"] = json!([]);
    s.call_invalid_field("create_workflow", one, "statuses").await;
    let mut enforcement = pipeline();
    enforcement["enforcement"] = json!("Strict");
    s.call_invalid_field("create_workflow", enforcement, "enforcement")
        .await;
    assert!(
        s.api
            .requests(&format!("/api/v1/orgs/{}/workflows", s.api.org_id))
            .is_empty()
    );

    let mut no_done = pipeline();
    no_done["statuses"][2]["category"] = json!("Started");
    s.call_err_code("create_workflow", no_done, 400, "validation_error")
        .await;
    s.call_ok("create_workflow", pipeline()).await;
    s.call_err_reason("create_workflow", pipeline(), 409, "duplicate").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_workflows_lists_default_first_with_the_seeded_delivery_workflow() {
    let mut s = spawn_seeded_stack(Launch::default().role(OrgRole::Viewer)).await;
    let page = s.call_ok("list_workflows", json!({"limit": 10})).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items[0]["name"], json!("Default"));
    assert_eq!(items[0]["is_default"], json!(true));
    let delivery = items
        .iter()
        .find(|w| w["name"] == json!("Delivery"))
        .expect("Delivery listed");
    assert_eq!(delivery["enforcement"], json!("strict"));
    assert!(delivery["project_count"].as_i64().expect("count") >= 1);
    let listed = s
        .api
        .last_request("listed through #31", |e| e.path.ends_with("/workflows"));
    assert_eq!(listed.query, [("limit".to_string(), "10".to_string())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_workflow_replaces_fields_and_clears_the_description() {
    let mut s = spawn_stack().await;
    let w = s.call_ok("create_workflow", pipeline()).await;
    let id = w["id"].as_str().expect("id").to_string();
    let args = json!({"workflow_id": id, "enforcement": "none", "description": null, "transitions": []});
    let w = s.call_ok("update_workflow", args).await;
    assert_eq!(w["enforcement"], json!("none"));
    assert_eq!(w["description"], json!(null));
    assert_eq!(w["transitions"], json!([]));
    assert_eq!(w["statuses"], pipeline()["statuses"]);
    let patched = s.api.first_request("patched through #33", |e| e.method == "PATCH");
    assert_eq!(patched.path, format!("/api/v1/workflows/{id}"));
    assert_eq!(
        patched.body,
        Some(json!({"description": null, "transitions": [], "enforcement": "none"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn update_workflow_needs_a_field_and_reports_the_default_as_protected() {
    let mut s = spawn_stack().await;
    let default = workflow_id(&mut s, "Default").await;
    let e = s.call_invalid("update_workflow", json!({"workflow_id": default})).await;
    assert!(e["message"].as_str().expect("message").contains("enforcement"), "{e}");
    let args = json!({"workflow_id": default, "enforcement": "strict"});
    s.call_err_reason("update_workflow", args, 422, "protected").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_workflow_reports_removing_a_status_tickets_hold_as_in_use() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let delivery = workflow_id(&mut s, "Delivery").await;
    let statuses = json!([
        {"name": "Backlog", "category": "Unstarted"},
        {"name": "Done", "category": "Completed"},
    ]);
    let args = json!({"workflow_id": delivery, "statuses": statuses});
    let e = s.call_err_reason("update_workflow", args, 409, "in_use").await;
    assert!(e["error"]["details"]["dependents"].is_object(), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_workflow_returns_the_default_workflow_with_all_transitions() {
    let mut s = spawn_stack_as(OrgRole::Viewer).await;
    let default = workflow_id(&mut s, "Default").await;
    let w = s.call_ok("get_workflow", json!({"workflow_id": default})).await;
    assert_eq!(w["id"], json!(default));
    assert_eq!(w["initial_status"], json!("Backlog"));
    assert_eq!(w["enforcement"], json!("none"));
    assert_eq!(w["statuses"].as_array().map(Vec::len), Some(6));
    assert_eq!(w["transitions"].as_array().map(Vec::len), Some(30));
    assert_eq!(
        s.api.requests("/api/v1/workflows/"),
        [("GET".to_string(), format!("/api/v1/workflows/{default}"))]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_workflow_reports_an_unknown_workflow_and_refuses_a_non_uuid() {
    let mut s = spawn_stack().await;
    s.call_not_found("get_workflow", json!({"workflow_id": NO_SUCH_ID}), "workflow")
        .await;
    s.call_invalid_field("get_workflow", json!({"workflow_id": "Default"}), "workflow_id")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_workflow_deletes_an_unused_workflow() {
    let mut s = spawn_stack().await;
    let w = s.call_ok("create_workflow", pipeline()).await;
    let id = w["id"].as_str().expect("id").to_string();
    let r = s.call_ok("delete_workflow", json!({"workflow_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "workflow_id": id}));
    s.call_not_found("get_workflow", json!({"workflow_id": id}), "workflow")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_workflow_refuses_a_used_workflow_and_the_default() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let delivery = workflow_id(&mut s, "Delivery").await;
    s.call_err_reason("delete_workflow", json!({"workflow_id": delivery}), 409, "in_use")
        .await;
    let default = workflow_id(&mut s, "Default").await;
    s.call_err_reason("delete_workflow", json!({"workflow_id": default}), 422, "protected")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_strict_workflow_refuses_an_unlisted_transition_of_an_api_ticket() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let args = json!({"project_id": "API", "title": "Rate-limit headers"});
    let t = s.call_ok("create_ticket", args).await;
    assert_eq!(t["status"], json!("Backlog"));
    let key = t["key"].as_str().expect("key").to_string();
    let args = json!({"ticket_id": key, "status": "Done"});
    let e = s.call_err_code("transition_ticket", args, 422, "unprocessable").await;
    let d = &e["error"]["details"];
    assert_eq!(d["reason"], json!("transition_not_allowed"));
    assert_eq!(d["from"], json!("Backlog"));
    assert_eq!(d["to"], json!("Done"));
    assert_eq!(d["allowed"], json!(["Todo", "Cancelled"]));
    let t = s
        .call_ok("transition_ticket", json!({"ticket_id": key, "status": "Todo"}))
        .await;
    assert_eq!(t["status"], json!("Todo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_made_strict_with_the_tools_is_enforced_on_transitions() {
    let mut s = spawn_stack().await;
    let w = s.call_ok("create_workflow", pipeline()).await;
    s.api
        .send_expect(
            "PATCH",
            "/api/v1/projects/WEB",
            Some(json!({"workflow_id": w["id"]})),
            200,
        )
        .await;
    let t = s.api.ticket("Straight through").await;
    assert_eq!(t["status"], json!("Open"));
    let args = json!({"ticket_id": "WEB-1", "status": "Shipped"});
    let e = s
        .call_err_reason("transition_ticket", args, 422, "transition_not_allowed")
        .await;
    assert_eq!(e["error"]["details"]["allowed"], json!(["Doing"]));
}

one_call_tests! {
    list_workflows_reports_a_bad_cursor:
        as Owner, "list_workflows" {"cursor": "%%%"} => call_err_reason(400, "invalid_cursor");
}
