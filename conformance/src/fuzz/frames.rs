//! Frame abuse: sequences of malformed, odd and valid frames sent back to back on one session,
//! and the invariants every answer must keep.
//!
//! A case is one to six [`Item`]s: arbitrary bytes (not UTF-8 either), truncated JSON, invalid
//! UTF-8 inside a request, deep nesting (up to 100,000 levels), huge strings (up to 2 MiB in a
//! `_meta`, the method name or the id), requests whose id is of every JSON type (strings and
//! integers of every kind, 2^63 and above included; and `null`, fractions, booleans, objects,
//! arrays), the same id sent two or three times back to back (in flight at once), notification
//! methods sent with an id, notifications (also malformed ones), responses nobody asked for,
//! batches, unknown methods, known methods with wrong params, and valid requests (`ping`,
//! `tools/list`, calls of read-only tools with schema-valid arguments) among them.
//!
//! Invariants ([`judge`]): every request with a usable id gets exactly one answer carrying that
//! id byte for byte (an id sent `n` times in flight gets `n` answers, all but one of which may
//! be `-32600` refusals); what cannot be read gets one error without a usable id; notifications
//! and responses get nothing; error codes are the spec's (`-32700`, `-32600`, `-32601`,
//! `-32602`, as each case allows); nothing but JSON-RPC arrives (stdout over stdio); and after
//! the case a `ping` is still answered. Over HTTP, a 4xx without a JSON-RPC body counts as the
//! error of a frame without a usable id. [`memory`] sends the same bad frames over and over and
//! compares the server's resident memory (`VmRSS`) after a warm-up and at the end.

use super::runner::{Check, Verdict};
use super::session::{Conn, describe};
use crate::driver::{Frame, Incoming};
use crate::measure::process::current_rss_kib;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// The codes a frame that cannot be read may get.
const UNREADABLE: &[i64] = &[-32700, -32600];
/// The code of a message that is JSON but not a request.
const INVALID: &[i64] = &[-32600];
/// Errors a valid request may still get (a tool refusing arguments by a rule of its own).
const REQUEST_ERRORS: &[i64] = &[-32602];

/// The kind of a usable id (made unique per case when sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// A small positive integer.
    Small,
    /// `0`.
    Zero,
    /// A negative integer.
    Negative,
    /// An integer of 2^63 or more (a valid JSON number that does not fit an `i64`).
    Big,
    /// `i64::MIN` and its neighbours.
    Min,
    /// A short string.
    Text,
    /// A string with characters beyond ASCII and escapes.
    Unicode,
    /// The empty string.
    Empty,
    /// The decimal digits of an integer id sent earlier in the case, as a string (a distinct id).
    Twin,
    /// A string of 10,000 characters.
    Long,
}

/// A request that must succeed.
#[derive(Clone, Debug, PartialEq)]
pub enum Valid {
    /// `ping`.
    Ping,
    /// `tools/list`.
    ToolsList,
    /// `tools/call` of a safe tool with schema-valid arguments.
    Tool(String, Value),
}

/// A known method with params that do not fit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrongParams {
    /// `tools/call {}`.
    ToolsCallWithoutName,
    /// `tools/call {"name": 7}`.
    ToolsCallNameNotAString,
    /// `tools/call` of a listed tool with `arguments` that are not an object.
    ToolsCallArgumentsNotAnObject,
    /// `tools/call` with params `"x"`.
    ToolsCallParamsAString,
    /// `tools/list {"cursor": 5}`.
    ToolsListCursorNotAString,
    /// `resources/read {}`.
    ResourcesReadWithoutUri,
    /// `prompts/get {"name": 7}`.
    PromptsGetNameNotAString,
    /// `initialize {}` on an initialized session.
    InitializeEmpty,
    /// `ping` with params `"x"`.
    PingParamsAString,
}

/// An id no request may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadId {
    /// `null`.
    Null,
    /// `1.5`.
    Fraction,
    /// `true`.
    Bool,
    /// `{"a": 1}`.
    Object,
    /// `[1]`.
    Array,
}

/// What a huge string is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HugePlace {
    /// A string in the `_meta` of a `ping`.
    Meta,
    /// The method name (an unknown method).
    Method,
    /// The id (a string).
    Id,
}

/// A batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// `[]`.
    Empty,
    /// Pings with ids.
    Requests(usize),
    /// A ping and a notification.
    WithNotification,
    /// `[1, 2]`.
    Junk,
}

/// One step of a case.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A request that must succeed.
    Valid(IdKind, Valid),
    /// A method no server has.
    UnknownMethod(IdKind, String),
    /// A known method with wrong params.
    WrongParams(IdKind, WrongParams),
    /// A notification method sent with an id (a request, then).
    NotificationWithId(IdKind, String),
    /// A well-formed notification.
    Notification(String),
    /// A malformed message without an id.
    MalformedNotification(u8),
    /// A response to a request the server never sent.
    StrayResponse(IdKind, bool),
    /// Bytes that are not JSON (never a line break).
    Garbage(Vec<u8>),
    /// A `ping` with bytes that are not UTF-8 inside a string.
    InvalidUtf8(IdKind, Vec<u8>),
    /// A request cut short (per mille of its length kept).
    Truncated(IdKind, u16),
    /// Nesting `depth` deep, of arrays or objects, alone or in a `ping`'s `_meta`.
    Deep {
        /// Its id, when inside a `ping`.
        id: Option<IdKind>,
        /// Levels.
        depth: usize,
        /// Arrays (else objects).
        arrays: bool,
    },
    /// A string of `len` characters.
    Huge(IdKind, usize, HugePlace),
    /// A request with an id of the wrong type.
    BadId(BadId),
    /// A batch.
    Batch(BatchKind),
    /// The same request sent `copies` times back to back with one id.
    Duplicate(IdKind, Valid, usize),
}

/// The tools frames may call: safe ones, each with its schema-valid arguments.
pub type SafeCalls = Vec<(String, BoxedStrategy<Value>)>;

