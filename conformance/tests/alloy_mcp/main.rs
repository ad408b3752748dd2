//! `alloy-mcp`, our own server, judged from outside the process by the repository's scenarios
//! (`fixtures/scenarios`) and expected transcripts (`fixtures/expected`): every scenario on every
//! transport the binary offers, property tests of tool arguments, frames and server policy
//! (`properties`), its tool list (names, one schema snapshot per tool, schema
//! meta-validation, annotations per protocol revision), scenario coverage of every tool, and the
//! `alloy-conformance run` command against it (passing, and catching a crippled server),
//! client sessions recorded through it, replayed and verified (`recording`), and
//! the `alloy-conformance fuzz` command against it on every transport.
//!
//! Nothing here builds or links the server: the test runs the binary Cargo left next to this
//! test executable (`target/<profile>/alloy-mcp`), so build it first with
//! `cargo build -p alloy-mcp` (`.ci/run` does). A transport the binary does not offer yet is
//! announced as SKIPPED on stderr, never counted as passed.

mod cli;
mod cost;
mod coverage;
mod fuzz;
mod perf;
mod properties;
mod recording;
mod scenarios;
mod support;
mod tools_list;
