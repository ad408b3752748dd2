//! Request ids belong to the inbound pipeline (hardening findings 2 and 9): a request whose id
//! is already in flight in its session is refused with an error carrying that id before
//! anything runs, on every transport, and no POST hangs; any integer id a JSON number can
//! hold is echoed as sent; a malformed notification is never answered; a whole number written
//! as a float is read as the integer it is, and an out-of-range one is refused naming its field.

use crate::http::client::{HttpServer, LegacySession, Session};
use crate::support::{parse_text, spawn_stack};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{Fault, FaultKind, MockAlloy, MockOptions};
use serde_json::{Value, json};
use std::time::Duration;

/// Ticket creation on the seeded mock is slow enough that later copies arrive while the first
/// is in flight.
fn slow_creates() -> Fault {
    Fault::new(FaultKind::Delay(Duration::from_secs(2)))
        .method("POST")
        .path_prefix("/api/v1/projects/WEB/tickets")
}

fn create_ticket(id: i64, title: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "create_ticket", "arguments": {"project_id": "WEB", "title": title}}})
}

/// Of `answers`, exactly one result and the rest -32600 refusals, all carrying `id`.
fn one_result_and_refusals(answers: &[Value], id: i64, copies: usize) {
    assert_eq!(answers.len(), copies, "{answers:?}");
    assert!(answers.iter().all(|a| a["id"] == json!(id)), "{answers:?}");
    let results: Vec<_> = answers.iter().filter(|a| a.get("result").is_some()).collect();
    assert_eq!(results.len(), 1, "one copy runs: {answers:?}");
    assert_eq!(results[0]["result"]["isError"], json!(false), "{answers:?}");
    for refused in answers.iter().filter(|a| a.get("error").is_some()) {
        assert_eq!(refused["error"]["code"], json!(-32600), "{refused}");
        assert!(
            refused["error"]["message"].as_str().unwrap_or("").contains("in flight"),
            "{refused}"
        );
    }
}

fn creates(mock: &MockAlloy) -> usize {
    mock.journal()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/tickets"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_runs_one_of_three_requests_sharing_an_id_and_refuses_the_others() {
    let mut s = spawn_stack().await;
    let _slow = s.api.mock.fault(slow_creates()).await;
    s.api.mock.take_journal();
    for _ in 0..3 {
        s.send_raw(&create_ticket(7, "only once").to_string()).await;
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(s.recv().await);
    }
    one_result_and_refusals(&answers, 7, 3);
    assert_eq!(creates(&s.api.mock), 1, "exactly one ticket was created");
    // Nothing else is owed: the next answer is the ping's.
    let pong = s.request("ping", None).await;
    assert_eq!(pong["result"], json!({}));
    // The id is free again once answered.
    let again = s.call("whoami", json!({})).await;
    assert_eq!(again["result"]["isError"], json!(false));
}

async fn http_stack() -> (MockAlloy, HttpServer) {
    let mock = MockAlloy::start_with(MockOptions::seeded_deterministic())
        .await
        .expect("seeded mock starts");
    let server = HttpServer::start(&mock.base_url(), mock.key(OrgRole::Owner), &[]).await;
    (mock, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn streamable_http_answers_both_posts_sharing_an_id_and_neither_hangs() {
    let (mock, server) = http_stack().await;
    let mut session = Session::new(&server.url("/mcp"), Some(mock.key(OrgRole::Owner)));
    session.initialize("2025-06-18").await;
    let _slow = mock.fault(slow_creates()).await;
    mock.take_journal();
    let id = json!(11);
    let body = create_ticket(11, "once over http").to_string();
    // Both copies arrive while the first of them waits for the slow API.
    let (a, b) = tokio::join!(
        session.post_raw(body.clone(), Some(&id)),
        session.post_raw(body.clone(), Some(&id))
    );
    for answer in [&a, &b] {
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    one_result_and_refusals(&[a.for_id(&id), b.for_id(&id)], 11, 2);
    assert_eq!(creates(&mock), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_sse_answers_every_copy_of_an_id_on_the_stream() {
    let (mock, server) = http_stack().await;
    let mut legacy = LegacySession::connect(&server.url(""), mock.key(OrgRole::Owner)).await;
    legacy.initialize("2024-11-05").await;
    let _slow = mock.fault(slow_creates()).await;
    mock.take_journal();
    for _ in 0..3 {
        let (status, body) = legacy.post(create_ticket(5, "once over sse").to_string()).await;
        assert_eq!(status, 202, "{body}");
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(legacy.next_message().await);
    }
    one_result_and_refusals(&answers, 5, 3);
    assert_eq!(creates(&mock), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_beyond_i64_are_echoed_as_sent_and_malformed_notifications_get_no_answer() {
    let mut s = spawn_stack().await;
    let big = "18446744073709551615";
    s.send_raw(&format!(r#"{{"jsonrpc":"2.0","id":{big},"method":"ping"}}"#))
        .await;
    let pong = s.recv().await;
    assert_eq!(pong["id"], json!(u64::MAX), "{pong}");
    assert_eq!(pong["result"], json!({}));
    for notification in [
        r#"{"jsonrpc":"2.0","method":"tools/call","params":"bad"}"#,
        r#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","method":42}"#,
    ] {
        s.send_raw(notification).await;
    }
    // The next line out answers the next request: nothing answered the notifications.
    let r = s.request("ping", None).await;
    assert_eq!(r["result"], json!({}), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn whole_floats_count_as_integers_and_out_of_range_numbers_name_their_field() {
    let mut s = spawn_stack().await;
    let page = s.call("list_projects", json!({"limit": 1.0})).await;
    assert_eq!(page["result"]["isError"], json!(false), "{page}");
    assert_eq!(parse_text(&page)["items"].as_array().map(Vec::len), Some(1));
    for (tool, args, field) in [
        ("list_projects", json!({"limit": 1e308}), "limit"),
        ("list_projects", json!({"limit": 2.5}), "limit"),
        (
            "create_ticket",
            json!({"project_id": "WEB", "title": "t", "story_points": 1e12}),
            "story_points",
        ),
    ] {
        let err = s.call_invalid(tool, args).await;
        assert_eq!(err["data"]["field"], json!(field), "{err}");
    }
}
