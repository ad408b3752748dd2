//! The five finance tools: the time-entry lifecycle (log → submit → approve → reports), the
//! reports and the CSV against the mock and the seed, and their failures as `isError` results
//! with the API's status and reason.

use crate::support::{Launch, Mcp, Stack, one_call_tests, spawn_seeded_stack, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A second server process on the same mock, acting with another role's key.
async fn second_server(s: &Stack, role: OrgRole) -> Mcp {
    Mcp::spawn(&s.api.mock.base_url(), &Launch::default().role(role)).await
}

/// Logs `minutes` on WEB-1 for the Owner through the API (setup); returns the entry.
async fn owner_entry(s: &Stack, minutes: u32) -> Value {
    s.api
        .create("/api/v1/tickets/WEB-1/time-entries", json!({"minutes": minutes}))
        .await
}

/// The text content of a tool answer.
fn text_of(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {answer}"))
        .to_string()
}

/// Makes WEB capitalizable (Capex, AppDevelopment, cost center `ENG-001`, 24 months) and gives
/// the Owner a labor rate of 120.00 per hour (setup).
async fn capitalize_web(s: &Stack) {
    let capex = json!({
        "capitalization_type": "Capex",
        "development_phase": "AppDevelopment",
        "cost_center_id": "ENG-001",
        "amortization_months": 24,
    });
    s.api
        .send_expect("PATCH", "/api/v1/projects/WEB", Some(capex), 200)
        .await;
    let rate = json!({
        "user_id": s.api.user(OrgRole::Owner),
        "hourly_rate_cents": 12000,
        "effective_from": "2026-01-01",
    });
    s.api
        .create(&format!("/api/v1/orgs/{}/labor-rates", s.api.org_id), rate)
        .await;
}

/// Logs, submits and approves `minutes` on WEB-1 for the Owner through the MCP server.
async fn approved_entry(s: &mut Stack, minutes: u32) -> Value {
    let e = s
        .call_ok("log_time", json!({"ticket_id": "WEB-1", "minutes": minutes}))
        .await;
    s.call_ok("submit_time_entry", json!({"time_entry_id": e["id"]})).await;
    s.call_ok("approve_time_entry", json!({"time_entry_id": e["id"]})).await
}

#[tokio::test(flavor = "multi_thread")]
async fn time_logged_submitted_and_approved_by_an_admin_shows_up_in_the_time_report() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.api.ticket("Build the cart").await;
    let member = s.api.user(OrgRole::Member);
    let admin = s.api.user(OrgRole::Admin);

    let logged = s.call_ok("log_time", json!({"ticket_id": "WEB-1", "hours": 1.5})).await;
    assert_eq!(logged["status"], json!("Draft"));
    assert_eq!(logged["user_id"], json!(member));
    let id = logged["id"].as_str().expect("id").to_string();

    let submitted = s.call_ok("submit_time_entry", json!({"time_entry_id": id})).await;
    assert_eq!(submitted["status"], json!("Submitted"));
    assert!(submitted["submitted_at"].is_string(), "{submitted}");

    let report = s.call_ok("get_time_report", json!({})).await;
    assert_eq!(
        report["totals"]["minutes"],
        json!(0),
        "Submitted time is not counted: {report}"
    );
    assert_eq!(report["totals"]["submitted_minutes"], json!(90));
    assert_eq!(report["rows"], json!([]));

    let e = s.call_err("approve_time_entry", json!({"time_entry_id": id})).await;
    assert_eq!(e["status"], json!(403), "a Member cannot approve: {e}");
    assert_eq!(e["error"]["details"]["reason"], json!("insufficient_role"));

    let mut admin_mcp = second_server(&s, OrgRole::Admin).await;
    let approved = admin_mcp
        .call_ok("approve_time_entry", json!({"time_entry_id": id}))
        .await;
    assert_eq!(approved["status"], json!("Approved"));
    assert_eq!(approved["approved_by"], json!(admin));
    assert!(approved["approved_at"].is_string(), "{approved}");

    let args = json!({"from": "2026-04-01", "to": "2026-04-01", "group_by": "user"});
    let report = s.call_ok("get_time_report", args).await;
    assert_eq!(report["group_by"], json!("user"));
    assert_eq!(
        report["totals"],
        json!({"minutes": 90, "hours": 1.5, "entry_count": 1, "submitted_minutes": 0}),
        "{report}"
    );
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["user_id"], json!(member));
    assert_eq!(rows[0]["email"], json!("member@acme.test"));
    assert_eq!(rows[0]["minutes"], json!(90));
    assert_eq!(rows[0]["hours"], json!(1.5));

    let listed = s
        .call_ok("list_time_entries", json!({"status": ["Approved"], "detail": "full"}))
        .await;
    assert_eq!(listed["items"], json!([approved]));
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_time_entry_reports_a_draft_as_unprocessable() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    let e = s
        .call_ok("log_time", json!({"ticket_id": "WEB-1", "minutes": 30}))
        .await;
    let args = json!({"time_entry_id": e["id"]});
    let err = s
        .call_err_reason("approve_time_entry", args, 422, "invalid_state")
        .await;
    assert_eq!(err["error"]["details"]["state"], json!("Draft"));
    assert_eq!(err["error"]["details"]["expected"], json!(["Submitted"]));
    let still = s.call_ok("get_time_entry", json!({"time_entry_id": e["id"]})).await;
    assert_eq!(still["status"], json!("Draft"));
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_time_entry_posts_without_a_body_and_reports_repeats_and_strangers() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.api.ticket("Build the cart").await;
    let e = s
        .call_ok("log_time", json!({"ticket_id": "WEB-1", "minutes": 30}))
        .await;
    let id = e["id"].as_str().expect("id");
    let path = format!("/api/v1/time-entries/{id}/submit");
    let submitted = s.call_ok("submit_time_entry", json!({"time_entry_id": id})).await;
    assert_eq!(submitted["status"], json!("Submitted"));
    assert_eq!(s.api.requests(&path), vec![("POST".to_string(), path.clone())]);

    s.call_err_reason("submit_time_entry", json!({"time_entry_id": id}), 422, "invalid_state")
        .await;

    let owners = owner_entry(&s, 20).await;
    let args = json!({"time_entry_id": owners["id"]});
    s.call_err_reason("submit_time_entry", args, 403, "not_owner").await;

    s.call_invalid_field("submit_time_entry", json!({"time_entry_id": "nope"}), "time_entry_id")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_time_report_passes_its_filters_and_reports_a_reversed_period() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    approved_entry(&mut s, 45).await;
    let owner = s.api.user(OrgRole::Owner);
    let args =
        json!({"from": "2026-03-01", "to": "2026-04-01", "group_by": "project", "project_id": "WEB", "user_id": owner});
    let report = s.call_ok("get_time_report", args).await;
    assert_eq!(report["from"], json!("2026-03-01"));
    assert_eq!(report["to"], json!("2026-04-01"));
    assert_eq!(report["rows"][0]["project_key"], json!("WEB"), "{report}");
    assert_eq!(report["rows"][0]["minutes"], json!(45));
    let q = s.api.last_query("/api/v1/reports/time");
    assert_eq!(q["group_by"], "project");
    assert_eq!(q["project_id"], "WEB");
    assert_eq!(q["user_id"], owner);
    assert_eq!(q.get("org_id"), None, "org_id is sent only when given");

    let args = json!({"from": "2026-04-01", "to": "2026-03-01"});
    s.call_err_reason("get_time_report", args, 400, "invalid_query").await;
    s.call_invalid_field("get_time_report", json!({"group_by": "week"}), "group_by")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_time_report_totals_the_seeded_approved_time_by_project() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let args = json!({"from": "2026-02-01", "to": "2026-04-01", "group_by": "project"});
    let report = s.call_ok("get_time_report", args).await;
    assert_eq!(
        report["totals"]["entry_count"],
        json!(10),
        "the seed's Approved entries: {report}"
    );
    let rows = report["rows"].as_array().expect("rows");
    let sum: i64 = rows.iter().map(|r| r["minutes"].as_i64().expect("minutes")).sum();
    assert_eq!(json!(sum), report["totals"]["minutes"]);
    let count: i64 = rows.iter().map(|r| r["entry_count"].as_i64().expect("count")).sum();
    assert_eq!(count, 10);
    assert!(
        rows.windows(2)
            .all(|w| w[0]["minutes"].as_i64() >= w[1]["minutes"].as_i64()),
        "most minutes first: {report}"
    );
    assert!(rows.iter().all(|r| r["project_key"].is_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn get_capitalization_report_costs_approved_time_and_splits_capex() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    capitalize_web(&s).await;
    approved_entry(&mut s, 90).await;
    let report = s
        .call_ok("get_capitalization_report", json!({"cost_center_id": "ENG-001"}))
        .await;
    assert_eq!(
        report["totals"],
        json!({"minutes": 90, "hours": 1.5, "cost_cents": 18000, "capex_cents": 18000, "opex_cents": 0}),
        "{report}"
    );
    let project = &report["projects"][0];
    assert_eq!(project["project_key"], json!("WEB"));
    assert_eq!(project["classification"], json!("Capex"));
    assert_eq!(project["monthly_amortization_cents"], json!(750));
    assert_eq!(report["cost_centers"][0]["cost_center_id"], json!("ENG-001"));
    assert_eq!(report["warnings"], json!([]));
    let q = s.api.last_query("/api/v1/reports/capitalization");
    assert_eq!(
        q,
        BTreeMap::from([("cost_center_id".to_string(), "ENG-001".to_string())])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_and_the_csv_check_the_project_first_and_refuse_bad_dates() {
    let mut s = spawn_stack().await;
    for tool in [
        "get_time_report",
        "get_capitalization_report",
        "get_capitalization_export",
    ] {
        let e = s.call_err(tool, json!({"project_id": "WBE"})).await;
        assert_eq!(
            e["status"],
            json!(404),
            "{tool}: an unknown key is not an empty report: {e}"
        );
        assert_eq!(e["error"]["details"]["resource"], json!("project"), "{tool}: {e}");
    }
    assert!(s.api.requests("/api/v1/reports").is_empty(), "no report is asked for");
    assert_eq!(s.api.requests("/api/v1/projects/WBE").len(), 3);
    s.call_invalid_field("get_capitalization_report", json!({"from": "April 1st"}), "from")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_capitalization_export_returns_the_csv_text() {
    let mut s = spawn_stack().await;
    s.api.ticket("Build the cart").await;
    capitalize_web(&s).await;
    let approved = approved_entry(&mut s, 90).await;
    let args = json!({"from": "2026-04-01", "to": "2026-04-01", "project_id": "WEB"});
    let answer = s.call("get_capitalization_export", args).await;
    assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
    let csv = text_of(&answer);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "header and one row: {csv:?}");
    assert!(
        lines[0].starts_with("entry_id,date,period,project_id,project_key"),
        "{csv:?}"
    );
    let id = approved["id"].as_str().expect("id");
    assert!(lines[1].starts_with(&format!("{id},2026-04-01,2026-04,")), "{csv:?}");
    assert!(lines[1].contains(",90,1.50,12000,18000,18000,0,24"), "{csv:?}");
    let q = s.api.last_query("/api/v1/reports/capitalization/export");
    assert_eq!(q["project_id"], "WEB");
    assert_eq!(q["from"], "2026-04-01");
}

one_call_tests! {
    get_capitalization_export_reports_a_reversed_period:
        as Owner, "get_capitalization_export" {"from": "2026-04-01", "to": "2026-03-01"} => call_err_reason(400, "invalid_query");
}
