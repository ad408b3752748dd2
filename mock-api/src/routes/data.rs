//! Export and import of a whole org or some of its projects (contract §4.8 #95–#96, §4.10).
//!
//! People are never imported: a bundle user maps, by email, to an existing member of the target
//! org, or stays unmapped (listed in `unmapped_users`). What belongs to an unmapped person (their
//! time entries, labor rates, project and team memberships) is left out; a ticket they were
//! assigned loses its assignee; anything they reported, created, wrote, did or approved is
//! attributed to the importing user. So an import never adds anyone to an org (issue 8,
//! finding 8); inviting them first keeps their work.
//!
//! Export renders an `ExportBundle`: every row as the API returns it, arrays in a fixed order,
//! sorted by their creation time, with the stored burndown of completed sprints. Import reads a
//! bundle back in two steps: [`Import`] first plans every row (id remaps, `on_conflict`,
//! natural-key clashes, reference checks) against the store without writing, then, only when
//! nothing failed and it is not a dry run, applies the plan at once. A failure of any kind
//! therefore leaves the store as it was, ids drawn by the plan included.

use super::Route;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::request::{Ctx, Reply};
use crate::store::{Ref, Store, parse_project_ref, parse_uuid};
use crate::values::Ts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("GET", "/api/v1/export", export),
        Route::new("POST", "/api/v1/import", import),
    ]
}

/// The row arrays of a bundle, in bundle order (also the entity keys of `ImportResult.counts`).
pub const ARRAYS: [&str; 13] = [
    "users",
    "members",
    "teams",
    "workflows",
    "labor_rates",
    "projects",
    "project_members",
    "labels",
    "sprints",
    "tickets",
    "comments",
    "activity",
    "time_entries",
];

/// The keys of a bundle besides the row arrays.
const HEADER_KEYS: [&str; 5] = ["format", "version", "exported_at", "source", "scope"];

/// At most this many field problems are listed in one `400 validation_error`.
const MAX_ERRORS: usize = 1000;

// ----- export ----------------------------------------------------------------------------------

