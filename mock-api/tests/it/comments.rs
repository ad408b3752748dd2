//! Comments over HTTP (#69–#73): who may comment, author-only edits, deletes by the author
//! or an Admin, the `Commented` activity and the ticket's `updated_at`.

use crate::support::{Org, org};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const COMMENTS: &str = "/api/v1/tickets/WEB-1/comments";

async fn setup() -> Org {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.ticket(&o.member, "WEB", "t").await;
    o
}

async fn comment(o: &Org, key: &str, body: &str) -> Value {
    let r = o.create(key, COMMENTS, json!({"body": body})).await;
    r.body
}

fn path(c: &Value) -> String {
    format!("/api/v1/comments/{}", c["id"].as_str().expect("id"))
}

async fn join_project(o: &Org, role: OrgRole) {
    o.create(
        &o.owner,
        "/api/v1/projects/WEB/members",
        json!({"user_id": o.user(role)}),
    )
    .await;
}

#[tokio::test]
async fn comments_are_created_listed_oldest_first_and_logged() {
    let o = setup().await;
    o.mock.advance(Duration::from_secs(60));
    let r = o.create(&o.member, COMMENTS, json!({"body": "  first  "})).await;
    let c = &r.body;
    assert_eq!(c["body"], "first");
    assert_eq!(c["author_id"], json!(o.user(OrgRole::Member)));
    assert_eq!(
        (c["edited_at"].clone(), c["org_id"].as_str()),
        (Value::Null, Some(o.org_id.as_str()))
    );
    let loc = r.location();
    assert_eq!(loc, path(c));
    assert_eq!(o.get(&o.viewer, &loc).await.body, r.body);
    let t = o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body;
    assert_eq!(c["ticket_id"], t["id"]);
    assert_eq!(t["updated_at"], "2026-04-01T12:01:00.000Z");
    let a = o
        .get(&o.viewer, "/api/v1/tickets/WEB-1/activity?action=Commented")
        .await;
    assert_eq!(a.body["items"].as_array().map(Vec::len), Some(1));
    let e = &a.body["items"][0];
    assert_eq!(
        (e["field"].clone(), e["old_value"].clone(), e["new_value"].clone()),
        (Value::Null, Value::Null, c["id"].clone())
    );
    comment(&o, &o.admin, "second").await;
    comment(&o, &o.owner, "third").await;
    let all = o.list_all(&o.viewer, COMMENTS, 2).await;
    let bodies: Vec<&str> = all.iter().map(|c| c["body"].as_str().expect("body")).collect();
    assert_eq!(bodies, vec!["first", "second", "third"]);
}

#[tokio::test]
async fn reporters_comment_only_in_their_projects_and_viewers_never() {
    let o = setup().await;
    let r = o.post(&o.reporter, COMMENTS, json!({"body": "hi"})).await;
    assert_eq!((r.status, r.reason()), (403, "not_project_member"));
    let r = o.post(&o.viewer, COMMENTS, json!({"body": "hi"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    join_project(&o, OrgRole::Reporter).await;
    let c = comment(&o, &o.reporter, "hi").await;
    let r = o.patch(&o.reporter, &path(&c), json!({"body": "hello"})).await;
    assert_eq!((r.status, r.body["body"].as_str()), (200, Some("hello")));
    assert_eq!(o.delete(&o.reporter, &path(&c)).await.status, 204);
    let req = json!({"body": "", "author_id": o.user(OrgRole::Owner), "text": "x"});
    let r = o.post(&o.member, COMMENTS, req).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"body": "required", "author_id": "immutable", "text": "unknown_field"})
    );
    let r = o.post(&o.member, COMMENTS, json!({"body": "x".repeat(10_001)})).await;
    assert_eq!(*r.fields(), json!({"body": "too_long"}));
}

#[tokio::test]
async fn only_the_author_edits_and_edits_set_edited_at_without_activity() {
    let o = setup().await;
    let c = comment(&o, &o.member, "draft").await;
    let p = path(&c);
    let r = o.patch(&o.owner, &p, json!({"body": "hijack"})).await;
    assert_eq!((r.status, r.reason()), (403, "not_author"));
    let r = o.patch(&o.viewer, &p, json!({"body": "x"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.patch(&o.member, &p, json!({"body": "draft"})).await;
    assert_eq!(r.body, c, "an equal body changes nothing");
    let before = o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body["updated_at"].clone();
    o.mock.advance(Duration::from_secs(30));
    let r = o.patch(&o.member, &p, json!({"body": "final"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["body"], "final");
    assert_eq!(r.body["edited_at"], "2026-04-01T12:00:30.000Z");
    assert_eq!(r.body["updated_at"], r.body["edited_at"]);
    assert_eq!(r.body["created_at"], c["created_at"]);
    assert_eq!(
        o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body["updated_at"],
        before
    );
    let req = json!({"body": null, "edited_at": "2026-01-01T00:00:00Z"});
    let r = o.patch(&o.member, &p, req).await;
    assert_eq!(*r.fields(), json!({"body": "required", "edited_at": "immutable"}));
    let r = o.patch(&o.member, &p, json!({})).await;
    assert_eq!(*r.fields(), json!({"body": "required"}));
}

#[tokio::test]
async fn authors_and_admins_delete_comments_and_others_get_not_author() {
    let o = setup().await;
    let mine = comment(&o, &o.member, "mine").await;
    let theirs = comment(&o, &o.owner, "theirs").await;
    let r = o.delete(&o.member, &path(&theirs)).await;
    assert_eq!((r.status, r.reason()), (403, "not_author"));
    let r = o.delete(&o.viewer, &path(&mine)).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.delete(&o.reporter, &path(&mine)).await;
    assert_eq!((r.status, r.reason()), (403, "not_project_member"));
    join_project(&o, OrgRole::Reporter).await;
    let r = o.delete(&o.reporter, &path(&mine)).await;
    assert_eq!((r.status, r.reason()), (403, "not_author"));
    assert_eq!(o.delete(&o.admin, &path(&theirs)).await.status, 204);
    assert_eq!(o.delete(&o.member, &path(&mine)).await.status, 204);
    assert_eq!(o.get(&o.viewer, &path(&mine)).await.status, 404);
    assert_eq!(o.get(&o.viewer, COMMENTS).await.body["items"], json!([]));
    let a = o
        .get(&o.viewer, "/api/v1/tickets/WEB-1/activity?action=Commented")
        .await;
    assert_eq!(
        a.body["items"].as_array().map(Vec::len),
        Some(2),
        "activity keeps the history"
    );
}

#[tokio::test]
async fn other_orgs_get_404_for_comments_and_their_tickets() {
    let o = setup().await;
    let c = comment(&o, &o.member, "private").await;
    let p = path(&c);
    for r in [
        o.get(&o.other, &p).await,
        o.patch(&o.other, &p, json!({"body": "x"})).await,
        o.delete(&o.other, &p).await,
    ] {
        r.not_found("comment");
    }
    let tid = c["ticket_id"].as_str().expect("ticket id");
    let req = json!({"body": "x"});
    let r = o.post(&o.other, &format!("/api/v1/tickets/{tid}/comments"), req).await;
    r.not_found("ticket");
    let r = o.get(&o.other, &format!("/api/v1/tickets/{tid}/comments")).await;
    assert_eq!(r.status, 404);
    let r = o.get(&o.owner, &format!("/api/v1/comments/{}", Uuid::new_v4())).await;
    assert_eq!(r.status, 404);
    let r = o.get(&o.owner, "/api/v1/comments/123").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
}
