//! Time Tracking (toolset `time`, contract §5.3 #60–#64): `log_time`, `get_time_entry`,
//! `update_time_entry`, `delete_time_entry`, `list_time_entries`.
//!
//! Durations are given as `minutes` or `hours`; hours become minutes rounded half-up (computed
//! on the decimal the model sent, so `0.175` h is exactly 10.5 → 11 minutes), and a result
//! outside 1–1440 is refused with -32602 before any API call. The lifecycle actions
//! (`submit_time_entry`, `approve_time_entry`) live in `finance.rs`.

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::shared::{
    Cursor, Date, Id, Limit, Patch, ProjectRef, TicketRef, TimeEntryStatus, UserFilter,
};
use crate::upstream::api::{ApiPath, Query};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fewest and most minutes one entry may hold (contract §3.6).
const MINUTES_RANGE: std::ops::RangeInclusive<u64> = 1..=1440;

/// Arguments of the tools that take only a time entry id (`get_time_entry`,
/// `delete_time_entry`, `submit_time_entry`, `approve_time_entry`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeEntryIdParams {
    /// Time entry uuid (see `list_time_entries`).
    pub time_entry_id: Id,
}

/// Arguments of `log_time`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogTimeParams {
    /// Ticket the time was spent on: ticket uuid or key, e.g. `WEB-42`.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// Duration in whole minutes, 1–1440. Give exactly one of `minutes` and `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub minutes: Option<u32>,
    /// Duration in hours, more than 0 and at most 24 (e.g. `1.5`), converted to minutes rounded half-up. Give exactly one of `minutes` and `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 24), extend("exclusiveMinimum" = 0))]
    pub hours: Option<f64>,
    /// Day the work was done, `YYYY-MM-DD` (default today, UTC; not in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// What was done, up to 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub description: Option<String>,
    /// User uuid the time belongs to (default: the caller; another user needs Admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Id>,
}

/// Arguments of `update_time_entry`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTimeEntryParams {
    /// Time entry uuid.
    #[serde(skip_serializing)]
    pub time_entry_id: Id,
    /// New duration in whole minutes, 1–1440 (not together with `hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub minutes: Option<u32>,
    /// New duration in hours, more than 0 and at most 24, converted to minutes rounded half-up (not together with `minutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 24), extend("exclusiveMinimum" = 0))]
    pub hours: Option<f64>,
    /// New day of the work, `YYYY-MM-DD` (not in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// New description up to 2000 characters, or `null` to clear it.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 2000))]
    pub description: Patch<String>,
    /// Move the entry to another ticket: ticket uuid or key, e.g. `WEB-7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
}

/// Arguments of `list_time_entries`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTimeEntriesParams {
    /// Whose entries: a user uuid, `me` (the caller; the default) or `all` (every user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserFilter>,
    /// Only entries of this project: project uuid or key, e.g. `WEB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Only entries of this ticket: ticket uuid or key, e.g. `WEB-42`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
    /// Only entries in these statuses (any of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<TimeEntryStatus>>,
    /// Only entries dated on or after this day, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Only entries dated on or before this day, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// `hours` × 60 rounded half-up, computed exactly on the decimal form of `hours` (the shortest
/// form that reads back as the same number, i.e. what the model wrote). `None` for values that
/// are not finite positive decimals.
pub fn hours_to_minutes(hours: f64) -> Option<u64> {
    if !hours.is_finite() || hours <= 0.0 {
        return None;
    }
    // Rust prints f64 without an exponent; keep at most 18 fraction digits (an exact half-minute
    // has at most 3, so the cut never changes a rounding).
    let text = format!("{hours}");
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let frac: String = frac_part.chars().take(18).collect();
    let scale = 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    let digits = format!("{int_part}{frac}");
    let n: u128 = digits.parse().ok()?;
    // round_half_up(n × 60 / scale) = (2 × n × 60 + scale) div (2 × scale)
    let minutes = n.checked_mul(120)?.checked_add(scale)? / (2 * scale);
    u64::try_from(minutes).ok()
}

/// Turns `hours` into `minutes` in a write body: -32602 when the result is outside 1–1440.
fn hours_into_minutes(body: &mut Map<String, Value>, hours: Option<f64>) -> Result<(), ErrorData> {
    let Some(h) = hours else {
        return Ok(());
    };
    body.remove("hours");
    match hours_to_minutes(h) {
        Some(m) if MINUTES_RANGE.contains(&m) => {
            body.insert("minutes".into(), Value::from(m));
            Ok(())
        }
        Some(m) => Err(errors::invalid_params(
            "hours",
            format!("{h} hours is {m} minutes; an entry holds 1–1440 minutes"),
        )),
        None => Err(errors::invalid_params("hours", "must be a number above 0")),
    }
}

/// The object of a serialized params struct (a serialization problem is our bug).
fn object(v: Value) -> Result<Map<String, Value>, ErrorData> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(errors::internal("tool arguments did not serialize to an object")),
    }
}

fn entry_path(id: &Id) -> ApiPath {
    ApiPath::fixed("/api/v1/time-entries").seg(id.as_str())
}

