//! Finance & Reporting (toolset `finance`, contract §5.3 #65–#69): `get_time_report`, `get_capitalization_report`, `submit_time_entry`, `approve_time_entry`, `get_capitalization_export`.
//!
//! Not written yet: this router is empty until the tools land. Add them to the impl block
//! below following "How to add a tool" in `tools.rs` (`tickets.rs` is the worked example),
//! then drop `allow_empty`.

use crate::server::AlloyServer;
use rmcp::tool_router;

#[tool_router(router = finance_router, vis = "pub(crate)", allow_empty)]
impl AlloyServer {}
