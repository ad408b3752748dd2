//! [`MockAlloy`]: the running mock. One wiremock `MockServer` on a loopback port, one stateful
//! responder mounted at the lowest priority that routes every request through
//! [`crate::routes::handle`], and scoped faults mounted above it whose [`FaultGuard`] removes
//! them when dropped. The journal records every request the mock received.

use crate::model::OrgRole;
use crate::routes::{RawRequest, Route, all_routes, handle};
use crate::seed::{Seed, SeedKeys};
use crate::store::{RegistrationMode, Settings, Store};
use crate::values::{Clock, DEFAULT_FIXED_NOW, Ts};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockGuard, MockServer, Request, Respond, ResponseTemplate};

/// How to start a mock.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Address to bind; default a random loopback port.
    pub bind: Option<SocketAddr>,
    /// Sequential ids, counter secrets and a fixed clock.
    pub deterministic: bool,
    /// The fixed instant of deterministic mode (default `2026-04-01T12:00:00.000Z`).
    pub fixed_now: Option<Ts>,
    /// Seed directory (holding `seed.json`) to load.
    pub seed_dir: Option<PathBuf>,
    /// An already parsed seed to load (e.g. [`Seed::bundled`]); takes precedence over `seed_dir`.
    pub seed: Option<Seed>,
    /// Authenticated calls per token per minute; `0` = off.
    pub rate_limit_per_minute: u32,
    /// Public auth calls per client per minute; `0` = off.
    pub auth_rate_limit_per_minute: u32,
    /// Registration mode.
    pub registration: RegistrationMode,
    /// How many journal entries to keep (oldest dropped first).
    pub journal_capacity: usize,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            bind: None,
            deterministic: false,
            fixed_now: None,
            seed_dir: None,
            seed: None,
            rate_limit_per_minute: 0,
            auth_rate_limit_per_minute: 0,
            registration: RegistrationMode::InviteOnly,
            journal_capacity: 100_000,
        }
    }
}

impl MockOptions {
    /// Deterministic mode with the bundled seed (`fixtures/seed`): what tests and the
    /// conformance harness use. The seed compiled into the crate is used, so this works from
    /// any directory; the seed directory is the fallback.
    pub fn seeded_deterministic() -> MockOptions {
        MockOptions {
            deterministic: true,
            seed: Seed::bundled().ok(),
            seed_dir: Some(default_seed_dir()),
            ..MockOptions::default()
        }
    }
}

/// The bundled seed directory of this repository.
pub fn default_seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures")
        .join("seed")
}

/// One request the mock received.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query pairs in order.
    pub query: Vec<(String, String)>,
    /// The first 15 characters of the bearer token (an API key's public prefix), if any.
    pub token_prefix: Option<String>,
    /// JSON body (or the body as a string when it was not JSON).
    pub body: Option<Value>,
    /// Status the mock answered (`None` for a dropped connection).
    pub status: Option<u16>,
}

struct Shared {
    store: Mutex<Store>,
    routes: Vec<Route>,
    journal: Mutex<VecDeque<JournalEntry>>,
    journal_capacity: usize,
}

impl Shared {
    fn record(&self, entry: JournalEntry) {
        let mut j = self.journal.lock();
        if j.len() >= self.journal_capacity {
            j.pop_front();
        }
        j.push_back(entry);
    }

    fn serve(&self, request: &Request, delay: Option<Duration>) -> ResponseTemplate {
        let raw = to_raw(request);
        let resp = {
            let mut store = self.store.lock();
            handle(&mut store, &self.routes, &raw)
        };
        self.record(journal_entry(&raw, Some(resp.status)));
        let mut t = ResponseTemplate::new(resp.status);
        for (k, v) in &resp.headers {
            t = t.append_header(k.as_str(), v.as_str());
        }
        if let Some(ct) = resp.content_type {
            t = t.set_body_raw(resp.body, ct);
        }
        if let Some(d) = delay {
            t = t.set_delay(d);
        }
        t
    }
}

