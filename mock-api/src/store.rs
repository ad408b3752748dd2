//! The state of one mock installation: every table, the id and secret generators, the clock
//! and the lookups that many routes share (reference resolution, workflows, activity, ticket
//! rendering). One `Store` sits behind one mutex; a request holds it for its whole duration,
//! so every request is a transaction (ticket numbers are unique and consecutive by design).

use crate::model::*;
use crate::values::{Clock, Day, Ts};
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// How open self-registration is (`ALLOY_REGISTRATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone may register.
    Open,
    /// Registration needs an invite code.
    InviteOnly,
    /// Registration is closed.
    Disabled,
}

/// A logged-in session bound to one org (the mock's stand-in for a JWT).
#[derive(Clone, Debug)]
pub struct Session {
    /// The user.
    pub user_id: Uuid,
    /// The org the token acts in.
    pub org_id: Uuid,
    /// Expiry instant.
    pub expires_at: Ts,
}

/// Settings of an installation.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Sequential ids and counter secrets.
    pub deterministic: bool,
    /// Authenticated calls per token per 60 s window; `0` = off.
    pub rate_limit_per_minute: u32,
    /// Public auth calls per client per 60 s window; `0` = off.
    pub auth_rate_limit_per_minute: u32,
    /// Registration mode.
    pub registration: RegistrationMode,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deterministic: false,
            rate_limit_per_minute: 0,
            auth_rate_limit_per_minute: 0,
            registration: RegistrationMode::InviteOnly,
        }
    }
}

/// A reference as accepted in paths, queries and bodies (contract §1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ref {
    /// A uuid.
    Id(Uuid),
    /// A project key, upper-cased.
    ProjectKey(String),
    /// A ticket key: upper-cased project key and number.
    TicketKey(String, i64),
}

/// Parses a uuid in the 8-4-4-4-12 hex form (any case), as the contract accepts it.
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, c) in b.iter().enumerate() {
        let dash = matches!(i, 8 | 13 | 18 | 23);
        if dash != (*c == b'-') || (!dash && !c.is_ascii_hexdigit()) {
            return None;
        }
    }
    Uuid::parse_str(s).ok()
}

fn is_project_key(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=10).contains(&b.len()) && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric())
}

/// Parses a project reference (uuid or key).
pub fn parse_project_ref(s: &str) -> Option<Ref> {
    if let Some(id) = parse_uuid(s) {
        return Some(Ref::Id(id));
    }
    is_project_key(s).then(|| Ref::ProjectKey(s.to_ascii_uppercase()))
}

/// Parses a ticket reference (uuid or `KEY-N`, no leading zeros).
pub fn parse_ticket_ref(s: &str) -> Option<Ref> {
    if let Some(id) = parse_uuid(s) {
        return Some(Ref::Id(id));
    }
    let (key, num) = s.rsplit_once('-')?;
    if !is_project_key(key) || num.is_empty() || num.len() > 9 || num.starts_with('0') {
        return None;
    }
    if !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Ref::TicketKey(key.to_ascii_uppercase(), num.parse().ok()?))
}

/// Hex SHA-256 of a raw secret.
pub fn sha256_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A record that belongs to one organization and is addressed in paths by its uuid as
/// `{<KIND>_id}` (`Ctx::path_record` resolves it).
pub trait OrgRecord: Clone {
    /// The resource named by a 404 (`team`, `time_entry`, …).
    const KIND: &'static str;
    /// The path parameter that holds the uuid.
    const PARAM: &'static str;
    /// The organization the record belongs to.
    fn org_id(&self) -> Uuid;
    /// The store's table of these records.
    fn table(store: &Store) -> &BTreeMap<Uuid, Self>;
}

macro_rules! org_records {
    ($($ty:ty: $table:ident, $kind:literal;)*) => {$(
        impl OrgRecord for $ty {
            const KIND: &'static str = $kind;
            const PARAM: &'static str = concat!($kind, "_id");
            fn org_id(&self) -> Uuid {
                self.org_id
            }
            fn table(store: &Store) -> &BTreeMap<Uuid, Self> {
                &store.$table
            }
        }
    )*};
}

org_records! {
    ApiKey: api_keys, "api_key";
    Invite: invites, "invite";
    Team: teams, "team";
    Workflow: workflows, "workflow";
    LaborRate: labor_rates, "labor_rate";
    Label: labels, "label";
    Comment: comments, "comment";
    Sprint: sprints, "sprint";
    TimeEntry: time_entries, "time_entry";
}

