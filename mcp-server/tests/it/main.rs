//! Integration tests of the `alloy-mcp` binary: each test starts the mock Alloy API and the
//! real server process (see `support.rs`) and talks raw JSON-RPC lines to it.

mod activity;
mod comments;
mod connectivity;
mod framing;
mod labels;
mod protocol;
mod snapshots;
mod startup;
mod support;
mod tags;
mod tickets;
mod toolsets;
mod upstream;
