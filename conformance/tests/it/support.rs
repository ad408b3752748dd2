//! Shared helpers: where the fake server and its fixtures are, launches per mode and transport,
//! and a runner that plays the fake's scenarios and judges them against its expected files.

use alloy_conformance::driver::stdio::CommandSpec;
use alloy_conformance::driver::{Timeouts, Transport};
use alloy_conformance::era::Era;
use alloy_conformance::runner::{self, CaseOutcome, Fixtures, Launch};
use std::path::PathBuf;
use std::time::Duration;

/// The fake server binary built by Cargo for these tests.
pub fn fake_bin() -> &'static str {
    env!("CARGO_BIN_EXE_fake-mcp-server")
}

/// `alloy-conformance <command> --stdio <stdio> [--fixtures DIR] <generous timeouts> <extra>`
/// against the fake in `mode`: its output once it exits.
pub fn conformance_cli(
    command: &str,
    stdio: &str,
    fixtures: Option<&std::path::Path>,
    mode: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_alloy-conformance"));
    cmd.arg(command).arg("--stdio").arg(stdio);
    if let Some(dir) = fixtures {
        cmd.arg("--fixtures").arg(dir);
    }
    cmd.args(["--timeout", "20", "--handshake-timeout", "20"])
        .args(extra)
        .env("FAKE_MCP_MODE", mode)
        .output()
        .expect("the CLI runs")
}

/// A command's stdout as text.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `conformance/tests/fake`: the fake's scenarios and expected transcripts.
pub fn fake_fixtures() -> Fixtures {
    Fixtures::under(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fake"))
}

/// Generous limits for healthy servers (debug builds on a busy machine).
pub fn timeouts() -> Timeouts {
    Timeouts {
        handshake: Duration::from_secs(20),
        request: Duration::from_secs(20),
    }
}

/// The fake in `mode` over `transport`.
pub fn launch(mode: &str, transport: Transport) -> Launch {
    let command = CommandSpec::new(fake_bin(), &[]).with_env("FAKE_MCP_MODE", mode);
    match transport {
        Transport::Stdio => Launch::Stdio(command),
        t => Launch::SpawnedHttp { command, transport: t },
    }
}

/// Plays the fake's scenarios matching `only` in `mode` over `transports` in `eras`, judged
/// against `tests/fake/expected`.
pub async fn run_fake(
    mode: &str,
    transports: &[Transport],
    eras: &[Era],
    only: Option<&str>,
    timeouts: Timeouts,
) -> Vec<CaseOutcome> {
    let launches: Vec<Launch> = transports.iter().map(|t| launch(mode, *t)).collect();
    let options = runner::RunOptions {
        eras,
        only,
        shared: None,
        timeouts,
        jobs: 4,
    };
    runner::run_all(&fake_fixtures(), &launches, options, &mut |_| {})
        .await
        .expect("the fake's scenarios load")
}

/// The outcome of `id` on `transport` in the handshake era.
pub fn outcome<'a>(outcomes: &'a [CaseOutcome], id: &str, transport: Transport) -> &'a CaseOutcome {
    outcome_in(outcomes, id, transport, Era::Handshake)
}

/// The outcome of `id` on `transport` in `era`.
pub fn outcome_in<'a>(outcomes: &'a [CaseOutcome], id: &str, transport: Transport, era: Era) -> &'a CaseOutcome {
    outcomes
        .iter()
        .find(|o| o.id == id && o.transport == transport && o.era == era)
        .unwrap_or_else(|| panic!("no outcome for {id} [{transport} {era}]"))
}
