//! HTTP mode over real loopback sockets: the real binary with `--http 127.0.0.1:0` against the
//! seeded mock API. Streamable HTTP and legacy SSE against stdio, authentication and per-key
//! identity, protection (Origin, Host, body limit, framing errors), discovery documents,
//! session expiry, concurrency and graceful shutdown.

pub(crate) mod client;

use crate::support::{Launch, Mcp, UNKNOWN_KEY, names_in, parse_text};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{Fault, FaultKind, MockAlloy, MockOptions};
use client::{HttpServer, LegacySession, Opened, Session, client};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn seeded() -> MockAlloy {
    MockAlloy::start_with(MockOptions::seeded_deterministic())
        .await
        .expect("seeded mock starts")
}

/// The seeded mock and a server started with the Owner key as its own credential.
async fn stack(args: &[&str]) -> (MockAlloy, HttpServer) {
    let mock = seeded().await;
    let server = HttpServer::start(&mock.base_url(), mock.key(OrgRole::Owner), args).await;
    (mock, server)
}

/// A Streamable HTTP session at `/mcp`, initialized with 2025-06-18.
async fn session(server: &HttpServer, key: &str) -> Session {
    let mut s = Session::new(&server.url("/mcp"), Some(key));
    s.initialize("2025-06-18").await;
    s
}

fn is_error(answer: &Value) -> bool {
    answer["result"]["isError"] == json!(true)
}

/// Waits (bounded, polling) until `f` holds.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if f().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
    }
}

/// Creates an API key for the seeded Owner: `(raw key, id)`.
async fn new_key(mock: &MockAlloy, name: &str) -> (String, String) {
    let r = client()
        .post(format!("{}/api/v1/api-keys", mock.base_url()))
        .bearer_auth(mock.key(OrgRole::Owner))
        .json(&json!({"name": name}))
        .send()
        .await
        .expect("mock answers");
    assert_eq!(r.status().as_u16(), 201);
    let body: Value = r.json().await.expect("json");
    (
        body["key"].as_str().expect("key").to_string(),
        body["id"].as_str().expect("id").to_string(),
    )
}

async fn revoke(mock: &MockAlloy, id: &str) {
    let r = client()
        .delete(format!("{}/api/v1/api-keys/{id}", mock.base_url()))
        .bearer_auth(mock.key(OrgRole::Owner))
        .send()
        .await
        .expect("mock answers");
    assert_eq!(r.status().as_u16(), 204);
}

// ----- same results as stdio ----------------------------------------------------------------

#[tokio::test]
async fn streamable_http_answers_initialize_tools_list_and_tools_call_exactly_like_stdio() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner).to_string();
    let mut stdio = Mcp::spawn_with_key(&mock.base_url(), &owner, &Launch::default().initialize(None)).await;
    let expected_init = stdio.initialize("2025-06-18").await;
    for path in ["/mcp", "/"] {
        let mut http = Session::new(&server.url(path), Some(&owner));
        let init = http.initialize("2025-06-18").await;
        assert_eq!(init["result"], expected_init["result"], "initialize at {path}");
        for method in [
            "tools/list",
            "prompts/list",
            "resources/list",
            "resources/templates/list",
        ] {
            let want = stdio.request(method, None).await;
            let got = http.request(method, None).await;
            assert_eq!(got["result"], want["result"], "{method} at {path}");
        }
        for (tool, args) in [
            ("whoami", json!({})),
            ("get_project", json!({"project_id": "WEB"})),
            ("list_projects", json!({})),
            ("get_ticket", json!({"ticket_id": "WEB-99999"})),
        ] {
            let want = stdio.call(tool, args.clone()).await;
            let got = http.call(tool, args).await;
            assert_eq!(got["result"], want["result"], "{tool} at {path}");
        }
        let want = stdio.call("no_such_tool", json!({})).await;
        let got = http.call("no_such_tool", json!({})).await;
        assert_eq!(got["error"], want["error"], "unknown tool at {path}");
    }
}