fn export(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let include_activity = ctx.query.bool("include_activity", true)?;
    let refs: Option<Vec<Ref>> = match ctx.query.get("project_id") {
        None => None,
        Some(raw) => Some(
            raw.split(',')
                .map(str::trim)
                .map(|s| parse_project_ref(s).ok_or_else(|| ApiError::invalid_id("project_id", s)))
                .collect::<ApiResult<Vec<Ref>>>()?,
        ),
    };
    let org = ctx.query_org()?;
    caller.require_scope(false)?;
    caller.require_unrestricted()?;
    caller.require_role(OrgRole::Admin)?;
    // Unknown references match nothing, as in every query filter.
    let scope: Option<Vec<Uuid>> = refs.map(|refs| {
        let mut ids: Vec<Uuid> = Vec::new();
        for id in refs.iter().filter_map(|r| ctx.store.find_project(org, r)).map(|p| p.id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    });
    let bundle = export_bundle(ctx.store, org, scope.as_deref(), include_activity);
    let slug = ctx.store.orgs.get(&org).map(|o| o.slug.clone()).unwrap_or_default();
    let filename = format!("alloy-export-{slug}-{}.json", ctx.store.today());
    Ok(Reply::ok(bundle).header("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
}

/// Sorts rows by `created_at`, ties by id.
fn by_created<T>(rows: &mut [&T], key: impl Fn(&T) -> (Ts, Uuid)) {
    rows.sort_by_key(|r| key(r));
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Builds the ExportBundle of `org`, whole (`scope` `None`) or for some projects.
pub fn export_bundle(store: &Store, org: Uuid, scope: Option<&[Uuid]>, include_activity: bool) -> Value {
    let whole = scope.is_none();
    let mut projects: Vec<&Project> = store
        .projects
        .values()
        .filter(|p| p.org_id == org && scope.is_none_or(|s| s.contains(&p.id)))
        .collect();
    by_created(&mut projects, |p| (p.created_at, p.id));
    let pids: HashSet<Uuid> = projects.iter().map(|p| p.id).collect();
    let mut workflows: Vec<&Workflow> = store
        .workflows
        .values()
        .filter(|w| w.org_id == org && (whole || projects.iter().any(|p| p.workflow_id == w.id)))
        .collect();
    by_created(&mut workflows, |w| (w.created_at, w.id));
    let mut teams: Vec<&Team> = store.teams.values().filter(|t| whole && t.org_id == org).collect();
    by_created(&mut teams, |t| (t.created_at, t.id));
    let mut rates: Vec<&LaborRate> = store
        .labor_rates
        .values()
        .filter(|r| whole && r.org_id == org)
        .collect();
    by_created(&mut rates, |r| (r.created_at, r.id));
    let mut project_members: Vec<&ProjectMember> = store
        .project_members
        .values()
        .filter(|m| pids.contains(&m.project_id))
        .collect();
    project_members.sort_by_key(|m| (m.added_at, m.project_id, m.user_id));
    let mut labels: Vec<&Label> = store.labels.values().filter(|l| pids.contains(&l.project_id)).collect();
    by_created(&mut labels, |l| (l.created_at, l.id));
    let mut sprints: Vec<&Sprint> = store
        .sprints
        .values()
        .filter(|s| pids.contains(&s.project_id))
        .collect();
    by_created(&mut sprints, |s| (s.created_at, s.id));
    let mut tickets: Vec<&Ticket> = store
        .tickets
        .values()
        .filter(|t| pids.contains(&t.project_id))
        .collect();
    by_created(&mut tickets, |t| (t.created_at, t.id));
    let tids: HashSet<Uuid> = tickets.iter().map(|t| t.id).collect();
    let mut comments: Vec<&Comment> = store
        .comments
        .values()
        .filter(|c| tids.contains(&c.ticket_id))
        .collect();
    by_created(&mut comments, |c| (c.created_at, c.id));
    let mut activity: Vec<&Activity> = store
        .activity
        .values()
        .filter(|a| include_activity && tids.contains(&a.ticket_id))
        .collect();
    by_created(&mut activity, |a| (a.created_at, a.id));
    let mut entries: Vec<&TimeEntry> = store
        .time_entries
        .values()
        .filter(|e| e.org_id == org && pids.contains(&e.project_id))
        .collect();
    by_created(&mut entries, |e| (e.created_at, e.id));

    // Every user referenced anywhere in the bundle (and, for a whole org, every member).
    let mut uids: BTreeSet<Uuid> = BTreeSet::new();
    if whole {
        uids.extend(
            store
                .memberships
                .values()
                .filter(|m| m.org_id == org)
                .map(|m| m.user_id),
        );
    }
    uids.extend(workflows.iter().filter_map(|w| w.created_by));
    for t in &teams {
        uids.insert(t.created_by);
        uids.extend(t.member_ids.iter().copied());
    }
    uids.extend(rates.iter().flat_map(|r| [r.user_id, r.created_by]));
    uids.extend(projects.iter().map(|p| p.created_by));
    uids.extend(project_members.iter().flat_map(|m| [m.user_id, m.added_by]));
    uids.extend(labels.iter().map(|l| l.created_by));
    uids.extend(sprints.iter().map(|s| s.created_by));
    for t in &tickets {
        uids.extend([t.reporter_id, t.created_by]);
        uids.extend(t.assignee_id);
    }
    uids.extend(comments.iter().map(|c| c.author_id));
    for a in &activity {
        uids.insert(a.actor_id);
        if a.action == ActivityAction::Assigned {
            for v in [&a.old_value, &a.new_value].into_iter().flatten() {
                uids.extend(v.as_str().and_then(parse_uuid));
            }
        }
    }
    for e in &entries {
        uids.insert(e.user_id);
        uids.extend(e.approved_by);
        uids.extend(e.rejected_by);
    }
    let mut users: Vec<&User> = uids.iter().filter_map(|id| store.users.get(id)).collect();
    users.sort_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));
    let mut members: Vec<&Membership> = store
        .memberships
        .values()
        .filter(|m| m.org_id == org && uids.contains(&m.user_id))
        .collect();
    members.sort_by_key(|m| (m.joined_at, m.user_id));

    let o = store.orgs.get(&org);
    json!({
        "format": "alloy-export",
        "version": 1,
        "exported_at": store.now(),
        "source": {
            "org_id": org,
            "org_name": o.map(|o| o.name.clone()),
            "org_slug": o.map(|o| o.slug.clone()),
            "service_version": env!("CARGO_PKG_VERSION"),
        },
        "scope": {"project_ids": scope, "include_activity": include_activity},
        "users": users.iter().map(|u| json!({"id": u.id, "email": u.email, "display_name": u.display_name})).collect::<Vec<_>>(),
        "members": members.iter().map(|m| json!({"user_id": m.user_id, "role": m.role, "joined_at": m.joined_at})).collect::<Vec<_>>(),
        "teams": teams.iter().map(to_json).collect::<Vec<_>>(),
        "workflows": workflows.iter().map(|w| store.workflow_json(w)).collect::<Vec<_>>(),
        "labor_rates": rates.iter().map(|r| store.labor_rate_json(r)).collect::<Vec<_>>(),
        "projects": projects.iter().map(to_json).collect::<Vec<_>>(),
        "project_members": project_members.iter().map(to_json).collect::<Vec<_>>(),
        "labels": labels.iter().map(|l| store.label_json(l)).collect::<Vec<_>>(),
        "sprints": sprints.iter().map(|s| sprint_json(s)).collect::<Vec<_>>(),
        "tickets": tickets.iter().map(|t| store.ticket_json(t)).collect::<Vec<_>>(),
        "comments": comments.iter().map(to_json).collect::<Vec<_>>(),
        "activity": activity.iter().map(to_json).collect::<Vec<_>>(),
        "time_entries": entries.iter().map(to_json).collect::<Vec<_>>(),
    })
}

/// A sprint with its stored burndown (`null` unless Completed).
fn sprint_json(s: &Sprint) -> Value {
    let mut v = to_json(s);
    let burndown = if s.status == SprintStatus::Completed {
        s.frozen_burndown.clone()
    } else {
        None
    };
    if let Some(m) = v.as_object_mut() {
        m.insert("burndown".into(), burndown.unwrap_or(Value::Null));
    }
    v
}

// ----- import ----------------------------------------------------------------------------------

/// What to do with a bundle row whose id already exists in the target org (`on_conflict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnConflict {
    Skip,
    Overwrite,
    Fail,
}

impl OnConflict {
    fn parse(s: &str) -> Option<OnConflict> {
        match s {
            "skip" => Some(OnConflict::Skip),
            "overwrite" => Some(OnConflict::Overwrite),
            "fail" => Some(OnConflict::Fail),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            OnConflict::Skip => "skip",
            OnConflict::Overwrite => "overwrite",
            OnConflict::Fail => "fail",
        }
    }
}

fn import(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let mode = match ctx.query.get("on_conflict") {
        None => OnConflict::Skip,
        Some(s) => OnConflict::parse(s).ok_or_else(|| {
            ApiError::invalid_query(
                "on_conflict",
                format!("on_conflict must be skip, overwrite or fail, got {s:?}"),
            )
        })?,
    };
    let dry_run = ctx.query.bool("dry_run", false)?;
    let doc = match ctx.body.take() {
        Some(Value::Object(m)) => m,
        None => Map::new(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "malformed_json",
                "body",
                "the import body must be an ExportBundle object",
            ));
        }
    };
    let org = ctx.query_org()?;
    caller.require_scope(true)?;
    caller.require_unrestricted()?;
    caller.require_role(OrgRole::Admin)?;

    let mark = ctx.store.id_mark();
    let mut plan = Import::new(ctx.store, org, caller.user_id, mode, &doc);
    plan.run(&doc);
    let Import {
        errors,
        conflicts,
        mut warnings,
        counts,
        remaps,
        writes,
        counters,
        unmapped,
        effects,
        ..
    } = plan;
    warnings.extend(effects.warnings());
    if !errors.is_empty() {
        ctx.store.rewind_ids(mark);
        return Err(ApiError::validation(errors));
    }
    if !conflicts.is_empty() && !dry_run {
        ctx.store.rewind_ids(mark);
        return Err(ApiError::conflict(
            "import_conflicts",
            format!(
                "the bundle clashes with data in the target org in {} places; nothing was imported",
                conflicts.len()
            ),
        )
        .with("conflicts", Value::Array(conflicts)));
    }
    if dry_run {
        ctx.store.rewind_ids(mark);
    } else {
        writes.apply(ctx.store, &counters);
    }
    let mut unmapped: Vec<Value> = unmapped.into_values().collect();
    unmapped.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    let counts: Map<String, Value> = ARRAYS
        .iter()
        .map(|a| {
            let c = counts.get(a).copied().unwrap_or_default();
            (
                a.to_string(),
                json!({"created": c.created, "updated": c.updated, "skipped": c.skipped}),
            )
        })
        .collect();
    let remaps: Map<String, Value> = remaps.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    Ok(Reply::ok(json!({
        "dry_run": dry_run,
        "on_conflict": mode.as_str(),
        "org_id": org,
        "counts": counts,
        "id_remaps": remaps,
        "unmapped_users": unmapped,
        "conflicts": conflicts,
        "warnings": warnings,
    })))
}

