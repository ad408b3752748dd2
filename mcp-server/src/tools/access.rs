//! Organization & Access (toolset `access`, contract §5.3 #50–#58): `list_members`, `create_invite`, `list_invites`, `add_project_member`, `remove_project_member`, `list_project_members`, `create_api_key`, `list_api_keys`, `delete_api_key`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = access_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
