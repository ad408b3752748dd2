//! Money: labor rates (contract §3.2, §4.3 #35–#38) and the reports that price approved time
//! with them (§4.8 #92–#94, §4.9): the time report with its five groupings, the capitalization
//! report (Capex/Opex split, cost centers, warnings, monthly amortization) and its RFC 4180 CSV.
//! Every amount is a sum of per-entry costs rounded half-up (`store::cost_of`); every `hours` is
//! computed from the `minutes` beside it. Project-restricted API keys see only their projects.

use super::Route;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::page::{asc_i, asc_s};
use crate::request::{Ctx, Mode, Query, Reply, ReplyBody, date, int, string, uuid};
use crate::store::{Store, cost_of, hours_of};
use crate::values::Day;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/orgs/{org_id}/labor-rates", create_rate),
        Route::new("GET", "/api/v1/orgs/{org_id}/labor-rates", list_rates),
        Route::new("GET", "/api/v1/labor-rates/{labor_rate_id}", get_rate),
        Route::new("DELETE", "/api/v1/labor-rates/{labor_rate_id}", delete_rate),
        Route::new("GET", "/api/v1/reports/time", time_report),
        Route::new("GET", "/api/v1/reports/capitalization", capitalization_report),
        Route::new("GET", "/api/v1/reports/capitalization/export", capitalization_csv),
    ]
}

// ----- labor rates ---------------------------------------------------------------------------

/// The day before the user's next rate row after `from`, or `None` for the latest row.
fn range_end(store: &Store, org: Uuid, user: Uuid, from: Day) -> Option<Day> {
    store
        .labor_rates
        .values()
        .filter(|r| r.org_id == org && r.user_id == user && r.effective_from > from)
        .map(|r| r.effective_from)
        .min()
        .map(|d| d.plus(-1))
}

/// `409 in_use` when Approved entries of the user fall in `[from, to]` (they would be re-priced).
fn refuse_repricing(store: &Store, org: Uuid, user: Uuid, from: Day, to: Option<Day>) -> ApiResult<()> {
    let count = store
        .time_entries
        .values()
        .filter(|e| e.org_id == org && e.user_id == user && e.status == TimeEntryStatus::Approved)
        .filter(|e| e.date >= from && to.is_none_or(|t| e.date <= t))
        .count();
    if count == 0 {
        return Ok(());
    }
    let until = to.map(|t| t.to_string()).unwrap_or_else(|| "onwards".into());
    Err(ApiError::conflict(
        "in_use",
        format!("{count} approved time entries of this user dated {from} to {until} would be re-priced"),
    )
    .with("dependents", json!({"time_entries": count})))
}

fn create_rate(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (caller, org) = ctx.org_write(OrgRole::Admin)?;
    let mut b = ctx.body()?;
    let user = b.get("user_id", Mode::Required, &uuid);
    let rate = b.get("hourly_rate_cents", Mode::Required, &int(1, 100_000_000));
    let from = b.get("effective_from", Mode::Required, &date);
    let note = b.get("note", Mode::Optional, &string(0, 200));
    b.immutable(&["id", "org_id", "effective_to", "created_by", "created_at"]);
    b.finish()?;
    let (Some(user), Some(rate), Some(from)) = (user, rate, from) else {
        return Err(ApiError::internal("labor rate fields missing after validation"));
    };
    if !ctx.store.is_member(org, user) {
        return Err(ApiError::invalid_reference("user_id", &user.to_string()));
    }
    let taken = ctx
        .store
        .labor_rates
        .values()
        .any(|r| r.org_id == org && r.user_id == user && r.effective_from == from);
    if taken {
        return Err(ApiError::duplicate("effective_from", &from.to_string()));
    }
    refuse_repricing(ctx.store, org, user, from, range_end(ctx.store, org, user, from))?;
    let (now, id) = ctx.store.stamp();
    let r = LaborRate {
        id,
        org_id: org,
        user_id: user,
        hourly_rate_cents: rate,
        effective_from: from,
        effective_to: None,
        note,
        created_by: caller.user_id,
        created_at: now,
    };
    ctx.store.labor_rates.insert(id, r.clone());
    Ok(Reply::created(
        ctx.store.labor_rate_json(&r),
        Some(format!("/api/v1/labor-rates/{id}")),
    ))
}