/// The records of `table` that `keep` accepts, in key order, cloned.
pub fn filtered<K, T: Clone>(table: &BTreeMap<K, T>, keep: impl Fn(&T) -> bool) -> Vec<T> {
    table.values().filter(|r| keep(r)).cloned().collect()
}

/// A record of one project (its writes are checked against that project).
pub trait ProjectRecord: OrgRecord {
    /// The project the record belongs to.
    fn project_id(&self) -> Uuid;
}

macro_rules! project_records {
    ($($ty:ty),*) => {$(
        impl ProjectRecord for $ty {
            fn project_id(&self) -> Uuid {
                self.project_id
            }
        }
    )*};
}

project_records!(Label, Sprint, TimeEntry);

/// Every table and generator of one installation.
#[derive(Debug)]
pub struct Store {
    /// Installation settings.
    pub settings: Settings,
    /// The clock.
    pub clock: Clock,
    /// When the installation started (for `uptime_seconds`).
    pub started_at: Ts,
    id_counter: u64,
    secret_counter: u64,
    request_counter: u64,
    pub orgs: BTreeMap<Uuid, Organization>,
    pub users: BTreeMap<Uuid, User>,
    /// Keyed by (org, user).
    pub memberships: BTreeMap<(Uuid, Uuid), Membership>,
    pub invites: BTreeMap<Uuid, Invite>,
    pub api_keys: BTreeMap<Uuid, ApiKey>,
    /// Access tokens (opaque stand-ins for JWTs).
    pub sessions: HashMap<String, Session>,
    /// Refresh tokens.
    pub refresh_tokens: HashMap<String, Session>,
    pub teams: BTreeMap<Uuid, Team>,
    pub workflows: BTreeMap<Uuid, Workflow>,
    pub labor_rates: BTreeMap<Uuid, LaborRate>,
    pub projects: BTreeMap<Uuid, Project>,
    /// Keyed by (project, user).
    pub project_members: BTreeMap<(Uuid, Uuid), ProjectMember>,
    pub labels: BTreeMap<Uuid, Label>,
    pub tickets: BTreeMap<Uuid, Ticket>,
    pub comments: BTreeMap<Uuid, Comment>,
    pub activity: BTreeMap<Uuid, Activity>,
    pub sprints: BTreeMap<Uuid, Sprint>,
    pub time_entries: BTreeMap<Uuid, TimeEntry>,
    /// Rate-limit windows: bucket → (window start in unix seconds, count).
    pub rate_windows: HashMap<String, (i64, u32)>,
}

impl Store {
    /// An empty installation.
    pub fn new(settings: Settings, clock: Clock) -> Store {
        let started_at = clock.now();
        Store {
            settings,
            clock,
            started_at,
            id_counter: 0,
            secret_counter: 0,
            request_counter: 0,
            orgs: BTreeMap::new(),
            users: BTreeMap::new(),
            memberships: BTreeMap::new(),
            invites: BTreeMap::new(),
            api_keys: BTreeMap::new(),
            sessions: HashMap::new(),
            refresh_tokens: HashMap::new(),
            teams: BTreeMap::new(),
            workflows: BTreeMap::new(),
            labor_rates: BTreeMap::new(),
            projects: BTreeMap::new(),
            project_members: BTreeMap::new(),
            labels: BTreeMap::new(),
            tickets: BTreeMap::new(),
            comments: BTreeMap::new(),
            activity: BTreeMap::new(),
            sprints: BTreeMap::new(),
            time_entries: BTreeMap::new(),
            rate_windows: HashMap::new(),
        }
    }

    /// Current instant.
    pub fn now(&self) -> Ts {
        self.clock.now()
    }

    /// Current UTC date.
    pub fn today(&self) -> Day {
        self.clock.today()
    }

    /// The current time and a new id (in that order): the stamp of a new record.
    pub fn stamp(&mut self) -> (Ts, Uuid) {
        let now = self.now();
        (now, self.new_id())
    }

    /// A fresh resource id (sequential v4-shaped in deterministic mode).
    pub fn new_id(&mut self) -> Uuid {
        if self.settings.deterministic {
            self.id_counter += 1;
            let s = format!("00000000-0000-4000-8000-{:012x}", self.id_counter);
            Uuid::parse_str(&s).unwrap_or_else(|_| Uuid::new_v4())
        } else {
            Uuid::new_v4()
        }
    }