/// Per-entity outcome counts.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    created: u64,
    updated: u64,
    skipped: u64,
}

/// What the user rules did to the rows an import writes.
#[derive(Clone, Debug, Default)]
struct Effects {
    /// References to unmapped users now naming the importing user.
    reattributed: u64,
    /// Tickets whose assignee was an unmapped user.
    assignees_cleared: u64,
    /// Assignment-history values that named an unmapped user.
    history_cleared: u64,
    /// Rows of an unmapped user left out, per kind.
    left_out: BTreeMap<&'static str, u64>,
}

impl Effects {
    fn merge(&mut self, o: Effects) {
        self.reattributed += o.reattributed;
        self.assignees_cleared += o.assignees_cleared;
        self.history_cleared += o.history_cleared;
        for (k, n) in o.left_out {
            *self.left_out.entry(k).or_default() += n;
        }
    }

    /// One sentence per kind of effect (bounded, whatever the bundle's size).
    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.reattributed > 0 {
            out.push(format!(
                "{} references to people who are not members of this org (reporters, creators, comment authors, \
                 activity actors, approvers) now name the importing user",
                self.reattributed
            ));
        }
        if self.assignees_cleared > 0 {
            out.push(format!(
                "{} tickets were assigned to people who are not members of this org and are now unassigned",
                self.assignees_cleared
            ));
        }
        if self.history_cleared > 0 {
            out.push(format!(
                "{} assignment-history entries named people who are not members of this org; those values are empty",
                self.history_cleared
            ));
        }
        if !self.left_out.is_empty() {
            let parts: Vec<String> = self.left_out.iter().map(|(k, n)| format!("{n} {k}")).collect();
            out.push(format!(
                "left out because their person is not a member of this org: {}",
                parts.join(", ")
            ));
        }
        out
    }
}

/// Who a user reference in a bundle names in the target org.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// A member of the target org.
    Member(Uuid),
    /// A bundle user who is not a member of the target org (or a broken reference, reported).
    Unmapped,
}

/// Where a bundle row lands.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// A new row with this id (the bundle's, or a fresh one when the bundle's is taken).
    New(Uuid),
    /// The target org already has a row of this kind with the same id.
    Same(Uuid),
}

impl Place {
    fn id(self) -> Uuid {
        match self {
            Place::New(id) | Place::Same(id) => id,
        }
    }
}

/// What happens to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Create,
    Overwrite,
    Skip,
}

/// The rows an import writes (new rows and overwrites), applied together at the end. Users and
/// memberships are never among them.
#[derive(Default)]
struct Writes {
    teams: Vec<Team>,
    workflows: Vec<Workflow>,
    labor_rates: Vec<LaborRate>,
    projects: Vec<Project>,
    project_members: Vec<ProjectMember>,
    labels: Vec<Label>,
    sprints: Vec<Sprint>,
    tickets: Vec<Ticket>,
    comments: Vec<Comment>,
    activity: Vec<Activity>,
    time_entries: Vec<TimeEntry>,
}

impl Writes {
    /// Writes every planned row and raises ticket counters; cannot fail.
    fn apply(self, store: &mut Store, counters: &HashMap<Uuid, i64>) {
        let mut ids: Vec<Uuid> = Vec::new();
        put(&mut ids, &mut store.teams, self.teams, |t| t.id);
        put(&mut ids, &mut store.workflows, self.workflows, |w| w.id);
        put(&mut ids, &mut store.labor_rates, self.labor_rates, |r| r.id);
        put(&mut ids, &mut store.projects, self.projects, |p| p.id);
        for (project, n) in counters {
            if let Some(p) = store.projects.get_mut(project) {
                p.ticket_counter = p.ticket_counter.max(*n);
            }
        }
        for m in self.project_members {
            store.project_members.insert((m.project_id, m.user_id), m);
        }
        put(&mut ids, &mut store.labels, self.labels, |l| l.id);
        put(&mut ids, &mut store.sprints, self.sprints, |s| s.id);
        put(&mut ids, &mut store.tickets, self.tickets, |t| t.id);
        put(&mut ids, &mut store.comments, self.comments, |c| c.id);
        put(&mut ids, &mut store.activity, self.activity, |a| a.id);
        put(&mut ids, &mut store.time_entries, self.time_entries, |e| e.id);
        // Imported ids may lie ahead of the deterministic counter: later ids must not reuse them.
        for id in ids {
            store.reserve_id(id);
        }
    }
}

/// Inserts `rows` into `table` by id and notes their ids in `ids`.
fn put<T>(ids: &mut Vec<Uuid>, table: &mut BTreeMap<Uuid, T>, rows: Vec<T>, id: impl Fn(&T) -> Uuid) {
    for row in rows {
        ids.push(id(&row));
        table.insert(id(&row), row);
    }
}

/// A user row of a bundle.
#[derive(Deserialize)]
struct BundleUser {
    id: Uuid,
    email: String,
    display_name: String,
}

/// A member row of a bundle (read to check its reference; memberships are never imported).
#[derive(Deserialize)]
struct BundleMember {
    user_id: Uuid,
    #[allow(dead_code)] // Part of the row's shape: a row without it is malformed.
    role: OrgRole,
    #[allow(dead_code)]
    joined_at: Ts,
}

