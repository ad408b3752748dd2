//! Time entries over HTTP (contract §4.7): logging time, the Draft → Submitted → Approved or
//! Rejected lifecycle, the owner-or-Admin rule (`403 not_owner`) checked before the state rule
//! (`422 invalid_state`), date and field rules, moving an entry to another ticket, and the lists.

use crate::support::{Org, org};
use alloy_mock_api::Ts;
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};

/// An org with projects WEB (tickets WEB-1, WEB-2) and OPS (ticket OPS-1).
pub async fn setup() -> Org {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "OPS").await;
    o.ticket(&o.owner, "WEB", "Build the landing page").await;
    o.ticket(&o.owner, "WEB", "Fix the footer").await;
    o.ticket(&o.owner, "OPS", "Rotate the certificates").await;
    o
}

/// Logs time on a ticket and returns the new entry (asserting 201).
pub async fn log(o: &Org, key: &str, ticket: &str, body: Value) -> Value {
    let r = o
        .create(key, &format!("/api/v1/tickets/{ticket}/time-entries"), body)
        .await;
    r.body
}

/// Runs an action on an entry and returns the response.
async fn act(o: &Org, key: &str, entry: &Value, action: &str, body: Value) -> crate::support::Resp {
    let id = entry["id"].as_str().expect("id");
    o.post(key, &format!("/api/v1/time-entries/{id}/{action}"), body).await
}

