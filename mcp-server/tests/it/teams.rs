//! The three team tools: each one succeeding (the org defaults to the caller's, or is taken
//! from `org_id`) and each one failing with the API's status and reason.

use crate::support::{Launch, NO_SUCH_ID, names_in, spawn_seeded_stack, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn create_team_creates_a_team_in_the_callers_org_with_sorted_members() {
    let mut s = spawn_stack().await;
    let member = s.api.user(OrgRole::Member);
    let admin = s.api.user(OrgRole::Admin);
    let args = json!({"name": "Frontend", "description": "Web UI", "member_ids": [member, admin]});
    let t = s.call_ok("create_team", args).await;
    assert_eq!(t["name"], json!("Frontend"));
    assert_eq!(t["description"], json!("Web UI"));
    assert_eq!(t["org_id"], json!(s.api.org_id));
    let mut sorted = vec![member.clone(), admin.clone()];
    sorted.sort();
    assert_eq!(t["member_ids"], json!(sorted));
    let posted = s.api.first_request("created through #23", |e| {
        e.method == "POST" && e.path.ends_with("/teams")
    });
    assert_eq!(posted.path, format!("/api/v1/orgs/{}/teams", s.api.org_id));
    assert_eq!(
        posted.body,
        Some(json!({"name": "Frontend", "description": "Web UI", "member_ids": [member, admin]}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_team_reports_a_taken_name_a_non_member_and_a_member_caller() {
    let mut s = spawn_stack().await;
    s.call_ok("create_team", json!({"name": "Platform"})).await;
    s.call_err_reason("create_team", json!({"name": "platform"}), 409, "duplicate")
        .await;
    let args = json!({"name": "Ghosts", "member_ids": [NO_SUCH_ID]});
    s.call_err_reason("create_team", args, 422, "invalid_reference").await;
    s.call_invalid_field("create_team", json!({"name": ""}), "name").await;

    let mut m = spawn_stack_as(OrgRole::Member).await;
    m.call_err_reason("create_team", json!({"name": "Rogue"}), 403, "insufficient_role")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_teams_lists_the_org_and_filters_by_user() {
    let mut s = spawn_stack().await;
    let member = s.api.user(OrgRole::Member);
    s.call_ok("create_team", json!({"name": "Frontend", "member_ids": [member]}))
        .await;
    s.call_ok("create_team", json!({"name": "Platform"})).await;
    let page = s.call_ok("list_teams", json!({})).await;
    let names = names_in(&page["items"], "name");
    assert_eq!(names, ["Frontend", "Platform"]);
    assert_eq!(page["has_more"], json!(false));
    let org = s.api.org_id.clone();
    let page = s
        .call_ok("list_teams", json!({"user_id": "member@acme.test", "limit": 10}))
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["items"][0]["name"], json!("Frontend"));
    let listed = s.api.last_request("listed through #24", |e| {
        e.method == "GET" && e.path.ends_with("/teams")
    });
    assert_eq!(listed.path, format!("/api/v1/orgs/{org}/teams"));
    assert_eq!(
        listed.query,
        [("user_id".to_string(), member), ("limit".to_string(), "10".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_teams_names_the_candidates_of_an_unknown_email() {
    let mut s = spawn_seeded_stack(Launch::default().role(OrgRole::Viewer)).await;
    let page = s.call_ok("list_teams", json!({})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    let e = s
        .call_invalid_field("list_teams", json!({"user_id": "mia@acme.test"}), "user_id")
        .await;
    let candidates = e["data"]["candidates"].as_array().expect("candidates");
    assert_eq!(candidates[0]["email"], json!("maya@acme.test"), "closest first: {e}");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("maya@acme.test")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_team_deletes_it_and_echoes_the_id() {
    let mut s = spawn_stack().await;
    let t = s.call_ok("create_team", json!({"name": "Temporary"})).await;
    let id = t["id"].as_str().expect("id").to_string();
    let r = s.call_ok("delete_team", json!({"team_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "team_id": id}));
    assert_eq!(
        s.api.requests("/api/v1/teams/"),
        [("DELETE".to_string(), format!("/api/v1/teams/{id}"))]
    );
    let page = s.call_ok("list_teams", json!({})).await;
    assert_eq!(page["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_team_reports_an_unknown_team_and_a_member_caller() {
    let mut s = spawn_stack().await;
    s.call_not_found("delete_team", json!({"team_id": NO_SUCH_ID}), "team")
        .await;
    s.call_invalid_field("delete_team", json!({}), "team_id").await;

    let mut m = spawn_stack_as(OrgRole::Member).await;
    let t = m
        .api
        .create(&format!("/api/v1/orgs/{}/teams", m.api.org_id), json!({"name": "Kept"}))
        .await;
    m.call_err_reason("delete_team", json!({"team_id": t["id"]}), 403, "insufficient_role")
        .await;
}
