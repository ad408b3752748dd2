//! Label Management (toolset `labels`, contract §5.3 #17–#23): `create_label`, `list_labels`, `add_ticket_label`, `remove_ticket_label`, `get_label`, `update_label`, `delete_label`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = labels_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
