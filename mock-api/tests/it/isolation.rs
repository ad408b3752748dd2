//! Cross-org isolation over HTTP (contract §1.2, §1.7): the Owner of another org gets `404` for
//! every kind of id and key of the first org — reads and writes alike, with the resource named
//! — a `404` for the first org's `org_id` in queries, and never sees its rows in any list.

use crate::support::{Org, org};
use serde_json::{Value, json};

/// Everything one org can own, created over HTTP by its Owner.
struct Fixture {
    project: String,
    ticket: String,
    sprint: String,
    team: String,
    workflow: String,
    label: String,
    comment: String,
    entry: String,
    invite: String,
    api_key: String,
}

fn id(r: &crate::support::Resp) -> String {
    assert!(r.status == 201, "{}", r.text);
    r.id().to_string()
}

async fn fixture(o: &Org) -> Fixture {
    let k = &o.owner;
    let project = o.project(k, "WEB").await["id"].as_str().expect("id").to_string();
    let ticket = o.ticket(k, "WEB", "Secret plans").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let sprint = id(&o
        .post(
            k,
            "/api/v1/projects/WEB/sprints",
            json!({"name": "S", "start_date": "2026-04-01", "end_date": "2026-04-14"}),
        )
        .await);
    let team = id(&o.post(k, &o.org_path("/teams"), json!({"name": "Core"})).await);
    let statuses = json!([{"name": "Open", "category": "Unstarted"}, {"name": "Shut", "category": "Completed"}]);
    let workflow = id(&o
        .post(
            k,
            &o.org_path("/workflows"),
            json!({"name": "Flow", "statuses": statuses}),
        )
        .await);
    let label = id(&o.post(k, "/api/v1/projects/WEB/labels", json!({"name": "bug"})).await);
    let comment = id(&o
        .post(k, "/api/v1/tickets/WEB-1/comments", json!({"body": "hush"}))
        .await);
    let entry = id(&o
        .post(k, "/api/v1/tickets/WEB-1/time-entries", json!({"minutes": 30}))
        .await);
    let invite = id(&o
        .post(k, &o.org_path("/invites"), json!({"email": "n@acme.test"}))
        .await);
    let api_key = id(&o.post(k, "/api/v1/api-keys", json!({"name": "k"})).await);
    Fixture {
        project,
        ticket,
        sprint,
        team,
        workflow,
        label,
        comment,
        entry,
        invite,
        api_key,
    }
}

fn assert_404(r: &crate::support::Resp, what: &str, resource: &str) {
    assert_eq!(r.status, 404, "{what}: {}", r.text);
    assert_eq!(
        r.body["error"]["details"]["resource"],
        json!(resource),
        "{what}: {}",
        r.text
    );
}

