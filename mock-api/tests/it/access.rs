//! API keys, organizations, members and invites over HTTP (contract §4.1 #9–#11, §4.2 #12–#22):
//! keys shown once and scoped, the token staying bound to its org, last-Owner protection,
//! member-removal cascades and the invite lifecycle including expiry.

use crate::support::{Org, Resp, org, org_at};
use alloy_mock_api::Ts;
use alloy_mock_api::model::{ApiKeyScope, OrgRole};
use serde_json::{Value, json};

/// Adds a user with a personal org and an API key there; returns (user id, raw key).
fn outsider(o: &Org, email: &str, raw: &str) -> String {
    o.mock.with_store(|s| {
        let u = s.add_user(email, "Outsider", Some("password1"));
        let home = s.create_org("Home".into(), format!("home-{}", &raw[raw.len() - 4..]), u);
        s.insert_api_key(
            home,
            u,
            "home",
            raw,
            vec![ApiKeyScope::Read, ApiKeyScope::Write],
            vec![],
            None,
        );
        u.to_string()
    })
}

/// POSTs `body` to `/api/v1/api-keys` as `key`.
async fn post_key(o: &Org, key: &str, body: Value) -> Resp {
    o.post(key, "/api/v1/api-keys", body).await
}

/// Creates an API key as `key` (asserting `201 Created`).
async fn create_key(o: &Org, key: &str, body: Value) -> Resp {
    o.create(key, "/api/v1/api-keys", body).await
}

// ----- API keys ------------------------------------------------------------------------------

#[tokio::test]
async fn created_api_key_is_shown_once_and_authenticates() {
    let o = org().await;
    let r = create_key(&o, &o.member, json!({"name": "ci", "environment": "test"})).await;
    let raw = r.body["key"].as_str().expect("raw key").to_string();
    assert!(raw.starts_with("alloy_test_"));
    assert_eq!(raw.len(), "alloy_test_".len() + 32);
    assert!(raw["alloy_test_".len()..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(r.body["key_prefix"], json!(raw[..15]));
    assert_eq!(r.body["scopes"], json!(["read", "write"]));
    assert_eq!(r.body["project_ids"], json!([]));
    assert_eq!(r.body["user_id"], json!(o.user(OrgRole::Member)));
    let me = o.get(&raw, "/api/v1/auth/me").await;
    assert_eq!((me.status, me.body["role"].as_str()), (200, Some("Member")));
    let list = o.get(&o.member, "/api/v1/api-keys").await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "the seeded key and the new one");
    assert!(items.iter().all(|k| k["key"].is_null()));
    let live = post_key(&o, &o.member, json!({"name": "live"})).await;
    assert!(live.body["key"].as_str().expect("key").starts_with("alloy_live_"));
    assert_eq!(live.body["environment"], "live");
}

#[tokio::test]
async fn the_guides_curl_creates_a_key_at_the_documented_path_with_the_documented_fields() {
    // MCP Guide, Quick Start step 3: `POST $BASE/api/v1/api-keys` with exactly this body.
    let o = org().await;
    let r = create_key(
        &o,
        &o.member,
        json!({"name": "MCP Server", "scopes": ["read", "write"]}),
    )
    .await;
    for field in "id name key key_prefix scopes project_ids created_at expires_at".split(' ') {
        assert!(
            r.body.get(field).is_some(),
            "the documented field {field} is missing: {}",
            r.text
        );
    }
    assert_eq!(r.body["name"], "MCP Server");
    assert_eq!(r.body["scopes"], json!(["read", "write"]));
    assert_eq!(r.body["project_ids"], json!([]));
    assert_eq!(r.body["expires_at"], Value::Null);
    assert!(r.body.get("allowed_project_ids").is_none(), "{}", r.text);
    let raw = r.body["key"].as_str().expect("key").to_string();
    assert!(raw.starts_with("alloy_live_"), "{raw}");
    assert_eq!(r.body["key_prefix"], json!(raw[..15]));
    let listed = o.get(&o.member, "/api/v1/api-keys").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(
        listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|k| k["id"] == r.body["id"] && k["project_ids"] == json!([]) && k["key"].is_null())
    );
}

