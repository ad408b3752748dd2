//! The MCP surface: what a client sees. [`server::AlloyServer`] (the rmcp handler), the
//! [`tools`], [`prompts`] and [`resources`], and [`errors`], the one place that decides what a
//! failure becomes (a JSON-RPC error or an `isError` result). It uses the upstream layer and is
//! used by the transports; it imports neither the transports nor the command line.

pub mod errors;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod tools;
