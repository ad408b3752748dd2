//! `alloy-conformance record`: a transparent proxy between any MCP client and a server that
//! writes each client session as a scenario and its expected transcript, in the formats `run`
//! reads (see [`crate::recording`] for how a session maps onto the files).
//!
//! - `record --stdio CMD`: the client starts the recorder instead of the server; it spawns
//!   `CMD` behind itself ([`stdio`]).
//! - `record --http URL`: a loopback listener (`--listen`) forwarding to the running server at
//!   `URL`, Streamable HTTP and legacy HTTP+SSE, both eras ([`http`]).
//!
//! Unless `--no-mock`, the recorder starts the deterministic mock Alloy API that `run` starts
//! for each case (stdio: on a free port, handed to the server as `ALLOY_API_URL` with the
//! key of `--role`; HTTP: on `--mock-addr`, where the server under test must point, reset when a
//! session starts with no other open), records the upstream requests each step caused, and so
//! produces recordings `run` passes unchanged against the same server. Secrets never reach a
//! file: headers are not part of the formats (the `Authorization` key only picks the scenario's
//! `role`), API keys become role names or `<key-N>` and `--redact NAME` members `<redacted>`
//! (both in the one normalization).

pub mod http;
pub mod session;
pub mod stdio;

use crate::driver::Transport;
use crate::recording::{Meta, Writer};
use crate::scenario::Role;
use alloy_mock_api::MockAlloy;
use anyhow::bail;
use serde_json::Value;
use session::Session;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// The largest frame recorded (larger ones are forwarded, and the recording says it is
/// incomplete).
pub const FRAME_CAP: usize = 64 << 20;
/// The most one session records (later frames are forwarded, not recorded).
pub const SESSION_CAP: usize = 512 << 20;

/// `alloy-conformance record`.
#[derive(Clone, Debug, clap::Args)]
pub struct RecordArgs {
    /// Record a stdio server: its command line (run by `sh -c`). Configure the client to start
    /// `alloy-conformance record --stdio "<server command>"` instead of the server.
    #[arg(long, value_name = "CMD", required_unless_present = "http", conflicts_with = "http")]
    pub stdio: Option<String>,
    /// Record a running HTTP server (Streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp;
    /// legacy `/sse` on the same host is forwarded too). Clients connect to --listen instead.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Folder of the recordings: DIR/scenarios/<category>/<tool>__<case>.json and
    /// DIR/expected/<category>/<tool>__<case>.snap (`run --fixtures DIR` reads them).
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub out: PathBuf,
    /// Name of the recording, `[<category>/]<tool>__<case>` (default
    /// `recorded/session__<unix seconds>`); later sessions of the same run get `-2`, `-3`, ….
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The scenario's description (default: a sentence naming client, server, transport, era).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Replace the value of every JSON member with this name (in messages, JSON inside text
    /// content, upstream bodies and queries) by `<redacted>`; repeatable. Headers never reach
    /// the files; `Authorization` only picks the scenario's role.
    #[arg(long = "redact", value_name = "NAME")]
    pub redact: Vec<String>,
    /// stdio: whose seeded API key the server gets from the mock (Owner, Admin, Member,
    /// Reporter, Viewer, OtherOrgOwner). Default: the role of $ALLOY_API_TOKEN when that is a
    /// seeded key, else Owner. Over HTTP the client's own key decides.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Do not start the mock API: a stdio server keeps the environment the client gave it, an
    /// HTTP server its own API. The recording then holds no upstream requests (replay and
    /// verify work; `run`, which judges upstream requests too, differs where the server calls
    /// the API).
    #[arg(long)]
    pub no_mock: bool,
    /// HTTP: where the recorder listens for clients (a loopback address; port 0 picks one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3010")]
    pub listen: SocketAddr,
    /// HTTP: where the mock API listens; start the server under test with ALLOY_API_URL
    /// pointing here (port 0 picks one, printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub mock_addr: SocketAddr,
}

/// What both proxies share.
pub struct Ctx {
    /// The mock API, unless `--no-mock`.
    pub mock: Option<Arc<MockAlloy>>,
    /// stdio: the role whose key the server gets.
    pub role: Role,
    /// `--redact` names.
    pub redact: Vec<String>,
    /// `--description`.
    pub description: Option<String>,
    /// Where recordings go.
    pub writer: Mutex<Writer>,
}