#[tokio::test]
async fn the_old_auth_api_keys_paths_are_unknown_routes() {
    // A client still calling the undocumented path must be caught, not served.
    let o = org().await;
    let id = "00000000-0000-4000-8000-000000000001";
    for (method, path) in [
        ("POST", "/api/v1/auth/api-keys".to_string()),
        ("GET", "/api/v1/auth/api-keys".to_string()),
        ("DELETE", format!("/api/v1/auth/api-keys/{id}")),
    ] {
        let body = (method == "POST").then(|| json!({"name": "old path"}));
        let r = o.send(method, Some(&o.owner), &path, body).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["resource"], "route", "{method} {path}");
    }
    let keys = o.get(&o.admin, "/api/v1/api-keys?all=true").await;
    assert_eq!(
        keys.body["items"].as_array().map(Vec::len),
        Some(5),
        "nothing was created"
    );
}

#[tokio::test]
async fn allowed_project_ids_is_an_input_alias_of_project_ids() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    let r = create_key(
        &o,
        &o.owner,
        json!({"name": "old client", "allowed_project_ids": ["WEB"]}),
    )
    .await;
    assert_eq!(r.body["project_ids"], json!([web["id"]]));
    let r = post_key(
        &o,
        &o.owner,
        json!({"name": "both", "project_ids": ["WEB"], "allowed_project_ids": ["WEB"]}),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "validation_error"), "{}", r.text);
    assert_eq!(*r.fields(), json!({"allowed_project_ids": "duplicate_item"}));
    // A broken reference is named by the field the caller sent.
    for field in ["project_ids", "allowed_project_ids"] {
        let r = post_key(&o, &o.owner, json!({"name": "x", field: ["NOPE"]})).await;
        assert_eq!((r.status, r.reason()), (422, "invalid_reference"), "{}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    let r = post_key(&o, &o.owner, json!({"name": "x", "project_ids": "WEB"})).await;
    assert_eq!(*r.fields(), json!({"project_ids": "invalid_format"}));
}

#[tokio::test]
async fn api_key_write_scope_implies_read_and_bad_fields_are_all_listed() {
    let o = org().await;
    let r = post_key(&o, &o.owner, json!({"name": "w", "scopes": ["write"]})).await;
    assert_eq!(r.body["scopes"], json!(["read", "write"]));
    let r = post_key(&o, &o.owner, json!({"name": " ", "scopes": ["admin"], "expires_at": "2026-04-01T11:00:00Z", "environment": "prod", "key": "x", "color": 1})).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"name": "required", "scopes": "invalid_enum", "expires_at": "out_of_range", "environment": "invalid_enum", "key": "immutable", "color": "unknown_field"})
    );
    let r = post_key(&o, &o.owner, json!({"name": "x", "scopes": []})).await;
    assert_eq!(*r.fields(), json!({"scopes": "too_short"}));
    let r = post_key(&o, &o.owner, json!({"name": "x", "allowed_project_ids": ["NOPE"]})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
}

#[tokio::test]
async fn project_restricted_keys_only_create_keys_for_a_subset_of_their_projects() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "OPS").await;
    let r = create_key(&o, &o.owner, json!({"name": "web only", "project_ids": ["web"]})).await;
    assert_eq!(r.body["project_ids"], json!([web["id"]]));
    let restricted = r.body["key"].as_str().expect("key").to_string();
    let r = post_key(&o, &restricted, json!({"name": "all"})).await;
    assert_eq!((r.status, r.reason()), (403, "project_restricted_key"));
    let r = post_key(&o, &restricted, json!({"name": "ops", "allowed_project_ids": ["OPS"]})).await;
    assert_eq!((r.status, r.reason()), (403, "project_restricted_key"));
    create_key(
        &o,
        &restricted,
        json!({"name": "web", "allowed_project_ids": [web["id"]]}),
    )
    .await;
    let r = o
        .post(&restricted, "/api/v1/orgs", json!({"name": "New", "slug": "new-org"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "project_restricted_key"));
}

