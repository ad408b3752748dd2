//! `fake-mcp-server`: a deliberately small MCP server for the harness's own tests, never used
//! by the CLI. It speaks stdio (default) or, with `--http ADDR`, Streamable HTTP at `/mcp` and
//! `/` plus legacy HTTP+SSE at `GET /sse` + `POST /message?sessionId=…`, on a hand-rolled
//! HTTP/1.1 server (one request per connection), so that every harness driver meets a real
//! peer. Its tools: `echo` (no upstream call) and `fetch_api` (GET a path of the Alloy API at
//! `ALLOY_API_URL` with the caller's key), one prompt `greet`, resources `fake://status` and
//! `fake://echo/{text}`.
//!
//! It is dual-era: `initialize` opens the handshake era (a session over HTTP); a request whose
//! `params._meta` names a protocol version is served statelessly at 2026-07-28 (`server/discover`,
//! `resultType`, caching hints and `serverInfo` in results, removed methods -32601, unsupported
//! versions -32022, over HTTP the `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` checks with
//! -32020, 404 and 400 statuses, no session). A foreign `Origin` gets 403.
//!
//! `FAKE_MCP_MODE` switches a fault on: `correct` (default), `drops-a-tool` (`echo` is missing),
//! `wrong-id` (every answer but `initialize`'s carries another id), `silent` (reads, never
//! answers; over HTTP it never sends a status line), `era-confused` (sends the stateless
//! fields `resultType`/`ttlMs`/`cacheScope` to handshake clients, leaves them out at the
//! stateless wire, answers the removed `ping` there and checks no HTTP header), `lax-arguments`
//! (tool arguments are never checked against the schema), `exits-on-garbage` (the process ends
//! on a message that is not JSON).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const STATELESS: &str = "2026-07-28";
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Correct,
    DropsATool,
    WrongId,
    Silent,
    EraConfused,
    LaxArguments,
    ExitsOnGarbage,
}

struct Server {
    mode: Mode,
    api_url: String,
    api_token: String,
    http: reqwest::Client,
}

/// Per-connection (stdio) or per-session (HTTP) state.
#[derive(Default)]
struct Session {
    initialized: bool,
    /// The negotiated version (handshake era).
    version: Option<String>,
}

/// The id of an error answering a message whose id cannot be used: `null` (JSON-RPC 2.0) up to
/// 2025-06-18, left out from 2025-11-25 on and at the stateless wire, as their schemas say.
fn error_without_id(version: Option<&str>, code: i64, message: &str) -> Value {
    let mut e = error(Value::Null, code, message);
    if version.is_some_and(|v| v >= "2025-11-25")
        && let Some(o) = e.as_object_mut()
    {
        o.remove("id");
    }
    e
}

/// The stateless version a message asks for in `params._meta`, if any.
fn meta_version(msg: &Value) -> Option<&str> {
    msg.get("params")?.get("_meta")?.get(META_VERSION)?.as_str()
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}, "prompts": {"listChanged": false},
           "resources": {"subscribe": false, "listChanged": false}})
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn tools(mode: Mode) -> Vec<Value> {
    let echo = json!({
        "name": "echo",
        "description": "Returns the given text.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string", "description": "What to echo."}},
                        "required": ["text"], "additionalProperties": false},
        "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
    });
    let fetch = json!({
        "name": "fetch_api",
        "description": "GETs a path of the Alloy API and returns status and body.",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string", "pattern": "^/", "description": "Path, e.g. /health."}},
                        "required": ["path"], "additionalProperties": false},
        "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
    });
    match mode {
        Mode::DropsATool => vec![fetch],
        _ => vec![echo, fetch],
    }
}

