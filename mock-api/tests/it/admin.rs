//! The admin listener over real sockets (issue 8, "Also"): faults added, listed and removed by
//! id over HTTP hit the API exactly as scoped, each fault kind behaves as documented, bad fault
//! bodies are refused naming the field, and the journal is read and cleared. It is off unless
//! asked for, and its own requests are not journaled.

use crate::support::{Api, spawn, spawn_with};
use alloy_mock_api::MockOptions;
use alloy_mock_api::model::OrgRole;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn admin_api() -> (Api, String) {
    let api = spawn_with(MockOptions {
        admin_bind: Some(([127, 0, 0, 1], 0).into()),
        ..MockOptions::seeded_deterministic()
    })
    .await;
    let admin = format!("http://{}", api.mock.admin_address().expect("an admin listener"));
    assert_ne!(admin, api.mock.base_url());
    (api, admin)
}

/// One call to the admin listener: status, JSON body (`Null` when empty) and headers.
async fn admin(
    api: &Api,
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = api.http.request(m, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.send().await.expect("the admin listener answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn there_is_no_admin_listener_unless_asked_for() {
    let api = spawn().await;
    assert_eq!(api.mock.admin_address(), None);
}

#[tokio::test]
async fn a_fault_added_over_http_hits_its_scope_for_its_times_then_leaves() {
    let (api, base) = admin_api().await;
    let key = api.key(OrgRole::Member);
    let (status, f, _) = admin(
        &api,
        &base,
        "POST",
        "/faults",
        Some(r#"{"kind": "status", "status": 503, "method": "get", "path_prefix": "/api/v1/tickets", "times": 2}"#),
    )
    .await;
    assert_eq!(status, 201, "{f}");
    assert_eq!(
        (
            &f["kind"],
            &f["status"],
            &f["method"],
            &f["path_prefix"],
            &f["remaining"]
        ),
        (
            &json!("status"),
            &json!(503),
            &json!("GET"),
            &json!("/api/v1/tickets"),
            &json!(2)
        )
    );
    let (_, listed, _) = admin(&api, &base, "GET", "/faults", None).await;
    assert_eq!(listed["faults"], json!([f.clone()]));
    let r = api.get(&key, "/api/v1/tickets/WEB-1").await;
    assert_eq!((r.status, r.code()), (503, "unavailable"));
    assert_eq!(
        api.status(&key, "/api/v1/projects/WEB").await,
        200,
        "outside the prefix"
    );
    let r = api
        .patch(&key, "/api/v1/tickets/WEB-1", json!({"priority": "Low"}))
        .await;
    assert_eq!(r.status, 200, "another method: {}", r.text);
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-2").await, 503);
    assert_eq!(api.status(&key, "/api/v1/tickets/WEB-2").await, 200, "used up");
    let (_, listed, _) = admin(&api, &base, "GET", "/faults", None).await;
    assert_eq!(listed["faults"], json!([]));
    let id = f["id"].as_u64().expect("id");
    let (status, e, _) = admin(&api, &base, "DELETE", &format!("/faults/{id}"), None).await;
    assert_eq!((status, &e["error"]["details"]["resource"]), (404, &json!("fault")));
}

#[tokio::test]
async fn every_fault_kind_works_over_http_and_faults_are_removed_by_id() {
    let (api, base) = admin_api().await;
    let key = api.key(OrgRole::Member);
    let add = |body: &'static str| {
        let (api, base) = (&api, &base);
        async move {
            let (status, f, _) = admin(api, base, "POST", "/faults", Some(body)).await;
            assert_eq!(status, 201, "{body}: {f}");
            f["id"].as_u64().expect("id")
        }
    };
    let remove = |id: u64| {
        let (api, base) = (&api, &base);
        async move {
            let (status, _, _) = admin(api, base, "DELETE", &format!("/faults/{id}"), None).await;
            assert_eq!(status, 204);
        }
    };

    let id = add(r#"{"kind": "rate_limited", "retry_after": 30, "path": "/api/v1/auth/me"}"#).await;
    let r = api.get(&key, "/api/v1/auth/me").await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("30"));
    assert_eq!(api.status(&key, "/api/v1/auth/me/").await, 200, "exact path only");
    remove(id).await;

    let id = add(r#"{"kind": "malformed_body"}"#).await;
    let r = api.get(&key, "/api/v1/projects").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.text).is_err(), "{}", r.text);
    remove(id).await;

    let id = add(r#"{"kind": "drop_connection", "method": "DELETE"}"#).await;
    let dropped = api
        .http
        .delete(api.url("/api/v1/tickets/WEB-3"))
        .bearer_auth(&key)
        .send()
        .await;
    assert!(dropped.is_err(), "the connection closes without an answer: {dropped:?}");
    remove(id).await;
    assert_eq!(
        api.status(&key, "/api/v1/tickets/WEB-3").await,
        200,
        "nothing was deleted"
    );

    // A delay holds back the real answer: at least that long, never less.
    let id = add(r#"{"kind": "delay", "delay_ms": 300}"#).await;
    let start = Instant::now();
    let r = api.get(&key, "/api/v1/tickets/WEB-1").await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!((r.status, r.body["key"].as_str()), (200, Some("WEB-1")));
    remove(id).await;

    add(r#"{"kind": "status", "status": 500}"#).await;
    add(r#"{"kind": "status", "status": 502, "path_prefix": "/api/v1/projects"}"#).await;
    assert_eq!(
        api.status(&key, "/api/v1/projects").await,
        502,
        "the newest matching fault wins"
    );
    assert_eq!(api.status(&key, "/api/v1/tickets").await, 500);
    let (status, cleared, _) = admin(&api, &base, "DELETE", "/faults", None).await;
    assert_eq!((status, cleared), (200, json!({"removed": 2})));
    assert_eq!(api.status(&key, "/api/v1/tickets").await, 200);
}

#[tokio::test]
async fn bad_fault_bodies_and_routes_are_refused_saying_what_to_send() {
    let (api, base) = admin_api().await;
    let cases = [
        (r#"{"kind": "status"}"#, json!({"status": "required"})),
        (r#"{"kind": "teapot"}"#, json!({"kind": "invalid_enum"})),
        (
            r#"{"kind": "status", "status": 200}"#,
            json!({"status": "out_of_range"}),
        ),
        (
            r#"{"kind": "delay", "delay_ms": 0}"#,
            json!({"delay_ms": "out_of_range"}),
        ),
        (
            r#"{"kind": "drop_connection", "path_prefix": "tickets", "times": 0, "colour": 1}"#,
            json!({"path_prefix": "invalid_format", "times": "out_of_range", "colour": "unknown_field"}),
        ),
        (
            r#"{"kind": "malformed_body", "path": "/a", "path_prefix": "/b"}"#,
            json!({"path": "duplicate_item"}),
        ),
        ("{}", json!({"kind": "required"})),
    ];
    for (body, fields) in cases {
        let (status, e, _) = admin(&api, &base, "POST", "/faults", Some(body)).await;
        assert_eq!((status, &e["error"]["details"]["fields"]), (400, &fields), "{body}");
        let msg = e["error"]["message"].as_str().unwrap_or("");
        assert!(
            msg.contains("\"kind\": \"status\""),
            "the message shows the shape: {msg}"
        );
    }
    let (status, e, _) = admin(&api, &base, "POST", "/faults", Some("kind=status")).await;
    assert_eq!(
        (status, &e["error"]["details"]["reason"]),
        (400, &json!("malformed_json"))
    );
    let (_, listed, _) = admin(&api, &base, "GET", "/faults", None).await;
    assert_eq!(listed["faults"], json!([]), "nothing was added");

    let (status, e, _) = admin(&api, &base, "DELETE", "/faults/abc", None).await;
    assert_eq!((status, &e["error"]["details"]["reason"]), (400, &json!("invalid_id")));
    let (status, e, _) = admin(&api, &base, "GET", "/nope", None).await;
    assert_eq!((status, &e["error"]["details"]["resource"]), (404, &json!("route")));
    let (status, _, headers) = admin(&api, &base, "PUT", "/faults", Some("{}")).await;
    assert_eq!(status, 405);
    assert_eq!(
        headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, POST, DELETE")
    );
    let (status, index, _) = admin(&api, &base, "GET", "/", None).await;
    assert_eq!(status, 200);
    assert!(index["routes"].to_string().contains("POST /faults"), "{index}");
}

#[tokio::test]
async fn the_journal_is_read_and_cleared_over_http_without_the_admin_calls() {
    let (api, base) = admin_api().await;
    let key = api.key(OrgRole::Viewer);
    api.get(&key, "/api/v1/tickets/WEB-1").await;
    api.get(&key, "/api/v1/tickets/WEB-404").await;
    admin(&api, &base, "GET", "/faults", None).await;
    let (status, j, _) = admin(&api, &base, "GET", "/journal", None).await;
    assert_eq!(status, 200);
    let got: Vec<(Value, Value)> = j["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["path"].clone(), e["status"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!("/api/v1/tickets/WEB-1"), json!(200)),
            (json!("/api/v1/tickets/WEB-404"), json!(404))
        ]
    );
    assert_eq!(j["entries"][0]["token_prefix"], "alloy_test_Vwer");
    assert_eq!(j["stats"]["entries"], 2);
    assert_eq!(j["stats"]["limits"]["max_entries"], 10_000);
    let (_, last, _) = admin(&api, &base, "GET", "/journal?last=1", None).await;
    assert_eq!(last["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["entries"][0]["path"], "/api/v1/tickets/WEB-404");
    let (status, e, _) = admin(&api, &base, "GET", "/journal?last=many", None).await;
    assert_eq!((status, &e["error"]["details"]["param"]), (400, &json!("last")));
    let (status, taken, _) = admin(&api, &base, "DELETE", "/journal", None).await;
    assert_eq!((status, taken["entries"].as_array().map(Vec::len)), (200, Some(2)));
    let (_, empty, _) = admin(&api, &base, "GET", "/journal", None).await;
    assert_eq!(empty["entries"], json!([]));
    assert!(api.mock.journal().is_empty());
}
