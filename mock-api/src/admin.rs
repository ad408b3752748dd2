//! The admin listener: an opt-in second HTTP listener (`serve --admin-bind ADDR`,
//! `MockOptions::admin_bind`) that controls the running mock for people testing their own
//! clients. It is never served on the API's address, needs no key, and is not journaled.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | this index, as JSON |
//! | `POST /faults` | puts a fault in force: `{"kind", ...kind fields, "method"?, "path_prefix"? or "path"?, "times"?}` → 201 with its `id` |
//! | `GET /faults` | the faults in force, newest first (the newest matching one wins) |
//! | `DELETE /faults/{id}` | removes one (204; 404 when it is gone, e.g. used up) |
//! | `DELETE /faults` | removes every fault (`{"removed": n}`) |
//! | `GET /journal` | `{"entries": [...], "stats": {...}}`; `?last=N` keeps the newest N |
//! | `DELETE /journal` | returns the entries like `GET` and empties the journal |
//!
//! Kinds: `status` (`status` 400–599: that status with an error envelope), `rate_limited`
//! (`retry_after` seconds 0–86400: 429 with `Retry-After`), `delay` (`delay_ms` 1–600000: the
//! real answer, late), `malformed_body` (200 with a body that is not JSON), `drop_connection`
//! (the connection closes without an answer). Failures use the API's error envelope.

use crate::error::{ApiError, ApiResult};
use crate::fault::Faults;
use crate::fault::{Fault, FaultKind};
use crate::http::{Answer, Response, Server};
use crate::journal::Journal;
use crate::model::Problem;
use crate::request::{Body, Mode, int, string};
use crate::routes::RawRequest;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the admin listener controls: the API's faults and journal, shared with its handler.
#[derive(Clone)]
pub(crate) struct Controls {
    /// The faults in force.
    pub faults: Arc<Mutex<Faults>>,
    /// The request journal.
    pub journal: Arc<Mutex<Journal>>,
}

/// Most faults in force at once through the admin listener.
pub const MAX_FAULTS: usize = 1000;

/// The shape of `POST /faults`, for error messages.
const FAULT_SHAPE: &str = "send {\"kind\": \"status\", \"status\": 503} (or kind rate_limited with retry_after, \
delay with delay_ms, malformed_body, drop_connection), optionally with \"method\", \"path_prefix\" or \"path\", \"times\"";

/// Whether two addresses would be served on the same port of a shared interface (port 0 picks
/// a free port, so it never clashes).
fn same_listener(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0 && a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// Refuses an admin address that would share the API's listener.
pub(crate) fn check_apart(bind: SocketAddr, api: SocketAddr) -> anyhow::Result<()> {
    if same_listener(bind, api) {
        anyhow::bail!(
            "the admin listener cannot share the API's address {api}: give --admin-bind another port (for example {})",
            SocketAddr::new(bind.ip(), if api.port() == 3099 { 3098 } else { 3099 })
        );
    }
    Ok(())
}

/// Starts the admin listener on `bind`, refusing the API's own address.
pub(crate) fn start(bind: SocketAddr, api: SocketAddr, shared: Controls) -> anyhow::Result<Server> {
    check_apart(bind, api)?;
    let listener = std::net::TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("cannot bind the admin listener to {bind}: {e}"))?;
    let server = Server::start(listener, Arc::new(move |req| answer(&shared, req)))
        .map_err(|e| anyhow::anyhow!("cannot start the admin listener on {bind}: {e}"))?;
    if same_listener(server.address(), api) {
        anyhow::bail!("the admin listener landed on the API's address {api}; choose another --admin-bind port");
    }
    Ok(server)
}

fn answer(shared: &Controls, req: &RawRequest<'_>) -> Answer {
    let (status, body, mut headers) = match route(shared, req) {
        Ok((status, body)) => (status, body, Vec::new()),
        Err(e) => {
            let headers = e.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            (e.status, Some(e.body()), headers)
        }
    };
    let bytes = match body {
        Some(v) => {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
            serde_json::to_vec(&v).unwrap_or_default()
        }
        None => Vec::new(),
    };
    Answer::Respond(
        Response {
            status,
            headers,
            body: bytes,
        },
        None,
    )
}