    /// Makes sure future deterministic ids do not collide with `id` (used by the seed loader).
    pub fn reserve_id(&mut self, id: Uuid) {
        let s = id.to_string();
        if let Some(tail) = s.strip_prefix("00000000-0000-4000-8000-")
            && let Ok(n) = u64::from_str_radix(tail, 16)
        {
            self.id_counter = self.id_counter.max(n);
        }
    }

    /// The position of the deterministic id counter, for [`Store::rewind_ids`].
    pub fn id_mark(&self) -> u64 {
        self.id_counter
    }

    /// Rewinds the id counter to a mark from [`Store::id_mark`]: a request that drew ids and
    /// then wrote nothing (an import dry run or a refused import) leaves no trace in later ids.
    pub fn rewind_ids(&mut self, mark: u64) {
        self.id_counter = mark;
    }

    /// A fresh request id (own counter, so reads never shift resource ids).
    pub fn new_request_id(&mut self) -> Uuid {
        if self.settings.deterministic {
            self.request_counter += 1;
            Uuid::parse_str(&format!("00000000-0000-4000-9000-{:012x}", self.request_counter))
                .unwrap_or_else(|_| Uuid::new_v4())
        } else {
            Uuid::new_v4()
        }
    }

    /// A fresh base62 secret of `len` characters (a counter in deterministic mode).
    pub fn secret(&mut self, len: usize) -> String {
        if self.settings.deterministic {
            self.secret_counter += 1;
            let mut n = self.secret_counter;
            let mut out = vec![b'0'; len];
            for slot in out.iter_mut().rev() {
                *slot = BASE62[(n % 62) as usize];
                n /= 62;
                if n == 0 {
                    break;
                }
            }
            String::from_utf8(out).unwrap_or_default()
        } else {
            let mut rng = rand::rng();
            (0..len).map(|_| BASE62[rng.random_range(0..62)] as char).collect()
        }
    }

    /// A fresh `[a-z0-9]` suffix of `len` characters.
    pub fn slug_suffix(&mut self, len: usize) -> String {
        if self.settings.deterministic {
            self.secret_counter += 1;
            format!("{:0>len$}", to_base36(self.secret_counter), len = len)
        } else {
            let mut rng = rand::rng();
            const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            (0..len).map(|_| A[rng.random_range(0..A.len())] as char).collect()
        }
    }

    // ----- lookups ---------------------------------------------------------------------

    /// The membership of a user in an org.
    pub fn membership(&self, org: Uuid, user: Uuid) -> Option<&Membership> {
        self.memberships.get(&(org, user))
    }

    /// Whether `user` is a member of `org`.
    pub fn is_member(&self, org: Uuid, user: Uuid) -> bool {
        self.memberships.contains_key(&(org, user))
    }

    /// The org's Default workflow.
    pub fn default_workflow(&self, org: Uuid) -> Option<&Workflow> {
        self.workflows.values().find(|w| w.org_id == org && w.is_default)
    }

    /// The workflow of a project.
    pub fn project_workflow(&self, project_id: Uuid) -> Option<&Workflow> {
        let p = self.projects.get(&project_id)?;
        self.workflows.get(&p.workflow_id)
    }

    /// Finds a project of `org` by a parsed reference.
    pub fn find_project(&self, org: Uuid, r: &Ref) -> Option<&Project> {
        match r {
            Ref::Id(id) => self.projects.get(id).filter(|p| p.org_id == org),
            Ref::ProjectKey(k) => self.projects.values().find(|p| p.org_id == org && &p.key == k),
            Ref::TicketKey(..) => None,
        }
    }

    /// Finds a ticket of `org` by a parsed reference.
    pub fn find_ticket(&self, org: Uuid, r: &Ref) -> Option<&Ticket> {
        match r {
            Ref::Id(id) => self.tickets.get(id).filter(|t| t.org_id == org),
            Ref::TicketKey(k, n) => {
                let p = self.projects.values().find(|p| p.org_id == org && &p.key == k)?;
                self.tickets
                    .values()
                    .find(|t| t.project_id == p.id && t.ticket_number == *n)
            }
            Ref::ProjectKey(_) => None,
        }
    }

