//! The four tag tools: each one succeeding against the mock, and each one failing (an
//! `isError` result with the API's status and reason, or -32602 for refused arguments).
//! `set_tags` merges through PATCH (where `null` removes a key) and replaces through PUT
//! (where `null` is refused before any call).

use crate::support::{Stack, assert_last_page, one_call_tests, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Creates a ticket in `project` with `tags` through the API and returns it.
async fn tagged(s: &Stack, project: &str, title: &str, tags: Value) -> Value {
    s.api
        .create(
            &format!("/api/v1/projects/{project}/tickets"),
            json!({"title": title, "tags": tags}),
        )
        .await
}

fn keys(page: &Value) -> Vec<String> {
    crate::support::ticket_keys(page)
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tags_merges_by_default_and_null_removes_a_key() {
    let mut s = spawn_stack().await;
    let t = tagged(&s, "WEB", "Tagged", json!({"env": "prod", "team": "web"})).await;
    let args = json!({"ticket_id": "WEB-1", "tags": {"env": "staging", "team": null, "customer": "acme"}});
    let r = s.call_ok("set_tags", args).await;
    assert_eq!(
        r,
        json!({"ticket_id": t["id"], "tags": {"customer": "acme", "env": "staging"}})
    );
    let sent = s.api.first_to("/api/v1/tickets/WEB-1/tags");
    assert_eq!(sent.method, "PATCH");
    assert_eq!(
        sent.body,
        Some(json!({"tags": {"customer": "acme", "env": "staging", "team": null}}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tags_with_replace_puts_the_whole_set() {
    let mut s = spawn_stack().await;
    tagged(&s, "WEB", "Tagged", json!({"env": "prod", "team": "web"})).await;
    let args = json!({"ticket_id": "WEB-1", "tags": {"severity": "high"}, "replace": true});
    let r = s.call_ok("set_tags", args).await;
    assert_eq!(r["tags"], json!({"severity": "high"}));
    assert_eq!(
        s.api.requests("/api/v1/tickets/WEB-1/tags"),
        [("PUT".to_string(), "/api/v1/tickets/WEB-1/tags".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tags_with_replace_refuses_null_values_before_calling_the_api() {
    let mut s = spawn_stack().await;
    tagged(&s, "WEB", "Tagged", json!({"env": "prod"})).await;
    let args = json!({"ticket_id": "WEB-1", "tags": {"severity": "high", "env": null}, "replace": true});
    let e = s.call_invalid_field("set_tags", args, "tags.env").await;
    assert!(e["message"].as_str().expect("message").contains("tags.env"), "{e}");
    assert!(s.api.requests("/api/v1/tickets/WEB-1/tags").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tags_reports_a_key_the_api_refuses_as_a_validation_error() {
    let mut s = spawn_stack().await;
    s.api.ticket("Tag me").await;
    let args = json!({"ticket_id": "WEB-1", "tags": {"Bad Key": "x"}});
    let e = s.call_err_code("set_tags", args, 400, "validation_error").await;
    assert_eq!(e["error"]["details"]["fields"]["tags.Bad Key"], json!("invalid_format"));
}

#[tokio::test(flavor = "multi_thread")]
async fn get_tags_returns_the_tickets_tags() {
    let mut s = spawn_stack().await;
    let t = tagged(&s, "WEB", "Tagged", json!({"env": "prod", "customer": "acme"})).await;
    let r = s.call_ok("get_tags", json!({"ticket_id": "web-1"})).await;
    assert_eq!(
        r,
        json!({"ticket_id": t["id"], "tags": {"customer": "acme", "env": "prod"}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_tag_removes_one_key_and_ignores_missing_keys() {
    let mut s = spawn_stack().await;
    tagged(&s, "WEB", "Tagged", json!({"env": "prod", "release:v2": "yes"})).await;
    let r = s
        .call_ok("delete_tag", json!({"ticket_id": "WEB-1", "key": "release:v2"}))
        .await;
    assert_eq!(r["tags"], json!({"env": "prod"}));
    let r = s
        .call_ok("delete_tag", json!({"ticket_id": "WEB-1", "key": "absent"}))
        .await;
    assert_eq!(r["tags"], json!({"env": "prod"}));
    let deletes: Vec<String> = s
        .api
        .requests("/api/v1/tickets/WEB-1/tags/")
        .into_iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_tag_reports_a_viewer_as_forbidden() {
    let mut s = spawn_stack_as(OrgRole::Viewer).await;
    tagged(&s, "WEB", "Tagged", json!({"env": "prod"})).await;
    let args = json!({"ticket_id": "WEB-1", "key": "env"});
    s.call_err_reason("delete_tag", args, 403, "insufficient_role").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn search_by_tag_finds_tickets_by_key_and_value_across_the_org() {
    let mut s = spawn_stack().await;
    s.api.project("OPS", "Ops").await;
    tagged(&s, "WEB", "Acme web", json!({"customer": "acme"})).await;
    tagged(&s, "WEB", "Globex web", json!({"customer": "globex"})).await;
    tagged(&s, "WEB", "Untagged", json!({})).await;
    tagged(&s, "OPS", "Acme ops", json!({"customer": "acme"})).await;
    let any = s.call_ok("search_by_tag", json!({"key": "customer"})).await;
    assert_eq!(keys(&any), ["WEB-1", "WEB-2", "OPS-1"]);
    let acme = s
        .call_ok("search_by_tag", json!({"key": "customer", "value": "acme"}))
        .await;
    assert_eq!(keys(&acme), ["WEB-1", "OPS-1"]);
    let e = s.api.last_to("/api/v1/tickets");
    let q: BTreeMap<_, _> = e.query.into_iter().collect();
    assert_eq!(q["tag_key"], "customer");
    assert_eq!(q["tag_value"], "acme");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_by_tag_limits_to_one_project_and_pages() {
    let mut s = spawn_stack().await;
    for title in ["One", "Two", "Three"] {
        tagged(&s, "WEB", title, json!({"env": "prod"})).await;
    }
    let first = s
        .call_ok("search_by_tag", json!({"key": "env", "project_id": "web", "limit": 2}))
        .await;
    assert_eq!(keys(&first), ["WEB-1", "WEB-2"]);
    let args = json!({"key": "env", "project_id": "web", "limit": 2});
    let rest = s.next_page("search_by_tag", args, &first).await;
    assert_eq!(keys(&rest), ["WEB-3"]);
    assert_last_page(&rest);
    assert!(
        s.api
            .requests("/api/v1/projects/web/tickets")
            .iter()
            .all(|(m, _)| m == "GET")
    );
}

one_call_tests! {
    get_tags_reports_an_unknown_ticket_as_not_found:
        as Owner, "get_tags" {"ticket_id": "WEB-77"} => call_not_found("ticket");
    search_by_tag_reports_an_unknown_project_as_not_found:
        as Owner, "search_by_tag" {"key": "env", "project_id": "NOPE"} => call_not_found("project");
    search_by_tag_requires_a_key:
        as Owner, "search_by_tag" {"value": "acme"} => call_invalid_field("key");
}