fn list_rates(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let user = ctx.query.uuid("user_id")?;
    let as_of = ctx.query.date("as_of")?;
    let org = ctx.path_org("org_id")?;
    caller.require_scope(false)?;
    let store = &*ctx.store;
    let items: Vec<LaborRate> = store
        .labor_rates
        .values()
        .filter(|r| r.org_id == org && user.is_none_or(|u| r.user_id == u))
        .filter(|r| {
            as_of.is_none_or(|d| {
                r.effective_from <= d && range_end(store, org, r.user_id, r.effective_from).is_none_or(|e| d <= e)
            })
        })
        .cloned()
        .collect();
    let page = crate::page::paginate(
        items,
        |r| {
            vec![
                asc_s(r.user_id.to_string()),
                asc_i(r.effective_from.0.to_julian_day() as i64),
                asc_s(r.id.to_string()),
            ]
        },
        ctx.query.get("limit"),
        ctx.query.get("cursor"),
        |r| store.labor_rate_json(r),
    )?;
    Ok(Reply::ok(page))
}

/// Resolves `{labor_rate_id}` in the caller's org: 400 malformed, 404 unknown.
fn path_rate(ctx: &Ctx) -> ApiResult<LaborRate> {
    ctx.path_record()
}

fn get_rate(ctx: &mut Ctx) -> ApiResult<Reply> {
    let r = path_rate(ctx)?;
    ctx.caller()?.require_scope(false)?;
    Ok(Reply::ok(ctx.store.labor_rate_json(&r)))
}

fn delete_rate(ctx: &mut Ctx) -> ApiResult<Reply> {
    let r = ctx.record_org_write::<LaborRate>(OrgRole::Admin)?;
    let to = range_end(ctx.store, r.org_id, r.user_id, r.effective_from);
    refuse_repricing(ctx.store, r.org_id, r.user_id, r.effective_from, to)?;
    ctx.store.labor_rates.remove(&r.id);
    Ok(Reply::no_content())
}

// ----- shared report inputs --------------------------------------------------------------------

/// The report period: `to` defaults to today, `from` to the 1st of `to`'s month; `from > to` → 400.
fn period(q: &Query, today: Day) -> ApiResult<(Day, Day)> {
    let to = q.date("to")?.unwrap_or(today);
    let from = match q.date("from")? {
        Some(d) => d,
        None => Day::from_ymd(to.year(), to.month(), 1).unwrap_or(to),
    };
    if from > to {
        return Err(ApiError::invalid_query("from", format!("from {from} is after to {to}")));
    }
    Ok((from, to))
}

/// Entries of `org` in a status, dated in `[from, to]`, of projects the caller may see.
fn entries_in<'s>(
    store: &'s Store,
    caller: &Caller,
    org: Uuid,
    status: TimeEntryStatus,
    (from, to): (Day, Day),
) -> impl Iterator<Item = &'s TimeEntry> {
    let caller = caller.clone();
    store.time_entries.values().filter(move |e| {
        e.org_id == org && e.status == status && e.date >= from && e.date <= to && caller.project_visible(e.project_id)
    })
}

/// A reference in a query echoed into `filters`: the resolved uuid, or the reference as sent.
fn echo(raw: Option<&str>, resolved: Option<Option<Uuid>>) -> Value {
    match (raw, resolved) {
        (_, Some(Some(id))) => json!(id),
        (Some(s), _) => json!(s),
        (None, _) => Value::Null,
    }
}

