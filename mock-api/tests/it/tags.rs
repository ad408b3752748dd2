//! Ticket tags over HTTP (#64–#67): replace, merge, delete one key, the key and value rules,
//! the 50-tag limit, and one `TagSet`/`TagRemoved` entry per changed key.

use crate::support::{Org, Resp, org};
use serde_json::{Value, json};

const TAGS: &str = "/api/v1/tickets/WEB-1/tags";

async fn setup() -> (Org, String) {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let t = o.ticket(&o.member, "WEB", "t").await;
    let id = t["id"].as_str().expect("id").to_string();
    (o, id)
}

async fn tag_activity(o: &Org) -> Vec<(String, String, Value, Value)> {
    let r = o
        .get(&o.viewer, "/api/v1/tickets/WEB-1/activity?action=TagSet,TagRemoved")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out: Vec<(String, String, Value, Value)> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().expect("action").to_string(),
                a["field"].as_str().expect("field").to_string(),
                a["old_value"].clone(),
                a["new_value"].clone(),
            )
        })
        .collect();
    out.reverse();
    out
}

fn entry(action: &str, key: &str, old: Value, new: Value) -> (String, String, Value, Value) {
    (action.to_string(), key.to_string(), old, new)
}

/// PUTs `tags` (the whole set) on the ticket as the Member.
async fn put_tags(o: &Org, tags: Value) -> Resp {
    o.put(&o.member, TAGS, json!({ "tags": tags })).await
}

#[tokio::test]
async fn put_replaces_every_tag_and_logs_each_changed_key_in_key_order() {
    let (o, id) = setup().await;
    let r = o.get(&o.viewer, TAGS).await;
    assert_eq!(r.body, json!({"ticket_id": id, "tags": {}}));
    let r = put_tags(&o, json!({"version": "1.0", "env": "prod", "empty": ""})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"ticket_id": id, "tags": {"empty": "", "env": "prod", "version": "1.0"}})
    );
    let r = put_tags(&o, json!({"env": "prod", "version": "2.0", "team": "core"})).await;
    assert_eq!(r.body["tags"], json!({"env": "prod", "team": "core", "version": "2.0"}));
    assert_eq!(
        o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body["tags"],
        r.body["tags"]
    );
    assert_eq!(
        tag_activity(&o).await,
        vec![
            entry("TagSet", "empty", Value::Null, json!("")),
            entry("TagSet", "env", Value::Null, json!("prod")),
            entry("TagSet", "version", Value::Null, json!("1.0")),
            entry("TagRemoved", "empty", json!(""), Value::Null),
            entry("TagSet", "team", Value::Null, json!("core")),
            entry("TagSet", "version", json!("1.0"), json!("2.0")),
        ]
    );
    let r = put_tags(&o, json!({"env": "prod", "version": "2.0", "team": "core"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(tag_activity(&o).await.len(), 6, "an identical PUT writes nothing");
    let r = put_tags(&o, json!({})).await;
    assert_eq!(r.body["tags"], json!({}));
    assert_eq!(tag_activity(&o).await.len(), 9);
}

#[tokio::test]
async fn patch_merges_strings_and_removes_nulls() {
    let (o, _) = setup().await;
    put_tags(&o, json!({"a": "1", "b": "2"})).await;
    let req = json!({"tags": {"b": null, "c": "3", "a": "1", "zz": null}});
    let r = o.patch(&o.member, TAGS, req).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"a": "1", "c": "3"}));
    let a = tag_activity(&o).await;
    assert_eq!(
        a[2..],
        [
            entry("TagRemoved", "b", json!("2"), Value::Null),
            entry("TagSet", "c", Value::Null, json!("3"))
        ]
    );
}

#[tokio::test]
async fn delete_removes_one_key_and_absent_or_odd_keys_are_200_unchanged() {
    let (o, _) = setup().await;
    put_tags(&o, json!({"env": "prod", "ver:major": "2"})).await;
    let r = o.delete(&o.member, "/api/v1/tickets/WEB-1/tags/ver:major").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"env": "prod"}));
    for key in ["ver:major", "missing", "Not%20A%20Key"] {
        let r = o.delete(&o.member, &format!("/api/v1/tickets/WEB-1/tags/{key}")).await;
        assert_eq!(
            (r.status, r.body["tags"].clone()),
            (200, json!({"env": "prod"})),
            "{key}"
        );
    }
    let a = tag_activity(&o).await;
    assert_eq!(
        a.last(),
        Some(&entry("TagRemoved", "ver:major", json!("2"), Value::Null))
    );
    assert_eq!(a.len(), 3);
}

#[tokio::test]
async fn tag_keys_values_and_counts_are_validated() {
    let (o, _) = setup().await;
    let body = json!({"tags": {"Env": "x", "_a": "x", "ok": "v".repeat(257), "n": 1, "fine": "v".repeat(256), "nul": null}, "extra": 1});
    let r = o.put(&o.member, TAGS, body).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"tags.Env": "invalid_format", "tags._a": "invalid_format", "tags.ok": "too_long", "tags.n": "invalid_format", "tags.nul": "invalid_format", "extra": "unknown_field"})
    );
    let r = o.put(&o.member, TAGS, json!({})).await;
    assert_eq!(*r.fields(), json!({"tags": "required"}));
    let r = o.patch(&o.member, TAGS, json!({"tags": ["a"]})).await;
    assert_eq!(*r.fields(), json!({"tags": "invalid_format"}));
    let fifty: serde_json::Map<String, Value> = (0..50).map(|i| (format!("k{i:02}"), json!("v"))).collect();
    let r = put_tags(&o, fifty.clone().into()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = o.patch(&o.member, TAGS, json!({"tags": {"one-more": "v"}})).await;
    assert_eq!(*r.fields(), json!({"tags": "out_of_range"}));
    let r = o
        .patch(&o.member, TAGS, json!({"tags": {"one-more": "v", "k00": null}}))
        .await;
    assert_eq!(r.status, 200, "a swap stays within 50");
    let mut many = fifty.clone();
    many.insert("k50".into(), json!("v"));
    let r = put_tags(&o, many.into()).await;
    assert_eq!(*r.fields(), json!({"tags": "out_of_range"}));
}

#[tokio::test]
async fn tag_writes_need_member_and_other_orgs_get_404() {
    let (o, id) = setup().await;
    for key in [&o.viewer, &o.reporter] {
        let r = o.put(key, TAGS, json!({"tags": {"a": "b"}})).await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
        let r = o.patch(key, TAGS, json!({"tags": {"a": "b"}})).await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
        let r = o.delete(key, "/api/v1/tickets/WEB-1/tags/a").await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    }
    let path = format!("/api/v1/tickets/{id}/tags");
    assert_eq!(o.status(&o.other, &path).await, 404);
    assert_eq!(o.put(&o.other, &path, json!({"tags": {}})).await.status, 404);
    assert_eq!(o.delete(&o.other, &format!("{path}/a")).await.status, 404);
    let r = o.get(&o.viewer, "/api/v1/tickets/WEB-1/activity?action=Tagged").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
}