    /// Creates an org with its Default workflow and the creator as Owner.
    pub fn create_org(&mut self, name: String, slug: String, owner: Uuid) -> Uuid {
        let (now, id) = self.stamp();
        self.orgs.insert(
            id,
            Organization {
                id,
                name,
                slug,
                created_at: now,
                updated_at: now,
            },
        );
        self.memberships.insert(
            (id, owner),
            Membership {
                user_id: owner,
                org_id: id,
                role: OrgRole::Owner,
                joined_at: now,
            },
        );
        let wf = self.new_id();
        self.workflows.insert(wf, default_workflow(wf, id, now));
        id
    }

    /// Creates a user (or reuses one by email) with a password.
    pub fn add_user(&mut self, email: &str, display_name: &str, password: Option<&str>) -> Uuid {
        let email = email.to_lowercase();
        if let Some(u) = self.users.values().find(|u| u.email == email) {
            return u.id;
        }
        let (now, id) = self.stamp();
        self.users.insert(
            id,
            User {
                id,
                email,
                display_name: display_name.to_string(),
                password: password.map(str::to_string),
                active: true,
                created_at: now,
                updated_at: now,
            },
        );
        id
    }

    /// Adds (or changes) a user's membership in an org.
    pub fn set_membership(&mut self, org: Uuid, user: Uuid, role: OrgRole) {
        let now = self.now();
        self.memberships
            .entry((org, user))
            .and_modify(|m| m.role = role)
            .or_insert(Membership {
                user_id: user,
                org_id: org,
                role,
                joined_at: now,
            });
    }

    /// Stores an API key for `raw` (only its hash is kept) and returns the key's id.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_api_key(
        &mut self,
        org: Uuid,
        user: Uuid,
        name: &str,
        raw: &str,
        scopes: Vec<ApiKeyScope>,
        project_ids: Vec<Uuid>,
        expires_at: Option<Ts>,
    ) -> Uuid {
        let (now, id) = self.stamp();
        let environment = if raw.starts_with("alloy_test_") {
            ApiKeyEnvironment::Test
        } else {
            ApiKeyEnvironment::Live
        };
        self.api_keys.insert(
            id,
            ApiKey {
                id,
                org_id: org,
                user_id: user,
                name: name.to_string(),
                environment,
                scopes,
                project_ids,
                expires_at,
                key_hash: sha256_hex(raw),
                key_prefix: raw.chars().take(15).collect(),
                last_used_at: None,
                created_at: now,
            },
        );
        id
    }

    /// Appends an activity entry and moves the ticket's `updated_at` to it.
    #[allow(clippy::too_many_arguments)]
    pub fn log_activity(
        &mut self,
        ticket_id: Uuid,
        actor_id: Uuid,
        action: ActivityAction,
        field: Option<&str>,
        old_value: Option<Value>,
        new_value: Option<Value>,
        at: Ts,
    ) {
        let Some(org_id) = self.tickets.get(&ticket_id).map(|t| t.org_id) else {
            return;
        };
        let id = self.new_id();
        self.activity.insert(
            id,
            Activity {
                id,
                org_id,
                ticket_id,
                actor_id,
                action,
                field: field.map(str::to_string),
                old_value: old_value.filter(|v| !v.is_null()),
                new_value: new_value.filter(|v| !v.is_null()),
                created_at: at,
            },
        );
        if let Some(t) = self.tickets.get_mut(&ticket_id) {
            t.updated_at = at;
        }
    }

    /// A ticket as the API returns it (labels as `LabelRef`s sorted by name).
    pub fn ticket_json(&self, t: &Ticket) -> Value {
        let mut labels: Vec<&Label> = t.label_ids.iter().filter_map(|id| self.labels.get(id)).collect();
        labels.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        let labels: Vec<Value> = labels
            .iter()
            .map(|l| json!({"id": l.id, "name": l.name, "color": l.color}))
            .collect();
        json!({
            "id": t.id, "org_id": t.org_id, "project_id": t.project_id, "ticket_number": t.ticket_number,
            "key": t.key, "title": t.title, "description": t.description, "status": t.status,
            "priority": t.priority, "ticket_type": t.ticket_type, "reporter_id": t.reporter_id,
            "assignee_id": t.assignee_id, "sprint_id": t.sprint_id, "story_points": t.story_points,
            "due_date": t.due_date, "labels": labels, "tags": t.tags, "resolved_at": t.resolved_at,
            "created_by": t.created_by, "created_at": t.created_at, "updated_at": t.updated_at,
        })
    }

    /// A workflow as the API returns it (with `project_count`).
    pub fn workflow_json(&self, w: &Workflow) -> Value {
        let mut w = w.clone();
        w.project_count = self.projects.values().filter(|p| p.workflow_id == w.id).count() as u64;
        serde_json::to_value(w).unwrap_or(Value::Null)
    }

    /// A label as the API returns it (with `ticket_count`).
    pub fn label_json(&self, l: &Label) -> Value {
        let mut l = l.clone();
        l.ticket_count = self.tickets.values().filter(|t| t.label_ids.contains(&l.id)).count() as u64;
        serde_json::to_value(l).unwrap_or(Value::Null)
    }

    /// A labor rate as the API returns it (with `effective_to`).
    pub fn labor_rate_json(&self, r: &LaborRate) -> Value {
        let mut r = r.clone();
        r.effective_to = self
            .labor_rates
            .values()
            .filter(|o| o.org_id == r.org_id && o.user_id == r.user_id && o.effective_from > r.effective_from)
            .map(|o| o.effective_from)
            .min()
            .map(|d| d.plus(-1));
        serde_json::to_value(r).unwrap_or(Value::Null)
    }

    /// The hourly rate (cents) of a user on a date: the row with the greatest `effective_from` ≤ date.
    pub fn rate_on(&self, org: Uuid, user: Uuid, date: Day) -> Option<i64> {
        self.labor_rates
            .values()
            .filter(|r| r.org_id == org && r.user_id == user && r.effective_from <= date)
            .max_by_key(|r| r.effective_from)
            .map(|r| r.hourly_rate_cents)
    }
}

