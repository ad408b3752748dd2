//! `perf` over stdio, on the calling (blocking) thread: the server and the floor each run as
//! one spawned process with one session. Rounds alternate between them so that drift of the
//! machine hits both; throughput keeps `concurrency` requests in flight on the one session (a
//! stdio server has exactly one); cold start is spawn to `initialize` answered, on fresh
//! processes after the rest.

use crate::driver::stdio::CommandSpec;
use crate::measure::stdio::StdioClient;
use crate::measure::{self, CallError};
use crate::perf::load::{Kind, Measured, Plan, Rounds};
use crate::perf::stats::median;
use crate::perf::{AnswersFile, FloorSpec, floor_answers};
use anyhow::Context;
use serde_json::Value;
use std::time::Instant;

/// One measured process and its request ids.
struct Peer {
    client: StdioClient,
    next: u64,
    role: &'static str,
}

impl Peer {
    /// Spawns `spec` and completes the handshake; returns the `initialize` result too.
    fn start(spec: &CommandSpec, plan: &Plan, role: &'static str) -> anyhow::Result<(Peer, Value)> {
        let client = StdioClient::spawn(spec, plan.timeout).with_context(|| format!("{role}: cannot start"))?;
        let mut peer = Peer { client, next: 1, role };
        let init = peer.handshake(plan)?;
        Ok((peer, init))
    }

    fn handshake(&mut self, plan: &Plan) -> anyhow::Result<Value> {
        let id = self.id();
        let answer = self
            .client
            .call(id, &measure::initialize(id, &plan.version))
            .with_context(|| format!("{}: initialize", self.role))?;
        let result = measure::result_of(answer).with_context(|| format!("{}: initialize", self.role))?;
        self.client
            .send(measure::INITIALIZED)
            .with_context(|| format!("{}: notifications/initialized", self.role))?;
        Ok(result)
    }

    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// One call; a JSON-RPC error answer is an error naming the call.
    fn call(&mut self, kind: Kind, plan: &Plan) -> Result<&[u8], CallError> {
        let id = self.id();
        let frame = plan.frames.frame(kind, id);
        self.client.send(&frame)?;
        match self.client.recv_answer(Some(id))? {
            (false, bytes) => Ok(bytes),
            (true, bytes) => Err(CallError::Protocol(format!(
                "{} answered an error: {}",
                kind.method(),
                measure::preview(bytes)
            ))),
        }
    }

    fn answer_of(&mut self, kind: Kind, plan: &Plan) -> anyhow::Result<Value> {
        let role = self.role;
        let bytes = self
            .call(kind, plan)
            .with_context(|| format!("{role}: {}", kind.method()))?;
        Ok(measure::result_of(bytes)?)
    }

    fn warm(&mut self, kind: Kind, plan: &Plan) -> anyhow::Result<()> {
        let role = self.role;
        for _ in 0..plan.counts.warmup {
            self.call(kind, plan)
                .with_context(|| format!("{role}: warm-up {}", kind.method()))?;
        }
        Ok(())
    }

    /// `n` sequential calls, their latencies (ns) appended to `samples`.
    fn timed(&mut self, kind: Kind, n: usize, plan: &Plan, samples: &mut Vec<u64>) -> anyhow::Result<()> {
        let role = self.role;
        plan.check()?;
        for _ in 0..n {
            let start = Instant::now();
            self.call(kind, plan)
                .with_context(|| format!("{role}: {}", kind.method()))?;
            samples.push(start.elapsed().as_nanos() as u64);
        }
        Ok(())
    }

    /// Tool calls per second with `concurrency` requests in flight.
    fn pipelined(&mut self, plan: &Plan) -> anyhow::Result<f64> {
        let total = plan.counts.throughput_calls;
        let start = Instant::now();
        let mut sent = 0;
        while sent < plan.counts.concurrency.min(total) {
            let id = self.id();
            self.client.send(&plan.frames.frame(Kind::Tool, id))?;
            sent += 1;
        }
        for done in 0..total {
            if done % 64 == 0 {
                plan.check()?;
            }
            let (error, bytes) = self
                .client
                .recv_answer(None)
                .with_context(|| format!("{}: throughput", self.role))?;
            if error {
                anyhow::bail!(
                    "{}: a tool call answered an error: {}",
                    self.role,
                    measure::preview(bytes)
                );
            }
            if sent < total {
                let id = self.id();
                self.client.send(&plan.frames.frame(Kind::Tool, id))?;
                sent += 1;
            }
        }
        Ok(total as f64 / start.elapsed().as_secs_f64())
    }
}

/// Milliseconds from spawning `spec` to its `initialize` answer.
fn cold_start(spec: &CommandSpec, plan: &Plan) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut client = StdioClient::spawn(spec, plan.timeout)?;
    let answer = client.call(0, &measure::initialize(0, &plan.version))?;
    measure::result_of(answer)?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

/// Measures `server` against the floor over stdio.
pub fn measure(server: &CommandSpec, floor: &FloorSpec, plan: &Plan) -> anyhow::Result<Measured> {
    let (mut srv, init) = Peer::start(server, plan, "server")?;
    let mut results = Vec::new();
    for kind in Kind::ALL {
        results.push(srv.answer_of(kind, plan)?);
    }
    let answers = floor_answers(init, results)?;
    let file = AnswersFile::write(&answers)?;
    let floor_cmd = floor.command(file.path());
    let (mut flr, _) = Peer::start(&floor_cmd, plan, "floor")?;

    for kind in Kind::ALL {
        srv.warm(kind, plan)?;
        flr.warm(kind, plan)?;
    }
    let mut rounds = Rounds::new();
    for _ in 0..plan.counts.rounds {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            let (mut s, mut f) = plan.round_samples();
            for n in plan.chunks() {
                srv.timed(kind, n, plan, &mut s)?;
                flr.timed(kind, n, plan, &mut f)?;
            }
            rounds.push(i, &mut s, &mut f)?;
        }
    }
    let (mut tput_srv, mut tput_flr) = (Vec::new(), Vec::new());
    for _ in 0..plan.counts.rounds {
        tput_srv.push(srv.pipelined(plan)?);
        tput_flr.push(flr.pipelined(plan)?);
    }
    let mut out = Measured::default();
    match (srv.client.process().peak_rss_kib(), flr.client.process().peak_rss_kib()) {
        (Some(s), Some(f)) => out.peak_rss = Some((s as f64, f as f64)),
        _ => out
            .notes
            .push("stdio: no peak RSS (needs /proc/<pid>/status, Linux)".into()),
    }
    drop(srv);
    drop(flr);

    let (mut cold_srv, mut cold_flr) = (Vec::new(), Vec::new());
    for _ in 0..plan.counts.cold_starts {
        plan.check()?;
        cold_srv.push(cold_start(server, plan).context("server: cold start")?);
        cold_flr.push(cold_start(&floor_cmd, plan).context("floor: cold start")?);
    }
    drop(file);

    out.add_latency(&rounds);
    out.throughput = Some((median(tput_srv), median(tput_flr)));
    out.cold_start = Some((median(cold_srv), median(cold_flr)));
    Ok(out)
}