/// The plan of one import: decisions, problems and the rows to write.
struct Import<'a> {
    store: &'a mut Store,
    org: Uuid,
    /// The importing user: references to unmapped users name them instead.
    caller: Uuid,
    mode: OnConflict,
    /// Every id in the installation plus every id claimed by this import.
    taken: HashSet<Uuid>,
    /// Every id the bundle carries: fresh ids avoid them, so bundle ids stay when they can.
    bundle_ids: HashSet<Uuid>,
    /// Final id of every bundle row, per array.
    ids: HashMap<&'static str, HashMap<Uuid, Uuid>>,
    remaps: BTreeMap<Uuid, Uuid>,
    errors: BTreeMap<String, Problem>,
    conflicts: Vec<Value>,
    warnings: Vec<String>,
    counts: HashMap<&'static str, Counts>,
    writes: Writes,
    /// Highest imported ticket number per (final) project id.
    counters: HashMap<Uuid, i64>,
    /// Bundle users who are not members of the target org, by bundle id, as reported.
    unmapped: BTreeMap<Uuid, Value>,
    /// Effects of the row being planned; kept only if the row is written.
    row: Effects,
    /// Effects of every row written.
    effects: Effects,
}

/// Every id present in the store, whatever its table.
fn all_ids(s: &Store) -> HashSet<Uuid> {
    let mut ids: HashSet<Uuid> = HashSet::new();
    ids.extend(s.orgs.keys());
    ids.extend(s.users.keys());
    ids.extend(s.invites.keys());
    ids.extend(s.api_keys.keys());
    ids.extend(s.teams.keys());
    ids.extend(s.workflows.keys());
    ids.extend(s.labor_rates.keys());
    ids.extend(s.projects.keys());
    ids.extend(s.labels.keys());
    ids.extend(s.tickets.keys());
    ids.extend(s.comments.keys());
    ids.extend(s.activity.keys());
    ids.extend(s.sprints.keys());
    ids.extend(s.time_entries.keys());
    ids
}

