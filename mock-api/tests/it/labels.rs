//! Labels over HTTP: create/list/get/patch/delete (#48–#52) with name uniqueness and colour
//! rules, and attaching them to tickets (#62, #63) with their activity entries.

use crate::support::{Org, org};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};
use uuid::Uuid;

async fn label(o: &Org, project: &str, body: Value) -> Value {
    let r = o
        .create(&o.member, &format!("/api/v1/projects/{project}/labels"), body)
        .await;
    r.body
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect()
}

async fn actions(o: &Org, ticket: &str) -> Vec<(String, Value, Value)> {
    let r = o.get(&o.viewer, &format!("/api/v1/tickets/{ticket}/activity")).await;
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().expect("action").to_string(),
                a["old_value"].clone(),
                a["new_value"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_label_defaults_and_upper_cases_the_color_and_lists_by_name_ignoring_case() {
    let o = org().await;
    let p = o.project(&o.owner, "WEB").await;
    let req = json!({"name": " zeta ", "color": "#a1b2c3"});
    let r = o.create(&o.member, "/api/v1/projects/web/labels", req).await;
    let l = &r.body;
    assert_eq!(
        (l["name"].as_str(), l["color"].as_str()),
        (Some("zeta"), Some("#A1B2C3"))
    );
    assert_eq!(
        (l["project_id"].clone(), l["org_id"].as_str()),
        (p["id"].clone(), Some(o.org_id.as_str()))
    );
    assert_eq!(
        (l["ticket_count"].as_i64(), l["description"].clone()),
        (Some(0), Value::Null)
    );
    assert_eq!(l["created_by"], json!(o.user(OrgRole::Member)));
    let loc = r.location();
    assert_eq!(o.get(&o.viewer, &loc).await.body, r.body);
    let b = label(&o, "WEB", json!({"name": "Bug", "description": "broken"})).await;
    assert_eq!(b["color"], "#6B7280");
    label(&o, "WEB", json!({"name": "alpha"})).await;
    let r = o.get(&o.viewer, "/api/v1/projects/WEB/labels").await;
    assert_eq!(names(&r.body), vec!["alpha", "Bug", "zeta"]);
    let all = o.list_all(&o.viewer, "/api/v1/projects/WEB/labels", 1).await;
    let walked: Vec<&str> = all.iter().map(|l| l["name"].as_str().expect("name")).collect();
    assert_eq!(walked, vec!["alpha", "Bug", "zeta"]);
}

#[tokio::test]
async fn label_names_are_unique_per_project_ignoring_case_on_create_and_patch() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "API").await;
    label(&o, "WEB", json!({"name": "Bug"})).await;
    let r = o
        .post(&o.member, "/api/v1/projects/WEB/labels", json!({"name": "bUG"}))
        .await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    assert_eq!(
        (
            r.body["error"]["details"]["field"].as_str(),
            r.body["error"]["details"]["value"].as_str()
        ),
        (Some("name"), Some("bUG"))
    );
    label(&o, "API", json!({"name": "bug"})).await;
    let feature = label(&o, "WEB", json!({"name": "feature"})).await;
    let path = format!("/api/v1/labels/{}", feature["id"].as_str().expect("id"));
    let r = o.patch(&o.member, &path, json!({"name": "BUG"})).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    let r = o.patch(&o.member, &path, json!({"name": "Feature"})).await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (200, Some("Feature")),
        "a case change of its own name is fine"
    );
}

#[tokio::test]
async fn label_bodies_list_every_failing_field() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let body = json!({"name": "x".repeat(51), "color": "red", "description": 5, "ticket_count": 3, "shade": 1});
    let r = o.post(&o.member, "/api/v1/projects/WEB/labels", body).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"name": "too_long", "color": "invalid_format", "description": "invalid_format", "ticket_count": "immutable", "shade": "unknown_field"})
    );
    let l = label(&o, "WEB", json!({"name": "ok"})).await;
    let path = format!("/api/v1/labels/{}", l["id"].as_str().expect("id"));
    let req = json!({"name": null, "color": null, "description": null, "project_id": l["project_id"]});
    let r = o.patch(&o.member, &path, req).await;
    assert_eq!(
        *r.fields(),
        json!({"name": "not_nullable", "color": "not_nullable", "project_id": "immutable"})
    );
}

#[tokio::test]
async fn label_patch_changes_fields_and_a_no_op_keeps_updated_at() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let l = label(&o, "WEB", json!({"name": "bug", "description": "d"})).await;
    let path = format!("/api/v1/labels/{}", l["id"].as_str().expect("id"));
    o.mock.advance(std::time::Duration::from_secs(60));
    let r = o
        .patch(&o.member, &path, json!({"name": "bug", "color": "#6b7280"}))
        .await;
    assert_eq!(r.body, l, "equal values change nothing");
    let r = o
        .patch(&o.member, &path, json!({"color": "#00ff00", "description": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["color"].as_str(), r.body["description"].clone()),
        (Some("#00FF00"), Value::Null)
    );
    assert_eq!(r.body["updated_at"], "2026-04-01T12:01:00.000Z");
    assert_eq!(r.body["created_at"], "2026-04-01T12:00:00.000Z");
}