#[tokio::test]
async fn another_orgs_owner_gets_404_for_every_kind_of_id() {
    let o = org().await;
    let f = fixture(&o).await;
    let x = &o.other;
    let reads = [
        (format!("/api/v1/projects/{}", f.project), "project"),
        ("/api/v1/projects/WEB".to_string(), "project"),
        ("/api/v1/projects/WEB/summary".to_string(), "project"),
        ("/api/v1/projects/WEB/tickets".to_string(), "project"),
        ("/api/v1/projects/WEB/sprints".to_string(), "project"),
        ("/api/v1/projects/WEB/labels".to_string(), "project"),
        ("/api/v1/projects/WEB/members".to_string(), "project"),
        (format!("/api/v1/tickets/{}", f.ticket), "ticket"),
        ("/api/v1/tickets/WEB-1".to_string(), "ticket"),
        ("/api/v1/tickets/WEB-1/comments".to_string(), "ticket"),
        ("/api/v1/tickets/WEB-1/activity".to_string(), "ticket"),
        ("/api/v1/tickets/WEB-1/tags".to_string(), "ticket"),
        ("/api/v1/tickets/WEB-1/time-entries".to_string(), "ticket"),
        (format!("/api/v1/sprints/{}", f.sprint), "sprint"),
        (format!("/api/v1/sprints/{}/board", f.sprint), "sprint"),
        (format!("/api/v1/sprints/{}/burndown", f.sprint), "sprint"),
        (format!("/api/v1/teams/{}", f.team), "team"),
        (format!("/api/v1/workflows/{}", f.workflow), "workflow"),
        (format!("/api/v1/labels/{}", f.label), "label"),
        (format!("/api/v1/comments/{}", f.comment), "comment"),
        (format!("/api/v1/time-entries/{}", f.entry), "time_entry"),
        (o.org_path(""), "organization"),
        (o.org_path("/members"), "organization"),
        (o.org_path("/teams"), "organization"),
        (o.org_path("/workflows"), "organization"),
        (o.org_path("/invites"), "organization"),
        (format!("/api/v1/projects?org_id={}", o.org_id), "organization"),
        (format!("/api/v1/tickets?org_id={}", o.org_id), "organization"),
        (format!("/api/v1/time-entries?org_id={}", o.org_id), "organization"),
    ];
    for (path, resource) in &reads {
        assert_404(&o.get(x, path).await, path, resource);
    }
    let writes: Vec<(&str, String, Value, &str)> = vec![
        (
            "PATCH",
            format!("/api/v1/projects/{}", f.project),
            json!({"name": "Mine"}),
            "project",
        ),
        ("DELETE", "/api/v1/projects/WEB".into(), Value::Null, "project"),
        (
            "POST",
            "/api/v1/projects/WEB/tickets".into(),
            json!({"title": "t"}),
            "project",
        ),
        ("PATCH", "/api/v1/tickets/WEB-1".into(), json!({"title": "t"}), "ticket"),
        (
            "POST",
            "/api/v1/tickets/WEB-1/transition".into(),
            json!({"status": "Done"}),
            "ticket",
        ),
        ("DELETE", format!("/api/v1/tickets/{}", f.ticket), Value::Null, "ticket"),
        (
            "POST",
            format!("/api/v1/sprints/{}/start", f.sprint),
            json!({}),
            "sprint",
        ),
        (
            "PATCH",
            format!("/api/v1/sprints/{}", f.sprint),
            json!({"name": "x"}),
            "sprint",
        ),
        ("DELETE", format!("/api/v1/teams/{}", f.team), Value::Null, "team"),
        (
            "POST",
            format!("/api/v1/teams/{}/members", f.team),
            json!({"user_id": o.user(alloy_mock_api::model::OrgRole::Owner)}),
            "team",
        ),
        (
            "PATCH",
            format!("/api/v1/workflows/{}", f.workflow),
            json!({"name": "x"}),
            "workflow",
        ),
        (
            "DELETE",
            format!("/api/v1/workflows/{}", f.workflow),
            Value::Null,
            "workflow",
        ),
        ("DELETE", format!("/api/v1/labels/{}", f.label), Value::Null, "label"),
        (
            "PATCH",
            format!("/api/v1/comments/{}", f.comment),
            json!({"body": "x"}),
            "comment",
        ),
        (
            "POST",
            format!("/api/v1/time-entries/{}/submit", f.entry),
            Value::Null,
            "time_entry",
        ),
        ("DELETE", format!("/api/v1/invites/{}", f.invite), Value::Null, "invite"),
        (
            "DELETE",
            format!("/api/v1/api-keys/{}", f.api_key),
            Value::Null,
            "api_key",
        ),
        ("PATCH", o.org_path(""), json!({"name": "x"}), "organization"),
        ("POST", o.org_path("/teams"), json!({"name": "x"}), "organization"),
        (
            "POST",
            "/api/v1/projects".into(),
            json!({"org_id": o.org_id, "key": "NEW", "name": "x"}),
            "organization",
        ),
    ];
    for (method, path, body, resource) in writes {
        let body = (!body.is_null()).then_some(body);
        let r = o.send(method, Some(x), &path, body).await;
        assert_404(&r, &format!("{method} {path}"), resource);
    }
    let owner = o.user(alloy_mock_api::model::OrgRole::Owner);
    let r = o
        .patch(x, &o.org_path(&format!("/members/{owner}")), json!({"role": "Viewer"}))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let still = o.get(&o.owner, "/api/v1/tickets/WEB-1").await;
    assert_eq!(
        still.body["title"], "Secret plans",
        "nothing was changed by the other org"
    );
}

#[tokio::test]
async fn another_orgs_lists_never_show_the_first_orgs_rows() {
    let o = org().await;
    let f = fixture(&o).await;
    let x = &o.other;
    let ours = [
        &f.project,
        &f.ticket,
        &f.sprint,
        &f.team,
        &f.workflow,
        &f.label,
        &f.comment,
        &f.entry,
        &f.invite,
        &f.api_key,
    ];
    let mut seen = Vec::new();
    for path in [
        "/api/v1/projects",
        "/api/v1/tickets",
        "/api/v1/time-entries",
        "/api/v1/orgs",
        "/api/v1/api-keys?all=true",
    ] {
        let r = o.get(x, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        seen.extend(
            r.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["id"].clone()),
        );
    }
    let their_org = o.get(x, "/api/v1/auth/me").await.body["org_id"]
        .as_str()
        .expect("org")
        .to_string();
    for path in ["teams", "workflows", "invites", "members"] {
        let r = o.get(x, &format!("/api/v1/orgs/{their_org}/{path}")).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        for item in r.body["items"].as_array().expect("items") {
            seen.push(item["id"].clone());
            seen.push(item["user_id"].clone());
        }
    }
    for id in ours {
        assert!(!seen.contains(&json!(id)), "{id} leaked into another org's lists");
    }
    assert!(!seen.contains(&json!(o.org_id)));
    assert!(!seen.contains(&json!(o.user(alloy_mock_api::model::OrgRole::Owner))));
    let r = o.get(x, "/api/v1/tickets?q=Secret").await;
    assert_eq!(r.body["items"], json!([]));
    let r = o.get(x, "/api/v1/projects/WEB").await;
    assert_eq!(r.status, 404, "a project key resolves only inside the caller's org");
}