#[tokio::test]
async fn legacy_sse_answers_initialize_tools_list_and_tools_call_exactly_like_stdio() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner).to_string();
    let mut stdio = Mcp::spawn_with_key(&mock.base_url(), &owner, &Launch::default().initialize(None)).await;
    let expected_init = stdio.initialize("2024-11-05").await;
    let mut sse = LegacySession::connect(&server.base, &owner).await;
    assert!(sse.endpoint.contains("/message?sessionId="), "{}", sse.endpoint);
    let init = sse.initialize("2024-11-05").await;
    assert_eq!(init["result"], expected_init["result"]);
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    let want = stdio.request("tools/list", None).await;
    let got = sse.request("tools/list", None).await;
    assert_eq!(got["result"], want["result"]);
    assert!(
        got["result"]["tools"][0].get("annotations").is_none(),
        "2024-11-05 clients get no annotations"
    );
    for (tool, args) in [
        ("whoami", json!({})),
        ("get_project", json!({"project_id": "WEB"})),
        ("get_ticket", json!({"ticket_id": "WEB-99999"})),
    ] {
        let want = stdio.call(tool, args.clone()).await;
        let got = sse.call(tool, args).await;
        assert_eq!(got["result"], want["result"], "{tool}");
    }
}

// ----- authentication -------------------------------------------------------------------------

