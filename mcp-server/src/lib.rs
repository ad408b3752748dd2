//! # alloy-mcp
//!
//! An MCP server that lets AI assistants use the Alloy project tracker through its REST API.
//! The server is a thin proxy: every tool validates its arguments against its input schema,
//! makes one (or a few) calls to the Alloy API with the caller's API key, and hands the API's
//! JSON back as the tool result.
//!
//! Layers, top to bottom (a module imports only from layers below it):
//!
//! | layer | modules | what lives there |
//! |---|---|---|
//! | command line | [`config`], `main.rs` | flags and environment, startup errors |
//! | transport | [`transport::pipeline`], [`transport::stdio`], [`transport::http`] | bytes in, JSON-RPC verdicts, ids in flight, answers out; stdio lines, Streamable HTTP and legacy SSE |
//! | MCP surface | [`surface::server`], [`surface::tools`], [`surface::prompts`], [`surface::resources`], [`surface::errors`] | what a client sees, and what a failure becomes |
//! | upstream | [`upstream::api`], [`upstream::identity`] | the only code that talks HTTP to Alloy; who a key belongs to |
//!
//! Decisions where the contract (`shared/alloy-reference/contract.md` §5–§7) left room or
//! where the issue overrides it:
//!
//! | topic | decision |
//! |---|---|
//! | fields per protocol version | tool `annotations` only for 2025-03-26 and later; tool `title` for 2025-06-18 and later (client UIs show it; the model-facing part is unchanged); `outputSchema`, `icons`, `_meta` on tools, and `title`/`icons` on prompts and resources, never; tool results never carry `structuredContent` (the JSON is the text content). `initialize` (a handshake) asking for 2026-07-28 or an unknown version gets 2025-11-25 |
//! | 2026-07-28 | removed methods (`initialize`, `ping`, `logging/setLevel`, `resources/(un)subscribe`) are -32601 (HTTP 404) at that wire, decided in the inbound pipeline; every stateless result names the server in `_meta`; fixed lists `ttlMs` 300 000, data 0, always `cacheScope: private`; `subscriptions/listen` is acknowledged with nothing accepted (nothing here changes while the server runs) |
//! | argument errors | a tool's bad arguments (schema or a rule beyond it) are -32602 before 2025-11-25 and an `isError` result `invalid_argument` from 2025-11-25 on (SEP-1303); unknown tools stay -32602 |
//! | errors without a usable id | `"id": null` before 2025-11-25, no `id` from 2025-11-25 on (what each revision's schema allows) |
//! | bare requests on stdio | a request before any `initialize` and without 2026-07-28 `_meta` is served as a 2024-11-05 client is served (a person at a terminal); HTTP stays strict |
//! | GET retries | 429 and every 5xx (the rule; the contract lists 502/503/504), plus connection errors; at most 3 attempts within the one deadline |
//! | optional arguments | `null` on an optional argument means "not given"; the published schema says `T` (optional means omit; `["T", "null"]` unions cost tokens and trip some clients' converters), the validation schema still takes `null`. Only nullable PATCH fields ([`surface::tools::shared::Patch`]) are published as `T or null`: there `null` clears the value |
//! | `outputSchema` and `structuredContent` | neither (issue 12, item 6): an output schema per tool would grow every `tools/list` (held under 48 KiB, `fixtures/budget/tools.json`) to describe shapes the model reads in each result anyway; a server that sends `structuredContent` SHOULD repeat it as text (2025-06-18 on), so each result would cost twice; the shapes are the REST API's, so a client would gain no check. `docs/tools.md` says the same |
//! | published vs checked schema | the server checks arguments against the full generated schema (every pattern, format and bound); `tools/list` publishes a short form of it ([`surface::tools::publish`]): no `$schema`, no `null` on optional arguments, no descriptions on array items, no Rust integer widths, no uuid-or-key regex (the description says `Key (WEB-42) or uuid`); `--full-schemas` lists the checked schemas instead, for clients that validate arguments themselves and for schema-driven tests |
//! | `tools/list` order | categories in contract order, tools by name inside a category (routers are hash maps; a hand-kept order would be a second list of tools) |
//! | JSON-RPC batches on stdio | refused with -32600 (rmcp removed batching; 2025-03-26 allowed it) |
//! | hidden and unknown tools | both `-32602 "unknown tool: <name>"`, no API call |
//! | `ping` | `api_reachable` is true when `/health` answered at all (200 or 503); the tool never fails |
//! | tool deadline | besides the per-call upstream deadline, a whole tool call is cut off after 2 × timeout + 5 s (an `isError` result) |
//! | `resources/list` | when the project list cannot be read, only the three fixed resources are listed |

pub mod config;
pub mod surface;
pub mod transport;
pub mod upstream;

/// The server name announced in `serverInfo`.
pub const SERVER_NAME: &str = "alloy-mcp";

/// The crate version announced in `serverInfo`.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
