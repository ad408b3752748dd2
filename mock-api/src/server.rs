//! [`MockAlloy`]: the running mock. One HTTP server ([`crate::http`]) on a loopback port whose
//! handler checks the faults in force ([`crate::fault`]) and otherwise routes the request
//! through [`crate::routes::handle`] with the store locked; a [`FaultGuard`] removes its fault
//! when dropped. The bounded [`Journal`] records what the mock received. An optional admin
//! listener ([`crate::admin`]) on another address controls faults and the journal over HTTP.

use crate::fault::{Fault, FaultKind, Faults};
use crate::http::{Answer, Response, Server};
use crate::journal::{Journal, JournalEntry, JournalLimits, JournalStats};
use crate::model::OrgRole;
use crate::routes::{RawRequest, Routes, all_routes, handle};
use crate::seed::{Seed, SeedKeys};
use crate::store::{RegistrationMode, Settings, Store};
use crate::values::{Clock, DEFAULT_FIXED_NOW, Ts};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// How much of what it received the mock keeps in its journal.
    pub journal: JournalLimits,
    /// Where to serve the admin listener (faults and journal over HTTP, see [`crate::admin`]);
    /// `None` (the default) = no listener. It must differ from the API's address.
    pub admin_bind: Option<SocketAddr>,
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
            journal: JournalLimits::default(),
            admin_bind: None,
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

/// Everything the handler and the handle share.
struct Shared {
    store: Mutex<Store>,
    routes: Routes,
    journal: Arc<Mutex<Journal>>,
    faults: Arc<Mutex<Faults>>,
}

/// A JSON response with an error envelope.
fn json_response(status: u16, headers: Vec<(String, String)>, body: &serde_json::Value) -> Response {
    let mut headers = headers;
    headers.push(("Content-Type".into(), "application/json".into()));
    Response {
        status,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

impl Shared {
    /// The shared state of a mock over `store`.
    fn new(store: Store, journal: JournalLimits) -> Shared {
        Shared {
            store: Mutex::new(store),
            routes: all_routes(),
            journal: Arc::new(Mutex::new(Journal::new(journal))),
            faults: Arc::new(Mutex::new(Faults::default())),
        }
    }

    /// Answers one request of the API: a fault in force, or the stateful pipeline.
    fn answer(&self, raw: &RawRequest<'_>) -> Answer {
        let fault = self.faults.lock().take(&raw.method, &raw.path);
        let (answer, status) = match fault {
            None => {
                let r = self.serve(raw);
                let status = r.status;
                (Answer::Respond(r, None), Some(status))
            }
            Some(FaultKind::Delay(d)) => {
                let r = self.serve(raw);
                let status = r.status;
                (Answer::Respond(r, Some(d)), Some(status))
            }
            Some(FaultKind::Status(s)) => {
                let (code, msg) = match s {
                    500 => ("internal", "injected internal error"),
                    502..=504 => ("unavailable", "injected upstream unavailability"),
                    _ => ("injected", "injected fault"),
                };
                let e = crate::error::ApiError::new(s, code, msg, Default::default());
                (Answer::Respond(json_response(s, Vec::new(), &e.body()), None), Some(s))
            }
            Some(FaultKind::MalformedBody) => {
                let r = Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: b"{\"items\": [tru".to_vec(),
                };
                (Answer::Respond(r, None), Some(200))
            }
            Some(FaultKind::RateLimited { retry_after }) => {
                let e = crate::error::ApiError::rate_limited(retry_after as i64);
                let headers = vec![("Retry-After".to_string(), retry_after.to_string())];
                (Answer::Respond(json_response(429, headers, &e.body()), None), Some(429))
            }
            Some(FaultKind::DropConnection) => (Answer::Drop, None),
        };
        self.journal.lock().record(raw, status);
        answer
    }

    /// The stateful pipeline, with the store locked for the whole request.
    fn serve(&self, raw: &RawRequest<'_>) -> Response {
        let resp = {
            let mut store = self.store.lock();
            handle(&mut store, &self.routes, raw)
        };
        let mut headers = resp.headers;
        if let Some(ct) = resp.content_type {
            headers.push(("Content-Type".into(), ct.into()));
        }
        Response {
            status: resp.status,
            headers,
            body: resp.body,
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
        self.shared.faults.lock().remove(self.id);
    }
}

/// A running mock Alloy API; dropping it stops the server and the admin listener.
pub struct MockAlloy {
    server: Server,
    admin: Option<Server>,
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
        opts.journal.validate().map_err(anyhow::Error::msg)?;
        if let (Some(api), Some(admin)) = (opts.bind, opts.admin_bind) {
            crate::admin::check_apart(admin, api)?;
        }
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
        let shared = Arc::new(Shared::new(store, opts.journal));
        if let Some(c) = shared.routes.conflicts().first() {
            anyhow::bail!("the mock's route table is inconsistent ({c}); this is a bug in alloy-mock-api");
        }
        let addr = opts.bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("cannot bind the mock API to {addr}: {e}"))?;
        let api_addr = listener.local_addr()?;
        let admin = match opts.admin_bind {
            None => None,
            Some(a) => {
                let (faults, journal) = (shared.faults.clone(), shared.journal.clone());
                Some(crate::admin::start(
                    a,
                    api_addr,
                    crate::admin::Controls { faults, journal },
                )?)
            }
        };
        let handler_shared = shared.clone();
        let server = Server::start(listener, Arc::new(move |req| handler_shared.answer(req)))
            .map_err(|e| anyhow::anyhow!("cannot start the mock API on {api_addr}: {e}"))?;
        Ok(MockAlloy {
            server,
            admin,
            shared,
            keys,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.address())
    }

    /// Bound socket address.
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The admin listener's address, when one was asked for ([`MockOptions::admin_bind`]).
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(Server::address)
    }

    /// The seeded API keys.
    pub fn keys(&self) -> &SeedKeys {
        &self.keys
    }

    /// The raw API key of the seeded user with `role` in the primary org.
    pub fn key(&self, role: OrgRole) -> &str {
        self.keys.for_role(role)
    }

    /// Every request the journal still holds (oldest first; see [`MockOptions::journal`]).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.lock().entries()
    }

    /// Returns and clears the journal.
    pub fn take_journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.lock().take()
    }

    /// How full the journal is: entries, accounted bytes, evictions and truncations.
    pub fn journal_stats(&self) -> JournalStats {
        self.shared.journal.lock().stats()
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

    /// Activates a fault until the returned guard is dropped. Faults are checked newest first,
    /// so guards can end in any order.
    pub async fn fault(&self, fault: Fault) -> FaultGuard {
        let id = self.shared.faults.lock().add(fault);
        FaultGuard {
            shared: self.shared.clone(),
            id,
        }
    }
}
