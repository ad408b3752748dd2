//! Shared test support: [`spawn_stack`] starts a deterministic mock Alloy API holding one org
//! with a user and an API key per role (built through the store, independent of the seed
//! file) plus a project `WEB`, then spawns the real `alloy-mcp` binary against it and returns
//! a raw line-based JSON-RPC client. Every read has a timeout, so a test never hangs: a
//! missing answer fails with the server's stderr in the message.
//!
//! The checks tests share live here too: [`Mcp::call_invalid_field`] (a -32602 naming a
//! field), [`Mcp::call_err_reason`] / [`Mcp::call_not_found`] (an `isError` result with the
//! upstream status, code and reason or missing resource), the mock's journal read through
//! [`Api::first_call`], [`Api::last_query`] and friends, setup through [`Api::create`], and
//! [`one_call_tests!`] for tests that are one call on a fresh stack.

#![allow(dead_code)] // Not every test module uses every helper.

use alloy_mock_api::model::ApiKeyScope::{Read, Write};
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{JournalEntry, MockAlloy, MockOptions};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long a test waits for one answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// The path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_alloy-mcp")
}

/// The API key of a role in the test org.
pub fn key_of(role: OrgRole) -> String {
    format!(
        "alloy_test_{}0000000000000000000000000000",
        role.as_str().to_lowercase()
    )
}

/// A key that exists nowhere.
pub const UNKNOWN_KEY: &str = "alloy_test_doesnotexist000000000000000000000";

/// A well-formed UUID that names no resource in the mock.
pub const NO_SUCH_ID: &str = "00000000-0000-4000-8000-0000000fffff";

/// A JSON-RPC request message: `id`, `method` and, when given, `params`.
pub fn request_message(id: &Value, method: &str, params: Option<Value>) -> Value {
    let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(p) = params {
        msg["params"] = p;
    }
    msg
}

/// The `initialize` params every client of this suite sends: `version`, no capabilities, and
/// the suite's client name.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "alloy-mcp-tests", "version": "0.0.0"},
    })
}

/// The `tools/call` params for `name` with `args`.
pub fn call_params(name: &str, args: Value) -> Value {
    json!({"name": name, "arguments": args})
}

/// A mock with the test org, and what tests need to know about it.
pub struct Api {
    /// The running mock.
    pub mock: MockAlloy,
    /// The test org's id.
    pub org_id: String,
    /// User ids by role name (`"Owner"`, ...).
    pub users: BTreeMap<String, String>,
}

impl Api {
    /// The user id of a role.
    pub fn user(&self, role: OrgRole) -> String {
        self.users[role.as_str()].clone()
    }

    /// Requests the mock received for paths starting with `prefix`, as `(method, path)`.
    pub fn requests(&self, prefix: &str) -> Vec<(String, String)> {
        self.mock
            .journal()
            .into_iter()
            .filter(|e| e.path.starts_with(prefix))
            .map(|e| (e.method, e.path))
            .collect()
    }

    /// Sends one request to the mock with the Owner key (test setup only).
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = client
            .request(m, format!("{}{}", self.mock.base_url(), path))
            .bearer_auth(key_of(OrgRole::Owner));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("mock answers");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a ticket in `WEB` through the API and returns it.
    pub async fn ticket(&self, title: &str) -> Value {
        self.ticket_with(json!({"title": title})).await
    }

    /// Creates a ticket in `WEB` with these fields through the API and returns it.
    pub async fn ticket_with(&self, fields: Value) -> Value {
        self.create("/api/v1/projects/WEB/tickets", fields).await
    }