type Outcome = ApiResult<(u16, Option<Value>)>;

fn route(shared: &Controls, req: &RawRequest<'_>) -> Outcome {
    let path = req.path.trim_end_matches('/');
    let method = req.method.as_str();
    match (method, path) {
        ("GET", "") => Ok((200, Some(index()))),
        ("GET", "/faults") => Ok((200, Some(json!({"faults": shared.faults.lock().to_json()})))),
        ("POST", "/faults") => add_fault(shared, req),
        ("DELETE", "/faults") => Ok((200, Some(json!({"removed": shared.faults.lock().clear()})))),
        ("GET", "/journal") => journal(shared, req, false),
        ("DELETE", "/journal") => journal(shared, req, true),
        ("DELETE", p) if p.starts_with("/faults/") => remove_fault(shared, &p["/faults/".len()..]),
        _ => {
            let allow: &[&str] = match path {
                "" => &["GET"],
                "/faults" => &["GET", "POST", "DELETE"],
                "/journal" => &["GET", "DELETE"],
                p if p.starts_with("/faults/") => &["DELETE"],
                _ => return Err(ApiError::not_found("route", &req.path).with("routes", index()["routes"].clone())),
            };
            let mut e = ApiError::new(
                405,
                "method_not_allowed",
                format!("{method} is not allowed on {}", req.path),
                Map::new(),
            )
            .with("allow", json!(allow));
            e.headers.push(("Allow", allow.join(", ")));
            Err(e)
        }
    }
}

fn index() -> Value {
    json!({
        "service": "alloy-mock-api admin",
        "routes": [
            "GET /faults", "POST /faults", "DELETE /faults", "DELETE /faults/{id}",
            "GET /journal", "DELETE /journal"
        ],
        "fault": FAULT_SHAPE,
    })
}

fn remove_fault(shared: &Controls, raw: &str) -> Outcome {
    let id: u64 = raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            "id",
            format!("fault id {raw:?} is not a number: use an id from GET /faults"),
        )
    })?;
    if shared.faults.lock().remove(id) {
        Ok((204, None))
    } else {
        Err(ApiError::not_found("fault", raw).with(
            "hint",
            "the fault was removed or used up its times; GET /faults lists those in force",
        ))
    }
}

