//! The request journal stays bounded (issue 8, finding 4): huge bodies are cut at the per-entry
//! cap with a marker and their size, old entries leave by count and by bytes, ordinary bodies are
//! journaled whole and unchanged (the conformance transcripts read them), and limits that cannot
//! work together are refused at start.

use crate::support::{spawn, spawn_as, spawn_with};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{JournalLimits, MockAlloy, MockOptions};
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;

/// What the journal hands out, measured from outside: the bytes of its entries as JSON.
fn journal_json_bytes(mock: &MockAlloy) -> usize {
    mock.journal()
        .iter()
        .map(|e| serde_json::to_vec(e).map(|v| v.len()).unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn five_20_mib_posts_leave_the_journal_within_its_budget() {
    // The finding: five unauthenticated 20 MiB POSTs stayed in the journal for good (6.7 → 299 MB).
    let api = spawn().await;
    let body = bytes_of(20 * MIB);
    for _ in 0..5 {
        let r = api
            .http
            .post(api.url("/api/v1/projects"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("the mock answers");
        assert_eq!(r.status().as_u16(), 401);
    }
    let measured = journal_json_bytes(&api.mock);
    let limits = JournalLimits::default();
    assert!(
        measured <= limits.max_bytes,
        "the journal hands out {measured} bytes, more than its {} byte budget",
        limits.max_bytes
    );
    let stats = api.mock.journal_stats();
    assert!(stats.bytes <= limits.max_bytes, "{stats:?}");
    assert_eq!((stats.entries, stats.truncated), (5, 5), "{stats:?}");
    assert!(
        measured <= 5 * (limits.max_body_bytes + 4096),
        "each entry keeps at most its cap: {measured}"
    );
    for e in api.mock.journal() {
        assert_eq!(e.body_truncated_from, Some(20 * MIB));
        let text = e.body.as_ref().and_then(Value::as_str).expect("a cut body is a string");
        assert!(text.starts_with("{\"pad\":\"xxxx"), "{}", &text[..40]);
        assert!(
            text.ends_with(&format!(
                "… [truncated by alloy-mock-api: kept {} of {} bytes]",
                limits.max_body_bytes,
                20 * MIB
            )),
            "{}",
            &text[text.len() - 80..]
        );
    }
}

/// A JSON document of exactly `n` bytes.
fn bytes_of(n: usize) -> Vec<u8> {
    let mut v = b"{\"pad\":\"".to_vec();
    v.resize(n - 2, b'x');
    v.extend_from_slice(b"\"}");
    v
}

#[tokio::test]
async fn the_oldest_entries_leave_by_count_and_by_bytes() {
    let api = spawn_with(MockOptions {
        journal: JournalLimits {
            max_entries: 5,
            max_bytes: 64 * 1024,
            max_body_bytes: 8 * 1024,
        },
        ..MockOptions::seeded_deterministic()
    })
    .await;
    let key = api.key(OrgRole::Viewer);
    for n in 1..=20 {
        api.get(&key, &format!("/api/v1/tickets/WEB-{n}")).await;
    }
    let paths: Vec<String> = api.mock.journal().into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths,
        (16..=20)
            .map(|n| format!("/api/v1/tickets/WEB-{n}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(api.mock.journal_stats().evicted, 15);
    // 8 KiB bodies under a 64 KiB budget: never more than the budget, whatever the count allows.
    api.mock.take_journal();
    let big = json!({"title": "x".repeat(20_000)});
    for _ in 0..20 {
        api.post(&key, "/api/v1/projects/WEB/tickets", big.clone()).await;
    }
    let stats = api.mock.journal_stats();
    assert!(stats.bytes <= 64 * 1024 && stats.entries <= 5, "{stats:?}");
    assert!(journal_json_bytes(&api.mock) <= 64 * 1024);
}

#[tokio::test]
async fn ordinary_bodies_are_journaled_whole_and_unchanged() {
    let (api, key) = spawn_as(OrgRole::Member).await;
    let sent = json!({"title": "Journal me", "priority": "High", "tags": {"env": "prod"}});
    api.post(&key, "/api/v1/projects/WEB/tickets", sent.clone()).await;
    let e = api.mock.take_journal().pop().expect("an entry");
    assert_eq!((e.method.as_str(), e.status), ("POST", Some(201)));
    assert_eq!(e.body, Some(sent));
    assert_eq!(e.token_prefix.as_deref(), Some("alloy_test_Mmbr"));
    // The serialized entry has exactly the fields transcripts have always recorded.
    let v = serde_json::to_value(&e).expect("serializes");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["method", "path", "query", "token_prefix", "body", "status"]);
    // A body that is not JSON is kept as text.
    api.send("POST", Some(&key), "/api/v1/projects", None).await;
    let r = api.post_raw(&key, "/api/v1/projects", "text/plain", "not json").await;
    assert_eq!(r.status().as_u16(), 400);
    let e = api.mock.take_journal().pop().expect("an entry");
    assert_eq!(e.body, Some(json!("not json")));
}

#[tokio::test]
async fn limits_that_cannot_work_together_are_refused_at_start() {
    let e = MockAlloy::start_with(MockOptions {
        journal: JournalLimits {
            max_entries: 10,
            max_bytes: 1024,
            max_body_bytes: 4096,
        },
        ..MockOptions::default()
    })
    .await
    .err()
    .expect("refused");
    let msg = e.to_string();
    assert!(
        msg.contains("--journal-max-body-bytes") && msg.contains("4096"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_body_past_the_read_cap_is_refused_413_and_journaled_with_its_size() {
    // The transport holds at most 10 MiB + 1 of a body; the rest is counted and dropped. The
    // pipeline still answers in its order (here 413 on the import route) and the journal keeps
    // the size the client sent.
    let (api, key) = spawn_as(OrgRole::Owner).await;
    let r = api
        .post_raw(&key, "/api/v1/import", "application/json", bytes_of(12 * MIB))
        .await;
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let e = api.mock.take_journal().pop().expect("an entry");
    assert_eq!((e.status, e.body_truncated_from), (Some(413), Some(12 * MIB)));
}