    /// Sends one setup request with the Owner key and checks the mock answered `expected`;
    /// returns the body.
    pub async fn send_expect(&self, method: &str, path: &str, body: Option<Value>, expected: u16) -> Value {
        let (status, answer) = self.send(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// POSTs `body` to `path` with the Owner key and checks it was created (201); returns it.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        self.send_expect("POST", path, Some(body), 201).await
    }

    /// Creates the project `key` (named `name`) through the API; returns it.
    pub async fn project(&self, key: &str, name: &str) -> Value {
        self.create("/api/v1/projects", json!({"key": key, "name": name})).await
    }

    /// The first request the mock received that `matches`; fails naming `what` if there is none.
    pub fn first_request(&self, what: &str, matches: impl Fn(&JournalEntry) -> bool) -> JournalEntry {
        self.mock
            .journal()
            .into_iter()
            .find(|e| matches(e))
            .unwrap_or_else(|| panic!("no request {what}"))
    }

    /// The last request the mock received that `matches`; fails naming `what` if there is none.
    pub fn last_request(&self, what: &str, matches: impl Fn(&JournalEntry) -> bool) -> JournalEntry {
        self.mock
            .journal()
            .into_iter()
            .rev()
            .find(|e| matches(e))
            .unwrap_or_else(|| panic!("no request {what}"))
    }

    /// The first request the mock received for exactly `path` (fails if there is none).
    pub fn first_to(&self, path: &str) -> JournalEntry {
        self.first_request(path, |e| e.path == path)
    }

    /// The last request the mock received for exactly `path` (fails if there is none).
    pub fn last_to(&self, path: &str) -> JournalEntry {
        self.last_request(path, |e| e.path == path)
    }

    /// The first `method` request the mock received for exactly `path` (fails if there is none).
    pub fn first_call(&self, method: &str, path: &str) -> JournalEntry {
        self.first_request(&format!("{method} {path}"), |e| e.method == method && e.path == path)
    }

    /// The last `method` request the mock received for exactly `path` (fails if there is none).
    pub fn last_call(&self, method: &str, path: &str) -> JournalEntry {
        self.last_request(&format!("{method} {path}"), |e| e.method == method && e.path == path)
    }

    /// The query of the last request for exactly `path`, as a map (fails if there is none).
    pub fn last_query(&self, path: &str) -> BTreeMap<String, String> {
        self.last_to(path).query.into_iter().collect()
    }

    /// The body of the last request for exactly `path` (`null` if it had none; fails if there
    /// is no such request).
    pub fn last_body(&self, path: &str) -> Value {
        self.last_to(path).body.unwrap_or(Value::Null)
    }
}

/// Starts the mock: org "Acme" with one user and key per role, project `WEB`.
pub async fn spawn_api() -> Api {
    let mock = MockAlloy::start_with(MockOptions {
        deterministic: true,
        ..MockOptions::default()
    })
    .await
    .expect("mock starts");
    let (org_id, users) = mock.with_store(|s| {
        let owner = s.add_user("owner@acme.test", "Olivia Owner", Some("password1"));
        let org = s.create_org("Acme".into(), "acme".into(), owner);
        let mut users = BTreeMap::new();
        for role in OrgRole::ALL {
            let id = if *role == OrgRole::Owner {
                owner
            } else {
                let lower = role.as_str().to_lowercase();
                let id = s.add_user(
                    &format!("{lower}@acme.test"),
                    &format!("{} User", role.as_str()),
                    Some("password1"),
                );
                s.set_membership(org, id, *role);
                id
            };
            s.insert_api_key(org, id, "test", &key_of(*role), vec![Read, Write], vec![], None);
            users.insert(role.as_str().to_string(), id.to_string());
        }
        (org.to_string(), users)
    });
    let api = Api { mock, org_id, users };
    let (status, body) = api
        .send(
            "POST",
            "/api/v1/projects",
            Some(json!({"key": "WEB", "name": "Website"})),
        )
        .await;
    assert_eq!(status, 201, "project WEB: {body}");
    api
}

/// A stack on the bundled seed (`fixtures/seed`, deterministic): realistic data for tools
/// that read history. The server uses the seed key of `launch.role`; `Api::users` and
/// `Api::org_id` are empty/unknown here, ask the seed or `whoami` instead.
pub async fn spawn_seeded_stack(launch: Launch) -> Stack {
    let mock = MockAlloy::start_with(MockOptions::seeded_deterministic())
        .await
        .expect("seeded mock starts");
    let key = mock.key(launch.role).to_string();
    let api = Api {
        mock,
        org_id: String::new(),
        users: BTreeMap::new(),
    };
    let mcp = Mcp::spawn_with_key(&api.mock.base_url(), &key, &launch).await;
    Stack { api, mcp }
}

/// How to start the server.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Role whose key the server uses.
    pub role: OrgRole,
    /// Extra command-line arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The protocol version to initialize with; `None` = do not initialize.
    pub initialize: Option<&'static str>,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            role: OrgRole::Owner,
            args: Vec::new(),
            env: Vec::new(),
            initialize: Some("2025-06-18"),
        }
    }
}