fn id_kind() -> impl Strategy<Value = IdKind> {
    select(vec![
        IdKind::Small,
        IdKind::Small,
        IdKind::Zero,
        IdKind::Negative,
        IdKind::Big,
        IdKind::Min,
        IdKind::Text,
        IdKind::Text,
        IdKind::Unicode,
        IdKind::Empty,
        IdKind::Twin,
        IdKind::Long,
    ])
}

fn valid(calls: &SafeCalls) -> BoxedStrategy<Valid> {
    let mut options: Vec<BoxedStrategy<Valid>> = vec![Just(Valid::Ping).boxed(), Just(Valid::ToolsList).boxed()];
    for (name, args) in calls {
        let name = name.clone();
        options.push(args.clone().prop_map(move |a| Valid::Tool(name.clone(), a)).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..64),
        proptest::collection::vec(select(b"{}[]\":,0123456789.eE+-truefalsnul \\".to_vec()), 1..64),
        select(vec![
            b"{".to_vec(),
            b"}".to_vec(),
            b"{\"jsonrpc\":\"2.0\",}".to_vec(),
            b"nul".to_vec(),
            b"[1,".to_vec(),
            b"\xef\xbb\xbf{}".to_vec(),
            b"'single quotes'".to_vec(),
            b"NaN".to_vec(),
            b"1e400".to_vec(),
        ]),
    ]
    .prop_map(|mut b: Vec<u8>| {
        b.retain(|c| *c != b'\n' && *c != b'\r');
        b
    })
    .prop_filter("something to read", |b| !b.iter().all(u8::is_ascii_whitespace))
}

/// Strategies of one item; `calls` are the safe tools valid requests may call.
pub fn item(calls: &SafeCalls) -> BoxedStrategy<Item> {
    let valid = valid(calls);
    let method_names = select(vec![
        "no/such/method".to_string(),
        "tools/calll".to_string(),
        "TOOLS/LIST".to_string(),
        "rpc.discover".to_string(),
        "sampling/createMessage".to_string(),
        "notifications".to_string(),
    ]);
    let notification_methods = select(vec![
        "notifications/initialized".to_string(),
        "notifications/cancelled".to_string(),
        "notifications/progress".to_string(),
        "notifications/roots/list_changed".to_string(),
        "notifications/x-fuzz".to_string(),
    ]);
    let wrong = select(vec![
        WrongParams::ToolsCallWithoutName,
        WrongParams::ToolsCallNameNotAString,
        WrongParams::ToolsCallArgumentsNotAnObject,
        WrongParams::ToolsCallParamsAString,
        WrongParams::ToolsListCursorNotAString,
        WrongParams::ResourcesReadWithoutUri,
        WrongParams::PromptsGetNameNotAString,
        WrongParams::InitializeEmpty,
        WrongParams::PingParamsAString,
    ]);
    let invalid_utf8 = select(vec![
        vec![0xff],
        vec![0xc3],
        vec![0xed, 0xa0, 0x80],
        vec![0xf8, 0x88, 0x80, 0x80, 0x80],
        vec![0x80, 0x80],
        vec![0xe2, 0x82],
    ]);
    let depth = select(vec![8usize, 64, 127, 128, 129, 500, 2_000, 20_000, 100_000]);
    let huge = select(vec![65_536usize, 1 << 20, 2 << 20]);
    let huge_place = select(vec![HugePlace::Meta, HugePlace::Method, HugePlace::Id]);
    let bad_id = select(vec![
        BadId::Null,
        BadId::Fraction,
        BadId::Bool,
        BadId::Object,
        BadId::Array,
    ]);
    let batch = prop_oneof![
        Just(BatchKind::Empty),
        (1usize..=3).prop_map(BatchKind::Requests),
        Just(BatchKind::WithNotification),
        Just(BatchKind::Junk),
    ];
    prop_oneof![
        6 => (id_kind(), valid.clone()).prop_map(|(i, v)| Item::Valid(i, v)),
        2 => (id_kind(), method_names).prop_map(|(i, m)| Item::UnknownMethod(i, m)),
        3 => (id_kind(), wrong).prop_map(|(i, w)| Item::WrongParams(i, w)),
        2 => (id_kind(), notification_methods.clone()).prop_map(|(i, m)| Item::NotificationWithId(i, m)),
        2 => notification_methods.prop_map(Item::Notification),
        1 => (0u8..4).prop_map(Item::MalformedNotification),
        1 => (id_kind(), any::<bool>()).prop_map(|(i, e)| Item::StrayResponse(i, e)),
        3 => garbage().prop_map(Item::Garbage),
        2 => (id_kind(), invalid_utf8).prop_map(|(i, b)| Item::InvalidUtf8(i, b)),
        2 => (id_kind(), 1u16..1000).prop_map(|(i, c)| Item::Truncated(i, c)),
        2 => (proptest::option::of(id_kind()), depth, any::<bool>())
            .prop_map(|(id, depth, arrays)| Item::Deep { id, depth, arrays }),
        1 => (id_kind(), huge, huge_place).prop_map(|(i, n, p)| Item::Huge(i, n, p)),
        2 => bad_id.prop_map(Item::BadId),
        2 => batch.prop_map(Item::Batch),
        2 => (id_kind(), valid, 2usize..=3).prop_map(|(i, v, n)| Item::Duplicate(i, v, n)),
    ]
    .boxed()
}

/// Cases: one to six items.
pub fn cases(calls: &SafeCalls) -> BoxedStrategy<Vec<Item>> {
    proptest::collection::vec(item(calls), 1..=6).boxed()
}

