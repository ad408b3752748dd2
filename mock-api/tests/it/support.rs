//! Shared test support: `spawn()` starts a seeded, deterministic mock on a random loopback port
//! and returns an [`Api`] client with one method per HTTP verb, each returning the status and
//! the parsed JSON body, so that tests read as request/expectation pairs.

#![allow(dead_code)] // Not every test module uses every helper.

use alloy_mock_api::model::OrgRole;
use alloy_mock_api::{MockAlloy, MockOptions};
use serde_json::{Value, json};

/// A running mock plus an HTTP client.
pub struct Api {
    /// The mock.
    pub mock: MockAlloy,
    /// The HTTP client.
    pub http: reqwest::Client,
}

/// A response: status, body as JSON (`Value::Null` when empty), and headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    /// The `Location` header of a creation.
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .expect("a Location header")
            .to_str()
            .expect("ascii")
            .to_string()
    }

    /// The error envelope's `code`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The error envelope's `details.reason`.
    pub fn reason(&self) -> &str {
        self.body["error"]["details"]["reason"].as_str().unwrap_or("")
    }

    /// The per-field problems of a 400/422 (`error.details.fields`).
    pub fn fields(&self) -> &Value {
        &self.body["error"]["details"]["fields"]
    }

    /// The string `field` of every item of the body's array `list` (items without it are skipped).
    pub fn strings(&self, list: &str, field: &str) -> Vec<&str> {
        assert!(self.body[list].is_array(), "{list}: {}", self.text);
        strings(&self.body[list], field)
    }

    /// The `id` of the returned record.
    pub fn id(&self) -> &str {
        self.body["id"].as_str().expect("id")
    }

    /// Asserts the status (showing the body when it differs).
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    /// Asserts a 404 whose `details.resource` names `resource`.
    pub fn not_found(&self, resource: &str) {
        let got = self.body["error"]["details"]["resource"].as_str();
        assert_eq!((self.status, got), (404, Some(resource)), "{}", self.text);
    }
}

/// The string `field` of every element of the array `v` (elements without it are skipped).
pub fn strings<'a>(v: &'a Value, field: &str) -> Vec<&'a str> {
    let items = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    items.iter().filter_map(|x| x[field].as_str()).collect()
}

/// The created/updated/skipped counts of one table in an import's `counts`.
pub fn tally(created: u64, updated: u64, skipped: u64) -> Value {
    json!({"created": created, "updated": updated, "skipped": skipped})
}

/// The `name` of every element of the array `v` (elements without one are skipped).
pub fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

/// Starts the seeded deterministic mock.
pub async fn spawn() -> Api {
    spawn_with(MockOptions::seeded_deterministic()).await
}

/// Starts the seeded deterministic mock; returns it with the seeded key of `role`.
pub async fn spawn_as(role: OrgRole) -> (Api, String) {
    let api = spawn().await;
    let key = api.key(role);
    (api, key)
}

/// Starts a mock with options.
pub async fn spawn_with(opts: MockOptions) -> Api {
    let mock = MockAlloy::start_with(opts).await.expect("mock starts");
    Api {
        mock,
        http: reqwest::Client::new(),
    }
}

impl Api {
    /// The seeded key of a role in the primary org.
    pub fn key(&self, role: OrgRole) -> String {
        let k = self.mock.key(role).to_string();
        assert!(!k.is_empty(), "the seed has no {role} key");
        k
    }

