//! Export and import over HTTP (contract §4.8 #95–#96, §4.10): who may call them, the bundle's
//! shape, the round trip into a fresh installation, `on_conflict` and `dry_run`, natural-key
//! clashes, bad bundles, and the all-or-nothing rule (a refused import leaves no trace, not even
//! in the deterministic id counter).

use crate::support::{Api, Org, Resp, spawn_as, spawn_with, strings, tally};
use crate::time::{approved, log};
use alloy_mock_api::MockOptions;
use alloy_mock_api::model::*;
use alloy_mock_api::routes::data::ARRAYS;
use alloy_mock_api::store::default_workflow;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

fn id(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).expect("uuid")
}

/// An org holding one of everything: a custom workflow, two projects, labels, a completed sprint
/// with a stored burndown, an active sprint, comments, activity, a team, a labor rate and time
/// entries in every state.
async fn rich() -> Org {
    let o = crate::support::org().await;
    let org = id(&json!(o.org_id));
    let owner = id(&json!(o.user(OrgRole::Owner)));
    let member = id(&json!(o.user(OrgRole::Member)));
    let admin = id(&json!(o.user(OrgRole::Admin)));
    let kanban = o.mock.with_store(|s| {
        let wid = s.new_id();
        let mut w = default_workflow(wid, org, s.now());
        w.name = "Kanban".into();
        w.is_default = false;
        w.created_by = Some(owner);
        w.statuses.retain(|x| x.name != "InReview");
        w.transitions.retain(|t| t.from != "InReview" && t.to != "InReview");
        s.workflows.insert(wid, w);
        wid
    });
    let body = json!({"key": "WEB", "name": "Web, Inc.", "capitalization_type": "Capex", "development_phase": "AppDevelopment", "amortization_months": 24});
    assert_eq!(o.post(&o.owner, "/api/v1/projects", body).await.status, 201);
    let body = json!({"key": "OPS", "name": "Operations", "workflow_id": kanban});
    assert_eq!(o.post(&o.owner, "/api/v1/projects", body).await.status, 201);
    let web1 = id(&o.ticket(&o.owner, "WEB", "Landing page").await["id"]);
    o.ticket(&o.owner, "WEB", "Footer").await;
    o.ticket(&o.member, "OPS", "Certificates").await;
    o.mock.with_store(|s| {
        let now = s.now();
        let web = s.projects.values().find(|p| p.key == "WEB").map(|p| p.id).expect("WEB");
        let label = s.new_id();
        let l = Label {
            id: label,
            org_id: org,
            project_id: web,
            name: "bug".into(),
            color: "#FF0000".into(),
            description: None,
            ticket_count: 0,
            created_by: owner,
            created_at: now,
            updated_at: now,
        };
        s.labels.insert(label, l);
        let sprint = |s: &mut alloy_mock_api::Store, name: &str, status: SprintStatus| {
            let sid = s.new_id();
            let done = status == SprintStatus::Completed;
            let burndown =
                json!({"sprint_id": sid, "status": "Completed", "frozen": true, "total_tickets": 1, "days": []});
            s.sprints.insert(
                sid,
                Sprint {
                    id: sid,
                    org_id: org,
                    project_id: web,
                    name: name.into(),
                    goal: Some("ship".into()),
                    start_date: alloy_mock_api::Day::parse("2026-03-01").expect("date"),
                    end_date: alloy_mock_api::Day::parse("2026-03-14").expect("date"),
                    status,
                    started_at: Some(now),
                    completed_at: done.then_some(now),
                    created_by: owner,
                    created_at: now,
                    updated_at: now,
                    frozen_burndown: done.then_some(burndown),
                },
            );
            sid
        };
        sprint(s, "Sprint 1", SprintStatus::Completed);
        let active = sprint(s, "Sprint 2", SprintStatus::Active);
        if let Some(t) = s.tickets.get_mut(&web1) {
            t.label_ids.push(label);
            t.sprint_id = Some(active);
            t.assignee_id = Some(member);
            t.tags.insert("env".into(), "prod".into());
        }
        s.log_activity(
            web1,
            owner,
            ActivityAction::LabelAdded,
            Some("labels"),
            None,
            Some(json!(label)),
            now,
        );
        s.log_activity(
            web1,
            owner,
            ActivityAction::SprintChanged,
            Some("sprint_id"),
            None,
            Some(json!(active)),
            now,
        );
        s.log_activity(
            web1,
            owner,
            ActivityAction::Assigned,
            Some("assignee_id"),
            None,
            Some(json!(member)),
            now,
        );
        let comment = s.new_id();
        let c = Comment {
            id: comment,
            org_id: org,
            ticket_id: web1,
            author_id: member,
            body: "On it".into(),
            edited_at: None,
            created_at: now,
            updated_at: now,
        };
        s.comments.insert(comment, c);
        s.log_activity(
            web1,
            member,
            ActivityAction::Commented,
            None,
            None,
            Some(json!(comment)),
            now,
        );
        s.project_members.insert(
            (web, member),
            ProjectMember {
                project_id: web,
                user_id: member,
                added_by: owner,
                added_at: now,
            },
        );
        let team = s.new_id();
        let mut member_ids = vec![member, admin];
        member_ids.sort();
        s.teams.insert(
            team,
            Team {
                id: team,
                org_id: org,
                name: "Core".into(),
                description: Some("the core team".into()),
                member_ids,
                created_by: owner,
                created_at: now,
                updated_at: now,
            },
        );
    });
    let body = json!({"user_id": o.user(OrgRole::Member), "hourly_rate_cents": 12000, "effective_from": "2026-01-01"});
    assert_eq!(o.post(&o.admin, &o.org_path("/labor-rates"), body).await.status, 201);
    approved(&o, &o.member, "WEB-1", json!({"minutes": 90, "date": "2026-03-10"})).await;
    let submitted = log(&o, &o.member, "WEB-2", json!({"minutes": 30, "date": "2026-03-11"})).await;
    let sid = submitted["id"].as_str().expect("id");
    o.post(&o.member, &format!("/api/v1/time-entries/{sid}/submit"), json!({}))
        .await;
    let rejected = log(&o, &o.admin, "OPS-1", json!({"minutes": 20})).await;
    let rid = rejected["id"].as_str().expect("id");
    o.post(&o.admin, &format!("/api/v1/time-entries/{rid}/submit"), json!({}))
        .await;
    o.post(
        &o.owner,
        &format!("/api/v1/time-entries/{rid}/reject"),
        json!({"reason": "which ticket?"}),
    )
    .await;
    log(&o, &o.member, "OPS-1", json!({"minutes": 5, "description": "draft"})).await;
    o
}

