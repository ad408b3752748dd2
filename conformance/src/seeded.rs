//! The deterministic mock every case runs on: its options (the bundled seed) and the API keys
//! that seed creates, by role. Below the runner and the transcript, which both need it.

use alloy_mock_api::{MockOptions, default_seed_dir};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Options of the deterministic mock used for every case: the bundled seed when
/// `fixtures/seed/seed.json` exists (otherwise an empty deterministic store, with a warning).
pub fn mock_options(bind: Option<SocketAddr>) -> (MockOptions, Option<String>) {
    let mut opts = MockOptions::seeded_deterministic();
    let mut warning = None;
    if !default_seed_dir().join("seed.json").exists() {
        opts.seed_dir = None;
        warning = Some(format!(
            "no seed at {}: the mock API starts empty (no org, no keys)",
            default_seed_dir().join("seed.json").display()
        ));
    }
    opts.bind = bind;
    (opts, warning)
}

/// The seeded API keys of the bundled seed (the keys of every `run` and of the sandbox) with the
/// role name each stands for (`Owner`, …, `OtherOrgOwner`; see [`crate::scenario::Role::name`]).
pub fn seeded_key_names() -> &'static [(String, String)] {
    static KEYS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (opts, _) = mock_options(None);
        let Some(seed) = opts.seed else {
            return Vec::new();
        };
        let settings = alloy_mock_api::store::Settings {
            deterministic: true,
            ..Default::default()
        };
        let now = alloy_mock_api::Ts::parse(alloy_mock_api::values::DEFAULT_FIXED_NOW).unwrap_or(alloy_mock_api::Ts(0));
        let mut store = alloy_mock_api::Store::new(settings, alloy_mock_api::values::Clock::Fixed(now));
        match seed.apply(&mut store) {
            Ok(keys) => crate::scenario::Role::names_of_keys(&keys),
            Err(_) => Vec::new(),
        }
    })
}
