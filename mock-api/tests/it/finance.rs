//! Labor rates and the money reports over HTTP (contract §4.3 #35–#38, §4.8 #92–#94, §4.9).
//!
//! The report tests share one hand-computed scenario (March 2026, rates in cents per hour):
//!
//! | # | user   | ticket | date  | min | rate  | cost = (min × rate + 30) div 60 | status    |
//! |---|--------|--------|-------|-----|-------|---------------------------------|-----------|
//! | 1 | Member | WEB-1  | 03-10 |  90 | 12000 | 1 080 030 div 60 = 18000        | Approved  |
//! | 2 | Member | WEB-1  | 03-20 |  50 | 15000 |   750 030 div 60 = 12500        | Approved  |
//! | 3 | Admin  | OPS-1  | 03-05 |  45 |  9030 |   406 380 div 60 =  6773 (½ up) | Approved  |
//! | 4 | Owner  | MISC-1 | 03-12 |  30 |  none | 0, warning missing_labor_rate   | Approved  |
//! | 5 | Member | RND-1  | 03-25 |  20 | 15000 |   300 030 div 60 =  5000        | Approved  |
//! | 6 | Member | WEB-1  | 03-26 |  15 |       | (submitted_minutes only)        | Submitted |
//! | 7 | Admin  | OPS-1  | 03-27 |  60 |       | (ignored)                       | Draft     |
//! | 8 | Member | WEB-1  | 02-28 |  60 | 12000 | (outside the period)            | Approved  |
//!
//! Projects: WEB `Capex`/`AppDevelopment`, cost center ENG-001, 36 months; OPS `Opex`, FIN-002;
//! RND `Capex` without a phase, ENG-001; MISC unclassified, no cost center.
//! Hours are `(minutes × 100 + 30) div 60 / 100`.

use crate::support::Org;
use crate::time::{approved, log};
use alloy_mock_api::model::{ApiKeyScope, OrgRole};
use serde_json::{Value, json};

/// Creates a project with finance fields.
async fn project(o: &Org, body: Value) -> Value {
    let r = o.create(&o.owner, "/api/v1/projects", body).await;
    r.body
}

/// Creates a labor rate as Admin.
async fn rate(o: &Org, role: OrgRole, cents: i64, from: &str) -> Value {
    let body = json!({"user_id": o.user(role), "hourly_rate_cents": cents, "effective_from": from});
    let r = o.create(&o.admin, &o.org_path("/labor-rates"), body).await;
    r.body
}

/// Adds a team as the Admin (teams have their own tests); returns its id.
async fn team(o: &Org, name: &str, members: &[OrgRole]) -> String {
    let member_ids: Vec<String> = members.iter().map(|r| o.user(*r)).collect();
    let body = json!({"name": name, "member_ids": member_ids});
    o.create(&o.admin, &o.org_path("/teams"), body).await.id().to_string()
}

/// The scenario of the module docs; returns the org and the project ids by key.
async fn scenario() -> (Org, std::collections::BTreeMap<&'static str, Value>) {
    let o = crate::support::org().await;
    let mut p = std::collections::BTreeMap::new();
    for (key, body) in [
        (
            "WEB",
            json!({"key": "WEB", "name": "Web \"Core\", Inc.", "capitalization_type": "Capex", "development_phase": "AppDevelopment", "cost_center_id": "ENG-001", "amortization_months": 36}),
        ),
        (
            "OPS",
            json!({"key": "OPS", "name": "Operations", "capitalization_type": "Opex", "cost_center_id": "FIN-002"}),
        ),
        (
            "RND",
            json!({"key": "RND", "name": "Research", "capitalization_type": "Capex", "cost_center_id": "ENG-001"}),
        ),
        ("MISC", json!({"key": "MISC", "name": "Misc"})),
    ] {
        p.insert(key, project(&o, body).await["id"].clone());
    }
    for key in ["WEB", "OPS", "RND", "MISC"] {
        o.ticket(&o.owner, key, &format!("{key} work")).await;
    }
    rate(&o, OrgRole::Member, 12_000, "2026-01-01").await;
    rate(&o, OrgRole::Member, 15_000, "2026-03-15").await;
    rate(&o, OrgRole::Admin, 9_030, "2026-01-01").await;
    approved(&o, &o.member, "WEB-1", json!({"minutes": 90, "date": "2026-03-10"})).await;
    approved(&o, &o.member, "WEB-1", json!({"minutes": 50, "date": "2026-03-20"})).await;
    approved(&o, &o.admin, "OPS-1", json!({"minutes": 45, "date": "2026-03-05"})).await;
    approved(&o, &o.owner, "MISC-1", json!({"minutes": 30, "date": "2026-03-12"})).await;
    approved(&o, &o.member, "RND-1", json!({"minutes": 20, "date": "2026-03-25"})).await;
    let submitted = log(&o, &o.member, "WEB-1", json!({"minutes": 15, "date": "2026-03-26"})).await;
    let id = submitted["id"].as_str().expect("id");
    assert_eq!(
        o.post(&o.member, &format!("/api/v1/time-entries/{id}/submit"), json!({}))
            .await
            .status,
        200
    );
    log(&o, &o.admin, "OPS-1", json!({"minutes": 60, "date": "2026-03-27"})).await;
    approved(&o, &o.member, "WEB-1", json!({"minutes": 60, "date": "2026-02-28"})).await;
    (o, p)
}

