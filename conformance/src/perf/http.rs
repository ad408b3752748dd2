//! `perf` over Streamable HTTP: the server (spawned as `<command> --http 127.0.0.1:<port>`, or
//! a running endpoint) and the floor (`perf-floor --http`, always spawned here on loopback) are
//! driven by the same client. Rounds of sequential calls on one session alternate between them;
//! throughput runs `concurrency` sessions at once, each its own keep-alive connection; cold start
//! is spawn to `initialize` answered (listening included), for spawned servers only, as is
//! session churn: many sessions opened and ended, and whether the server's memory comes back.

use crate::driver::stdio::CommandSpec;
use crate::measure::http::HttpClient;
use crate::measure::process::{Output, Spawned, current_rss_kib};
use crate::measure::{self, CallError};
use crate::perf::load::{Kind, Measured, Plan, Rounds};
use crate::perf::stats::median;
use crate::perf::{AnswersFile, FloorSpec, floor_answers};
use anyhow::Context;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The server under measurement.
#[derive(Clone, Debug)]
pub enum HttpTarget {
    /// Spawned here with `--http 127.0.0.1:<free port>` added; reached at `/mcp`.
    Spawn(CommandSpec),
    /// Already running at this MCP endpoint.
    Remote(String),
}

/// One session and its request ids.
struct Peer {
    client: HttpClient,
    next: u64,
    role: &'static str,
}

impl Peer {
    /// Opens a session (initialize, initialized) on a connection of its own; returns the
    /// `initialize` result too.
    async fn connect(url: &str, token: &str, plan: &Plan, role: &'static str) -> anyhow::Result<(Peer, Value)> {
        Peer::open(HttpClient::new(url, Some(token), plan.timeout)?, url, plan, role).await
    }

    /// Opens a session (initialize, initialized) with `client`; returns the `initialize` result
    /// too.
    async fn open(client: HttpClient, url: &str, plan: &Plan, role: &'static str) -> anyhow::Result<(Peer, Value)> {
        let mut peer = Peer { client, next: 1, role };
        let answer = peer
            .client
            .post(&measure::initialize(0, &plan.version), Some(0), &[])
            .await
            .with_context(|| format!("{role}: initialize at {url}"))?;
        let init = measure::result_of(&answer).with_context(|| format!("{role}: initialize"))?;
        peer.client.set_version(&plan.version);
        peer.client
            .post(measure::INITIALIZED, None, &[])
            .await
            .with_context(|| format!("{role}: notifications/initialized"))?;
        Ok((peer, init))
    }

    async fn call(&mut self, kind: Kind, plan: &Plan) -> Result<Vec<u8>, CallError> {
        let id = self.next;
        self.next += 1;
        let bytes = self.client.post(&plan.frames.frame(kind, id), Some(id), &[]).await?;
        match measure::classify(&bytes, Some(id))? {
            measure::Seen::Answer { error: false } => Ok(bytes),
            _ => Err(CallError::Protocol(format!(
                "{} answered an error: {}",
                kind.method(),
                measure::preview(&bytes)
            ))),
        }
    }

    async fn answer_of(&mut self, kind: Kind, plan: &Plan) -> anyhow::Result<Value> {
        let bytes = self
            .call(kind, plan)
            .await
            .with_context(|| format!("{}: {}", self.role, kind.method()))?;
        Ok(measure::result_of(&bytes)?)
    }

    async fn warm(&mut self, kind: Kind, plan: &Plan) -> anyhow::Result<()> {
        for _ in 0..plan.counts.warmup {
            self.call(kind, plan)
                .await
                .with_context(|| format!("{}: warm-up {}", self.role, kind.method()))?;
        }
        Ok(())
    }

    /// `n` sequential calls, their latencies (ns) appended to `samples`.
    async fn timed(&mut self, kind: Kind, n: usize, plan: &Plan, samples: &mut Vec<u64>) -> anyhow::Result<()> {
        plan.check()?;
        for _ in 0..n {
            let start = Instant::now();
            self.call(kind, plan)
                .await
                .with_context(|| format!("{}: {}", self.role, kind.method()))?;
            // Up to when the answer was in hand, not the end of its response body.
            let answered = self.client.answered_at().unwrap_or_else(Instant::now);
            samples.push(answered.saturating_duration_since(start).as_nanos() as u64);
        }
        Ok(())
    }
}

/// A free loopback port (the OS picks it; the listener is closed before the server binds).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("cannot find a free loopback port")?;
    Ok(l.local_addr()?.port())
}

