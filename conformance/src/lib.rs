//! # alloy-conformance
//!
//! Judges any MCP server for Alloy from outside the process. Scenarios are data
//! (`fixtures/scenarios/<category>/<tool>__<case>.json`); each is played over a raw transport
//! ([`driver`]: stdio, Streamable HTTP, legacy HTTP+SSE) in each wire era it applies to
//! ([`era`]: the `initialize` handshake of 2024-11-05 … 2025-11-25, or the stateless 2026-07-28
//! wire with `server/discover`, per-request `_meta` and the `Mcp-Method`/`Mcp-Name` headers)
//! against a fresh deterministic mock Alloy API, recorded as a transcript of every message both
//! ways plus the upstream requests the server made ([`transcript`]: typed, normalized in one
//! place), every message checked against the official JSON Schema of the revision in use
//! ([`shapes`]) and the transcript compared with the expected one of its era ([`expected`]:
//! insta snapshot files shared by `cargo test` and the CLI). [`runner`] plays and judges cases,
//! [`expected_failures`] applies a strict baseline, [`report`] renders text, JSON and JUnit.
//! [`protocol`] is the generic suite that judges any MCP server by the specification's rules
//! instead of Alloy transcripts; [`keyproxy`] lets clients without an Authorization header
//! (the official conformance suite) reach the sandbox's `alloy-mcp --http`.
//!
//! Adding a case for a tool: write `fixtures/scenarios/<category>/<tool>__<case>.json` (format
//! in [`scenario`]; request ids start at 1, arguments must fit the tool's own `inputSchema`
//! unless the step says `"arguments": "invalid"`, `"role"` picks whose seeded key the server
//! acts with), build the server (`cargo build -p alloy-mcp`), record with
//! `INSTA_UPDATE=always ALLOY_CONFORMANCE_ONLY=<category>/<tool>__<case> cargo test -p alloy-conformance --test alloy_mcp`
//! (or `cargo insta test` and `cargo insta review`), review the new
//! `fixtures/expected/<category>/<tool>__<case>.snap` (and `…@stateless.snap`, the same case
//! at the 2026-07-28 wire) and commit them with the scenario. The CLI
//! (`alloy-conformance run`) picks the case up from the same two files. Every tool the server
//! lists needs a success and an error case (`tests/alloy_mcp/coverage.rs`). [`local`] finds
//! the local `alloy-mcp` binary and the transports it offers.
//!
//! Besides judging, the harness measures: [`cost`] counts what a server's tool surface costs a
//! model (bytes and o200k tokens per revision, against a budget file) and [`perf`] how fast it
//! answers over the wire next to a floor measured in the same run (against a stored baseline),
//! both through the lean clients of [`measure`].
//!
//! For people who build MCP clients: [`record`] is a transparent proxy (stdio, or HTTP through
//! [`serve`]) that writes a client's session as a scenario and its expected transcript
//! ([`recording`]), so `run` judges a server by it unchanged; [`replay`] serves a recording as
//! an MCP server; [`verify`] plays its requests against another server and diffs the answers.

pub mod cost;
pub mod driver;
pub mod era;
pub mod expected;
pub mod expected_failures;
pub mod fuzz;
pub mod keyproxy;
pub mod local;
pub mod measure;
pub mod perf;
pub mod protocol;
pub mod record;
pub mod recording;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod seeded;
pub mod serve;
pub mod shapes;
pub mod transcript;
pub mod verify;