impl Launch {
    /// With extra arguments.
    pub fn args(mut self, args: &[&str]) -> Launch {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// With one more environment variable.
    pub fn env(mut self, k: &str, v: &str) -> Launch {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Initialize with this protocol version (or not at all).
    pub fn initialize(mut self, version: Option<&'static str>) -> Launch {
        self.initialize = version;
        self
    }

    /// Acting as this role.
    pub fn role(mut self, role: OrgRole) -> Launch {
        self.role = role;
        self
    }
}

/// The mock and the server process.
pub struct Stack {
    /// The mock API.
    pub api: Api,
    /// The MCP server.
    pub mcp: Mcp,
}

/// A stack is driven mostly through its MCP client: `s.call_ok(..)` is `s.mcp.call_ok(..)`.
impl std::ops::Deref for Stack {
    type Target = Mcp;

    fn deref(&self) -> &Mcp {
        &self.mcp
    }
}

impl std::ops::DerefMut for Stack {
    fn deref_mut(&mut self) -> &mut Mcp {
        &mut self.mcp
    }
}

/// Table-driven tests of one call each: every row is a `#[tokio::test]` named `$test` that
/// starts a fresh default stack acting as `$role`, calls `$tool` with the JSON `$args`, and
/// checks the answer with the [`Mcp`] helper `$check` given the expected values, e.g.
/// `get_tags_reports_an_unknown_ticket: as Owner, "get_tags" {"ticket_id": "WEB-77"} =>
/// call_not_found("ticket");`.
macro_rules! one_call_tests {
    ($($test:ident: as $role:ident, $tool:literal $args:tt => $check:ident($($expected:expr),+);)+) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $test() {
                let mut s = $crate::support::spawn_stack_as(alloy_mock_api::model::OrgRole::$role).await;
                s.$check($tool, serde_json::json!($args), $($expected),+).await;
            }
        )+
    };
}
pub(crate) use one_call_tests;

/// The default stack: Owner key, initialized with 2025-06-18.
pub async fn spawn_stack() -> Stack {
    spawn_stack_with(Launch::default()).await
}

/// The default stack, but with the server acting as `role`.
pub async fn spawn_stack_as(role: OrgRole) -> Stack {
    spawn_stack_with(Launch::default().role(role)).await
}

/// A stack started as `launch` says.
pub async fn spawn_stack_with(launch: Launch) -> Stack {
    let api = spawn_api().await;
    let mcp = Mcp::spawn(&api.mock.base_url(), &launch).await;
    Stack { api, mcp }
}

/// The server process with a raw line-based JSON-RPC client.
pub struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
}

impl Mcp {
    /// Spawns the binary against `api_url` with the test org's key of `launch.role`, and
    /// initializes it if `launch` asks for it.
    pub async fn spawn(api_url: &str, launch: &Launch) -> Mcp {
        Mcp::spawn_with_key(api_url, &key_of(launch.role), launch).await
    }