const MARCH: &str = "from=2026-03-01&to=2026-03-31";

/// The March time report grouped by `by`, read by the Viewer.
async fn grouped(o: &Org, by: &str) -> crate::support::Resp {
    o.get(&o.viewer, &format!("/api/v1/reports/time?{MARCH}&group_by={by}"))
        .await
}

fn rows(r: &crate::support::Resp) -> Vec<Value> {
    r.body["rows"].as_array().expect("rows").clone()
}

// ----- labor rates -------------------------------------------------------------------------------

#[tokio::test]
async fn labor_rates_compute_effective_to_from_the_next_row_of_the_same_user() {
    let o = crate::support::org().await;
    let first = rate(&o, OrgRole::Member, 12_000, "2026-01-01").await;
    assert_eq!(first["effective_to"], Value::Null);
    assert_eq!(first["created_by"], json!(o.user(OrgRole::Admin)));
    let later = rate(&o, OrgRole::Member, 15_000, "2026-03-15").await;
    let between = rate(&o, OrgRole::Member, 13_000, "2026-02-01").await;
    assert_eq!(between["effective_to"], "2026-03-14");
    let admin = rate(&o, OrgRole::Admin, 9_000, "2026-02-10").await;
    let get = |r: &Value| format!("/api/v1/labor-rates/{}", r["id"].as_str().expect("id"));
    assert_eq!(o.get(&o.viewer, &get(&first)).await.body["effective_to"], "2026-01-31");
    assert_eq!(o.get(&o.viewer, &get(&later)).await.body["effective_to"], Value::Null);

    // Ordered by user, then effective_from; `as_of` keeps the row in force per user.
    let list = o.org_path("/labor-rates");
    let all = o.list_all(&o.viewer, &list, 2).await;
    let mut expected = vec![first["id"].clone(), between["id"].clone(), later["id"].clone()];
    if o.user(OrgRole::Admin) < o.user(OrgRole::Member) {
        expected.insert(0, admin["id"].clone());
    } else {
        expected.push(admin["id"].clone());
    }
    assert_eq!(all.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), expected);
    let on = o.every(&o.viewer, &format!("{list}?as_of=2026-02-05")).await;
    assert_eq!(
        on.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        vec![between["id"].clone()]
    );
    let on = o
        .every(
            &o.viewer,
            &format!("{list}?as_of=2026-03-14&user_id={}", o.user(OrgRole::Member)),
        )
        .await;
    assert_eq!(
        on.iter().map(|r| r["hourly_rate_cents"].clone()).collect::<Vec<_>>(),
        vec![json!(13_000)]
    );
}