/// `minutes`, `hours` and optional money fields of one aggregate, in contract order.
#[derive(Clone, Copy, Debug, Default)]
struct Sum {
    minutes: i64,
    entries: i64,
    cost: i64,
    capex: i64,
    opex: i64,
}

impl Sum {
    fn add(&mut self, minutes: i64, cost: i64, capex: bool) {
        self.minutes += minutes;
        self.entries += 1;
        self.cost += cost;
        if capex {
            self.capex += cost;
        } else {
            self.opex += cost;
        }
    }

    fn time_fields(&self, m: &mut Map<String, Value>) {
        m.insert("minutes".into(), json!(self.minutes));
        m.insert("hours".into(), json!(hours_of(self.minutes)));
        m.insert("entry_count".into(), json!(self.entries));
    }

    fn money_fields(&self, m: &mut Map<String, Value>) {
        m.insert("minutes".into(), json!(self.minutes));
        m.insert("hours".into(), json!(hours_of(self.minutes)));
        m.insert("cost_cents".into(), json!(self.cost));
        m.insert("capex_cents".into(), json!(self.capex));
        m.insert("opex_cents".into(), json!(self.opex));
    }
}

fn object(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// ----- time report -------------------------------------------------------------------------

/// Report grouping (`group_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GroupBy {
    User,
    Team,
    Project,
    Ticket,
    Day,
}

impl GroupBy {
    fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "user" => GroupBy::User,
            "team" => GroupBy::Team,
            "project" => GroupBy::Project,
            "ticket" => GroupBy::Ticket,
            "day" => GroupBy::Day,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            GroupBy::User => "user",
            GroupBy::Team => "team",
            GroupBy::Project => "project",
            GroupBy::Ticket => "ticket",
            GroupBy::Day => "day",
        }
    }
}