    /// Spawns the binary against `api_url` with `key`.
    pub async fn spawn_with_key(api_url: &str, key: &str, launch: &Launch) -> Mcp {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("ALLOY_API_URL", api_url)
            .env("ALLOY_API_TOKEN", key)
            .env("RUST_LOG", "debug")
            .args(&launch.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("alloy-mcp starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = r.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(stderr_pipe).lines();
            while let Ok(Some(line)) = r.next_line().await {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let mut mcp = Mcp {
            child,
            stdin,
            lines,
            stderr,
            next_id: 0,
        };
        if let Some(version) = launch.initialize {
            let r = mcp.initialize(version).await;
            assert!(r.get("result").is_some(), "initialize failed: {r}");
        }
        mcp
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Writes one raw line (a newline is added).
    pub async fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }

    /// Writes raw bytes as they are.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.expect("write");
        stdin.flush().await.expect("flush");
    }

    /// Reads the next output line as JSON (fails after [`ANSWER_TIMEOUT`]).
    pub async fn recv(&mut self) -> Value {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.lines.recv()).await {
            Ok(Some(line)) => {
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {line}"))
            }
            Ok(None) => panic!("the server closed stdout; stderr:\n{}", self.stderr()),
            Err(_) => panic!("no answer within {ANSWER_TIMEOUT:?}; stderr:\n{}", self.stderr()),
        }
    }

    /// Reads messages until the one answering `id` (notifications in between are skipped).
    pub async fn recv_for(&mut self, id: &Value) -> Value {
        loop {
            let msg = self.recv().await;
            if msg.get("id") == Some(id) {
                return msg;
            }
        }
    }

    /// Sends a request with a fresh id and returns the whole answer message.
    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.send_raw(&request_message(&id, method, params).to_string()).await;
        self.recv_for(&id).await
    }

    /// `initialize` with `version`, then `notifications/initialized`; returns the answer.
    pub async fn initialize(&mut self, version: &str) -> Value {
        let r = self.request("initialize", Some(initialize_params(version))).await;
        self.send_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        r
    }

    /// `tools/list` → the tools.
    pub async fn list_tools(&mut self) -> Vec<Value> {
        let r = self.request("tools/list", None).await;
        r["result"]["tools"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("tools/list: {r}"))
    }

    /// `tools/call` → the whole answer message.
    pub async fn call(&mut self, name: &str, args: Value) -> Value {
        self.request("tools/call", Some(call_params(name, args))).await
    }

    /// A call that must succeed: its text content parsed as JSON.
    pub async fn call_ok(&mut self, name: &str, args: Value) -> Value {
        let r = self.call(name, args).await;
        assert_eq!(r["result"]["isError"], json!(false), "{name} should succeed: {r}");
        parse_text(&r)
    }

    /// A call that must return an `isError` result: its text content parsed as JSON.
    pub async fn call_err(&mut self, name: &str, args: Value) -> Value {
        let r = self.call(name, args).await;
        assert_eq!(r["result"]["isError"], json!(true), "{name} should fail: {r}");
        parse_text(&r)
    }

    /// A call that must be refused with JSON-RPC -32602: the error object.
    pub async fn call_invalid(&mut self, name: &str, args: Value) -> Value {
        let r = self.call(name, args).await;
        assert_eq!(r["error"]["code"], json!(-32602), "{name} should be -32602: {r}");
        r["error"].clone()
    }

    /// A call that must be refused with JSON-RPC -32602 naming `field` in `data.field`: the
    /// error object.
    pub async fn call_invalid_field(&mut self, name: &str, args: Value, field: &str) -> Value {
        let sent = args.to_string();
        let e = self.call_invalid(name, args).await;
        assert_eq!(
            e["data"]["field"],
            json!(field),
            "{name} {sent} should name {field}: {e}"
        );
        e
    }

    /// A call that must return an `isError` result carrying the upstream HTTP `status`: its
    /// parsed text.
    pub async fn call_err_status(&mut self, name: &str, args: Value, status: u16) -> Value {
        let e = self.call_err(name, args).await;
        assert_eq!(e["status"], json!(status), "{name} should report {status}: {e}");
        e
    }

    /// A call that must return an `isError` result with the upstream `status` and the API's
    /// `error.code`: its parsed text.
    pub async fn call_err_code(&mut self, name: &str, args: Value, status: u16, code: &str) -> Value {
        let e = self.call_err_status(name, args, status).await;
        assert_eq!(e["error"]["code"], json!(code), "{name} should report {code}: {e}");
        e
    }

