//! [`MockAlloy`]: the running mock. One wiremock `MockServer` on a loopback port, one stateful
//! responder mounted at the lowest priority that routes every request through
//! [`crate::routes::handle`]. Scoped faults are checked by that same responder before routing;
//! a [`FaultGuard`] removes its fault when dropped. (They are not separate wiremock mocks:
//! wiremock 0.6.5 re-sorts its mocks per request but deactivates scoped ones by their old
//! position, so dropping a guard could switch off the stateful responder instead.) The
//! journal records every request the mock received.

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
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
    /// Active faults, newest first; each guard removes its own entry by id.
    faults: Mutex<Vec<ActiveFault>>,
    next_fault_id: std::sync::atomic::AtomicU64,
}

/// A fault in force: its id (for the guard), its rule, and how many hits it has left.
struct ActiveFault {
    id: u64,
    fault: Fault,
    remaining: Option<u64>,
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
        match self.0.take_fault(request) {
            Some(kind) => self.0.apply_fault(request, &kind),
            None => self.0.serve(request, None),
        }
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
    path: PathRule,
    times: Option<u64>,
}

#[derive(Clone, Debug)]
enum PathRule {
    Any,
    Prefix(String),
    Exact(String),
}

impl Fault {
    /// A fault hitting every request.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            method: None,
            path: PathRule::Any,
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
        self.path = PathRule::Prefix(prefix.to_string());
        self
    }

    /// Only requests whose path equals `path`.
    pub fn path(mut self, path: &str) -> Fault {
        self.path = PathRule::Exact(path.to_string());
        self
    }

    /// At most `n` requests; after that the mock behaves normally again.
    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match &self.path {
            PathRule::Any => true,
            PathRule::Prefix(p) => path.starts_with(p.as_str()),
            PathRule::Exact(p) => path == p,
        };
        method_ok && path_ok
    }
}

/// Marker payload used to unwind a connection task without invoking the panic hook.
struct DroppedConnection;

impl Shared {
    /// The newest active fault matching the request, counting one hit against it.
    fn take_fault(&self, request: &Request) -> Option<FaultKind> {
        let mut faults = self.faults.lock();
        let method = request.method.as_str();
        let path = request.url.path();
        let pos = faults
            .iter()
            .position(|f| f.remaining != Some(0) && f.fault.matches(method, path))?;
        let f = &mut faults[pos];
        if let Some(n) = f.remaining.as_mut() {
            *n -= 1;
        }
        Some(f.fault.kind.clone())
    }

    fn apply_fault(&self, request: &Request, kind: &FaultKind) -> ResponseTemplate {
        let raw = to_raw(request);
        match kind {
            FaultKind::Delay(d) => self.serve(request, Some(*d)),
            FaultKind::Status(s) => {
                self.record(journal_entry(&raw, Some(*s)));
                let (code, msg) = match s {
                    500 => ("internal", "injected internal error"),
                    502..=504 => ("unavailable", "injected upstream unavailability"),
                    _ => ("injected", "injected fault"),
                };
                let e = crate::error::ApiError::new(*s, code, msg, Default::default());
                ResponseTemplate::new(*s).set_body_json(e.body())
            }
            FaultKind::MalformedBody => {
                self.record(journal_entry(&raw, Some(200)));
                ResponseTemplate::new(200).set_body_raw(b"{\"items\": [tru".to_vec(), "application/json")
            }
            FaultKind::RateLimited { retry_after } => {
                self.record(journal_entry(&raw, Some(429)));
                let e = crate::error::ApiError::rate_limited(*retry_after as i64);
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", retry_after.to_string().as_str())
                    .set_body_json(e.body())
            }
            FaultKind::DropConnection => {
                self.record(journal_entry(&raw, None));
                // `resume_unwind` skips the panic hook: the connection task ends quietly and
                // hyper closes the socket without a response. The mock keeps serving.
                std::panic::resume_unwind(Box::new(DroppedConnection))
            }
        }
    }
}

/// Keeps a fault active; dropping it removes exactly that fault.
pub struct FaultGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        self.shared.faults.lock().retain(|f| f.id != self.id);
    }
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
            faults: Mutex::new(Vec::new()),
            next_fault_id: std::sync::atomic::AtomicU64::new(1),
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

    /// Activates a fault until the returned guard is dropped. Faults live in the mock's own
    /// responder (not as wiremock mocks), newest first, so guards can end in any order.
    pub async fn fault(&self, fault: Fault) -> FaultGuard {
        let id = self
            .shared
            .next_fault_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let remaining = fault.times;
        self.shared
            .faults
            .lock()
            .insert(0, ActiveFault { id, fault, remaining });
        FaultGuard {
            shared: self.shared.clone(),
            id,
        }
    }
}