async fn export(api: &Api, key: &str, query: &str) -> Value {
    let r = api.get(key, &format!("/api/v1/export{query}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn import(api: &Api, key: &str, query: &str, bundle: &Value) -> Resp {
    api.post(key, &format!("/api/v1/import{query}"), bundle.clone()).await
}

/// A deterministic mock with one org whose Owner (`boss@b.test`) has no ties to the bundle, and
/// 60 unrelated users holding the ids a bundle of another deterministic mock uses.
async fn fresh_installation() -> (Api, String, Uuid, Uuid) {
    let api = spawn_with(MockOptions {
        deterministic: true,
        ..MockOptions::default()
    })
    .await;
    let key = "alloy_test_boss00000000000000000000000000".to_string();
    let (org, boss) = api.mock.with_store(|s| {
        let boss = s.add_user("boss@b.test", "Bea Boss", Some("password1"));
        let org = s.create_org("Beta".into(), "beta".into(), boss);
        s.insert_api_key(
            org,
            boss,
            "k",
            &key,
            vec![ApiKeyScope::Read, ApiKeyScope::Write],
            vec![],
            None,
        );
        for i in 0..60 {
            s.add_user(&format!("filler{i}@b.test"), "Filler", None);
        }
        (org, boss)
    });
    (api, key, org, boss)
}

/// Makes every user of `bundle` a member of `org` in `api` as the bundle has them (same email,
/// name, role and `joined_at`), as an invitation and its acceptance would: an import only maps
/// people onto members, so a faithful round trip needs them there first.
fn members_of(api: &Api, org: Uuid, bundle: &Value) {
    api.mock.with_store(|s| {
        for u in bundle["users"].as_array().expect("users") {
            let email = u["email"].as_str().expect("email");
            let name = u["display_name"].as_str().expect("name");
            let id = s.add_user(email, name, None);
            let m = bundle["members"]
                .as_array()
                .expect("members")
                .iter()
                .find(|m| m["user_id"] == u["id"])
                .expect("every bundle user is a member of the source org");
            let role = m["role"].as_str().and_then(OrgRole::parse).expect("role");
            s.set_membership(org, id, role);
            if let Some(ms) = s.memberships.get_mut(&(org, id)) {
                ms.joined_at = m["joined_at"].as_str().and_then(alloy_mock_api::Ts::parse).expect("ts");
            }
        }
    });
}

/// Every store row count, to prove that a refused import wrote nothing.
fn row_counts(api: &Api) -> Vec<usize> {
    api.mock.with_store(|s| {
        vec![
            s.users.len(),
            s.memberships.len(),
            s.teams.len(),
            s.workflows.len(),
            s.labor_rates.len(),
            s.projects.len(),
            s.project_members.len(),
            s.labels.len(),
            s.sprints.len(),
            s.tickets.len(),
            s.comments.len(),
            s.activity.len(),
            s.time_entries.len(),
            s.id_mark() as usize,
        ]
    })
}

/// Replaces every string that is a key of `m`, everywhere in `v`.
fn remap(v: &Value, m: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => m.get(s).map(|x| json!(x)).unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(|x| remap(x, m)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), remap(x, m))).collect()),
        other => other.clone(),
    }
}

