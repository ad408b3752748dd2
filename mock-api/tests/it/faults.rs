//! Scoped fault injection: each kind of fault, `times(n)`, matching rules, and guards that end
//! exactly their own fault in any order, also after the mock has served requests.

use crate::support::spawn_as;
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{Fault, FaultKind};
use std::time::Duration;

#[tokio::test]
async fn a_status_fault_answers_with_the_envelope_and_dropping_its_guard_restores_the_api() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-1").await, 200);
    let guard = api
        .fault(Fault::new(FaultKind::Status(503)).path_prefix("/api/v1/tickets"))
        .await;
    let r = api.get(&key, "/api/v1/tickets/WEB-1").await;
    assert_eq!((r.status, r.code()), (503, "unavailable"));
    assert_eq!(
        api.status(&key, "/api/v1/projects/WEB").await,
        200,
        "other paths are untouched"
    );
    drop(guard);
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-1").await, 200);
    assert_eq!(api.status(&key, "/api/v1/projects/WEB").await, 200);
}

#[tokio::test]
async fn guards_end_only_their_own_fault_whatever_the_order() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let a = api
        .fault(Fault::new(FaultKind::Status(500)).path("/api/v1/tickets/WEB-1"))
        .await;
    let b = api
        .fault(
            Fault::new(FaultKind::Status(502))
                .method("GET")
                .path_prefix("/api/v1/projects"),
        )
        .await;
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-1").await, 500);
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-2").await, 200, "exact path only");
    assert_eq!(api.status(&key, "/api/v1/projects/WEB").await, 502);
    drop(a);
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-1").await, 200);
    assert_eq!(api.status(&key, "/api/v1/projects/WEB").await, 502);
    drop(b);
    assert_eq!(api.status(&key, "/api/v1/projects/WEB").await, 200);
}

#[tokio::test]
async fn a_fault_limited_by_times_hits_that_many_requests_then_the_api_answers() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let _g = api
        .fault(Fault::new(FaultKind::RateLimited { retry_after: 7 }).times(2))
        .await;
    for _ in 0..2 {
        let r = api.get(&key, "/api/v1/auth/me").await;
        assert_eq!((r.status, r.code()), (429, "rate_limited"));
        assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    }
    assert_eq!(api.status(&key, "/api/v1/auth/me").await, 200);
}

#[tokio::test]
async fn a_malformed_body_fault_answers_200_with_text_that_is_not_json() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let _g = api.fault(Fault::new(FaultKind::MalformedBody)).await;
    let r = api.get(&key, "/api/v1/projects").await;
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_dropped_connection_fault_closes_the_socket_and_the_mock_keeps_serving() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let g = api.fault(Fault::new(FaultKind::DropConnection).times(1)).await;
    let err = api
        .http
        .get(api.url("/api/v1/auth/me"))
        .bearer_auth(&key)
        .send()
        .await
        .expect_err("the connection is dropped without a response");
    assert!(!err.is_timeout(), "{err}");
    drop(g);
    assert_eq!(api.status(&key, "/api/v1/auth/me").await, 200);
    let journal = api.mock.journal();
    assert!(
        journal.iter().any(|e| e.status.is_none()),
        "the dropped request is journaled without a status"
    );
}

#[tokio::test]
async fn a_delay_fault_holds_the_real_answer_back() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let _g = api
        .fault(Fault::new(FaultKind::Delay(Duration::from_secs(30))).path("/api/v1/auth/me"))
        .await;
    // A client deadline far below the delay must expire; the margin makes this robust on a slow machine.
    let err = api
        .http
        .get(api.url("/api/v1/auth/me"))
        .bearer_auth(&key)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("the answer is held back");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        api.status(&key, "/api/v1/projects/WEB").await,
        200,
        "other paths answer at once"
    );
}
