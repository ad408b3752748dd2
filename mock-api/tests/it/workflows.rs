//! Workflows over HTTP (contract §3.2, §4.3 #30–#34): the Default workflow and its protection,
//! every structural rule as a field of one `validation_error`, unique names ignoring case, and
//! the PATCH side effects (whole-list replacement, dropped transitions, reset initial status,
//! `in_use` with per-status dependents).

use crate::support::{Org, names, org};
use serde_json::{Value, json};

fn delivery() -> Value {
    json!({
        "name": "Delivery",
        "statuses": [
            {"name": "Open", "category": "Unstarted"},
            {"name": "Ready", "category": "Unstarted"},
            {"name": "Doing", "category": "Started"},
            {"name": "Shipped", "category": "Completed"},
            {"name": "Dropped", "category": "Cancelled"}
        ],
        "transitions": [
            {"from": "Open", "to": "Ready"}, {"from": "Ready", "to": "Doing"},
            {"from": "Doing", "to": "Shipped"}, {"from": "Open", "to": "Dropped"}
        ],
        "enforcement": "strict"
    })
}

async fn create(o: &Org, body: Value) -> crate::support::Resp {
    o.post(&o.admin, &o.org_path("/workflows"), body).await
}

#[tokio::test]
async fn the_default_workflow_comes_first_with_six_statuses_and_thirty_transitions() {
    let o = org().await;
    create(&o, delivery()).await;
    let r = o.get(&o.viewer, &o.org_path("/workflows")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.body["items"][0];
    assert_eq!(
        (d["name"].as_str(), d["is_default"].as_bool()),
        (Some("Default"), Some(true))
    );
    assert_eq!(
        names(&d["statuses"]),
        vec!["Backlog", "Todo", "InProgress", "InReview", "Done", "Cancelled"]
    );
    assert_eq!(d["transitions"].as_array().expect("transitions").len(), 30);
    assert_eq!(
        (d["initial_status"].as_str(), d["enforcement"].as_str()),
        (Some("Backlog"), Some("none"))
    );
    assert_eq!(d["created_by"], json!(null));
    assert_eq!(r.body["items"][1]["name"], "Delivery");
}

#[tokio::test]
async fn a_custom_workflow_gets_its_defaults_and_a_location() {
    let o = org().await;
    let mut body = delivery();
    body.as_object_mut().expect("object").remove("transitions");
    body.as_object_mut().expect("object").remove("enforcement");
    let r = create(&o, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["initial_status"], "Open");
    assert_eq!(r.body["transitions"], json!([]));
    assert_eq!(r.body["enforcement"], "none");
    assert_eq!(r.body["is_default"], false);
    assert_eq!(r.body["project_count"], 0);
    assert_eq!(r.body["description"], json!(null));
    assert_eq!(
        r.body["created_by"],
        json!(o.user(alloy_mock_api::model::OrgRole::Admin))
    );
    let loc = r.location();
    assert_eq!(o.get(&o.viewer, &loc).await.body["name"], "Delivery");
}

#[tokio::test]
async fn every_broken_workflow_rule_is_listed() {
    let o = org().await;
    let r = create(
        &o,
        json!({
            "name": "",
            "statuses": [
                {"name": "open", "category": "Unstarted"},
                {"name": "Done", "category": "Completed"},
                {"name": "Done", "category": "Completed"},
                {"name": "Later", "category": "Finished"},
                {"name": "Todo"},
                {"name": "Todo", "category": "Unstarted", "color": "red"}
            ],
            "transitions": [{"from": "Todo", "to": "Todo"}, {"from": "Todo", "to": "Nowhere"}, "x"],
            "enforcement": "loose",
            "is_default": true
        }),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({
            "name": "required",
            "statuses[0].name": "invalid_format",
            "statuses[2].name": "duplicate_item",
            "statuses[3].category": "invalid_enum",
            "statuses[4].category": "required",
            "statuses[5].color": "unknown_field",
            "transitions[0].to": "invalid_format",
            "transitions[2]": "invalid_format",
            "enforcement": "invalid_enum",
            "is_default": "immutable"
        })
    );
}

#[tokio::test]
async fn statuses_need_a_start_and_an_end_and_a_valid_initial_status() {
    let o = org().await;
    let r = create(
        &o,
        json!({"name": "W", "statuses": [{"name": "A", "category": "Unstarted"}]}),
    )
    .await;
    assert_eq!(*r.fields(), json!({"statuses": "too_short"}));
    let started = json!([{"name": "A", "category": "Started"}, {"name": "B", "category": "Completed"}]);
    let r = create(&o, json!({"name": "W", "statuses": started})).await;
    assert_eq!(*r.fields(), json!({"statuses": "invalid_format"}));
    let ok = json!([{"name": "A", "category": "Unstarted"}, {"name": "B", "category": "Started"}, {"name": "C", "category": "Completed"}]);
    let r = create(&o, json!({"name": "W", "statuses": ok, "initial_status": "B"})).await;
    assert_eq!(*r.fields(), json!({"initial_status": "invalid_enum"}));
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"name": format!("S{i}"), "category": "Unstarted"}))
        .collect();
    let r = create(&o, json!({"name": "W", "statuses": many})).await;
    assert_eq!(*r.fields(), json!({"statuses": "too_long"}));
    let r = create(
        &o,
        json!({"name": "W", "statuses": ok, "transitions": [{"from": "A", "to": "B"}, {"from": "A", "to": "B"}]}),
    )
    .await;
    assert_eq!(*r.fields(), json!({"transitions[1]": "duplicate_item"}));
}