#[tokio::test]
async fn requests_without_a_usable_key_get_401_and_never_reach_a_tool_or_the_api() {
    let (mock, server) = stack(&[]).await;
    let metadata = format!("{}/.well-known/oauth-protected-resource", server.base);
    mock.take_journal();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let call =
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});

    // No token, another scheme, and a token without the documented prefix: 401, API untouched.
    for (token, expect_error) in [(None, false), (Some("sk_live_notanalloykey"), true)] {
        for body in [&init, &call] {
            let s = Session::new(&server.url("/mcp"), token);
            let a = s.post_raw(body.to_string(), None).await;
            assert_eq!(a.status, 401, "{a:?}");
            let challenge = a.header("www-authenticate").expect("WWW-Authenticate");
            assert!(challenge.starts_with("Bearer "), "{challenge}");
            assert!(
                challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
                "{challenge}"
            );
            assert_eq!(
                challenge.contains("error=\"invalid_token\""),
                expect_error,
                "{challenge}"
            );
            let body: Value = serde_json::from_str(&a.text).expect("a JSON body");
            assert!(body["error"].is_string(), "{body}");
        }
    }
    let basic = client()
        .post(server.url("/mcp"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(basic.status().as_u16(), 401);
    for (method, path) in [
        ("GET", "/sse"),
        ("POST", "/message?sessionId=x"),
        ("GET", "/mcp"),
        ("DELETE", "/mcp"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = client().request(m, server.url(path)).send().await.expect("answers");
        assert_eq!(r.status().as_u16(), 401, "{method} {path}");
        assert!(r.headers().contains_key("www-authenticate"));
    }
    assert!(
        mock.take_journal().is_empty(),
        "nothing may reach the API without a well-formed key"
    );

    // A well-formed but unknown key: only the identity check reaches the API.
    for body in [&init, &call] {
        let s = Session::new(&server.url("/mcp"), Some(UNKNOWN_KEY));
        let a = s.post_raw(body.to_string(), None).await;
        assert_eq!(a.status, 401, "{a:?}");
        assert!(
            a.header("www-authenticate")
                .expect("challenge")
                .contains("error=\"invalid_token\"")
        );
    }
    match LegacySession::open(&server.base, Some(UNKNOWN_KEY), &[]).await {
        Opened::Refused(status, headers, _) => {
            assert_eq!(status, 401);
            let challenge = headers["www-authenticate"].to_str().expect("text");
            assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        }
        Opened::Open(_) => panic!("an unknown key opened an SSE session"),
    }
    let paths: Vec<String> = mock.take_journal().into_iter().map(|e| e.path).collect();
    assert!(!paths.is_empty());
    assert!(paths.iter().all(|p| p == "/api/v1/auth/me"), "{paths:?}");
    let log = server.stderr();
    assert!(
        !log.contains(UNKNOWN_KEY) && !log.contains("sk_live_notanalloykey"),
        "keys must never be logged"
    );
    assert!(
        !log.contains(mock.key(OrgRole::Owner)),
        "the server's own key must never be logged"
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_with_401_before_first_use_and_once_the_api_refuses_it() {
    let (mock, server) = stack(&[]).await;
    let (never_used, never_used_id) = new_key(&mock, "revoked before use").await;
    revoke(&mock, &never_used_id).await;
    let s = Session::new(&server.url("/mcp"), Some(&never_used));
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    assert_eq!(s.post_raw(init.to_string(), None).await.status, 401);

    let (key, id) = new_key(&mock, "revoked while in use").await;
    let mut s = session(&server, &key).await;
    assert!(!is_error(&s.call("whoami", json!({})).await));
    revoke(&mock, &id).await;
    // The identity is cached, so this call reaches the tool, but the API refuses the key and
    // no data comes back; the refusal evicts the cached identity.
    let refused = s.call("get_project", json!({"project_id": "WEB"})).await;
    assert!(is_error(&refused), "{refused}");
    assert_eq!(parse_text(&refused)["status"], 401, "{refused}");
    let (answer, _) = s.send("tools/list", None).await;
    assert_eq!(answer.status, 401, "the revoked key is refused at the door: {answer:?}");
}

#[tokio::test]
async fn a_key_of_another_org_works_but_only_ever_sees_that_orgs_data() {
    let (mock, server) = stack(&[]).await;
    let globex = mock.keys().other_org_owner().to_string();
    let globex_org = mock
        .keys()
        .keys
        .iter()
        .find(|k| k.key == globex)
        .expect("seeded")
        .org_id
        .to_string();
    let mut acme = session(&server, mock.key(OrgRole::Owner)).await;
    let mut other = session(&server, &globex).await;
    let me = parse_text(&other.call("whoami", json!({})).await);
    assert_eq!(me["org_id"], globex_org);
    assert_eq!(me["email"], "gina@globex.test");
    let projects = parse_text(&other.call("list_projects", json!({})).await);
    let keys = names_in(&projects["items"], "key");
    assert_eq!(keys, vec!["GLX"]);
    let web = other.call("get_project", json!({"project_id": "WEB"})).await;
    assert!(is_error(&web), "another org's project must stay invisible: {web}");
    let resources = other.request("resources/list", None).await;
    assert!(!resources.to_string().contains("WEB"), "{resources}");
    // The Acme session on the same server is unaffected.
    assert!(!is_error(&acme.call("get_project", json!({"project_id": "WEB"})).await));
    let acme_me = parse_text(&acme.call("whoami", json!({})).await);
    assert_ne!(acme_me["org_id"], globex_org);
}

#[tokio::test]
async fn two_users_on_one_server_each_act_with_their_own_role() {
    let (mock, server) = stack(&[]).await;
    let mut viewer = session(&server, mock.key(OrgRole::Viewer)).await;
    let mut owner = session(&server, mock.key(OrgRole::Owner)).await;
    let (v, o) = tokio::join!(
        viewer.call("create_ticket", json!({"project_id": "WEB", "title": "Viewer tries"})),
        owner.call("create_ticket", json!({"project_id": "WEB", "title": "Owner succeeds"})),
    );
    assert!(is_error(&v), "{v}");
    assert_eq!(parse_text(&v)["status"], 403, "{v}");
    assert!(!is_error(&o), "{o}");
    assert!(
        parse_text(&o)["key"].as_str().is_some_and(|k| k.starts_with("WEB-")),
        "{o}"
    );
    assert_eq!(parse_text(&viewer.call("whoami", json!({})).await)["role"], "Viewer");
    assert_eq!(parse_text(&owner.call("whoami", json!({})).await)["role"], "Owner");
    // Each POST to the API carried the key of the session that made it.
    let posts: Vec<Option<String>> = mock
        .journal()
        .into_iter()
        .filter(|e| e.method == "POST" && e.path == "/api/v1/projects/WEB/tickets")
        .map(|e| e.token_prefix)
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let prefixes: Vec<String> = [OrgRole::Viewer, OrgRole::Owner]
        .iter()
        .map(|r| mock.key(*r)[..15].to_string())
        .collect();
    for p in &prefixes {
        assert!(posts.contains(&Some(p.clone())), "{posts:?} lacks {p}");
    }
}

#[tokio::test]
async fn a_session_opened_with_one_key_is_not_found_with_another() {
    let (mock, server) = stack(&[]).await;
    let mut owner = session(&server, mock.key(OrgRole::Owner)).await;
    let mut intruder = Session::new(&server.url("/mcp"), Some(mock.key(OrgRole::Admin)));
    intruder.session = owner.session.clone();
    intruder.version = owner.version.clone();
    let (answer, _) = intruder.send("tools/list", None).await;
    assert_eq!(answer.status, 404, "{answer:?}");
    assert_eq!(answer.json()["error"]["code"], -32001);
    assert_eq!(intruder.delete().await, 404);
    assert!(
        !is_error(&owner.call("whoami", json!({})).await),
        "the owner's session survives"
    );

    let mut sse = LegacySession::connect(&server.base, mock.key(OrgRole::Owner)).await;
    sse.initialize("2024-11-05").await;
    let (status, body) = sse
        .post_as(
            Some(mock.key(OrgRole::Admin)),
            r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(sse.request("ping", None).await["result"], json!({}));
}

#[tokio::test]
async fn repeated_auth_failures_from_one_client_are_throttled_while_verified_keys_keep_working() {
    let (mock, server) = stack(&[]).await;
    let mut owner = session(&server, mock.key(OrgRole::Owner)).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let bad = Session::new(&server.url("/mcp"), Some("alloy_test_guess"));
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(bad.post_raw(ping, None).await.status);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    let throttled = bad.post_raw(ping, None).await;
    assert_eq!(throttled.status, 429, "{throttled:?}");
    let wait: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    // A key verified before keeps working; a new key from this client waits like the rest.
    assert!(!is_error(&owner.call("whoami", json!({})).await));
    let admin = Session::new(&server.url("/mcp"), Some(mock.key(OrgRole::Admin)));
    assert_eq!(admin.post_raw(ping, None).await.status, 429);
}

// ----- protection -------------------------------------------------------------------------------

#[tokio::test]
async fn a_foreign_origin_or_an_unknown_host_gets_403_and_configured_ones_pass() {
    let (mock, server) = stack(&[
        "--public-url",
        "http://proxy.example:8080",
        "--allowed-hosts",
        "mcp.internal",
    ])
    .await;
    let owner = mock.key(OrgRole::Owner);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    .to_string();
    let with = |headers: &[(&str, &str)]| {
        let mut s = Session::new(&server.url("/mcp"), Some(owner));
        s.extra = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        s
    };
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("host", "evil.example:8080")],
        vec![("host", "proxy.example.evil.test")],
    ] {
        let a = with(&headers).post_raw(init.clone(), None).await;
        assert_eq!(a.status, 403, "{headers:?}: {a:?}");
        assert_eq!(a.json()["error"]["code"], -32600, "{headers:?}");
    }
    match LegacySession::open(&server.base, Some(owner), &[("origin", "https://evil.example")]).await {
        Opened::Refused(status, ..) => assert_eq!(status, 403),
        Opened::Open(_) => panic!("a foreign origin opened an SSE session"),
    }
    for headers in [
        vec![],
        vec![("origin", "http://localhost:5173")],
        vec![("origin", "http://proxy.example:8080")],
        vec![("host", "proxy.example")],
        vec![("host", "mcp.internal:3001")],
        vec![("host", "192.168.7.7:3001")],
    ] {
        let a = with(&headers).post_raw(init.clone(), None).await;
        assert_eq!(a.status, 200, "{headers:?}: {a:?}");
    }
}

#[tokio::test]
async fn an_oversized_body_gets_413_and_a_ten_mib_body_fits() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner);
    let mut s = session(&server, owner).await;
    let padded = |bytes: usize| {
        json!({"jsonrpc": "2.0", "id": 77, "method": "tools/list", "params": {"_meta": {"pad": "x".repeat(bytes)}}})
            .to_string()
    };
    let big = s.post_raw(padded(16 * 1024 * 1024 + 1024), None).await;
    assert_eq!(big.status, 413, "{:?}", big.headers);
    assert_eq!(big.json()["error"]["code"], -32600);
    let fits = s.post_raw(padded(10 * 1024 * 1024), Some(&json!(77))).await;
    assert_eq!(fits.status, 200);
    assert!(fits.for_id(&json!(77))["result"]["tools"].is_array());
    assert!(!is_error(&s.call("whoami", json!({})).await), "the session survives");

    let mut sse = LegacySession::connect(&server.base, owner).await;
    sse.initialize("2024-11-05").await;
    let (status, _) = sse.post(padded(16 * 1024 * 1024 + 1024)).await;
    assert_eq!(status, 413);
    assert_eq!(sse.request("ping", None).await["result"], json!({}));
}

#[tokio::test]
async fn malformed_json_gets_a_json_rpc_parse_error_and_other_framing_errors_are_json_too() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner);
    let fresh = Session::new(&server.url("/mcp"), Some(owner));
    let mut s = session(&server, owner).await;
    for who in [&fresh, &s] {
        let a = who
            .post_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\":", None)
            .await;
        assert_eq!(a.status, 400, "{a:?}");
        assert_eq!(a.header("content-type").as_deref(), Some("application/json"));
        let e = a.json();
        assert_eq!(e["error"]["code"], -32700, "{e}");
        assert_eq!(e["id"], Value::Null);
    }
    let batch = s.post_raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, None).await;
    assert_eq!(batch.status, 400);
    assert_eq!(batch.json()["error"]["code"], -32600);
    let no_name = s
        .post_raw(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}"#, None)
        .await;
    assert_eq!(no_name.status, 200);
    assert_eq!(no_name.json()["error"]["code"], -32602);
    assert_eq!(no_name.json()["id"], 5);
    // rmcp's own refusals come back as JSON too.
    s.version = Some("1999-01-01".into());
    let (bad_version, _) = s.send("tools/list", None).await;
    assert_eq!(bad_version.status, 400, "{bad_version:?}");
    assert_eq!(bad_version.json()["error"]["code"], -32600);
    s.version = Some("2025-06-18".into());
    s.accept = "text/html".into();
    let (not_acceptable, _) = s.send("tools/list", None).await;
    assert_eq!(not_acceptable.status, 406);
    assert!(not_acceptable.json()["error"]["message"].is_string());

    let mut sse = LegacySession::connect(&server.base, owner).await;
    sse.initialize("2024-11-05").await;
    let (status, _) = sse.post("{not json").await;
    assert_eq!(status, 202);
    let e = sse.next_message().await;
    assert_eq!(e["error"]["code"], -32700, "{e}");
    let (status, _) = sse
        .post(r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{}}"#)
        .await;
    assert_eq!(status, 202);
    let e = sse.next_message().await;
    assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (json!(6), json!(-32602)));
}