#[tokio::test]
async fn labor_rates_refuse_duplicates_and_anything_that_would_reprice_approved_time() {
    let o = crate::support::org().await;
    o.project(&o.owner, "WEB").await;
    o.ticket(&o.owner, "WEB", "Work").await;
    let url = o.org_path("/labor-rates");
    let jan = rate(&o, OrgRole::Member, 12_000, "2026-01-01").await;
    let req = json!({"user_id": o.user(OrgRole::Member), "hourly_rate_cents": 1, "effective_from": "2026-01-01"});
    let r = o.post(&o.admin, &url, req).await;
    assert_eq!((r.status, r.reason()), (409, "duplicate"));
    assert_eq!(
        (
            r.body["error"]["details"]["field"].as_str(),
            r.body["error"]["details"]["value"].as_str()
        ),
        (Some("effective_from"), Some("2026-01-01"))
    );

    let march = rate(&o, OrgRole::Member, 13_000, "2026-03-01").await;
    approved(&o, &o.member, "WEB-1", json!({"minutes": 60, "date": "2026-03-20"})).await;
    let body =
        |from: &str| json!({"user_id": o.user(OrgRole::Member), "hourly_rate_cents": 20_000, "effective_from": from});
    // A row from 03-18 would run to the end of time and re-price the 03-20 entry.
    let r = o.post(&o.admin, &url, body("2026-03-18")).await;
    assert_eq!((r.status, r.reason()), (409, "in_use"));
    assert_eq!(r.body["error"]["details"]["dependents"], json!({"time_entries": 1}));
    // Rows whose range holds no approved time are fine: 02-01..02-28 and 03-21 onwards.
    let feb = o.post(&o.admin, &url, body("2026-02-01")).await;
    assert_eq!(
        (feb.status, feb.body["effective_to"].as_str()),
        (201, Some("2026-02-28"))
    );
    assert_eq!(o.post(&o.admin, &url, body("2026-03-21")).await.status, 201);

    let del = |r: &Value| format!("/api/v1/labor-rates/{}", r["id"].as_str().expect("id"));
    let r = o.delete(&o.admin, &del(&march)).await;
    assert_eq!((r.status, r.reason()), (409, "in_use"));
    assert_eq!(o.delete(&o.member, &del(&feb.body)).await.reason(), "insufficient_role");
    assert_eq!(o.delete(&o.admin, &del(&feb.body)).await.status, 204);
    assert_eq!(o.delete(&o.admin, &del(&jan)).await.status, 204);
    assert_eq!(o.get(&o.viewer, &del(&jan)).await.status, 404);
}

#[tokio::test]
async fn labor_rate_writes_need_an_unrestricted_admin_and_valid_fields() {
    let o = crate::support::org().await;
    let url = o.org_path("/labor-rates");
    let good = json!({"user_id": o.user(OrgRole::Member), "hourly_rate_cents": 100, "effective_from": "2026-01-01"});
    let r = o.post(&o.member, &url, good.clone()).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let req = json!({"hourly_rate_cents": 0, "effective_from": "2026-1-1", "effective_to": "2026-02-01", "note": "x"});
    let r = o.post(&o.admin, &url, req).await;
    assert_eq!(
        *r.fields(),
        json!({"user_id": "required", "hourly_rate_cents": "out_of_range", "effective_from": "invalid_format", "effective_to": "immutable"})
    );
    let outsider = o
        .mock
        .with_store(|s| s.users.values().find(|u| u.email == "owner@globex.test").map(|u| u.id));
    let req = json!({"user_id": outsider, "hourly_rate_cents": 100, "effective_from": "2026-01-01"});
    let r = o.post(&o.admin, &url, req).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o.post(&o.other, &url, good.clone()).await;
    assert_eq!(r.status, 404);

    let project = o.project(&o.owner, "WEB").await;
    let key = "alloy_test_restrictedadmin0000000000000000";
    o.restricted_key(OrgRole::Admin, "web", key, project["id"].as_str().expect("id"));
    let r = o.post(key, &url, good).await;
    assert_eq!((r.status, r.reason()), (403, "project_restricted_key"));
    assert_eq!(o.status(key, &url).await, 200);
}

// ----- time report -------------------------------------------------------------------------------

