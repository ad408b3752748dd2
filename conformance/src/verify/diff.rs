//! The structural diff of `verify`: two received messages compared member by member, a string
//! that holds JSON on both sides (a tool's text content) compared as JSON, placeholders of the
//! normalization equal whatever their numbers (two timestamps are "a timestamp"), arrays of
//! named things (tools, prompts: objects with a `name`; resources: a `uri`) matched by name,
//! other arrays by position. Each difference is a path and a sentence:
//!
//! ```text
//! result.tools[name=create_ticket]: missing (expected {"name":"create_ticket",…})
//! result.content[0].text.priority: expected "High", got "Low"
//! ```
//!
//! `--ignore PATTERN` drops differences at or below a path: segments `.key`, `["key"]` (any
//! characters), `[3]`, `[name=x]`; `*` is any one segment, `[*]` any position or name, `**` any
//! number of segments (`**.updated_at`, `result.serverInfo.version`,
//! `result.content[*].text.created_at`).

use crate::transcript::same_unnumbered;
use serde_json::Value;
use std::fmt;

/// One segment of a path inside a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// A position in an array.
    Index(usize),
    /// An element of an array of named things, by its `name` (or `uri`).
    Named(String, String),
}

/// A path inside a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(the whole message)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_plain(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{}]", Value::String(k.clone()))?,
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Named(k, v) => write!(f, "[{k}={v}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        && k != "*"
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Where.
    pub path: Path,
    /// What, as a sentence.
    pub what: String,
}

/// One segment of an `--ignore` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pat {
    Seg(Seg),
    AnyOne,
    AnyElement,
    AnyDepth,
}

/// An `--ignore` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segs: Vec<Pat>,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let bad = |why: &str| {
            format!(
                "--ignore {text}: {why} (e.g. result.serverInfo.version, **.updated_at, result.tools[name=get_ticket])"
            )
        };
        let chars: Vec<char> = text.chars().collect();
        let mut segs = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => i += 1,
                '*' if chars.get(i + 1) == Some(&'*') => {
                    segs.push(Pat::AnyDepth);
                    i += 2;
                }
                '*' => {
                    segs.push(Pat::AnyOne);
                    i += 1;
                }
                '[' => {
                    if chars.get(i + 1) == Some(&'"') {
                        // A JSON string up to its closing quote, then `]`.
                        let rest: String = chars[i + 1..].iter().collect();
                        let mut de = serde_json::Deserializer::from_str(&rest).into_iter::<String>();
                        let key = match de.next() {
                            Some(Ok(k)) => k,
                            _ => return Err(bad("a quoted key is not a JSON string")),
                        };
                        let used = de.byte_offset();
                        let after = rest[used..].chars().next();
                        if after != Some(']') {
                            return Err(bad("a quoted key must be closed by `]`"));
                        }
                        i += 1 + rest[..used].chars().count() + 1;
                        segs.push(Pat::Seg(Seg::Key(key)));
                        continue;
                    }
                    let Some(end) = chars[i..].iter().position(|c| *c == ']') else {
                        return Err(bad("`[` without `]`"));
                    };
                    let inner: String = chars[i + 1..i + end].iter().collect();
                    i += end + 1;
                    segs.push(if inner == "*" {
                        Pat::AnyElement
                    } else if let Ok(n) = inner.parse::<usize>() {
                        Pat::Seg(Seg::Index(n))
                    } else if let Some((k, v)) = inner.split_once('=') {
                        Pat::Seg(Seg::Named(k.to_string(), v.to_string()))
                    } else {
                        return Err(bad("inside `[…]` put a position, `*`, `name=value` or a quoted key"));
                    });
                }
                _ => {
                    let start = i;
                    while i < chars.len() && !matches!(chars[i], '.' | '[') {
                        i += 1;
                    }
                    let key: String = chars[start..i].iter().collect();
                    if key.contains('*') {
                        return Err(bad("`*` stands for a whole segment"));
                    }
                    segs.push(Pat::Seg(Seg::Key(key)));
                }
            }
        }
        if segs.is_empty() {
            return Err(bad("empty"));
        }
        Ok(Pattern {
            text: text.to_string(),
            segs,
        })
    }

    /// Whether the pattern matches `path` or a path above it.
    pub fn covers(&self, path: &Path) -> bool {
        covers(&self.segs, &path.0)
    }
}

