//! Integration tests of the `alloy-mcp` binary: each test starts the mock Alloy API and the
//! real server process (see `support.rs`) and talks raw JSON-RPC lines to it.

mod access;
mod activity;
mod comments;
mod connectivity;
mod data;
mod docs;
mod finance;
mod framing;
mod http;
mod labels;
mod logging;
mod paths;
mod projects;
mod protocol;
mod request_ids;
mod snapshots;
mod sprints;
mod startup;
mod summary;
mod support;
mod tags;
mod teams;
mod tickets;
mod time;
mod toolsets;
mod upstream;
mod workflows;
