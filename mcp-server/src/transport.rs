//! The transports: how JSON-RPC reaches the MCP surface. [`pipeline`] is the one inbound
//! pipeline every transport hands its bytes to (parse, classify, ids in flight, answers out);
//! [`stdio`] frames lines, [`http`] serves Streamable HTTP and legacy HTTP+SSE.

pub mod http;
pub mod pipeline;
pub mod stdio;
