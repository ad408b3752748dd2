//! The nine Organization & Access tools: org members, invites, project members and API keys,
//! each succeeding against the mock and each failing (an `isError` result with the API's
//! status and code, or -32602 for refused arguments).

use crate::support::{NO_SUCH_ID, assert_query_has, names_in, one_call_tests, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("a page of items")
}

#[tokio::test(flavor = "multi_thread")]
async fn list_members_fills_the_callers_org_and_filters_by_role() {
    let mut s = spawn_stack().await;
    let page = s.call_ok("list_members", json!({})).await;
    assert_eq!(items(&page).len(), 5, "{page}");
    let page = s.call_ok("list_members", json!({"role": ["Admin", "Owner"]})).await;
    assert_eq!(names_in(&page["items"], "role"), ["Owner", "Admin"]);
    assert_eq!(items(&page)[1]["user_id"], json!(s.api.user(OrgRole::Admin)));
    let listed = s.api.last_to(&format!("/api/v1/orgs/{}/members", s.api.org_id));
    assert_query_has(&listed, "role", "Admin,Owner");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_members_lists_the_callers_org_and_refuses_unknown_roles() {
    let mut s = spawn_stack().await;
    let page = s.call_ok("list_members", json!({})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(5), "{page}");
    assert_eq!(
        s.api.requests(&format!("/api/v1/orgs/{}/members", s.api.org_id)).len(),
        1
    );
    s.call_invalid_field("list_members", json!({"role": ["Guest"]}), "role[0]")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_invite_returns_the_invite_with_its_code() {
    let mut s = spawn_stack().await;
    let args = json!({"email": "New.Person@acme.test", "role": "Reporter", "expires_in_days": 3});
    let inv = s.call_ok("create_invite", args).await;
    assert_eq!(inv["email"], json!("new.person@acme.test"));
    assert_eq!(inv["role"], json!("Reporter"));
    assert_eq!(inv["status"], json!("Pending"));
    assert_eq!(inv["org_id"], json!(s.api.org_id));
    assert_eq!(inv["expires_at"], json!("2026-04-04T12:00:00.000Z"));
    assert!(inv["code"].as_str().is_some_and(|c| c.starts_with("inv_")), "{inv}");
    let sent = s
        .api
        .first_request("invited", |e| e.method == "POST" && e.path.ends_with("/invites"));
    assert_eq!(sent.path, format!("/api/v1/orgs/{}/invites", s.api.org_id));
    assert_eq!(
        sent.body,
        Some(json!({"email": "New.Person@acme.test", "role": "Reporter", "expires_in_days": 3}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_invite_reports_existing_members_and_refuses_owner_invites() {
    let mut s = spawn_stack().await;
    let args = json!({"email": "member@acme.test"});
    s.call_err_reason("create_invite", args, 409, "already_member").await;
    for (args, field) in [
        (json!({"email": "boss@acme.test", "role": "Owner"}), "role"),
        (json!({"email": "not-an-email"}), "email"),
    ] {
        s.call_invalid_field("create_invite", args, field).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_invites_lists_by_status_without_codes() {
    let mut s = spawn_stack().await;
    s.call_ok("create_invite", json!({"email": "a@acme.test"})).await;
    let page = s
        .call_ok("list_invites", json!({"status": ["Pending", "Expired"]}))
        .await;
    assert_eq!(items(&page).len(), 1, "{page}");
    assert_eq!(items(&page)[0]["email"], json!("a@acme.test"));
    assert_eq!(items(&page)[0]["code"], json!(null));
    let page = s.call_ok("list_invites", json!({"status": ["Revoked"]})).await;
    assert!(items(&page).is_empty(), "{page}");
    let e = s
        .api
        .last_request("listed", |e| e.method == "GET" && e.path.ends_with("/invites"));
    assert_eq!(e.path, format!("/api/v1/orgs/{}/invites", s.api.org_id));
}

#[tokio::test(flavor = "multi_thread")]
async fn add_project_member_adds_an_org_member_to_a_project() {
    let mut s = spawn_stack().await;
    let reporter = s.api.user(OrgRole::Reporter);
    let m = s
        .call_ok("add_project_member", json!({"project_id": "web", "user_id": reporter}))
        .await;
    assert_eq!(m["user_id"], json!(reporter));
    assert_eq!(m["org_role"], json!("Reporter"));
    assert_eq!(m["email"], json!("reporter@acme.test"));
    let sent = s.api.first_to("/api/v1/projects/web/members");
    assert_eq!(sent.body, Some(json!({"user_id": reporter})));
}

#[tokio::test(flavor = "multi_thread")]
async fn add_project_member_reports_members_already_in_and_non_members() {
    let mut s = spawn_stack().await;
    let owner = s.api.user(OrgRole::Owner);
    let args = json!({"project_id": "WEB", "user_id": owner});
    s.call_err_reason("add_project_member", args, 409, "already_member")
        .await;
    let args = json!({"project_id": "WEB", "user_id": NO_SUCH_ID});
    s.call_err_reason("add_project_member", args, 422, "invalid_reference")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_project_member_removes_and_then_reports_not_found() {
    let mut s = spawn_stack().await;
    let member = s.api.user(OrgRole::Member);
    s.call_ok("add_project_member", json!({"project_id": "WEB", "user_id": member}))
        .await;
    let r = s
        .call_ok("remove_project_member", json!({"project_id": "web", "user_id": member}))
        .await;
    assert_eq!(r, json!({"removed": true, "project_id": "web", "user_id": member}));
    assert_eq!(
        s.api.requests(&format!("/api/v1/projects/web/members/{member}")),
        [("DELETE".to_string(), format!("/api/v1/projects/web/members/{member}"))]
    );
    let args = json!({"project_id": "web", "user_id": member});
    s.call_err_code("remove_project_member", args, 404, "not_found").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_project_members_lists_in_the_order_added() {
    let mut s = spawn_stack().await;
    let admin = s.api.user(OrgRole::Admin);
    s.call_ok("add_project_member", json!({"project_id": "WEB", "user_id": admin}))
        .await;
    let page = s
        .call_ok("list_project_members", json!({"project_id": "WEB", "limit": 1}))
        .await;
    assert_eq!(items(&page)[0]["user_id"], json!(s.api.user(OrgRole::Owner)));
    let args = json!({"project_id": "WEB", "limit": 1});
    let page = s.next_page("list_project_members", args, &page).await;
    assert_eq!(items(&page)[0]["user_id"], json!(admin));
    assert_eq!(page["has_more"], json!(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_api_key_returns_the_secret_once_with_its_limits() {
    let mut s = spawn_stack().await;
    let args = json!({
        "name": "CI reader",
        "scopes": ["read"],
        "project_ids": ["web"],
        "expires_at": "2027-01-01T00:00:00Z",
        "environment": "live",
    });
    let k = s.call_ok("create_api_key", args).await;
    let key = k["key"].as_str().expect("the secret key").to_string();
    assert!(key.starts_with("alloy_live_"), "{k}");
    assert_eq!(k["key_prefix"], json!(&key[..15]));
    assert_eq!(k["scopes"], json!(["read"]));
    assert_eq!(k["user_id"], json!(s.api.user(OrgRole::Owner)));
    let web = s.call_ok("get_project", json!({"project_id": "WEB"})).await;
    assert_eq!(k["project_ids"], json!([web["id"]]));
    assert_eq!(k["expires_at"], json!("2027-01-01T00:00:00.000Z"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_api_key_reports_a_past_expiry_and_refuses_empty_scopes() {
    let mut s = spawn_stack().await;
    let args = json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"});
    let e = s.call_err_code("create_api_key", args, 400, "validation_error").await;
    assert_eq!(e["error"]["details"]["fields"]["expires_at"], json!("out_of_range"));
    for (args, field) in [
        (json!({"name": "none", "scopes": []}), "scopes"),
        (json!({"name": "x", "environment": "prod"}), "environment"),
    ] {
        s.call_invalid_field("create_api_key", args, field).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_api_keys_lists_own_keys_or_every_key_of_the_org() {
    let mut s = spawn_stack().await;
    let page = s.call_ok("list_api_keys", json!({})).await;
    assert_eq!(items(&page).len(), 1, "{page}");
    assert_eq!(items(&page)[0]["key"], json!(null));
    assert_eq!(items(&page)[0]["key_prefix"], json!("alloy_test_owne"));
    let page = s.call_ok("list_api_keys", json!({"all": true})).await;
    assert_eq!(items(&page).len(), 5, "{page}");
    assert_query_has(&s.api.last_call("GET", "/api/v1/api-keys"), "all", "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_api_key_revokes_a_key_and_then_reports_not_found() {
    let mut s = spawn_stack().await;
    let k = s.call_ok("create_api_key", json!({"name": "temp"})).await;
    let id = k["id"].as_str().expect("id").to_string();
    let r = s.call_ok("delete_api_key", json!({"api_key_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "api_key_id": id}));
    s.call_not_found("delete_api_key", json!({"api_key_id": id}), "api_key")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_api_key_reports_another_users_key_as_forbidden_for_a_member() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    let owners = s.api.send_expect("GET", "/api/v1/api-keys", None, 200).await;
    let owner_key = owners["items"][0]["id"].as_str().expect("owner key id").to_string();
    s.call_err_reason("delete_api_key", json!({"api_key_id": owner_key}), 403, "not_owner")
        .await;
    s.call_invalid_field("delete_api_key", json!({"api_key_id": "owner"}), "api_key_id")
        .await;
}

one_call_tests! {
    list_invites_refuses_unknown_states:
        as Owner, "list_invites" {"status": ["Pending", "Open"]} => call_invalid_field("status[1]");
    list_project_members_reports_unknown_projects:
        as Owner, "list_project_members" {"project_id": "NOPE"} => call_not_found("project");
    list_api_keys_reports_all_keys_as_admin_only:
        as Member, "list_api_keys" {"all": true} => call_err_reason(403, "insufficient_role");
}
