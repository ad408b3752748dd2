//! The request journal: what the mock received, for tests and for people debugging a client.
//! It is bounded three ways ([`JournalLimits`]): by entry count, by the total bytes it holds,
//! and per entry, where a body past the cap keeps only its first bytes, followed by a visible
//! marker, with its original size recorded. The oldest entries go first. Bodies are kept as the
//! bytes received (not parsed), so what is accounted is what is held; they become JSON only when
//! someone reads the journal.

use crate::routes::RawRequest;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;

/// How much the journal may hold. `0` entries or `0` bytes turn it off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct JournalLimits {
    /// Most entries kept (oldest dropped first).
    pub max_entries: usize,
    /// Most bytes kept over all entries (method, path, query, token prefix and kept body,
    /// plus [`ENTRY_OVERHEAD`] per entry).
    pub max_bytes: usize,
    /// Most body bytes kept per entry; a longer body is cut there and marked.
    pub max_body_bytes: usize,
}

impl Default for JournalLimits {
    /// 10,000 entries, 32 MiB in all, 1 MiB of body per entry (the API's own limit for every
    /// request but an import, so every body the API accepts is kept whole but an import's).
    fn default() -> Self {
        JournalLimits {
            max_entries: 10_000,
            max_bytes: 32 * 1024 * 1024,
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl JournalLimits {
    /// Checks that the limits fit together; the error says which flag or field to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_body_bytes > self.max_bytes && self.max_bytes > 0 && self.max_entries > 0 {
            return Err(format!(
                "the journal's per-entry body cap ({} bytes) is larger than its total budget ({} bytes): \
                 lower --journal-max-body-bytes or raise --journal-max-bytes",
                self.max_body_bytes, self.max_bytes
            ));
        }
        Ok(())
    }

    fn enabled(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }
}

/// Bytes accounted per entry besides its strings (the entry itself and its queue slot).
pub const ENTRY_OVERHEAD: usize = 128;

/// One request the mock received, as tests and the admin listener read it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query pairs in order.
    pub query: Vec<(String, String)>,
    /// The first 15 characters of the bearer token (an API key's public prefix), if any.
    pub token_prefix: Option<String>,
    /// JSON body (or the body as a string when it was not JSON). A body past the per-entry cap
    /// is a string: its first bytes, then `… [truncated by alloy-mock-api: kept K of N bytes]`.
    pub body: Option<Value>,
    /// Status the mock answered (`None` for a dropped connection).
    pub status: Option<u16>,
    /// The original size of a truncated body; absent when the body is whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_truncated_from: Option<usize>,
}

/// An entry as stored: the body as the bytes kept.
#[derive(Debug)]
struct Recorded {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    token_prefix: Option<String>,
    body: Box<[u8]>,
    body_size: usize,
    status: Option<u16>,
}

impl Recorded {
    fn bytes(&self) -> usize {
        ENTRY_OVERHEAD
            + self.method.len()
            + self.path.len()
            + self.query.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
            + self.token_prefix.as_ref().map_or(0, String::len)
            + self.body.len()
    }

    fn entry(&self) -> JournalEntry {
        let truncated = self.body.len() < self.body_size;
        let body = if self.body_size == 0 {
            None
        } else if truncated {
            Some(Value::String(format!(
                "{}… [truncated by alloy-mock-api: kept {} of {} bytes]",
                String::from_utf8_lossy(&self.body),
                self.body.len(),
                self.body_size
            )))
        } else {
            Some(
                serde_json::from_slice(&self.body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned())),
            )
        };
        JournalEntry {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            token_prefix: self.token_prefix.clone(),
            body,
            status: self.status,
            body_truncated_from: truncated.then_some(self.body_size),
        }
    }
}

/// How full the journal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct JournalStats {
    /// Entries held.
    pub entries: usize,
    /// Bytes accounted for them (see [`JournalLimits::max_bytes`]).
    pub bytes: usize,
    /// Entries dropped so far to stay within the limits.
    pub evicted: u64,
    /// Bodies cut at the per-entry cap so far.
    pub truncated: u64,
    /// The limits in force.
    pub limits: JournalLimits,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    limits: JournalLimits,
    entries: VecDeque<Recorded>,
    bytes: usize,
    evicted: u64,
    truncated: u64,
}

/// The longest prefix of `body` of at most `cap` bytes that does not split a UTF-8 character
/// (for text bodies; binary ones are cut at `cap`).
fn cut(body: &[u8], cap: usize) -> &[u8] {
    if body.len() <= cap {
        return body;
    }
    let head = &body[..cap];
    match std::str::from_utf8(head) {
        Ok(_) => head,
        // Only an incomplete character at the very end is trimmed; invalid bytes elsewhere mean
        // the body is not text, and it is kept as it is.
        Err(e) if e.error_len().is_none() => &head[..e.valid_up_to()],
        Err(_) => head,
    }
}