/// What a request must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A result.
    Result,
    /// An error with one of these codes.
    Error(&'static [i64]),
    /// A result, or an error with one of these codes.
    Any(&'static [i64]),
}

/// What the server must answer to one planned frame (or frames, for duplicates).
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Exactly one answer carrying `id`.
    Answer(Value, Outcome),
    /// Exactly `n` answers carrying `id`: at most `n - 1` of them `-32600` refusals, the others
    /// as `outcome` says.
    Copies(Value, usize, Outcome),
    /// Either exactly one answer carrying `id`, or one error without a usable id (`codes`).
    AnswerOrUnread(Value, Outcome, &'static [i64]),
    /// Exactly one error without a usable id, with one of `codes`.
    Unread(&'static [i64]),
    /// At most one error without a usable id, with one of `codes`.
    MaybeUnread(&'static [i64]),
    /// Nothing carrying this id (nothing at all when `None`).
    Nothing(Option<Value>),
    /// A batch: an array answering each of `ids` once (and `junk` entries without a usable id),
    /// or one `-32600` without a usable id.
    Batch(Vec<Value>, usize),
}

/// One frame to send, what it must get, and how a report names it.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The frames (more than one for duplicates).
    pub frames: Vec<Frame>,
    /// What must come back.
    pub expect: Expect,
    /// A short description.
    pub label: String,
}

/// Makes ids unique within a case (and across the session, through `base`).
pub struct Ids {
    base: u64,
    n: u64,
    used: HashSet<String>,
    last_integer: Option<i128>,
}

impl Ids {
    /// Ids for a case; `base` differs between cases of a session.
    pub fn new(base: u64) -> Ids {
        Ids {
            base,
            n: 0,
            used: HashSet::new(),
            last_integer: None,
        }
    }

    /// A fresh id of `kind`.
    pub fn next(&mut self, kind: IdKind) -> Value {
        loop {
            self.n += 1;
            let k = self.base * 100 + self.n;
            let id = match kind {
                IdKind::Small => json!(k),
                IdKind::Zero if self.n == 1 => json!(0),
                IdKind::Zero => json!(k),
                IdKind::Negative => json!(-(k as i64)),
                IdKind::Big => json!((1u64 << 63) + k),
                IdKind::Min => json!(i64::MIN + k as i64),
                IdKind::Text => json!(format!("req-{k}")),
                IdKind::Unicode => json!(format!("ïd ☃ \"{k}\"\\\t")),
                IdKind::Empty if self.n == 1 => json!(""),
                IdKind::Empty => json!(format!(" {k} ")),
                // Taken, so that a twin already used falls back to a fresh string next round.
                IdKind::Twin => match self.last_integer.take() {
                    Some(i) => json!(i.to_string()),
                    None => json!(k.to_string()),
                },
                IdKind::Long => json!(format!("{k}-{}", "L".repeat(10_000))),
            };
            if let Some(i) = id.as_i64().map(i128::from).or_else(|| id.as_u64().map(i128::from)) {
                self.last_integer = Some(i);
            }
            if self.used.insert(id.to_string()) {
                return id;
            }
        }
    }
}

fn request(id: &Value, method: &str, params: Option<Value>) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(p) = params {
        m["params"] = p;
    }
    m
}

fn valid_request(id: &Value, v: &Valid) -> (Value, Outcome) {
    match v {
        Valid::Ping => (request(id, "ping", None), Outcome::Result),
        Valid::ToolsList => (request(id, "tools/list", None), Outcome::Result),
        Valid::Tool(name, args) => (
            request(id, "tools/call", Some(json!({"name": name, "arguments": args}))),
            Outcome::Any(REQUEST_ERRORS),
        ),
    }
}

fn nest(depth: usize, arrays: bool) -> String {
    if arrays {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    }
}

fn short_label(v: &Value) -> String {
    crate::driver::shorten(&v.to_string(), 120)
}

/// The frames and expectations of `items`; `tool` is a listed tool name for wrong-argument calls.
pub fn plan(items: &[Item], ids: &mut Ids, tool: &str) -> Vec<Planned> {
    items.iter().map(|item| plan_one(item, ids, tool)).collect()
}

fn plan_one(item: &Item, ids: &mut Ids, tool: &str) -> Planned {
    let one = |frame: Frame, expect: Expect, label: String| Planned {
        frames: vec![frame],
        expect,
        label,
    };
    match item {
        Item::Valid(k, v) => {
            let id = ids.next(*k);
            let (m, outcome) = valid_request(&id, v);
            let label = format!("valid {}", short_label(&m));
            one(Frame::Json(m), Expect::Answer(id, outcome), label)
        }
        Item::UnknownMethod(k, method) => {
            let id = ids.next(*k);
            let m = request(&id, method, None);
            let label = format!("unknown method {}", short_label(&m));
            one(Frame::Json(m), Expect::Answer(id, Outcome::Error(&[-32601])), label)
        }
        Item::WrongParams(k, w) => {
            let id = ids.next(*k);
            let (method, params, codes): (&str, Value, &'static [i64]) = match w {
                WrongParams::ToolsCallWithoutName => ("tools/call", json!({}), &[-32602]),
                WrongParams::ToolsCallNameNotAString => ("tools/call", json!({"name": 7}), &[-32602]),
                WrongParams::ToolsCallArgumentsNotAnObject => {
                    ("tools/call", json!({"name": tool, "arguments": "x"}), &[-32602])
                }
                WrongParams::ToolsCallParamsAString => ("tools/call", json!("x"), &[-32600, -32602]),
                WrongParams::ToolsListCursorNotAString => ("tools/list", json!({"cursor": 5}), &[-32602]),
                WrongParams::ResourcesReadWithoutUri => ("resources/read", json!({}), &[-32602, -32601]),
                WrongParams::PromptsGetNameNotAString => ("prompts/get", json!({"name": 7}), &[-32602, -32601]),
                WrongParams::InitializeEmpty => ("initialize", json!({}), &[-32602, -32600]),
                WrongParams::PingParamsAString => ("ping", json!("x"), &[-32602, -32600]),
            };
            let m = request(&id, method, Some(params));
            let label = format!("wrong params {}", short_label(&m));
            one(Frame::Json(m), Expect::Answer(id, Outcome::Error(codes)), label)
        }
        Item::NotificationWithId(k, method) => {
            let id = ids.next(*k);
            let m = request(&id, method, Some(json!({})));
            let label = format!("notification method with an id {}", short_label(&m));
            one(
                Frame::Json(m),
                Expect::Answer(id, Outcome::Error(&[-32601, -32600, -32602])),
                label,
            )
        }
        Item::Notification(method) => {
            let params = match method.as_str() {
                "notifications/cancelled" => json!({"requestId": format!("never-sent-{}", ids.base), "reason": "fuzz"}),
                "notifications/progress" => json!({"progressToken": "never-issued", "progress": 1}),
                _ => json!({}),
            };
            let m = json!({"jsonrpc": "2.0", "method": method, "params": params});
            let label = format!("notification {}", short_label(&m));
            one(Frame::Json(m), Expect::Nothing(None), label)
        }
        Item::MalformedNotification(kind) => {
            let m = match kind {
                0 => json!({"jsonrpc": "2.0", "method": 5}),
                1 => json!({"jsonrpc": "1.0", "method": "notifications/initialized"}),
                2 => json!({"method": "notifications/initialized"}),
                _ => json!({"jsonrpc": "2.0", "method": "tools/call", "params": "x"}),
            };
            let label = format!("malformed notification {}", short_label(&m));
            one(Frame::Json(m), Expect::MaybeUnread(&[-32600, -32602]), label)
        }
        Item::StrayResponse(k, error) => {
            let id = ids.next(*k);
            let m = if *error {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": "never asked"}})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "result": {}})
            };
            let label = format!("response nobody asked for {}", short_label(&m));
            one(Frame::Json(m), Expect::Nothing(Some(id)), label)
        }
        Item::Garbage(bytes) => {
            let label = format!("bytes {}", crate::driver::shorten(&String::from_utf8_lossy(bytes), 80));
            one(Frame::Bytes(bytes.clone()), Expect::Unread(UNREADABLE), label)
        }
        Item::InvalidUtf8(k, bad) => {
            let id = ids.next(*k);
            let mut bytes =
                format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping","params":{{"_meta":{{"x":""#).into_bytes();
            bytes.extend_from_slice(bad);
            bytes.extend_from_slice(br#""}}}"#);
            let label = format!("ping id {} with bytes {bad:02x?} in a string", short_label(&id));
            one(
                Frame::Bytes(bytes),
                Expect::AnswerOrUnread(id, Outcome::Any(INVALID), &[-32700]),
                label,
            )
        }
        Item::Truncated(k, per_mille) => {
            let id = ids.next(*k);
            let full = request(&id, "tools/list", None).to_string();
            let keep = (1 + usize::from(*per_mille) * (full.len() - 2) / 1000).min(full.len() - 1);
            let cut = &full.as_bytes()[..keep];
            let label = format!(
                "truncated {}",
                crate::driver::shorten(&String::from_utf8_lossy(cut), 80)
            );
            one(Frame::Bytes(cut.to_vec()), Expect::Unread(&[-32700]), label)
        }
        Item::Deep { id, depth, arrays } => {
            let nested = nest(*depth, *arrays);
            match id {
                None => one(
                    Frame::Raw(nested),
                    Expect::Unread(UNREADABLE),
                    format!("{depth} levels of {}", if *arrays { "arrays" } else { "objects" }),
                ),
                Some(k) => {
                    let id = ids.next(*k);
                    let text = format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"method":"ping","params":{{"_meta":{{"deep":{nested}}}}}}}"#
                    );
                    one(
                        Frame::Raw(text),
                        Expect::AnswerOrUnread(id, Outcome::Any(&[-32600, -32602]), UNREADABLE),
                        format!(
                            "ping with {depth} levels of {} in _meta",
                            if *arrays { "arrays" } else { "objects" }
                        ),
                    )
                }
            }
        }
        Item::Huge(k, len, place) => {
            let big = "x".repeat(*len);
            let (id, m, outcome) = match place {
                HugePlace::Meta => {
                    let id = ids.next(*k);
                    let m = request(&id, "ping", Some(json!({"_meta": {"pad": big}})));
                    (id, m, Outcome::Result)
                }
                HugePlace::Method => {
                    let id = ids.next(*k);
                    let m = request(&id, &big, None);
                    (id, m, Outcome::Error(&[-32601]))
                }
                HugePlace::Id => {
                    let id = json!(format!("{}-{big}", ids.next(IdKind::Text).as_str().unwrap_or("id")));
                    let m = request(&id, "ping", None);
                    (id, m, Outcome::Result)
                }
            };
            let label = format!("{len} bytes in the {place:?}");
            one(Frame::Json(m), Expect::Answer(id, outcome), label)
        }
        Item::BadId(b) => {
            let id = match b {
                BadId::Null => Value::Null,
                BadId::Fraction => json!(1.5),
                BadId::Bool => json!(true),
                BadId::Object => json!({"a": 1}),
                BadId::Array => json!([1]),
            };
            let m = request(&id, "ping", None);
            let label = format!("id of the wrong type {}", short_label(&m));
            one(Frame::Json(m), Expect::Unread(INVALID), label)
        }
        Item::Batch(kind) => {
            let (batch, ids_in, junk) = match kind {
                BatchKind::Empty => (json!([]), Vec::new(), 0),
                BatchKind::Requests(n) => {
                    let ids_in: Vec<Value> = (0..*n).map(|_| ids.next(IdKind::Small)).collect();
                    let reqs: Vec<Value> = ids_in.iter().map(|i| request(i, "ping", None)).collect();
                    (Value::Array(reqs), ids_in, 0)
                }
                BatchKind::WithNotification => {
                    let id = ids.next(IdKind::Text);
                    let reqs = json!([request(&id, "ping", None),
                        {"jsonrpc": "2.0", "method": "notifications/x-fuzz"}]);
                    (reqs, vec![id], 0)
                }
                BatchKind::Junk => (json!([1, 2]), Vec::new(), 2),
            };
            let label = format!("batch {}", short_label(&batch));
            let expect = if matches!(kind, BatchKind::Empty) {
                Expect::Unread(INVALID)
            } else {
                Expect::Batch(ids_in, junk)
            };
            one(Frame::Json(batch), expect, label)
        }
        Item::Duplicate(k, v, copies) => {
            let id = ids.next(*k);
            let (m, outcome) = valid_request(&id, v);
            let label = format!("{copies} copies in flight of {}", short_label(&m));
            Planned {
                frames: vec![Frame::Json(m); *copies],
                expect: Expect::Copies(id, *copies, outcome),
                label,
            }
        }
    }
}