/// The rows of one array as sorted strings (rows with equal timestamps may order differently
/// once their ids change), with team member lists sorted.
fn rows(bundle: &Value, array: &str, drop: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut out: Vec<String> = bundle[array]
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| !drop(r))
        .map(|r| {
            let mut r = r.clone();
            if let Some(ids) = r.get_mut("member_ids").and_then(Value::as_array_mut) {
                ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            r.to_string()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn export_and_import_need_an_unrestricted_admin() {
    let o = rich().await;
    for key in [&o.member, &o.viewer, &o.reporter] {
        let r = o.get(key, "/api/v1/export").await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
        let r = o.post(key, "/api/v1/import", json!({})).await;
        assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    }
    let admin = id(&json!(o.user(OrgRole::Admin)));
    let web = o.get(&o.owner, "/api/v1/projects/WEB").await.body["id"].clone();
    let key = "alloy_test_restrictedadmin0000000000000000";
    o.mock.with_store(|s| {
        s.insert_api_key(
            id(&json!(o.org_id)),
            admin,
            "web",
            key,
            vec![ApiKeyScope::Read, ApiKeyScope::Write],
            vec![id(&web)],
            None,
        )
    });
    assert_eq!(
        o.get(key, "/api/v1/export?project_id=WEB").await.reason(),
        "project_restricted_key"
    );
    assert_eq!(
        o.post(key, "/api/v1/import", json!({})).await.reason(),
        "project_restricted_key"
    );
    let r = o.get(&o.admin, "/api/v1/export").await;
    assert_eq!(r.status, 200);
    let disposition = r
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        disposition,
        "attachment; filename=\"alloy-export-acme-2026-04-01.json\""
    );
    let r = o.post(&o.admin, "/api/v1/import?on_conflict=replace", json!({})).await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
    let r = o.get(&o.admin, "/api/v1/export?project_id=W").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
}

#[tokio::test]
async fn the_bundle_lists_every_array_in_order_with_stored_burndowns() {
    let o = rich().await;
    let b = export(&o.api, &o.admin, "").await;
    let keys: Vec<&str> = b.as_object().expect("object").keys().map(String::as_str).collect();
    let mut expected = vec!["format", "version", "exported_at", "source", "scope"];
    expected.extend(ARRAYS);
    assert_eq!(keys, expected);
    assert_eq!(
        (b["format"].as_str(), b["version"].as_i64()),
        (Some("alloy-export"), Some(1))
    );
    assert_eq!(
        b["source"],
        json!({"org_id": o.org_id, "org_name": "Acme", "org_slug": "acme", "service_version": "0.1.0"})
    );
    assert_eq!(b["scope"], json!({"project_ids": null, "include_activity": true}));
    let emails = strings(&b["users"], "email");
    assert_eq!(
        emails,
        vec![
            "admin@acme.test",
            "member@acme.test",
            "owner@acme.test",
            "reporter@acme.test",
            "viewer@acme.test"
        ]
    );
    assert_eq!(b["members"].as_array().map(Vec::len), Some(5));
    let sprints = b["sprints"].as_array().expect("sprints");
    assert_eq!(sprints[0]["burndown"]["frozen"], true);
    assert_eq!(sprints[1]["burndown"], Value::Null);
    let counts: Vec<usize> = ARRAYS
        .iter()
        .map(|a| b[*a].as_array().map(Vec::len).unwrap_or(99))
        .collect();
    // users, members, teams, workflows, rates, projects, project members (2 creators + 1),
    // labels, sprints, tickets, comments, activity (3 Created + 4), entries.
    assert_eq!(counts, vec![5, 5, 1, 2, 1, 2, 3, 1, 2, 3, 1, 7, 4]);
    let web1 = &b["tickets"][0];
    assert_eq!(
        (web1["key"].as_str(), web1["labels"][0]["name"].as_str()),
        (Some("WEB-1"), Some("bug"))
    );
    let created = strings(&b["time_entries"], "created_at");
    assert!(created.windows(2).all(|w| w[0] <= w[1]));

    // A project-scoped export: only that project's rows and the users they reference.
    let b = export(&o.api, &o.admin, "?project_id=ops,NOPE&include_activity=false").await;
    let ops = o.get(&o.owner, "/api/v1/projects/OPS").await.body["id"].clone();
    assert_eq!(b["scope"], json!({"project_ids": [ops], "include_activity": false}));
    let counts: Vec<usize> = ARRAYS
        .iter()
        .map(|a| b[*a].as_array().map(Vec::len).unwrap_or(99))
        .collect();
    assert_eq!(counts, vec![3, 3, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 2]);
    assert_eq!(b["workflows"][0]["name"], "Kanban");
    let emails = strings(&b["users"], "email");
    assert_eq!(emails, vec!["admin@acme.test", "member@acme.test", "owner@acme.test"]);
}

#[tokio::test]
async fn a_round_trip_into_a_fresh_installation_reproduces_every_row() {
    let o = rich().await;
    let a = export(&o.api, &o.admin, "").await;
    let (api, key, org, boss) = fresh_installation().await;
    members_of(&api, org, &a);
    let r = import(&api, &key, "", &a).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let res = &r.body;
    assert_eq!(
        (res["dry_run"].as_bool(), res["on_conflict"].as_str()),
        (Some(false), Some("skip"))
    );
    assert_eq!(res["org_id"], json!(org));
    assert_eq!(res["conflicts"], json!([]));
    let created = |e: &str| res["counts"][e]["created"].as_i64().unwrap_or(-1);
    // People are mapped onto the members, never created.
    assert_eq!(ARRAYS.map(created), [0, 0, 1, 1, 1, 2, 3, 1, 2, 3, 1, 7, 4]);
    assert_eq!(res["counts"]["workflows"], tally(1, 0, 1));
    assert_eq!(res["unmapped_users"], json!([]));
    assert_eq!(res["warnings"], json!([]));

    // Deterministic ids of both installations start at 1, so nearly every id of A is taken in
    // B: those rows got new ids (A's Default workflow …003 maps onto B's, same id).
    let mut m: HashMap<String, String> = res["id_remaps"]
        .as_object()
        .expect("remaps")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    assert!(m.len() > 20, "{} remaps: {m:?}", m.len());
    assert!(m.contains_key(&o.user(OrgRole::Owner)));
    m.insert(o.org_id.clone(), org.to_string());

    let b = export(&api, &key, "").await;
    let mapped = remap(&a, &m);
    let boss = json!(boss);
    for array in ARRAYS {
        let want = rows(&mapped, array, |_| false);
        let got = rows(&b, array, |r| r["id"] == boss || r["user_id"] == boss);
        assert_eq!(got, want, "{array}");
    }

    // The imported rows work, and ids created later never reuse imported ones.
    let r = api.get(&key, "/api/v1/tickets/WEB-1").await;
    assert_eq!((r.status, r.body["labels"][0]["name"].as_str()), (200, Some("bug")));
    let p = api
        .create(&key, "/api/v1/projects", json!({"key": "NEW", "name": "New"}))
        .await;
    let all_ids = b.to_string();
    assert!(!all_ids.contains(p.id()));
    let t = api
        .post(&key, "/api/v1/projects/WEB/tickets", json!({"title": "After import"}))
        .await;
    assert_eq!((t.status, t.body["key"].as_str()), (201, Some("WEB-3")));
}

#[tokio::test]
async fn reimporting_into_the_same_org_skips_overwrites_or_fails_by_id() {
    let o = rich().await;
    let mut bundle = export(&o.api, &o.admin, "").await;
    let before = export(&o.api, &o.admin, "").await;

    let r = import(&o.api, &o.admin, "", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["counts"]["tickets"], tally(0, 0, 3));
    assert_eq!(r.body["id_remaps"], json!({}));
    let mut after = export(&o.api, &o.admin, "").await;
    after["exported_at"] = before["exported_at"].clone();
    assert_eq!(after, before, "skip changes nothing");

    // Overwrite: a changed title lands, approved time never changes.
    bundle["tickets"][1]["title"] = json!("Footer, again");
    let approved_at = bundle["time_entries"]
        .as_array()
        .expect("entries")
        .iter()
        .position(|e| e["status"] == "Approved");
    let approved_at = approved_at.expect("an approved entry");
    bundle["time_entries"][approved_at]["minutes"] = json!(1);
    let r = import(&o.api, &o.admin, "?on_conflict=overwrite", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["counts"]["tickets"], tally(0, 3, 0));
    assert_eq!(r.body["counts"]["time_entries"], tally(0, 3, 1));
    assert_eq!(r.body["counts"]["workflows"], tally(0, 1, 1));
    assert_eq!(
        o.get(&o.owner, "/api/v1/tickets/WEB-2").await.body["title"],
        "Footer, again"
    );
    let entry = bundle["time_entries"][approved_at]["id"].as_str().expect("id");
    assert_eq!(
        o.get(&o.owner, &format!("/api/v1/time-entries/{entry}")).await.body["minutes"],
        90
    );

    // Fail: one conflict per existing row, in bundle order, and nothing written.
    let counts = row_counts(&o.api);
    let r = import(&o.api, &o.admin, "?on_conflict=fail", &bundle).await;
    assert_eq!((r.status, r.reason()), (409, "import_conflicts"));
    let conflicts = r.body["error"]["details"]["conflicts"]
        .as_array()
        .expect("conflicts")
        .clone();
    // teams, workflows (Kanban; the Default maps), labor_rates, projects, labels, sprints,
    // tickets, comments, activity, time_entries; members and project members carry no id.
    assert_eq!(conflicts.len(), 1 + 1 + 1 + 2 + 1 + 2 + 3 + 1 + 7 + 4);
    assert_eq!(
        conflicts[0],
        json!({"entity": "teams", "id": bundle["teams"][0]["id"], "field": "id", "value": bundle["teams"][0]["id"]})
    );
    assert_eq!(row_counts(&o.api), counts);

    // A dry run never answers 409: the conflicts come back with a 200.
    let r = import(&o.api, &o.admin, "?on_conflict=fail&dry_run=true", &bundle).await;
    assert_eq!((r.status, r.body["dry_run"].as_bool()), (200, Some(true)));
    assert_eq!(r.body["conflicts"].as_array().map(Vec::len), Some(conflicts.len()));
    assert_eq!(row_counts(&o.api), counts);
}

#[tokio::test]
async fn natural_key_clashes_are_409_in_every_mode_and_nothing_is_written() {
    let o = rich().await;
    let bundle = export(&o.api, &o.admin, "?project_id=WEB").await;
    let counts = row_counts(&o.api);
    // WEB-1 under a new id: its number is taken in WEB.
    let mut renumbered = bundle.clone();
    renumbered["tickets"][0]["id"] = json!("00000000-0000-4000-8000-00000000ab02");
    let clash = json!({"entity": "tickets", "id": "00000000-0000-4000-8000-00000000ab02", "field": "ticket_number", "value": 1});
    for mode in ["skip", "overwrite", "fail"] {
        let r = import(&o.api, &o.admin, &format!("?on_conflict={mode}"), &renumbered).await;
        assert_eq!((r.status, r.reason()), (409, "import_conflicts"), "{mode}: {}", r.text);
        let conflicts = r.body["error"]["details"]["conflicts"]
            .as_array()
            .expect("conflicts")
            .clone();
        assert!(conflicts.contains(&clash), "{mode}: {conflicts:?}");
        assert_eq!(row_counts(&o.api), counts, "{mode}");
    }
    let r = import(&o.api, &o.admin, "?dry_run=true", &renumbered).await;
    assert_eq!((r.status, &r.body["conflicts"]), (200, &json!([clash])));
    assert_eq!(row_counts(&o.api), counts);

    // WEB under a new id: the project key is taken.
    let new_project = "00000000-0000-4000-8000-00000000ab01";
    let old_project = bundle["projects"][0]["id"].as_str().expect("id").to_string();
    let moved = remap(&bundle, &HashMap::from([(old_project, new_project.to_string())]));
    let r = import(&o.api, &o.admin, "", &moved).await;
    assert_eq!((r.status, r.reason()), (409, "import_conflicts"), "{}", r.text);
    let first = json!({"entity": "projects", "id": new_project, "field": "key", "value": "WEB"});
    assert_eq!(r.body["error"]["details"]["conflicts"][0], first);
    assert_eq!(row_counts(&o.api), counts);

    // A second Active sprint in the project is a clash too.
    let mut bundle = export(&o.api, &o.admin, "?project_id=WEB").await;
    let sprint = bundle["sprints"][1].clone();
    let mut copy = sprint.clone();
    copy["id"] = json!("00000000-0000-4000-8000-00000000ab03");
    copy["name"] = json!("Sprint 3");
    bundle["sprints"].as_array_mut().expect("sprints").push(copy);
    let r = import(&o.api, &o.admin, "", &bundle).await;
    assert_eq!((r.status, r.reason()), (409, "import_conflicts"));
    let conflicts = &r.body["error"]["details"]["conflicts"];
    assert_eq!(
        conflicts,
        &json!([{"entity": "sprints", "id": "00000000-0000-4000-8000-00000000ab03", "field": "status", "value": "Active"}])
    );
}

#[tokio::test]
async fn importing_into_another_org_of_the_same_installation_remaps_every_id() {
    let o = rich().await;
    let bundle = export(&o.api, &o.admin, "").await;
    let before = export(&o.api, &o.admin, "").await;
    let r = import(&o.api, &o.other, "", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let remaps = r.body["id_remaps"].as_object().expect("remaps");
    // The Default workflow maps onto Globex's; every other imported row gets a new id. Labor
    // rates and time entries belong to people who are not Globex members: left out.
    let rows_with_ids: usize = [
        "teams",
        "workflows",
        "projects",
        "labels",
        "sprints",
        "tickets",
        "comments",
        "activity",
    ]
    .iter()
    .map(|a| bundle[*a].as_array().map(Vec::len).unwrap_or(0))
    .sum();
    assert_eq!(remaps.len(), rows_with_ids);
    assert_eq!(r.body["counts"]["members"], tally(0, 0, 5));
    let web1 = o.get(&o.other, "/api/v1/tickets/WEB-1").await;
    assert_eq!(web1.status, 200);
    let old = bundle["tickets"][0]["id"].as_str().expect("id");
    assert_eq!(web1.body["id"], remaps[old]);
    let comment = bundle["comments"][0]["id"].as_str().expect("id");
    let globex = o
        .mock
        .with_store(|s| s.orgs.values().find(|g| g.slug == "globex").map(|g| g.id));
    let commented = o.mock.with_store(|s| {
        s.activity
            .values()
            .find(|a| Some(a.org_id) == globex && a.action == ActivityAction::Commented)
            .and_then(|a| a.new_value.clone())
    });
    assert_eq!(
        commented.as_ref(),
        Some(&remaps[comment]),
        "activity values follow the remap"
    );
    assert!(o.every(&o.other, "/api/v1/time-entries").await.is_empty());
    let mut after = export(&o.api, &o.admin, "").await;
    after["exported_at"] = before["exported_at"].clone();
    assert_eq!(after, before, "the source org is untouched");
}

/// Emails of the members of an org, sorted.
fn member_emails(api: &Api, slug: &str) -> Vec<String> {
    api.mock.with_store(|s| {
        let org = s.orgs.values().find(|o| o.slug == slug).map(|o| o.id);
        let mut out: Vec<String> = s
            .memberships
            .values()
            .filter(|m| Some(m.org_id) == org)
            .filter_map(|m| s.users.get(&m.user_id).map(|u| u.email.clone()))
            .collect();
        out.sort();
        out
    })
}

const ACME: [&str; 7] = [
    "adam@acme.test",
    "marco@acme.test",
    "maya@acme.test",
    "olivia@acme.test",
    "rita@acme.test",
    "sofia@acme.test",
    "victor@acme.test",
];

#[tokio::test]
async fn importing_acmes_bundle_into_globex_adds_none_of_its_people() {
    // Issue 8, finding 8: this import made the seven acme users globex members, one as Admin.
    let (api, acme) = spawn_as(OrgRole::Owner).await;
    let globex = api.mock.keys().other_org_owner().to_string();
    let gina = api
        .mock
        .with_store(|s| s.users.values().find(|u| u.email == "gina@globex.test").map(|u| u.id));
    let gina = json!(gina.expect("gina"));
    let bundle = export(&api, &acme, "").await;
    let people = member_emails(&api, "globex");
    assert_eq!(people, ["gina@globex.test", "hank@globex.test"]);
    let users = api.mock.with_store(|s| s.users.len());

    let dry = import(&api, &globex, "?dry_run=true", &bundle).await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    let r = import(&api, &globex, "", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(member_emails(&api, "globex"), people, "no new memberships");
    assert_eq!(api.mock.with_store(|s| s.users.len()), users, "no new users");
    let unmapped = r.strings("unmapped_users", "email");
    assert_eq!(unmapped, ACME);
    for field in ["unmapped_users", "counts", "warnings"] {
        assert_eq!(dry.body[field], r.body[field], "the dry run foretold {field}");
    }
    assert_eq!(r.body["counts"]["users"], tally(0, 0, 7));
    assert_eq!(r.body["counts"]["members"], tally(0, 0, 7));
    assert_eq!(r.body["counts"]["time_entries"], tally(0, 0, 17));
    assert_eq!(r.body["counts"]["tickets"]["created"], 36);
    let warnings = r.body["warnings"].to_string();
    for part in ["7 people", "now name the importing user", "unassigned", "time_entries"] {
        assert!(warnings.contains(part), "{part}: {warnings}");
    }

    // The imported work names only globex members: unassigned, and attributed to the importer.
    let acme_ids: Vec<String> = bundle["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_string))
        .collect();
    let mine = export(&api, &globex, "").await;
    let text = mine.to_string();
    for id in &acme_ids {
        assert!(!text.contains(id.as_str()), "globex's data still names acme user {id}");
    }
    for t in mine["tickets"].as_array().expect("tickets") {
        if t["key"].as_str().is_some_and(|k| k.starts_with("GLX")) {
            continue;
        }
        assert_eq!(t["assignee_id"], Value::Null, "{}", t["key"]);
        assert_eq!((&t["reporter_id"], &t["created_by"]), (&gina, &gina), "{}", t["key"]);
    }
    // acme's people still cannot reach globex.
    let maya = api.key(OrgRole::Member);
    let orgs = api.get(&maya, "/api/v1/orgs").await;
    assert_eq!(orgs.body["items"].as_array().map(Vec::len), Some(1), "{}", orgs.text);
}

#[tokio::test]
async fn an_invited_member_keeps_their_work_through_an_import() {
    let (api, acme) = spawn_as(OrgRole::Owner).await;
    let globex = api.mock.keys().other_org_owner().to_string();
    let maya_key = api.key(OrgRole::Member);
    let maya = api.mock.keys().entry(OrgRole::Member).expect("maya").user_id;
    let bundle = export(&api, &acme, "").await;
    // Gina invites Maya to globex; Maya accepts with her own key.
    let org = api.get(&globex, "/api/v1/auth/me").await.body["org_id"].clone();
    let org = org.as_str().expect("org").to_string();
    let req = json!({"email": "maya@acme.test"});
    let inv = api.create(&globex, &format!("/api/v1/orgs/{org}/invites"), req).await;
    let ok = api
        .post(&maya_key, "/api/v1/invites/accept", json!({"code": inv.body["code"]}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let people = member_emails(&api, "globex");

    for mode in ["skip", "overwrite", "fail"] {
        let dry = import(&api, &globex, &format!("?dry_run=true&on_conflict={mode}"), &bundle).await;
        assert_eq!(dry.status, 200, "{mode}: {}", dry.text);
        let emails = dry.strings("unmapped_users", "email");
        assert_eq!(
            emails,
            ACME.iter()
                .copied()
                .filter(|e| *e != "maya@acme.test")
                .collect::<Vec<_>>(),
            "{mode}"
        );
    }
    let r = import(&api, &globex, "", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(member_emails(&api, "globex"), people);
    // Maya's assignments and time come along; nobody else's.
    let mine = export(&api, &globex, "").await;
    let assigned_to_maya = |b: &Value| {
        let tickets = b["tickets"].as_array().expect("tickets");
        tickets.iter().filter(|t| t["assignee_id"] == json!(maya)).count()
    };
    let theirs = assigned_to_maya(&bundle);
    assert!(theirs > 0);
    assert_eq!(assigned_to_maya(&mine), theirs);
    let entries = |b: &Value| {
        b["time_entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["user_id"] == json!(maya))
            .count()
    };
    assert_eq!(entries(&mine), entries(&bundle));
    assert_eq!(
        mine["time_entries"].as_array().map(Vec::len),
        Some(entries(&bundle)),
        "only Maya's time"
    );
}

#[tokio::test]
async fn bad_bundles_are_400_with_json_paths_and_leave_no_trace() {
    let o = rich().await;
    let (api, key, _, _) = fresh_installation().await;
    let mut bundle = export(&o.api, &o.admin, "").await;
    bundle["version"] = json!(2);
    bundle["extra"] = json!(true);
    bundle["tickets"][2]["project_id"] = json!("00000000-0000-4000-8000-00000000beef");
    bundle["time_entries"][0] = json!({"id": "nope"});
    bundle["comments"][0].as_object_mut().expect("comment").remove("body");
    let counts = row_counts(&api);
    let r = import(&api, &key, "?dry_run=true", &bundle).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"), "{}", r.text);
    let fields = r.fields();
    assert_eq!(fields["version"], "out_of_range");
    assert_eq!(fields["extra"], "unknown_field");
    assert_eq!(fields["tickets[2].project_id"], "invalid_format");
    assert_eq!(fields["time_entries[0]"], "invalid_format");
    assert_eq!(fields["comments[0].body"], "required");
    assert_eq!(row_counts(&api), counts);

    let r = import(&api, &key, "", &json!({"format": "zip", "users": "everyone"})).await;
    assert_eq!(
        *r.fields(),
        json!({"format": "invalid_format", "version": "required", "users": "invalid_format"})
    );
    let r = import(&api, &key, "", &json!([1, 2, 3])).await;
    assert_eq!((r.status, r.reason()), (400, "malformed_json"));

    // Ten MiB of garbage is a clean 400; anything above the limit is a 413.
    let url = api.url("/api/v1/import");
    let send = |body: Vec<u8>| {
        api.http
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let garbage: Vec<u8> = (0..10 * 1024 * 1024 - 16).map(|i| b"{[\"x:,}]\\"[i % 9]).collect();
    let r = send(garbage).await.expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["details"]["reason"], "malformed_json");
    let mut deep = "[".repeat(5_000_000);
    deep.push_str(&"]".repeat(5_000_000));
    let r = send(deep.into_bytes()).await.expect("send");
    assert_eq!(r.status(), 400);
    let r = send(vec![b' '; 11 * 1024 * 1024]).await.expect("send");
    assert_eq!(r.status(), 413);
    assert_eq!(row_counts(&api), counts);
}