    /// The full URL of `path` on the mock.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.mock.base_url())
    }

    /// POSTs the raw `body` to `path` as `key`, sent as `content_type`: the raw response.
    pub async fn post_raw(
        &self,
        key: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let req = self.http.post(self.url(path)).bearer_auth(key);
        let req = req.header("content-type", content_type).body(body);
        req.send().await.expect("the mock answers")
    }

    /// Sends a request with an optional key and JSON body.
    pub async fn send(&self, method: &str, key: Option<&str>, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{}", self.mock.base_url(), path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request reaches the mock");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        Resp {
            status,
            body,
            headers,
            text,
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> Resp {
        self.send("GET", Some(key), path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Resp {
        self.send("POST", Some(key), path, Some(body)).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> Resp {
        self.send("PATCH", Some(key), path, Some(body)).await
    }

    pub async fn put(&self, key: &str, path: &str, body: Value) -> Resp {
        self.send("PUT", Some(key), path, Some(body)).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Resp {
        self.send("DELETE", Some(key), path, None).await
    }

    /// POSTs `body` to `path` as `key` and asserts `201 Created`.
    pub async fn create(&self, key: &str, path: &str, body: Value) -> Resp {
        let r = self.post(key, path, body).await;
        r.expect(201);
        r
    }

    /// The status of a GET of `path` as `key`.
    pub async fn status(&self, key: &str, path: &str) -> u16 {
        self.get(key, path).await.status
    }

    /// Injects a fault until the guard is dropped (see `MockAlloy::fault`).
    pub async fn fault(&self, fault: alloy_mock_api::Fault) -> alloy_mock_api::FaultGuard {
        self.mock.fault(fault).await
    }

    /// Asserts that a GET of each `(path, status, reason)` as `key` is refused so.
    pub async fn refuses_gets(&self, key: &str, cases: &[(&str, u16, &str)]) {
        for (path, status, reason) in cases {
            let r = self.get(key, path).await;
            assert_eq!((r.status, r.reason()), (*status, *reason), "{path}: {}", r.text);
        }
    }

    /// Follows `next_cursor` to the end and returns every item.
    pub async fn list_all(&self, key: &str, path: &str, limit: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let r = self.get(key, &url).await;
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let items = r.body["items"].as_array().expect("items").clone();
            assert!(items.len() <= limit);
            out.extend(items);
            assert_eq!(r.body["has_more"], json!(!r.body["next_cursor"].is_null()));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        out
    }

    /// Every item of a list, walked 50 at a time (see [`Api::list_all`]).
    pub async fn every(&self, key: &str, path: &str) -> Vec<Value> {
        self.list_all(key, path, 50).await
    }

    /// Creates a project in the caller's org and returns it.
    pub async fn project(&self, key: &str, project_key: &str) -> Value {
        let r = self
            .post(
                key,
                "/api/v1/projects",
                json!({"key": project_key, "name": format!("Project {project_key}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// Creates a ticket and returns it.
    pub async fn ticket(&self, key: &str, project: &str, title: &str) -> Value {
        let r = self
            .post(
                key,
                &format!("/api/v1/projects/{project}/tickets"),
                json!({"title": title}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }
}

impl std::ops::Deref for Org {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Keys of a hand-built org: one user per role, plus the Owner of a second org.
pub struct Org {
    pub api: Api,
    pub org_id: String,
    pub owner: String,
    pub admin: String,
    pub member: String,
    pub reporter: String,
    pub viewer: String,
    /// Owner of another org (isolation tests).
    pub other: String,
    /// User ids by role name (`"Owner"`, ...).
    pub users: std::collections::BTreeMap<String, String>,
}

impl Org {
    /// The key of a role.
    pub fn key(&self, role: OrgRole) -> &str {
        match role {
            OrgRole::Owner => &self.owner,
            OrgRole::Admin => &self.admin,
            OrgRole::Member => &self.member,
            OrgRole::Reporter => &self.reporter,
            OrgRole::Viewer => &self.viewer,
        }
    }

    /// Gives the user of `role` the read-write API key `raw` (named `name`), restricted to the
    /// project whose uuid is `project`.
    pub fn restricted_key(&self, role: OrgRole, name: &str, raw: &str, project: &str) {
        use alloy_mock_api::model::ApiKeyScope::{Read, Write};
        let org = self.org_id.parse().expect("org uuid");
        let user = self.user(role).parse().expect("user uuid");
        let project = project.parse().expect("project uuid");
        self.mock.with_store(|s| {
            s.insert_api_key(org, user, name, raw, vec![Read, Write], vec![project], None);
        });
    }

    /// The path of this org, `/api/v1/orgs/{org_id}`, followed by `tail`.
    pub fn org_path(&self, tail: &str) -> String {
        format!("/api/v1/orgs/{}{tail}", self.org_id)
    }

    /// The user id of a role.
    pub fn user(&self, role: OrgRole) -> String {
        self.users[role.as_str()].clone()
    }
}

/// [`org`] and the path of this org followed by `tail` (see [`Org::org_path`]).
pub async fn org_at(tail: &str) -> (Org, String) {
    let o = org().await;
    let path = o.org_path(tail);
    (o, path)
}

/// An empty deterministic mock with one org holding a user (and API key) per role, and a
/// second org with its own Owner. Independent of the seed file.
pub async fn org() -> Org {
    let api = spawn_with(MockOptions {
        deterministic: true,
        ..MockOptions::default()
    })
    .await;
    use alloy_mock_api::model::ApiKeyScope::{Read, Write};
    let (org_id, users, other) = api.mock.with_store(|s| {
        let owner = s.add_user("owner@acme.test", "Olivia Owner", Some("password1"));
        let org = s.create_org("Acme".into(), "acme".into(), owner);
        let mut users = std::collections::BTreeMap::new();
        for role in OrgRole::ALL {
            let lower = role.as_str().to_lowercase();
            let id = if *role == OrgRole::Owner {
                owner
            } else {
                let id = s.add_user(
                    &format!("{lower}@acme.test"),
                    &format!("{} User", role.as_str()),
                    Some("password1"),
                );
                s.set_membership(org, id, *role);
                id
            };
            s.insert_api_key(
                org,
                id,
                "test",
                &format!("alloy_test_{lower}0000000000000000000000000000"),
                vec![Read, Write],
                vec![],
                None,
            );
            users.insert(role.as_str().to_string(), id.to_string());
        }
        let o2 = s.add_user("owner@globex.test", "Gina Globex", Some("password1"));
        let org2 = s.create_org("Globex".into(), "globex".into(), o2);
        s.insert_api_key(
            org2,
            o2,
            "test",
            "alloy_test_globex000000000000000000000000000",
            vec![Read, Write],
            vec![],
            None,
        );
        (
            org.to_string(),
            users,
            "alloy_test_globex000000000000000000000000000".to_string(),
        )
    });
    let k = |r: &str| format!("alloy_test_{r}0000000000000000000000000000");
    Org {
        api,
        org_id,
        owner: k("owner"),
        admin: k("admin"),
        member: k("member"),
        reporter: k("reporter"),
        viewer: k("viewer"),
        other,
        users,
    }
}
