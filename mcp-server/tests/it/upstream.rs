//! Upstream faults: GETs retry on 429/5xx with bounded backoff honouring `Retry-After`, writes
//! never retry, and every failure is an `isError` result with the status and the API's message
//! (or `upstream_unavailable` / `upstream_invalid_response` when there is no usable answer).

use crate::support::{Launch, Mcp, spawn_stack, spawn_stack_with};
use alloy_mock_api::{Fault, FaultKind};
use serde_json::json;
use std::time::{Duration, Instant};

fn count(s: &crate::support::Stack, method: &str, path: &str) -> usize {
    s.api
        .requests(path)
        .iter()
        .filter(|(m, p)| m == method && p == path)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_is_retried_after_a_transient_503() {
    let mut s = spawn_stack().await;
    s.api.ticket("Flaky").await;
    let fault = Fault::new(FaultKind::Status(503))
        .path_prefix("/api/v1/tickets")
        .times(1);
    let _f = s.api.mock.fault(fault).await;
    let t = s.call_ok("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(t["title"], json!("Flaky"));
    assert_eq!(count(&s, "GET", "/api/v1/tickets/WEB-1"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_is_retried_after_a_transient_500_too() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::Status(500)).path("/api/v1/auth/me").times(2);
    let _f = s.api.mock.fault(fault).await;
    let v = s.call_ok("whoami", json!({})).await;
    assert_eq!(v["role"], json!("Owner"));
    assert_eq!(
        count(&s, "GET", "/api/v1/auth/me"),
        1 + 3,
        "startup check, then three attempts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_gives_up_after_three_attempts_and_reports_the_status() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::Status(503)).path_prefix("/api/v1/tickets");
    let _f = s.api.mock.fault(fault).await;
    let e = s
        .call_err_code("get_ticket", json!({"ticket_id": "WEB-1"}), 503, "unavailable")
        .await;
    assert!(e["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(count(&s, "GET", "/api/v1/tickets/WEB-1"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_read_waits_for_retry_after() {
    let mut s = spawn_stack().await;
    s.api.ticket("Busy").await;
    let fault = Fault::new(FaultKind::RateLimited { retry_after: 1 })
        .path_prefix("/api/v1/tickets")
        .times(1);
    let _f = s.api.mock.fault(fault).await;
    let started = Instant::now();
    s.call_ok("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persistent_429_keeps_its_retry_after_details() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::RateLimited { retry_after: 60 }).path_prefix("/api/v1/tickets");
    let _f = s.api.mock.fault(fault).await;
    let started = Instant::now();
    let e = s.call_err("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a wait past the deadline is skipped"
    );
    assert_eq!(e["status"], json!(429));
    assert_eq!(e["error"]["details"]["retry_after_seconds"], json!(60));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_is_never_retried() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::Status(503))
        .method("POST")
        .path("/api/v1/projects/WEB/tickets")
        .times(1);
    let _f = s.api.mock.fault(fault).await;
    s.call_err_status("create_ticket", json!({"project_id": "WEB", "title": "Once"}), 503)
        .await;
    assert_eq!(count(&s, "POST", "/api/v1/projects/WEB/tickets"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_api_becomes_upstream_unavailable_after_the_timeout() {
    let mut s = spawn_stack_with(Launch::default().args(&["--timeout", "1"])).await;
    let fault = Fault::new(FaultKind::Delay(Duration::from_secs(4))).path_prefix("/api/v1/tickets");
    let _f = s.api.mock.fault(fault).await;
    let started = Instant::now();
    let e = s.call_err("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(e["status"], json!(null));
    assert_eq!(e["error"]["code"], json!("upstream_unavailable"));
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("did not answer within"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_becomes_upstream_unavailable() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::DropConnection).path_prefix("/api/v1/tickets");
    let _f = s.api.mock.fault(fault).await;
    let e = s.call_err("search_tickets", json!({})).await;
    assert_eq!(e["error"]["code"], json!("upstream_unavailable"), "{e}");
    assert_eq!(count(&s, "GET", "/api/v1/tickets"), 3, "connection errors are retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_success_answer_that_is_not_json_becomes_upstream_invalid_response() {
    let mut s = spawn_stack().await;
    let fault = Fault::new(FaultKind::MalformedBody).path_prefix("/api/v1/tickets");
    let _f = s.api.mock.fault(fault).await;
    s.call_err_code("search_tickets", json!({}), 200, "upstream_invalid_response")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_keeps_serving_after_upstream_failures() {
    let mut s = spawn_stack().await;
    // `times(3)` (one call's attempts) rather than dropping the guard: wiremock 0.6.5
    // deactivates the wrong mock when a scoped mock is dropped after requests were served.
    let _f = s.api.mock.fault(Fault::new(FaultKind::Status(500)).times(3)).await;
    s.call_err("whoami", json!({})).await;
    let v = s.call_ok("whoami", json!({})).await;
    assert_eq!(v["role"], json!("Owner"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_times_out_says_its_outcome_is_unknown_and_how_to_check() {
    let mut s = spawn_stack_with(Launch::default().args(&["--timeout", "1"])).await;
    // The mock creates the ticket, then answers late: the write happened.
    let fault = Fault::new(FaultKind::Delay(Duration::from_secs(3)))
        .method("POST")
        .path_prefix("/api/v1/projects/WEB/tickets");
    let _f = s.api.mock.fault(fault).await;
    let e = s
        .call_err("create_ticket", json!({"project_id": "WEB", "title": "maybe made"}))
        .await;
    assert_eq!(e["status"], json!(null), "{e}");
    assert_eq!(e["error"]["code"], json!("outcome_unknown"), "{e}");
    let message = e["error"]["message"].as_str().expect("message");
    assert!(message.contains("may or may not have been made"), "{message}");
    assert!(message.contains("before trying again"), "{message}");
    assert!(!message.contains("URL may be wrong"), "{message}");
    assert_eq!(
        count(&s, "POST", "/api/v1/projects/WEB/tickets"),
        1,
        "a write is never retried"
    );
}

/// A one-route upstream: `/api/v1/auth/me` answers an identity, everything else answers 200
/// with `size` bytes, streamed without a length.
async fn huge_answer_upstream(size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let identity = br#"{"user_id":"u","org_id":"o","email":"e@x.test","role":"Owner"}"#;
                if head.starts_with(b"GET /api/v1/auth/me ") {
                    let h = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        identity.len()
                    );
                    let _ = tcp.write_all(h.as_bytes()).await;
                    let _ = tcp.write_all(identity).await;
                    return;
                }
                // No length: the client must count while it reads.
                let h = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                if tcp.write_all(h.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    let n = chunk.len().min(size - sent);
                    if tcp.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    sent += n;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_answer_over_the_cap_is_an_error_result_not_a_memory_spike() {
    let url = huge_answer_upstream(200 * 1024 * 1024).await;
    let mut mcp = Mcp::spawn_with_key(&url, "alloy_test_k", &Launch::default()).await;
    let r = mcp.call("get_ticket", json!({"ticket_id": "WEB-1"})).await;
    assert_eq!(r["result"]["isError"], json!(true), "{r}");
    let e = crate::support::parse_text(&r);
    assert_eq!(e["error"]["code"], json!("upstream_too_large"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap_or("").contains("33554432"), "{e}");
}
