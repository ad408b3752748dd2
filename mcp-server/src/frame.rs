//! What happens to one incoming JSON value before rmcp sees it, for every transport (the stdio
//! shim, Streamable HTTP and legacy SSE): one set of rules, so a malformed message gets the same
//! JSON-RPC error whichever way it arrived. The conformance scenarios compare the transcripts of
//! the three transports, which would catch a drift.
//!
//! | message | verdict |
//! |---|---|
//! | not JSON | `-32700`, `id: null` (decided by the transport, before this module) |
//! | a batch array, not an object, bad `jsonrpc`/`id`/`method` (a fractional id included) | `-32600`, the request's `id` when usable |
//! | a known MCP method whose `params` do not fit (`tools/call` without `name`, ...) | `-32602` with the request's `id` |
//! | a malformed notification | dropped |
//! | anything else | forwarded |

/// JSON-RPC "Parse error".
pub(crate) const PARSE_ERROR: i32 = -32700;
/// JSON-RPC "Invalid Request".
pub(crate) const INVALID_REQUEST: i32 = -32600;
/// JSON-RPC "Invalid params".
pub(crate) const INVALID_PARAMS: i32 = -32602;

use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, CompleteRequestParams, GetPromptRequestParams,
    InitializeRequestParams, JsonRpcMessage, PaginatedRequestParams, ReadResourceRequestParams, SubscribeRequestParams,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What to do with one message.
pub(crate) enum Verdict {
    /// Answer with this error instead of forwarding.
    Reply {
        /// The request's id, or `null`.
        id: Value,
        /// The JSON-RPC error code.
        code: i32,
        /// The message.
        message: String,
    },
    /// Hand it to rmcp.
    Forward(Box<ClientJsonRpcMessage>),
    /// Ignore it (a malformed notification has nobody to answer).
    Drop(&'static str),
}

fn invalid(id: Value, why: &str) -> Verdict {
    Verdict::Reply {
        id,
        code: INVALID_REQUEST,
        message: format!("Invalid Request: {why}"),
    }
}

/// Decides what happens to one parsed JSON value.
pub(crate) fn classify(value: Value) -> Verdict {
    let obj = match &value {
        Value::Object(o) => o,
        Value::Array(_) => return invalid(Value::Null, "batches are not supported; send one message per request"),
        _ => return invalid(Value::Null, "a JSON-RPC message must be a JSON object"),
    };
    let id = match obj.get("id") {
        None => None,
        Some(v @ Value::String(_)) => Some(v.clone()),
        Some(v @ Value::Number(n)) if n.is_i64() || n.is_u64() => Some(v.clone()),
        Some(Value::Number(_)) => return invalid(Value::Null, "`id` must be a string or an integer"),
        Some(_) => return invalid(Value::Null, "`id` must be a string or a number"),
    };
    let echo = id.clone().unwrap_or(Value::Null);
    if obj.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return invalid(echo, "`jsonrpc` must be \"2.0\"");
    }
    match obj.get("method") {
        Some(Value::String(method)) => {
            let method = method.clone();
            let params = obj.get("params").cloned();
            if let Some(p) = &params
                && !(p.is_object() || p.is_array() || p.is_null())
            {
                if id.is_some() && KNOWN_METHODS.contains(&method.as_str()) {
                    return Verdict::Reply {
                        id: echo,
                        code: INVALID_PARAMS,
                        message: format!("Invalid params for {method}: `params` must be an object"),
                    };
                }
                return invalid(echo, "`params` must be an object or an array");
            }
            match serde_json::from_value::<ClientJsonRpcMessage>(value) {
                Ok(JsonRpcMessage::Request(req)) => {
                    if let ClientRequest::CustomRequest(c) = &req.request
                        && KNOWN_METHODS.contains(&c.method.as_str())
                    {
                        return Verdict::Reply {
                            id: echo,
                            code: INVALID_PARAMS,
                            message: format!("Invalid params for {method}: {}", params_problem(&method, params)),
                        };
                    }
                    Verdict::Forward(Box::new(JsonRpcMessage::Request(req)))
                }
                Ok(msg @ JsonRpcMessage::Notification(_)) => Verdict::Forward(Box::new(msg)),
                Ok(_) => invalid(echo, "a message with `method` must be a request or a notification"),
                Err(e) if id.is_some() && KNOWN_METHODS.contains(&method.as_str()) => Verdict::Reply {
                    id: echo,
                    code: INVALID_PARAMS,
                    message: format!("Invalid params for {method}: {e}"),
                },
                Err(e) if id.is_some() => invalid(echo, &e.to_string()),
                Err(_) => Verdict::Drop("malformed notification"),
            }
        }
        Some(_) => invalid(echo, "`method` must be a string"),
        None => {
            if id.is_none() || !(obj.contains_key("result") || obj.contains_key("error")) {
                return invalid(
                    echo,
                    "expected `method` (request or notification) or `result`/`error` (response)",
                );
            }
            match serde_json::from_value::<ClientJsonRpcMessage>(value) {
                Ok(msg) => Verdict::Forward(Box::new(msg)),
                Err(e) => invalid(echo, &e.to_string()),
            }
        }
    }
}

