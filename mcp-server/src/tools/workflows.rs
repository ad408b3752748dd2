//! Workflow Management (toolset `workflows`, contract §5.3 #44–#48): `create_workflow`, `list_workflows`, `update_workflow`, `get_workflow`, `delete_workflow`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = workflows_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
