//! The upstream layer: everything that talks to the Alloy REST API. [`api`] is the only code
//! that sends HTTP to Alloy; [`identity`] knows who a key belongs to. Nothing here imports the
//! MCP surface, the transports or the command line.

pub mod api;
pub mod identity;