/// Whether an answer is a `-32600` refusal.
fn is_refusal(m: &Value) -> bool {
    m.pointer("/error/code").and_then(Value::as_i64) == Some(-32600)
}

fn check_outcome(m: &Value, outcome: Outcome, label: &str) -> Option<String> {
    let code = m.pointer("/error/code").and_then(Value::as_i64);
    let ok = match (outcome, m.get("result"), code) {
        (Outcome::Result | Outcome::Any(_), Some(_), _) => true,
        (Outcome::Error(codes) | Outcome::Any(codes), None, Some(c)) => codes.contains(&c),
        _ => false,
    };
    (!ok).then(|| {
        let wanted = match outcome {
            Outcome::Result => "a result".to_string(),
            Outcome::Error(c) => format!("an error {c:?}"),
            Outcome::Any(c) => format!("a result or an error {c:?}"),
        };
        format!(
            "wrong answer: {label} wanted {wanted}, got {}",
            crate::driver::shorten(&m.to_string(), 300)
        )
    })
}

/// An answer without a usable id: a JSON-RPC error (its code), or an HTTP refusal.
#[derive(Clone, Debug)]
enum Unread {
    Error(Option<i64>, String),
    Http(u16, String),
}

fn envelope_problem(m: &Value) -> Option<String> {
    let jsonrpc = m.get("jsonrpc") == Some(&json!("2.0"));
    let one_of = m.get("result").is_some() != m.get("error").is_some();
    let code_ok = m
        .get("error")
        .is_none_or(|e| e.get("code").is_some_and(Value::is_i64) && e.get("message").is_some_and(Value::is_string));
    (!(jsonrpc && one_of && code_ok)).then(|| {
        format!(
            "not a JSON-RPC response: {}",
            crate::driver::shorten(&m.to_string(), 300)
        )
    })
}

