//! Project Management (toolset `projects`, contract §5.3 #28–#32): `create_project`, `list_projects`, `get_project`, `update_project`, `delete_project`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = projects_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
