//! alloy-mcp