/// The violations of what arrived (`received`, in order) for `planned`.
pub fn judge(planned: &[Planned], received: &[Incoming]) -> Vec<String> {
    let mut v = Vec::new();
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut unread: Vec<Unread> = Vec::new();
    let mut arrays: Vec<Vec<Value>> = Vec::new();
    for i in received {
        match i {
            Incoming::Message(Value::Array(items)) => arrays.push(items.clone()),
            Incoming::Message(m @ Value::Object(o)) => {
                if o.contains_key("method") {
                    if m.get("jsonrpc") != Some(&json!("2.0")) {
                        v.push(format!(
                            "a server message that is not JSON-RPC 2.0: {}",
                            crate::driver::shorten(&m.to_string(), 300)
                        ));
                    }
                    continue;
                }
                if let Some(p) = envelope_problem(m) {
                    v.push(p);
                }
                match o.get("id") {
                    None | Some(Value::Null) => unread.push(Unread::Error(
                        m.pointer("/error/code").and_then(Value::as_i64),
                        crate::driver::shorten(&m.to_string(), 200),
                    )),
                    Some(id) => by_id.entry(id.to_string()).or_default().push(m.clone()),
                }
            }
            Incoming::HttpStatus { status, body } => unread.push(Unread::Http(*status, body.clone())),
            other => v.push(format!("not a JSON-RPC message: {}", describe(other))),
        }
    }
    // Expectations that need (or allow) an answer without a usable id, in order.
    let mut need: Vec<(&'static [i64], String)> = Vec::new();
    let mut allow: Vec<(&'static [i64], String)> = Vec::new();
    for p in planned {
        let label = &p.label;
        match &p.expect {
            Expect::Answer(id, outcome) => match by_id.remove(&id.to_string()) {
                None => v.push(format!("no answer carrying id {}: {label}", short_label(id))),
                Some(list) if list.len() > 1 => v.push(format!(
                    "{} answers carrying id {}: {label}",
                    list.len(),
                    short_label(id)
                )),
                Some(list) => v.extend(check_outcome(&list[0], *outcome, label)),
            },
            Expect::Copies(id, n, outcome) => {
                let list = by_id.remove(&id.to_string()).unwrap_or_default();
                if list.len() != *n {
                    v.push(format!(
                        "{} answers carrying id {} for {n} requests with it: {label}",
                        list.len(),
                        short_label(id)
                    ));
                }
                let refusals = list.iter().filter(|m| is_refusal(m)).count();
                if !list.is_empty() && refusals >= list.len() {
                    v.push(format!("every copy was refused, none answered: {label}"));
                }
                for m in list.iter().filter(|m| !is_refusal(m)) {
                    v.extend(check_outcome(m, *outcome, label));
                }
            }
            Expect::AnswerOrUnread(id, outcome, codes) => match by_id.remove(&id.to_string()) {
                Some(list) if list.len() > 1 => v.push(format!(
                    "{} answers carrying id {}: {label}",
                    list.len(),
                    short_label(id)
                )),
                Some(list) => v.extend(check_outcome(&list[0], *outcome, label)),
                None => need.push((codes, label.clone())),
            },
            Expect::Unread(codes) => need.push((codes, label.clone())),
            Expect::MaybeUnread(codes) => allow.push((codes, label.clone())),
            Expect::Nothing(Some(id)) => {
                if let Some(list) = by_id.remove(&id.to_string()) {
                    v.push(format!(
                        "an answer to something that must not be answered: {label}: {}",
                        crate::driver::shorten(&list[0].to_string(), 200)
                    ));
                }
            }
            Expect::Nothing(None) => {}
            Expect::Batch(ids, junk) => {
                if let Some(pos) = arrays.iter().position(|a| {
                    a.iter()
                        .any(|m| ids.iter().any(|id| m.get("id") == Some(id)) || ids.is_empty())
                }) {
                    let answers = arrays.remove(pos);
                    for id in ids {
                        let n = answers.iter().filter(|m| m.get("id") == Some(id)).count();
                        if n != 1 {
                            v.push(format!(
                                "{n} answers carrying id {} in the batch answer: {label}",
                                short_label(id)
                            ));
                        }
                    }
                    let unusable = answers
                        .iter()
                        .filter(|m| m.get("id").is_none_or(Value::is_null))
                        .count();
                    if unusable > *junk {
                        v.push(format!("{unusable} answers without an id in the batch answer: {label}"));
                    }
                    for m in &answers {
                        if let Some(p) = envelope_problem(m) {
                            v.push(p);
                        }
                    }
                } else {
                    need.push((INVALID, label.clone()));
                }
            }
        }
    }
    for a in arrays {
        v.push(format!(
            "a batch answer nothing asked for: {}",
            crate::driver::shorten(&Value::Array(a).to_string(), 300)
        ));
    }
    for (id, list) in by_id {
        v.push(format!(
            "{} answer(s) carrying id {} that nothing in the case sent: {}",
            list.len(),
            crate::driver::shorten(&id, 120),
            crate::driver::shorten(&list[0].to_string(), 200)
        ));
    }
    // Answers without a usable id, matched in order to the frames that may get one.
    let mut need_left: Vec<Option<(&'static [i64], String)>> = need.into_iter().map(Some).collect();
    let mut allow_left: Vec<Option<(&'static [i64], String)>> = allow.into_iter().map(Some).collect();
    for u in &unread {
        let fits = |codes: &[i64]| match u {
            Unread::Error(Some(c), _) => codes.contains(c),
            Unread::Error(None, _) => false,
            Unread::Http(status, _) => (400..500).contains(status),
        };
        let slot = need_left
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|(c, _)| fits(c)))
            .or_else(|| allow_left.iter_mut().find(|s| s.as_ref().is_some_and(|(c, _)| fits(c))));
        match slot {
            Some(s) => *s = None,
            None => v.push(match u {
                Unread::Error(_, text) => {
                    format!("an error without a usable id that no frame of the case explains: {text}")
                }
                Unread::Http(status, body) => format!(
                    "HTTP {status} that no frame of the case explains: {}",
                    crate::driver::shorten(body, 200)
                ),
            }),
        }
    }
    for (codes, label) in need_left.into_iter().flatten() {
        v.push(format!("{MISSING_ERROR}{codes:?} for: {label}"));
    }
    v
}

/// How the judge's finding of an expected error that never came starts.
const MISSING_ERROR: &str = "no error ";

/// Sends the frames of a case and judges the answers, then checks the server still answers.
pub struct FrameCases<'a> {
    /// The server.
    pub conn: &'a mut Conn,
    /// A listed tool name (for `tools/call` with arguments that are not an object).
    pub tool: String,
    /// Cases played so far (makes ids differ between cases).
    pub played: u64,
}

impl FrameCases<'_> {
    async fn play(&mut self, items: &[Item]) -> Result<Vec<String>, String> {
        self.played += 1;
        let session = self
            .conn
            .session()
            .await
            .map_err(|e| format!("cannot open a session: {e}"))?;
        let base = session.next_number() + self.played * 1000;
        let planned = plan(items, &mut Ids::new(base), &self.tool);
        let limit = session.timeouts().request;
        let driver = session.driver();
        let mut received = Vec::new();
        for p in &planned {
            for f in &p.frames {
                driver
                    .send(f)
                    .await
                    .map_err(|e| format!("cannot send {}: {e}", p.label))?;
            }
        }
        // Wait for every answer that carries an id, then for everything sent so far.
        let deadline = tokio::time::Instant::now() + limit;
        while !awaited(&planned, &received) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match driver.recv(left).await {
                Ok(Incoming::Closed) => {
                    received.push(Incoming::Closed);
                    break;
                }
                Ok(i) => received.push(i),
                Err(_) => break,
            }
        }
        let settled = driver.settle(limit).await;
        while let Some(i) = driver.try_recv() {
            received.push(i);
        }
        let mut v = judge(&planned, &received);
        // An error without an id can still be on its way: over legacy SSE it travels on the
        // event stream, apart from the POST of its frame, and under load it may come after the
        // answers the wait above counted. While one is missing, read on until the request
        // timeout (a real miss still fails, only later).
        let grace = tokio::time::Instant::now() + limit;
        while v.iter().any(|p| p.starts_with(MISSING_ERROR)) {
            let left = grace.saturating_duration_since(tokio::time::Instant::now());
            match driver.recv(left).await {
                Ok(Incoming::Closed) | Err(_) => break,
                Ok(i) => {
                    received.push(i);
                    v = judge(&planned, &received);
                }
            }
        }
        if let Err(e) = settled {
            v.push(format!("the server did not catch up with the frames: {e}"));
        }
        Ok(v)
    }
}

