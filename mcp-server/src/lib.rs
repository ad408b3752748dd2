//! # alloy-mcp
//!
//! An MCP server that lets AI assistants use the Alloy project tracker through its REST API.
//! The server is a thin proxy: every tool validates its arguments against its input schema,
//! makes one (or a few) calls to the Alloy API with the caller's API key, and hands the API's
//! JSON back as the tool result.
//!
//! Module map:
//!
//! | module | what lives there |
//! |---|---|
//! | [`config`] | command line and environment (`ALLOY_API_URL`, `ALLOY_API_TOKEN`, `--read-only`, ...) |
//! | [`api`] | [`api::ApiClient`]: generic `get/post/put/patch/delete` with timeout and GET retries |
//! | [`identity`] | the startup identity check (`GET /api/v1/auth/me`) and the per-request [`identity::Caller`] |
//! | [`errors`] | the one place where failures become JSON-RPC errors or `isError` tool results |
//! | [`server`] | [`server::AlloyServer`], the rmcp `ServerHandler`: version negotiation, down-levelling, argument validation, panic capture |
//! | [`tools`] | one file per tool category; `tools.rs` explains how to add a tool |
//! | [`prompts`] | the 15 prompts (slash commands) |
//! | [`resources`] | the `alloy://` resources |
//! | [`stdio`] | the stdio framing shim in front of rmcp (-32700 / -32600 / -32602, EOF handling) |

pub mod api;
pub mod config;
pub mod errors;
pub mod identity;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod stdio;
pub mod tools;

/// The server name announced in `serverInfo`.
pub const SERVER_NAME: &str = "alloy-mcp";

/// The crate version announced in `serverInfo`.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
