//! # alloy-mock-api
//!
//! A faithful, stateful stand-in for the Alloy REST API, served by hyper. It implements the
//! contract in `shared/alloy-reference/contract.md` (the project's copy of the decisions is in
//! ARCHITECTURE.md): every endpoint the 71 `alloy-mcp` tools need, with real state behind it,
//! roles and API-key scopes, cursor pagination, the one error envelope, rate limiting, and a
//! deterministic mode (sequential ids, fixed clock) for snapshot tests.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use alloy_mock_api::{MockAlloy, model::OrgRole};
//! let mock = MockAlloy::start_seeded().await?;
//! let url = mock.base_url();
//! let owner_key = mock.key(OrgRole::Owner);
//! # let _ = (url, owner_key); Ok(()) }
//! ```
//!
//! Deviations from the proposed contract are listed in ARCHITECTURE.md ("Mock API contract").

// Model fields mirror the wire format documented in the contract.
#![allow(missing_docs)]
// `ApiError` carries the whole envelope (details map, headers): boxing it would only add an
// allocation on the error path of a test double whose handlers are not a hot path.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod auth;
pub mod error;
pub mod fault;
pub mod http;
pub mod journal;
pub mod model;
pub mod page;
pub mod request;
pub mod routes;
pub mod seed;
pub mod server;
pub mod store;
pub mod values;

pub use error::{ApiError, ApiResult};
pub use fault::{Fault, FaultKind};
pub use journal::{JournalEntry, JournalLimits, JournalStats};
pub use server::{FaultGuard, MockAlloy, MockOptions, default_seed_dir};
pub use store::{RegistrationMode, Store};
pub use values::{Day, Ts};