impl Server {
    /// Answers one parsed JSON value; `None` for notifications and responses.
    async fn handle(&self, session: &Mutex<Session>, msg: Value, token: &str) -> Option<Value> {
        let stateless = meta_version(&msg).map(str::to_string);
        let version = stateless
            .clone()
            .or_else(|| session.lock().ok().and_then(|s| s.version.clone()));
        let Some(obj) = msg.as_object() else {
            return Some(error_without_id(
                version.as_deref(),
                -32600,
                "Invalid request: not a JSON-RPC object",
            ));
        };
        let id = obj.get("id").cloned();
        let id_ok = id.as_ref().is_none_or(|i| i.is_string() || i.is_i64() || i.is_u64());
        if obj.get("jsonrpc") != Some(&json!("2.0")) || !id_ok {
            return Some(error_without_id(version.as_deref(), -32600, "Invalid request"));
        }
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            // A response from the client (or garbage without a method).
            return if obj.contains_key("result") || obj.contains_key("error") {
                None
            } else {
                Some(error(id.unwrap_or(Value::Null), -32600, "Invalid request: no method"))
            };
        };
        let Some(id) = id else {
            if method == "notifications/initialized"
                && let Ok(mut s) = session.lock()
            {
                s.initialized = true;
            }
            return None;
        };
        let params = obj.get("params").cloned().unwrap_or(json!({}));
        if !params.is_object() {
            return Some(error(id, -32602, "Invalid params: params must be an object"));
        }
        if let Some(v) = stateless {
            // A stateless client on this connection: errors without a usable id leave it out.
            if let Ok(mut s) = session.lock() {
                s.version.get_or_insert_with(|| STATELESS.to_string());
            }
            let answer = self.handle_stateless(&v, method, id, &params, token).await;
            return Some(self.fault(answer));
        }
        let initialized = session.lock().map(|s| s.initialized).unwrap_or(false);
        let answer = match method {
            "initialize" => {
                let Some(asked) = params.get("protocolVersion").and_then(Value::as_str) else {
                    return Some(error(id, -32602, "Invalid params: protocolVersion is required"));
                };
                let version = if VERSIONS.contains(&asked) { asked } else { "2025-06-18" };
                if let Ok(mut s) = session.lock() {
                    s.initialized = true;
                    s.version = Some(version.to_string());
                }
                return Some(result(
                    id,
                    json!({
                        "protocolVersion": version,
                        "capabilities": capabilities(),
                        "serverInfo": {"name": "fake-mcp-server", "version": "0.1.0"},
                        "instructions": "A fake server for alloy-conformance's own tests.",
                    }),
                ));
            }
            "ping" => result(id.clone(), json!({})),
            _ if !initialized => error(id.clone(), -32600, "Invalid request: initialize first"),
            _ => {
                let version = session.lock().ok().and_then(|s| s.version.clone());
                self.feature(method, id.clone(), &params, token, version.as_deref())
                    .await
            }
        };
        let answer = if self.mode == Mode::EraConfused {
            stateless_fields(answer, method)
        } else {
            answer
        };
        Some(self.fault(answer))
    }

    /// A request at the stateless wire (its `_meta` named `version`).
    async fn handle_stateless(&self, version: &str, method: &str, id: Value, params: &Value, token: &str) -> Value {
        let confused = self.mode == Mode::EraConfused;
        if version != STATELESS {
            let mut supported: Vec<&str> = VERSIONS.to_vec();
            supported.push(STATELESS);
            return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32022,
                "message": "Unsupported protocol version",
                "data": {"supported": supported, "requested": version}}});
        }
        let answer = match method {
            "ping" if confused => result(id, json!({})),
            "initialize" | "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => {
                return error(
                    id,
                    -32601,
                    &format!("Method not found: {method} is not part of {STATELESS}"),
                );
            }
            "server/discover" => {
                let mut supported: Vec<&str> = VERSIONS.to_vec();
                supported.push(STATELESS);
                // At this wire the tool list can be listened to (subscriptions/listen).
                let mut caps = capabilities();
                caps["tools"]["listChanged"] = json!(true);
                result(
                    id,
                    json!({"supportedVersions": supported, "capabilities": caps,
                           "instructions": "A fake server for alloy-conformance's own tests."}),
                )
            }
            "subscriptions/listen" => {
                // Acknowledged first, tagged with the request's id; the stream then stays open
                // (the fake's tool list never changes, so nothing else follows).
                let agreed = params.pointer("/notifications/toolsListChanged") == Some(&json!(true));
                let mut ack = json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                    "params": {"notifications": if agreed { json!({"toolsListChanged": true}) } else { json!({}) }}});
                if !confused {
                    ack["params"]["_meta"] = json!({"io.modelcontextprotocol/subscriptionId": id});
                }
                return ack;
            }
            _ => self.feature(method, id, params, token, Some(STATELESS)).await,
        };
        if confused {
            answer
        } else {
            stateless_fields(answer, method)
        }
    }

    /// The methods both eras share.
    async fn feature(&self, method: &str, id: Value, params: &Value, token: &str, version: Option<&str>) -> Value {
        match method {
            "tools/list" => result(id.clone(), json!({"tools": tools(self.mode)})),
            "tools/call" => self.call_tool(id.clone(), params, token, version).await,
            "prompts/list" => result(
                id.clone(),
                json!({"prompts": [{"name": "greet", "description": "Greets someone.",
                    "arguments": [{"name": "name", "description": "Who.", "required": true}]}]}),
            ),
            "prompts/get" => match (
                params.get("name").and_then(Value::as_str),
                params
                    .get("arguments")
                    .and_then(|a| a.get("name"))
                    .and_then(Value::as_str),
            ) {
                (Some("greet"), Some(who)) => result(
                    id.clone(),
                    json!({"description": "Greets someone.", "messages": [{"role": "user", "content": {"type": "text", "text": format!("Say hello to {who}.")}}]}),
                ),
                (Some("greet"), None) => error(id.clone(), -32602, "Missing required argument: name"),
                _ => error(id.clone(), -32602, "Unknown prompt"),
            },
            "resources/list" => result(
                id.clone(),
                json!({"resources": [{"uri": "fake://status", "name": "status", "mimeType": "application/json"}]}),
            ),
            "resources/templates/list" => result(
                id.clone(),
                json!({"resourceTemplates": [{"uriTemplate": "fake://echo/{text}", "name": "echo", "mimeType": "text/plain"}]}),
            ),
            "resources/read" => match params.get("uri").and_then(Value::as_str) {
                Some("fake://status") => result(
                    id.clone(),
                    json!({"contents": [{"uri": "fake://status", "mimeType": "application/json", "text": "{\"ok\":true}"}]}),
                ),
                Some(uri) if uri.starts_with("fake://echo/") => result(
                    id.clone(),
                    json!({"contents": [{"uri": uri, "mimeType": "text/plain", "text": &uri["fake://echo/".len()..]}]}),
                ),
                Some(_) => error(id.clone(), -32002, "Resource not found"),
                None => error(id.clone(), -32602, "Invalid params: uri is required"),
            },
            _ => error(id.clone(), -32601, "Method not found"),
        }
    }

    fn fault(&self, mut answer: Value) -> Value {
        if self.mode == Mode::WrongId
            && let Some(id) = answer.get("id").cloned()
        {
            answer["id"] = match id {
                Value::Number(n) => json!(n.as_i64().unwrap_or(0) + 1000),
                Value::String(s) => json!(format!("{s}-wrong")),
                other => other,
            };
        }
        answer
    }

    /// A tool call. Arguments that violate the tool's schema are -32602 up to 2025-06-18 and an
    /// isError result from 2025-11-25 on (the model can correct itself), as the revisions ask.
    async fn call_tool(&self, id: Value, params: &Value, token: &str, version: Option<&str>) -> Value {
        let name = params.get("name").and_then(Value::as_str);
        let args = params.get("arguments").cloned().unwrap_or(json!({}));
        let listed = tools(self.mode);
        let Some(tool) = listed.iter().find(|t| t.get("name").and_then(Value::as_str) == name) else {
            return error(id, -32602, &format!("Unknown tool: {}", name.unwrap_or("(none)")));
        };
        let validator = jsonschema::validator_for(&tool["inputSchema"]);
        if let Ok(v) = validator
            && self.mode != Mode::LaxArguments
            && let Some(e) = v.iter_errors(&args).next()
        {
            let at = e.instance_path().to_string();
            let place = if at.is_empty() {
                String::new()
            } else {
                format!(" at {at}")
            };
            let message = format!("Invalid arguments{place}: {e}");
            if version.is_some_and(|v| v >= "2025-11-25") {
                return result(
                    id,
                    json!({"content": [{"type": "text", "text": message}], "isError": true}),
                );
            }
            return error(id, -32602, &message);
        }
        let text = |t: String, is_error: bool| {
            result(
                id.clone(),
                json!({"content": [{"type": "text", "text": t}], "isError": is_error}),
            )
        };
        match name {
            Some("echo") => text(args["text"].as_str().unwrap_or("").to_string(), false),
            _ => {
                let path = args["path"].as_str().unwrap_or("/");
                let url = format!("{}{path}", self.api_url.trim_end_matches('/'));
                let request = self.http.get(url).bearer_auth(token).timeout(Duration::from_secs(5));
                match request.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body: Value = resp.json().await.unwrap_or(Value::Null);
                        text(json!({"status": status, "body": body}).to_string(), status >= 400)
                    }
                    Err(e) => text(format!("cannot reach the Alloy API: {e}"), true),
                }
            }
        }
    }

    /// Handles one raw frame (text) from any transport.
    async fn handle_text(&self, session: &Mutex<Session>, text: &str, token: &str) -> Option<Value> {
        let version = session.lock().ok().and_then(|s| s.version.clone());
        let version = version.as_deref();
        if text.len() > MAX_MESSAGE_BYTES {
            return Some(error_without_id(version, -32600, "Invalid request: message too large"));
        }
        match serde_json::from_str::<Value>(text) {
            Err(_) if self.mode == Mode::ExitsOnGarbage => std::process::exit(3),
            Err(_) => Some(error_without_id(version, -32700, "Parse error")),
            Ok(Value::Array(_)) => Some(error_without_id(
                version,
                -32600,
                "Invalid request: batches are not supported",
            )),
            Ok(v) => self.handle(session, v, token).await,
        }
    }
}