// ----- protocol details ------------------------------------------------------------------------

#[tokio::test]
async fn sessions_open_a_server_stream_end_with_delete_and_clients_may_ask_for_json() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner);
    let mut s = session(&server, owner).await;
    let stream = client::client()
        .get(server.url("/mcp"))
        .bearer_auth(owner)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", s.session.clone().expect("session"))
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .expect("GET answers");
    assert_eq!(stream.status().as_u16(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .expect("text")
            .starts_with("text/event-stream")
    );
    drop(stream);

    s.accept = "application/json".into();
    let (json_answer, id) = s.send("tools/list", None).await;
    assert_eq!(json_answer.status, 200, "{json_answer:?}");
    assert_eq!(json_answer.header("content-type").as_deref(), Some("application/json"));
    assert!(json_answer.for_id(&id)["result"]["tools"].is_array());

    assert!((200..300).contains(&s.delete().await));
    let (gone, _) = s.send("tools/list", None).await;
    assert_eq!(gone.status, 404, "{gone:?}");
    let (status, health) = server.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["sessions"]["streamable"], 0, "{health}");
}

#[tokio::test]
async fn the_discovery_documents_need_no_key_and_carry_the_required_fields() {
    let (mock, server) = stack(&[]).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let (status, doc) = server.get_json(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            doc,
            json!({
                "resource": format!("{}/mcp", server.base),
                "authorization_servers": [mock.base_url()],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["read", "write"],
                "resource_name": "alloy-mcp",
            }),
            "{path}"
        );
    }
    let (status, doc) = server.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(status, 200);
    let issuer = mock.base_url();
    assert_eq!(
        doc,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["read", "write"],
        })
    );
    let (status, health) = server.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let (status, missing) = server.get_json("/nope").await;
    assert_eq!(status, 404);
    assert!(missing["error"]["code"].is_number());
}

