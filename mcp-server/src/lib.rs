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
//! | [`frame`] | the framing rules every transport applies before rmcp (-32600 / -32602 verdicts) |
//! | [`stdio`] | the stdio framing shim in front of rmcp (-32700 / -32600 / -32602, EOF handling) |
//! | [`http`] | `--http`: Streamable HTTP and legacy HTTP+SSE on one listener, per-request keys, discovery documents |

//!
//! Decisions where the contract (`shared/alloy-reference/contract.md` §5–§7) left room or
//! where the issue overrides it:
//!
//! | topic | decision |
//! |---|---|
//! | fields per protocol version | tool `annotations` only for 2025-03-26 and later; `title`, `outputSchema`, `icons`, `_meta` on tools, prompts and resources never; tool results never carry `structuredContent` (the JSON is the text content). `initialize` with 2026-07-28 (no handshake) or an unknown version gets 2025-11-25 |
//! | GET retries | 429 and every 5xx (the rule; the contract lists 502/503/504), plus connection errors; at most 3 attempts within the one deadline |
//! | optional arguments | `null` on an optional argument means "not given" (the schema says `T or null`); only nullable PATCH fields ([`tools::shared::Patch`]) send `null` on to clear a value |
//! | `tools/list` order | categories in contract order, tools by name inside a category (routers are hash maps; a hand-kept order would be a second list of tools) |
//! | JSON-RPC batches on stdio | refused with -32600 (rmcp removed batching; 2025-03-26 allowed it) |
//! | hidden and unknown tools | both `-32602 "unknown tool: <name>"`, no API call |
//! | `ping` | `api_reachable` is true when `/health` answered at all (200 or 503); the tool never fails |
//! | tool deadline | besides the per-call upstream deadline, a whole tool call is cut off after 2 × timeout + 5 s (an `isError` result) |
//! | `resources/list` | when the project list cannot be read, only the three fixed resources are listed |

pub mod api;
pub mod config;
pub mod errors;
pub mod frame;
pub mod http;
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