#[tokio::test]
async fn workflow_names_are_unique_ignoring_case() {
    let o = org().await;
    let mut body = delivery();
    body["name"] = json!("default");
    let r = create(&o, body).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    let w = create(&o, delivery()).await;
    let req = json!({"name": "DEFAULT"});
    let r = o.patch(&o.admin, &format!("/api/v1/workflows/{}", w.id()), req).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
}

#[tokio::test]
async fn the_default_workflow_is_protected() {
    let o = org().await;
    let id = o.mock.with_store(|s| {
        s.workflows
            .values()
            .find(|w| w.is_default && w.name == "Default")
            .map(|w| w.id.to_string())
    });
    let path = format!("/api/v1/workflows/{}", id.expect("default workflow"));
    let r = o.patch(&o.admin, &path, json!({"enforcement": "strict"})).await;
    assert_eq!((r.status, r.reason()), (422, "protected"));
    let r = o.delete(&o.admin, &path).await;
    assert_eq!((r.status, r.reason()), (422, "protected"));
    let r = o.patch(&o.admin, &path, json!({"is_default": false})).await;
    assert_eq!(*r.fields(), json!({"is_default": "immutable"}));
}

#[tokio::test]
async fn patching_statuses_drops_dead_transitions_and_resets_the_initial_status() {
    let o = org().await;
    let w = create(&o, delivery()).await;
    let path = format!("/api/v1/workflows/{}", w.id());
    let statuses = json!([
        {"name": "Ready", "category": "Unstarted"},
        {"name": "Doing", "category": "Started"},
        {"name": "Shipped", "category": "Completed"}
    ]);
    let r = o.patch(&o.admin, &path, json!({"statuses": statuses})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["initial_status"], "Ready",
        "Open is gone, so the first Unstarted status takes over"
    );
    assert_eq!(
        r.body["transitions"],
        json!([{"from": "Ready", "to": "Doing"}, {"from": "Doing", "to": "Shipped"}])
    );
    let req = json!({"transitions": [{"from": "Ready", "to": "Shipped"}], "enforcement": "none"});
    let r = o.patch(&o.admin, &path, req).await;
    assert_eq!(r.body["transitions"], json!([{"from": "Ready", "to": "Shipped"}]));
    assert_eq!(r.body["enforcement"], "none");
    let req = json!({"transitions": [{"from": "Open", "to": "Ready"}]});
    let r = o.patch(&o.admin, &path, req).await;
    assert_eq!(*r.fields(), json!({"transitions[0].from": "invalid_enum"}));
    let req = json!({"initial_status": "Doing", "description": null, "statuses": null});
    let r = o.patch(&o.admin, &path, req).await;
    assert_eq!(
        *r.fields(),
        json!({"initial_status": "invalid_enum", "statuses": "not_nullable"})
    );
}

#[tokio::test]
async fn removing_a_status_held_by_tickets_is_in_use() {
    let o = org().await;
    let w = create(&o, delivery()).await;
    let wid = w.id().to_string();
    o.create(
        &o.member,
        "/api/v1/projects",
        json!({"key": "DEL", "name": "Delivery", "workflow_id": wid}),
    )
    .await;
    o.ticket(&o.member, "DEL", "One").await;
    o.ticket(&o.member, "DEL", "Two").await;
    let path = format!("/api/v1/workflows/{wid}");
    let statuses = json!([{"name": "Ready", "category": "Unstarted"}, {"name": "Shipped", "category": "Completed"}]);
    let r = o.patch(&o.admin, &path, json!({"statuses": statuses})).await;
    assert_eq!((r.status, r.reason()), (409, "in_use"));
    assert_eq!(r.body["error"]["details"]["dependents"], json!({"Open": 2}));
    let r = o.get(&o.viewer, &path).await;
    assert_eq!(r.body["project_count"], 1);
    let r = o.delete(&o.admin, &path).await;
    assert_eq!((r.status, r.reason()), (409, "in_use"));
}

#[tokio::test]
async fn workflow_writes_need_admin_and_unused_workflows_can_be_deleted() {
    let o = org().await;
    let r = o.post(&o.member, &o.org_path("/workflows"), delivery()).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let w = create(&o, delivery()).await;
    let path = format!("/api/v1/workflows/{}", w.id());
    assert_eq!(o.patch(&o.member, &path, json!({"name": "X"})).await.status, 403);
    assert_eq!(o.delete(&o.member, &path).await.status, 403);
    assert_eq!(o.delete(&o.admin, &path).await.status, 204);
    let r = o.get(&o.admin, &path).await;
    r.not_found("workflow");
}

#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let o = org().await;
    let w = create(&o, delivery()).await;
    o.mock.advance(std::time::Duration::from_secs(5));
    let req = json!({});
    let r = o.patch(&o.admin, &format!("/api/v1/workflows/{}", w.id()), req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, w.body);
}
