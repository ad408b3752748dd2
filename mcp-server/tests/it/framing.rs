//! Framing robustness over stdio: every malformed line gets its JSON-RPC error and the server
//! keeps serving afterwards.

use crate::support::{Launch, Mcp, spawn_stack, spawn_stack_with};
use serde_json::{Value, json};

/// Sends `line`, expects one error answer with `code` and `id`, then checks the server still
/// answers a ping.
async fn refused(mcp: &mut Mcp, line: &str, code: i64, id: Value) {
    mcp.send_raw(line).await;
    let r = mcp.recv().await;
    assert_eq!(r["jsonrpc"], json!("2.0"), "{line}: {r}");
    assert_eq!(r["error"]["code"], json!(code), "{line}: {r}");
    assert_eq!(r.get("id"), Some(&id), "{line}: {r}");
    let pong = mcp.request("ping", None).await;
    assert_eq!(pong["result"], json!({}), "after {line}: {pong}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unparsable_json_gets_a_parse_error_with_a_null_id() {
    let mut s = spawn_stack().await;
    refused(&mut s.mcp, "{not json", -32700, Value::Null).await;
    refused(&mut s.mcp, r#"{"jsonrpc":"2.0","id":1,"method":"#, -32700, Value::Null).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn non_json_rpc_messages_get_invalid_request() {
    let mut s = spawn_stack().await;
    refused(&mut s.mcp, "42", -32600, Value::Null).await;
    refused(&mut s.mcp, "[]", -32600, Value::Null).await;
    refused(
        &mut s.mcp,
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        -32600,
        Value::Null,
    )
    .await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#,
        -32600,
        json!(5),
    )
    .await;
    refused(&mut s.mcp, r#"{"id":6,"method":"ping"}"#, -32600, json!(6)).await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        -32600,
        Value::Null,
    )
    .await;
    refused(&mut s.mcp, r#"{"jsonrpc":"2.0","id":7}"#, -32600, json!(7)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn known_methods_with_malformed_params_get_invalid_params_with_their_id() {
    let mut s = spawn_stack().await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{}}"#,
        -32602,
        json!(10),
    )
    .await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":"r","method":"resources/read","params":{"url":"x"}}"#,
        -32602,
        json!("r"),
    )
    .await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"ping","arguments":"x"}}"#,
        -32602,
        json!(11),
    )
    .await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":12,"method":"prompts/get","params":"x"}"#,
        -32602,
        json!(12),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_method_is_method_not_found() {
    let mut s = spawn_stack().await;
    refused(
        &mut s.mcp,
        r#"{"jsonrpc":"2.0","id":20,"method":"tickets/explode"}"#,
        -32601,
        json!(20),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blank_lines_crlf_and_a_bom_are_tolerated() {
    let mut s = spawn_stack().await;
    s.send_bytes(b"\n  \r\n\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"ping\"}\r\n")
        .await;
    let r = s.recv().await;
    assert_eq!(r, json!({"jsonrpc": "2.0", "id": 30, "result": {}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_line_over_16_mib_is_refused_with_invalid_request_and_a_null_id() {
    let mut s = spawn_stack().await;
    let mut big = Vec::with_capacity(17 * 1024 * 1024);
    big.extend_from_slice(br#"{"jsonrpc":"2.0","id":40,"method":"ping","params":{"pad":""#);
    big.resize(16 * 1024 * 1024 + 100, b'a');
    big.extend_from_slice(b"\"}}\n");
    s.send_bytes(&big).await;
    let r = s.recv().await;
    assert_eq!(r["error"]["code"], json!(-32600), "{r}");
    assert_eq!(r["id"], Value::Null);
    let pong = s.request("ping", None).await;
    assert_eq!(pong["result"], json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_before_initialize_does_not_stop_the_server() {
    let s = spawn_stack_with(Launch::default().initialize(None)).await;
    let mut mcp = s.mcp;
    mcp.send_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;
    mcp.send_raw("garbage").await;
    let r = mcp.recv().await;
    assert_eq!(r["error"]["code"], json!(-32700));
    let init = mcp.initialize("2025-03-26").await;
    assert_eq!(init["result"]["protocolVersion"], json!("2025-03-26"), "{init}");
    let tools = mcp.list_tools().await;
    assert!(!tools.is_empty());
}
