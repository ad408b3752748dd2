//! Integration tests of the harness itself, against `fake-mcp-server` (a small MCP server with
//! switchable faults built from this package) and against its own outputs. One test binary,
//! one module per concern; `support` starts things.

mod baseline;
mod cli;
mod fakes;
mod fixtures;
mod fuzz;
mod measure;
mod normalization;
mod reports;
mod support;