/// Client request methods of MCP with typed params (a parse failure of their params is -32602).
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
];

/// Why `params` do not fit `method` (the serde message, e.g. "missing field `name`").
fn params_problem(method: &str, params: Option<Value>) -> String {
    fn check<T: DeserializeOwned>(params: Option<Value>) -> String {
        match serde_json::from_value::<T>(params.unwrap_or(Value::Null)) {
            Ok(_) => "the params do not match this method".to_string(),
            Err(e) => e.to_string(),
        }
    }
    match method {
        "initialize" => check::<InitializeRequestParams>(params),
        "tools/call" => check::<CallToolRequestParams>(params),
        "prompts/get" => check::<GetPromptRequestParams>(params),
        "resources/read" => check::<ReadResourceRequestParams>(params),
        "resources/subscribe" | "resources/unsubscribe" => check::<SubscribeRequestParams>(params),
        "completion/complete" => check::<CompleteRequestParams>(params),
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            check::<Option<PaginatedRequestParams>>(params)
        }
        _ => "the params do not match this method".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(v: Value) -> (Value, i32) {
        match classify(v) {
            Verdict::Reply { id, code, .. } => (id, code),
            Verdict::Forward(_) => panic!("forwarded"),
            Verdict::Drop(w) => panic!("dropped: {w}"),
        }
    }

    #[test]
    fn batches_and_non_json_rpc_messages_are_invalid_requests() {
        assert_eq!(reply(json!([])), (Value::Null, INVALID_REQUEST));
        assert_eq!(
            reply(json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])),
            (Value::Null, INVALID_REQUEST)
        );
        assert_eq!(reply(json!("x")), (Value::Null, INVALID_REQUEST));
        assert_eq!(reply(json!({"id": 1, "method": "ping"})), (json!(1), INVALID_REQUEST));
        assert_eq!(reply(json!({"jsonrpc": "2.0", "id": 3})), (json!(3), INVALID_REQUEST));
        assert_eq!(
            reply(json!({"jsonrpc": "2.0", "id": 2.5, "method": "ping"})),
            (Value::Null, INVALID_REQUEST)
        );
    }

    #[test]
    fn known_methods_with_malformed_params_are_invalid_params() {
        assert_eq!(
            reply(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {}})),
            (json!(7), INVALID_PARAMS)
        );
        assert_eq!(
            reply(json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": "bad"})),
            (json!(8), INVALID_PARAMS)
        );
    }

    #[test]
    fn well_formed_messages_are_forwarded() {
        for v in [
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ping"}}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ] {
            assert!(matches!(classify(v), Verdict::Forward(_)));
        }
    }
}