#[tokio::test]
async fn read_only_keys_cannot_create_keys() {
    let o = org().await;
    let r = post_key(&o, &o.owner, json!({"name": "ro", "scopes": ["read"]})).await;
    let ro = r.body["key"].as_str().expect("key").to_string();
    assert_eq!(o.status(&ro, "/api/v1/api-keys").await, 200);
    let r = post_key(&o, &ro, json!({"name": "rw"})).await;
    assert_eq!((r.status, r.reason()), (403, "missing_scope"));
    assert_eq!(r.body["error"]["details"]["required_scope"], "write");
}

#[tokio::test]
async fn listing_every_key_of_the_org_needs_admin() {
    let o = org().await;
    let r = o.get(&o.member, "/api/v1/api-keys?all=true").await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.get(&o.admin, "/api/v1/api-keys?all=true").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["items"].as_array().expect("items").len(),
        5,
        "one key per role, none of the other org"
    );
    let r = o.get(&o.admin, "/api/v1/api-keys?all=maybe").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
}

#[tokio::test]
async fn keys_are_deleted_by_their_owner_or_an_admin_and_stop_working() {
    let o = org().await;
    let viewer_key = post_key(&o, &o.viewer, json!({"name": "mine"})).await;
    assert_eq!(viewer_key.status, 201, "a Viewer may create keys");
    let id = viewer_key.id().to_string();
    let raw = viewer_key.body["key"].as_str().expect("key").to_string();
    let r = o.delete(&o.member, &format!("/api/v1/api-keys/{id}")).await;
    assert_eq!((r.status, r.reason()), (403, "not_owner"));
    assert_eq!(o.delete(&o.viewer, &format!("/api/v1/api-keys/{id}")).await.status, 204);
    let r = o.get(&raw, "/api/v1/auth/me").await;
    assert_eq!((r.status, r.reason()), (401, "invalid_token"));
    let member_keys = o.get(&o.member, "/api/v1/api-keys").await;
    let member_key_id = member_keys.body["items"][0]["id"].as_str().expect("id").to_string();
    assert_eq!(
        o.delete(&o.admin, &format!("/api/v1/api-keys/{member_key_id}"))
            .await
            .status,
        204
    );
    assert_eq!(o.status(&o.member, "/api/v1/auth/me").await, 401);
    let r = o.delete(&o.admin, &format!("/api/v1/api-keys/{member_key_id}")).await;
    r.not_found("api_key");
    let r = o.delete(&o.admin, "/api/v1/api-keys/not-a-uuid").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
}

// ----- organizations -------------------------------------------------------------------------

#[tokio::test]
async fn creating_an_org_makes_the_caller_owner_and_keeps_the_token_bound() {
    let o = org().await;
    let req = json!({"name": "Side Project", "slug": "side-project"});
    let r = o.create(&o.viewer, "/api/v1/orgs", req).await;
    let new_id = r.id().to_string();
    assert_eq!(r.location(), format!("/api/v1/orgs/{new_id}"));
    let me = o.get(&o.viewer, "/api/v1/auth/me").await;
    assert_eq!(
        (me.body["org_id"].as_str(), me.body["role"].as_str()),
        (Some(o.org_id.as_str()), Some("Viewer"))
    );
    let list = o.get(&o.viewer, "/api/v1/orgs").await;
    let ids = list.strings("items", "id");
    assert_eq!(ids, vec![o.org_id.as_str(), new_id.as_str()]);
    assert_eq!(o.get(&o.viewer, &format!("/api/v1/orgs/{new_id}")).await.status, 200);
    let r = o.get(&o.member, &format!("/api/v1/orgs/{new_id}")).await;
    r.not_found("organization");
    let r = o
        .patch(&o.viewer, &format!("/api/v1/orgs/{new_id}"), json!({"name": "Renamed"}))
        .await;
    assert_eq!(r.status, 404, "PATCH acts on the token org only");
    let wf = o.mock.with_store(|s| {
        s.workflows
            .values()
            .filter(|w| w.org_id.to_string() == new_id && w.is_default)
            .count()
    });
    assert_eq!(wf, 1, "the new org has its Default workflow");
}

