//! Injected faults: what a fault does ([`FaultKind`]), which requests it hits ([`Fault`]: method,
//! path prefix or exact path, how many times), and the set of faults in force ([`Faults`]),
//! newest first. Tests add faults through `MockAlloy::fault` (removed when their guard drops);
//! the binary's admin listener adds, lists and removes them by id. A fault whose count is used
//! up leaves the set at once.

use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// What a fault does to the requests it matches.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Answer with this status and an error envelope, without touching state.
    Status(u16),
    /// Handle the request normally, but answer only after the delay.
    Delay(Duration),
    /// Answer 200 with a body that is not JSON.
    MalformedBody,
    /// Close the connection without answering.
    DropConnection,
    /// Answer 429 `rate_limited` with `Retry-After: secs`.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after: u64,
    },
}

impl FaultKind {
    /// The kind as the admin listener shows it (`{"kind": "status", "status": 503}`, ...).
    pub fn to_json(&self) -> Value {
        match self {
            FaultKind::Status(s) => json!({"kind": "status", "status": s}),
            FaultKind::Delay(d) => json!({"kind": "delay", "delay_ms": d.as_millis() as u64}),
            FaultKind::MalformedBody => json!({"kind": "malformed_body"}),
            FaultKind::DropConnection => json!({"kind": "drop_connection"}),
            FaultKind::RateLimited { retry_after } => json!({"kind": "rate_limited", "retry_after": retry_after}),
        }
    }
}

/// Which paths a fault hits.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathRule {
    /// Every path.
    Any,
    /// Paths starting with this prefix.
    Prefix(String),
    /// Exactly this path.
    Exact(String),
}

/// A scoped fault: which requests it hits and what it does.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    kind: FaultKind,
    method: Option<String>,
    path: PathRule,
    times: Option<u64>,
}

impl Fault {
    /// A fault hitting every request.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            method: None,
            path: PathRule::Any,
            times: None,
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_ascii_uppercase());
        self
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: &str) -> Fault {
        self.path = PathRule::Prefix(prefix.to_string());
        self
    }

    /// Only requests whose path equals `path`.
    pub fn path(mut self, path: &str) -> Fault {
        self.path = PathRule::Exact(path.to_string());
        self
    }

    /// At most `n` requests; after that the mock behaves normally again.
    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }

    /// What the fault does.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match &self.path {
            PathRule::Any => true,
            PathRule::Prefix(p) => path.starts_with(p.as_str()),
            PathRule::Exact(p) => path == p,
        };
        method_ok && path_ok
    }
}

/// A fault in force: its id, its rule, and how many hits it has left (`None` = unlimited).
#[derive(Clone, Debug)]
struct Active {
    id: u64,
    fault: Fault,
    remaining: Option<u64>,
}

/// The faults in force, newest first.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    active: Vec<Active>,
}

impl Faults {
    /// Puts a fault in force (it wins over older ones) and returns its id.
    pub fn add(&mut self, fault: Fault) -> u64 {
        self.next_id += 1;
        let remaining = fault.times;
        self.active.insert(
            0,
            Active {
                id: self.next_id,
                fault,
                remaining,
            },
        );
        self.next_id
    }

    /// Removes a fault; whether it was still in force.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.active.len();
        self.active.retain(|f| f.id != id);
        self.active.len() != before
    }

    /// Removes every fault; how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.active.len();
        self.active.clear();
        n
    }

    /// How many faults are in force.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether no fault is in force.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The newest fault matching a request, counting one hit against it; a fault whose count
    /// is used up leaves the set.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let pos = self
            .active
            .iter()
            .position(|f| f.remaining != Some(0) && f.fault.matches(method, path))?;
        let f = &mut self.active[pos];
        let kind = f.fault.kind.clone();
        if let Some(n) = f.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.active.remove(pos);
            }
        }
        Some(kind)
    }

    /// Every fault in force, newest first, as the admin listener shows them.
    pub fn to_json(&self) -> Vec<Value> {
        self.active
            .iter()
            .map(|f| {
                let (prefix, exact) = match &f.fault.path {
                    PathRule::Any => (None, None),
                    PathRule::Prefix(p) => (Some(p.as_str()), None),
                    PathRule::Exact(p) => (None, Some(p.as_str())),
                };
                let mut v = f.fault.kind.to_json();
                if let Some(m) = v.as_object_mut() {
                    m.insert("id".into(), json!(f.id));
                    m.insert("method".into(), json!(f.fault.method));
                    m.insert("path_prefix".into(), json!(prefix));
                    m.insert("path".into(), json!(exact));
                    m.insert("times".into(), json!(f.fault.times));
                    m.insert("remaining".into(), json!(f.remaining));
                }
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_match_wins_and_a_used_up_fault_leaves() {
        let mut f = Faults::default();
        let a = f.add(Fault::new(FaultKind::Status(500)).path_prefix("/api/v1/tickets"));
        f.add(Fault::new(FaultKind::MalformedBody).method("get").times(1));
        assert_eq!(f.take("GET", "/api/v1/tickets"), Some(FaultKind::MalformedBody));
        assert_eq!(f.len(), 1, "the one-shot fault is used up");
        assert_eq!(f.take("GET", "/api/v1/tickets/WEB-1"), Some(FaultKind::Status(500)));
        assert_eq!(f.take("GET", "/api/v1/projects"), None);
        assert!(f.remove(a) && !f.remove(a));
        assert!(f.is_empty());
    }
}