/// What every stateless result carries: `resultType`, `serverInfo` in `_meta`, and on the
/// cacheable ones `ttlMs` and `cacheScope`.
fn stateless_fields(mut answer: Value, method: &str) -> Value {
    let Some(r) = answer.get_mut("result").and_then(Value::as_object_mut) else {
        return answer;
    };
    r.insert("resultType".into(), json!("complete"));
    let meta = r.entry("_meta").or_insert_with(|| json!({}));
    meta["io.modelcontextprotocol/serverInfo"] = json!({"name": "fake-mcp-server", "version": "0.1.0"});
    if matches!(
        method,
        "server/discover"
            | "tools/list"
            | "prompts/list"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
    ) {
        r.insert("ttlMs".into(), json!(60000));
        r.insert("cacheScope".into(), json!("public"));
    }
    answer
}

async fn serve_stdio(server: Arc<Server>) {
    let mut input = BufReader::new(tokio::io::stdin());
    let mut stdout = tokio::io::stdout();
    let session = Mutex::new(Session::default());
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        // Bytes that are not UTF-8 become U+FFFD: such a line is still one message to answer.
        let line = String::from_utf8_lossy(&bytes);
        if server.mode == Mode::Silent || line.trim().is_empty() {
            continue;
        }
        if let Some(answer) = server.handle_text(&session, &line, &server.api_token).await {
            let mut out = answer.to_string();
            out.push('\n');
            if stdout.write_all(out.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                return;
            }
        }
    }
}