/// Logs, submits and approves an entry; returns the approved entry.
pub async fn approved(o: &Org, key: &str, ticket: &str, body: Value) -> Value {
    let e = log(o, key, ticket, body).await;
    let r = act(o, key, &e, "submit", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = act(o, &o.admin, &e, "approve", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn path(e: &Value) -> String {
    format!("/api/v1/time-entries/{}", e["id"].as_str().expect("id"))
}

#[tokio::test]
async fn a_member_logs_time_as_a_draft_dated_today_with_the_ticket_key() {
    let o = setup().await;
    let req = json!({"minutes": 90, "description": "layout"});
    let r = o.create(&o.member, "/api/v1/tickets/web-1/time-entries", req).await;
    let e = &r.body;
    assert_eq!(e["status"], "Draft");
    assert_eq!(e["date"], "2026-04-01");
    assert_eq!(e["ticket_key"], "WEB-1");
    assert_eq!(e["minutes"], 90);
    assert_eq!(e["user_id"], json!(o.user(OrgRole::Member)));
    assert_eq!(e["org_id"], json!(o.org_id));
    for f in "submitted_at approved_at rejected_at approved_by rejected_by rejection_reason".split(' ') {
        assert_eq!(e[f], Value::Null, "{f}");
    }
    let project = o.get(&o.owner, "/api/v1/projects/WEB").await;
    assert_eq!(e["project_id"], project.body["id"]);
    let loc = r.location();
    assert_eq!(loc, path(e));
    let got = o.get(&o.viewer, &loc).await;
    assert_eq!((got.status, &got.body), (200, e));
}

#[tokio::test]
async fn the_lifecycle_runs_through_rejection_and_back_to_approval() {
    let o = setup().await;
    let e = log(&o, &o.member, "WEB-1", json!({"minutes": 30})).await;
    o.mock.advance(std::time::Duration::from_secs(60));
    let r = o
        .send("POST", Some(&o.member), &format!("{}/submit", path(&e)), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["status"].as_str(), r.body["submitted_at"].as_str()),
        (Some("Submitted"), Some("2026-04-01T12:01:00.000Z"))
    );

    let r = act(&o, &o.admin, &e, "reject", json!({"reason": "  wrong ticket  "})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "Rejected");
    assert_eq!(r.body["rejection_reason"], "wrong ticket");
    assert_eq!(r.body["rejected_by"], json!(o.user(OrgRole::Admin)));

    // Editing a rejected entry returns it to Draft; the reason stays until the next submit.
    let r = o.patch(&o.member, &path(&e), json!({"minutes": 45})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["status"].as_str(), r.body["minutes"].as_i64()),
        (Some("Draft"), Some(45))
    );
    assert_eq!(r.body["rejection_reason"], "wrong ticket");

    let r = act(&o, &o.member, &e, "submit", json!({})).await;
    assert_eq!(r.body["status"], "Submitted");
    for f in ["rejected_at", "rejected_by", "rejection_reason"] {
        assert_eq!(r.body[f], Value::Null, "{f}");
    }
    let r = act(&o, &o.admin, &e, "approve", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "Approved");
    assert_eq!(r.body["approved_by"], json!(o.user(OrgRole::Admin)));
    assert_eq!(r.body["approved_at"], "2026-04-01T12:01:00.000Z");

    // Approved is final: every change is a state error, even for the Owner.
    let r = o.patch(&o.owner, &path(&e), json!({"minutes": 5})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    assert_eq!(r.body["error"]["details"]["state"], "Approved");
    assert_eq!((act(&o, &o.member, &e, "submit", json!({})).await.status), 422);
    assert_eq!(
        (act(&o, &o.admin, &e, "reject", json!({"reason": "late"})).await.status),
        422
    );
    assert_eq!(o.delete(&o.owner, &path(&e)).await.status, 422);
}

#[tokio::test]
async fn approving_needs_an_admin_and_a_submitted_entry() {
    let o = setup().await;
    let e = log(&o, &o.member, "WEB-1", json!({"minutes": 30})).await;
    let r = act(&o, &o.admin, &e, "approve", json!({})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    assert_eq!(r.body["error"]["details"]["state"], "Draft");
    assert_eq!(r.body["error"]["details"]["expected"], json!(["Submitted"]));

    act(&o, &o.member, &e, "submit", json!({})).await;
    let r = act(&o, &o.member, &e, "approve", json!({})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(r.body["error"]["details"]["required_role"], "Admin");
    let r = act(&o, &o.admin, &e, "reject", json!({})).await;
    assert_eq!(*r.fields(), json!({"reason": "required"}));
    let r = act(&o, &o.admin, &e, "approve", json!({"note": "ok"})).await;
    assert_eq!(*r.fields(), json!({"note": "unknown_field"}));
    assert_eq!(act(&o, &o.owner, &e, "approve", json!({})).await.status, 200);
}

#[tokio::test]
async fn someone_elses_entry_is_403_not_owner_before_any_state_check() {
    let o = setup().await;
    let mine = approved(&o, &o.owner, "WEB-1", json!({"minutes": 60})).await;
    let r = o.patch(&o.member, &path(&mine), json!({"minutes": 5})).await;
    assert_eq!((r.status, r.reason()), (403, "not_owner"));
    assert_eq!(o.delete(&o.member, &path(&mine)).await.reason(), "not_owner");
    assert_eq!(
        act(&o, &o.member, &mine, "submit", json!({})).await.reason(),
        "not_owner"
    );

    // An Admin may act on anyone's entry.
    let theirs = log(&o, &o.member, "WEB-2", json!({"minutes": 15})).await;
    let r = o
        .patch(&o.admin, &path(&theirs), json!({"description": "pairing"}))
        .await;
    assert_eq!((r.status, r.body["description"].as_str()), (200, Some("pairing")));
    assert_eq!(act(&o, &o.admin, &theirs, "submit", json!({})).await.status, 200);

    // Reporters and Viewers cannot log time at all.
    for key in [&o.reporter, &o.viewer] {
        let r = o
            .post(key, "/api/v1/tickets/WEB-1/time-entries", json!({"minutes": 5}))
            .await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    }
}

#[tokio::test]
async fn dates_after_today_or_before_2000_are_out_of_range_and_every_bad_field_is_listed() {
    let o = setup().await;
    let url = "/api/v1/tickets/WEB-1/time-entries";
    let r = o
        .post(&o.member, url, json!({"minutes": 10, "date": "2026-04-02"}))
        .await;
    assert_eq!(*r.fields(), json!({"date": "out_of_range"}));
    let r = o
        .post(&o.member, url, json!({"minutes": 10, "date": "1999-12-31"}))
        .await;
    assert_eq!(*r.fields(), json!({"date": "out_of_range"}));
    let e = log(&o, &o.member, "WEB-1", json!({"minutes": 10, "date": "2000-01-01"})).await;
    assert_eq!(e["date"], "2000-01-01");
    let req = json!({"date": "2026-13-01", "status": "Approved", "colour": "red", "description": 3});
    let r = o.post(&o.member, url, req).await;
    assert_eq!(r.code(), "validation_error");
    assert_eq!(
        *r.fields(),
        json!({"minutes": "required", "date": "invalid_format", "description": "invalid_format", "status": "immutable", "colour": "unknown_field"})
    );
    for (minutes, problem) in [
        (json!(0), "out_of_range"),
        (json!(1441), "out_of_range"),
        (json!(1.5), "invalid_format"),
    ] {
        let r = o.post(&o.member, url, json!({"minutes": minutes})).await;
        assert_eq!(*r.fields(), json!({"minutes": problem}));
    }
    let req = json!({"date": "2026-04-02", "minutes": null, "user_id": o.user(OrgRole::Admin)});
    let r = o.patch(&o.member, &path(&e), req).await;
    assert_eq!(
        *r.fields(),
        json!({"date": "out_of_range", "minutes": "not_nullable", "user_id": "immutable"})
    );

    // Tomorrow becomes today when the clock moves.
    o.mock.set_now(Ts::parse("2026-04-02T00:00:00Z").expect("ts"));
    let r = o.patch(&o.member, &path(&e), json!({"date": "2026-04-02"})).await;
    assert_eq!((r.status, r.body["date"].as_str()), (200, Some("2026-04-02")));
    assert_eq!(r.body["updated_at"], "2026-04-02T00:00:00.000Z");
}

#[tokio::test]
async fn logging_for_another_user_needs_an_admin_and_an_org_member() {
    let o = setup().await;
    let url = "/api/v1/tickets/WEB-1/time-entries";
    let admin = o.user(OrgRole::Admin);
    let member = o.user(OrgRole::Member);
    let r = o.post(&o.member, url, json!({"minutes": 10, "user_id": admin})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    o.create(&o.member, url, json!({"minutes": 10, "user_id": member}))
        .await;
    let r = o.post(&o.admin, url, json!({"minutes": 10, "user_id": member})).await;
    assert_eq!((r.status, r.body["user_id"].as_str()), (201, Some(member.as_str())));
    let outsider = o
        .mock
        .with_store(|s| s.users.values().find(|u| u.email == "owner@globex.test").map(|u| u.id));
    let outsider = outsider.expect("globex owner").to_string();
    let r = o.post(&o.admin, url, json!({"minutes": 10, "user_id": outsider})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    assert_eq!(r.body["error"]["details"]["field"], "user_id");
}

#[tokio::test]
async fn a_patch_with_a_new_ticket_moves_the_project_and_ticket_key() {
    let o = setup().await;
    let e = log(&o, &o.member, "WEB-1", json!({"minutes": 20, "description": "x"})).await;
    let r = o
        .patch(&o.member, &path(&e), json!({"ticket_id": "ops-1", "description": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ops = o.get(&o.owner, "/api/v1/projects/OPS").await;
    let ticket = o.get(&o.owner, "/api/v1/tickets/OPS-1").await;
    assert_eq!(r.body["project_id"], ops.body["id"]);
    assert_eq!(r.body["ticket_id"], ticket.body["id"]);
    assert_eq!(r.body["ticket_key"], "OPS-1");
    assert_eq!(r.body["description"], Value::Null);

    let r = o.patch(&o.member, &path(&e), json!({"ticket_id": "WEB-99"})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o.patch(&o.member, &path(&e), json!({"ticket_id": "WEB"})).await;
    assert_eq!(*r.fields(), json!({"ticket_id": "invalid_format"}));

    // An empty patch changes nothing, not even updated_at.
    o.mock.advance(std::time::Duration::from_secs(5));
    let r = o.patch(&o.member, &path(&e), json!({})).await;
    assert_eq!(r.body["updated_at"], "2026-04-01T12:00:00.000Z");
}

#[tokio::test]
async fn delete_follows_the_owner_and_admin_state_rules() {
    let o = setup().await;
    let draft = log(&o, &o.member, "WEB-1", json!({"minutes": 10})).await;
    assert_eq!(o.delete(&o.member, &path(&draft)).await.status, 204);
    assert_eq!(o.get(&o.member, &path(&draft)).await.status, 404);

    let submitted = log(&o, &o.member, "WEB-1", json!({"minutes": 10})).await;
    act(&o, &o.member, &submitted, "submit", json!({})).await;
    let r = o.delete(&o.member, &path(&submitted)).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    assert_eq!(o.delete(&o.admin, &path(&submitted)).await.status, 204);

    let done = approved(&o, &o.member, "WEB-1", json!({"minutes": 10})).await;
    assert_eq!(o.delete(&o.admin, &path(&done)).await.reason(), "invalid_state");
    let admins = log(&o, &o.admin, "WEB-1", json!({"minutes": 10})).await;
    assert_eq!(o.delete(&o.member, &path(&admins)).await.reason(), "not_owner");
    assert_eq!(o.delete(&o.viewer, &path(&admins)).await.reason(), "insufficient_role");
}

#[tokio::test]
async fn lists_filter_and_order_by_date_then_creation_newest_first() {
    let o = setup().await;
    let a = log(&o, &o.member, "WEB-1", json!({"minutes": 10, "date": "2026-03-02"})).await;
    let b = log(&o, &o.member, "WEB-2", json!({"minutes": 20, "date": "2026-03-05"})).await;
    let c = log(&o, &o.member, "OPS-1", json!({"minutes": 30, "date": "2026-03-02"})).await;
    let d = approved(&o, &o.admin, "WEB-1", json!({"minutes": 40, "date": "2026-03-31"})).await;
    let ids = |items: &[Value]| items.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();

    let all = o.list_all(&o.viewer, "/api/v1/time-entries", 2).await;
    assert_eq!(
        ids(&all),
        vec![d["id"].clone(), b["id"].clone(), c["id"].clone(), a["id"].clone()]
    );
    let mine = o
        .every(
            &o.viewer,
            &format!("/api/v1/time-entries?user_id={}", o.user(OrgRole::Member)),
        )
        .await;
    assert_eq!(mine.len(), 3);
    let web = o
        .every(
            &o.viewer,
            "/api/v1/time-entries?project_id=web&from=2026-03-02&to=2026-03-30",
        )
        .await;
    assert_eq!(ids(&web), vec![b["id"].clone(), a["id"].clone()]);
    let approved_only = o
        .every(&o.viewer, "/api/v1/time-entries?status=Approved,Submitted")
        .await;
    assert_eq!(ids(&approved_only), vec![d["id"].clone()]);
    let on_ticket = o
        .every(&o.viewer, "/api/v1/tickets/WEB-1/time-entries?status=Draft")
        .await;
    assert_eq!(ids(&on_ticket), vec![a["id"].clone()]);
    let by_ticket = o.every(&o.viewer, "/api/v1/time-entries?ticket_id=WEB-2").await;
    assert_eq!(ids(&by_ticket), vec![b["id"].clone()]);
    assert!(
        o.every(&o.viewer, "/api/v1/time-entries?project_id=NOPE")
            .await
            .is_empty()
    );

    o.refuses_gets(
        &o.viewer,
        &[
            ("/api/v1/time-entries?status=Done", 400, "invalid_query"),
            ("/api/v1/time-entries?from=March", 400, "invalid_query"),
        ],
    )
    .await;
    let r = o
        .get(
            &o.viewer,
            &format!("/api/v1/time-entries?org_id={}", "00000000-0000-4000-8000-0000000000ff"),
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(o.every(&o.other, "/api/v1/time-entries").await.is_empty());
    assert_eq!(o.get(&o.other, &path(&a)).await.status, 404);
}

#[tokio::test]
async fn a_project_restricted_key_sees_and_touches_only_its_projects_entries() {
    let o = setup().await;
    let web = log(&o, &o.member, "WEB-1", json!({"minutes": 10})).await;
    let ops = log(&o, &o.member, "OPS-1", json!({"minutes": 10})).await;
    let key = "alloy_test_restricted000000000000000000000";
    let web_project = web["project_id"].as_str().expect("project_id");
    o.restricted_key(OrgRole::Member, "web only", key, web_project);
    let seen = o.every(key, "/api/v1/time-entries").await;
    assert_eq!(
        seen.iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
        vec![web["id"].clone()]
    );
    let r = o.get(key, &path(&ops)).await;
    assert_eq!((r.status, r.reason()), (403, "project_not_allowed"));
    let r = o
        .post(key, "/api/v1/tickets/OPS-1/time-entries", json!({"minutes": 5}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "project_not_allowed"));
    let r = o.patch(key, &path(&web), json!({"ticket_id": "OPS-1"})).await;
    assert_eq!((r.status, r.reason()), (403, "project_not_allowed"));
    assert_eq!(act(&o, key, &web, "submit", json!({})).await.status, 200);
}
