//! Sprint Lifecycle (toolset `sprints`, contract §5.3 #33–#40): `create_sprint`, `list_sprints`, `update_sprint`, `start_sprint`, `complete_sprint`, `get_sprint_burndown`, `get_sprint`, `delete_sprint`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = sprints_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
