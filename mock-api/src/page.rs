//! Cursor pagination (contract §1.6): items are sorted by a composite key ending in the id,
//! the cursor is the base64url JSON of the last item's key, and the next page holds the items
//! strictly after it. Deleted cursor items and concurrent inserts therefore never duplicate or
//! skip an item that existed throughout.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::cmp::Ordering;

/// One component of a sort key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyVal {
    /// An integer (timestamps in ms, ranks, dates as day numbers).
    I(i64),
    /// A string (names lower-cased, ids).
    S(String),
    /// Sorts after every other value (`null` last).
    Last,
}

/// A sort-key component with its direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Key {
    /// Ascending.
    A(KeyVal),
    /// Descending.
    D(KeyVal),
}

/// Compares two composite keys part by part.
pub fn cmp_keys(a: &[Key], b: &[Key]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x, y) {
            (Key::A(x), Key::A(y)) => x.cmp(y),
            (Key::D(x), Key::D(y)) => y.cmp(x),
            (Key::A(_), Key::D(_)) => Ordering::Less,
            (Key::D(_), Key::A(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The page size from `limit`: default 50, clamped to 200, `0`/negative/non-integer rejected.
pub fn parse_limit(raw: Option<&str>) -> ApiResult<usize> {
    match raw {
        None => Ok(50),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n.min(200) as usize),
            _ => Err(ApiError::invalid_query(
                "limit",
                format!("limit must be an integer from 1 to 200, got {s:?}"),
            )),
        },
    }
}

fn decode_cursor(raw: &str) -> ApiResult<Vec<Key>> {
    let bad = || {
        ApiError::bad_request(
            "invalid_cursor",
            "cursor",
            "cursor is not one this API issued; pass next_cursor back unchanged",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

fn encode_cursor(key: &[Key]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Sorts `items` by `key`, cuts the page after `cursor`, renders each with `render`, and
/// returns the `{items, next_cursor, has_more}` envelope.
pub fn paginate<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> Vec<Key>,
    limit: Option<&str>,
    cursor: Option<&str>,
    render: impl Fn(&T) -> Value,
) -> ApiResult<Value> {
    let limit = parse_limit(limit)?;
    let after = cursor.map(decode_cursor).transpose()?;
    let mut keyed: Vec<(Vec<Key>, T)> = items.drain(..).map(|t| (key(&t), t)).collect();
    if let Some(first) = keyed.first()
        && let Some(c) = &after
        && c.len() != first.0.len()
    {
        return Err(ApiError::bad_request(
            "invalid_cursor",
            "cursor",
            "cursor does not belong to this list",
        ));
    }
    keyed.sort_by(|a, b| cmp_keys(&a.0, &b.0));
    let start = match &after {
        Some(c) => keyed.partition_point(|(k, _)| cmp_keys(k, c) != Ordering::Greater),
        None => 0,
    };
    let rest = &keyed[start..];
    let page = &rest[..rest.len().min(limit)];
    let has_more = rest.len() > page.len();
    let next = if has_more {
        page.last().map(|(k, _)| encode_cursor(k))
    } else {
        None
    };
    let items: Vec<Value> = page.iter().map(|(_, t)| render(t)).collect();
    Ok(json!({"items": items, "next_cursor": next, "has_more": has_more}))
}

/// Key helper: ascending timestamp-like integer.
pub fn asc_i(v: i64) -> Key {
    Key::A(KeyVal::I(v))
}

/// Key helper: descending integer.
pub fn desc_i(v: i64) -> Key {
    Key::D(KeyVal::I(v))
}

/// Key helper: ascending string.
pub fn asc_s(v: impl Into<String>) -> Key {
    Key::A(KeyVal::S(v.into()))
}

/// Key helper: descending string.
pub fn desc_s(v: impl Into<String>) -> Key {
    Key::D(KeyVal::S(v.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: Vec<i64>, limit: &str, cursor: Option<&str>) -> Value {
        paginate(items, |n| vec![asc_i(*n)], Some(limit), cursor, |n| json!(n)).expect("page")
    }

    #[test]
    fn walking_the_cursor_yields_every_item_once_and_no_empty_last_page() {
        let all: Vec<i64> = (1..=7).rev().collect();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let p = page(all.clone(), "3", cursor.as_deref());
            seen.extend(
                p["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|v| v.as_i64().expect("int")),
            );
            assert_eq!(p["has_more"], json!(!p["next_cursor"].is_null()));
            match p["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());
        let exact = page((1..=3).collect(), "3", None);
        assert_eq!(exact["next_cursor"], Value::Null);
    }

    #[test]
    fn bad_limits_and_cursors_are_rejected() {
        assert_eq!(parse_limit(Some("0")).map_err(|e| e.status), Err(400));
        assert_eq!(parse_limit(Some("abc")).map_err(|e| e.status), Err(400));
        assert_eq!(parse_limit(Some("999")), Ok(200));
        let e = paginate(vec![1i64], |n| vec![asc_i(*n)], None, Some("!!"), |n| json!(n)).expect_err("bad");
        assert_eq!(e.details["reason"], "invalid_cursor");
    }
}