/// Spawns `spec --http 127.0.0.1:<port>` and waits (bounded) until it accepts connections;
/// a server that exits first (it lost the port) is started again on another port, twice at most.
async fn spawn_http(spec: &CommandSpec, plan: &Plan) -> anyhow::Result<(Spawned, String)> {
    let mut last = String::new();
    for _ in 0..3 {
        let addr = format!("127.0.0.1:{}", free_port()?);
        let mut command = spec.clone();
        command.args.push("--http".into());
        command.args.push(addr.clone());
        let process = Spawned::spawn(&command, Output::Null)?;
        let within = plan.timeout;
        let waited = addr.clone();
        let (process, listening) = tokio::task::spawn_blocking(move || {
            let r = wait_listening(&waited, &process, within);
            (process, r)
        })
        .await
        .context("the wait for the server failed")?;
        match listening {
            Ok(()) => return Ok((process, addr)),
            Err(Listening::Exited) => last = process.diagnostics(),
            Err(Listening::Timeout) => anyhow::bail!(
                "nothing listens on {addr} {} ms after start\n{}",
                within.as_millis(),
                process.diagnostics()
            ),
        }
    }
    anyhow::bail!("the server exited before listening, three times\n{last}")
}

enum Listening {
    Exited,
    Timeout,
}

