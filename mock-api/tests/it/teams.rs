//! Teams over HTTP (contract §4.2 #23–#29): case-insensitive unique names, ascending
//! `member_ids` that must be org members, idempotent membership changes and Admin-only writes.

use crate::support::{names, org, org_at};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

#[tokio::test]
async fn created_team_lists_members_ascending_and_has_a_location() {
    let o = org().await;
    let (admin, viewer) = (o.user(OrgRole::Admin), o.user(OrgRole::Viewer));
    let path = o.org_path("/teams");
    let req = json!({"name": "Platform", "description": "Infra", "member_ids": [viewer, admin]});
    let r = o.create(&o.admin, &path, req).await;
    let mut sorted = vec![admin.clone(), viewer.clone()];
    sorted.sort();
    assert_eq!(r.body["member_ids"], json!(sorted));
    assert_eq!(r.body["created_by"], json!(admin));
    assert_eq!(r.body["org_id"], json!(o.org_id));
    let loc = r.location();
    let got = o.get(&o.viewer, &loc).await;
    assert_eq!((got.status, got.body["name"].as_str()), (200, Some("Platform")));
}

#[tokio::test]
async fn team_names_are_unique_ignoring_case_on_create_and_patch() {
    let (o, path) = org_at("/teams").await;
    o.post(&o.admin, &path, json!({"name": "Platform"})).await;
    let other = o.post(&o.admin, &path, json!({"name": "Web"})).await;
    let r = o.post(&o.admin, &path, json!({"name": "PLATFORM"})).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    assert_eq!(r.body["error"]["details"]["field"], "name");
    let web = format!("/api/v1/teams/{}", other.id());
    let r = o.patch(&o.admin, &web, json!({"name": "platform"})).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    let r = o
        .patch(&o.admin, &web, json!({"name": "WEB", "description": "Front end"}))
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (200, Some("WEB")),
        "a team may change the case of its own name"
    );
}

#[tokio::test]
async fn team_fields_are_validated_together_and_members_must_belong_to_the_org() {
    let (o, path) = org_at("/teams").await;
    let req = json!({"name": "", "description": "x".repeat(501), "member_ids": ["nope"], "id": "x", "lead": 1});
    let r = o.post(&o.admin, &path, req).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"name": "required", "description": "too_long", "member_ids": "invalid_format", "id": "immutable", "lead": "unknown_field"})
    );
    let stranger = "00000000-0000-4000-8000-0000000000ff";
    let r = o
        .post(&o.admin, &path, json!({"name": "Core", "member_ids": [stranger]}))
        .await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    assert_eq!(r.body["error"]["details"]["id"], stranger);
}

#[tokio::test]
async fn team_membership_changes_are_idempotent() {
    let o = org().await;
    let uid = o.user(OrgRole::Member);
    let t = o.post(&o.admin, &o.org_path("/teams"), json!({"name": "Core"})).await;
    let team = format!("/api/v1/teams/{}", t.id());
    for _ in 0..2 {
        let r = o
            .post(&o.admin, &format!("{team}/members"), json!({"user_id": uid}))
            .await;
        assert_eq!((r.status, r.body["member_ids"].clone()), (200, json!([uid])));
    }
    let req = json!({"user_id": "00000000-0000-4000-8000-0000000000ff"});
    let r = o.post(&o.admin, &format!("{team}/members"), req).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o.patch(&o.admin, &team, json!({"member_ids": []})).await;
    assert_eq!(*r.fields(), json!({"member_ids": "immutable"}));
    for _ in 0..2 {
        let r = o.delete(&o.admin, &format!("{team}/members/{uid}")).await;
        assert_eq!((r.status, r.body["member_ids"].clone()), (200, json!([])));
    }
    let r = o.delete(&o.admin, &format!("{team}/members/not-a-uuid")).await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
}

#[tokio::test]
async fn teams_are_listed_and_filtered_by_user() {
    let (o, path) = org_at("/teams").await;
    let uid = o.user(OrgRole::Reporter);
    o.post(&o.admin, &path, json!({"name": "A", "member_ids": [uid]})).await;
    o.post(&o.admin, &path, json!({"name": "B"})).await;
    o.post(&o.admin, &path, json!({"name": "C", "member_ids": [uid]})).await;
    let all = o.list_all(&o.viewer, &path, 2).await;
    assert_eq!(names(&Value::from(all)), vec!["A", "B", "C"]);
    let r = o.get(&o.viewer, &format!("{path}?user_id={uid}")).await;
    assert_eq!(r.strings("items", "name"), vec!["A", "C"]);
    let r = o.get(&o.viewer, &format!("{path}?user_id=x")).await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
}

#[tokio::test]
async fn team_writes_need_admin_and_deleted_teams_are_gone() {
    let (o, path) = org_at("/teams").await;
    let r = o.post(&o.member, &path, json!({"name": "Mine"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(r.body["error"]["details"]["required_role"], "Admin");
    let t = o
        .post(&o.owner, &path, json!({"name": "Core", "description": "d"}))
        .await;
    let team = format!("/api/v1/teams/{}", t.id());
    assert_eq!(o.patch(&o.member, &team, json!({"name": "X"})).await.status, 403);
    assert_eq!(o.delete(&o.viewer, &team).await.status, 403);
    let r = o.patch(&o.admin, &team, json!({"description": null})).await;
    assert_eq!(r.body["description"], json!(null));
    assert_eq!(o.delete(&o.admin, &team).await.status, 204);
    let r = o.get(&o.admin, &team).await;
    r.not_found("team");
}

#[tokio::test]
async fn an_unchanged_patch_keeps_updated_at() {
    let o = org().await;
    let t = o.post(&o.admin, &o.org_path("/teams"), json!({"name": "Core"})).await;
    let team = format!("/api/v1/teams/{}", t.id());
    o.mock.advance(std::time::Duration::from_secs(60));
    let r = o.patch(&o.admin, &team, json!({"name": "Core"})).await;
    assert_eq!(r.body["updated_at"], t.body["updated_at"]);
    let r = o.patch(&o.admin, &team, json!({"name": "Core 2"})).await;
    assert_eq!(r.body["updated_at"], "2026-04-01T12:01:00.000Z");
}