fn to_raw(request: &Request) -> RawRequest {
    let headers: BTreeMap<String, String> = request
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    RawRequest {
        method: request.method.as_str().to_ascii_uppercase(),
        path: request.url.path().to_string(),
        query: request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
        body: request.body.clone(),
    }
}

fn journal_entry(raw: &RawRequest, status: Option<u16>) -> JournalEntry {
    let token_prefix = raw.headers.get("authorization").and_then(|h| {
        h.split_once(' ')
            .map(|(_, t)| t.trim().chars().take(15).collect::<String>())
    });
    let body = if raw.body.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&raw.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw.body).into_owned())),
        )
    };
    JournalEntry {
        method: raw.method.clone(),
        path: raw.path.clone(),
        query: raw.query.clone(),
        token_prefix,
        body,
        status,
    }
}

struct Stateful(Arc<Shared>);

impl Respond for Stateful {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.serve(request, None)
    }
}

/// What a fault does to the requests it matches.
#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Answer with this status and an error envelope, without touching state.
    Status(u16),
    /// Handle the request normally, but answer only after the delay.
    Delay(Duration),
    /// Answer 200 with a body that is not JSON.
    MalformedBody,
    /// Close the connection without answering.
    DropConnection,
    /// Answer 429 `rate_limited` with `Retry-After: secs`.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after: u64,
    },
}

/// A scoped fault: which requests it hits and what it does.
#[derive(Clone, Debug)]
pub struct Fault {
    kind: FaultKind,
    method: Option<String>,
    path_regex: String,
    times: Option<u64>,
}

impl Fault {
    /// A fault hitting every request.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            method: None,
            path_regex: "^/".into(),
            times: None,
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_ascii_uppercase());
        self
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: &str) -> Fault {
        self.path_regex = format!("^{}", regex_escape(prefix));
        self
    }

    /// Only requests whose path equals `path`.
    pub fn path(mut self, path: &str) -> Fault {
        self.path_regex = format!("^{}$", regex_escape(path));
        self
    }

    /// At most `n` requests; after that the mock behaves normally again.
    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// Marker payload used to unwind a connection task without invoking the panic hook.
struct DroppedConnection;

struct FaultResponder {
    shared: Arc<Shared>,
    kind: FaultKind,
}

impl Respond for FaultResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let raw = to_raw(request);
        match &self.kind {
            FaultKind::Delay(d) => self.shared.serve(request, Some(*d)),
            FaultKind::Status(s) => {
                self.shared.record(journal_entry(&raw, Some(*s)));
                let (code, msg) = match s {
                    500 => ("internal", "injected internal error"),
                    502..=504 => ("unavailable", "injected upstream unavailability"),
                    _ => ("injected", "injected fault"),
                };
                let e = crate::error::ApiError::new(*s, code, msg, Default::default());
                ResponseTemplate::new(*s).set_body_json(e.body())
            }
            FaultKind::MalformedBody => {
                self.shared.record(journal_entry(&raw, Some(200)));
                ResponseTemplate::new(200).set_body_raw(b"{\"items\": [tru".to_vec(), "application/json")
            }
            FaultKind::RateLimited { retry_after } => {
                self.shared.record(journal_entry(&raw, Some(429)));
                let e = crate::error::ApiError::rate_limited(*retry_after as i64);
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", retry_after.to_string().as_str())
                    .set_body_json(e.body())
            }
            FaultKind::DropConnection => {
                self.shared.record(journal_entry(&raw, None));
                // `resume_unwind` skips the panic hook: the connection task ends quietly and
                // hyper closes the socket without a response. The mock keeps serving.
                std::panic::resume_unwind(Box::new(DroppedConnection))
            }
        }
    }
}

/// Keeps a fault active; dropping it removes the fault.
pub struct FaultGuard {
    _guard: MockGuard,
}

/// A running mock Alloy API.
pub struct MockAlloy {
    server: MockServer,
    shared: Arc<Shared>,
    keys: SeedKeys,
}

