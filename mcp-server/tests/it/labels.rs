//! The seven label tools: each one succeeding against the mock, and each one failing (an
//! `isError` result with the API's status and reason, or -32602 for refused arguments).

use crate::support::{NO_SUCH_ID, Stack, names_in, one_call_tests, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// Creates a label in `project` through the API with the Owner key and returns it.
async fn label(s: &Stack, project: &str, name: &str) -> Value {
    s.api
        .create(
            &format!("/api/v1/projects/{project}/labels"),
            json!({"name": name, "description": format!("about {name}")}),
        )
        .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn label_names(ticket: &Value) -> Vec<String> {
    ticket["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_label_creates_a_label_with_its_colour_upper_cased() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "web", "name": "frontend", "color": "#ff8800", "description": "UI work"});
    let l = s.call_ok("create_label", args).await;
    assert_eq!(l["name"], json!("frontend"));
    assert_eq!(l["color"], json!("#FF8800"));
    assert_eq!(l["description"], json!("UI work"));
    assert_eq!(l["ticket_count"], json!(0));
    let plain = s
        .call_ok("create_label", json!({"project_id": "WEB", "name": "backend"}))
        .await;
    assert_eq!(plain["color"], json!("#6B7280"));
    let sent = s.api.last_to("/api/v1/projects/WEB/labels");
    assert_eq!(sent.body, Some(json!({"name": "backend"})));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_label_reports_a_duplicate_name_as_a_conflict() {
    let mut s = spawn_stack().await;
    label(&s, "WEB", "frontend").await;
    let args = json!({"project_id": "WEB", "name": "FrontEnd"});
    s.call_err_reason("create_label", args, 409, "duplicate").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_label_refuses_a_colour_that_is_not_rrggbb() {
    let mut s = spawn_stack().await;
    let args = json!({"project_id": "WEB", "name": "x", "color": "orange"});
    s.call_invalid_field("create_label", args, "color").await;
    assert!(s.api.requests("/api/v1/projects/WEB/labels").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_labels_lists_a_projects_labels_by_name() {
    let mut s = spawn_stack().await;
    for name in ["ux", "Backend", "api"] {
        label(&s, "WEB", name).await;
    }
    let page = s.call_ok("list_labels", json!({"project_id": "WEB"})).await;
    let names = names_in(&page["items"], "name");
    assert_eq!(names, ["api", "Backend", "ux"]);
    assert_eq!(page["has_more"], json!(false));
    let page = s.call_ok("list_labels", json!({"project_id": "WEB", "limit": 1})).await;
    assert_eq!(page["has_more"], json!(true));
    assert!(page["next_cursor"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn add_ticket_label_attaches_a_label_once() {
    let mut s = spawn_stack().await;
    s.api.ticket("Style it").await;
    let l = label(&s, "WEB", "frontend").await;
    let t = s
        .call_ok("add_ticket_label", json!({"ticket_id": "WEB-1", "label_id": l["id"]}))
        .await;
    assert_eq!(label_names(&t), ["frontend"]);
    let again = s
        .call_ok("add_ticket_label", json!({"ticket_id": "web-1", "label_id": l["id"]}))
        .await;
    assert_eq!(label_names(&again), ["frontend"]);
    let sent = s.api.first_to("/api/v1/tickets/WEB-1/labels");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.body, Some(json!({"label_id": l["id"]})));
}

#[tokio::test(flavor = "multi_thread")]
async fn add_ticket_label_reports_a_label_of_another_project_as_unprocessable() {
    let mut s = spawn_stack().await;
    s.api.ticket("Style it").await;
    s.api.project("API", "Api").await;
    let other = label(&s, "API", "endpoints").await;
    let args = json!({"ticket_id": "WEB-1", "label_id": other["id"]});
    s.call_err_reason("add_ticket_label", args, 422, "invalid_reference")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_ticket_label_detaches_a_label_and_keeps_the_others() {
    let mut s = spawn_stack().await;
    let a = label(&s, "WEB", "alpha").await;
    let b = label(&s, "WEB", "beta").await;
    s.api
        .ticket_with(json!({"title": "Two labels", "label_ids": [a["id"], b["id"]]}))
        .await;
    let args = json!({"ticket_id": "WEB-1", "label_id": a["id"]});
    let t = s.call_ok("remove_ticket_label", args).await;
    assert_eq!(label_names(&t), ["beta"]);
    assert_eq!(
        s.api.requests("/api/v1/tickets/WEB-1/labels/"),
        [("DELETE".to_string(), format!("/api/v1/tickets/WEB-1/labels/{}", id(&a)))]
    );
    let args = json!({"ticket_id": "WEB-1", "label_id": a["id"]});
    let unchanged = s.call_ok("remove_ticket_label", args).await;
    assert_eq!(label_names(&unchanged), ["beta"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_ticket_label_reports_an_unknown_label_as_not_found() {
    let mut s = spawn_stack().await;
    s.api.ticket("Plain").await;
    let args = json!({"ticket_id": "WEB-1", "label_id": NO_SUCH_ID});
    s.call_not_found("remove_ticket_label", args, "label").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_label_returns_the_label_with_its_ticket_count() {
    let mut s = spawn_stack().await;
    let l = label(&s, "WEB", "frontend").await;
    s.api
        .ticket_with(json!({"title": "Labelled", "label_ids": [l["id"]]}))
        .await;
    let got = s.call_ok("get_label", json!({"label_id": l["id"]})).await;
    assert_eq!(got["id"], l["id"]);
    assert_eq!(got["name"], json!("frontend"));
    assert_eq!(got["ticket_count"], json!(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn update_label_renames_recolours_and_clears_the_description() {
    let mut s = spawn_stack().await;
    let l = label(&s, "WEB", "frontend").await;
    let args = json!({"label_id": l["id"], "name": "ui", "color": "#00aa00", "description": null});
    let u = s.call_ok("update_label", args).await;
    assert_eq!(u["name"], json!("ui"));
    assert_eq!(u["color"], json!("#00AA00"));
    assert_eq!(u["description"], json!(null));
    let sent = s.api.first_request("patched", |e| e.method == "PATCH");
    assert_eq!(sent.path, format!("/api/v1/labels/{}", id(&l)));
    assert_eq!(
        sent.body,
        Some(json!({"name": "ui", "color": "#00aa00", "description": null}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn update_label_needs_at_least_one_field() {
    let mut s = spawn_stack().await;
    let l = label(&s, "WEB", "frontend").await;
    let e = s.call_invalid("update_label", json!({"label_id": l["id"]})).await;
    let message = e["message"].as_str().expect("message");
    assert!(message.contains("at least one") && message.contains("color"), "{e}");
    assert!(s.api.requests("/api/v1/labels/").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn update_label_reports_a_name_taken_in_the_project_as_a_conflict() {
    let mut s = spawn_stack().await;
    label(&s, "WEB", "frontend").await;
    let b = label(&s, "WEB", "backend").await;
    let args = json!({"label_id": b["id"], "name": "FRONTEND"});
    s.call_err_reason("update_label", args, 409, "duplicate").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_label_detaches_it_from_tickets_and_deletes_it() {
    let mut s = spawn_stack().await;
    let l = label(&s, "WEB", "doomed").await;
    s.api
        .ticket_with(json!({"title": "Labelled", "label_ids": [l["id"]]}))
        .await;
    let r = s.call_ok("delete_label", json!({"label_id": l["id"]})).await;
    assert_eq!(r, json!({"deleted": true, "label_id": l["id"]}));
    let (_, t) = s.api.send("GET", "/api/v1/tickets/WEB-1", None).await;
    assert_eq!(t["labels"], json!([]));
    s.call_not_found("get_label", json!({"label_id": l["id"]}), "label")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_label_reports_a_member_as_lacking_the_admin_role() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    let l = label(&s, "WEB", "kept").await;
    s.call_err_reason("delete_label", json!({"label_id": l["id"]}), 403, "insufficient_role")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_label_is_named_within_the_tickets_project_even_for_a_ticket_given_by_uuid() {
    let mut s = spawn_stack().await;
    let ticket = s.api.ticket("Style it").await;
    let l = label(&s, "WEB", "frontend").await;
    let args = json!({"ticket_id": ticket["id"], "label_id": "Frontend"});
    let t = s.call_ok("add_ticket_label", args).await;
    assert_eq!(label_names(&t), ["frontend"]);
    let id = ticket["id"].as_str().expect("id");
    assert_eq!(
        s.api.requests(&format!("/api/v1/tickets/{id}")),
        [
            ("GET".to_string(), format!("/api/v1/tickets/{id}")),
            ("POST".to_string(), format!("/api/v1/tickets/{id}/labels"))
        ],
        "the ticket, read once for its project"
    );
    let before = s.api.requests("/api/v1/projects/WEB/labels").len();
    let args = json!({"ticket_id": "web-1", "label_id": "frontend"});
    let t = s.call_ok("remove_ticket_label", args).await;
    assert_eq!(label_names(&t), Vec::<String>::new());
    assert_eq!(
        s.api.requests("/api/v1/projects/WEB/labels").len(),
        before + 1,
        "a key names its project: only the labels are read"
    );
    assert!(
        s.api.requests("/api/v1/tickets/web-1/labels/").contains(&(
            "DELETE".to_string(),
            format!("/api/v1/tickets/web-1/labels/{}", l["id"].as_str().expect("id"))
        )),
        "removed by id"
    );
    let e = s
        .call_invalid("add_ticket_label", json!({"ticket_id": "WEB-1", "label_id": "backend"}))
        .await;
    assert_eq!(e["data"]["candidates"], json!([{"id": l["id"], "name": "frontend"}]));
}

one_call_tests! {
    list_labels_reports_an_unknown_project_as_not_found:
        as Owner, "list_labels" {"project_id": "NOPE"} => call_not_found("project");
    get_label_reports_an_unknown_label_as_not_found:
        as Owner, "get_label" {"label_id": NO_SUCH_ID} => call_not_found("label");
}
