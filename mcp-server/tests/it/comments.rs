//! The four comment tools: each one succeeding against the mock, and each one failing (an
//! `isError` result with the API's status and reason, or -32602 for refused arguments).

use crate::support::{assert_last_page, names_in, one_call_tests, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// Adds a comment to `ticket` through the API with the Owner key and returns it.
async fn comment(s: &crate::support::Stack, ticket: &str, body: &str) -> Value {
    s.api
        .create(&format!("/api/v1/tickets/{ticket}/comments"), json!({"body": body}))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn add_comment_posts_the_body_to_the_ticket_as_the_caller() {
    let mut s = spawn_stack().await;
    let t = s.api.ticket("Discuss me").await;
    let args = json!({"ticket_id": "web-1", "body": "Looks like a **CSS** issue."});
    let c = s.call_ok("add_comment", args).await;
    assert_eq!(c["body"], json!("Looks like a **CSS** issue."));
    assert_eq!(c["ticket_id"], t["id"]);
    assert_eq!(c["author_id"], json!(s.api.user(OrgRole::Owner)));
    assert_eq!(c["edited_at"], json!(null));
    let sent = s.api.first_call("POST", "/api/v1/tickets/web-1/comments");
    assert_eq!(sent.body, Some(json!({"body": "Looks like a **CSS** issue."})));
}

#[tokio::test(flavor = "multi_thread")]
async fn add_comment_reports_a_reporter_outside_the_project_as_forbidden() {
    let mut s = spawn_stack_as(OrgRole::Reporter).await;
    s.api.ticket("Not your project").await;
    let args = json!({"ticket_id": "WEB-1", "body": "hi"});
    s.call_err_reason("add_comment", args, 403, "not_project_member").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn add_comment_refuses_an_empty_body_before_calling_the_api() {
    let mut s = spawn_stack().await;
    s.api.ticket("Discuss me").await;
    s.call_invalid_field("add_comment", json!({"ticket_id": "WEB-1", "body": ""}), "body")
        .await;
    assert!(s.api.requests("/api/v1/tickets/WEB-1/comments").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_comments_pages_through_a_tickets_comments_oldest_first() {
    let mut s = spawn_stack().await;
    s.api.ticket("Chatty").await;
    for body in ["first", "second", "third"] {
        comment(&s, "WEB-1", body).await;
    }
    let page = s
        .call_ok("list_comments", json!({"ticket_id": "WEB-1", "limit": 2}))
        .await;
    assert_eq!(names_in(&page["items"], "body"), ["first", "second"]);
    let rest = s
        .next_page("list_comments", json!({"ticket_id": "WEB-1", "limit": 2}), &page)
        .await;
    assert_eq!(rest["items"][0]["body"], json!("third"));
    assert_last_page(&rest);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_comment_replaces_the_text_and_marks_it_edited() {
    let mut s = spawn_stack().await;
    s.api.ticket("Typo").await;
    let c = comment(&s, "WEB-1", "teh fix").await;
    let id = c["id"].as_str().expect("id").to_string();
    let u = s
        .call_ok("update_comment", json!({"comment_id": id, "body": "the fix"}))
        .await;
    assert_eq!(u["id"], json!(id));
    assert_eq!(u["body"], json!("the fix"));
    assert!(u["edited_at"].is_string(), "{u}");
    let sent = s.api.first_request("patched", |e| e.method == "PATCH");
    assert_eq!(sent.path, format!("/api/v1/comments/{id}"));
    assert_eq!(sent.body, Some(json!({"body": "the fix"})));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_comment_reports_someone_elses_comment_as_not_author() {
    let mut s = spawn_stack_as(OrgRole::Admin).await;
    s.api.ticket("Owned words").await;
    let c = comment(&s, "WEB-1", "mine").await;
    let args = json!({"comment_id": c["id"], "body": "yours now"});
    s.call_err_reason("update_comment", args, 403, "not_author").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_comment_deletes_once_and_then_reports_not_found() {
    let mut s = spawn_stack().await;
    s.api.ticket("Regret").await;
    let c = comment(&s, "WEB-1", "oops").await;
    let id = c["id"].as_str().expect("id").to_string();
    let r = s.call_ok("delete_comment", json!({"comment_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "comment_id": id}));
    s.call_not_found("delete_comment", json!({"comment_id": id}), "comment")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_comment_reports_a_member_deleting_anothers_comment_as_not_author() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.api.ticket("Guarded").await;
    let c = comment(&s, "WEB-1", "keep me").await;
    s.call_err_reason("delete_comment", json!({"comment_id": c["id"]}), 403, "not_author")
        .await;
}

one_call_tests! {
    list_comments_reports_an_unknown_ticket_as_not_found:
        as Owner, "list_comments" {"ticket_id": "WEB-404"} => call_not_found("ticket");
    update_comment_refuses_a_comment_id_that_is_not_a_uuid:
        as Owner, "update_comment" {"comment_id": "42", "body": "x"} => call_invalid_field("comment_id");
}
