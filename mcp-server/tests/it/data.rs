//! `export_data` and `import_data`: exports of the org and of projects, imports through the
//! tool (dry run and real), an export → import round trip, and the failures.

use crate::support::{Launch, names_in, spawn_seeded_stack, spawn_stack, spawn_stack_as};
use alloy_mock_api::model::OrgRole;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn export_data_exports_the_whole_org_by_default() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let b = s.call_ok("export_data", json!({})).await;
    assert_eq!(b["format"], json!("alloy-export"));
    assert_eq!(b["version"], json!(1));
    assert_eq!(b["source"]["org_slug"], json!("acme"));
    assert_eq!(b["scope"], json!({"project_ids": null, "include_activity": true}));
    let keys = names_in(&b["projects"], "key");
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(!b["activity"].as_array().expect("activity").is_empty());
    assert!(s.api.last_query("/api/v1/export").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn export_data_sends_project_ids_as_a_comma_separated_project_id() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let args = json!({"project_ids": ["web", "OPS"], "include_activity": false});
    let b = s.call_ok("export_data", args).await;
    let mut keys = names_in(&b["projects"], "key");
    keys.sort_unstable();
    assert_eq!(keys, ["OPS", "WEB"]);
    assert_eq!(b["scope"]["include_activity"], json!(false));
    assert_eq!(b["activity"], json!([]));
    assert_eq!(b["teams"], json!([]));
    let q = s.api.last_query("/api/v1/export");
    assert_eq!(q["project_id"], "web,OPS");
    assert_eq!(q["include_activity"], "false");
    assert!(!q.contains_key("project_ids"));
}

#[tokio::test(flavor = "multi_thread")]
async fn export_data_reports_a_member_as_forbidden() {
    let mut s = spawn_stack_as(OrgRole::Member).await;
    s.call_err_reason("export_data", json!({}), 403, "insufficient_role")
        .await;
    let e = s.call_invalid("export_data", json!({"project_ids": ["WEB-1"]})).await;
    assert!(
        e["data"]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("project_ids")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_then_dry_run_import_into_the_same_org_skips_every_row() {
    let mut s = spawn_seeded_stack(Launch::default()).await;
    let bundle = s.call_ok("export_data", json!({"project_ids": ["WEB"]})).await;
    let tickets = bundle["tickets"].as_array().expect("tickets").len();
    let r = s
        .call_ok("import_data", json!({"bundle": bundle, "dry_run": true}))
        .await;
    assert_eq!(r["dry_run"], json!(true));
    assert_eq!(r["on_conflict"], json!("skip"));
    assert_eq!(r["conflicts"], json!([]));
    assert_eq!(
        r["counts"]["projects"],
        json!({"created": 0, "updated": 0, "skipped": 1})
    );
    assert_eq!(r["counts"]["tickets"]["skipped"], json!(tickets));
    let sent = s.api.first_to("/api/v1/import");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.query, [("dry_run".to_string(), "true".to_string())]);
    assert_eq!(sent.body.as_ref(), Some(&bundle), "the bundle is the body, unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_project_comes_back_through_export_and_import() {
    let mut s = spawn_stack().await;
    s.api.ticket("Survive the round trip").await;
    let bundle = s.call_ok("export_data", json!({"project_ids": ["WEB"]})).await;
    s.call_ok("delete_project", json!({"project_id": "WEB"})).await;
    let org = s.api.org_id.clone();
    let args = json!({"bundle": bundle, "on_conflict": "fail", "dry_run": true});
    let dry = s.call_ok("import_data", args).await;
    assert_eq!(dry["counts"]["projects"]["created"], json!(1), "{dry}");
    assert_eq!(dry["counts"]["tickets"]["created"], json!(1), "{dry}");
    let e = s.call_err("get_project", json!({"project_id": "WEB"})).await;
    assert_eq!(e["status"], json!(404), "a dry run writes nothing");
    let done = s
        .call_ok("import_data", json!({"bundle": bundle, "on_conflict": "fail"}))
        .await;
    assert_eq!(done["dry_run"], json!(false));
    assert_eq!(done["org_id"], json!(org));
    let p = s.call_ok("get_project", json!({"project_id": "WEB"})).await;
    assert_eq!(p["id"], bundle["projects"][0]["id"]);
    let t = s.call_ok("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(t["title"], json!("Survive the round trip"));
    let q = s.api.last_query("/api/v1/import");
    assert_eq!(q["on_conflict"], "fail");
    assert!(!q.contains_key("dry_run") && !q.contains_key("org_id"), "{q:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_data_reports_existing_rows_as_conflicts_when_asked_to_fail() {
    let mut s = spawn_stack().await;
    let bundle = s.call_ok("export_data", json!({})).await;
    let args = json!({"bundle": bundle, "on_conflict": "fail"});
    let e = s.call_err_reason("import_data", args, 409, "import_conflicts").await;
    assert!(
        e["error"]["details"]["conflicts"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_data_reports_a_foreign_document_and_refuses_a_missing_bundle() {
    let mut s = spawn_stack().await;
    let args = json!({"bundle": {"format": "csv", "version": 1}});
    s.call_err_code("import_data", args, 400, "validation_error").await;
    for (args, field) in [
        (json!({"dry_run": true}), "bundle"),
        (json!({"bundle": [], "dry_run": true}), "bundle"),
        (json!({"bundle": {}, "on_conflict": "merge"}), "on_conflict"),
    ] {
        s.call_invalid_field("import_data", args, field).await;
    }
    assert_eq!(s.api.requests("/api/v1/import").len(), 1);
}
