//! The five time-tracking tools: each one succeeding against the mock, and each one failing (an
//! `isError` result with the API's status and reason, or -32602 for arguments the schema or a
//! rule refuses, without any API call).

use crate::support::{NO_SUCH_ID, Stack, assert_last_page, columns, field_of, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// Logs `minutes` on `ticket` through the API with the Owner key (setup), as `user_id` when
/// given; returns the entry.
async fn entry(s: &Stack, ticket: &str, minutes: u32, user_id: Option<&str>) -> Value {
    let mut body = json!({"minutes": minutes});
    if let Some(u) = user_id {
        body["user_id"] = json!(u);
    }
    let (status, e) = s
        .api
        .send("POST", &format!("/api/v1/tickets/{ticket}/time-entries"), Some(body))
        .await;
    assert_eq!(status, 201, "{e}");
    e
}

/// Moves an entry along its lifecycle through the API with the Owner key (setup).
async fn act(s: &Stack, entry: &Value, action: &str) {
    let id = entry["id"].as_str().expect("entry id");
    let (status, e) = s
        .api
        .send("POST", &format!("/api/v1/time-entries/{id}/{action}"), None)
        .await;
    assert_eq!(status, 200, "{action}: {e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_time_creates_a_draft_entry_for_the_caller_on_a_ticket_key() {
    let mut s = spawn_stack().await;
    let ticket = s.api.ticket("Build the cart").await;
    let args = json!({"ticket_id": "web-1", "minutes": 45, "description": "Cart layout"});
    let e = s.call_ok("log_time", args).await;
    assert_eq!(e["status"], json!("Draft"));
    assert_eq!(e["minutes"], json!(45));
    assert_eq!(e["ticket_id"], ticket["id"]);
    assert_eq!(e["ticket_key"], json!("WEB-1"));
    assert_eq!(e["user_id"], json!(s.api.user(OrgRole::Owner)));
    assert_eq!(e["date"], json!("2026-04-01"), "default date = today (UTC)");
    assert_eq!(e["description"], json!("Cart layout"));
    assert_eq!(
        s.api.last_body("/api/v1/tickets/web-1/time-entries"),
        json!({"minutes": 45, "description": "Cart layout"}),
        "the reference goes as given and nothing else is sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn log_time_converts_hours_to_minutes_rounded_half_up() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let member = s.api.user(OrgRole::Member);
    let args = json!({"ticket_id": "WEB-1", "hours": 1.5, "date": "2026-03-30", "user_id": member});
    let e = s.call_ok("log_time", args).await;
    assert_eq!(e["minutes"], json!(90));
    assert_eq!(e["date"], json!("2026-03-30"));
    assert_eq!(e["user_id"], json!(member));
    assert_eq!(
        s.api.last_body("/api/v1/tickets/WEB-1/time-entries"),
        json!({"minutes": 90, "date": "2026-03-30", "user_id": member}),
        "hours never reach the API"
    );
    // 0.175 h = 10.5 min → 11; 0.024 h = 1.44 min → 1; 24 h = 1440 min.
    for (hours, minutes) in [(0.175, 11), (0.024, 1), (24.0, 1440)] {
        let e = s
            .call_ok("log_time", json!({"ticket_id": "WEB-1", "hours": hours}))
            .await;
        assert_eq!(e["minutes"], json!(minutes), "{hours} h");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn log_time_needs_exactly_one_duration_within_a_day_before_calling_the_api() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let e = s.call_invalid("log_time", json!({"ticket_id": "WEB-1"})).await;
    let message = e["message"].as_str().expect("message");
    assert!(message.contains("minutes") && message.contains("hours"), "{e}");
    for (args, field) in [
        (
            json!({"ticket_id": "WEB-1", "minutes": 30, "hours": 0.5}),
            "minutes|hours",
        ),
        (json!({"ticket_id": "WEB-1", "hours": 0.008}), "hours"), // 0.48 min rounds to 0
        (json!({"ticket_id": "WEB-1", "hours": 25}), "hours"),
        (json!({"ticket_id": "WEB-1", "hours": 0}), "hours"),
        (json!({"ticket_id": "WEB-1", "minutes": 1441}), "minutes"),
    ] {
        s.call_invalid_field("log_time", args, field).await;
    }
    assert!(
        s.api.requests("/api/v1/tickets/WEB-1/time-entries").is_empty(),
        "no call reached the API"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn log_time_reports_logging_for_another_user_without_admin_as_forbidden() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.api.ticket("Build the cart").await;
    let viewer = s.api.user(OrgRole::Viewer);
    let args = json!({"ticket_id": "WEB-1", "minutes": 30, "user_id": viewer});
    s.call_err_reason("log_time", args, 403, "insufficient_role").await;
    s.call_not_found("log_time", json!({"ticket_id": "WEB-99", "minutes": 30}), "ticket")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_time_entry_returns_the_entry_and_reports_unknown_ids() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let created = entry(&s, "WEB-1", 30, None).await;
    let e = s
        .call_ok("get_time_entry", json!({"time_entry_id": created["id"]}))
        .await;
    assert_eq!(e, created);
    s.call_not_found("get_time_entry", json!({"time_entry_id": NO_SUCH_ID}), "time_entry")
        .await;
    s.call_invalid_field("get_time_entry", json!({"time_entry_id": "WEB-1"}), "time_entry_id")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_time_entry_changes_duration_ticket_and_clears_the_description() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let second = s.api.ticket("Checkout").await;
    let created = s
        .api
        .create(
            "/api/v1/tickets/WEB-1/time-entries",
            json!({"minutes": 30, "description": "typo"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let args =
        json!({"time_entry_id": id, "hours": 2, "description": null, "ticket_id": "WEB-2", "date": "2026-03-31"});
    let e = s.call_ok("update_time_entry", args).await;
    assert_eq!(e["minutes"], json!(120));
    assert_eq!(e["description"], json!(null));
    assert_eq!(e["ticket_id"], second["id"]);
    assert_eq!(e["ticket_key"], json!("WEB-2"));
    assert_eq!(e["date"], json!("2026-03-31"));
    assert_eq!(
        s.api.last_body(&format!("/api/v1/time-entries/{id}")),
        json!({"minutes": 120, "description": null, "ticket_id": "WEB-2", "date": "2026-03-31"})
    );
    let e = s
        .call_ok("update_time_entry", json!({"time_entry_id": id, "minutes": 15}))
        .await;
    assert_eq!(e["minutes"], json!(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_time_entry_needs_one_field_refuses_both_durations_and_reports_submitted_entries() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let created = entry(&s, "WEB-1", 30, None).await;
    let id = created["id"].as_str().expect("id");
    let e = s.call_invalid("update_time_entry", json!({"time_entry_id": id})).await;
    assert!(e["message"].as_str().expect("message").contains("description"), "{e}");
    let args = json!({"time_entry_id": id, "minutes": 10, "hours": 1});
    s.call_invalid_field("update_time_entry", args, "minutes|hours").await;
    assert!(
        s.api.requests(&format!("/api/v1/time-entries/{id}")).is_empty(),
        "no call reached the API"
    );
    act(&s, &created, "submit").await;
    let args = json!({"time_entry_id": id, "minutes": 10});
    s.call_err_reason("update_time_entry", args, 422, "invalid_state").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_time_entry_deletes_a_draft_and_echoes_the_id() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let created = entry(&s, "WEB-1", 30, None).await;
    let id = created["id"].as_str().expect("id");
    let r = s.call_ok("delete_time_entry", json!({"time_entry_id": id})).await;
    assert_eq!(r, json!({"deleted": true, "time_entry_id": id}));
    assert_eq!(
        s.api.requests(&format!("/api/v1/time-entries/{id}")),
        vec![("DELETE".to_string(), format!("/api/v1/time-entries/{id}"))]
    );
    s.call_not_found("get_time_entry", json!({"time_entry_id": id}), "time_entry")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_time_entry_reports_approved_entries_and_other_users_entries() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.api.ticket("Build the cart").await;
    let owners = entry(&s, "WEB-1", 30, None).await;
    let args = json!({"time_entry_id": owners["id"]});
    s.call_err_reason("delete_time_entry", args, 403, "not_owner").await;
    let member = s.api.user(OrgRole::Member);
    let mine = entry(&s, "WEB-1", 30, Some(&member)).await;
    act(&s, &mine, "submit").await;
    act(&s, &mine, "approve").await;
    let args = json!({"time_entry_id": mine["id"]});
    let e = s.call_err_reason("delete_time_entry", args, 422, "invalid_state").await;
    assert_eq!(e["error"]["details"]["state"], json!("Approved"));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_time_entries_lists_the_callers_own_entries_unless_told_otherwise() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let owner = s.api.user(OrgRole::Owner);
    let member = s.api.user(OrgRole::Member);
    let own = entry(&s, "WEB-1", 30, None).await;
    let members = entry(&s, "WEB-1", 60, Some(&member)).await;

    let page = s.call_ok("list_time_entries", json!({"detail": "full"})).await;
    assert_eq!(page["items"], json!([own]), "{page}");
    assert_eq!(page["has_more"], json!(false));
    assert_eq!(s.api.last_query("/api/v1/time-entries").get("user_id"), Some(&owner));

    let page = s.call_ok("list_time_entries", json!({"user_id": "me"})).await;
    assert_eq!(field_of(&page, "id"), [own["id"].clone()]);

    let page = s.call_ok("list_time_entries", json!({"user_id": "all"})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(s.api.last_query("/api/v1/time-entries").get("user_id"), None);

    let page = s
        .call_ok("list_time_entries", json!({"user_id": member, "detail": "full"}))
        .await;
    assert_eq!(page["items"], json!([members]));
    let page = s
        .call_ok("list_time_entries", json!({"user_id": "Member@Acme.test"}))
        .await;
    assert_eq!(
        field_of(&page, "id"),
        [members["id"].clone()],
        "an email names the member"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_time_entries_is_compact_by_default_and_whole_with_detail_full() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let own = entry(&s, "WEB-1", 30, None).await;
    let page = s.call_ok("list_time_entries", json!({})).await;
    assert_eq!(
        page["columns"],
        json!(columns("id date ticket_key user_id minutes status description"))
    );
    assert_eq!(
        page["items"],
        json!([[
            own["id"],
            own["date"],
            "WEB-1",
            own["user_id"],
            30,
            "Draft",
            own["description"]
        ]])
    );
    assert_eq!(s.api.last_query("/api/v1/time-entries")["limit"], "25");
    let full = s.call_ok("list_time_entries", json!({"detail": "full"})).await;
    assert_eq!(full, json!({"items": [own], "next_cursor": null, "has_more": false}));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_time_entries_reports_an_unknown_project_instead_of_an_empty_page() {
    let mut s = spawn_stack().await;
    s.call_not_found("list_time_entries", json!({"project_id": "WBE"}), "project")
        .await;
    assert!(s.api.requests("/api/v1/time-entries").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_time_entries_passes_filters_and_cursors_through() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let submitted = entry(&s, "WEB-1", 30, None).await;
    act(&s, &submitted, "submit").await;
    entry(&s, "WEB-1", 45, None).await;
    entry(&s, "WEB-1", 50, None).await;
    let args = json!({"project_id": "WEB", "ticket_id": "WEB-1", "status": ["Submitted", "Rejected"], "from": "2026-03-01", "to": "2026-04-01"});
    let page = s.call_ok("list_time_entries", args).await;
    assert_eq!(field_of(&page, "id"), [submitted["id"].clone()], "{page}");
    let q = s.api.last_query("/api/v1/time-entries");
    assert_eq!(q["status"], "Submitted,Rejected");
    assert_eq!(q["project_id"], "WEB");
    assert_eq!(q["ticket_id"], "WEB-1");
    assert_eq!(q["from"], "2026-03-01");
    assert_eq!(q["to"], "2026-04-01");

    let first = s.call_ok("list_time_entries", json!({"limit": 2})).await;
    let second = s.next_page("list_time_entries", json!({"limit": 2}), &first).await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_last_page(&second);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_time_entries_refuses_bad_user_filters_and_reports_bad_cursors() {
    let mut s = spawn_stack().await;
    s.call_invalid_field("list_time_entries", json!({"user_id": "everyone"}), "user_id")
        .await;
    s.call_invalid_field("list_time_entries", json!({"status": ["Pending"]}), "status[0]")
        .await;
    let args = json!({"cursor": "%%%not-a-cursor"});
    s.call_err_reason("list_time_entries", args, 400, "invalid_cursor")
        .await;
}