/// One row of the time report before rendering: its sort key (`None` = the `null` group), the
/// identifying fields, and the sums.
struct Row {
    key: Option<String>,
    fields: Vec<(&'static str, Value)>,
    sum: Sum,
}

/// A group of the time report: its sort key (`None` = the `null` group) and identifying fields.
type Group = (Option<String>, Vec<(&'static str, Value)>);

/// The groups an entry belongs to (several for `team` when the user is in several teams).
fn groups_of(store: &Store, by: GroupBy, e: &TimeEntry) -> Vec<Group> {
    match by {
        GroupBy::User => {
            let u = store.users.get(&e.user_id);
            vec![(
                Some(e.user_id.to_string()),
                vec![
                    ("user_id", json!(e.user_id)),
                    ("email", json!(u.map(|u| u.email.clone()))),
                    ("display_name", json!(u.map(|u| u.display_name.clone()))),
                ],
            )]
        }
        GroupBy::Team => {
            let teams: Vec<&Team> = store
                .teams
                .values()
                .filter(|t| t.org_id == e.org_id && t.member_ids.contains(&e.user_id))
                .collect();
            if teams.is_empty() {
                return vec![(None, vec![("team_id", Value::Null), ("team_name", Value::Null)])];
            }
            teams
                .iter()
                .map(|t| {
                    (
                        Some(t.id.to_string()),
                        vec![("team_id", json!(t.id)), ("team_name", json!(t.name))],
                    )
                })
                .collect()
        }
        GroupBy::Project => {
            let p = store.projects.get(&e.project_id);
            vec![(
                Some(e.project_id.to_string()),
                vec![
                    ("project_id", json!(e.project_id)),
                    ("project_key", json!(p.map(|p| p.key.clone()))),
                    ("project_name", json!(p.map(|p| p.name.clone()))),
                ],
            )]
        }
        GroupBy::Ticket => {
            let t = store.tickets.get(&e.ticket_id);
            vec![(
                Some(e.ticket_id.to_string()),
                vec![
                    ("ticket_id", json!(e.ticket_id)),
                    (
                        "ticket_key",
                        json!(t.map(|t| t.key.clone()).unwrap_or_else(|| e.ticket_key.clone())),
                    ),
                    ("ticket_title", json!(t.map(|t| t.title.clone()))),
                    ("project_id", json!(e.project_id)),
                ],
            )]
        }
        GroupBy::Day => vec![(Some(e.date.to_string()), vec![("date", json!(e.date))])],
    }
}

fn time_report(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let today = ctx.store.today();
    let window = period(&ctx.query, today)?;
    let by = match ctx.query.get("group_by") {
        None => GroupBy::User,
        Some(s) => GroupBy::parse(s).ok_or_else(|| {
            ApiError::invalid_query(
                "group_by",
                format!("group_by must be user, team, project, ticket or day, got {s:?}"),
            )
        })?,
    };
    let user = ctx.query.uuid("user_id")?;
    let team = ctx.query.uuid("team_id")?;
    let project = ctx.query_project("project_id")?;
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    let store = &*ctx.store;
    let team_members: Option<BTreeSet<Uuid>> = team.map(|t| {
        store
            .teams
            .get(&t)
            .filter(|t| t.org_id == org)
            .map(|t| t.member_ids.iter().copied().collect())
            .unwrap_or_default()
    });
    let passes = |e: &&TimeEntry| {
        user.is_none_or(|u| e.user_id == u)
            && project.is_none_or(|p| p == Some(e.project_id))
            && team_members.as_ref().is_none_or(|m| m.contains(&e.user_id))
    };
    let counted: Vec<&TimeEntry> = entries_in(store, &caller, org, TimeEntryStatus::Approved, window)
        .filter(passes)
        .collect();
    let submitted: i64 = entries_in(store, &caller, org, TimeEntryStatus::Submitted, window)
        .filter(passes)
        .map(|e| e.minutes)
        .sum();
    let mut total = Sum::default();
    let mut rows: BTreeMap<Option<String>, Row> = BTreeMap::new();
    for e in &counted {
        total.add(e.minutes, 0, false);
        for (key, fields) in groups_of(store, by, e) {
            rows.entry(key.clone())
                .or_insert_with(|| Row {
                    key,
                    fields,
                    sum: Sum::default(),
                })
                .sum
                .add(e.minutes, 0, false);
        }
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    if by != GroupBy::Day {
        // Minutes desc, then the first key asc with the `null` group last.
        rows.sort_by(|a, b| {
            b.sum.minutes.cmp(&a.sum.minutes).then_with(|| match (&a.key, &b.key) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
        });
    }
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut m = object(r.fields);
            r.sum.time_fields(&mut m);
            Value::Object(m)
        })
        .collect();
    let mut totals = Map::new();
    total.time_fields(&mut totals);
    totals.insert("submitted_minutes".into(), json!(submitted));
    Ok(Reply::ok(json!({
        "org_id": org, "from": window.0, "to": window.1, "group_by": by.as_str(),
        "filters": {
            "project_id": echo(ctx.query.get("project_id"), project),
            "user_id": user, "team_id": team,
        },
        "totals": totals,
        "rows": rows,
    })))
}

// ----- capitalization --------------------------------------------------------------------------

/// One counted entry of the capitalization report, priced and classified.
struct Priced<'s> {
    entry: &'s TimeEntry,
    project: &'s Project,
    rate: Option<i64>,
    cost: i64,
    capex: bool,
}

/// The selection shared by the capitalization report and its CSV.
struct Capitalization<'s> {
    org: Uuid,
    window: (Day, Day),
    project_filter: Value,
    cost_center: Option<String>,
    rows: Vec<Priced<'s>>,
}

/// Whether time on a project is capitalised: only `AppDevelopment` time on a `Capex` project.
fn is_capex(p: &Project) -> bool {
    p.capitalization_type == Some(CapitalizationType::Capex)
        && p.development_phase == Some(DevelopmentPhase::AppDevelopment)
}

fn classification(p: &Project) -> &'static str {
    if is_capex(p) { "Capex" } else { "Opex" }
}