fn covers(pat: &[Pat], path: &[Seg]) -> bool {
    let Some((first, rest)) = pat.split_first() else {
        return true;
    };
    match first {
        Pat::AnyDepth => (0..=path.len()).any(|skip| covers(rest, &path[skip..])),
        _ => {
            let Some((seg, tail)) = path.split_first() else {
                return false;
            };
            let ok = match first {
                Pat::AnyOne => true,
                Pat::AnyElement => matches!(seg, Seg::Index(_) | Seg::Named(..)),
                Pat::Seg(s) => s == seg,
                Pat::AnyDepth => false,
            };
            ok && covers(rest, tail)
        }
    }
}

/// The differences between an expected and an actual message, without those `ignore` covers.
pub fn compare(expected: &Value, actual: &Value, ignore: &[Pattern]) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(expected, actual, &mut Path::default(), &mut out);
    out.retain(|d| !ignore.iter().any(|p| p.covers(&d.path)));
    out
}

fn show(v: &Value) -> String {
    crate::driver::shorten(&v.to_string(), 100)
}

/// An object or array in a few words: `an object with id, key, title, … (21 members)`.
fn sketch(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).take(4).collect();
            let more = if m.len() > keys.len() { ", …" } else { "" };
            format!("an object with {}{more} ({} members)", keys.join(", "), m.len())
        }
        Value::Array(a) => format!("an array of {}", a.len()),
        other => show(other),
    }
}

fn as_json_container(v: &Value) -> Option<Value> {
    let s = v.as_str()?;
    if !s.trim_start().starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<Value>(s)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

fn walk(e: &Value, a: &Value, path: &mut Path, out: &mut Vec<Difference>) {
    if same_unnumbered(e, a) {
        return;
    }
    let push = |path: &Path, what: String, out: &mut Vec<Difference>| {
        out.push(Difference {
            path: path.clone(),
            what,
        })
    };
    match (e, a) {
        // Two objects with little in common are two different answers: said once.
        (Value::Object(x), Value::Object(y))
            if 2 * x.keys().filter(|k| y.contains_key(*k)).count() < x.len().max(y.len()) =>
        {
            push(path, format!("expected {}, got {}", sketch(e), show(a)), out);
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, ev) in x {
                path.0.push(Seg::Key(k.clone()));
                match y.get(k) {
                    Some(av) => walk(ev, av, path, out),
                    None => push(path, format!("missing (expected {})", show(ev)), out),
                }
                path.0.pop();
            }
            for (k, av) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                path.0.push(Seg::Key(k.clone()));
                push(path, format!("not expected (got {})", show(av)), out);
                path.0.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) => match named(x, y) {
            Some((key, xn, yn)) => {
                for (name, ev) in xn.iter().zip(x) {
                    path.0.push(Seg::Named(key.to_string(), name.clone()));
                    match yn.iter().position(|n| n == name) {
                        Some(j) => walk(ev, &y[j], path, out),
                        None => push(path, "missing".into(), out),
                    }
                    path.0.pop();
                }
                for name in yn.iter().filter(|n| !xn.contains(n)) {
                    path.0.push(Seg::Named(key.to_string(), name.clone()));
                    push(path, "not expected (the answer has it)".into(), out);
                    path.0.pop();
                }
                let common_x: Vec<&String> = xn.iter().filter(|n| yn.contains(n)).collect();
                let common_y: Vec<&String> = yn.iter().filter(|n| xn.contains(n)).collect();
                if common_x != common_y {
                    push(
                        path,
                        format!("in another order: expected {common_x:?}, got {common_y:?}"),
                        out,
                    );
                }
            }
            _ => {
                for (i, (ev, av)) in x.iter().zip(y).enumerate() {
                    path.0.push(Seg::Index(i));
                    walk(ev, av, path, out);
                    path.0.pop();
                }
                for (i, ev) in x.iter().enumerate().skip(y.len()) {
                    path.0.push(Seg::Index(i));
                    push(path, format!("missing (expected {})", show(ev)), out);
                    path.0.pop();
                }
                for (i, av) in y.iter().enumerate().skip(x.len()) {
                    path.0.push(Seg::Index(i));
                    push(path, format!("not expected (got {})", show(av)), out);
                    path.0.pop();
                }
            }
        },
        (Value::String(_), Value::String(_)) => match (as_json_container(e), as_json_container(a)) {
            (Some(ej), Some(aj)) => walk(&ej, &aj, path, out),
            _ => push(path, format!("expected {}, got {}", show(e), show(a)), out),
        },
        _ => push(path, format!("expected {}, got {}", show(e), show(a)), out),
    }
}

