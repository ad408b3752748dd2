//! The ten ticket tools: each one succeeding, and each one failing (an `isError` result with
//! the API's status and message, or -32602 for arguments the schema or a rule refuses).

use crate::support::{
    Launch, NO_SUCH_ID, assert_last_page, columns, field_of, names_in, one_call_tests, spawn_seeded_stack, spawn_stack,
    ticket_keys,
};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn create_ticket_creates_a_ticket_with_the_given_fields() {
    let mut s = spawn_stack().await;
    let member = s.api.user(OrgRole::Member);
    let args = json!({
        "project_id": "web",
        "title": "Login button is blue",
        "priority": "High",
        "ticket_type": "Bug",
        "assignee_id": member,
        "story_points": 3,
        "due_date": "2026-05-01",
        "tags": {"env": "prod"},
    });
    let t = s.call_ok("create_ticket", args).await;
    assert_eq!(t["key"], json!("WEB-1"));
    assert_eq!(t["priority"], json!("High"));
    assert_eq!(t["ticket_type"], json!("Bug"));
    assert_eq!(t["assignee_id"], json!(member));
    assert_eq!(t["tags"], json!({"env": "prod"}));
    assert_eq!(t["status"], json!("Backlog"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_ticket_reports_is_error_when_the_project_is_missing() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "NOPE", "title": "x"});
    let e = s.call_not_found("create_ticket", args, "project").await;
    assert!(e["error"]["message"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_accepts_a_key_in_any_case_and_reports_unknown_tickets() {
    let mut s = spawn_stack().await;
    let created = s.api.ticket("Find me").await;
    let t = s.call_ok("get_ticket", json!({"ticket_id": "web-1"})).await;
    assert_eq!(t["id"], created["id"]);
    let t = s.call_ok("get_ticket", json!({"ticket_id": created["id"]})).await;
    assert_eq!(t["key"], json!("WEB-1"));
    s.call_not_found("get_ticket", json!({"ticket_id": "WEB-999"}), "ticket")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn search_tickets_filters_pages_and_passes_cursors_back() {
    let mut s = spawn_stack().await;
    for title in ["Alpha bug", "Beta feature", "Alpha again"] {
        s.api.ticket(title).await;
    }
    let page = s.call_ok("search_tickets", json!({"query": "alpha"})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(page["has_more"], json!(false));
    let first = s
        .call_ok("search_tickets", json!({"project_id": "WEB", "limit": 2}))
        .await;
    let args = json!({"project_id": "WEB", "limit": 2});
    let second = s.next_page("search_tickets", args, &first).await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_last_page(&second);
    let last = s.api.last_to("/api/v1/projects/WEB/tickets");
    assert!(last.query.iter().any(|(k, _)| k == "cursor"), "{:?}", last.query);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_tickets_maps_arrays_to_comma_separated_query_values() {
    let mut s = spawn_stack().await;
    let args = json!({"status_category": ["Unstarted", "Started"], "priority": ["High", "Critical"], "assignee_id": "none", "sort": "-priority"});
    s.call_ok("search_tickets", args).await;
    let e = s.api.last_to("/api/v1/tickets");
    let q: std::collections::BTreeMap<_, _> = e.query.into_iter().collect();
    assert_eq!(q["status_category"], "Unstarted,Started");
    assert_eq!(q["priority"], "High,Critical");
    assert_eq!(q["assignee_id"], "none");
    assert_eq!(q["sort"], "-priority");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_ticket_changes_and_clears_fields() {
    let mut s = spawn_stack().await;
    s.api.ticket("Change me").await;
    let args = json!({"ticket_id": "WEB-1", "priority": "Critical", "description": "now", "story_points": 5});
    let t = s.call_ok("update_ticket", args).await;
    assert_eq!(t["priority"], json!("Critical"));
    assert_eq!(t["description"], json!("now"));
    let args = json!({"ticket_id": "WEB-1", "description": null, "story_points": null});
    let t = s.call_ok("update_ticket", args).await;
    assert_eq!(t["description"], json!(null));
    assert_eq!(t["story_points"], json!(null));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_ticket_needs_at_least_one_field_and_reports_bad_references() {
    let mut s = spawn_stack().await;
    s.api.ticket("Change me").await;
    let e = s.call_invalid("update_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert!(e["message"].as_str().expect("message").contains("title"), "{e}");
    let args = json!({"ticket_id": "WEB-1", "assignee_id": NO_SUCH_ID});
    s.call_err_reason("update_ticket", args, 422, "invalid_reference").await;
    let args = json!({"ticket_id": "WEB-1", "status": "Done"});
    s.call_invalid_field("update_ticket", args, "status").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transition_ticket_moves_a_ticket_and_reports_unknown_statuses() {
    let mut s = spawn_stack().await;
    s.api.ticket("Move me").await;
    let args = json!({"ticket_id": "WEB-1", "status": "InProgress"});
    let t = s.call_ok("transition_ticket", args).await;
    assert_eq!(t["status"], json!("InProgress"));
    let args = json!({"ticket_id": "WEB-1", "status": "Shipped"});
    s.call_err_reason("transition_ticket", args, 422, "unknown_status")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_transition_reports_each_ticket_on_its_own() {
    let mut s = spawn_stack().await;
    s.api.ticket("One").await;
    s.api.ticket("Two").await;
    let args = json!({"ticket_ids": ["WEB-1", "WEB-9", "web-2"], "status": "Done"});
    let r = s.call_ok("batch_transition", args).await;
    assert_eq!(r["succeeded"], json!(2));
    assert_eq!(r["failed"], json!(1));
    let results = r["results"].as_array().expect("results");
    assert_eq!(results[0]["ok"], json!(true));
    assert_eq!(results[1]["ticket_id"], json!("WEB-9"));
    assert_eq!(results[1]["error"]["code"], json!("not_found"));
    assert_eq!(results[2]["ticket"]["status"], json!("Done"));
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_transition_refuses_empty_and_oversized_batches() {
    let mut s = spawn_stack().await;
    let many: Vec<String> = (1..=51).map(|n| format!("WEB-{n}")).collect();
    for ids in [json!([]), json!(many)] {
        let args = json!({"ticket_ids": ids, "status": "Done"});
        s.call_invalid_field("batch_transition", args, "ticket_ids").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_update_tickets_applies_changes_per_ticket() {
    let mut s = spawn_stack().await;
    s.api.ticket("One").await;
    let args = json!({"ticket_ids": ["WEB-1", "WEB-2"], "priority": "Low", "due_date": null});
    let r = s.call_ok("batch_update_tickets", args).await;
    assert_eq!(r["succeeded"], json!(1));
    assert_eq!(r["failed"], json!(1));
    assert_eq!(r["results"][0]["ticket"]["priority"], json!("Low"));
    let sent = s.api.first_to("/api/v1/tickets/batch-update");
    assert_eq!(
        sent.body,
        Some(json!({"ticket_ids": ["WEB-1", "WEB-2"], "changes": {"priority": "Low", "due_date": null}}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_update_tickets_needs_at_least_one_change() {
    let mut s = spawn_stack().await;
    let e = s
        .call_invalid("batch_update_tickets", json!({"ticket_ids": ["WEB-1"]}))
        .await;
    assert!(e["message"].as_str().expect("message").contains("at least one"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn assign_ticket_assigns_and_unassigns() {
    let mut s = spawn_stack().await;
    s.api.ticket("Own me").await;
    let admin = s.api.user(OrgRole::Admin);
    let t = s
        .call_ok("assign_ticket", json!({"ticket_id": "WEB-1", "assignee_id": admin}))
        .await;
    assert_eq!(t["assignee_id"], json!(admin));
    let t = s
        .call_ok("assign_ticket", json!({"ticket_id": "WEB-1", "assignee_id": null}))
        .await;
    assert_eq!(t["assignee_id"], json!(null));
}

#[tokio::test(flavor = "multi_thread")]
async fn assign_ticket_requires_the_assignee_and_reports_non_members() {
    let mut s = spawn_stack().await;
    s.api.ticket("Own me").await;
    s.call_invalid_field("assign_ticket", json!({"ticket_id": "WEB-1"}), "assignee_id")
        .await;
    let args = json!({"ticket_id": "WEB-1", "assignee_id": NO_SUCH_ID});
    s.call_err_status("assign_ticket", args, 422).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_my_tickets_lists_the_callers_open_tickets() {
    let mut s = spawn_stack().await;
    let me = s.api.user(OrgRole::Owner);
    for title in ["Mine open", "Mine done", "Not mine"] {
        s.api.ticket(title).await;
    }
    s.api
        .send(
            "PATCH",
            "/api/v1/tickets/WEB-1",
            Some(json!({"assignee_id": me, "priority": "Low"})),
        )
        .await;
    s.api
        .send("PATCH", "/api/v1/tickets/WEB-2", Some(json!({"assignee_id": me})))
        .await;
    s.api
        .send(
            "POST",
            "/api/v1/tickets/WEB-2/transition",
            Some(json!({"status": "Done"})),
        )
        .await;
    let page = s.call_ok("get_my_tickets", json!({})).await;
    assert_eq!(ticket_keys(&page), ["WEB-1"]);
    let page = s.call_ok("get_my_tickets", json!({"include_closed": true})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let e = s.api.last_to("/api/v1/tickets");
    assert!(e.query.contains(&("assignee_id".to_string(), me)), "{:?}", e.query);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_ticket_deletes_once_and_then_reports_not_found() {
    let mut s = spawn_stack().await;
    s.api.ticket("Delete me").await;
    let r = s.call_ok("delete_ticket", json!({"ticket_id": "web-1"})).await;
    assert_eq!(r, json!({"deleted": true, "ticket_id": "web-1"}));
    s.call_not_found("delete_ticket", json!({"ticket_id": "web-1"}), "ticket")
        .await;
}

/// Issue 12's measure: a page of 25 tickets on the seed is compact rows by default, at most a
/// third of the bytes of the full page, and `detail: "full"` is the API's page unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn a_search_page_of_25_on_the_seed_is_compact_and_a_third_of_the_full_page() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let compact = s.call_ok("search_tickets", json!({"limit": 25})).await;
    let full = s
        .call_ok("search_tickets", json!({"limit": 25, "detail": "full"}))
        .await;
    let api: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets?limit=25", s.api.mock.base_url()))
        .bearer_auth(s.api.mock.key(OrgRole::Owner))
        .send()
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("a page");
    assert_eq!(full, api, "detail full is the API's page");
    let (compact_bytes, full_bytes) = (compact.to_string().len(), full.to_string().len());
    eprintln!("a search_tickets page of 25 on the seed: {compact_bytes} bytes compact, {full_bytes} full");
    assert!(compact_bytes * 3 <= full_bytes, "{compact_bytes} vs {full_bytes}");
    assert_eq!(
        compact["columns"],
        json!(columns(
            "id key title status priority ticket_type story_points assignee_id assignee_name sprint_id updated_at"
        ))
    );
    assert_eq!(ticket_keys(&compact), ticket_keys(&full));
    assert_eq!(compact["next_cursor"], full["next_cursor"]);
    let items = full["items"].as_array().expect("items");
    let names = field_of(&compact, "assignee_name");
    for (ticket, name) in items.iter().zip(&names) {
        assert_eq!(ticket["assignee_id"].is_null(), name.is_null(), "{ticket} {name}");
    }
    assert!(names.iter().any(Value::is_string), "assignees are named");
}

/// Sets up `WEB` with the labels `bug` and `docs`, an Active sprint `Sprint 1` and a Planned
/// sprint `Sprint 2`, and returns the sprints' ids.
async fn planned_web(s: &crate::support::Stack) -> (String, String) {
    for name in ["bug", "docs"] {
        s.api.create("/api/v1/projects/WEB/labels", json!({"name": name})).await;
    }
    let mut ids = Vec::new();
    for (name, start) in [("Sprint 1", "2026-03-30"), ("Sprint 2", "2026-04-13")] {
        let body = s
            .api
            .create(
                "/api/v1/projects/WEB/sprints",
                json!({"name": name, "start_date": start, "end_date": "2026-04-30"}),
            )
            .await;
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    s.api
        .send_expect("POST", &format!("/api/v1/sprints/{}/start", ids[0]), None, 200)
        .await;
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn me_an_email_a_label_name_and_the_active_sprint_work_where_a_person_would_use_them() {
    let mut s = spawn_stack().await;
    let (active, planned) = planned_web(&s).await;
    let admin = s.api.user(OrgRole::Admin);
    let member = s.api.user(OrgRole::Member);
    let before = s.api.requests("/api/v1/orgs/").len();
    let args = json!({"project_id": "web", "title": "Checkout fails", "ticket_type": "Bug",
        "assignee_id": "Admin@acme.test", "reporter_id": "member@acme.test",
        "labels": ["Bug", "docs"], "tags": {"env": "prod"}, "sprint_id": "active"});
    let t = s.call_ok("create_ticket", args).await;
    assert_eq!(t["assignee_id"], json!(admin));
    assert_eq!(t["reporter_id"], json!(member));
    assert_eq!(t["sprint_id"], json!(active));
    assert_eq!(t["tags"], json!({"env": "prod"}));
    let labels = names_in(&t["labels"], "name");
    assert_eq!(labels, ["bug", "docs"], "labels and tags in one create_ticket");
    assert_eq!(
        s.api.requests("/api/v1/orgs/").len() - before,
        1,
        "two emails, one members lookup"
    );
    let sent = s.api.first_call("POST", "/api/v1/projects/web/tickets");
    let body = sent.body.expect("body");
    assert_eq!(body["label_ids"].as_array().map(Vec::len), Some(2), "{body}");
    assert!(body.get("labels").is_none(), "{body}");

    let args = json!({"project_id": "WEB", "assignee_id": "admin@acme.test", "label_id": "BUG", "sprint_id": "active"});
    let page = s.call_ok("search_tickets", args).await;
    assert_eq!(ticket_keys(&page), ["WEB-1"]);
    assert_eq!(field_of(&page, "assignee_name"), [json!("Admin User")]);

    let t = s
        .call_ok("assign_ticket", json!({"ticket_id": "WEB-1", "assignee_id": "me"}))
        .await;
    assert_eq!(t["assignee_id"], json!(s.api.user(OrgRole::Owner)));
    let t = s
        .call_ok("update_ticket", json!({"ticket_id": "WEB-1", "sprint_id": "Sprint 2"}))
        .await;
    assert_eq!(t["sprint_id"], json!(planned));
    let mine = s
        .call_ok("get_my_tickets", json!({"project_id": "WEB", "sprint_id": "sprint 2"}))
        .await;
    assert_eq!(ticket_keys(&mine), ["WEB-1"]);
    let args = json!({"ticket_ids": ["WEB-1"], "sprint_id": "active", "assignee_id": "member@acme.test"});
    let r = s.call_ok("batch_update_tickets", args).await;
    assert_eq!(r["results"][0]["ticket"]["sprint_id"], json!(active), "{r}");
    assert_eq!(r["results"][0]["ticket"]["assignee_id"], json!(member), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_or_ambiguous_name_is_refused_with_its_candidates_and_nothing_is_written() {
    let mut s = spawn_stack().await;
    planned_web(&s).await;
    let args = json!({"project_id": "WEB", "title": "x", "labels": ["bgu"]});
    let e = s.call_invalid_field("create_ticket", args, "labels").await;
    assert_eq!(e["data"]["candidates"][0]["name"], json!("bug"), "closest first: {e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("bug") && m.contains("docs")),
        "{e}"
    );

    let args = json!({"project_id": "WEB", "title": "x", "assignee_id": "nobody@acme.test"});
    let e = s.call_invalid_field("create_ticket", args, "assignee_id").await;
    assert_eq!(e["data"]["candidates"].as_array().map(Vec::len), Some(5), "{e}");

    // Two sprints of one name: ambiguous, never a guess.
    s.api
        .create(
            "/api/v1/projects/WEB/sprints",
            json!({"name": "sprint 2", "start_date": "2026-05-01", "end_date": "2026-05-14"}),
        )
        .await;
    let args = json!({"project_id": "WEB", "title": "x", "sprint_id": "Sprint 2"});
    let e = s.call_invalid_field("create_ticket", args, "sprint_id").await;
    assert_eq!(e["data"]["candidates"].as_array().map(Vec::len), Some(2), "{e}");
    assert!(e["message"].as_str().is_some_and(|m| m.contains("2 sprints")), "{e}");

    let e = s.call_invalid("search_tickets", json!({"sprint_id": "active"})).await;
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("project_id")),
        "a name needs the project: {e}"
    );
    s.call_invalid_field("search_tickets", json!({"label_id": "bug"}), "label_id")
        .await;
    let e = s
        .call_invalid("get_my_tickets", json!({"project_id": "WEB", "sprint_id": "last"}))
        .await;
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("no Completed sprint")),
        "{e}"
    );
    assert!(
        !s.api
            .mock
            .journal()
            .iter()
            .any(|e| e.method == "POST" && e.path.ends_with("/tickets")),
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_update_tickets_changes_no_text_and_is_not_destructive() {
    let mut s = spawn_stack().await;
    s.api.ticket("Keep my title").await;
    for field in ["title", "description"] {
        let args = json!({"ticket_ids": ["WEB-1"], field: "same for all"});
        let e = s.call_invalid("batch_update_tickets", args).await;
        assert_eq!(e["data"]["field"], json!(field), "{e}");
    }
    let tools = s.list_tools().await;
    let batch = tools
        .iter()
        .find(|t| t["name"] == "batch_update_tickets")
        .expect("listed");
    assert_eq!(batch["annotations"]["destructiveHint"], json!(false));
    assert!(batch["inputSchema"]["properties"].get("title").is_none());
    assert!(s.api.requests("/api/v1/tickets/batch-update").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn search_tickets_filters_by_creation_and_update_dates_given_as_days_or_instants() {
    let mut s = spawn_stack().await;
    s.api.ticket("Made on April 1st").await;
    let on = |page: &Value| ticket_keys(page).len();
    let page = s
        .call_ok("search_tickets", json!({"created_after": "2026-04-02"}))
        .await;
    assert_eq!(on(&page), 0);
    let args = json!({"created_after": "2026-04-01", "created_before": "2026-04-01"});
    let page = s.call_ok("search_tickets", args).await;
    assert_eq!(on(&page), 1, "a day includes all of it");
    let page = s
        .call_ok("search_tickets", json!({"updated_after": "2026-04-01T12:00:00.001Z"}))
        .await;
    assert_eq!(on(&page), 0);
    let q: std::collections::BTreeMap<_, _> = s
        .api
        .mock
        .journal()
        .into_iter()
        .filter(|e| e.path == "/api/v1/tickets")
        .nth(1)
        .expect("listed")
        .query
        .into_iter()
        .collect();
    assert_eq!(q["created_after"], "2026-04-01T00:00:00Z");
    assert_eq!(q["created_before"], "2026-04-01T23:59:59.999Z");
}

one_call_tests! {
    create_ticket_reports_a_viewer_as_forbidden:
        as Viewer, "create_ticket" {"project_id": "WEB", "title": "x"} => call_err_reason(403, "insufficient_role");
    search_tickets_reports_an_api_refusal_of_its_filters:
        as Owner, "search_tickets" {"tag_value": "prod"} => call_err_code(400, "bad_request");
    get_my_tickets_refuses_an_unknown_sort:
        as Owner, "get_my_tickets" {"sort": "priority"} => call_invalid_field("sort");
}