/// Reads the query of #93/#94 and prices every counted entry.
fn capitalization<'s>(ctx: &'s Ctx) -> ApiResult<Capitalization<'s>> {
    let caller = ctx.caller()?;
    let window = period(&ctx.query, ctx.store.today())?;
    let project = ctx.query_project("project_id")?;
    let cost_center = ctx.query.get("cost_center_id").map(str::to_string);
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    let store = &*ctx.store;
    let rows = entries_in(store, &caller, org, TimeEntryStatus::Approved, window)
        .filter(|e| project.is_none_or(|p| p == Some(e.project_id)))
        .filter_map(|e| {
            let p = store.projects.get(&e.project_id)?;
            if cost_center
                .as_ref()
                .is_some_and(|c| p.cost_center_id.as_ref() != Some(c))
            {
                return None;
            }
            let rate = store.rate_on(org, e.user_id, e.date);
            let cost = rate.map(|r| cost_of(e.minutes, r)).unwrap_or(0);
            Some(Priced {
                entry: e,
                project: p,
                rate,
                cost,
                capex: is_capex(p),
            })
        })
        .collect();
    Ok(Capitalization {
        org,
        window,
        project_filter: echo(ctx.query.get("project_id"), project),
        cost_center,
        rows,
    })
}

fn capitalization_report(ctx: &mut Ctx) -> ApiResult<Reply> {
    let c = capitalization(ctx)?;
    let mut total = Sum::default();
    let mut projects: BTreeMap<&str, (&Project, Sum)> = BTreeMap::new();
    let mut centers: BTreeMap<Option<&str>, Sum> = BTreeMap::new();
    let mut no_rate: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut unclassified: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut no_phase: BTreeMap<Uuid, i64> = BTreeMap::new();
    for r in &c.rows {
        let (e, p) = (r.entry, r.project);
        total.add(e.minutes, r.cost, r.capex);
        projects
            .entry(p.key.as_str())
            .or_insert((p, Sum::default()))
            .1
            .add(e.minutes, r.cost, r.capex);
        centers
            .entry(p.cost_center_id.as_deref())
            .or_default()
            .add(e.minutes, r.cost, r.capex);
        if r.rate.is_none() {
            *no_rate.entry(e.user_id).or_default() += 1;
        }
        match (p.capitalization_type, p.development_phase) {
            (None, _) => *unclassified.entry(p.id).or_default() += 1,
            (Some(CapitalizationType::Capex), None) => *no_phase.entry(p.id).or_default() += 1,
            _ => {}
        }
    }
    let projects: Vec<Value> = projects
        .values()
        .map(|(p, s)| {
            let mut m = object(vec![
                ("project_id", json!(p.id)),
                ("project_key", json!(p.key)),
                ("project_name", json!(p.name)),
                ("capitalization_type", json!(p.capitalization_type)),
                ("development_phase", json!(p.development_phase)),
                ("cost_center_id", json!(p.cost_center_id)),
                ("classification", json!(classification(p))),
                ("amortization_months", json!(p.amortization_months)),
            ]);
            s.money_fields(&mut m);
            let monthly = p
                .amortization_months
                .filter(|n| *n > 0 && s.capex > 0)
                .map(|n| (s.capex * 2 + n) / (2 * n));
            m.insert("monthly_amortization_cents".into(), json!(monthly));
            Value::Object(m)
        })
        .collect();
    // `None` sorts first in a BTreeMap; the contract puts the `null` cost center last.
    let mut centers: Vec<(Option<&str>, Sum)> = centers.into_iter().collect();
    centers.sort_by_key(|(k, _)| (k.is_none(), k.map(str::to_string)));
    let centers: Vec<Value> = centers
        .into_iter()
        .map(|(k, s)| {
            let mut m = object(vec![("cost_center_id", json!(k))]);
            s.money_fields(&mut m);
            Value::Object(m)
        })
        .collect();
    let mut warnings: Vec<Value> = Vec::new();
    for (user, n) in no_rate {
        warnings.push(json!({"kind": "missing_labor_rate", "project_id": null, "user_id": user, "entry_count": n}));
    }
    for (kind, map) in [
        ("unclassified_project", unclassified),
        ("missing_development_phase", no_phase),
    ] {
        for (project, n) in map {
            warnings.push(json!({"kind": kind, "project_id": project, "user_id": null, "entry_count": n}));
        }
    }
    let mut totals = Map::new();
    total.money_fields(&mut totals);
    Ok(Reply::ok(json!({
        "org_id": c.org, "from": c.window.0, "to": c.window.1,
        "filters": {"project_id": c.project_filter, "cost_center_id": c.cost_center},
        "totals": totals,
        "projects": projects,
        "cost_centers": centers,
        "warnings": warnings,
    })))
}

