//! Comments (toolset `comments`, contract §5.3 #13–#16): `add_comment`, `list_comments`, `update_comment`, `delete_comment`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = comments_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
