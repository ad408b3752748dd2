//! Finding the server binary and what it offers, launches per transport, and notices that stay
//! visible in `cargo test` output even when the test passes.

use alloy_conformance::driver::stdio::CommandSpec;
use alloy_conformance::driver::{Timeouts, Transport};
use alloy_conformance::local::{self, Offered};
use alloy_conformance::runner::Launch;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The transports the issue asks every scenario to pass on, in report order.
pub const WANTED: [Transport; 2] = [Transport::Stdio, Transport::Http];

/// The local `alloy-mcp` and what it offers.
pub struct Server {
    /// The binary.
    pub binary: PathBuf,
    /// Transports it speaks and the ones it does not.
    pub offered: Offered,
}

impl Server {
    /// Finds the binary next to this test executable (or at `$ALLOY_MCP_BIN`) and probes its
    /// transports. Panics with the build command when it is missing; warns when it is older
    /// than the server's sources.
    pub async fn find() -> Server {
        let explicit = std::env::var_os("ALLOY_MCP_BIN").map(PathBuf::from);
        let binary = local::locate(explicit.as_deref(), false).unwrap_or_else(|e| {
            panic!("{e:#}\n(`cargo test -p alloy-conformance` runs the server binary but never builds it; `.ci/run` builds it first)")
        });
        if let Some(w) = local::staleness_warning(&binary) {
            notice(&format!("WARNING: {w}"));
        }
        let offered = local::probe(&binary, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        Server { binary, offered }
    }

    /// The transports of [`WANTED`] the binary offers; each one it does not is announced.
    pub fn transports(&self, test: &str) -> Vec<Transport> {
        for (t, why) in &self.offered.missing {
            if WANTED.contains(t) {
                notice(&format!("SKIPPED transport {t} in `{test}`: {why}"));
            }
        }
        WANTED.into_iter().filter(|t| self.offered.offers(*t)).collect()
    }

    /// How to reach the server over `transport` (spawned per case).
    pub fn launch(&self, transport: Transport) -> Launch {
        let command = CommandSpec::new(self.binary.to_string_lossy(), &[]);
        match transport {
            Transport::Stdio => Launch::Stdio(command),
            t => Launch::SpawnedHttp { command, transport: t },
        }
    }
}

/// Generous limits: debug builds on a busy machine.
pub fn timeouts() -> Timeouts {
    Timeouts {
        handshake: Duration::from_secs(30),
        request: Duration::from_secs(30),
    }
}

/// Writes straight to the process's stderr, which the test harness does not capture, so the
/// line shows in `cargo test` output whether or not the test passes.
pub fn notice(line: &str) {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "alloy-conformance: {line}");
}