impl Journal {
    /// An empty journal with these limits.
    pub fn new(limits: JournalLimits) -> Journal {
        Journal {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
            evicted: 0,
            truncated: 0,
        }
    }

    /// Records one request and the status it got; only the first `max_body_bytes` of its body
    /// are copied. Then drops the oldest entries until the journal fits its limits again (an
    /// entry larger than the whole budget is not kept at all).
    pub fn record(&mut self, raw: &RawRequest, status: Option<u16>) {
        if !self.limits.enabled() {
            return;
        }
        let token_prefix = raw.headers.get("authorization").and_then(|h| {
            h.split_once(' ')
                .map(|(_, t)| t.trim().chars().take(15).collect::<String>())
        });
        let body_size = raw.body_len.max(raw.body.len());
        let kept = cut(raw.body, self.limits.max_body_bytes);
        if kept.len() < body_size {
            self.truncated += 1;
        }
        let r = Recorded {
            method: raw.method.clone(),
            path: raw.path.clone(),
            query: raw.query.clone(),
            token_prefix,
            body: kept.into(),
            body_size,
            status,
        };
        self.bytes += r.bytes();
        self.entries.push_back(r);
        while self.entries.len() > self.limits.max_entries || self.bytes > self.limits.max_bytes {
            let Some(old) = self.entries.pop_front() else { break };
            self.bytes -= old.bytes();
            self.evicted += 1;
        }
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries.iter().map(Recorded::entry).collect()
    }

    /// Every entry, oldest first, and empties the journal.
    pub fn take(&mut self) -> Vec<JournalEntry> {
        self.bytes = 0;
        self.entries.drain(..).map(|r| r.entry()).collect()
    }

    /// How full the journal is.
    pub fn stats(&self) -> JournalStats {
        JournalStats {
            entries: self.entries.len(),
            bytes: self.bytes,
            evicted: self.evicted,
            truncated: self.truncated,
            limits: self.limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn raw(body: &[u8]) -> RawRequest<'_> {
        RawRequest {
            method: "POST".into(),
            path: "/api/v1/projects".into(),
            query: Vec::new(),
            headers: BTreeMap::new(),
            body,
            body_len: body.len(),
        }
    }

    #[test]
    fn a_body_past_the_cap_keeps_its_head_a_marker_and_its_size() {
        let mut j = Journal::new(JournalLimits {
            max_body_bytes: 8,
            ..JournalLimits::default()
        });
        j.record(&raw(br#"{"name": "a long project name"}"#), Some(201));
        let e = &j.entries()[0];
        assert_eq!(e.body_truncated_from, Some(31));
        assert_eq!(
            e.body,
            Some(Value::String(
                r#"{"name":… [truncated by alloy-mock-api: kept 8 of 31 bytes]"#.into()
            ))
        );
        assert_eq!(j.stats().truncated, 1);
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        assert_eq!(cut("aé".as_bytes(), 2), b"a");
        assert_eq!(cut("aé".as_bytes(), 3), "aé".as_bytes());
        assert_eq!(cut(&[0xff, 0xfe, 0xfd], 2), &[0xff, 0xfe]);
    }

    #[test]
    fn count_and_bytes_are_both_bounds() {
        let mut j = Journal::new(JournalLimits {
            max_entries: 3,
            max_bytes: 10_000,
            max_body_bytes: 1_000,
        });
        for _ in 0..5 {
            j.record(&raw(b"{}"), Some(200));
        }
        assert_eq!((j.stats().entries, j.stats().evicted), (3, 2));
        let mut j = Journal::new(JournalLimits {
            max_entries: 1_000,
            max_bytes: 3 * (ENTRY_OVERHEAD + 1_000 + 20),
            max_body_bytes: 1_000,
        });
        for _ in 0..10 {
            j.record(&raw(&[b'x'; 5_000]), Some(413));
        }
        let s = j.stats();
        assert!(s.bytes <= s.limits.max_bytes, "{s:?}");
        assert_eq!(s.entries, 3, "{s:?}");
        let sum: usize = j.entries.iter().map(Recorded::bytes).sum();
        assert_eq!(sum, s.bytes, "the accounting matches what is held");
    }

    #[test]
    fn zero_turns_the_journal_off_and_take_empties_it() {
        let mut j = Journal::new(JournalLimits {
            max_entries: 0,
            ..JournalLimits::default()
        });
        j.record(&raw(b"{}"), Some(200));
        assert_eq!(j.stats().entries, 0);
        let mut j = Journal::new(JournalLimits::default());
        j.record(&raw(b""), Some(200));
        assert_eq!(j.entries()[0].body, None);
        assert_eq!(j.take().len(), 1);
        assert_eq!((j.stats().entries, j.stats().bytes), (0, 0));
    }
}
