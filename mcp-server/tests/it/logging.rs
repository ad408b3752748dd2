//! No secret reaches the logs at any level (hardening finding 6: at `RUST_LOG=debug` the new
//! key returned by `create_api_key` was written to stderr by rmcp's message logging).

use crate::support::{Launch, key_of, spawn_stack_with};
use alloy_mock_api::model::OrgRole;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn neither_the_servers_key_nor_a_new_key_is_logged_at_trace() {
    for level in ["trace", "debug"] {
        let mut s = spawn_stack_with(Launch::default().env("RUST_LOG", level)).await;
        let created = s.call_ok("create_api_key", json!({"name": "log check"})).await;
        let new_key = created["key"].as_str().expect("the new key is shown once").to_string();
        assert!(new_key.len() > 20, "{created}");
        s.call_ok("whoami", json!({})).await;
        let (_, _, stderr) = s.mcp.close().await;
        assert!(stderr.lines().count() > 5, "{level} logs something: {stderr}");
        assert!(!stderr.contains(&new_key), "the new key was logged at {level}");
        assert!(
            !stderr.contains(&key_of(OrgRole::Owner)),
            "the server's key was logged at {level}"
        );
        // The secret part alone, in case something logged a prefix-stripped form.
        let secret = &new_key[new_key.len() - 16..];
        assert!(!stderr.contains(secret), "part of the new key was logged at {level}");
    }
}
