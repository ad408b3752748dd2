//! Sprints over HTTP (contract §4.6 #74–#82, §4.9 Burndown): date rules, the Planned → Active →
//! Completed lifecycle with one Active sprint per project, ticket moves with `SprintChanged`
//! activity, the board, and a burndown checked number by number, live and frozen.

use crate::support::{Org, Resp, names, org};
use alloy_mock_api::Ts;
use alloy_mock_api::model::ActivityAction;
use serde_json::{Value, json};

fn at(s: &str) -> Ts {
    Ts::parse(s).expect("timestamp")
}

async fn sprint(o: &Org, project: &str, name: &str, start: &str, end: &str) -> Value {
    let body = json!({"name": name, "start_date": start, "end_date": end});
    let r = o
        .create(&o.member, &format!("/api/v1/projects/{project}/sprints"), body)
        .await;
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn ticket_in(o: &Org, project: &str, body: Value) -> Value {
    let r = o
        .create(&o.member, &format!("/api/v1/projects/{project}/tickets"), body)
        .await;
    r.body
}

async fn transition(o: &Org, ticket: &str, status: &str) {
    let req = json!({"status": status});
    let r = o
        .post(&o.member, &format!("/api/v1/tickets/{ticket}/transition"), req)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn start(o: &Org, sprint_id: &str) -> Resp {
    o.post(&o.member, &format!("/api/v1/sprints/{sprint_id}/start"), json!({}))
        .await
}

/// `SprintChanged` entries of a ticket as (old, new) pairs.
fn sprint_changes(o: &Org, ticket_id: &str) -> Vec<(Value, Value)> {
    o.mock.with_store(|s| {
        s.activity
            .values()
            .filter(|a| a.ticket_id.to_string() == ticket_id && a.action == ActivityAction::SprintChanged)
            .map(|a| {
                (
                    a.old_value.clone().unwrap_or(Value::Null),
                    a.new_value.clone().unwrap_or(Value::Null),
                )
            })
            .collect()
    })
}

#[tokio::test]
async fn created_sprint_is_planned_with_a_location() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let req = json!({"name": "S1", "goal": "Ship", "start_date": "2026-04-01", "end_date": "2026-04-14"});
    let r = o.create(&o.member, "/api/v1/projects/WEB/sprints", req).await;
    assert_eq!(r.body["status"], "Planned");
    assert_eq!(
        (r.body["started_at"].clone(), r.body["completed_at"].clone()),
        (json!(null), json!(null))
    );
    assert!(r.body.get("frozen_burndown").is_none());
    let loc = r.location();
    assert_eq!(o.get(&o.viewer, &loc).await.body, r.body);
}

#[tokio::test]
async fn sprint_dates_and_fields_are_validated_together() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let path = "/api/v1/projects/WEB/sprints";
    // (start, end, allowed): the end before the start or more than 365 days after it is refused.
    for (start, end, allowed) in [
        ("2026-04-10", "2026-04-09", false),
        ("2026-01-01", "2027-01-02", false),
        ("2026-01-01", "2027-01-01", true),
    ] {
        let body = json!({"name": "S", "start_date": start, "end_date": end});
        let r = o.post(&o.member, path, body).await;
        if allowed {
            assert_eq!(r.status, 201, "365 days is allowed");
        } else {
            assert_eq!(*r.fields(), json!({"end_date": "out_of_range"}), "{start}..{end}");
        }
    }
    let req = json!({"goal": "x".repeat(1001), "start_date": "April", "status": "Active", "x": 1});
    let r = o.post(&o.member, path, req).await;
    assert_eq!(
        *r.fields(),
        json!({"name": "required", "goal": "too_long", "start_date": "invalid_format", "end_date": "required", "status": "immutable", "x": "unknown_field"})
    );
}