/// One CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `hours` with two decimals and a dot, from the same half-up rule as everywhere else.
fn hours_2dp(minutes: i64) -> String {
    let h100 = (minutes * 100 + 30).div_euclid(60);
    format!("{}.{:02}", h100.div_euclid(100), h100.rem_euclid(100))
}

/// The column names of the capitalization CSV, in order.
const CSV_COLUMNS: [&str; 20] = [
    "entry_id",
    "date",
    "period",
    "project_id",
    "project_key",
    "project_name",
    "cost_center_id",
    "capitalization_type",
    "development_phase",
    "classification",
    "user_id",
    "user_email",
    "ticket_key",
    "minutes",
    "hours",
    "hourly_rate_cents",
    "cost_cents",
    "capex_cents",
    "opex_cents",
    "amortization_months",
];

fn capitalization_csv(ctx: &mut Ctx) -> ApiResult<Reply> {
    let c = capitalization(ctx)?;
    let store = &*ctx.store;
    let email = |u: Uuid| store.users.get(&u).map(|u| u.email.clone()).unwrap_or_default();
    let mut rows: Vec<(&Priced, String)> = c.rows.iter().map(|r| (r, email(r.entry.user_id))).collect();
    rows.sort_by(|(a, ae), (b, be)| {
        (a.entry.date, &a.project.key, ae, a.entry.id).cmp(&(b.entry.date, &b.project.key, be, b.entry.id))
    });
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    let opt = |v: Option<String>| v.unwrap_or_default();
    for (r, user_email) in rows {
        let (e, p) = (r.entry, r.project);
        let fields = [
            e.id.to_string(),
            e.date.to_string(),
            format!("{:04}-{:02}", e.date.year(), e.date.month()),
            p.id.to_string(),
            p.key.clone(),
            p.name.clone(),
            opt(p.cost_center_id.clone()),
            opt(p.capitalization_type.map(|t| t.to_string())),
            opt(p.development_phase.map(|d| d.to_string())),
            classification(p).to_string(),
            e.user_id.to_string(),
            user_email,
            e.ticket_key.clone(),
            e.minutes.to_string(),
            hours_2dp(e.minutes),
            opt(r.rate.map(|r| r.to_string())),
            r.cost.to_string(),
            (if r.capex { r.cost } else { 0 }).to_string(),
            (if r.capex { 0 } else { r.cost }).to_string(),
            opt(p.amortization_months.map(|n| n.to_string())),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let filename = format!("alloy-capitalization-{}-{}.csv", c.window.0, c.window.1);
    Ok(Reply {
        status: 200,
        body: ReplyBody::Text(out, "text/csv; charset=utf-8"),
        headers: Vec::new(),
    }
    .header("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("Web, Inc."), "\"Web, Inc.\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\r\nlines"), "\"two\r\nlines\"");
    }

    #[test]
    fn csv_hours_have_two_decimals_rounded_half_up() {
        assert_eq!(hours_2dp(90), "1.50");
        assert_eq!(hours_2dp(10), "0.17");
        assert_eq!(hours_2dp(1), "0.02");
        assert_eq!(hours_2dp(1440), "24.00");
    }
}