impl<'a> Import<'a> {
    fn new(store: &'a mut Store, org: Uuid, caller: Uuid, mode: OnConflict, doc: &Map<String, Value>) -> Import<'a> {
        let taken = all_ids(store);
        let mut bundle_ids = HashSet::new();
        for name in ARRAYS {
            for row in doc.get(name).and_then(Value::as_array).into_iter().flatten() {
                bundle_ids.extend(row.get("id").and_then(Value::as_str).and_then(parse_uuid));
            }
        }
        Import {
            store,
            org,
            caller,
            mode,
            taken,
            bundle_ids,
            ids: ARRAYS.iter().map(|a| (*a, HashMap::new())).collect(),
            remaps: BTreeMap::new(),
            errors: BTreeMap::new(),
            conflicts: Vec::new(),
            warnings: Vec::new(),
            counts: HashMap::new(),
            writes: Writes::default(),
            counters: HashMap::new(),
            unmapped: BTreeMap::new(),
            row: Effects::default(),
            effects: Effects::default(),
        }
    }

    fn run(&mut self, doc: &Map<String, Value>) {
        match doc.get("format") {
            None => self.error("format", Problem::Required),
            Some(v) if v.as_str() == Some("alloy-export") => {}
            Some(_) => self.error("format", Problem::InvalidFormat),
        }
        match doc.get("version") {
            None => self.error("version", Problem::Required),
            Some(v) if v.as_i64() == Some(1) => {}
            Some(v) if v.is_number() => self.error("version", Problem::OutOfRange),
            Some(_) => self.error("version", Problem::InvalidFormat),
        }
        for k in doc.keys() {
            if !ARRAYS.contains(&k.as_str()) && !HEADER_KEYS.contains(&k.as_str()) {
                self.error(k.clone(), Problem::UnknownField);
            }
        }
        self.users(doc);
        self.members(doc);
        self.teams(doc);
        self.workflows(doc);
        self.labor_rates(doc);
        self.projects(doc);
        self.project_members(doc);
        self.labels(doc);
        self.sprints(doc);
        self.tickets(doc);
        self.comments(doc);
        self.activity(doc);
        self.time_entries(doc);
    }

    // ----- bookkeeping ---------------------------------------------------------------------

    fn error(&mut self, path: impl Into<String>, problem: Problem) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.entry(path.into()).or_insert(problem);
        }
    }

    fn count(&mut self, array: &'static str, action: Action) {
        let c = self.counts.entry(array).or_default();
        match action {
            Action::Create => c.created += 1,
            Action::Overwrite => c.updated += 1,
            Action::Skip => c.skipped += 1,
        }
    }

    fn conflict(&mut self, entity: &str, id: Uuid, field: &str, value: Value) {
        self.conflicts
            .push(json!({"entity": entity, "id": id, "field": field, "value": value}));
    }

    /// The rows of one array, parsed; a row that does not parse is reported by path and left out.
    fn rows<T: DeserializeOwned>(&mut self, doc: &Map<String, Value>, name: &'static str) -> Vec<(String, T, Value)> {
        let Some(v) = doc.get(name) else { return Vec::new() };
        let Some(arr) = v.as_array() else {
            self.error(name, Problem::InvalidFormat);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, row) in arr.iter().enumerate() {
            let path = format!("{name}[{i}]");
            match serde_json::from_value::<T>(row.clone()) {
                Ok(t) => out.push((path, t, row.clone())),
                Err(e) => {
                    let msg = e.to_string();
                    match msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
                        Some(field) => self.error(format!("{path}.{field}"), Problem::Required),
                        None => self.error(path, Problem::InvalidFormat),
                    }
                }
            }
        }
        out
    }

    /// A fresh id that clashes with nothing in the store or the bundle.
    fn fresh(&mut self) -> Uuid {
        loop {
            let id = self.store.new_id();
            if !self.bundle_ids.contains(&id) && self.taken.insert(id) {
                return id;
            }
        }
    }

    /// Whether the target org holds a row of `array` with this id.
    fn in_target(&self, array: &str, id: Uuid) -> bool {
        let (s, org) = (&*self.store, self.org);
        match array {
            "teams" => s.teams.get(&id).is_some_and(|r| r.org_id == org),
            "workflows" => s.workflows.get(&id).is_some_and(|r| r.org_id == org),
            "labor_rates" => s.labor_rates.get(&id).is_some_and(|r| r.org_id == org),
            "projects" => s.projects.get(&id).is_some_and(|r| r.org_id == org),
            "labels" => s.labels.get(&id).is_some_and(|r| r.org_id == org),
            "sprints" => s.sprints.get(&id).is_some_and(|r| r.org_id == org),
            "tickets" => s.tickets.get(&id).is_some_and(|r| r.org_id == org),
            "comments" => s.comments.get(&id).is_some_and(|r| r.org_id == org),
            "activity" => s.activity.get(&id).is_some_and(|r| r.org_id == org),
            "time_entries" => s.time_entries.get(&id).is_some_and(|r| r.org_id == org),
            _ => false,
        }
    }

    /// Decides where a row with a bundle id lands; `None` (and an error) for a repeated id.
    fn place(&mut self, array: &'static str, id: Uuid, path: &str) -> Option<Place> {
        self.row = Effects::default();
        if self.ids.get(array).is_some_and(|m| m.contains_key(&id)) {
            self.error(format!("{path}.id"), Problem::DuplicateItem);
            return None;
        }
        let place = if self.in_target(array, id) {
            Place::Same(id)
        } else if self.taken.contains(&id) {
            // The id belongs to another org (or another kind of row): the row gets a new one.
            let new = self.fresh();
            self.remaps.insert(id, new);
            Place::New(new)
        } else {
            self.taken.insert(id);
            Place::New(id)
        };
        self.ids.entry(array).or_default().insert(id, place.id());
        Some(place)
    }

    /// Applies `on_conflict` to a placed row and counts the outcome.
    fn decide(&mut self, array: &'static str, place: Place, bundle_id: Uuid) -> Action {
        let action = match (place, self.mode) {
            (Place::New(_), _) => Action::Create,
            (Place::Same(_), OnConflict::Skip) => Action::Skip,
            (Place::Same(_), OnConflict::Overwrite) => Action::Overwrite,
            (Place::Same(_), OnConflict::Fail) => {
                self.conflict(array, bundle_id, "id", json!(bundle_id));
                Action::Skip
            }
        };
        self.count(array, action);
        let row = std::mem::take(&mut self.row);
        if action != Action::Skip {
            self.effects.merge(row);
        }
        action
    }

    /// The final id of a reference to a row of `array`: a bundle row or a row of the target org.
    fn resolve(&mut self, array: &'static str, id: Uuid, path: String) -> Uuid {
        if let Some(f) = self.ids.get(array).and_then(|m| m.get(&id)) {
            return *f;
        }
        if !self.in_target(array, id) {
            self.error(path, Problem::InvalidFormat);
        }
        id
    }

    /// Who a user reference names: a mapped bundle user or a member of the target org, or an
    /// unmapped bundle user. Anything else is a broken reference (400).
    fn who(&mut self, id: Uuid, path: String) -> Who {
        if let Some(f) = self.ids.get("users").and_then(|m| m.get(&id)) {
            return Who::Member(*f);
        }
        if self.unmapped.contains_key(&id) {
            return Who::Unmapped;
        }
        if !self.store.is_member(self.org, id) {
            self.error(path, Problem::InvalidFormat);
            return Who::Unmapped;
        }
        Who::Member(id)
    }

    /// A user who did something (reporter, creator, author, actor, approver): an unmapped one
    /// becomes the importing user.
    fn actor(&mut self, id: Uuid, path: String) -> Uuid {
        match self.who(id, path) {
            Who::Member(u) => u,
            Who::Unmapped => {
                self.row.reattributed += 1;
                self.caller
            }
        }
    }

    fn actor_opt(&mut self, id: Option<Uuid>, path: String) -> Option<Uuid> {
        id.map(|id| self.actor(id, path))
    }

    /// A ticket's assignee: an unmapped one is cleared.
    fn assignee(&mut self, id: Option<Uuid>, path: String) -> Option<Uuid> {
        match self.who(id?, path) {
            Who::Member(u) => Some(u),
            Who::Unmapped => {
                self.row.assignees_cleared += 1;
                None
            }
        }
    }

    /// The owner of a row (a rate's, an entry's or a membership's user): `None` when they are
    /// unmapped, and the row is then left out and counted.
    fn owner(&mut self, array: &'static str, id: Uuid, path: String) -> Option<Uuid> {
        match self.who(id, path) {
            Who::Member(u) => Some(u),
            Who::Unmapped => {
                self.count(array, Action::Skip);
                *self.effects.left_out.entry(array).or_default() += 1;
                None
            }
        }
    }

    /// Records a natural-key clash when `key` already names another row in `seen`.
    fn natural_key(
        &mut self,
        seen: &mut HashMap<String, Uuid>,
        array: &str,
        bundle_id: Uuid,
        final_id: Uuid,
        (field, key, value): (&str, String, Value),
    ) {
        match seen.get(&key) {
            Some(other) if *other != final_id => self.conflict(array, bundle_id, field, value),
            _ => {
                seen.insert(key, final_id);
            }
        }
    }

    // ----- entities, in bundle order --------------------------------------------------------

    /// Maps each bundle user, by email, to a member of the target org; the others are unmapped.
    /// Users are never created: every row counts as skipped.
    fn users(&mut self, doc: &Map<String, Value>) {
        let members: HashMap<String, Uuid> = self
            .store
            .users
            .values()
            .filter(|u| self.store.is_member(self.org, u.id))
            .map(|u| (u.email.clone(), u.id))
            .collect();
        let mut emails: HashSet<String> = HashSet::new();
        for (path, u, _) in self.rows::<BundleUser>(doc, "users") {
            let email = u.email.trim().to_lowercase();
            let parts: Vec<&str> = email.split('@').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) || email.chars().count() > 254 {
                self.error(format!("{path}.email"), Problem::InvalidFormat);
                continue;
            }
            if !emails.insert(email.clone()) {
                self.error(format!("{path}.email"), Problem::DuplicateItem);
                continue;
            }
            if self.ids.get("users").is_some_and(|m| m.contains_key(&u.id)) || self.unmapped.contains_key(&u.id) {
                self.error(format!("{path}.id"), Problem::DuplicateItem);
                continue;
            }
            self.count("users", Action::Skip);
            match members.get(&email) {
                Some(&id) => {
                    if id != u.id {
                        self.remaps.insert(u.id, id);
                    }
                    self.ids.entry("users").or_default().insert(u.id, id);
                }
                None => {
                    let display_name = u.display_name.trim().to_string();
                    self.unmapped
                        .insert(u.id, json!({"id": u.id, "email": email, "display_name": display_name}));
                }
            }
        }
    }

    /// Checks every member row's reference; memberships are never created or changed.
    fn members(&mut self, doc: &Map<String, Value>) {
        if !self.unmapped.is_empty() {
            self.warnings.push(format!(
                "{} people of the bundle are not members of this org (see unmapped_users) and were not added; \
                 to keep their assignments, time and rates, invite them before importing",
                self.unmapped.len()
            ));
        }
        for (path, m, _) in self.rows::<BundleMember>(doc, "members") {
            self.who(m.user_id, format!("{path}.user_id"));
            self.count("members", Action::Skip);
        }
    }

    fn teams(&mut self, doc: &Map<String, Value>) {
        let mut names: HashMap<String, Uuid> = self
            .store
            .teams
            .values()
            .filter(|t| t.org_id == self.org)
            .map(|t| (t.name.to_lowercase(), t.id))
            .collect();
        for (path, t, _) in self.rows::<Team>(doc, "teams") {
            let Some(place) = self.place("teams", t.id, &path) else {
                continue;
            };
            let mut member_ids: Vec<Uuid> = Vec::new();
            for (i, u) in t.member_ids.iter().enumerate() {
                match self.who(*u, format!("{path}.member_ids[{i}]")) {
                    Who::Member(u) => member_ids.push(u),
                    Who::Unmapped => *self.row.left_out.entry("team memberships").or_default() += 1,
                }
            }
            member_ids.sort();
            member_ids.dedup();
            let created_by = self.actor(t.created_by, format!("{path}.created_by"));
            if self.decide("teams", place, t.id) == Action::Skip {
                continue;
            }
            let nk = ("name", t.name.to_lowercase(), json!(t.name));
            self.natural_key(&mut names, "teams", t.id, place.id(), nk);
            self.writes.teams.push(Team {
                id: place.id(),
                org_id: self.org,
                member_ids,
                created_by,
                ..t
            });
        }
    }

    fn workflows(&mut self, doc: &Map<String, Value>) {
        let mut names: HashMap<String, Uuid> = self
            .store
            .workflows
            .values()
            .filter(|w| w.org_id == self.org)
            .map(|w| (w.name.to_lowercase(), w.id))
            .collect();
        let default = self.store.default_workflow(self.org).map(|w| w.id);
        for (path, w, _) in self.rows::<Workflow>(doc, "workflows") {
            if w.is_default
                && let Some(default) = default
            {
                // The bundle's Default maps onto the target's Default, which is never replaced.
                if self.ids.get("workflows").is_some_and(|m| m.contains_key(&w.id)) {
                    self.error(format!("{path}.id"), Problem::DuplicateItem);
                    continue;
                }
                self.ids.entry("workflows").or_default().insert(w.id, default);
                if w.id != default {
                    self.remaps.insert(w.id, default);
                }
                self.count("workflows", Action::Skip);
                continue;
            }
            let Some(place) = self.place("workflows", w.id, &path) else {
                continue;
            };
            let created_by = self.actor_opt(w.created_by, format!("{path}.created_by"));
            if Some(place.id()) == default {
                self.count("workflows", Action::Skip);
                continue;
            }
            if self.decide("workflows", place, w.id) == Action::Skip {
                continue;
            }
            let nk = ("name", w.name.to_lowercase(), json!(w.name));
            self.natural_key(&mut names, "workflows", w.id, place.id(), nk);
            self.writes.workflows.push(Workflow {
                id: place.id(),
                org_id: self.org,
                is_default: false,
                project_count: 0,
                created_by,
                ..w
            });
        }
    }

    fn labor_rates(&mut self, doc: &Map<String, Value>) {
        let mut keys: HashMap<String, Uuid> = self
            .store
            .labor_rates
            .values()
            .filter(|r| r.org_id == self.org)
            .map(|r| (format!("{}/{}", r.user_id, r.effective_from), r.id))
            .collect();
        for (path, r, _) in self.rows::<LaborRate>(doc, "labor_rates") {
            let Some(user_id) = self.owner("labor_rates", r.user_id, format!("{path}.user_id")) else {
                continue;
            };
            let Some(place) = self.place("labor_rates", r.id, &path) else {
                continue;
            };
            let created_by = self.actor(r.created_by, format!("{path}.created_by"));
            if self.decide("labor_rates", place, r.id) == Action::Skip {
                continue;
            }
            let nk = (
                "effective_from",
                format!("{user_id}/{}", r.effective_from),
                json!(r.effective_from),
            );
            self.natural_key(&mut keys, "labor_rates", r.id, place.id(), nk);
            self.writes.labor_rates.push(LaborRate {
                id: place.id(),
                org_id: self.org,
                user_id,
                created_by,
                effective_to: None,
                ..r
            });
        }
    }

    fn projects(&mut self, doc: &Map<String, Value>) {
        let mut keys: HashMap<String, Uuid> = self
            .store
            .projects
            .values()
            .filter(|p| p.org_id == self.org)
            .map(|p| (p.key.clone(), p.id))
            .collect();
        for (path, p, _) in self.rows::<Project>(doc, "projects") {
            let Some(Ref::ProjectKey(key)) = parse_project_ref(&p.key) else {
                self.error(format!("{path}.key"), Problem::InvalidFormat);
                continue;
            };
            let Some(place) = self.place("projects", p.id, &path) else {
                continue;
            };
            let workflow_id = self.resolve("workflows", p.workflow_id, format!("{path}.workflow_id"));
            let created_by = self.actor(p.created_by, format!("{path}.created_by"));
            let action = self.decide("projects", place, p.id);
            if action == Action::Skip {
                continue;
            }
            // The key is immutable: an overwrite keeps the target's, and the counter never drops.
            let (key, counter) = match self
                .store
                .projects
                .get(&place.id())
                .filter(|_| action == Action::Overwrite)
            {
                Some(t) => (t.key.clone(), t.ticket_counter.max(p.ticket_counter)),
                None => (key, p.ticket_counter),
            };
            let nk = ("key", key.clone(), json!(key));
            self.natural_key(&mut keys, "projects", p.id, place.id(), nk);
            self.writes.projects.push(Project {
                id: place.id(),
                org_id: self.org,
                key,
                workflow_id,
                ticket_counter: counter,
                created_by,
                ..p
            });
        }
    }

    fn project_members(&mut self, doc: &Map<String, Value>) {
        let mut planned: HashSet<(Uuid, Uuid)> = HashSet::new();
        for (path, m, _) in self.rows::<ProjectMember>(doc, "project_members") {
            let project_id = self.resolve("projects", m.project_id, format!("{path}.project_id"));
            let Some(user_id) = self.owner("project_members", m.user_id, format!("{path}.user_id")) else {
                continue;
            };
            self.row = Effects::default();
            let added_by = self.actor(m.added_by, format!("{path}.added_by"));
            let key = (project_id, user_id);
            if self.store.project_members.contains_key(&key) || !planned.insert(key) {
                self.count("project_members", Action::Skip);
                continue;
            }
            self.count("project_members", Action::Create);
            let row = std::mem::take(&mut self.row);
            self.effects.merge(row);
            self.writes.project_members.push(ProjectMember {
                project_id,
                user_id,
                added_by,
                added_at: m.added_at,
            });
        }
    }

    /// The parent id an overwritten row keeps: the target row's, else the bundle's (resolved).
    fn parent(&self, action: Action, target: Option<Uuid>, resolved: Uuid) -> Uuid {
        if action == Action::Overwrite {
            target.unwrap_or(resolved)
        } else {
            resolved
        }
    }

    fn labels(&mut self, doc: &Map<String, Value>) {
        let mut names: HashMap<String, Uuid> = self
            .store
            .labels
            .values()
            .filter(|l| l.org_id == self.org)
            .map(|l| (format!("{}/{}", l.project_id, l.name.to_lowercase()), l.id))
            .collect();
        for (path, l, _) in self.rows::<Label>(doc, "labels") {
            let Some(place) = self.place("labels", l.id, &path) else {
                continue;
            };
            let project = self.resolve("projects", l.project_id, format!("{path}.project_id"));
            let created_by = self.actor(l.created_by, format!("{path}.created_by"));
            let action = self.decide("labels", place, l.id);
            if action == Action::Skip {
                continue;
            }
            let project_id = self.parent(
                action,
                self.store.labels.get(&place.id()).map(|t| t.project_id),
                project,
            );
            let nk = ("name", format!("{project_id}/{}", l.name.to_lowercase()), json!(l.name));
            self.natural_key(&mut names, "labels", l.id, place.id(), nk);
            self.writes.labels.push(Label {
                id: place.id(),
                org_id: self.org,
                project_id,
                created_by,
                ticket_count: 0,
                ..l
            });
        }
    }

    fn sprints(&mut self, doc: &Map<String, Value>) {
        let mut planned: Vec<(Uuid, Uuid)> = Vec::new();
        for (path, s, raw) in self.rows::<Sprint>(doc, "sprints") {
            let Some(place) = self.place("sprints", s.id, &path) else {
                continue;
            };
            let project = self.resolve("projects", s.project_id, format!("{path}.project_id"));
            let created_by = self.actor(s.created_by, format!("{path}.created_by"));
            let action = self.decide("sprints", place, s.id);
            if action == Action::Skip {
                continue;
            }
            let project_id = self.parent(
                action,
                self.store.sprints.get(&place.id()).map(|t| t.project_id),
                project,
            );
            let mut frozen_burndown = raw.get("burndown").filter(|b| !b.is_null()).cloned();
            // The stored series names its sprint: it follows the sprint's new id.
            if let Some(Value::Object(b)) = &mut frozen_burndown
                && b.get("sprint_id") == Some(&json!(s.id))
            {
                b.insert("sprint_id".into(), json!(place.id()));
            }
            planned.push((s.id, place.id()));
            self.writes.sprints.push(Sprint {
                id: place.id(),
                org_id: self.org,
                project_id,
                created_by,
                frozen_burndown,
                ..s
            });
        }
        // Two Active sprints in one project after the import are a conflict.
        let written: HashSet<Uuid> = self.writes.sprints.iter().map(|s| s.id).collect();
        let mut active: HashMap<Uuid, usize> = HashMap::new();
        let target = self
            .store
            .sprints
            .values()
            .filter(|s| s.org_id == self.org && !written.contains(&s.id));
        for s in target
            .chain(self.writes.sprints.iter())
            .filter(|s| s.status == SprintStatus::Active)
        {
            *active.entry(s.project_id).or_default() += 1;
        }
        let clashes: Vec<Uuid> = self
            .writes
            .sprints
            .iter()
            .filter(|s| s.status == SprintStatus::Active && active.get(&s.project_id).is_some_and(|n| *n > 1))
            .filter_map(|s| planned.iter().find(|(_, f)| *f == s.id).map(|(b, _)| *b))
            .collect();
        for id in clashes {
            self.conflict("sprints", id, "status", json!("Active"));
        }
    }

    fn tickets(&mut self, doc: &Map<String, Value>) {
        let mut numbers: HashMap<String, Uuid> = self
            .store
            .tickets
            .values()
            .filter(|t| t.org_id == self.org)
            .map(|t| (format!("{}/{}", t.project_id, t.ticket_number), t.id))
            .collect();
        for (path, t, raw) in self.rows::<Ticket>(doc, "tickets") {
            if t.ticket_number < 1 {
                self.error(format!("{path}.ticket_number"), Problem::OutOfRange);
                continue;
            }
            let Some(place) = self.place("tickets", t.id, &path) else {
                continue;
            };
            let project = self.resolve("projects", t.project_id, format!("{path}.project_id"));
            let reporter_id = self.actor(t.reporter_id, format!("{path}.reporter_id"));
            let assignee_id = self.assignee(t.assignee_id, format!("{path}.assignee_id"));
            let created_by = self.actor(t.created_by, format!("{path}.created_by"));
            let sprint_id = t
                .sprint_id
                .map(|s| self.resolve("sprints", s, format!("{path}.sprint_id")));
            // Exported tickets carry `labels` (LabelRefs); a hand-written bundle may send `label_ids`.
            let mut label_ids: Vec<Uuid> = Vec::new();
            match raw.get("labels").and_then(Value::as_array) {
                Some(refs) => {
                    for (i, l) in refs.iter().enumerate() {
                        let lpath = format!("{path}.labels[{i}].id");
                        match l.get("id").and_then(Value::as_str).and_then(parse_uuid) {
                            Some(id) => label_ids.push(self.resolve("labels", id, lpath)),
                            None => self.error(lpath, Problem::InvalidFormat),
                        }
                    }
                }
                None => {
                    for (i, id) in t.label_ids.iter().enumerate() {
                        label_ids.push(self.resolve("labels", *id, format!("{path}.label_ids[{i}]")));
                    }
                }
            }
            let action = self.decide("tickets", place, t.id);
            if action == Action::Skip {
                continue;
            }
            let target = self
                .store
                .tickets
                .get(&place.id())
                .filter(|_| action == Action::Overwrite)
                .cloned();
            let project_id = target.as_ref().map(|x| x.project_id).unwrap_or(project);
            let (number, key) = target
                .as_ref()
                .map(|x| (x.ticket_number, x.key.clone()))
                .unwrap_or((t.ticket_number, t.key.clone()));
            let nk = ("ticket_number", format!("{project_id}/{number}"), json!(number));
            self.natural_key(&mut numbers, "tickets", t.id, place.id(), nk);
            let top = self.counters.entry(project_id).or_insert(0);
            *top = (*top).max(number);
            self.writes.tickets.push(Ticket {
                id: place.id(),
                org_id: self.org,
                project_id,
                ticket_number: number,
                key,
                reporter_id,
                assignee_id,
                sprint_id,
                label_ids,
                created_by,
                ..t
            });
        }
    }

    fn comments(&mut self, doc: &Map<String, Value>) {
        for (path, c, _) in self.rows::<Comment>(doc, "comments") {
            let Some(place) = self.place("comments", c.id, &path) else {
                continue;
            };
            let ticket = self.resolve("tickets", c.ticket_id, format!("{path}.ticket_id"));
            let author_id = self.actor(c.author_id, format!("{path}.author_id"));
            let action = self.decide("comments", place, c.id);
            if action == Action::Skip {
                continue;
            }
            let ticket_id = self.parent(
                action,
                self.store.comments.get(&place.id()).map(|t| t.ticket_id),
                ticket,
            );
            self.writes.comments.push(Comment {
                id: place.id(),
                org_id: self.org,
                ticket_id,
                author_id,
                ..c
            });
        }
    }

    /// Rewrites an id held in an activity value (assignee, sprint, label, comment) to its final
    /// id; an assignee who is an unmapped user leaves the value empty.
    fn activity_value(&mut self, action: ActivityAction, v: Option<Value>) -> Option<Value> {
        if action == ActivityAction::Assigned
            && let Some(id) = v.as_ref().and_then(Value::as_str).and_then(parse_uuid)
            && self.unmapped.contains_key(&id)
        {
            self.row.history_cleared += 1;
            return None;
        }
        let array = match action {
            ActivityAction::Assigned => "users",
            ActivityAction::SprintChanged => "sprints",
            ActivityAction::LabelAdded | ActivityAction::LabelRemoved => "labels",
            ActivityAction::Commented => "comments",
            _ => return v,
        };
        v.map(|v| {
            let id = v.as_str().and_then(parse_uuid);
            match id.and_then(|id| self.ids.get(array).and_then(|m| m.get(&id))) {
                Some(f) => json!(f),
                None => v,
            }
        })
    }

    fn activity(&mut self, doc: &Map<String, Value>) {
        for (path, a, _) in self.rows::<Activity>(doc, "activity") {
            let Some(place) = self.place("activity", a.id, &path) else {
                continue;
            };
            let ticket = self.resolve("tickets", a.ticket_id, format!("{path}.ticket_id"));
            let actor_id = self.actor(a.actor_id, format!("{path}.actor_id"));
            let old_value = self.activity_value(a.action, a.old_value.clone());
            let new_value = self.activity_value(a.action, a.new_value.clone());
            let action = self.decide("activity", place, a.id);
            if action == Action::Skip {
                continue;
            }
            let ticket_id = self.parent(
                action,
                self.store.activity.get(&place.id()).map(|t| t.ticket_id),
                ticket,
            );
            self.writes.activity.push(Activity {
                id: place.id(),
                org_id: self.org,
                ticket_id,
                actor_id,
                old_value,
                new_value,
                ..a
            });
        }
    }

    fn time_entries(&mut self, doc: &Map<String, Value>) {
        for (path, e, _) in self.rows::<TimeEntry>(doc, "time_entries") {
            let Some(user_id) = self.owner("time_entries", e.user_id, format!("{path}.user_id")) else {
                continue;
            };
            let Some(place) = self.place("time_entries", e.id, &path) else {
                continue;
            };
            let project = self.resolve("projects", e.project_id, format!("{path}.project_id"));
            let ticket = self.resolve("tickets", e.ticket_id, format!("{path}.ticket_id"));
            let approved_by = self.actor_opt(e.approved_by, format!("{path}.approved_by"));
            let rejected_by = self.actor_opt(e.rejected_by, format!("{path}.rejected_by"));
            let target = self.store.time_entries.get(&place.id()).cloned();
            // Approved time is final: an overwrite never touches it.
            let action = if self.mode == OnConflict::Overwrite
                && matches!(place, Place::Same(_))
                && target.as_ref().is_some_and(|t| t.status == TimeEntryStatus::Approved)
            {
                self.count("time_entries", Action::Skip);
                Action::Skip
            } else {
                self.decide("time_entries", place, e.id)
            };
            if action == Action::Skip {
                continue;
            }
            let (project_id, ticket_id, ticket_key) = match target.filter(|_| action == Action::Overwrite) {
                Some(t) => (t.project_id, t.ticket_id, t.ticket_key),
                None => (project, ticket, e.ticket_key.clone()),
            };
            self.writes.time_entries.push(TimeEntry {
                id: place.id(),
                org_id: self.org,
                project_id,
                ticket_id,
                ticket_key,
                user_id,
                approved_by,
                rejected_by,
                ..e
            });
        }
    }
}
