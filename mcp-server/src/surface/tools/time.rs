//! Time Tracking (toolset `time`, contract §5.3 #60–#64): `log_time`, `get_time_entry`,
//! `update_time_entry`, `delete_time_entry`, `list_time_entries`.
//!
//! Durations are given as `minutes` or `hours`; hours become minutes rounded half-up (computed
//! on the decimal the model sent, so `0.175` h is exactly 10.5 → 11 minutes), and a result
//! outside 1–1440 is refused with -32602 before any API call. The lifecycle actions
//! (`submit_time_entry`, `approve_time_entry`) live in `finance.rs`. Users are taken as `me`,
//! an email or a uuid; `list_time_entries` is compact unless asked for `detail: "full"`, and
//! checks a project it filters by first (the API's filter would answer an empty page).

use crate::surface::errors;
use crate::surface::tools::Tools;
use crate::surface::tools::body;
use crate::surface::tools::compact;
use crate::surface::tools::shared::{
    Date, Detail, Id, Page, Patch, ProjectRef, TicketRef, TimeEntryStatus, UserFilter, UserRef,
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
    /// Time entry uuid.
    pub time_entry_id: Id,
}

/// Arguments of `log_time`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogTimeParams {
    /// Key (`WEB-42`) or uuid.
    #[serde(skip_serializing)]
    pub ticket_id: TicketRef,
    /// This or `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub minutes: Option<u32>,
    /// E.g. `1.5`; this or `minutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 24), extend("exclusiveMinimum" = 0))]
    pub hours: Option<f64>,
    /// Default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// What was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub description: Option<String>,
    /// Default `me`; others need Admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserRef>,
}

/// Arguments of `update_time_entry`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTimeEntryParams {
    /// Time entry uuid.
    #[serde(skip_serializing)]
    pub time_entry_id: Id,
    /// This or `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub minutes: Option<u32>,
    /// This or `minutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 24), extend("exclusiveMinimum" = 0))]
    pub hours: Option<f64>,
    /// New day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// `null` clears.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[schemars(length(max = 2000))]
    pub description: Patch<String>,
    /// Move to this ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
}

/// Arguments of `list_time_entries`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTimeEntriesParams {
    /// Default `me`; an email, a uuid, `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserFilter>,
    /// Project key or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectRef>,
    /// Ticket key or uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
    /// Any of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<TimeEntryStatus>>,
    /// On or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// On or before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// `limit` and `cursor`.
    #[serde(flatten)]
    pub page: Page,
    /// `full`: whole entries, not rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
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
    /// Log time on a ticket as a Draft entry. Only Approved time counts: `submit_time_entry`, then
    /// an Admin approves.
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
        self.resolving(&ctx, async |caller, names| {
            if let Some(user) = &p.user_id {
                let id = names.user("user_id", user.as_str()).await?;
                body.insert("user_id".into(), Value::String(id));
            }
            let path = ApiPath::fixed("/api/v1/tickets")
                .seg(p.ticket_id.as_str())
                .then("time-entries");
            Ok(errors::json_result(
                caller.api.post(path, Some(&Value::Object(body))).await,
            ))
        })
        .await
    }

    /// One whole time entry, with approval or rejection details.
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
        self.get_json(&ctx, entry_path(&p.time_entry_id), Query::new()).await
    }

    /// Correct a Draft or Rejected time entry (a Rejected one returns to Draft).
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
        let r = self
            .caller(&ctx)
            .api
            .patch(entry_path(&p.time_entry_id), &Value::Object(body))
            .await;
        Ok(errors::json_result(r))
    }

    /// Delete an unapproved time entry (own Draft or Rejected; Submitted as Admin).
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
        let id = &p.time_entry_id;
        self.delete_item(&ctx, entry_path(id), "time_entry_id", id.as_str())
            .await
    }

    /// Time entries, newest first: the caller's unless `user_id` says otherwise. Totals:
    /// `get_time_report`.
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
        self.resolving(&ctx, async |caller, names| {
            let user = match p.user_id.as_ref().map(UserFilter::as_str) {
                None => Some(caller.identity.user_id.to_string()),
                Some(all) if all.eq_ignore_ascii_case("all") => None,
                Some(user) => Some(names.user("user_id", user).await?),
            };
            names.ensure_projects(&p.project_id).await?;
            let query = Query::new()
                .opt("user_id", user)
                .opt("project_id", p.project_id.as_ref())
                .opt("ticket_id", p.ticket_id.as_ref())
                .list("status", p.status.as_deref())
                .opt("from", p.from.as_ref())
                .opt("to", p.to.as_ref())
                .page(p.page.limit, p.page.cursor.as_ref());
            let page = errors::json_value(caller.api.get("/api/v1/time-entries", &query).await)?;
            Ok(errors::success(&compact::time_entries(page, p.detail)))
        })
        .await
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
