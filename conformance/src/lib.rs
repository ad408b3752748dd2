//! # alloy-conformance
//!
//! Judges any MCP server for Alloy from outside the process. Scenarios are data
//! (`fixtures/scenarios/<category>/<tool>__<case>.json`); each is played over a raw transport
//! ([`driver`]: stdio, Streamable HTTP, legacy HTTP+SSE) against a fresh deterministic mock
//! Alloy API, recorded as a transcript of every message both ways plus the upstream requests the
//! server made ([`transcript`], normalized in one place), checked against the MCP result shapes
//! of the negotiated revision ([`shapes`]) and compared with the expected transcript
//! ([`expected`]: insta snapshot files shared by `cargo test` and the CLI). [`runner`] plays and
//! judges cases, [`expected_failures`] applies a strict baseline, [`report`] renders text,
//! JSON and JUnit.
//!
//! Adding a case for a tool: write `fixtures/scenarios/<category>/<tool>__<case>.json` (format
//! in [`scenario`]; request ids start at 1, arguments must fit the tool's own `inputSchema`
//! unless the step says `"arguments": "invalid"`), run `cargo insta test -p alloy-conformance`
//! (or `INSTA_UPDATE=always cargo test -p alloy-conformance`), review the new
//! `fixtures/expected/<category>/<tool>__<case>.snap` and commit both files. The CLI
//! (`alloy-conformance run`) picks the case up from the same two files.

pub mod driver;
pub mod expected;
pub mod expected_failures;
pub mod local;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shapes;
pub mod transcript;