/// A legacy SSE session: its state and the stream its answers go out on.
type SseSession = (Arc<Mutex<Session>>, mpsc::UnboundedSender<Value>);

struct HttpState {
    server: Arc<Server>,
    sessions: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
    sse: Mutex<HashMap<String, SseSession>>,
    counter: AtomicU64,
}

struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = Vec::new();
    if len > MAX_MESSAGE_BYTES {
        // Drain without keeping it, then answer 413.
        let mut left = len;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let n = stream.read(&mut buf[..left.min(64 * 1024)]).await.ok()?;
            if n == 0 {
                break;
            }
            left -= n;
        }
        body = b"\0oversized".to_vec();
    } else {
        body.resize(len, 0);
        stream.read_exact(&mut body).await.ok()?;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(HttpRequest {
        method,
        path,
        query,
        headers,
        body,
    })
}

async fn respond(stream: &mut BufReader<TcpStream>, status: u16, headers: &[(&str, String)], body: &str) {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let s = stream.get_mut();
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body.as_bytes()).await;
    let _ = s.flush().await;
}

async fn serve_connection(state: Arc<HttpState>, stream: TcpStream) {
    let mut stream = BufReader::new(stream);
    let Some(req) = read_request(&mut stream).await else {
        return;
    };
    if state.server.mode == Mode::Silent {
        // Keep the connection open and never answer; the client must give up by itself.
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
        return;
    }
    let token = req
        .headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_string);
    let Some(token) = token else {
        respond(
            &mut stream,
            401,
            &[("WWW-Authenticate", "Bearer".into())],
            "unauthorized",
        )
        .await;
        return;
    };
    let json_type = ("Content-Type", "application/json".to_string());
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/sse") => {
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            let id = format!("sse-{n}");
            let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
            if let Ok(mut m) = state.sse.lock() {
                m.insert(id.clone(), (Arc::new(Mutex::new(Session::default())), tx));
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
            let s = stream.get_mut();
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let _ = s
                .write_all(format!("event: endpoint\ndata: /message?sessionId={id}\n\n").as_bytes())
                .await;
            let _ = s.flush().await;
            while let Some(msg) = rx.recv().await {
                let event = format!("event: message\ndata: {msg}\n\n");
                if s.write_all(event.as_bytes()).await.is_err() || s.flush().await.is_err() {
                    break;
                }
            }
            if let Ok(mut m) = state.sse.lock() {
                m.remove(&id);
            }
        }
        ("POST", "/message") => {
            let sid = req
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("sessionId="))
                .unwrap_or("")
                .to_string();
            let entry = state.sse.lock().ok().and_then(|m| m.get(&sid).cloned());
            let Some((session, tx)) = entry else {
                respond(&mut stream, 404, &[], "unknown session").await;
                return;
            };
            if req.body.starts_with(b"\0oversized") {
                respond(&mut stream, 413, &[], "message too large").await;
                return;
            }
            respond(&mut stream, 202, &[], "Accepted").await;
            let text = String::from_utf8_lossy(&req.body).into_owned();
            if let Some(answer) = state.server.handle_text(&session, &text, &token).await {
                let _ = tx.send(answer);
            }
        }
        ("POST", "/mcp" | "/") => {
            if req.body.starts_with(b"\0oversized") {
                respond(&mut stream, 413, &[], "message too large").await;
                return;
            }
            let text = String::from_utf8_lossy(&req.body).into_owned();
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let method = parsed
                .as_ref()
                .and_then(|v| v.get("method"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let is_request = parsed
                .as_ref()
                .is_some_and(|v| v.get("id").is_some() && v.get("method").is_some());
            if let Some(origin) = req.headers.get("origin")
                && !is_loopback_origin(origin)
            {
                let body = json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Forbidden: foreign Origin"}});
                respond(&mut stream, 403, &[json_type], &body.to_string()).await;
                return;
            }
            let header_version = req.headers.get("mcp-protocol-version").cloned();
            let body_version = parsed.as_ref().and_then(meta_version).map(str::to_string);
            let stateless = body_version.is_some() || header_version.as_deref().is_some_and(|v| !VERSIONS.contains(&v));
            if parsed.is_none() && !stateless {
                // Unparsable: -32700, its id as the revision the header names wants it.
                let e = error_without_id(header_version.as_deref(), -32700, "Parse error");
                respond(&mut stream, 400, &[json_type], &e.to_string()).await;
                return;
            }
            if stateless {
                match &parsed {
                    Some(v) => serve_stateless_post(&state, &mut stream, &req, v, &text, &token).await,
                    None => {
                        let e = error_without_id(Some(STATELESS), -32700, "Parse error");
                        respond(&mut stream, 400, &[json_type], &e.to_string()).await;
                    }
                }
                return;
            }
            let session_id = req.headers.get("mcp-session-id").cloned();
            let (session, new_id) = if method.as_deref() == Some("initialize") {
                let n = state.counter.fetch_add(1, Ordering::SeqCst);
                let sid = format!("session-{n}-{:x}", std::process::id());
                let s = Arc::new(Mutex::new(Session::default()));
                if let Ok(mut m) = state.sessions.lock() {
                    m.insert(sid.clone(), s.clone());
                }
                (s, Some(sid))
            } else if parsed.is_none() || !parsed.as_ref().is_some_and(Value::is_object) {
                // Unparsable or a batch: answered without a session.
                (Arc::new(Mutex::new(Session::default())), None)
            } else {
                let Some(sid) = session_id else {
                    respond(&mut stream, 400, &[], "Bad Request: Mcp-Session-Id is required").await;
                    return;
                };
                let Some(s) = state.sessions.lock().ok().and_then(|m| m.get(&sid).cloned()) else {
                    respond(&mut stream, 404, &[], "Not Found: unknown session").await;
                    return;
                };
                (s, None)
            };
            let answer = state.server.handle_text(&session, &text, &token).await;
            let mut headers = Vec::new();
            if let Some(sid) = new_id {
                headers.push(("Mcp-Session-Id", sid));
            }
            match answer {
                None => respond(&mut stream, 202, &headers, "").await,
                Some(a) if parsed.is_none() || !is_request => {
                    // Parse errors and invalid requests: 400 with the JSON-RPC error as body.
                    headers.push(json_type);
                    respond(&mut stream, 400, &headers, &a.to_string()).await;
                }
                Some(a) if method.as_deref() == Some("tools/call") => {
                    // Tool results go out as an SSE stream (priming event first), the rest as
                    // JSON, so both response kinds are exercised.
                    headers.push(("Content-Type", "text/event-stream".into()));
                    respond(
                        &mut stream,
                        200,
                        &headers,
                        &format!("id: 0\ndata:\n\nevent: message\ndata: {a}\n\n"),
                    )
                    .await;
                }
                Some(a) => {
                    headers.push(json_type);
                    respond(&mut stream, 200, &headers, &a.to_string()).await;
                }
            }
        }
        ("DELETE", "/mcp" | "/") => {
            if let (Some(sid), Ok(mut m)) = (req.headers.get("mcp-session-id"), state.sessions.lock()) {
                m.remove(sid);
            }
            respond(&mut stream, 200, &[], "").await;
        }
        _ => respond(&mut stream, 404, &[], "not found").await,
    }
}