fn journal(shared: &Controls, req: &RawRequest<'_>, clear: bool) -> Outcome {
    let last = match req.query.iter().rev().find(|(k, _)| k == "last") {
        None => None,
        Some((_, v)) => Some(v.parse::<usize>().map_err(|_| {
            ApiError::invalid_query("last", format!("last must be a whole number of entries, got {v:?}"))
        })?),
    };
    let mut j = shared.journal.lock();
    let stats = j.stats();
    let mut entries = if clear { j.take() } else { j.entries() };
    drop(j);
    if let Some(n) = last {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    Ok((200, Some(json!({"entries": entries, "stats": stats}))))
}

/// Parses the body of `POST /faults` into a fault, naming every field that is wrong.
fn parse_fault(req: &RawRequest<'_>) -> ApiResult<Fault> {
    let doc: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(req.body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                "body",
                format!("the fault is not valid JSON ({e}): {FAULT_SHAPE}"),
            )
        })?
    };
    let Value::Object(obj) = &doc else {
        return Err(ApiError::bad_request(
            "malformed_json",
            "body",
            format!("the fault must be a JSON object: {FAULT_SHAPE}"),
        ));
    };
    let mut b = Body::of(obj);
    let kind_name = b.get("kind", Mode::Required, &string(1, 32));
    let kind = match kind_name.as_deref() {
        None => None,
        Some("status") => b
            .get("status", Mode::Required, &int(400, 599))
            .map(|s| FaultKind::Status(s as u16)),
        Some("rate_limited") => b
            .get("retry_after", Mode::Required, &int(0, 86_400))
            .map(|s| FaultKind::RateLimited { retry_after: s as u64 }),
        Some("delay") => b
            .get("delay_ms", Mode::Required, &int(1, 600_000))
            .map(|ms| FaultKind::Delay(Duration::from_millis(ms as u64))),
        Some("malformed_body") => Some(FaultKind::MalformedBody),
        Some("drop_connection") => Some(FaultKind::DropConnection),
        Some(_) => {
            b.error("kind", Problem::InvalidEnum);
            None
        }
    };
    let method = b.get("method", Mode::Optional, &|v: &Value| {
        let s = v.as_str().ok_or(Problem::InvalidFormat)?;
        if (1..=16).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphabetic()) {
            Ok(s.to_ascii_uppercase())
        } else {
            Err(Problem::InvalidFormat)
        }
    });
    let path_text = |v: &Value| -> Result<String, Problem> {
        let s = v.as_str().ok_or(Problem::InvalidFormat)?;
        if s.starts_with('/') && s.len() <= 2048 && !s.contains(['?', '#']) {
            Ok(s.to_string())
        } else {
            Err(Problem::InvalidFormat)
        }
    };
    let prefix = b.get("path_prefix", Mode::Optional, &path_text);
    let exact = b.get("path", Mode::Optional, &path_text);
    if prefix.is_some() && exact.is_some() {
        b.error("path", Problem::DuplicateItem);
    }
    let times = b.get("times", Mode::Optional, &int(1, 1_000_000_000));
    b.immutable(&["id", "remaining"]);
    b.finish().map_err(|e| {
        let msg = format!("{}. {FAULT_SHAPE}", e.message);
        ApiError { message: msg, ..e }
    })?;
    let kind = kind.ok_or_else(|| ApiError::field("kind", Problem::Required))?;
    let mut fault = Fault::new(kind);
    if let Some(m) = method {
        fault = fault.method(&m);
    }
    if let Some(p) = prefix {
        fault = fault.path_prefix(&p);
    }
    if let Some(p) = exact {
        fault = fault.path(&p);
    }
    if let Some(n) = times {
        fault = fault.times(n as u64);
    }
    Ok(fault)
}

fn add_fault(shared: &Controls, req: &RawRequest<'_>) -> Outcome {
    let fault = parse_fault(req)?;
    let mut faults = shared.faults.lock();
    if faults.len() >= MAX_FAULTS {
        return Err(ApiError::conflict(
            "too_many_faults",
            format!("{MAX_FAULTS} faults are in force; remove some with DELETE /faults/{{id}} or DELETE /faults"),
        ));
    }
    let id = faults.add(fault);
    let created = faults
        .to_json()
        .into_iter()
        .find(|f| f["id"] == json!(id))
        .unwrap_or_else(|| json!({"id": id}));
    Ok((201, Some(created)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalLimits;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn the_apis_address_is_refused_before_anything_is_bound() {
        assert!(same_listener(addr("127.0.0.1:3000"), addr("127.0.0.1:3000")));
        assert!(same_listener(addr("0.0.0.0:3000"), addr("127.0.0.1:3000")));
        assert!(same_listener(addr("127.0.0.1:3000"), addr("[::]:3000")));
        assert!(!same_listener(addr("127.0.0.1:3099"), addr("127.0.0.1:3000")));
        assert!(!same_listener(addr("127.0.0.2:3000"), addr("127.0.0.1:3000")));
        assert!(!same_listener(addr("127.0.0.1:0"), addr("127.0.0.1:0")));
        let shared = Controls {
            faults: Arc::new(Mutex::new(Faults::default())),
            journal: Arc::new(Mutex::new(Journal::new(JournalLimits::default()))),
        };
        // Port 9 (discard) is never bound here: the refusal comes before any bind.
        let e = start(addr("127.0.0.1:9"), addr("127.0.0.1:9"), shared).expect_err("refused");
        let msg = e.to_string();
        assert!(
            msg.contains("cannot share the API's address 127.0.0.1:9") && msg.contains("--admin-bind"),
            "{msg}"
        );
    }
}