fn to_base36(mut n: u64) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(A[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The built-in Default workflow of an org: six statuses, all 30 transitions, no enforcement.
pub fn default_workflow(id: Uuid, org_id: Uuid, now: Ts) -> Workflow {
    use StatusCategory::*;
    let statuses: Vec<WorkflowStatus> = [
        ("Backlog", Unstarted),
        ("Todo", Unstarted),
        ("InProgress", Started),
        ("InReview", Started),
        ("Done", Completed),
        ("Cancelled", Cancelled),
    ]
    .iter()
    .map(|(n, c)| WorkflowStatus {
        name: n.to_string(),
        category: *c,
    })
    .collect();
    let mut transitions = Vec::new();
    for a in &statuses {
        for b in &statuses {
            if a.name != b.name {
                transitions.push(Transition {
                    from: a.name.clone(),
                    to: b.name.clone(),
                });
            }
        }
    }
    Workflow {
        id,
        org_id,
        name: "Default".into(),
        description: Some("Built-in workflow: any status may follow any other.".into()),
        is_default: true,
        statuses,
        initial_status: "Backlog".into(),
        transitions,
        enforcement: WorkflowEnforcement::None,
        project_count: 0,
        created_by: None,
        created_at: now,
        updated_at: now,
    }
}

/// Computes `hours` from minutes: `((minutes × 100 + 30) div 60) / 100`.
pub fn hours_of(minutes: i64) -> f64 {
    ((minutes * 100 + 30).div_euclid(60)) as f64 / 100.0
}

/// Cost of an entry in cents: `(minutes × rate + 30) div 60`.
pub fn cost_of(minutes: i64, rate_cents: i64) -> i64 {
    (minutes * rate_cents + 30).div_euclid(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_by_syntax() {
        assert_eq!(parse_ticket_ref("web-42"), Some(Ref::TicketKey("WEB".into(), 42)));
        assert_eq!(parse_ticket_ref("WEB-042"), None);
        assert_eq!(parse_ticket_ref("WEB"), None);
        assert_eq!(parse_project_ref("web"), Some(Ref::ProjectKey("WEB".into())));
        assert_eq!(parse_project_ref("W"), None);
        assert!(matches!(
            parse_project_ref("00000000-0000-4000-8000-00000000000A"),
            Some(Ref::Id(_))
        ));
        assert_eq!(parse_uuid("00000000000040008000000000000001"), None);
    }

    #[test]
    fn hours_and_costs_round_half_up() {
        assert_eq!(hours_of(10), 0.17);
        assert_eq!(hours_of(90), 1.5);
        assert_eq!(cost_of(1, 90), 2);
        assert_eq!(cost_of(60, 12_000), 12_000);
    }
}