/// Runs `record`.
pub async fn command(args: RecordArgs) -> anyhow::Result<ExitCode> {
    if let Some(bad) = args.redact.iter().find(|n| n.trim().is_empty()) {
        bail!("--redact {bad:?}: name a JSON member (e.g. --redact password)");
    }
    let writer = Writer::new(&args.out, args.name.as_deref())?;
    let role = match (&args.role, &args.http) {
        (Some(_), Some(_)) => {
            bail!("--role applies to --stdio; over HTTP the scenario's role is the one of the key the client sends")
        }
        (Some(r), None) => Role::parse(r).ok_or_else(|| {
            anyhow::anyhow!("--role {r}: one of Owner, Admin, Member, Reporter, Viewer, OtherOrgOwner")
        })?,
        (None, _) => std::env::var("ALLOY_API_TOKEN")
            .ok()
            .and_then(|k| role_of_key(&k))
            .unwrap_or_default(),
    };
    let mock = if args.no_mock {
        None
    } else {
        let bind = args.http.as_ref().map(|_| args.mock_addr);
        let (opts, warning) = crate::runner::mock_options(bind);
        if let Some(w) = warning {
            eprintln!("alloy-conformance record: warning: {w}");
        }
        let mock = MockAlloy::start_with(opts).await.map_err(|e| match bind {
            Some(a) => anyhow::anyhow!("cannot start the mock API on {a}: {e:#} (pick another --mock-addr)"),
            None => anyhow::anyhow!("cannot start the mock API: {e:#}"),
        })?;
        Some(Arc::new(mock))
    };
    let ctx = Ctx {
        mock,
        role,
        redact: args.redact.clone(),
        description: args.description.clone(),
        writer: Mutex::new(writer),
    };
    match (&args.stdio, &args.http) {
        (Some(cmd), None) => stdio::record(cmd, ctx).await,
        (None, Some(url)) => http::record(url, args.listen, ctx).await,
        _ => bail!("give --stdio CMD (the server command) or --http URL (a running server)"),
    }
}

/// The role whose seeded key `key` is (the bundled seed's keys: the mock's and the sandbox's).
pub fn role_of_key(key: &str) -> Option<Role> {
    crate::seeded::seeded_key_names()
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, name)| Role::parse(name))
}

/// The mock's journal since the last drain, as transcript values.
pub(crate) fn journal_values(mock: Option<&MockAlloy>) -> Vec<Value> {
    mock.map(|m| {
        m.take_journal()
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect()
    })
    .unwrap_or_default()
}

/// Writes a finished session and tells the person recording where it went and what to do
/// with it (on stderr: stdout may belong to the protocol).
pub(crate) fn write_session(ctx: &Ctx, session: Session, transport: Transport, role: Role) {
    if session.is_empty() {
        eprintln!("alloy-conformance record: the client sent nothing over {transport}; nothing recorded");
        return;
    }
    let finished = session.finish(journal_values(ctx.mock.as_deref()));
    let notes = finished.notes.clone();
    let meta = Meta {
        transport,
        role,
        redact: ctx.redact.clone(),
        description: ctx.description.clone(),
    };
    let written = match ctx.writer.lock() {
        Ok(mut w) => w.write(finished, &meta).map(|o| (o, w.dir().to_path_buf())),
        Err(_) => Err(anyhow::anyhow!("the recording writer is unusable")),
    };
    match written {
        Ok((Some(w), dir)) => {
            let scenario = w.scenario.display();
            let dir = dir.display();
            let target = match transport {
                Transport::Stdio => "--stdio \"<server command>\"".to_string(),
                t => format!("--{t} <URL>"),
            };
            eprintln!(
                "alloy-conformance record: wrote {id} ({steps} step{s}, {era} era, {transport}, as {role}):\n  scenario: {scenario}\n  expected: {expected}\n  judge a server by it:   alloy-conformance run --fixtures {dir} --only {id}\n  serve it to a client:   alloy-conformance replay {scenario} {replay}\n  check a newer server:   alloy-conformance verify {scenario} {target}",
                id = w.id,
                steps = w.steps,
                s = if w.steps == 1 { "" } else { "s" },
                era = w.era,
                role = role.name(),
                expected = w.expected.display(),
                replay = if transport == Transport::Stdio {
                    "--stdio"
                } else {
                    "--http 127.0.0.1:3011"
                },
            );
            for n in notes {
                eprintln!("  note: {n}");
            }
        }
        Ok((None, _)) => eprintln!("alloy-conformance record: the client sent nothing; nothing recorded"),
        Err(e) => eprintln!("alloy-conformance record: cannot write the recording: {e:#}"),
    }
}

/// Waits for SIGINT or SIGTERM; the signal's number.
pub(crate) async fn termination() -> u8 {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => 2,
        _ = term => 15,
    }
}

/// A child's exit status as ours: its code, 128 + the signal that ended it, or 1 when unknown.
pub(crate) fn exit_code_of(status: Option<std::process::ExitStatus>) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => ExitCode::from(c.clamp(0, 255) as u8),
            (None, Some(sig)) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
            (None, None) => ExitCode::from(1),
        },
        None => ExitCode::from(1),
    }
}
