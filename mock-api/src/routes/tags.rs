//! Ticket tags (contract §4.5 #64–#67): read, replace (PUT), merge (PATCH: a string upserts,
//! `null` removes) and delete one key. Keys follow `^[a-z0-9][a-z0-9_.:-]{0,63}$`, values are
//! strings of at most 256 characters, a ticket holds at most 50 tags. Every real change writes
//! one `TagSet` or `TagRemoved` activity entry per key, in key order; no-ops write nothing.

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::{ActivityAction, OrgRole, Problem, Ticket};
use crate::request::{Body, Ctx, Mode, Reply, object};
use crate::store::Store;
use crate::values::Ts;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("GET", "/api/v1/tickets/{ticket}/tags", get_tags),
        Route::new("PUT", "/api/v1/tickets/{ticket}/tags", replace_tags),
        Route::new("PATCH", "/api/v1/tickets/{ticket}/tags", merge_tags),
        Route::new("DELETE", "/api/v1/tickets/{ticket}/tags/{key}", delete_tag),
    ]
}

/// Most tags one ticket may carry.
pub const MAX_TAGS: usize = 50;

/// Longest tag value, in characters.
pub const MAX_TAG_VALUE: usize = 256;

/// Whether `k` is a valid tag key: `^[a-z0-9][a-z0-9_.:-]{0,63}$`.
pub fn is_tag_key(k: &str) -> bool {
    let b = k.as_bytes();
    let first = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=64).contains(&b.len())
        && b.first().is_some_and(first)
        && b.iter().all(|c| first(c) || matches!(c, b'_' | b'.' | b':' | b'-'))
}

/// Validates a tag map sent as body field `field`, recording problems on `b` as
/// `<field>.<key>` (bad key or value → `invalid_format`, value over 256 chars → `too_long`).
/// `null` values are kept as `None` when `allow_null` (merge), else they are `invalid_format`;
/// without nulls, more than 50 entries → `<field>`: `out_of_range`.
pub fn read_tag_map(
    b: &mut Body,
    field: &str,
    obj: &Map<String, Value>,
    allow_null: bool,
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let path = format!("{field}.{k}");
        if !is_tag_key(k) {
            b.error(path, Problem::InvalidFormat);
            continue;
        }
        match v {
            Value::Null if allow_null => {
                out.insert(k.clone(), None);
            }
            Value::String(s) => {
                let s = s.trim();
                if s.chars().count() > MAX_TAG_VALUE {
                    b.error(path, Problem::TooLong);
                } else {
                    out.insert(k.clone(), Some(s.to_string()));
                }
            }
            _ => b.error(path, Problem::InvalidFormat),
        }
    }
    if !allow_null && obj.len() > MAX_TAGS {
        b.error(field, Problem::OutOfRange);
    }
    out
}

/// Replaces a ticket's tags with `next`, writing `TagSet` / `TagRemoved` for every changed
/// key in key order at `at`. Returns the updated ticket.
pub fn set_tags(
    store: &mut Store,
    actor: Uuid,
    ticket_id: Uuid,
    next: BTreeMap<String, String>,
    at: Ts,
) -> ApiResult<Ticket> {
    let old = store
        .tickets
        .get(&ticket_id)
        .map(|t| t.tags.clone())
        .ok_or_else(|| ApiError::not_found("ticket", &ticket_id.to_string()))?;
    let keys: BTreeSet<&String> = old.keys().chain(next.keys()).collect();
    let mut entries = Vec::new();
    for k in keys {
        match (old.get(k), next.get(k)) {
            (o, Some(n)) if o != Some(n) => entries.push((ActivityAction::TagSet, k.clone(), json!(o), json!(n))),
            (Some(o), None) => entries.push((ActivityAction::TagRemoved, k.clone(), json!(o), Value::Null)),
            _ => {}
        }
    }
    if let Some(t) = store.tickets.get_mut(&ticket_id) {
        t.tags = next;
    }
    for (action, key, o, n) in entries {
        store.log_activity(ticket_id, actor, action, Some(&key), Some(o), Some(n), at);
    }
    store
        .tickets
        .get(&ticket_id)
        .cloned()
        .ok_or_else(|| ApiError::internal("ticket vanished while tagging"))
}

fn tags_json(t: &Ticket) -> Value {
    json!({"ticket_id": t.id, "tags": t.tags})
}

fn get_tags(ctx: &mut Ctx) -> ApiResult<Reply> {
    let t = ctx.path_ticket("ticket")?;
    ctx.caller()?.check_project_read(t.project_id)?;
    Ok(Reply::ok(tags_json(&t)))
}

/// What the common front of PUT and PATCH hands back: the ticket, the actor, the parsed tags
/// (`None` = remove) and the body reader, still open for more problems.
type TagRequest<'a> = (Ticket, Uuid, BTreeMap<String, Option<String>>, Body<'a>);

/// Common front of PUT and PATCH: ticket (404), Member write check (403), `tags*` body.
fn tag_body<'c>(ctx: &'c mut Ctx, allow_null: bool) -> ApiResult<TagRequest<'c>> {
    let (caller, t) = ctx.ticket_write(OrgRole::Member)?;
    let mut b = ctx.body()?;
    let tags = match b.get("tags", Mode::Required, &object) {
        Some(m) => read_tag_map(&mut b, "tags", &m, allow_null),
        None => BTreeMap::new(),
    };
    Ok((t, caller.user_id, tags, b))
}

fn replace_tags(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (t, me, tags, b) = tag_body(ctx, false)?;
    b.finish()?;
    let next: BTreeMap<String, String> = tags.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
    let now = ctx.store.now();
    let t = set_tags(ctx.store, me, t.id, next, now)?;
    Ok(Reply::ok(tags_json(&t)))
}

fn merge_tags(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (t, me, tags, mut b) = tag_body(ctx, true)?;
    let mut next = t.tags.clone();
    for (k, v) in tags {
        match v {
            Some(v) => next.insert(k, v),
            None => next.remove(&k),
        };
    }
    if next.len() > MAX_TAGS {
        b.error("tags", Problem::OutOfRange);
    }
    b.finish()?;
    let now = ctx.store.now();
    let t = set_tags(ctx.store, me, t.id, next, now)?;
    Ok(Reply::ok(tags_json(&t)))
}

fn delete_tag(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, t) = ctx.ticket_write(OrgRole::Member)?;
    let key = ctx.param("key").to_string();
    if !t.tags.contains_key(&key) {
        return Ok(Reply::ok(tags_json(&t)));
    }
    let mut next = t.tags.clone();
    next.remove(&key);
    let now = ctx.store.now();
    let t = set_tags(ctx.store, caller.user_id, t.id, next, now)?;
    Ok(Reply::ok(tags_json(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys_follow_the_contract_syntax() {
        assert!(is_tag_key("env"));
        assert!(is_tag_key("0.release:v2_x-y"));
        assert!(is_tag_key(&"a".repeat(64)));
        assert!(!is_tag_key(&"a".repeat(65)));
        assert!(!is_tag_key(""));
        assert!(!is_tag_key("_env"));
        assert!(!is_tag_key("Env"));
        assert!(!is_tag_key("a b"));
    }
}
