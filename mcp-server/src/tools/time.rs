//! Time Tracking (toolset `time`, contract §5.3 #60–#64): `log_time`, `get_time_entry`, `update_time_entry`, `delete_time_entry`, `list_time_entries`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = time_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