#[tokio::test]
async fn the_time_report_groups_by_user_with_exact_hours_and_totals() {
    let (o, _) = scenario().await;
    let r = o.get(&o.viewer, &format!("/api/v1/reports/time?{MARCH}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = |role: OrgRole, email: &str, name: &str, minutes: i64, hours: f64, n: i64| json!({"user_id": o.user(role), "email": email, "display_name": name, "minutes": minutes, "hours": hours, "entry_count": n});
    assert_eq!(
        r.body,
        json!({
            "org_id": o.org_id, "from": "2026-03-01", "to": "2026-03-31", "group_by": "user",
            "filters": {"project_id": null, "user_id": null, "team_id": null},
            // 235 min: (23500 + 30) div 60 = 392 → 3.92 h; the submitted 15 min are only reported.
            "totals": {"minutes": 235, "hours": 3.92, "entry_count": 5, "submitted_minutes": 15},
            "rows": [
                user(OrgRole::Member, "member@acme.test", "Member User", 160, 2.67, 3),
                user(OrgRole::Admin, "admin@acme.test", "Admin User", 45, 0.75, 1),
                user(OrgRole::Owner, "owner@acme.test", "Olivia Owner", 30, 0.5, 1),
            ],
        })
    );
}

#[tokio::test]
async fn the_time_report_groups_by_project_ticket_day_and_team() {
    let (o, p) = scenario().await;
    let r = grouped(&o, "project").await;
    let proj = |key: &str, name: &str, minutes: i64, hours: f64, n: i64| json!({"project_id": p[key], "project_key": key, "project_name": name, "minutes": minutes, "hours": hours, "entry_count": n});
    assert_eq!(
        rows(&r),
        vec![
            proj("WEB", "Web \"Core\", Inc.", 140, 2.33, 2),
            proj("OPS", "Operations", 45, 0.75, 1),
            proj("MISC", "Misc", 30, 0.5, 1),
            proj("RND", "Research", 20, 0.33, 1),
        ]
    );
    let r = grouped(&o, "ticket").await;
    let keys: Vec<(Value, Value, Value)> = rows(&r)
        .iter()
        .map(|x| (x["ticket_key"].clone(), x["ticket_title"].clone(), x["minutes"].clone()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (json!("WEB-1"), json!("WEB work"), json!(140)),
            (json!("OPS-1"), json!("OPS work"), json!(45)),
            (json!("MISC-1"), json!("MISC work"), json!(30)),
            (json!("RND-1"), json!("RND work"), json!(20)),
        ]
    );
    assert_eq!(rows(&r)[0]["project_id"], p["WEB"]);
    let r = grouped(&o, "day").await;
    assert_eq!(
        rows(&r),
        vec![
            json!({"date": "2026-03-05", "minutes": 45, "hours": 0.75, "entry_count": 1}),
            json!({"date": "2026-03-10", "minutes": 90, "hours": 1.5, "entry_count": 1}),
            json!({"date": "2026-03-12", "minutes": 30, "hours": 0.5, "entry_count": 1}),
            json!({"date": "2026-03-20", "minutes": 50, "hours": 0.83, "entry_count": 1}),
            json!({"date": "2026-03-25", "minutes": 20, "hours": 0.33, "entry_count": 1}),
        ]
    );

    // The Admin is in both teams, so team rows sum above the totals; the Owner is in none.
    let core = team(&o, "Core", &[OrgRole::Member, OrgRole::Admin]).await;
    let ops = team(&o, "Ops", &[OrgRole::Admin]).await;
    let r = grouped(&o, "team").await;
    assert_eq!(
        rows(&r),
        vec![
            // 160 + 45 = 205 min: (20500 + 30) div 60 = 342 → 3.42 h.
            json!({"team_id": core, "team_name": "Core", "minutes": 205, "hours": 3.42, "entry_count": 4}),
            json!({"team_id": ops, "team_name": "Ops", "minutes": 45, "hours": 0.75, "entry_count": 1}),
            json!({"team_id": null, "team_name": null, "minutes": 30, "hours": 0.5, "entry_count": 1}),
        ]
    );
    let r = o
        .get(&o.viewer, &format!("/api/v1/reports/time?{MARCH}&team_id={ops}"))
        .await;
    assert_eq!(
        r.body["totals"],
        json!({"minutes": 45, "hours": 0.75, "entry_count": 1, "submitted_minutes": 0})
    );
    assert_eq!(r.body["filters"]["team_id"], json!(ops));
}

#[tokio::test]
async fn the_time_report_filters_defaults_its_period_and_rejects_bad_queries() {
    let (o, p) = scenario().await;
    let report = format!(
        "/api/v1/reports/time?{MARCH}&project_id=web&user_id={}",
        o.user(OrgRole::Member)
    );
    let r = o.get(&o.viewer, &report).await;
    assert_eq!(
        r.body["totals"],
        json!({"minutes": 140, "hours": 2.33, "entry_count": 2, "submitted_minutes": 15})
    );
    assert_eq!(r.body["filters"]["project_id"], p["WEB"]);
    let r = o
        .get(&o.viewer, &format!("/api/v1/reports/time?{MARCH}&project_id=NOPE"))
        .await;
    assert_eq!((r.body["totals"]["entry_count"].as_i64(), rows(&r).len()), (Some(0), 0));

    // `to` defaults to today (2026-04-01) and `from` to the first of its month.
    let r = o.get(&o.viewer, "/api/v1/reports/time").await;
    assert_eq!(
        (r.body["from"].as_str(), r.body["to"].as_str()),
        (Some("2026-04-01"), Some("2026-04-01"))
    );
    let r = o.get(&o.viewer, "/api/v1/reports/time?to=2026-02-28").await;
    assert_eq!(r.body["from"], "2026-02-01");
    assert_eq!(r.body["totals"]["minutes"], 60);

    for q in [
        "from=2026-03-02&to=2026-03-01",
        "group_by=week",
        "to=yesterday",
        "user_id=42",
    ] {
        let r = o.get(&o.viewer, &format!("/api/v1/reports/time?{q}")).await;
        assert_eq!((r.status, r.code()), (400, "bad_request"), "{q}");
    }
    let r = o
        .get(&o.other, &format!("/api/v1/reports/time?org_id={}", o.org_id))
        .await;
    assert_eq!(r.status, 404);
}

// ----- capitalization ----------------------------------------------------------------------------

#[tokio::test]
async fn the_capitalization_report_splits_capex_and_opex_with_warnings_and_amortization() {
    let (o, p) = scenario().await;
    let r = o
        .get(&o.viewer, &format!("/api/v1/reports/capitalization?{MARCH}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    #[allow(clippy::too_many_arguments)]
    let proj = |key: &str,
                name: &str,
                ty: Value,
                phase: Value,
                cc: Value,
                class: &str,
                months: Value,
                m: (i64, f64),
                money: (i64, i64, i64),
                monthly: Value| {
        json!({
            "project_id": p[key], "project_key": key, "project_name": name, "capitalization_type": ty,
            "development_phase": phase, "cost_center_id": cc, "classification": class, "amortization_months": months,
            "minutes": m.0, "hours": m.1, "cost_cents": money.0, "capex_cents": money.1, "opex_cents": money.2,
            "monthly_amortization_cents": monthly,
        })
    };
    let null = Value::Null;
    assert_eq!(
        r.body,
        json!({
            "org_id": o.org_id, "from": "2026-03-01", "to": "2026-03-31",
            "filters": {"project_id": null, "cost_center_id": null},
            // 18000 + 12500 + 6773 + 0 + 5000 = 42273; capex = WEB only = 30500.
            "totals": {"minutes": 235, "hours": 3.92, "cost_cents": 42273, "capex_cents": 30500, "opex_cents": 11773},
            "projects": [
                proj("MISC", "Misc", null.clone(), null.clone(), null.clone(), "Opex", null.clone(), (30, 0.5), (0, 0, 0), null.clone()),
                proj("OPS", "Operations", json!("Opex"), null.clone(), json!("FIN-002"), "Opex", null.clone(), (45, 0.75), (6773, 0, 6773), null.clone()),
                proj("RND", "Research", json!("Capex"), null.clone(), json!("ENG-001"), "Opex", null.clone(), (20, 0.33), (5000, 0, 5000), null.clone()),
                // 30500 / 36 = 847.2 → 847.
                proj("WEB", "Web \"Core\", Inc.", json!("Capex"), json!("AppDevelopment"), json!("ENG-001"), "Capex", json!(36), (140, 2.33), (30500, 30500, 0), json!(847)),
            ],
            "cost_centers": [
                {"cost_center_id": "ENG-001", "minutes": 160, "hours": 2.67, "cost_cents": 35500, "capex_cents": 30500, "opex_cents": 5000},
                {"cost_center_id": "FIN-002", "minutes": 45, "hours": 0.75, "cost_cents": 6773, "capex_cents": 0, "opex_cents": 6773},
                {"cost_center_id": null, "minutes": 30, "hours": 0.5, "cost_cents": 0, "capex_cents": 0, "opex_cents": 0},
            ],
            "warnings": [
                {"kind": "missing_labor_rate", "project_id": null, "user_id": o.user(OrgRole::Owner), "entry_count": 1},
                {"kind": "unclassified_project", "project_id": p["MISC"], "user_id": null, "entry_count": 1},
                {"kind": "missing_development_phase", "project_id": p["RND"], "user_id": null, "entry_count": 1},
            ],
        })
    );
    let report = format!("/api/v1/reports/capitalization?{MARCH}&cost_center_id=ENG-001");
    let r = o.get(&o.member, &report).await;
    assert_eq!(
        r.body["totals"],
        json!({"minutes": 160, "hours": 2.67, "cost_cents": 35500, "capex_cents": 30500, "opex_cents": 5000})
    );
    assert_eq!(
        r.body["filters"],
        json!({"project_id": null, "cost_center_id": "ENG-001"})
    );
    assert_eq!(r.body["warnings"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_project_restricted_key_gets_reports_and_csv_filtered_to_its_projects() {
    let (o, p) = scenario().await;
    let viewer: uuid::Uuid = o.user(OrgRole::Viewer).parse().expect("uuid");
    let web = p["WEB"].as_str().and_then(|s| s.parse().ok()).expect("uuid");
    let key = "alloy_test_webviewer000000000000000000000";
    o.mock.with_store(|s| {
        let org = o.org_id.parse().expect("uuid");
        s.insert_api_key(org, viewer, "web", key, vec![ApiKeyScope::Read], vec![web], None)
    });
    let r = o.get(key, &format!("/api/v1/reports/capitalization?{MARCH}")).await;
    assert_eq!(
        r.body["totals"],
        json!({"minutes": 140, "hours": 2.33, "cost_cents": 30500, "capex_cents": 30500, "opex_cents": 0})
    );
    assert_eq!(r.body["warnings"], json!([]));
    let r = o.get(key, &format!("/api/v1/reports/time?{MARCH}")).await;
    assert_eq!(
        r.body["totals"],
        json!({"minutes": 140, "hours": 2.33, "entry_count": 2, "submitted_minutes": 15})
    );
    let r = o
        .get(key, &format!("/api/v1/reports/capitalization/export?{MARCH}"))
        .await;
    assert_eq!(r.text.matches("\r\n").count(), 3, "{}", r.text);
}

#[tokio::test]
async fn the_capitalization_csv_is_rfc_4180_byte_for_byte() {
    let (o, p) = scenario().await;
    let report = format!("/api/v1/reports/capitalization/export?{MARCH}&project_id=WEB");
    let r = o.get(&o.viewer, &report).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let header = |n: &str| r.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"alloy-capitalization-2026-03-01-2026-03-31.csv\""
    );
    let entries = o
        .every(
            &o.viewer,
            "/api/v1/time-entries?project_id=WEB&status=Approved&from=2026-03-01",
        )
        .await;
    // Newest first in the list; the CSV is oldest first.
    let (e20, e10) = (
        entries[0]["id"].as_str().expect("id"),
        entries[1]["id"].as_str().expect("id"),
    );
    let (web, member) = (p["WEB"].as_str().expect("id"), o.user(OrgRole::Member));
    let expected = format!(
        "entry_id,date,period,project_id,project_key,project_name,cost_center_id,capitalization_type,development_phase,classification,user_id,user_email,ticket_key,minutes,hours,hourly_rate_cents,cost_cents,capex_cents,opex_cents,amortization_months\r\n\
         {e10},2026-03-10,2026-03,{web},WEB,\"Web \"\"Core\"\", Inc.\",ENG-001,Capex,AppDevelopment,Capex,{member},member@acme.test,WEB-1,90,1.50,12000,18000,18000,0,36\r\n\
         {e20},2026-03-20,2026-03,{web},WEB,\"Web \"\"Core\"\", Inc.\",ENG-001,Capex,AppDevelopment,Capex,{member},member@acme.test,WEB-1,50,0.83,15000,12500,12500,0,36\r\n"
    );
    assert_eq!(r.text, expected);

    // The whole period: ordered by date; no rate = empty rate field and zero cost; nulls empty.
    let r = o
        .get(&o.viewer, &format!("/api/v1/reports/capitalization/export?{MARCH}"))
        .await;
    let lines: Vec<&str> = r.text.split("\r\n").collect();
    assert_eq!(lines.len(), 7, "header + 5 rows + the empty tail after the last CRLF");
    let keys: Vec<&str> = lines[1..6].iter().map(|l| l.split(',').nth(4).unwrap_or("")).collect();
    assert_eq!(keys, vec!["OPS", "WEB", "MISC", "WEB", "RND"]);
    let misc = lines[3].split(',').collect::<Vec<_>>();
    assert_eq!(&misc[6..10], &["", "", "", "Opex"]);
    assert_eq!(&misc[13..], &["30", "0.50", "", "0", "0", "0", ""]);
    assert_eq!(lines[1].split(',').nth(16), Some("6773"));

    // No data still gives the header row.
    let r = o
        .get(
            &o.viewer,
            "/api/v1/reports/capitalization/export?from=2020-01-01&to=2020-01-31",
        )
        .await;
    assert_eq!(r.text.matches("\r\n").count(), 1);
    assert!(r.text.starts_with("entry_id,date,period,"));
}