/// Polls `addr` every 100 µs (fine-grained: cold start is timed through this).
fn wait_listening(addr: &str, process: &Spawned, within: Duration) -> Result<(), Listening> {
    let deadline = Instant::now() + within;
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if process.exit_status().is_some() {
            return Err(Listening::Exited);
        }
        if Instant::now() > deadline {
            return Err(Listening::Timeout);
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Tool calls per second over `concurrency` sessions at once.
async fn throughput(url: &str, token: &str, plan: &Plan, role: &'static str) -> anyhow::Result<f64> {
    let mut peers = Vec::with_capacity(plan.counts.concurrency);
    for _ in 0..plan.counts.concurrency {
        peers.push(Peer::connect(url, token, plan, role).await?.0);
    }
    let total = plan.counts.throughput_calls;
    let (each, extra) = (total / plan.counts.concurrency, total % plan.counts.concurrency);
    let start = Instant::now();
    let tasks: Vec<_> = peers
        .into_iter()
        .enumerate()
        .map(|(i, mut peer)| {
            let plan = plan.clone();
            let n = each + usize::from(i < extra);
            tokio::spawn(async move {
                for _ in 0..n {
                    peer.call(Kind::Tool, &plan)
                        .await
                        .with_context(|| format!("{}: throughput", peer.role))?;
                }
                Ok::<Peer, anyhow::Error>(peer)
            })
        })
        .collect();
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.context("a session task failed")??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    for p in done {
        p.client.close().await;
    }
    Ok(total as f64 / elapsed)
}

/// The server's resident memory around session churn, in KiB.
struct Churn {
    /// Before the sessions.
    before: u64,
    /// With all of them open.
    open: u64,
    /// After they ended: the first reading back within [`CHURN_BACK`] of `before`, or the last
    /// one when the settle time ran out.
    after: u64,
    /// How long after the last session ended `after` was read, when it came back.
    back_after: Option<Duration>,
}

/// RSS within this fraction above its reading before the churn counts as come back.
const CHURN_BACK: f64 = 0.10;

/// Opens `churn_sessions` sessions (`concurrency` at a time over as many shared connections),
/// each with `initialize`, `notifications/initialized` and one tool call, keeps them all open,
/// then ends each with DELETE and watches the RSS of `pid` come back (or not) within the
/// settle time. What a server holds per session shows in `open`; memory kept after its
/// sessions are gone shows in `after`.
async fn churn(url: &str, token: &str, plan: &Plan, pid: u32) -> anyhow::Result<Churn> {
    let rss = || current_rss_kib(pid).context("the server's VmRSS is not readable from /proc");
    let before = rss()?;
    let total = plan.counts.churn_sessions;
    let workers = plan.counts.concurrency.min(total).max(1);
    let pool = HttpClient::pool(workers, plan.timeout)?;
    let opening: Vec<_> = (0..workers)
        .map(|w| {
            let n = total / workers + usize::from(w < total % workers);
            let (pool, url, token, plan) = (pool.clone(), url.to_string(), token.to_string(), plan.clone());
            tokio::spawn(async move {
                let mut open = Vec::with_capacity(n);
                for _ in 0..n {
                    plan.check()?;
                    let client = HttpClient::over(pool.clone(), &url, Some(&token), plan.timeout)?;
                    let (mut peer, _) = Peer::open(client, &url, &plan, "server").await?;
                    peer.answer_of(Kind::Tool, &plan).await?;
                    open.push(peer.client);
                }
                Ok::<_, anyhow::Error>(open)
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(workers);
    for t in opening {
        sessions.push(t.await.context("a session task failed")??);
    }
    let open = rss()?;
    let closing: Vec<_> = sessions
        .into_iter()
        .map(|batch| {
            tokio::spawn(async move {
                for client in batch {
                    client.close().await;
                }
            })
        })
        .collect();
    for t in closing {
        t.await.context("a session task failed")?;
    }
    let ended = Instant::now();
    let settle = Duration::from_secs(plan.counts.churn_settle_s);
    let back = before + (before as f64 * CHURN_BACK) as u64;
    loop {
        let now = rss()?;
        if now <= back {
            return Ok(Churn {
                before,
                open,
                after: now,
                back_after: Some(ended.elapsed()),
            });
        }
        if ended.elapsed() >= settle {
            return Ok(Churn {
                before,
                open,
                after: now,
                back_after: None,
            });
        }
        plan.check()?;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Milliseconds from spawning the server to its `initialize` answer.
async fn cold_start(spec: &CommandSpec, token: &str, plan: &Plan) -> anyhow::Result<f64> {
    let start = Instant::now();
    let (process, addr) = spawn_http(spec, plan).await?;
    let mut client = HttpClient::new(&format!("http://{addr}/mcp"), Some(token), plan.timeout)?;
    let answer = client
        .post(&measure::initialize(0, &plan.version), Some(0), &[])
        .await
        .with_context(|| process.diagnostics())?;
    measure::result_of(&answer)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    client.close().await;
    drop(process);
    Ok(ms)
}

/// Measures `target` against the floor over Streamable HTTP. `token` is the Bearer key of
/// every request (the floor gets it too, so requests have the same size).
pub async fn measure(target: &HttpTarget, token: &str, floor: &FloorSpec, plan: &Plan) -> anyhow::Result<Measured> {
    let mut out = Measured::default();
    let (server_process, url) = match target {
        HttpTarget::Spawn(spec) => {
            let (p, addr) = spawn_http(spec, plan).await.context("server")?;
            (Some(p), format!("http://{addr}/mcp"))
        }
        HttpTarget::Remote(url) => (None, url.clone()),
    };
    let (mut srv, init) = Peer::connect(&url, token, plan, "server").await?;
    let mut results = Vec::new();
    for kind in Kind::ALL {
        results.push(srv.answer_of(kind, plan).await?);
    }
    let answers = floor_answers(init, results)?;
    let file = AnswersFile::write(&answers)?;
    let floor_cmd = floor.command(file.path());
    let (floor_process, floor_addr) = spawn_http(&floor_cmd, plan).await.context("floor")?;
    let floor_url = format!("http://{floor_addr}/mcp");
    let (mut flr, _) = Peer::connect(&floor_url, token, plan, "floor").await?;

    for kind in Kind::ALL {
        srv.warm(kind, plan).await?;
        flr.warm(kind, plan).await?;
    }
    let mut rounds = Rounds::new();
    for _ in 0..plan.counts.rounds {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            let (mut s, mut f) = plan.round_samples();
            for n in plan.chunks() {
                srv.timed(kind, n, plan, &mut s).await?;
                flr.timed(kind, n, plan, &mut f).await?;
            }
            rounds.push(i, &mut s, &mut f)?;
        }
    }
    srv.client.close().await;
    flr.client.close().await;
    let (mut tput_srv, mut tput_flr) = (Vec::new(), Vec::new());
    for _ in 0..plan.counts.rounds {
        tput_srv.push(throughput(&url, token, plan, "server").await?);
        tput_flr.push(throughput(&floor_url, token, plan, "floor").await?);
    }
    match (
        server_process.as_ref().and_then(Spawned::peak_rss_kib),
        floor_process.peak_rss_kib(),
    ) {
        (Some(s), Some(f)) => out.peak_rss = Some((s as f64, f as f64)),
        _ if server_process.is_none() => out
            .notes
            .push("http: no cold start, peak RSS or session churn: the server was not started by the harness".into()),
        _ => out
            .notes
            .push("http: no peak RSS (needs /proc/<pid>/status, Linux)".into()),
    }
    drop(floor_process);
    match &server_process {
        Some(p) if plan.counts.churn_sessions > 0 => {
            let c = churn(&url, token, plan, p.pid())
                .await
                .context("server: session churn")?;
            out.churn_rss = Some((c.after as f64, c.before as f64));
            let mib = |kib: u64| kib as f64 / 1024.0;
            let n = plan.counts.churn_sessions;
            out.notes.push(match c.back_after {
                Some(t) => format!(
                    "http: {n} sessions held at once: RSS {:.1} MiB (before: {:.1} MiB); after they ended with DELETE it was back within {:.0} % of before in {:.1} s (the churn figure's floor is the server before them)",
                    mib(c.open), mib(c.before), CHURN_BACK * 100.0, t.as_secs_f64()
                ),
                None => format!(
                    "http: {n} sessions held at once: RSS {:.1} MiB (before: {:.1} MiB); {} s after they ended with DELETE it was still {:.1} MiB (the churn figure's floor is the server before them)",
                    mib(c.open), mib(c.before), plan.counts.churn_settle_s, mib(c.after)
                ),
            });
        }
        _ => {}
    }
    drop(server_process);

    if let HttpTarget::Spawn(spec) = target {
        let (mut cold_srv, mut cold_flr) = (Vec::new(), Vec::new());
        for _ in 0..plan.counts.cold_starts {
            plan.check()?;
            cold_srv.push(cold_start(spec, token, plan).await.context("server: cold start")?);
            cold_flr.push(cold_start(&floor_cmd, token, plan).await.context("floor: cold start")?);
        }
        out.cold_start = Some((median(cold_srv), median(cold_flr)));
    }
    drop(file);

    out.add_latency(&rounds);
    out.throughput = Some((median(tput_srv), median(tput_flr)));
    Ok(out)
}