#[tokio::test]
async fn label_permissions_and_other_orgs() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let l = label(&o, "WEB", json!({"name": "bug"})).await;
    let path = format!("/api/v1/labels/{}", l["id"].as_str().expect("id"));
    let r = o
        .post(&o.viewer, "/api/v1/projects/WEB/labels", json!({"name": "x"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o
        .post(&o.reporter, "/api/v1/projects/WEB/labels", json!({"name": "x"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.patch(&o.viewer, &path, json!({"name": "x"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.delete(&o.member, &path).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(r.body["error"]["details"]["required_role"], "Admin");
    assert_eq!(o.status(&o.viewer, &path).await, 200);
    for r in [
        o.get(&o.other, &path).await,
        o.patch(&o.other, &path, json!({"name": "x"})).await,
        o.delete(&o.other, &path).await,
    ] {
        r.not_found("label");
    }
    let r = o.get(&o.other, "/api/v1/projects/WEB/labels").await;
    r.not_found("project");
    let r = o.get(&o.owner, "/api/v1/labels/bug").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
    let r = o.get(&o.owner, &format!("/api/v1/labels/{}", Uuid::new_v4())).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn attaching_and_detaching_labels_is_idempotent_and_logged() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "API").await;
    let bug = label(&o, "WEB", json!({"name": "bug"})).await;
    let ui = label(&o, "WEB", json!({"name": "UI", "color": "#123456"})).await;
    let foreign = label(&o, "API", json!({"name": "api"})).await;
    o.ticket(&o.member, "WEB", "t").await;
    let attach = |id: &Value| o.post(&o.member, "/api/v1/tickets/WEB-1/labels", json!({"label_id": id}));
    let r = attach(&bug["id"]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["labels"],
        json!([{"id": bug["id"], "name": "bug", "color": "#6B7280"}])
    );
    let r = attach(&ui["id"]).await;
    let got: Vec<&str> = r.body["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect();
    assert_eq!(got, vec!["bug", "UI"]);
    let again = attach(&bug["id"]).await;
    assert_eq!((again.status, again.body.clone()), (200, r.body.clone()));
    let r = attach(&foreign["id"]).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    assert_eq!(r.body["error"]["details"]["field"], "label_id");
    let r = attach(&json!(Uuid::new_v4())).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = attach(&json!("bug")).await;
    assert_eq!(*r.fields(), json!({"label_id": "invalid_format"}));
    let req = json!({"label_id": bug["id"]});
    let r = o.post(&o.viewer, "/api/v1/tickets/WEB-1/labels", req).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let label_count = o
        .get(
            &o.viewer,
            &format!("/api/v1/labels/{}", bug["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(label_count.body["ticket_count"], 1);

    let o = &o;
    let detach = |id: &str| {
        let path = format!("/api/v1/tickets/WEB-1/labels/{id}");
        async move { o.delete(&o.member, &path).await }
    };
    let r = detach(bug["id"].as_str().expect("id")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["labels"],
        json!([{"id": ui["id"], "name": "UI", "color": "#123456"}])
    );
    let r = detach(bug["id"].as_str().expect("id")).await;
    assert_eq!(r.status, 200, "not attached: unchanged");
    let r = detach(foreign["id"].as_str().expect("id")).await;
    assert_eq!(r.status, 200);
    let r = detach(&Uuid::new_v4().to_string()).await;
    r.not_found("label");
    let r = detach("nope").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
    let got = actions(o, "WEB-1").await;
    assert_eq!(
        got,
        vec![
            ("LabelRemoved".into(), bug["id"].clone(), Value::Null),
            ("LabelAdded".into(), Value::Null, ui["id"].clone()),
            ("LabelAdded".into(), Value::Null, bug["id"].clone()),
            (
                "Created".into(),
                Value::Null,
                json!({"key": "WEB-1", "title": "t", "status": "Backlog"})
            ),
        ]
    );
}

#[tokio::test]
async fn deleting_a_label_detaches_it_from_every_ticket_first() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let bug = label(&o, "WEB", json!({"name": "bug"})).await;
    let keep = label(&o, "WEB", json!({"name": "keep"})).await;
    for title in ["a", "b", "c"] {
        o.ticket(&o.member, "WEB", title).await;
    }
    for t in ["WEB-1", "WEB-3"] {
        for l in [&bug, &keep] {
            let req = json!({"label_id": l["id"]});
            let r = o.post(&o.member, &format!("/api/v1/tickets/{t}/labels"), req).await;
            assert_eq!(r.status, 200);
        }
    }
    let path = format!("/api/v1/labels/{}", bug["id"].as_str().expect("id"));
    assert_eq!(o.get(&o.viewer, &path).await.body["ticket_count"], 2);
    let r = o.delete(&o.admin, &path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(o.status(&o.viewer, &path).await, 404);
    for t in ["WEB-1", "WEB-3"] {
        let got = o.get(&o.viewer, &format!("/api/v1/tickets/{t}")).await;
        assert_eq!(
            got.body["labels"],
            json!([{"id": keep["id"], "name": "keep", "color": "#6B7280"}])
        );
        let a = actions(&o, t).await;
        assert_eq!(a[0], ("LabelRemoved".to_string(), bug["id"].clone(), Value::Null));
        assert_eq!(a.iter().filter(|x| x.0 == "LabelRemoved").count(), 1);
    }
    assert_eq!(
        actions(&o, "WEB-2").await.len(),
        1,
        "a ticket without the label gets no entry"
    );
    let r = o
        .get(
            &o.viewer,
            &format!("/api/v1/tickets?label_id={}", bug["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(r.body["items"], json!([]));
}