#[tokio::test]
async fn the_public_url_and_issuer_flags_shape_the_documents_and_the_challenge() {
    let (_mock, server) = stack(&[
        "--public-url",
        "https://mcp.example.com/",
        "--issuer",
        "https://auth.example.com",
    ])
    .await;
    let (_, prm) = server.get_json("/.well-known/oauth-protected-resource").await;
    assert_eq!(prm["resource"], "https://mcp.example.com/mcp");
    assert_eq!(prm["authorization_servers"], json!(["https://auth.example.com"]));
    let (_, asm) = server.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(asm["issuer"], "https://auth.example.com");
    assert_eq!(asm["token_endpoint"], "https://auth.example.com/oauth/token");
    let a = Session::new(&server.url("/mcp"), None)
        .post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, None)
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.header("www-authenticate").as_deref(),
        Some("Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource\"")
    );
}

#[tokio::test]
async fn a_bad_http_address_stops_the_server_before_any_network_call_with_exit_code_1() {
    let out = tokio::time::timeout(
        crate::support::ANSWER_TIMEOUT,
        tokio::process::Command::new(crate::support::bin())
            .env_clear()
            .env("ALLOY_API_URL", "http://127.0.0.1:9")
            .env("ALLOY_API_TOKEN", "alloy_test_x")
            .env("ALLOY_MCP_HTTP_ADDR", "not-an-address")
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("exits in time")
    .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ALLOY_MCP_HTTP_ADDR") && err.contains("not-an-address"),
        "{err}"
    );
    assert!(
        !err.contains("connection refused"),
        "no network call before the flags are valid: {err}"
    );
}