/// Whether every answer that carries an id is in (the count of answers without one is
/// settled afterwards).
fn awaited(planned: &[Planned], received: &[Incoming]) -> bool {
    if received.iter().any(|i| matches!(i, Incoming::Closed)) {
        return true;
    }
    let count = |id: &Value| {
        received
            .iter()
            .filter(|i| matches!(i, Incoming::Message(m) if m.get("id") == Some(id) && m.get("method").is_none()))
            .count()
    };
    let unread = received
        .iter()
        .filter(|i| match i {
            Incoming::Message(Value::Object(o)) => !o.contains_key("method") && o.get("id").is_none_or(Value::is_null),
            Incoming::HttpStatus { .. } => true,
            _ => false,
        })
        .count();
    let mut unread_needed = 0;
    let mut all = true;
    for p in planned {
        match &p.expect {
            Expect::Answer(id, _) => all &= count(id) >= 1,
            Expect::Copies(id, n, _) => all &= count(id) >= *n,
            Expect::AnswerOrUnread(id, _, _) if count(id) == 0 => unread_needed += 1,
            Expect::Unread(_) => unread_needed += 1,
            _ => {}
        }
    }
    all && unread >= unread_needed
}

impl Check<Vec<Item>> for FrameCases<'_> {
    async fn check(&mut self, items: &Vec<Item>) -> Verdict {
        let mut v = match self.play(items).await {
            Ok(v) => v,
            Err(e) => vec![e],
        };
        let alive = match self.conn.session().await {
            Ok(s) => s.ping().await,
            Err(e) => Err(e),
        };
        if let Err(e) = alive {
            let diagnostics = match self.conn.session().await {
                Ok(s) => s.diagnostics(),
                Err(_) => String::new(),
            };
            v.push(format!(
                "the server stopped answering after the case: {e}\n{diagnostics}"
            ));
            self.conn.reset_session().await;
        }
        if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v) }
    }

    fn describe(&self, items: &Vec<Item>) -> String {
        let planned = plan(items, &mut Ids::new(0), &self.tool);
        planned
            .iter()
            .map(|p| {
                let frames = p
                    .frames
                    .iter()
                    .map(|f| crate::driver::shorten(&f.to_text(), 300))
                    .collect::<Vec<_>>()
                    .join("\n    ");
                format!("- {}\n    {frames}", p.label)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The bad frames of one round of [`memory`]: about 17 MiB of huge, unreadable and refused
/// frames, every one answered with an error.
pub fn memory_round(round: u64) -> Vec<Planned> {
    let mut items = Vec::new();
    for i in 0..8 {
        let mut b = vec![b'x'; 1 << 20];
        b[0] = b'{';
        b[1] = (b'a' + (i as u8)) ^ (round as u8 & 1);
        items.push(Item::Garbage(b));
        items.push(Item::Huge(IdKind::Small, 1 << 20, HugePlace::Method));
    }
    for i in 0..16u16 {
        items.push(Item::Truncated(IdKind::Text, 37 * i + 11));
        items.push(Item::Deep {
            id: None,
            depth: 5_000,
            arrays: i % 2 == 0,
        });
        items.push(Item::BadId(BadId::Object));
        items.push(Item::UnknownMethod(IdKind::Small, "no/such/method".into()));
    }
    plan(&items, &mut Ids::new(round * 1000 + 7), "none")
}

/// Resident memory before and after rounds of bad frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryReport {
    /// `VmRSS` after the warm-up rounds, KiB.
    pub warm_kib: u64,
    /// `VmRSS` after the measured rounds, KiB.
    pub end_kib: u64,
    /// Bad frames sent in the measured rounds.
    pub frames: usize,
    /// Bytes of them.
    pub bytes: usize,
    /// The growth allowed, KiB.
    pub bound_kib: u64,
}

impl MemoryReport {
    /// Whether the growth stayed within the bound.
    pub fn holds(&self) -> bool {
        self.end_kib.saturating_sub(self.warm_kib) <= self.bound_kib
    }
}

/// Sends `warmup` then `rounds` rounds of [`memory_round`], each waited for, and reads the
/// server's `VmRSS` after the warm-up and at the end. The bound is generous: 32 MiB or half the
/// warm size, whichever is more, where keeping the frames would grow by about 17 MiB a round.
/// `Ok(None)` when the harness did not start the server (no pid to read).
pub async fn memory(conn: &mut Conn, warmup: u64, rounds: u64) -> Result<Option<MemoryReport>, String> {
    let session = conn
        .session()
        .await
        .map_err(|e| format!("cannot open a session: {e}"))?;
    let Some(pid) = session.pid() else {
        return Ok(None);
    };
    let limit = session.timeouts().request.max(Duration::from_secs(30));
    let mut frames = 0;
    let mut bytes = 0;
    let mut warm = 0;
    for round in 0..warmup + rounds {
        if round == warmup {
            warm = current_rss_kib(pid).ok_or("cannot read the server's VmRSS from /proc")?;
        }
        let planned = memory_round(round);
        let driver = session.driver();
        for p in &planned {
            for f in &p.frames {
                if round >= warmup {
                    frames += 1;
                    bytes += f.to_bytes().len();
                }
                driver
                    .send(f)
                    .await
                    .map_err(|e| format!("cannot send {}: {e}", p.label))?;
            }
        }
        let mut received = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        while !awaited(&planned, &received) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match driver.recv(left).await {
                Ok(i) => received.push(i),
                Err(e) => return Err(format!("the bad frames of round {round} were not all answered: {e}")),
            }
        }
        driver
            .settle(limit)
            .await
            .map_err(|e| format!("the server did not catch up with round {round}: {e}"))?;
        while let Some(i) = driver.try_recv() {
            received.push(i);
        }
        let v = judge(&planned, &received);
        if !v.is_empty() {
            return Err(format!("round {round} broke the frame invariants: {}", v.join("; ")));
        }
    }
    let end = current_rss_kib(pid).ok_or("cannot read the server's VmRSS from /proc")?;
    Ok(Some(MemoryReport {
        warm_kib: warm,
        end_kib: end,
        frames,
        bytes,
        bound_kib: (32 * 1024).max(warm / 2),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: Value) -> Incoming {
        Incoming::Message(v)
    }

    #[test]
    fn ids_of_every_kind_are_unique_in_a_case_and_twins_are_distinct_strings() {
        let mut ids = Ids::new(3);
        let kinds = [
            IdKind::Small,
            IdKind::Twin,
            IdKind::Zero,
            IdKind::Zero,
            IdKind::Negative,
            IdKind::Big,
            IdKind::Min,
            IdKind::Text,
            IdKind::Unicode,
            IdKind::Empty,
            IdKind::Empty,
            IdKind::Long,
        ];
        let all: Vec<Value> = kinds.iter().map(|k| ids.next(*k)).collect();
        let distinct: HashSet<String> = all.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), all.len());
        assert_eq!(all[1], json!(all[0].as_u64().expect("an integer").to_string()));
        let mut twins = Ids::new(0);
        let again: Vec<Value> = [IdKind::Small, IdKind::Twin, IdKind::Twin, IdKind::Twin]
            .iter()
            .map(|k| twins.next(*k))
            .collect();
        assert_eq!(
            again.iter().map(Value::to_string).collect::<HashSet<_>>().len(),
            4,
            "{again:?}"
        );
        assert!(all[5].as_u64().is_some_and(|b| b >= 1 << 63), "{}", all[5]);
    }

    #[test]
    fn exactly_one_answer_per_id_and_errors_without_id_are_matched_to_unreadable_frames() {
        let items = vec![
            Item::Valid(IdKind::Small, Valid::Ping),
            Item::Garbage(b"{oops".to_vec()),
            Item::Notification("notifications/initialized".into()),
            Item::UnknownMethod(IdKind::Text, "no/such".into()),
        ];
        let planned = plan(&items, &mut Ids::new(1), "t");
        let ping = planned[0].frames[0].to_text();
        let ping_id: Value = serde_json::from_str::<Value>(&ping).expect("json")["id"].clone();
        let unknown: Value =
            serde_json::from_str::<Value>(&planned[3].frames[0].to_text()).expect("json")["id"].clone();
        let good = vec![
            msg(json!({"jsonrpc": "2.0", "id": ping_id, "result": {}})),
            msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}})),
            msg(json!({"jsonrpc": "2.0", "id": unknown, "error": {"code": -32601, "message": "no"}})),
        ];
        assert_eq!(judge(&planned, &good), Vec::<String>::new());

        let twice = [good.clone(), vec![good[0].clone()]].concat();
        assert!(
            judge(&planned, &twice)
                .iter()
                .any(|v| v.starts_with("2 answers carrying id"))
        );
        let wrong_id = vec![
            msg(json!({"jsonrpc": "2.0", "id": 99999, "result": {}})),
            good[1].clone(),
            good[2].clone(),
        ];
        let v = judge(&planned, &wrong_id);
        assert!(v.iter().any(|v| v.starts_with("no answer carrying id")), "{v:?}");
        assert!(v.iter().any(|v| v.contains("that nothing in the case sent")), "{v:?}");
        let wrong_code = vec![
            good[0].clone(),
            msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32603, "message": "x"}})),
            good[2].clone(),
        ];
        let v = judge(&planned, &wrong_code);
        assert!(
            v.iter().any(|v| v.starts_with("no error [-32700, -32600] for")),
            "{v:?}"
        );
        let noise = [good.clone(), vec![Incoming::Unparsable("log line".into())]].concat();
        assert!(
            judge(&planned, &noise)
                .iter()
                .any(|v| v.starts_with("not a JSON-RPC message"))
        );
        let http = vec![
            good[0].clone(),
            Incoming::HttpStatus {
                status: 400,
                body: "bad".into(),
            },
            good[2].clone(),
        ];
        assert_eq!(
            judge(&planned, &http),
            Vec::<String>::new(),
            "an HTTP 4xx answers a bad frame"
        );
    }

    #[test]
    fn copies_in_flight_get_one_answer_each_and_refusals_only_for_the_later_ones() {
        let planned = plan(&[Item::Duplicate(IdKind::Small, Valid::Ping, 3)], &mut Ids::new(2), "t");
        let id = serde_json::from_str::<Value>(&planned[0].frames[0].to_text()).expect("json")["id"].clone();
        let answer = msg(json!({"jsonrpc": "2.0", "id": id, "result": {}}));
        let refusal = msg(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "in flight"}}));
        assert!(judge(&planned, &[answer.clone(), refusal.clone(), refusal.clone()]).is_empty());
        assert!(judge(&planned, &[answer.clone(), answer.clone(), answer.clone()]).is_empty());
        assert!(
            !judge(&planned, &[answer.clone(), refusal.clone()]).is_empty(),
            "one lost"
        );
        assert!(!judge(&planned, &[refusal.clone(), refusal.clone(), refusal]).is_empty());
    }

    #[test]
    fn batches_get_one_refusal_or_one_answer_per_request() {
        let planned = plan(&[Item::Batch(BatchKind::Requests(2))], &mut Ids::new(4), "t");
        let batch: Value = serde_json::from_str(&planned[0].frames[0].to_text()).expect("json");
        let (a, b) = (batch[0]["id"].clone(), batch[1]["id"].clone());
        let refused = msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "no batches"}}));
        assert!(judge(&planned, std::slice::from_ref(&refused)).is_empty());
        let answered =
            msg(json!([{"jsonrpc": "2.0", "id": a, "result": {}}, {"jsonrpc": "2.0", "id": b, "result": {}}]));
        assert!(judge(&planned, &[answered]).is_empty());
        let half = msg(json!([{"jsonrpc": "2.0", "id": a, "result": {}}]));
        assert!(!judge(&planned, &[half]).is_empty());
        assert!(!judge(&planned, &[]).is_empty());
    }

    #[test]
    fn notifications_and_stray_responses_must_not_be_answered() {
        let planned = plan(&[Item::StrayResponse(IdKind::Small, false)], &mut Ids::new(5), "t");
        let id = serde_json::from_str::<Value>(&planned[0].frames[0].to_text()).expect("json")["id"].clone();
        assert!(judge(&planned, &[]).is_empty());
        let answered = msg(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "x"}}));
        assert!(!judge(&planned, &[answered]).is_empty());
        let malformed = plan(&[Item::MalformedNotification(0)], &mut Ids::new(6), "t");
        assert!(judge(&malformed, &[]).is_empty());
        let refused = msg(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "x"}}));
        assert!(
            judge(&malformed, &[refused]).is_empty(),
            "an answer is allowed, not owed"
        );
    }

    #[test]
    fn frames_over_stdio_never_hold_a_line_break() {
        let calls: SafeCalls = vec![("get_ticket".into(), Just(json!({"ticket_id": "WEB-1"})).boxed())];
        let strategy = cases(&calls);
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for _ in 0..300 {
            let items = proptest::strategy::ValueTree::current(&strategy.new_tree(&mut runner).expect("a case"));
            for p in plan(&items, &mut Ids::new(1), "get_ticket") {
                for f in &p.frames {
                    assert!(!f.to_bytes().contains(&b'\n'), "{}", p.label);
                }
            }
        }
    }

    #[test]
    fn a_memory_round_is_all_bad_frames_answered_with_errors() {
        let round = memory_round(0);
        assert!(
            round
                .iter()
                .all(|p| !matches!(p.expect, Expect::Answer(_, Outcome::Result)))
        );
        let bytes: usize = round.iter().flat_map(|p| &p.frames).map(|f| f.to_bytes().len()).sum();
        assert!(bytes > 16 << 20, "{bytes}");
        let report = MemoryReport {
            warm_kib: 20_000,
            end_kib: 60_000,
            frames: 1,
            bytes: 1,
            bound_kib: 32 * 1024,
        };
        assert!(!report.holds());
    }
}
