//! Projects & Sprints (toolset `summary`, contract §5.3 #49): `get_project_summary`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = summary_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