// ----- lifecycle and load -----------------------------------------------------------------------

#[tokio::test]
async fn abandoned_sessions_expire_and_leave_nothing_behind() {
    let (mock, server) = stack(&["--session-idle", "1"]).await;
    let owner = mock.key(OrgRole::Owner);
    let mut abandoned = Vec::new();
    for _ in 0..4 {
        abandoned.push(session(&server, owner).await);
    }
    let mut held = LegacySession::connect(&server.base, owner).await;
    held.initialize("2024-11-05").await;
    let dropped = LegacySession::connect(&server.base, owner).await;
    let (_, health) = server.get_json("/health").await;
    assert_eq!(health["sessions"], json!({"streamable": 4, "legacy": 2}), "{health}");
    drop(dropped);
    // The held stream is closed by the server once idle; nobody keeps the sessions alive.
    held.closed().await;
    eventually("every session expired", || async {
        server.get_json("/health").await.1["sessions"] == json!({"streamable": 0, "legacy": 0})
    })
    .await;
    let (gone, _) = abandoned[0].send("tools/list", None).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn thirty_two_sessions_of_fifty_calls_each_get_every_answer_on_their_own_session() {
    const SESSIONS: i64 = 32;
    const CALLS: i64 = 50;
    let (mock, server) = stack(&[]).await;
    let roles = [
        OrgRole::Owner,
        OrgRole::Admin,
        OrgRole::Member,
        OrgRole::Reporter,
        OrgRole::Viewer,
    ];
    let mut keys: Vec<(String, String)> = roles
        .iter()
        .map(|r| (mock.key(*r).to_string(), r.as_str().to_string()))
        .collect();
    keys.push((mock.keys().other_org_owner().to_string(), "Owner".into()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..SESSIONS {
        let (key, role) = keys[n as usize % keys.len()].clone();
        let url = server.url(if n % 2 == 0 { "/mcp" } else { "/" });
        tasks.spawn(async move {
            let mut s = Session::new(&url, Some(&key)).with_first_id(n * 1_000_000);
            s.initialize("2025-06-18").await;
            let me = parse_text(&s.call("whoami", json!({})).await);
            assert_eq!(me["role"], role.as_str());
            let email = me["email"].clone();
            for i in 0..CALLS {
                let (answer, id) = if i % 5 == 4 {
                    s.send("tools/list", None).await
                } else {
                    s.send("tools/call", Some(json!({"name": "whoami", "arguments": {}})))
                        .await
                };
                assert_eq!(answer.status, 200, "session {n} call {i}: {answer:?}");
                let msg = answer.for_id(&id);
                if i % 5 == 4 {
                    assert!(msg["result"]["tools"].is_array(), "{msg}");
                } else {
                    assert_eq!(
                        parse_text(&msg)["email"],
                        email,
                        "session {n} got another session's answer"
                    );
                }
            }
            s.delete().await;
            n
        });
    }
    let mut done = Vec::new();
    let all = async {
        while let Some(r) = tasks.join_next().await {
            done.push(r.expect("session task"));
        }
    };
    tokio::time::timeout(Duration::from_secs(240), all)
        .await
        .expect("32 x 50 calls finish in time");
    done.sort_unstable();
    assert_eq!(done, (0..SESSIONS).collect::<Vec<_>>());
    let elapsed = started.elapsed();
    eprintln!(
        "concurrency: {} sessions x {} calls in {:.2} s ({:.0} calls/s)",
        SESSIONS,
        CALLS,
        elapsed.as_secs_f64(),
        (SESSIONS * (CALLS + 1)) as f64 / elapsed.as_secs_f64()
    );
    let (_, health) = server.get_json("/health").await;
    assert_eq!(health["sessions"]["streamable"], 0, "{health}");
}

#[tokio::test]
async fn legacy_sse_sessions_run_concurrently_without_cross_talk() {
    let (mock, server) = stack(&[]).await;
    let keys = [
        mock.key(OrgRole::Owner).to_string(),
        mock.keys().other_org_owner().to_string(),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8usize {
        let key = keys[n % 2].clone();
        let base = server.base.clone();
        tasks.spawn(async move {
            let mut s = LegacySession::connect(&base, &key).await;
            s.initialize("2024-11-05").await;
            let email = parse_text(&s.call("whoami", json!({})).await)["email"].clone();
            for _ in 0..20 {
                assert_eq!(parse_text(&s.call("whoami", json!({})).await)["email"], email);
            }
            email
        });
    }
    let mut emails = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(r) = tasks.join_next().await {
            emails.push(r.expect("task"));
        }
    })
    .await
    .expect("in time");
    assert_eq!(emails.iter().filter(|e| **e == "olivia@acme.test").count(), 4);
    assert_eq!(emails.iter().filter(|e| **e == "gina@globex.test").count(), 4);
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_and_the_server_exits_cleanly() {
    let (mock, mut server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner).to_string();
    let mut s = session(&server, &owner).await;
    // Open streams must not hold the shutdown open.
    let _standalone = client::client()
        .get(server.url("/mcp"))
        .bearer_auth(&owner)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", s.session.clone().expect("session"))
        .send()
        .await
        .expect("GET answers");
    let mut sse = LegacySession::connect(&server.base, &owner).await;
    sse.initialize("2024-11-05").await;
    let _slow = mock
        .fault(
            Fault::new(FaultKind::Delay(Duration::from_millis(1500)))
                .method("GET")
                .path("/api/v1/projects/WEB")
                .times(1),
        )
        .await;
    let call = tokio::spawn(async move { s.call("get_project", json!({"project_id": "WEB"})).await });
    eventually("the slow call is in flight", || async {
        server.stderr().contains("tool=get_project")
    })
    .await;
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let answer = tokio::time::timeout(crate::support::ANSWER_TIMEOUT, call)
        .await
        .expect("the in-flight call is answered")
        .expect("task");
    assert!(!is_error(&answer), "{answer}");
    assert_eq!(parse_text(&answer)["key"], "WEB");
    let status = server.wait_exit().await;
    assert!(status.success(), "{status:?}; stderr:\n{}", server.stderr());
    sse.closed().await;
    let stderr = server.stderr();
    assert!(stderr.contains("SIGTERM received"));
    assert!(
        !stderr.contains(" ERROR "),
        "a normal shutdown logs no error:\n{stderr}"
    );
}

// ----- hardening: notifications from JSON-only clients, /health, connection limits ------------

#[tokio::test]
async fn json_only_and_wildcard_clients_can_send_notifications_and_requests() {
    let (mock, server) = stack(&[]).await;
    let owner = mock.key(OrgRole::Owner);
    for accept in ["application/json", "*/*"] {
        let mut s = Session::new(&server.url("/mcp"), Some(owner));
        s.accept = accept.into();
        s.initialize("2025-06-18").await;
        for note in [
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}"#,
        ] {
            let answer = s.post_raw(note, None).await;
            assert_eq!(answer.status, 202, "{accept}: {note}: {answer:?}");
        }
        let (answer, id) = s.send("tools/list", None).await;
        assert_eq!(answer.status, 200, "{accept}: {answer:?}");
        assert!(answer.for_id(&id)["result"]["tools"].is_array(), "{accept}: {answer:?}");
    }
}

#[tokio::test]
async fn health_checks_the_host_like_every_other_route() {
    let (_mock, server) = stack(&[]).await;
    let (status, _) = server.get_json("/health").await;
    assert_eq!(status, 200);
    let r = client()
        .get(server.url("/health"))
        .header("host", "evil.example")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 403);
}

/// Reads from `tcp` until the server closes it (bounded); what arrived.
async fn until_closed(tcp: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the server closes the connection");
    String::from_utf8_lossy(&got).into_owned()
}

fn addr_of(server: &HttpServer) -> String {
    server.base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn silent_slow_header_and_slow_body_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let (mock, server) = stack(&["--header-timeout", "1", "--body-timeout", "1"]).await;
    let addr = addr_of(&server);
    // A connection that sends nothing.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    // A connection that starts a request and never finishes its headers.
    let mut slow_header = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    slow_header
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    // A connection that sends headers and only part of the body.
    let mut slow_body = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\"",
        mock.key(OrgRole::Owner)
    );
    slow_body.write_all(head.as_bytes()).await.expect("write");
    assert_eq!(until_closed(&mut idle).await, "", "nothing is answered to silence");
    until_closed(&mut slow_header).await;
    let answer = until_closed(&mut slow_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The server still serves.
    let (status, _) = server.get_json("/health").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn one_address_may_hold_only_so_many_connections() {
    let (_mock, server) = stack(&["--max-connections-per-ip", "3", "--header-timeout", "60"]).await;
    let addr = addr_of(&server);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(&addr).await.expect("connect"));
    }
    let r = client().get(server.url("/health")).send().await.expect("answers");
    assert_eq!(r.status().as_u16(), 429, "a fourth connection is refused");
    drop(held);
    eventually("a slot is free again", || async {
        client()
            .get(server.url("/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == 200)
    })
    .await;
}

// ----- horizontal scale: a 2026-07-28 client needs no session ----------------------------------

/// One stateless (2026-07-28) request over Streamable HTTP: the `_meta` and headers the
/// revision asks for, no session. Returns the JSON-RPC answer.
async fn stateless_call(server: &HttpServer, key: &str, id: i64, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let name = match method {
        "tools/call" | "prompts/get" => params["name"].as_str().map(str::to_string),
        "resources/read" => params["uri"].as_str().map(str::to_string),
        _ => None,
    };
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let mut req = client()
        .post(server.url("/mcp"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(n) = name {
        req = req.header("mcp-name", n);
    }
    let resp = req.body(body.to_string()).send().await.expect("answers");
    assert!(
        resp.headers().get("mcp-session-id").is_none(),
        "no session at 2026-07-28"
    );
    let answer = client::read_answer(resp, Some(&json!(id))).await;
    assert_eq!(answer.status, 200, "{method}: {answer:?}");
    answer.for_id(&json!(id))
}

#[tokio::test]
async fn a_stateless_client_may_send_each_request_to_another_instance() {
    let mock = seeded().await;
    let owner = mock.key(OrgRole::Owner).to_string();
    let a = HttpServer::start(&mock.base_url(), &owner, &[]).await;
    let b = HttpServer::start(&mock.base_url(), &owner, &[]).await;
    let instances = [&a, &b];
    // Create on one instance, read and change on the other, alternating every request.
    let created = stateless_call(
        instances[0],
        &owner,
        1,
        "tools/call",
        json!({"name": "create_ticket", "arguments": {"project_id": "WEB", "title": "served by two instances"}}),
    )
    .await;
    assert!(!is_error(&created), "{created}");
    let key = parse_text(&created)["key"].as_str().expect("a key").to_string();
    for (n, status) in ["Todo", "InProgress", "InReview"].iter().enumerate() {
        let id = 2 + n as i64;
        let server = instances[(id % 2) as usize];
        let moved = stateless_call(
            server,
            &owner,
            id,
            "tools/call",
            json!({"name": "transition_ticket", "arguments": {"ticket_id": key, "status": status}}),
        )
        .await;
        assert!(!is_error(&moved), "{moved}");
        let seen = stateless_call(
            instances[((id + 1) % 2) as usize],
            &owner,
            id + 100,
            "tools/call",
            json!({"name": "get_ticket", "arguments": {"ticket_id": key}}),
        )
        .await;
        assert_eq!(parse_text(&seen)["status"], json!(status), "{seen}");
        assert_eq!(
            seen["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            json!("alloy-mcp")
        );
    }
    for (i, server) in instances.iter().enumerate() {
        let list = stateless_call(server, &owner, 50 + i as i64, "tools/list", json!({})).await;
        assert_eq!(list["result"]["cacheScope"], json!("private"), "{list}");
        assert!(list["result"]["tools"].as_array().is_some_and(|t| t.len() == 71));
    }
}