fn is_loopback_origin(origin: &str) -> bool {
    let host = origin.split("://").nth(1).unwrap_or("").split(':').next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Decodes the `=?base64?…?=` form of a header value.
fn header_text(value: &str) -> Option<String> {
    use base64::Engine as _;
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(value.to_string()),
    }
}

/// The `HeaderMismatch` problem of a stateless POST, if any.
fn header_problem(req: &HttpRequest, msg: &Value) -> Option<String> {
    // 2026-07-28 defines no header rules for notification POSTs.
    msg.get("id")?;
    let body_version = meta_version(msg);
    let header_version = req.headers.get("mcp-protocol-version").map(String::as_str);
    if header_version.is_none() || header_version != body_version {
        return Some(format!(
            "MCP-Protocol-Version {header_version:?} does not match _meta {body_version:?}"
        ));
    }
    let method = msg.get("method").and_then(Value::as_str);
    let header_method = req.headers.get("mcp-method").and_then(|v| header_text(v));
    if method.is_some() && header_method.as_deref() != method {
        return Some(format!(
            "Mcp-Method {header_method:?} does not match the body's {method:?}"
        ));
    }
    let name = match method {
        Some("tools/call" | "prompts/get") => msg.pointer("/params/name"),
        Some("resources/read") => msg.pointer("/params/uri"),
        _ => None,
    }
    .and_then(Value::as_str);
    let header_name = req.headers.get("mcp-name").and_then(|v| header_text(v));
    if name.is_some() && header_name.as_deref() != name {
        return Some(format!("Mcp-Name {header_name:?} does not match the body's {name:?}"));
    }
    None
}