#[tool_router(router = time_router, vis = "pub(crate)")]
impl Tools {
    /// Log time spent on a ticket as a new Draft time entry (the caller's own time unless
    /// `user_id` names another user, which needs Admin). Give the duration as exactly one of
    /// `minutes` or `hours`. Only Approved time counts in reports: send it on with
    /// `submit_time_entry`, then an Admin approves it with `approve_time_entry`. Returns the
    /// new TimeEntry (`status` `Draft`).
    #[tool(
        title = "Log time",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn log_time(
        &self,
        Parameters(p): Parameters<LogTimeParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut body = object(body(&p)?)?;
        errors::require_exactly_one(&body, &["minutes", "hours"])?;
        hours_into_minutes(&mut body, p.hours)?;
        let caller = self.caller(&ctx);
        let path = ApiPath::fixed("/api/v1/tickets")
            .seg(p.ticket_id.as_str())
            .then("time-entries");
        Ok(errors::json_result(
            caller.api.post(path, Some(&Value::Object(body))).await,
        ))
    }

    /// Get one time entry by id: ticket, user, date, minutes, description, status and who
    /// submitted, approved or rejected it when. Use `list_time_entries` to find entries.
    /// Returns the TimeEntry.
    #[tool(
        title = "Get time entry",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_time_entry(
        &self,
        Parameters(p): Parameters<TimeEntryIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller.api.get(entry_path(&p.time_entry_id), &Query::new()).await,
        ))
    }

    /// Correct a Draft or Rejected time entry: duration (`minutes` or `hours`, not both), date,
    /// description (`null` clears it) or ticket; at least one. Only the entry's owner or an
    /// Admin may edit it; a Rejected entry goes back to Draft (submit it again with
    /// `submit_time_entry`). Submitted and Approved entries cannot be edited. Returns the
    /// updated TimeEntry.
    #[tool(
        title = "Edit time entry",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_time_entry(
        &self,
        Parameters(p): Parameters<UpdateTimeEntryParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut body = object(body(&p)?)?;
        errors::require_at_least_one(&body, &["minutes", "hours", "date", "description", "ticket_id"])?;
        if body.contains_key("minutes") && body.contains_key("hours") {
            errors::require_exactly_one(&body, &["minutes", "hours"])?;
        }
        hours_into_minutes(&mut body, p.hours)?;
        let caller = self.caller(&ctx);
        Ok(errors::json_result(
            caller
                .api
                .patch(entry_path(&p.time_entry_id), &Value::Object(body))
                .await,
        ))
    }

    /// Delete a time entry. Its owner may delete Draft or Rejected entries; an Admin also
    /// Submitted ones; Approved entries are final and cannot be deleted. Cannot be undone.
    /// Returns `{deleted: true, time_entry_id}`.
    #[tool(
        title = "Delete time entry",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_time_entry(
        &self,
        Parameters(p): Parameters<TimeEntryIdParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let r = caller.api.delete(entry_path(&p.time_entry_id)).await;
        Ok(errors::deleted_result(r, "time_entry_id", p.time_entry_id.as_str()))
    }

    /// List time entries, by default the caller's own (`user_id` `me`); `user_id` `all` lists
    /// every user's, a uuid one user's. Filter by project, ticket, status (e.g. `Submitted` for
    /// the approval queue) and date range. Newest date first. For totals over a period use
    /// `get_time_report` instead. Returns one page `{items: [TimeEntry], next_cursor,
    /// has_more}`; pass `next_cursor` back as `cursor` for more.
    #[tool(
        title = "List time entries",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_time_entries(
        &self,
        Parameters(p): Parameters<ListTimeEntriesParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx);
        let user = match p.user_id.as_ref().map(UserFilter::as_str) {
            None | Some("me") => Some(caller.identity.user_id.to_string()),
            Some("all") => None,
            Some(id) => Some(id.to_string()),
        };
        let query = Query::new()
            .opt("user_id", user)
            .opt("project_id", p.project_id.as_ref())
            .opt("ticket_id", p.ticket_id.as_ref())
            .list("status", p.status.as_deref())
            .opt("from", p.from.as_ref())
            .opt("to", p.to.as_ref())
            .opt("limit", p.limit)
            .opt("cursor", p.cursor.as_ref());
        Ok(errors::json_result(
            caller.api.get("/api/v1/time-entries", &query).await,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::hours_to_minutes;

    #[test]
    fn hours_become_minutes_rounded_half_up_on_the_decimal_given() {
        assert_eq!(hours_to_minutes(1.5), Some(90));
        assert_eq!(hours_to_minutes(24.0), Some(1440));
        assert_eq!(hours_to_minutes(0.175), Some(11)); // 10.5 → 11
        assert_eq!(hours_to_minutes(0.025), Some(2)); // 1.5 → 2
        assert_eq!(hours_to_minutes(0.024), Some(1)); // 1.44 → 1
        assert_eq!(hours_to_minutes(0.008), Some(0)); // 0.48 → 0
        assert_eq!(hours_to_minutes(0.0083333), Some(0));
        assert_eq!(hours_to_minutes(1e-30), Some(0));
        assert_eq!(hours_to_minutes(0.0), None);
        assert_eq!(hours_to_minutes(-1.0), None);
        assert_eq!(hours_to_minutes(f64::NAN), None);
    }
}