#[tokio::test]
async fn sprint_writes_follow_roles_and_unknown_sprints_are_404() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let body = json!({"name": "S", "start_date": "2026-04-01", "end_date": "2026-04-02"});
    let r = o.post(&o.viewer, "/api/v1/projects/WEB/sprints", body.clone()).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.post(&o.reporter, "/api/v1/projects/WEB/sprints", body).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let s = sprint(&o, "WEB", "S", "2026-04-01", "2026-04-02").await;
    let r = o.delete(&o.member, &format!("/api/v1/sprints/{}", id(&s))).await;
    assert_eq!(
        (r.status, r.reason()),
        (403, "insufficient_role"),
        "deleting a sprint needs Admin"
    );
    let r = o
        .get(&o.viewer, "/api/v1/sprints/00000000-0000-4000-8000-0000000000ff")
        .await;
    r.not_found("sprint");
    let r = o.get(&o.viewer, "/api/v1/sprints/S1").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_id"));
    let r = o.get(&o.viewer, "/api/v1/projects/NOPE/sprints").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn sprints_are_listed_by_start_date_and_filtered_by_status() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    sprint(&o, "WEB", "Late", "2026-05-01", "2026-05-14").await;
    let early = sprint(&o, "WEB", "Early", "2026-04-01", "2026-04-14").await;
    sprint(&o, "WEB", "Also early", "2026-04-01", "2026-04-07").await;
    let all = o.list_all(&o.viewer, "/api/v1/projects/WEB/sprints", 2).await;
    assert_eq!(names(&Value::from(all)), vec!["Early", "Also early", "Late"]);
    assert_eq!(start(&o, &id(&early)).await.status, 200);
    let r = o.get(&o.viewer, "/api/v1/projects/WEB/sprints?status=Active").await;
    assert_eq!(names(&r.body["items"]), vec!["Early"]);
    let r = o
        .get(&o.viewer, "/api/v1/projects/WEB/sprints?status=Planned,Completed")
        .await;
    assert_eq!(names(&r.body["items"]), vec!["Also early", "Late"]);
    let r = o.get(&o.viewer, "/api/v1/projects/WEB/sprints?status=Done").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
}

