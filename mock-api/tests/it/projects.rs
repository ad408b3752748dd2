//! Projects over HTTP: create/read/update/delete, key rules, members and summary.

use crate::support::spawn_with;
use alloy_mock_api::MockOptions;
use serde_json::json;

/// An empty deterministic mock with one onboarded Owner; returns the API and an access token.
async fn onboarded() -> (crate::support::Api, String) {
    let api = spawn_with(MockOptions {
        deterministic: true,
        ..MockOptions::default()
    })
    .await;
    let r = api
        .send(
            "POST",
            None,
            "/api/v1/onboard",
            Some(json!({"email": "o@x.test", "password": "password1", "display_name": "O", "org_name": "X", "org_slug": "x-org"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["access_token"].as_str().expect("token").to_string();
    (api, token)
}

#[tokio::test]
async fn create_project_returns_201_with_counter_zero_and_key_upper_cased() {
    let (api, t) = onboarded().await;
    let req = json!({"key": "web", "name": "Website", "budget_cents": 5000000, "budget_period": "Quarterly"});
    let r = api.create(&t, "/api/v1/projects", req).await;
    assert_eq!(r.body["key"], "WEB");
    assert_eq!(r.body["ticket_counter"], 0);
    assert_eq!(r.body["capitalization_type"], json!(null));
    let loc = r.location();
    assert_eq!(api.get(&t, &loc).await.body["id"], r.body["id"]);
    assert_eq!(api.get(&t, "/api/v1/projects/WEB").await.body["id"], r.body["id"]);
}

#[tokio::test]
async fn duplicate_project_key_is_409_and_bad_fields_are_all_listed() {
    let (api, t) = onboarded().await;
    api.project(&t, "WEB").await;
    let r = api
        .post(&t, "/api/v1/projects", json!({"key": "Web", "name": "Again"}))
        .await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    let req = json!({"key": "1X", "name": "", "budget_period": "Weekly", "colour": 1});
    let r = api.post(&t, "/api/v1/projects", req).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    let fields = r.fields();
    assert_eq!(
        fields,
        &json!({"key": "invalid_format", "name": "required", "budget_period": "invalid_enum", "colour": "unknown_field"})
    );
}

#[tokio::test]
async fn patch_clears_nullable_fields_and_rejects_immutable_ones() {
    let (api, t) = onboarded().await;
    api.post(
        &t,
        "/api/v1/projects",
        json!({"key": "FIN", "name": "Finance", "cost_center_id": "ENG-001"}),
    )
    .await;
    let req = json!({"cost_center_id": null, "name": "Finance 2"});
    let r = api.patch(&t, "/api/v1/projects/FIN", req).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["cost_center_id"], json!(null));
    assert_eq!(r.body["name"], "Finance 2");
    let r = api
        .patch(&t, "/api/v1/projects/FIN", json!({"key": "NEW", "name": null}))
        .await;
    assert_eq!(*r.fields(), json!({"key": "immutable", "name": "not_nullable"}));
}

#[tokio::test]
async fn malformed_json_and_missing_content_type_are_bad_requests() {
    let (api, t) = onboarded().await;
    let r = api
        .post_raw(&t, "/api/v1/projects", "application/json", "{\"key\": ")
        .await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["details"]["reason"], "malformed_json");
    let r = api
        .http
        .post(api.url("/api/v1/projects"))
        .bearer_auth(&t)
        .body("{}")
        .send()
        .await
        .expect("send");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["details"]["reason"], "unsupported_media_type");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let (api, t) = onboarded().await;
    let r = api.get(&t, "/api/v1/nothing-here").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = api.put(&t, "/api/v1/projects", json!({})).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["error"]["details"]["allow"], json!(["GET", "POST"]));
}

#[tokio::test]
async fn delete_project_is_204_and_later_reads_are_404() {
    let (api, t) = onboarded().await;
    api.project(&t, "TMP").await;
    assert_eq!(api.delete(&t, "/api/v1/projects/TMP").await.status, 204);
    let r = api.get(&t, "/api/v1/projects/TMP").await;
    r.not_found("project");
}

#[tokio::test]
async fn project_members_are_added_listed_and_removed() {
    let (api, t) = onboarded().await;
    let p = api.project(&t, "WEB").await;
    let me = p["created_by"].as_str().expect("creator").to_string();
    let r = api.get(&t, "/api/v1/projects/WEB/members").await;
    assert_eq!(r.body["items"][0]["user_id"], json!(me));
    assert_eq!(r.body["items"][0]["org_role"], "Owner");
    let r = api
        .post(&t, "/api/v1/projects/WEB/members", json!({"user_id": me}))
        .await;
    assert_eq!((r.status, r.reason()), (409, "already_member"));
    assert_eq!(
        api.delete(&t, &format!("/api/v1/projects/WEB/members/{me}"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete(&t, &format!("/api/v1/projects/WEB/members/{me}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn summary_counts_every_status_of_the_workflow() {
    let (api, t) = onboarded().await;
    api.project(&t, "WEB").await;
    let r = api.get(&t, "/api/v1/projects/WEB/summary").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["tickets"]["by_status"],
        json!({"Backlog": 0, "Todo": 0, "InProgress": 0, "InReview": 0, "Done": 0, "Cancelled": 0})
    );
    assert_eq!(r.body["budget"]["burn_percent"], json!(null));
    assert_eq!(r.body["active_sprint"], json!(null));
}
