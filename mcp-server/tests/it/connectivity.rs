//! `ping` and `whoami`, and the stdio lifecycle around them.

use crate::support::{Launch, key_of, spawn_seeded_stack, spawn_stack, spawn_stack_as, spawn_stack_with};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{Fault, FaultKind};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn ping_reports_the_server_the_api_health_and_the_identity() {
    let mut s = spawn_stack().await;
    let v = s.call_ok("ping", json!({})).await;
    assert_eq!(v["pong"], json!(true));
    assert_eq!(
        v["server"],
        json!({"name": "alloy-mcp", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(v["api_reachable"], json!(true));
    assert_eq!(v["api"]["status"], json!("ok"), "{v}");
    assert_eq!(v["identity"]["email"], json!("owner@acme.test"));
    assert_eq!(v["identity"]["role"], json!("Owner"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_never_fails_and_reports_what_it_could_not_reach() {
    let mut s = spawn_stack().await;
    let _down = s.api.mock.fault(Fault::new(FaultKind::DropConnection)).await;
    let v = s.call_ok("ping", json!({})).await;
    assert_eq!(v["api_reachable"], json!(false), "{v}");
    assert_eq!(v["api"], json!(null));
    assert_eq!(v["identity"], json!(null));
}

#[tokio::test(flavor = "multi_thread")]
async fn whoami_returns_the_identity_of_the_key_in_use() {
    let mut s = spawn_stack_as(OrgRole::Reporter).await;
    let v = s.call_ok("whoami", json!({})).await;
    assert_eq!(
        v,
        json!({
            "user_id": s.api.user(OrgRole::Reporter),
            "org_id": s.api.org_id,
            "email": "reporter@acme.test",
            "role": "Reporter",
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn whoami_reports_an_api_rejection_as_an_error_result() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::Status(500)).path("/api/v1/auth/me");
    let _f = s.api.mock.fault(fault).await;
    s.call_err_code("whoami", json!({}), 500, "internal").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_piped_initialize_line_is_answered_and_the_process_exits_zero_at_end_of_input() {
    let s = spawn_stack_with(Launch::default().initialize(None)).await;
    let mut mcp = s.mcp;
    mcp.send_raw(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}"#,
    )
    .await;
    let (status, out, stderr) = mcp.close().await;
    assert!(status.success(), "exit {status:?}; stderr:\n{stderr}");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["id"], json!(1));
    assert_eq!(out[0]["result"]["protocolVersion"], json!("2024-11-05"));
    assert!(
        !stderr.contains(&key_of(OrgRole::Owner)),
        "the token leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_in_flight_when_input_closes_is_still_answered() {
    let s = spawn_stack().await;
    let mut mcp = s.mcp;
    mcp.send_raw(r#"{"jsonrpc":"2.0","id":"last","method":"tools/call","params":{"name":"whoami","arguments":{}}}"#)
        .await;
    let (status, out, stderr) = mcp.close().await;
    assert!(status.success(), "{stderr}");
    assert!(
        out.iter()
            .any(|m| m["id"] == json!("last") && m["result"]["isError"] == json!(false)),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_works_against_the_bundled_seed() {
    let mut s = spawn_seeded_stack(Launch::default().role(OrgRole::Member)).await;
    let me = s.call_ok("whoami", json!({})).await;
    assert_eq!(me["role"], json!("Member"));
    let page = s.call_ok("search_tickets", json!({"limit": 5})).await;
    assert!(page["items"].as_array().is_some_and(|i| !i.is_empty()), "{page}");
}