    /// A call that must return an `isError` result with the upstream `status`, the API's code
    /// for it (see [`api_code`]) and `error.details.reason`: its parsed text.
    pub async fn call_err_reason(&mut self, name: &str, args: Value, status: u16, reason: &str) -> Value {
        let e = self.call_err_code(name, args, status, api_code(status)).await;
        assert_eq!(
            e["error"]["details"]["reason"],
            json!(reason),
            "{name} should report {reason}: {e}"
        );
        e
    }

    /// A call that must return an `isError` result saying 404 `not_found` for a missing
    /// `resource` (`error.details.resource`): its parsed text.
    pub async fn call_not_found(&mut self, name: &str, args: Value, resource: &str) -> Value {
        let e = self.call_err_code(name, args, 404, "not_found").await;
        assert_eq!(
            e["error"]["details"]["resource"],
            json!(resource),
            "{name} should miss a {resource}: {e}"
        );
        e
    }

    /// The page after `page` of a list tool called with `args`: checks `page` says `has_more`
    /// with a `next_cursor`, and asks for the next page with that cursor.
    pub async fn next_page(&mut self, name: &str, mut args: Value, page: &Value) -> Value {
        assert_eq!(page["has_more"], json!(true), "{name}: no more pages: {page}");
        let cursor = page["next_cursor"].as_str().expect("a next_cursor with has_more");
        args["cursor"] = json!(cursor);
        self.call_ok(name, args).await
    }

    /// Closes stdin and waits for the exit (fails after [`ANSWER_TIMEOUT`]).
    pub async fn close(mut self) -> (ExitStatus, Vec<Value>, String) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(ANSWER_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit after stdin closed; stderr:\n{}", self.stderr()))
            .expect("wait");
        let mut rest = Vec::new();
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(2), self.lines.recv()).await {
            rest.push(serde_json::from_str(&line).unwrap_or(Value::String(line)));
        }
        let stderr = self.stderr();
        (status, rest, stderr)
    }
}

/// The API's `error.code` for a refusal with a `reason` at HTTP `status` (400 here is a
/// `bad_request`; a `validation_error` names `fields`, not a reason).
pub fn api_code(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable",
        other => panic!("no API refusal with a reason at {other}"),
    }
}

/// The text content of a tool result, parsed as JSON.
pub fn parse_text(answer: &Value) -> Value {
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {answer}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("text is not JSON ({e}): {text}"))
}

/// The values of `field` over a page of items, compact (`columns` and rows of values) or full
/// (one object per item).
pub fn field_of(page: &Value, field: &str) -> Vec<Value> {
    let items = page["items"].as_array().cloned().unwrap_or_default();
    match page["columns"].as_array() {
        Some(columns) => {
            let at = columns
                .iter()
                .position(|c| c == field)
                .unwrap_or_else(|| panic!("no column {field}: {page}"));
            items.iter().map(|row| row[at].clone()).collect()
        }
        None => items.iter().map(|item| item[field].clone()).collect(),
    }
}

/// The `key`s of a page of tickets, compact or full.
pub fn ticket_keys(page: &Value) -> Vec<String> {
    field_of(page, "key")
        .iter()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// Checks that `page` is the last page of a list: `has_more` false and no `next_cursor`.
pub fn assert_last_page(page: &Value) {
    assert_eq!(page["has_more"], json!(false), "more pages: {page}");
    assert_eq!(page["next_cursor"], json!(null), "a cursor past the last page: {page}");
}

/// The string `field` of each object in a JSON array (`list` must be an array; entries where
/// `field` is not a string are left out).
pub fn names_in(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .filter_map(|x| x[field].as_str().map(str::to_string))
        .collect()
}

/// Checks that a request the mock received carried the query pair `key=value`.
pub fn assert_query_has(request: &JournalEntry, key: &str, value: &str) {
    let pair = (key.to_string(), value.to_string());
    assert!(
        request.query.contains(&pair),
        "{key}={value} not in {:?}",
        request.query
    );
}

/// The column names of a compact page, written as one space-separated line.
pub fn columns(names: &str) -> Vec<&str> {
    names.split(' ').collect()
}
