//! A ticket's change history (contract §4.5 #68): newest first (`created_at` desc, then `id`
//! desc), optionally narrowed to some actions with the `action` csv filter. Entries are
//! written by the ticket, label, tag, comment and sprint routes through `Store::log_activity`.

use super::Route;
use crate::error::ApiResult;
use crate::model::{Activity, ActivityAction};
use crate::page::{desc_i, desc_s, parse_limit};
use crate::request::{Ctx, Reply};
use serde_json::Value;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![Route::new("GET", "/api/v1/tickets/{ticket}/activity", list_activity)]
}

/// An activity entry as the API returns it.
pub fn activity_json(a: &Activity) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

fn list_activity(ctx: &mut Ctx) -> ApiResult<Reply> {
    // Query syntax (400) is checked before the ticket is looked up (404), per §1.7.
    let actions = ctx.query.csv_enum("action", ActivityAction::parse)?;
    parse_limit(ctx.query.get("limit"))?;
    let t = ctx.path_ticket("ticket")?;
    ctx.caller()?.check_project_read(t.project_id)?;
    let items: Vec<&Activity> = ctx
        .store
        .activity
        .values()
        .filter(|a| a.ticket_id == t.id && actions.as_ref().is_none_or(|list| list.contains(&a.action)))
        .collect();
    let page = ctx.page(
        items,
        |a| vec![desc_i(a.created_at.0), desc_s(a.id.to_string())],
        |a| activity_json(a),
    )?;
    Ok(Reply::ok(page))
}
