//! `get_ticket_activity`: a ticket's history newest first, filtered by action and paged, and
//! its failures (unknown ticket as an `isError` result, unknown action as -32602).

use crate::support::{Launch, assert_query_has, names_in, one_call_tests, spawn_seeded_stack, spawn_stack};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// The `action` of each entry of a page of activity.
fn actions(page: &Value) -> Vec<String> {
    names_in(&page["items"], "action")
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_activity_lists_the_history_newest_first_and_filters_by_action() {
    let mut s = spawn_stack().await;
    s.api.ticket("Track me").await;
    let me = s.api.user(OrgRole::Owner);
    for (method, path, body) in [
        ("POST", "/api/v1/tickets/WEB-1/transition", json!({"status": "Todo"})),
        ("PATCH", "/api/v1/tickets/WEB-1", json!({"assignee_id": me})),
        ("POST", "/api/v1/tickets/WEB-1/comments", json!({"body": "on it"})),
    ] {
        s.api.send(method, path, Some(body)).await;
    }
    let all = s.call_ok("get_ticket_activity", json!({"ticket_id": "web-1"})).await;
    assert_eq!(actions(&all), ["Commented", "Assigned", "StatusChanged", "Created"]);
    let moved = &all["items"][2];
    assert_eq!(moved["field"], json!("status"));
    assert_eq!(moved["old_value"], json!("Backlog"));
    assert_eq!(moved["new_value"], json!("Todo"));
    assert_eq!(moved["actor_id"], json!(me));
    let args = json!({"ticket_id": "WEB-1", "action": ["StatusChanged", "Created"], "limit": 1});
    let some = s.call_ok("get_ticket_activity", args).await;
    assert_eq!(actions(&some), ["StatusChanged"]);
    let args = json!({"ticket_id": "WEB-1", "action": ["StatusChanged", "Created"], "limit": 1});
    let rest = s.next_page("get_ticket_activity", args, &some).await;
    assert_eq!(actions(&rest), ["Created"]);
    assert_eq!(rest["has_more"], json!(false));
    let listed = s.api.last_to("/api/v1/tickets/WEB-1/activity");
    assert_query_has(&listed, "action", "StatusChanged,Created");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_activity_reads_a_seeded_tickets_history() {
    let mut s = spawn_seeded_stack(Launch::default().role(OrgRole::Viewer)).await;
    let page = s
        .call_ok("get_ticket_activity", json!({"ticket_id": "WEB-1", "limit": 100}))
        .await;
    let all = actions(&page);
    assert_eq!(all.last().map(String::as_str), Some("Created"), "{all:?}");
    assert!(page["items"][0]["created_at"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_activity_refuses_an_unknown_action() {
    let mut s = spawn_stack().await;
    s.api.ticket("Track me").await;
    let args = json!({"ticket_id": "WEB-1", "action": ["Deleted"]});
    s.call_invalid_field("get_ticket_activity", args, "action[0]").await;
    assert!(s.api.requests("/api/v1/tickets/WEB-1/activity").is_empty());
}

one_call_tests! {
    get_ticket_activity_reports_an_unknown_ticket_as_not_found:
        as Owner, "get_ticket_activity" {"ticket_id": "WEB-12"} => call_not_found("ticket");
}