/// A POST at the stateless wire: header checks, no session, statuses by error code.
async fn serve_stateless_post(
    state: &HttpState,
    stream: &mut BufReader<TcpStream>,
    req: &HttpRequest,
    msg: &Value,
    text: &str,
    token: &str,
) {
    let json_type = ("Content-Type", "application/json".to_string());
    if state.server.mode != Mode::EraConfused
        && let Some(problem) = header_problem(req, msg)
    {
        let mut body =
            json!({"jsonrpc": "2.0", "error": {"code": -32020, "message": format!("Header mismatch: {problem}")}});
        if let Some(id) = msg.get("id") {
            body["id"] = id.clone();
        }
        respond(stream, 400, &[json_type], &body.to_string()).await;
        return;
    }
    let session = Mutex::new(Session {
        initialized: false,
        version: Some(STATELESS.to_string()),
    });
    let Some(answer) = state.server.handle_text(&session, text, token).await else {
        respond(stream, 202, &[], "").await;
        return;
    };
    if answer.get("method").is_some() {
        // subscriptions/listen: an SSE stream that starts with the acknowledgement and stays
        // open until the client goes (at most a minute).
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
        let s = stream.get_mut();
        if s.write_all(head.as_bytes()).await.is_err()
            || s.write_all(format!("data: {answer}\n\n").as_bytes()).await.is_err()
            || s.flush().await.is_err()
        {
            return;
        }
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(60), async {
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
        return;
    }
    let status = match answer.pointer("/error/code").and_then(Value::as_i64) {
        Some(-32601) => 404,
        Some(-32022 | -32020 | -32700 | -32600) => 400,
        _ => 200,
    };
    respond(stream, status, &[json_type], &answer.to_string()).await;
}

async fn serve_http(server: Arc<Server>, addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("fake-mcp-server listening on http://{}", listener.local_addr()?);
    let state = Arc::new(HttpState {
        server,
        sessions: Mutex::new(HashMap::new()),
        sse: Mutex::new(HashMap::new()),
        counter: AtomicU64::new(1),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(serve_connection(state.clone(), stream));
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mode = match std::env::var("FAKE_MCP_MODE").as_deref() {
        Ok("drops-a-tool") => Mode::DropsATool,
        Ok("wrong-id") => Mode::WrongId,
        Ok("silent") => Mode::Silent,
        Ok("era-confused") => Mode::EraConfused,
        Ok("lax-arguments") => Mode::LaxArguments,
        Ok("exits-on-garbage") => Mode::ExitsOnGarbage,
        _ => Mode::Correct,
    };
    let server = Arc::new(Server {
        mode,
        api_url: std::env::var("ALLOY_API_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into()),
        api_token: std::env::var("ALLOY_API_TOKEN").unwrap_or_default(),
        http: reqwest::Client::new(),
    });
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--http") {
        Some(i) => {
            let addr = args.get(i + 1).cloned().unwrap_or_else(|| "127.0.0.1:0".into());
            serve_http(server, &addr).await
        }
        None => {
            serve_stdio(server).await;
            Ok(())
        }
    }
}
