//! Property tests and fuzzing of any MCP server from outside the process (issue 11).
//!
//! [`schema`] turns a tool's own `inputSchema` into proptest strategies of valid instances and
//! of near-misses (one mutation each, knowing the field it broke); [`pattern`] is how a JSON
//! Schema `pattern` becomes a string strategy.

pub mod pattern;
pub mod schema;
