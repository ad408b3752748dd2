//! Team Management (toolset `teams`, contract §5.3 #41–#43): `create_team`, `list_teams`, `delete_team`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = teams_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
