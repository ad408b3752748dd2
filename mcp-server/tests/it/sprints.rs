//! The eight sprint tools: each one succeeding against the mock (the empty test org or the
//! seed's WEB sprints: Sprint 1 Completed, Sprint 2 Active, Sprint 3 Planned), and each one
//! failing (an `isError` result with the API's status and reason, or -32602 for arguments the
//! schema or a rule refuses).

use crate::support::{
    Launch, NO_SUCH_ID, Stack, names_in, one_call_tests, spawn_seeded_stack, spawn_stack, spawn_stack_as,
};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// The id of the seeded WEB sprint whose name starts with `prefix`.
async fn seeded_sprint(s: &mut Stack, prefix: &str) -> String {
    let page = s.call_ok("list_sprints", json!({"project_id": "WEB"})).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|sp| sp["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .and_then(|sp| sp["id"].as_str())
        .unwrap_or_else(|| panic!("no seeded sprint {prefix}: {page}"))
        .to_string()
}

/// Creates a Planned sprint in `WEB` through the tool and returns its id.
async fn new_sprint(s: &mut Stack, name: &str) -> String {
    let args = json!({"project_id": "WEB", "name": name, "start_date": "2026-04-06", "end_date": "2026-04-17"});
    let sp = s.call_ok("create_sprint", args).await;
    sp["id"].as_str().expect("sprint id").to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_sprint_creates_a_planned_sprint_in_a_project_named_by_key() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "web", "name": "Sprint 1", "goal": "Ship search", "start_date": "2026-04-06", "end_date": "2026-04-17"});
    let sp = s.call_ok("create_sprint", args).await;
    assert_eq!(sp["status"], json!("Planned"));
    assert_eq!(sp["name"], json!("Sprint 1"));
    assert_eq!(sp["goal"], json!("Ship search"));
    assert_eq!(sp["start_date"], json!("2026-04-06"));
    assert_eq!(sp["end_date"], json!("2026-04-17"));
    assert_eq!(sp["started_at"], json!(null));
    // Created through #74.
    let posted = s.api.first_call("POST", "/api/v1/projects/web/sprints");
    assert_eq!(
        posted.body,
        Some(json!({"name": "Sprint 1", "goal": "Ship search", "start_date": "2026-04-06", "end_date": "2026-04-17"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_sprint_reports_an_end_before_the_start_and_refuses_a_malformed_date() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "WEB", "name": "Backwards", "start_date": "2026-04-10", "end_date": "2026-04-01"});
    let e = s.call_err_code("create_sprint", args, 400, "validation_error").await;
    assert_eq!(e["error"]["details"]["fields"]["end_date"], json!("out_of_range"));
    let args = json!({"project_id": "WEB", "name": "Bad", "start_date": "April 6", "end_date": "2026-04-17"});
    s.call_invalid_field("create_sprint", args, "start_date").await;
    assert_eq!(
        s.api.requests("/api/v1/projects/WEB/sprints").len(),
        1,
        "only the first call reached the API"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_sprints_filters_by_status_with_a_comma_separated_query() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let args = json!({"project_id": "WEB", "status": ["Active", "Planned"]});
    let page = s.call_ok("list_sprints", args).await;
    let statuses = names_in(&page["items"], "status");
    assert_eq!(statuses, ["Active", "Planned"], "{page}");
    assert_eq!(page["has_more"], json!(false));
    // Listed through #75.
    let listed = s.api.last_to("/api/v1/projects/WEB/sprints");
    assert_eq!(
        listed.query,
        [
            ("status".to_string(), "Active,Planned".to_string()),
            ("limit".to_string(), "25".to_string())
        ]
    );
    let all = s
        .call_ok("list_sprints", json!({"project_id": "WEB", "limit": 2}))
        .await;
    assert_eq!(all["has_more"], json!(true));
    assert_eq!(all["items"][0]["status"], json!("Completed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_sprints_reports_an_unknown_project_and_refuses_an_unknown_status() {
    let mut s = spawn_stack().await;
    s.call_not_found("list_sprints", json!({"project_id": "NOPE"}), "project")
        .await;
    let args = json!({"project_id": "WEB", "status": ["Running"]});
    s.call_invalid_field("list_sprints", args, "status[0]").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_sprint_changes_fields_and_clears_the_goal_with_null() {
    let mut s = spawn_stack().await;
    let id = new_sprint(&mut s, "Draft name").await;
    let args = json!({"sprint_id": id, "name": "Sprint 7", "goal": "Faster pages", "end_date": "2026-04-20"});
    let sp = s.call_ok("update_sprint", args).await;
    assert_eq!(sp["name"], json!("Sprint 7"));
    assert_eq!(sp["goal"], json!("Faster pages"));
    assert_eq!(sp["end_date"], json!("2026-04-20"));
    let sp = s.call_ok("update_sprint", json!({"sprint_id": id, "goal": null})).await;
    assert_eq!(sp["goal"], json!(null));
    let patched = s.api.last_request("patched through #77", |e| e.method == "PATCH");
    assert_eq!(patched.path, format!("/api/v1/sprints/{id}"));
    assert_eq!(patched.body, Some(json!({"goal": null})));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_sprint_needs_a_field_and_reports_a_completed_sprint_as_invalid_state() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let done = seeded_sprint(&mut s, "Sprint 1").await;
    let e = s.call_invalid("update_sprint", json!({"sprint_id": done})).await;
    assert!(e["message"].as_str().expect("message").contains("name"), "{e}");
    let args = json!({"sprint_id": done, "name": "Renamed"});
    let e = s.call_err_reason("update_sprint", args, 422, "invalid_state").await;
    assert_eq!(e["error"]["details"]["state"], json!("Completed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn start_sprint_activates_a_planned_sprint_without_a_body() {
    let mut s = spawn_stack().await;
    let id = new_sprint(&mut s, "First").await;
    let sp = s.call_ok("start_sprint", json!({"sprint_id": id})).await;
    assert_eq!(sp["status"], json!("Active"));
    assert!(sp["started_at"].is_string(), "{sp}");
    assert_eq!(sp["start_date"], json!("2026-04-06"));
    let started = s
        .api
        .first_request("started through #79", |e| e.path.ends_with("/start"));
    assert_eq!(started.method, "POST");
    assert_eq!(started.path, format!("/api/v1/sprints/{id}/start"));
    assert_eq!(started.body, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn start_sprint_reports_the_already_active_sprint_as_a_conflict() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let active = seeded_sprint(&mut s, "Sprint 2").await;
    let planned = seeded_sprint(&mut s, "Sprint 3").await;
    let args = json!({"sprint_id": planned});
    let e = s
        .call_err_reason("start_sprint", args, 409, "active_sprint_exists")
        .await;
    assert_eq!(e["error"]["details"]["sprint_id"], json!(active));
}

#[tokio::test(flavor = "multi_thread")]
async fn complete_sprint_carries_open_tickets_over_to_the_planned_sprint() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let active = seeded_sprint(&mut s, "Sprint 2").await;
    let planned = seeded_sprint(&mut s, "Sprint 3").await;
    let args = json!({"sprint_id": active, "move_unfinished_to": planned});
    let r = s.call_ok("complete_sprint", args).await;
    assert_eq!(r["sprint"]["status"], json!("Completed"));
    assert!(r["sprint"]["completed_at"].is_string());
    assert_eq!(r["moved_to_sprint_id"], json!(planned));
    let carried = ids(&r["carried_over_ticket_ids"]);
    assert!(!carried.is_empty(), "{r}");
    let completed = ids(&r["completed_ticket_ids"]);
    assert!(carried.iter().all(|c| !completed.contains(c)));
    let t = s.call_ok("get_ticket", json!({"ticket_id": carried[0]})).await;
    assert_eq!(t["sprint_id"], json!(planned));
    let posted = s
        .api
        .first_request("completed through #80", |e| e.path.ends_with("/complete"));
    assert_eq!(posted.body, Some(json!({"move_unfinished_to": planned})));
}

#[tokio::test(flavor = "multi_thread")]
async fn complete_sprint_reports_a_planned_sprint_as_invalid_state() {
    let mut s = spawn_stack().await;
    let id = new_sprint(&mut s, "Not started").await;
    let e = s
        .call_err_reason("complete_sprint", json!({"sprint_id": id}), 422, "invalid_state")
        .await;
    assert_eq!(e["error"]["details"]["state"], json!("Planned"));
    let posted = s.api.first_request("sent to #80", |e| e.path.ends_with("/complete"));
    assert_eq!(posted.body, Some(json!({})));
}

#[tokio::test(flavor = "multi_thread")]
async fn get_sprint_burndown_returns_the_frozen_series_of_a_completed_sprint() {
    let mut s = spawn_seeded_stack(Launch::default().role(OrgRole::Viewer)).await;
    let done = seeded_sprint(&mut s, "Sprint 1").await;
    let b = s.call_ok("get_sprint_burndown", json!({"sprint_id": done})).await;
    assert_eq!(b["sprint_id"], json!(done));
    assert_eq!(b["status"], json!("Completed"));
    assert_eq!(b["frozen"], json!(true));
    assert_eq!(b["start_date"], json!("2026-03-09"));
    let days = b["days"].as_array().expect("days");
    assert_eq!(days.first().map(|d| d["date"].clone()), Some(json!("2026-03-09")));
    assert!(b["total_tickets"].as_i64().expect("total") > 0, "{b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_sprint_returns_the_sprint_and_its_board_only_when_asked() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let active = seeded_sprint(&mut s, "Sprint 2").await;
    let r = s.call_ok("get_sprint", json!({"sprint_id": active})).await;
    assert_eq!(r["sprint"]["id"], json!(active));
    assert_eq!(r["sprint"]["status"], json!("Active"));
    assert_eq!(r["board"], json!(null));
    assert!(s.api.requests(&format!("/api/v1/sprints/{active}/board")).is_empty());
    let r = s
        .call_ok("get_sprint", json!({"sprint_id": active, "include_board": true}))
        .await;
    assert_eq!(r["sprint"]["name"], json!("Sprint 2 - Accessibility pass"));
    assert_eq!(r["board"]["sprint_id"], json!(active));
    let columns = names_in(&r["board"]["columns"], "status");
    assert_eq!(
        columns,
        ["Backlog", "Todo", "InProgress", "InReview", "Done", "Cancelled"]
    );
    assert_eq!(s.api.requests(&format!("/api/v1/sprints/{active}/board")).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_sprint_reports_an_unknown_sprint_without_asking_for_its_board() {
    let mut s = spawn_stack().await;
    let args = json!({"sprint_id": NO_SUCH_ID, "include_board": true});
    s.call_not_found("get_sprint", args, "sprint").await;
    assert!(
        s.api
            .requests(&format!("/api/v1/sprints/{NO_SUCH_ID}/board"))
            .is_empty()
    );
    s.call_invalid_field("get_sprint", json!({"sprint_id": "sprint-2"}), "sprint_id")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_sprint_deletes_it_and_sends_its_tickets_to_the_backlog() {
    let mut s = spawn_stack().await;
    let id = new_sprint(&mut s, "Doomed").await;
    s.api
        .ticket_with(json!({"title": "Planned work", "sprint_id": id}))
        .await;
    let r = s.call_ok("delete_sprint", json!({"sprint_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "sprint_id": id}));
    let t = s.call_ok("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(t["sprint_id"], json!(null));
    s.call_not_found("get_sprint", json!({"sprint_id": id}), "sprint").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_sprint_refuses_an_active_sprint_and_a_member() {
    let mut s = spawn_stack().await;
    let id = new_sprint(&mut s, "Running").await;
    s.call_ok("start_sprint", json!({"sprint_id": id})).await;
    let e = s
        .call_err_reason("delete_sprint", json!({"sprint_id": id}), 422, "invalid_state")
        .await;
    assert_eq!(e["error"]["details"]["state"], json!("Active"));

    let mut m = spawn_stack_as(OrgRole::Member).await;
    let id = new_sprint(&mut m, "Planned").await;
    m.call_err_reason("delete_sprint", json!({"sprint_id": id}), 403, "insufficient_role")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_active_and_the_last_sprint_are_named_with_their_project() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let active = s
        .call_ok("get_sprint", json!({"sprint_id": "active", "project_id": "WEB"}))
        .await;
    assert_eq!(active["sprint"]["status"], json!("Active"));
    assert!(
        active["sprint"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Sprint 2")),
        "{active}"
    );
    let last = s
        .call_ok("get_sprint_burndown", json!({"sprint_id": "last", "project_id": "web"}))
        .await;
    assert_eq!(last["status"], json!("Completed"));
    assert_eq!(last["frozen"], json!(true));
    let args = json!({"sprint_id": active["sprint"]["name"], "project_id": "WEB"});
    let by_name = s.call_ok("get_sprint", args).await;
    assert_eq!(by_name["sprint"]["id"], active["sprint"]["id"]);
    s.call_invalid_field("get_sprint", json!({"sprint_id": "active"}), "sprint_id")
        .await;
    let e = s
        .call_invalid("get_sprint", json!({"sprint_id": "Sprint 9", "project_id": "WEB"}))
        .await;
    assert_eq!(e["data"]["candidates"].as_array().map(Vec::len), Some(3), "{e}");
}

one_call_tests! {
    get_sprint_burndown_reports_an_unknown_sprint_as_not_found:
        as Owner, "get_sprint_burndown" {"sprint_id": NO_SUCH_ID} => call_not_found("sprint");
}