#[tokio::test]
async fn org_slugs_are_validated_and_unique() {
    let o = org().await;
    let r = o
        .post(&o.owner, "/api/v1/orgs", json!({"name": "", "slug": "-Bad", "id": "x"}))
        .await;
    assert_eq!(
        *r.fields(),
        json!({"name": "required", "slug": "invalid_format", "id": "immutable"})
    );
    let r = o
        .post(&o.owner, "/api/v1/orgs", json!({"name": "Again", "slug": "globex"}))
        .await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    assert_eq!(r.body["error"]["details"]["field"], "slug");
}

#[tokio::test]
async fn only_the_owner_patches_the_org() {
    let (o, path) = org_at("").await;
    let r = o.patch(&o.admin, &path, json!({"name": "Acme 2"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o
        .patch(&o.owner, &path, json!({"name": "Acme 2", "slug": "acme-two"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["name"].as_str(), r.body["slug"].as_str()),
        (Some("Acme 2"), Some("acme-two"))
    );
    let r = o.patch(&o.owner, &path, json!({"slug": "globex"})).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    let r = o.patch(&o.owner, &path, json!({"name": null})).await;
    assert_eq!(*r.fields(), json!({"name": "not_nullable"}));
}

// ----- members -------------------------------------------------------------------------------

#[tokio::test]
async fn members_are_listed_in_join_order_and_filtered_by_role() {
    let o = org().await;
    let all = o.get(&o.viewer, &o.org_path("/members")).await;
    let roles = all.strings("items", "role");
    assert_eq!(roles, vec!["Owner", "Admin", "Member", "Reporter", "Viewer"]);
    assert_eq!(all.body["items"][0]["email"], "owner@acme.test");
    let r = o.get(&o.viewer, &o.org_path("/members?role=Admin,Viewer")).await;
    assert_eq!(r.body["items"].as_array().expect("items").len(), 2);
    let r = o.get(&o.viewer, &o.org_path("/members?role=Boss")).await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
}

#[tokio::test]
async fn changing_the_owner_role_needs_an_owner_and_the_last_owner_is_protected() {
    let o = org().await;
    let member = format!("/api/v1/orgs/{}/members/{}", o.org_id, o.user(OrgRole::Member));
    let owner = format!("/api/v1/orgs/{}/members/{}", o.org_id, o.user(OrgRole::Owner));
    let r = o.patch(&o.member, &member, json!({"role": "Reporter"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.patch(&o.admin, &member, json!({"role": "Reporter"})).await;
    assert_eq!((r.status, r.body["role"].as_str()), (200, Some("Reporter")));
    assert_eq!(
        o.get(&o.member, "/api/v1/auth/me").await.body["role"],
        "Reporter",
        "roles apply at once"
    );
    let r = o.patch(&o.admin, &member, json!({"role": "Owner"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.patch(&o.admin, &owner, json!({"role": "Admin"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.patch(&o.owner, &owner, json!({"role": "Admin"})).await;
    assert_eq!((r.status, r.reason()), (422, "protected"));
    let r = o.patch(&o.owner, &member, json!({"role": "King"})).await;
    assert_eq!(*r.fields(), json!({"role": "invalid_enum"}));
    let r = o.patch(&o.owner, &member, json!({"role": "Owner"})).await;
    assert_eq!(r.body["role"], "Owner");
    let r = o.patch(&o.owner, &owner, json!({"role": "Admin"})).await;
    assert_eq!(
        (r.status, r.body["role"].as_str()),
        (200, Some("Admin")),
        "another Owner remains"
    );
    let unknown = format!(
        "/api/v1/orgs/{}/members/{}",
        o.org_id, "00000000-0000-4000-8000-0000000000ff"
    );
    let r = o.patch(&o.member, &unknown, json!({"role": "Viewer"})).await;
    r.not_found("member");
}

#[tokio::test]
async fn removing_a_member_cascades_to_projects_teams_and_keys() {
    let o = org().await;
    let uid = o.user(OrgRole::Member);
    o.project(&o.owner, "WEB").await;
    o.create(&o.owner, "/api/v1/projects/WEB/members", json!({"user_id": uid}))
        .await;
    let req = json!({"name": "Core", "member_ids": [uid]});
    let team = o.post(&o.owner, &o.org_path("/teams"), req).await;
    let ticket = o.ticket(&o.owner, "WEB", "Keep my assignee").await;
    let req = json!({"assignee_id": uid});
    let r = o
        .patch(
            &o.owner,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().expect("id")),
            req,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = o.delete(&o.reporter, &o.org_path(&format!("/members/{uid}"))).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(
        o.delete(&o.admin, &o.org_path(&format!("/members/{uid}"))).await.status,
        204
    );
    assert_eq!(o.status(&o.member, "/api/v1/auth/me").await, 401);
    let members = o.get(&o.owner, "/api/v1/projects/WEB/members").await;
    assert!(
        members.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|m| m["user_id"] != json!(uid))
    );
    let team = o.get(&o.owner, &format!("/api/v1/teams/{}", team.id())).await;
    assert_eq!(team.body["member_ids"], json!([]));
    let keys = o
        .mock
        .with_store(|s| s.api_keys.values().filter(|k| k.user_id.to_string() == uid).count());
    assert_eq!(keys, 0);
    let t = o.get(&o.owner, "/api/v1/tickets/WEB-1").await;
    assert_eq!(t.body["assignee_id"], json!(uid), "tickets keep their assignee");
}

#[tokio::test]
async fn the_last_owner_cannot_be_removed_and_admins_cannot_remove_owners() {
    let o = org().await;
    let owner = format!("/api/v1/orgs/{}/members/{}", o.org_id, o.user(OrgRole::Owner));
    let r = o.delete(&o.admin, &owner).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.delete(&o.owner, &owner).await;
    assert_eq!((r.status, r.reason()), (422, "protected"));
    assert_eq!(r.body["error"]["details"]["what"], "last_owner");
}

// ----- invites -------------------------------------------------------------------------------

#[tokio::test]
async fn invites_show_their_code_once_and_refuse_duplicates_and_members() {
    let (o, path) = org_at("/invites").await;
    let req = json!({"email": "New@Acme.test", "role": "Reporter", "expires_in_days": 3});
    let r = o.create(&o.admin, &path, req).await;
    let code = r.body["code"].as_str().expect("code");
    assert!(code.starts_with("inv_") && code.len() == 28 && code[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(r.body["email"], "new@acme.test");
    assert_eq!(r.body["status"], "Pending");
    assert_eq!(r.body["expires_at"], "2026-04-04T12:00:00.000Z");
    assert!(r.body.get("expires_in_days").is_none());
    let list = o.get(&o.viewer, &path).await;
    assert_eq!(list.body["items"][0]["code"], json!(null));
    let r = o.post(&o.admin, &path, json!({"email": "new@acme.test"})).await;
    assert_eq!((r.status, r.reason()), (409, "invite_pending"));
    let r = o.post(&o.admin, &path, json!({"email": "member@acme.test"})).await;
    assert_eq!((r.status, r.reason()), (409, "already_member"));
    let req = json!({"email": "a@b", "role": "Owner", "expires_in_days": 31, "code": "x"});
    let r = o.post(&o.admin, &path, req).await;
    assert_eq!(
        *r.fields(),
        json!({"role": "invalid_enum", "expires_in_days": "out_of_range", "code": "immutable"})
    );
    let r = o.post(&o.member, &path, json!({"email": "x@y.test"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.post(&o.viewer, &path, json!({"email": "x@y.test"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
}

#[tokio::test]
async fn invites_expire_and_only_pending_ones_can_be_revoked() {
    let (o, path) = org_at("/invites").await;
    let a = o
        .post(&o.admin, &path, json!({"email": "a@x.test", "expires_in_days": 1}))
        .await;
    let b = o.post(&o.admin, &path, json!({"email": "b@x.test"})).await;
    let b_id = b.id().to_string();
    assert_eq!(
        o.delete(&o.member, &format!("/api/v1/invites/{b_id}")).await.status,
        403
    );
    assert_eq!(o.delete(&o.admin, &format!("/api/v1/invites/{b_id}")).await.status, 204);
    let r = o.delete(&o.admin, &format!("/api/v1/invites/{b_id}")).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    o.mock.set_now(Ts::parse("2026-04-02T12:00:00Z").expect("ts"));
    let list = o.get(&o.admin, &path).await;
    let statuses = list.strings("items", "status");
    assert_eq!(statuses, vec!["Expired", "Revoked"]);
    assert!(list.body["items"][1]["revoked_at"].is_string());
    let r = o.delete(&o.admin, &format!("/api/v1/invites/{}", a.id())).await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["state"].as_str()),
        (422, Some("Expired"))
    );
    let pending = o.get(&o.admin, &format!("{path}?status=Pending")).await;
    assert_eq!(pending.body["items"], json!([]));
    let again = o.post(&o.admin, &path, json!({"email": "a@x.test"})).await;
    assert_eq!(again.status, 201, "an expired invite does not block a new one");
}

#[tokio::test]
async fn accepting_an_invite_adds_the_caller_with_the_invited_role() {
    let (o, path) = org_at("/invites").await;
    let inv = o
        .post(&o.admin, &path, json!({"email": "new@acme.test", "role": "Reporter"}))
        .await;
    let code = inv.body["code"].as_str().expect("code").to_string();
    let stranger = "alloy_test_stranger00000000000000000000000";
    outsider(&o, "stranger@acme.test", stranger);
    let r = o.post(stranger, "/api/v1/invites/accept", json!({"code": code})).await;
    assert_eq!((r.status, r.reason()), (403, "invite_email_mismatch"));
    let newcomer = "alloy_test_newcomer00000000000000000000000";
    let uid = outsider(&o, "new@acme.test", newcomer);
    let r = o
        .post(newcomer, "/api/v1/invites/accept", json!({"code": "inv_nope"}))
        .await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o.post(newcomer, "/api/v1/invites/accept", json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user_id"], json!(uid));
    assert_eq!(r.body["org_id"], json!(o.org_id));
    assert_eq!(r.body["role"], "Reporter");
    let me = o.get(newcomer, "/api/v1/auth/me").await;
    assert_ne!(me.body["org_id"], json!(o.org_id), "the token stays bound to its org");
    let r = o.post(newcomer, "/api/v1/invites/accept", json!({"code": code})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    let list = o.get(&o.admin, &path).await;
    assert_eq!(list.body["items"][0]["status"], "Accepted");
    let r = o.post(&o.admin, &path, json!({"email": "new@acme.test"})).await;
    assert_eq!((r.status, r.reason()), (409, "already_member"));
}

#[tokio::test]
async fn accepting_an_invite_when_already_a_member_is_a_conflict() {
    let (o, path) = org_at("/invites").await;
    let inv = o.post(&o.admin, &path, json!({"email": "late@acme.test"})).await;
    let code = inv.body["code"].as_str().expect("code").to_string();
    let raw = "alloy_test_latecomer0000000000000000000000";
    let uid = outsider(&o, "late@acme.test", raw);
    o.mock.with_store(|s| {
        let org_id = s.orgs.values().find(|x| x.slug == "acme").map(|x| x.id).expect("acme");
        let user = s
            .users
            .values()
            .find(|u| u.id.to_string() == uid)
            .map(|u| u.id)
            .expect("user");
        s.set_membership(org_id, user, OrgRole::Viewer);
    });
    let r = o.post(raw, "/api/v1/invites/accept", json!({"code": code})).await;
    assert_eq!((r.status, r.reason()), (409, "already_member"));
    let r = o.post(raw, "/api/v1/invites/accept", json!({})).await;
    assert_eq!(*r.fields(), json!({"code": "required"}));
}
