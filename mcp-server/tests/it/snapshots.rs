//! Golden data: the `initialize` answer. The sorted tool names and one snapshot per tool
//! definition live in one place, `fixtures/expected/schemas/`, checked by the conformance
//! harness against this binary (`cargo test -p alloy-conformance --test alloy_mcp tools_list`).

use crate::support::spawn_stack;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn the_initialize_answer_matches_its_snapshot() {
    let mut s = spawn_stack().await;
    let r: Value = s.initialize("2025-06-18").await;
    insta::assert_json_snapshot!("initialize@2025-06-18", r["result"]);
}
