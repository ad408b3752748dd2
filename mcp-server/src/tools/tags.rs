//! Tag Management (toolset `tags`, contract §5.3 #24–#27): `set_tags`, `get_tags`, `delete_tag`, `search_by_tag`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = tags_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