/// Arrays of named things on both sides (or on one side, the other empty): the key and the
/// names of each side in order.
fn named(x: &[Value], y: &[Value]) -> Option<(&'static str, Vec<String>, Vec<String>)> {
    match (names(x), names(y)) {
        (Some((k, a)), Some((l, b))) if k == l => Some((k, a, b)),
        (Some((k, a)), None) if y.is_empty() => Some((k, a, Vec::new())),
        (None, Some((k, b))) if x.is_empty() => Some((k, Vec::new(), b)),
        _ => None,
    }
}

/// When every element is an object with a distinct string `name` (or else `uri`): that key and
/// the names in order.
fn names(items: &[Value]) -> Option<(&'static str, Vec<String>)> {
    if items.is_empty() {
        return None;
    }
    for key in ["name", "uri"] {
        let names: Option<Vec<String>> = items
            .iter()
            .map(|i| i.get(key).and_then(Value::as_str).map(str::to_string))
            .collect();
        if let Some(names) = names {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() == names.len() {
                return Some((key, names));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(d: &[Difference]) -> Vec<String> {
        d.iter().map(|d| format!("{}: {}", d.path, d.what)).collect()
    }

    #[test]
    fn named_arrays_match_by_name_and_json_text_is_compared_as_json() {
        let e = json!({"result": {"tools": [{"name": "a", "v": 1}, {"name": "create_ticket"}],
            "content": [{"type": "text", "text": "{\"title\":\"x\",\"at\":\"<ts-1>\"}"}]}});
        let a = json!({"result": {"tools": [{"name": "a", "v": 2}],
            "content": [{"type": "text", "text": "{\"title\":\"y\",\"at\":\"<ts-7>\"}"}]}});
        let d = compare(&e, &a, &[]);
        assert_eq!(
            paths(&d),
            vec![
                "result.tools[name=a].v: expected 1, got 2",
                "result.tools[name=create_ticket]: missing",
                "result.content[0].text.title: expected \"x\", got \"y\"",
            ]
        );
        let ignore = [
            Pattern::parse("result.tools[*].v").expect("parses"),
            Pattern::parse("**.title").expect("parses"),
        ];
        assert_eq!(compare(&e, &a, &ignore).len(), 1);
        assert!(compare(&e, &a, &[Pattern::parse("result").expect("parses")]).is_empty());
    }

    #[test]
    fn patterns_read_quoted_keys_positions_and_wildcards_and_reject_nonsense() {
        let p = Pattern::parse(r#"params._meta["io.x/y"].a[2]"#).expect("parses");
        let path = Path(vec![
            Seg::Key("params".into()),
            Seg::Key("_meta".into()),
            Seg::Key("io.x/y".into()),
            Seg::Key("a".into()),
            Seg::Index(2),
            Seg::Key("deeper".into()),
        ]);
        assert!(p.covers(&path));
        assert_eq!(path.to_string(), r#"params._meta["io.x/y"].a[2].deeper"#);
        assert!(
            Pattern::parse("*.a")
                .expect("parses")
                .covers(&Path(vec![Seg::Key("x".into()), Seg::Key("a".into())]))
        );
        assert!(
            !Pattern::parse("a[*]")
                .expect("parses")
                .covers(&Path(vec![Seg::Key("a".into()), Seg::Key("b".into())]))
        );
        for bad in ["", "a[", "a[x]", "ab*", r#"a["x"#] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_object_replaced_by_another_shape_is_one_difference() {
        let e = json!({"text": "{\"id\":1,\"key\":\"WEB-19\",\"title\":\"t\"}"});
        let a = json!({"text": "{\"error\":{\"code\":\"not_found\"}}"});
        assert_eq!(
            paths(&compare(&e, &a, &[])),
            vec!["text: expected an object with id, key, title (3 members), got {\"error\":{\"code\":\"not_found\"}}"]
        );
    }

    #[test]
    fn extra_members_and_elements_are_named_and_equal_values_give_nothing() {
        let d = compare(&json!({"a": [1, 2]}), &json!({"a": [1, 2, 3], "b": true}), &[]);
        assert_eq!(
            paths(&d),
            vec!["a[2]: not expected (got 3)", "b: not expected (got true)"]
        );
        assert!(compare(&json!({"id": "<uuid-1>"}), &json!({"id": "<uuid-4>"}), &[]).is_empty());
    }
}