#[tokio::test]
async fn only_one_sprint_per_project_is_active_and_only_planned_ones_start() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "OPS").await;
    let a = sprint(&o, "WEB", "A", "2026-04-01", "2026-04-14").await;
    let b = sprint(&o, "WEB", "B", "2026-04-15", "2026-04-28").await;
    let c = sprint(&o, "OPS", "C", "2026-04-01", "2026-04-14").await;
    o.mock.advance(std::time::Duration::from_secs(90));
    let r = start(&o, &id(&a)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["status"].as_str(), r.body["started_at"].as_str()),
        (Some("Active"), Some("2026-04-01T12:01:30.000Z"))
    );
    assert_eq!(r.body["start_date"], "2026-04-01", "dates are unchanged");
    let r = start(&o, &id(&b)).await;
    assert_eq!((r.status, r.reason()), (409, "active_sprint_exists"));
    assert_eq!(r.body["error"]["details"]["sprint_id"], json!(id(&a)));
    let r = start(&o, &id(&a)).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    assert_eq!(r.body["error"]["details"]["state"], "Active");
    assert_eq!(
        start(&o, &id(&c)).await.status,
        200,
        "another project may have its own Active sprint"
    );
    let req = json!({"now": true});
    let r = o
        .post(&o.member, &format!("/api/v1/sprints/{}/start", id(&b)), req)
        .await;
    assert_eq!(*r.fields(), json!({"now": "unknown_field"}));
    let r = o
        .post(&o.viewer, &format!("/api/v1/sprints/{}/start", id(&b)), json!({}))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn patch_rules_depend_on_the_sprint_state() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let s = sprint(&o, "WEB", "S", "2026-04-01", "2026-04-14").await;
    let path = format!("/api/v1/sprints/{}", id(&s));
    let r = o.patch(&o.member, &path, json!({"start_date": "2026-04-20"})).await;
    assert_eq!(*r.fields(), json!({"start_date": "out_of_range"}));
    let req = json!({"goal": "Launch", "start_date": "2026-04-02", "status": "Active"});
    let r = o.patch(&o.member, &path, req).await;
    assert_eq!(*r.fields(), json!({"status": "immutable"}));
    let r = o
        .patch(&o.member, &path, json!({"goal": "Launch", "start_date": "2026-04-02"}))
        .await;
    assert_eq!((r.status, r.body["start_date"].as_str()), (200, Some("2026-04-02")));
    start(&o, &id(&s)).await;
    let r = o.patch(&o.member, &path, json!({"start_date": "2026-04-03"})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    let r = o
        .patch(&o.member, &path, json!({"end_date": "2026-04-21", "goal": null}))
        .await;
    assert_eq!((r.status, r.body["end_date"].as_str()), (200, Some("2026-04-21")));
    assert_eq!(r.body["goal"], json!(null));
    let r = o.post(&o.member, &format!("{path}/complete"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = o.patch(&o.member, &path, json!({"name": "Renamed"})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
}

#[tokio::test]
async fn completing_moves_open_tickets_and_keeps_closed_ones() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "OPS").await;
    let s1 = id(&sprint(&o, "WEB", "S1", "2026-04-01", "2026-04-14").await);
    let s2 = id(&sprint(&o, "WEB", "S2", "2026-04-15", "2026-04-28").await);
    let ops = id(&sprint(&o, "OPS", "Ops", "2026-04-15", "2026-04-28").await);
    let done = id(&ticket_in(&o, "WEB", json!({"title": "Done", "sprint_id": s1})).await);
    let cancelled = id(&ticket_in(&o, "WEB", json!({"title": "Cancelled", "sprint_id": s1})).await);
    let open = id(&ticket_in(&o, "WEB", json!({"title": "Open", "sprint_id": s1})).await);
    let started = id(&ticket_in(&o, "WEB", json!({"title": "Started", "sprint_id": s1})).await);
    transition(&o, &done, "Done").await;
    transition(&o, &cancelled, "Cancelled").await;
    transition(&o, &started, "InProgress").await;
    let complete = format!("/api/v1/sprints/{s1}/complete");
    let r = o.post(&o.member, &complete, json!({})).await;
    assert_eq!(
        (r.status, r.reason()),
        (422, "invalid_state"),
        "a Planned sprint cannot be completed"
    );
    start(&o, &s1).await;
    let r = o.post(&o.member, &complete, json!({"move_unfinished_to": ops})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o.post(&o.member, &complete, json!({"move_unfinished_to": s1})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    let r = o
        .post(&o.member, &complete, json!({"move_unfinished_to": "soon"}))
        .await;
    assert_eq!(*r.fields(), json!({"move_unfinished_to": "invalid_format"}));
    let r = o.post(&o.viewer, &complete, json!({})).await;
    assert_eq!(r.status, 403);
    let r = o.post(&o.member, &complete, json!({"move_unfinished_to": s2})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sprint"]["status"], "Completed");
    assert_eq!(r.body["sprint"]["completed_at"], "2026-04-01T12:00:00.000Z");
    assert_eq!(r.body["completed_ticket_ids"], json!([done, cancelled]));
    assert_eq!(r.body["carried_over_ticket_ids"], json!([open, started]));
    assert_eq!(r.body["moved_to_sprint_id"], json!(s2));
    let t = o.get(&o.viewer, "/api/v1/tickets/WEB-4").await;
    assert_eq!(
        (t.body["sprint_id"].as_str(), t.body["status"].as_str()),
        (Some(s2.as_str()), Some("InProgress"))
    );
    assert_eq!(
        o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body["sprint_id"],
        json!(s1)
    );
    assert_eq!(sprint_changes(&o, &open), vec![(json!(s1), json!(s2))]);
    assert!(sprint_changes(&o, &done).is_empty());
    let r = o.post(&o.member, &complete, json!({})).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
}

#[tokio::test]
async fn completing_without_a_target_moves_open_tickets_to_the_backlog() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let s = id(&sprint(&o, "WEB", "S", "2026-04-01", "2026-04-14").await);
    let t = id(&ticket_in(&o, "WEB", json!({"title": "Open", "sprint_id": s})).await);
    start(&o, &s).await;
    let r = o
        .send("POST", Some(&o.member), &format!("/api/v1/sprints/{s}/complete"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["moved_to_sprint_id"], json!(null));
    assert_eq!(
        o.get(&o.viewer, "/api/v1/tickets/WEB-1").await.body["sprint_id"],
        json!(null)
    );
    assert_eq!(sprint_changes(&o, &t), vec![(json!(s), json!(null))]);
}

#[tokio::test]
async fn deleting_a_sprint_sends_its_tickets_to_the_backlog_but_not_while_active() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let s = id(&sprint(&o, "WEB", "S", "2026-04-01", "2026-04-14").await);
    let open = id(&ticket_in(&o, "WEB", json!({"title": "Open", "sprint_id": s})).await);
    let done = id(&ticket_in(&o, "WEB", json!({"title": "Done", "sprint_id": s})).await);
    transition(&o, &done, "Done").await;
    start(&o, &s).await;
    let r = o.delete(&o.admin, &format!("/api/v1/sprints/{s}")).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    o.mock.with_store(|st| {
        let sp = st.sprints.values_mut().find(|x| x.id.to_string() == s).expect("sprint");
        sp.status = alloy_mock_api::model::SprintStatus::Planned;
    });
    assert_eq!(o.delete(&o.admin, &format!("/api/v1/sprints/{s}")).await.status, 204);
    for (key, status) in [("WEB-1", "Backlog"), ("WEB-2", "Done")] {
        let t = o.get(&o.viewer, &format!("/api/v1/tickets/{key}")).await;
        assert_eq!(
            (t.body["sprint_id"].clone(), t.body["status"].as_str()),
            (json!(null), Some(status))
        );
    }
    assert_eq!(sprint_changes(&o, &open), vec![(json!(s), json!(null))]);
    assert_eq!(sprint_changes(&o, &done), vec![(json!(s), json!(null))]);
    assert_eq!(o.get(&o.viewer, &format!("/api/v1/sprints/{s}")).await.status, 404);
}

#[tokio::test]
async fn the_board_has_one_column_per_status_with_critical_tickets_first() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let s = id(&sprint(&o, "WEB", "S", "2026-04-01", "2026-04-14").await);
    ticket_in(&o, "WEB", json!({"title": "low", "priority": "Low", "sprint_id": s})).await;
    ticket_in(
        &o,
        "WEB",
        json!({"title": "crit", "priority": "Critical", "sprint_id": s}),
    )
    .await;
    ticket_in(&o, "WEB", json!({"title": "medium", "sprint_id": s})).await;
    let doing = id(&ticket_in(&o, "WEB", json!({"title": "doing", "sprint_id": s})).await);
    ticket_in(&o, "WEB", json!({"title": "elsewhere"})).await;
    transition(&o, &doing, "InProgress").await;
    let r = o.get(&o.viewer, &format!("/api/v1/sprints/{s}/board")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sprint_id"], json!(s));
    let cols = r.body["columns"].as_array().expect("columns");
    let heads: Vec<(String, String, u64)> = cols
        .iter()
        .map(|c| {
            let n = c["ticket_count"].as_u64().expect("count");
            (
                c["status"].as_str().unwrap_or("").to_string(),
                c["category"].as_str().unwrap_or("").to_string(),
                n,
            )
        })
        .collect();
    assert_eq!(
        heads,
        vec![
            ("Backlog".into(), "Unstarted".into(), 3),
            ("Todo".into(), "Unstarted".into(), 0),
            ("InProgress".into(), "Started".into(), 1),
            ("InReview".into(), "Started".into(), 0),
            ("Done".into(), "Completed".into(), 0),
            ("Cancelled".into(), "Cancelled".into(), 0),
        ]
    );
    let titles: Vec<&str> = cols[0]["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["crit", "medium", "low"]);
    assert_eq!(cols[2]["tickets"][0]["key"], "WEB-4");
}

/// A seven-day sprint (2026-04-01 – 2026-04-07) with five tickets:
/// A (3 pts) done on day 2, B (5 pts) started day 2 and done day 4, C (2 pts) untouched,
/// D (1 pt) cancelled on day 3, E (4 pts) created on day 3. Today is day 4 (2026-04-04).
async fn burndown_fixture(o: &Org) -> String {
    o.mock.set_now(at("2026-03-31T10:00:00Z"));
    o.project(&o.owner, "WEB").await;
    let s = id(&sprint(o, "WEB", "Sprint 1", "2026-04-01", "2026-04-07").await);
    let a = id(&ticket_in(o, "WEB", json!({"title": "A", "story_points": 3, "sprint_id": s})).await);
    let b = id(&ticket_in(o, "WEB", json!({"title": "B", "story_points": 5, "sprint_id": s})).await);
    ticket_in(o, "WEB", json!({"title": "C", "story_points": 2, "sprint_id": s})).await;
    let d = id(&ticket_in(o, "WEB", json!({"title": "D", "story_points": 1, "sprint_id": s})).await);
    o.mock.set_now(at("2026-04-01T09:00:00Z"));
    assert_eq!(start(o, &s).await.status, 200);
    o.mock.set_now(at("2026-04-02T10:00:00Z"));
    transition(o, &b, "InProgress").await;
    o.mock.set_now(at("2026-04-02T15:00:00Z"));
    transition(o, &a, "Done").await;
    o.mock.set_now(at("2026-04-03T09:00:00Z"));
    ticket_in(o, "WEB", json!({"title": "E", "story_points": 4, "sprint_id": s})).await;
    o.mock.set_now(at("2026-04-03T12:00:00Z"));
    transition(o, &d, "Cancelled").await;
    // The last millisecond of day 3 still belongs to day 3 (B stays open there).
    o.mock.set_now(at("2026-04-03T23:59:59.999Z"));
    transition(o, &b, "InReview").await;
    // Midnight belongs to the next day.
    o.mock.set_now(at("2026-04-04T00:00:00Z"));
    transition(o, &b, "Done").await;
    o.mock.set_now(at("2026-04-04T12:00:00Z"));
    s
}

fn day(date: &str, actual: Option<(i64, i64, i64, i64)>, ideal_t: f64, ideal_p: f64) -> Value {
    let (rt, rp, ct, cp) = match actual {
        Some((a, b, c, d)) => (json!(a), json!(b), json!(c), json!(d)),
        None => (json!(null), json!(null), json!(null), json!(null)),
    };
    json!({
        "date": date, "remaining_tickets": rt, "remaining_points": rp, "completed_tickets": ct,
        "completed_points": cp, "ideal_tickets": ideal_t, "ideal_points": ideal_p,
    })
}

/// The expected days: totals 4 tickets / 14 points (D is cancelled now), N = 7.
fn expected_days() -> Value {
    json!([
        day("2026-04-01", Some((4, 11, 0, 0)), 4.0, 14.0),
        day("2026-04-02", Some((3, 8, 1, 3)), 3.33, 11.67),
        day("2026-04-03", Some((3, 11, 1, 3)), 2.67, 9.33),
        day("2026-04-04", Some((2, 6, 2, 8)), 2.0, 7.0),
        day("2026-04-05", None, 1.33, 4.67),
        day("2026-04-06", None, 0.67, 2.33),
        day("2026-04-07", None, 0.0, 0.0),
    ])
}

#[tokio::test]
async fn burndown_counts_each_day_from_the_status_history() {
    let o = org().await;
    let s = burndown_fixture(&o).await;
    let r = o.get(&o.viewer, &format!("/api/v1/sprints/{s}/burndown")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "sprint_id": s, "status": "Active", "start_date": "2026-04-01", "end_date": "2026-04-07",
            "frozen": false, "total_tickets": 4, "total_points": 14, "days": expected_days(),
        })
    );
}

#[tokio::test]
async fn completed_sprints_keep_the_burndown_frozen_at_completion() {
    let o = org().await;
    let s = burndown_fixture(&o).await;
    let r = o
        .post(&o.member, &format!("/api/v1/sprints/{s}/complete"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["carried_over_ticket_ids"].as_array().expect("ids").len(),
        2,
        "C and E leave the sprint"
    );
    let expected = json!({
        "sprint_id": s, "status": "Completed", "start_date": "2026-04-01", "end_date": "2026-04-07",
        "frozen": true, "total_tickets": 4, "total_points": 14, "days": expected_days(),
    });
    let r = o.get(&o.viewer, &format!("/api/v1/sprints/{s}/burndown")).await;
    assert_eq!(r.body, expected, "the series includes the carried-over tickets");
    o.mock.set_now(at("2026-04-20T00:00:00Z"));
    o.patch(&o.member, "/api/v1/tickets/WEB-2", json!({"story_points": 40}))
        .await;
    let r = o.get(&o.viewer, &format!("/api/v1/sprints/{s}/burndown")).await;
    assert_eq!(
        r.body, expected,
        "later days and later edits leave the frozen series alone"
    );
    let stored = o.mock.with_store(|st| {
        let sp = st
            .sprints
            .values()
            .find(|x| x.id.to_string() == s)
            .cloned()
            .expect("sprint");
        alloy_mock_api::routes::sprints::burndown(st, &sp)
    });
    assert_eq!(stored, expected, "the export helper reads the same stored series");
}

#[tokio::test]
async fn a_one_day_sprint_has_a_flat_zero_ideal_line() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let s = id(&sprint(&o, "WEB", "Day", "2026-04-01", "2026-04-01").await);
    ticket_in(&o, "WEB", json!({"title": "T", "story_points": 2, "sprint_id": s})).await;
    let r = o.get(&o.viewer, &format!("/api/v1/sprints/{s}/burndown")).await;
    assert_eq!(r.body["days"], json!([day("2026-04-01", Some((1, 2, 0, 0)), 0.0, 0.0)]));
    assert_eq!(
        (r.body["total_tickets"].as_i64(), r.body["total_points"].as_i64()),
        (Some(1), Some(2))
    );
}