impl MockAlloy {
    /// An empty, non-deterministic mock on a random loopback port.
    pub async fn start() -> anyhow::Result<MockAlloy> {
        Self::start_with(MockOptions::default()).await
    }

    /// The bundled seed in deterministic mode on a random loopback port.
    pub async fn start_seeded() -> anyhow::Result<MockAlloy> {
        Self::start_with(MockOptions::seeded_deterministic()).await
    }

    /// Starts a mock with the given options.
    pub async fn start_with(opts: MockOptions) -> anyhow::Result<MockAlloy> {
        let clock = if opts.deterministic {
            let now = opts.fixed_now.or_else(|| Ts::parse(DEFAULT_FIXED_NOW)).unwrap_or(Ts(0));
            Clock::Fixed(now)
        } else {
            Clock::System
        };
        let settings = Settings {
            deterministic: opts.deterministic,
            rate_limit_per_minute: opts.rate_limit_per_minute,
            auth_rate_limit_per_minute: opts.auth_rate_limit_per_minute,
            registration: opts.registration,
        };
        let mut store = Store::new(settings, clock);
        let keys = match (&opts.seed, &opts.seed_dir) {
            (Some(seed), _) => seed.apply(&mut store)?,
            (None, Some(dir)) => Seed::load_dir(dir)?.apply(&mut store)?,
            (None, None) => SeedKeys::default(),
        };
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            routes: all_routes(),
            journal: Mutex::new(VecDeque::new()),
            journal_capacity: opts.journal_capacity.max(1),
        });
        let mut builder = MockServer::builder().disable_request_recording();
        let addr = opts.bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("cannot bind the mock API to {addr}: {e}"))?;
        builder = builder.listener(listener);
        let server = builder.start().await;
        Mock::given(path_regex("^/"))
            .respond_with(Stateful(shared.clone()))
            .with_priority(u8::MAX)
            .named("alloy stateful API")
            .mount(&server)
            .await;
        Ok(MockAlloy { server, shared, keys })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// Bound socket address.
    pub fn address(&self) -> SocketAddr {
        *self.server.address()
    }

    /// The seeded API keys.
    pub fn keys(&self) -> &SeedKeys {
        &self.keys
    }

    /// The raw API key of the seeded user with `role` in the primary org.
    pub fn key(&self, role: OrgRole) -> &str {
        self.keys.for_role(role)
    }

    /// Every request received so far (oldest first).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.lock().iter().cloned().collect()
    }

    /// Returns and clears the journal.
    pub fn take_journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.lock().drain(..).collect()
    }

    /// Runs `f` with the store locked (for assertions and test setup).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.shared.store.lock())
    }

    /// Moves a fixed clock to `now` (deterministic mode only; ignored otherwise).
    pub fn set_now(&self, now: Ts) {
        let mut s = self.shared.store.lock();
        if let Clock::Fixed(_) = s.clock {
            s.clock = Clock::Fixed(now);
        }
    }

    /// Moves a fixed clock forward (deterministic mode only).
    pub fn advance(&self, by: Duration) {
        let mut s = self.shared.store.lock();
        if let Clock::Fixed(t) = s.clock {
            s.clock = Clock::Fixed(Ts(t.0 + by.as_millis() as i64));
        }
    }

    /// Activates a fault until the returned guard is dropped.
    pub async fn fault(&self, fault: Fault) -> FaultGuard {
        let mut mock = Mock::given(path_regex(fault.path_regex.as_str()));
        if let Some(m) = &fault.method {
            mock = mock.and(method(m.as_str()));
        }
        let mut mock = mock
            .respond_with(FaultResponder {
                shared: self.shared.clone(),
                kind: fault.kind.clone(),
            })
            .with_priority(1)
            .named("injected fault");
        if let Some(n) = fault.times {
            mock = mock.up_to_n_times(n);
        }
        FaultGuard {
            _guard: self.server.register_as_scoped(mock).await,
        }
    }
}
