//! Seed data: a human-written dataset (`fixtures/seed/seed.json`) that names things by natural
//! keys (emails, project keys, workflow, label and sprint names, ticket numbers) and is applied
//! to an empty [`Store`] under the rules the API enforces. A ticket is written as its creation
//! plus a `history` of dated steps (transitions, field changes, labels, tags, comments); the
//! loader replays them, so the activity log, `resolved_at` and `updated_at` agree with the
//! ticket by construction. Every reference is checked, and a bad one is an error naming its seed
//! path (`orgs[0].projects[1].tickets[4].assignee: unknown user bob@x`). [`SeedKeys`] returns
//! the raw API keys of the seeded users. In deterministic mode ids come from the store's counter
//! in seed order, so the same seed always yields the same ids.

use crate::model::*;
use crate::store::{Ref, Store, default_workflow, parse_ticket_ref};
use crate::values::{Day, Ts};
use anyhow::{anyhow, bail};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use uuid::Uuid;

/// One seeded API key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeededKey {
    /// Org slug.
    pub org_slug: String,
    /// Org id.
    pub org_id: Uuid,
    /// User email.
    pub email: String,
    /// User id.
    pub user_id: Uuid,
    /// The user's role in that org.
    pub role: OrgRole,
    /// The raw key.
    pub key: String,
}

/// The raw API keys of the seeded users; the first org of the seed is the primary one.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeedKeys {
    /// Every seeded key, in seed order.
    pub keys: Vec<SeededKey>,
}

impl SeedKeys {
    /// The key of the first seeded user with `role` in the primary (first) org; `""` if none.
    pub fn for_role(&self, role: OrgRole) -> &str {
        let Some(primary) = self.keys.first().map(|k| k.org_id) else {
            return "";
        };
        self.keys
            .iter()
            .find(|k| k.org_id == primary && k.role == role)
            .map(|k| k.key.as_str())
            .unwrap_or("")
    }

    /// The seeded key entry of the first user with `role` in the primary org.
    pub fn entry(&self, role: OrgRole) -> Option<&SeededKey> {
        let primary = self.keys.first()?.org_id;
        self.keys.iter().find(|k| k.org_id == primary && k.role == role)
    }

    /// The key of the Owner of the second seeded org (for isolation tests); `""` if none.
    pub fn other_org_owner(&self) -> &str {
        let Some(primary) = self.keys.first().map(|k| k.org_id) else {
            return "";
        };
        self.keys
            .iter()
            .find(|k| k.org_id != primary && k.role == OrgRole::Owner)
            .map(|k| k.key.as_str())
            .unwrap_or("")
    }
}

/// A parsed seed file.
#[derive(Clone, Debug)]
pub struct Seed {
    doc: SeedDoc,
    source: String,
}

/// The repository's seed, embedded at compile time so the binary works from any directory.
const BUNDLED: &str = include_str!("../../fixtures/seed/seed.json");

impl Seed {
    /// Reads `<dir>/seed.json`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Seed> {
        let path = dir.join("seed.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| anyhow!("cannot read seed file {}: {e}", path.display()))?;
        Seed::from_json(&text, &path.display().to_string())
    }

    /// Parses a seed document; `source` names it in error messages.
    pub fn from_json(text: &str, source: &str) -> anyhow::Result<Seed> {
        let doc: SeedDoc =
            serde_json::from_str(text).map_err(|e| anyhow!("seed file {source} is not a valid seed: {e}"))?;
        Ok(Seed {
            doc,
            source: source.to_string(),
        })
    }

    /// The repository's bundled seed (`fixtures/seed/seed.json`, embedded at compile time).
    pub fn bundled() -> anyhow::Result<Seed> {
        Seed::from_json(BUNDLED, "fixtures/seed/seed.json (bundled)")
    }

    /// Where the seed came from (a path, or the bundled copy).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Applies the seed to an empty store and returns the raw keys it created.
    pub fn apply(&self, store: &mut Store) -> anyhow::Result<SeedKeys> {
        if !store.users.is_empty() || !store.orgs.is_empty() {
            bail!(
                "seed file {}: a seed can only be applied to an empty store",
                self.source
            );
        }
        let mut loader = Loader {
            store,
            users: BTreeMap::new(),
            keys: SeedKeys::default(),
            raw_keys: BTreeSet::new(),
        };
        loader
            .seed(&self.doc)
            .map_err(|e| anyhow!("seed file {}: {e:#}", self.source))?;
        Ok(loader.keys)
    }
}

// ----- the format ------------------------------------------------------------------------------

/// Deserializes a present field (even `null`) as `Some`, so `Option<Option<T>>` can tell
/// "absent" (no change) from `null` (clear).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDoc {
    /// Free text for readers of the file.
    #[serde(default)]
    #[allow(dead_code)] // Documentation for humans only.
    description: Option<String>,
    users: Vec<UserSpec>,
    orgs: Vec<OrgSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    email: String,
    display_name: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgSpec {
    name: String,
    slug: String,
    created_at: Ts,
    members: Vec<MemberSpec>,
    #[serde(default)]
    invites: Vec<InviteSpec>,
    #[serde(default)]
    teams: Vec<TeamSpec>,
    #[serde(default)]
    workflows: Vec<WorkflowSpec>,
    #[serde(default)]
    labor_rates: Vec<LaborRateSpec>,
    #[serde(default)]
    projects: Vec<ProjectSpec>,
    #[serde(default)]
    time_entries: Vec<TimeEntrySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberSpec {
    email: String,
    role: OrgRole,
    /// Default: the org's `created_at`.
    #[serde(default)]
    joined_at: Option<Ts>,
    #[serde(default)]
    api_key: Option<KeySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySpec {
    name: String,
    key: String,
    /// Default `["read", "write"]`.
    #[serde(default)]
    scopes: Option<Vec<ApiKeyScope>>,
    #[serde(default)]
    expires_at: Option<Ts>,
    /// Default: the member's `joined_at`.
    #[serde(default)]
    created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteSpec {
    email: String,
    #[serde(default)]
    role: Option<OrgRole>,
    invited_by: String,
    created_at: Ts,
    #[serde(default)]
    expires_in_days: Option<i64>,
    /// `inv_` + 24 base62; default: a fresh secret.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    status: Option<InviteStatus>,
    #[serde(default)]
    accepted_at: Option<Ts>,
    #[serde(default)]
    revoked_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamSpec {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    created_by: String,
    created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusSpec {
    name: String,
    category: StatusCategory,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionSpec {
    from: String,
    to: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowSpec {
    name: String,
    #[serde(default)]
    description: Option<String>,
    statuses: Vec<StatusSpec>,
    #[serde(default)]
    initial_status: Option<String>,
    #[serde(default)]
    transitions: Vec<TransitionSpec>,
    #[serde(default)]
    enforcement: Option<WorkflowEnforcement>,
    created_by: String,
    created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaborRateSpec {
    user: String,
    hourly_rate_cents: i64,
    effective_from: Day,
    #[serde(default)]
    note: Option<String>,
    created_by: String,
    /// Default: the start of `effective_from`.
    #[serde(default)]
    created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSpec {
    key: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Workflow name; default `Default`.
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    capitalization_type: Option<CapitalizationType>,
    #[serde(default)]
    development_phase: Option<DevelopmentPhase>,
    #[serde(default)]
    cost_center_id: Option<String>,
    #[serde(default)]
    budget_cents: Option<i64>,
    #[serde(default)]
    budget_period: Option<BudgetPeriod>,
    #[serde(default)]
    amortization_months: Option<i64>,
    created_by: String,
    created_at: Ts,
    /// Emails of project members besides the creator (who is always one).
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    labels: Vec<LabelSpec>,
    #[serde(default)]
    sprints: Vec<SprintSpec>,
    #[serde(default)]
    tickets: Vec<TicketSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelSpec {
    name: String,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// Default: the project's creator.
    #[serde(default)]
    created_by: Option<String>,
    /// Default: the project's `created_at`.
    #[serde(default)]
    created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SprintSpec {
    name: String,
    #[serde(default)]
    goal: Option<String>,
    start_date: Day,
    end_date: Day,
    status: SprintStatus,
    created_by: String,
    created_at: Ts,
    #[serde(default)]
    started_at: Option<Ts>,
    #[serde(default)]
    completed_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketSpec {
    /// Default: the previous number + 1; a gap stands for deleted tickets.
    #[serde(default)]
    number: Option<i64>,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    ticket_type: Option<TicketType>,
    #[serde(default)]
    priority: Option<Priority>,
    /// Default: `created_by`.
    #[serde(default)]
    reporter: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    sprint: Option<String>,
    #[serde(default)]
    story_points: Option<i64>,
    #[serde(default)]
    due_date: Option<Day>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    created_by: String,
    created_at: Ts,
    #[serde(default)]
    history: Vec<StepSpec>,
}

/// One dated change to a ticket: exactly one kind of change per step, as one API request makes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    at: Ts,
    by: String,
    /// A transition.
    #[serde(default)]
    status: Option<String>,
    /// Field changes (one PATCH).
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    ticket_type: Option<TicketType>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    sprint: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    story_points: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    due_date: Option<Option<Day>>,
    /// Label changes.
    #[serde(default)]
    add_labels: Vec<String>,
    #[serde(default)]
    remove_labels: Vec<String>,
    /// Tag changes: a string sets, `null` removes.
    #[serde(default)]
    tags: BTreeMap<String, Option<String>>,
    /// A comment (optionally edited later).
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    edited_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeEntrySpec {
    /// Ticket key, e.g. `WEB-3`.
    ticket: String,
    user: String,
    date: Day,
    minutes: i64,
    #[serde(default)]
    description: Option<String>,
    status: TimeEntryStatus,
    /// Default: 17:00 UTC on `date`.
    #[serde(default)]
    created_at: Option<Ts>,
    #[serde(default)]
    submitted_at: Option<Ts>,
    #[serde(default)]
    approved_at: Option<Ts>,
    #[serde(default)]
    approved_by: Option<String>,
    #[serde(default)]
    rejected_at: Option<Ts>,
    #[serde(default)]
    rejected_by: Option<String>,
    #[serde(default)]
    rejection_reason: Option<String>,
}

// ----- the loader ------------------------------------------------------------------------------

const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn is_base62(s: &str) -> bool {
    s.chars().all(|c| BASE62.contains(c))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A required string: trimmed, `min..=max` characters.
fn text(path: &str, s: &str, min: usize, max: usize) -> anyhow::Result<String> {
    let t = s.trim();
    let n = chars(t);
    if n == 0 && min > 0 {
        bail!("{path}: must not be empty");
    }
    if n < min {
        bail!("{path}: at least {min} characters (has {n})");
    }
    if n > max {
        bail!("{path}: at most {max} characters (has {n})");
    }
    Ok(t.to_string())
}

/// An optional string: trimmed; empty means none.
fn opt_text(path: &str, s: &Option<String>, max: usize) -> anyhow::Result<Option<String>> {
    match s {
        None => Ok(None),
        Some(s) => {
            let t = text(path, s, 0, max)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

fn check_order(path: &str, earlier: Ts, later: Ts, what: &str) -> anyhow::Result<()> {
    if later < earlier {
        bail!("{path}: {later} is before {what} ({earlier})");
    }
    Ok(())
}

fn is_tag_key(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_.:-".contains(c))
}

fn is_status_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=32).contains(&b.len()) && b[0].is_ascii_uppercase() && b.iter().all(u8::is_ascii_alphanumeric)
}

fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=50).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty())
        && chars(s) <= 254
}

/// Each seeded ticket of a project: its index in the seed and its `(at, status)` history.
type Timelines = BTreeMap<Uuid, (usize, Vec<(Ts, String)>)>;

/// Lookups of one org while it is being seeded.
struct OrgCtx {
    id: Uuid,
    /// email → (user id, role).
    members: BTreeMap<String, (Uuid, OrgRole)>,
    /// lower-cased name → workflow id.
    workflows: BTreeMap<String, Uuid>,
    /// project key → project lookups.
    projects: BTreeMap<String, ProjectCtx>,
}

/// Lookups of one project while it is being seeded.
struct ProjectCtx {
    id: Uuid,
    key: String,
    workflow_id: Uuid,
    members: BTreeSet<Uuid>,
    /// lower-cased name → label id.
    labels: BTreeMap<String, Uuid>,
    /// name → sprint id.
    sprints: BTreeMap<String, Uuid>,
    /// number → ticket id.
    tickets: BTreeMap<i64, Uuid>,
}

struct Loader<'a> {
    store: &'a mut Store,
    /// Lower-cased email → user id, across the installation.
    users: BTreeMap<String, Uuid>,
    keys: SeedKeys,
    raw_keys: BTreeSet<String>,
}

impl OrgCtx {
    /// A member's id and role, or an error naming the seed path.
    fn member(&self, path: &str, email: &str) -> anyhow::Result<(Uuid, OrgRole)> {
        self.members
            .get(&email.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown user {email} (not a member of this org; list them under members)"))
    }

    /// A member with at least `min` role.
    fn actor(&self, path: &str, email: &str, min: OrgRole, what: &str) -> anyhow::Result<Uuid> {
        let (id, role) = self.member(path, email)?;
        if !role.at_least(min) {
            bail!("{path}: {email} is a {role}, and {what} needs the {min} role or higher");
        }
        Ok(id)
    }
}

impl Loader<'_> {
    fn seed(&mut self, doc: &SeedDoc) -> anyhow::Result<()> {
        for (i, u) in doc.users.iter().enumerate() {
            self.user(&format!("users[{i}]"), u)?;
        }
        if doc.orgs.is_empty() {
            bail!("orgs: the seed needs at least one org");
        }
        for (i, o) in doc.orgs.iter().enumerate() {
            self.org(&format!("orgs[{i}]"), o)?;
        }
        Ok(())
    }

    fn user(&mut self, path: &str, u: &UserSpec) -> anyhow::Result<()> {
        let email = u.email.trim().to_lowercase();
        if !is_email(&email) {
            bail!("{path}.email: {:?} is not a valid email address", u.email);
        }
        if self.users.contains_key(&email) {
            bail!("{path}.email: {email} is listed twice");
        }
        let name = text(&format!("{path}.display_name"), &u.display_name, 1, 100)?;
        if let Some(p) = &u.password
            && chars(p) < 8
        {
            bail!("{path}.password: at least 8 characters");
        }
        let id = self.store.add_user(&email, &name, u.password.as_deref());
        if let Some(user) = self.store.users.get_mut(&id) {
            user.active = u.active;
            user.created_at = u.created_at;
            user.updated_at = u.created_at;
        }
        self.users.insert(email, id);
        Ok(())
    }

    fn org(&mut self, path: &str, o: &OrgSpec) -> anyhow::Result<()> {
        let name = text(&format!("{path}.name"), &o.name, 1, 100)?;
        if !is_slug(&o.slug) {
            bail!(
                "{path}.slug: {:?} must be 3-50 characters of a-z, 0-9 and inner hyphens",
                o.slug
            );
        }
        if self.store.orgs.values().any(|x| x.slug == o.slug) {
            bail!("{path}.slug: {} is already used by another org", o.slug);
        }
        let owner_pos = o
            .members
            .iter()
            .position(|m| m.role == OrgRole::Owner)
            .ok_or_else(|| anyhow!("{path}.members: an org needs at least one Owner"))?;
        let owner_email = o.members[owner_pos].email.trim().to_lowercase();
        let owner = self.user_id(&format!("{path}.members[{owner_pos}].email"), &owner_email)?;
        let org_id = self.store.create_org(name, o.slug.clone(), owner);
        if let Some(org) = self.store.orgs.get_mut(&org_id) {
            org.created_at = o.created_at;
            org.updated_at = o.created_at;
        }
        let default_id = self
            .store
            .default_workflow(org_id)
            .map(|w| w.id)
            .unwrap_or_else(Uuid::nil);
        self.store
            .workflows
            .insert(default_id, default_workflow(default_id, org_id, o.created_at));
        let mut ctx = OrgCtx {
            id: org_id,
            members: BTreeMap::new(),
            workflows: BTreeMap::new(),
            projects: BTreeMap::new(),
        };
        ctx.workflows.insert("default".into(), default_id);

        for (i, m) in o.members.iter().enumerate() {
            self.member(&format!("{path}.members[{i}]"), o, &mut ctx, m)?;
        }
        for (i, inv) in o.invites.iter().enumerate() {
            self.invite(&format!("{path}.invites[{i}]"), &ctx, inv)?;
        }
        for (i, t) in o.teams.iter().enumerate() {
            self.team(&format!("{path}.teams[{i}]"), &ctx, t)?;
        }
        for (i, w) in o.workflows.iter().enumerate() {
            self.workflow(&format!("{path}.workflows[{i}]"), &mut ctx, w)?;
        }
        for (i, r) in o.labor_rates.iter().enumerate() {
            self.labor_rate(&format!("{path}.labor_rates[{i}]"), &ctx, r)?;
        }
        for (i, p) in o.projects.iter().enumerate() {
            self.project(&format!("{path}.projects[{i}]"), &mut ctx, p)?;
        }
        for (i, e) in o.time_entries.iter().enumerate() {
            self.time_entry(&format!("{path}.time_entries[{i}]"), &ctx, e)?;
        }
        Ok(())
    }

    fn user_id(&self, path: &str, email: &str) -> anyhow::Result<Uuid> {
        self.users
            .get(&email.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown user {email} (add them to the top-level users list)"))
    }

    fn member(&mut self, path: &str, o: &OrgSpec, ctx: &mut OrgCtx, m: &MemberSpec) -> anyhow::Result<()> {
        let email = m.email.trim().to_lowercase();
        let user = self.user_id(&format!("{path}.email"), &email)?;
        if ctx.members.contains_key(&email) {
            bail!("{path}.email: {email} is listed twice in this org");
        }
        let joined = m.joined_at.unwrap_or(o.created_at);
        check_order(
            &format!("{path}.joined_at"),
            o.created_at,
            joined,
            "the org's created_at",
        )?;
        self.store.set_membership(ctx.id, user, m.role);
        if let Some(ms) = self.store.memberships.get_mut(&(ctx.id, user)) {
            ms.role = m.role;
            ms.joined_at = joined;
        }
        ctx.members.insert(email.clone(), (user, m.role));
        let Some(k) = &m.api_key else { return Ok(()) };
        let kp = format!("{path}.api_key");
        let name = text(&format!("{kp}.name"), &k.name, 1, 100)?;
        let body = k
            .key
            .strip_prefix("alloy_test_")
            .or_else(|| k.key.strip_prefix("alloy_live_"));
        if !body.is_some_and(|b| b.len() == 32 && is_base62(b)) {
            bail!("{kp}.key: must be alloy_test_ or alloy_live_ followed by exactly 32 base62 characters");
        }
        if !self.raw_keys.insert(k.key.clone()) {
            bail!("{kp}.key: the same key is used twice");
        }
        let mut scopes = k
            .scopes
            .clone()
            .unwrap_or_else(|| vec![ApiKeyScope::Read, ApiKeyScope::Write]);
        if scopes.is_empty() {
            bail!("{kp}.scopes: must not be empty");
        }
        if scopes.contains(&ApiKeyScope::Write) && !scopes.contains(&ApiKeyScope::Read) {
            scopes.insert(0, ApiKeyScope::Read);
        }
        scopes.sort();
        scopes.dedup();
        let key_id = self
            .store
            .insert_api_key(ctx.id, user, &name, &k.key, scopes, Vec::new(), k.expires_at);
        let created = k.created_at.unwrap_or(joined);
        if let Some(stored) = self.store.api_keys.get_mut(&key_id) {
            stored.created_at = created;
        }
        self.keys.keys.push(SeededKey {
            org_slug: o.slug.clone(),
            org_id: ctx.id,
            email,
            user_id: user,
            role: m.role,
            key: k.key.clone(),
        });
        Ok(())
    }

    fn invite(&mut self, path: &str, ctx: &OrgCtx, inv: &InviteSpec) -> anyhow::Result<()> {
        let email = inv.email.trim().to_lowercase();
        if !is_email(&email) {
            bail!("{path}.email: {:?} is not a valid email address", inv.email);
        }
        let role = inv.role.unwrap_or(OrgRole::Member);
        if role == OrgRole::Owner {
            bail!("{path}.role: an invite cannot grant Owner");
        }
        let invited_by = ctx.actor(
            &format!("{path}.invited_by"),
            &inv.invited_by,
            OrgRole::Admin,
            "inviting",
        )?;
        let days = inv.expires_in_days.unwrap_or(7);
        if !(1..=30).contains(&days) {
            bail!("{path}.expires_in_days: must be 1-30");
        }
        let code = match &inv.code {
            Some(c) => {
                if !c.strip_prefix("inv_").is_some_and(|b| b.len() == 24 && is_base62(b)) {
                    bail!("{path}.code: must be inv_ followed by exactly 24 base62 characters");
                }
                c.clone()
            }
            None => format!("inv_{}", self.store.secret(24)),
        };
        if self.store.invites.values().any(|i| i.code == code) {
            bail!("{path}.code: the same code is used twice");
        }
        let status = inv.status.unwrap_or(InviteStatus::Pending);
        let is_member = ctx.members.contains_key(&email);
        match status {
            InviteStatus::Accepted => {
                let at = inv
                    .accepted_at
                    .ok_or_else(|| anyhow!("{path}.accepted_at: required for an Accepted invite"))?;
                check_order(&format!("{path}.accepted_at"), inv.created_at, at, "created_at")?;
                if !is_member {
                    bail!("{path}.email: {email} accepted the invite, so they must be a member of the org");
                }
            }
            InviteStatus::Revoked => {
                let at = inv
                    .revoked_at
                    .ok_or_else(|| anyhow!("{path}.revoked_at: required for a Revoked invite"))?;
                check_order(&format!("{path}.revoked_at"), inv.created_at, at, "created_at")?;
            }
            InviteStatus::Pending | InviteStatus::Expired => {
                if is_member {
                    bail!("{path}.email: {email} is already a member; a pending invite for them is refused");
                }
            }
        }
        if status != InviteStatus::Accepted && inv.accepted_at.is_some() {
            bail!("{path}.accepted_at: only an Accepted invite has accepted_at");
        }
        if status != InviteStatus::Revoked && inv.revoked_at.is_some() {
            bail!("{path}.revoked_at: only a Revoked invite has revoked_at");
        }
        let id = self.store.new_id();
        self.store.invites.insert(
            id,
            Invite {
                id,
                org_id: ctx.id,
                email,
                role,
                expires_at: inv.created_at.plus_days(days),
                // `Expired` is reported from `expires_at`; it is stored as Pending.
                status: if status == InviteStatus::Expired {
                    InviteStatus::Pending
                } else {
                    status
                },
                code,
                invited_by,
                accepted_at: inv.accepted_at,
                revoked_at: inv.revoked_at,
                created_at: inv.created_at,
            },
        );
        Ok(())
    }

    fn team(&mut self, path: &str, ctx: &OrgCtx, t: &TeamSpec) -> anyhow::Result<()> {
        let name = text(&format!("{path}.name"), &t.name, 1, 100)?;
        if self
            .store
            .teams
            .values()
            .any(|x| x.org_id == ctx.id && x.name.to_lowercase() == name.to_lowercase())
        {
            bail!("{path}.name: a team named {name} already exists in this org");
        }
        let description = opt_text(&format!("{path}.description"), &t.description, 500)?;
        let created_by = ctx.actor(
            &format!("{path}.created_by"),
            &t.created_by,
            OrgRole::Admin,
            "creating a team",
        )?;
        let mut member_ids = Vec::new();
        for (i, e) in t.members.iter().enumerate() {
            let (id, _) = ctx.member(&format!("{path}.members[{i}]"), e)?;
            if member_ids.contains(&id) {
                bail!("{path}.members[{i}]: {e} is listed twice");
            }
            member_ids.push(id);
        }
        member_ids.sort();
        let id = self.store.new_id();
        self.store.teams.insert(
            id,
            Team {
                id,
                org_id: ctx.id,
                name,
                description,
                member_ids,
                created_by,
                created_at: t.created_at,
                updated_at: t.created_at,
            },
        );
        Ok(())
    }

    fn workflow(&mut self, path: &str, ctx: &mut OrgCtx, w: &WorkflowSpec) -> anyhow::Result<()> {
        let name = text(&format!("{path}.name"), &w.name, 1, 100)?;
        if ctx.workflows.contains_key(&name.to_lowercase()) {
            bail!("{path}.name: a workflow named {name} already exists in this org");
        }
        let description = opt_text(&format!("{path}.description"), &w.description, 500)?;
        let created_by = ctx.actor(
            &format!("{path}.created_by"),
            &w.created_by,
            OrgRole::Admin,
            "creating a workflow",
        )?;
        if !(2..=20).contains(&w.statuses.len()) {
            bail!("{path}.statuses: a workflow has 2-20 statuses");
        }
        let mut statuses: Vec<WorkflowStatus> = Vec::new();
        for (i, s) in w.statuses.iter().enumerate() {
            if !is_status_name(&s.name) {
                bail!(
                    "{path}.statuses[{i}].name: {:?} must match ^[A-Z][A-Za-z0-9]{{0,31}}$",
                    s.name
                );
            }
            if statuses.iter().any(|x| x.name == s.name) {
                bail!("{path}.statuses[{i}].name: {} is listed twice", s.name);
            }
            statuses.push(WorkflowStatus {
                name: s.name.clone(),
                category: s.category,
            });
        }
        for need in [StatusCategory::Unstarted, StatusCategory::Completed] {
            if !statuses.iter().any(|s| s.category == need) {
                bail!("{path}.statuses: a workflow needs at least one {need} status");
            }
        }
        let initial = match &w.initial_status {
            Some(s) => s.clone(),
            None => statuses
                .iter()
                .find(|s| s.category == StatusCategory::Unstarted)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        };
        if !statuses
            .iter()
            .any(|s| s.name == initial && s.category == StatusCategory::Unstarted)
        {
            bail!("{path}.initial_status: {initial} must be an Unstarted status of this workflow");
        }
        let mut transitions: Vec<Transition> = Vec::new();
        for (i, t) in w.transitions.iter().enumerate() {
            for (end, v) in [("from", &t.from), ("to", &t.to)] {
                if !statuses.iter().any(|s| &s.name == v) {
                    bail!("{path}.transitions[{i}].{end}: unknown status {v}");
                }
            }
            if t.from == t.to {
                bail!("{path}.transitions[{i}]: from and to must differ");
            }
            let tr = Transition {
                from: t.from.clone(),
                to: t.to.clone(),
            };
            if transitions.contains(&tr) {
                bail!("{path}.transitions[{i}]: {} -> {} is listed twice", t.from, t.to);
            }
            transitions.push(tr);
        }
        let id = self.store.new_id();
        self.store.workflows.insert(
            id,
            Workflow {
                id,
                org_id: ctx.id,
                name: name.clone(),
                description,
                is_default: false,
                statuses,
                initial_status: initial,
                transitions,
                enforcement: w.enforcement.unwrap_or(WorkflowEnforcement::None),
                project_count: 0,
                created_by: Some(created_by),
                created_at: w.created_at,
                updated_at: w.created_at,
            },
        );
        ctx.workflows.insert(name.to_lowercase(), id);
        Ok(())
    }

    fn labor_rate(&mut self, path: &str, ctx: &OrgCtx, r: &LaborRateSpec) -> anyhow::Result<()> {
        let (user, _) = ctx.member(&format!("{path}.user"), &r.user)?;
        let created_by = ctx.actor(
            &format!("{path}.created_by"),
            &r.created_by,
            OrgRole::Admin,
            "setting a labor rate",
        )?;
        if !(1..=100_000_000).contains(&r.hourly_rate_cents) {
            bail!("{path}.hourly_rate_cents: must be 1-100000000");
        }
        if self
            .store
            .labor_rates
            .values()
            .any(|x| x.org_id == ctx.id && x.user_id == user && x.effective_from == r.effective_from)
        {
            bail!(
                "{path}.effective_from: {} already has a rate from {}",
                r.user,
                r.effective_from
            );
        }
        let note = opt_text(&format!("{path}.note"), &r.note, 200)?;
        let id = self.store.new_id();
        self.store.labor_rates.insert(
            id,
            LaborRate {
                id,
                org_id: ctx.id,
                user_id: user,
                hourly_rate_cents: r.hourly_rate_cents,
                effective_from: r.effective_from,
                effective_to: None,
                note,
                created_by,
                created_at: r.created_at.unwrap_or_else(|| r.effective_from.start()),
            },
        );
        Ok(())
    }

    fn project(&mut self, path: &str, ctx: &mut OrgCtx, p: &ProjectSpec) -> anyhow::Result<()> {
        let key = p.key.trim().to_ascii_uppercase();
        let kb = key.as_bytes();
        if !((2..=10).contains(&kb.len()) && kb[0].is_ascii_alphabetic() && kb.iter().all(u8::is_ascii_alphanumeric)) {
            bail!("{path}.key: {:?} must match ^[A-Z][A-Z0-9]{{1,9}}$", p.key);
        }
        if ctx.projects.contains_key(&key) {
            bail!("{path}.key: project {key} already exists in this org");
        }
        let name = text(&format!("{path}.name"), &p.name, 1, 100)?;
        let description = opt_text(&format!("{path}.description"), &p.description, 10_000)?;
        let wf_name = p.workflow.clone().unwrap_or_else(|| "Default".into());
        let workflow_id = *ctx
            .workflows
            .get(&wf_name.to_lowercase())
            .ok_or_else(|| anyhow!("{path}.workflow: unknown workflow {wf_name}"))?;
        let created_by = ctx.actor(
            &format!("{path}.created_by"),
            &p.created_by,
            OrgRole::Member,
            "creating a project",
        )?;
        let cost_center_id = opt_text(&format!("{path}.cost_center_id"), &p.cost_center_id, 64)?;
        if p.budget_cents.is_some_and(|b| b < 0) {
            bail!("{path}.budget_cents: must be >= 0");
        }
        if p.amortization_months.is_some_and(|m| !(1..=120).contains(&m)) {
            bail!("{path}.amortization_months: must be 1-120");
        }
        let id = self.store.new_id();
        self.store.projects.insert(
            id,
            Project {
                id,
                org_id: ctx.id,
                key: key.clone(),
                name,
                description,
                workflow_id,
                ticket_counter: 0,
                capitalization_type: p.capitalization_type,
                development_phase: p.development_phase,
                cost_center_id,
                budget_cents: p.budget_cents,
                budget_period: p.budget_period,
                amortization_months: p.amortization_months,
                created_by,
                created_at: p.created_at,
                updated_at: p.created_at,
            },
        );
        let mut pc = ProjectCtx {
            id,
            key: key.clone(),
            workflow_id,
            members: BTreeSet::new(),
            labels: BTreeMap::new(),
            sprints: BTreeMap::new(),
            tickets: BTreeMap::new(),
        };
        // The creator is a member from the start; others from when both the project and their
        // org membership exist.
        let creator_email = p.created_by.trim().to_lowercase();
        for (i, e) in std::iter::once(&creator_email).chain(p.members.iter()).enumerate() {
            let mpath = if i == 0 {
                format!("{path}.created_by")
            } else {
                format!("{path}.members[{}]", i - 1)
            };
            let (user, _) = ctx.member(&mpath, e)?;
            if !pc.members.insert(user) {
                bail!("{mpath}: {e} is already a member of {key} (the creator is added automatically)");
            }
            let joined = self
                .store
                .membership(ctx.id, user)
                .map(|m| m.joined_at)
                .unwrap_or(p.created_at);
            self.store.project_members.insert(
                (id, user),
                ProjectMember {
                    project_id: id,
                    user_id: user,
                    added_by: created_by,
                    added_at: joined.max(p.created_at),
                },
            );
        }
        for (i, l) in p.labels.iter().enumerate() {
            self.label(&format!("{path}.labels[{i}]"), ctx, &mut pc, p, l)?;
        }
        for (i, s) in p.sprints.iter().enumerate() {
            self.sprint(&format!("{path}.sprints[{i}]"), ctx, &mut pc, s)?;
        }
        let active: Vec<&SprintSpec> = p.sprints.iter().filter(|s| s.status == SprintStatus::Active).collect();
        if active.len() > 1 {
            bail!(
                "{path}.sprints: a project has at most one Active sprint ({} are Active)",
                active.len()
            );
        }
        let mut timelines = BTreeMap::new();
        for (i, t) in p.tickets.iter().enumerate() {
            let tid = self.ticket(&format!("{path}.tickets[{i}]"), ctx, &mut pc, t)?;
            timelines.insert(tid, (i, self.status_timeline(tid)));
        }
        self.check_completed_sprints(path, &pc, p, &timelines)?;
        self.freeze_burndowns(&pc, &timelines);
        ctx.projects.insert(key, pc);
        Ok(())
    }

    fn label(
        &mut self,
        path: &str,
        ctx: &OrgCtx,
        pc: &mut ProjectCtx,
        p: &ProjectSpec,
        l: &LabelSpec,
    ) -> anyhow::Result<()> {
        let name = text(&format!("{path}.name"), &l.name, 1, 50)?;
        if pc.labels.contains_key(&name.to_lowercase()) {
            bail!("{path}.name: label {name} already exists in {}", pc.key);
        }
        let color = match &l.color {
            None => "#6B7280".to_string(),
            Some(c) => {
                let b = c.as_bytes();
                if b.len() != 7 || b[0] != b'#' || !b[1..].iter().all(u8::is_ascii_hexdigit) {
                    bail!("{path}.color: {c:?} must be # and six hex digits");
                }
                c.to_ascii_uppercase()
            }
        };
        let description = opt_text(&format!("{path}.description"), &l.description, 500)?;
        let created_by = match &l.created_by {
            Some(e) => ctx.actor(&format!("{path}.created_by"), e, OrgRole::Member, "creating a label")?,
            None => ctx.member(&format!("{path}.created_by"), &p.created_by)?.0,
        };
        let at = l.created_at.unwrap_or(p.created_at);
        let id = self.store.new_id();
        self.store.labels.insert(
            id,
            Label {
                id,
                org_id: ctx.id,
                project_id: pc.id,
                name: name.clone(),
                color,
                description,
                ticket_count: 0,
                created_by,
                created_at: at,
                updated_at: at,
            },
        );
        pc.labels.insert(name.to_lowercase(), id);
        Ok(())
    }

    fn sprint(&mut self, path: &str, ctx: &OrgCtx, pc: &mut ProjectCtx, s: &SprintSpec) -> anyhow::Result<()> {
        let name = text(&format!("{path}.name"), &s.name, 1, 100)?;
        if pc.sprints.contains_key(&name) {
            bail!(
                "{path}.name: sprint {name} is listed twice in {} (tickets name sprints by name)",
                pc.key
            );
        }
        let goal = opt_text(&format!("{path}.goal"), &s.goal, 1000)?;
        let span = s.start_date.days_until(s.end_date);
        if !(0..=365).contains(&span) {
            bail!("{path}.end_date: must be on or after start_date and at most 365 days after it");
        }
        let created_by = ctx.actor(
            &format!("{path}.created_by"),
            &s.created_by,
            OrgRole::Member,
            "creating a sprint",
        )?;
        match (s.status, s.started_at, s.completed_at) {
            (SprintStatus::Planned, None, None) => {}
            (SprintStatus::Active, Some(st), None) => {
                check_order(&format!("{path}.started_at"), s.created_at, st, "created_at")?;
            }
            (SprintStatus::Completed, Some(st), Some(done)) => {
                check_order(&format!("{path}.started_at"), s.created_at, st, "created_at")?;
                check_order(&format!("{path}.completed_at"), st, done, "started_at")?;
            }
            (status, ..) => bail!(
                "{path}: a {status} sprint has {}",
                match status {
                    SprintStatus::Planned => "neither started_at nor completed_at",
                    SprintStatus::Active => "started_at and no completed_at",
                    SprintStatus::Completed => "both started_at and completed_at",
                }
            ),
        }
        let updated = [Some(s.created_at), s.started_at, s.completed_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(s.created_at);
        let id = self.store.new_id();
        self.store.sprints.insert(
            id,
            Sprint {
                id,
                org_id: ctx.id,
                project_id: pc.id,
                name: name.clone(),
                goal,
                start_date: s.start_date,
                end_date: s.end_date,
                status: s.status,
                started_at: s.started_at,
                completed_at: s.completed_at,
                created_by,
                created_at: s.created_at,
                updated_at: updated,
                frozen_burndown: None,
            },
        );
        pc.sprints.insert(name, id);
        Ok(())
    }

    /// Resolves a sprint name for a ticket that joins it at `at`.
    fn sprint_ref(&self, path: &str, pc: &ProjectCtx, name: &str, at: Ts) -> anyhow::Result<Uuid> {
        let id = *pc
            .sprints
            .get(name)
            .ok_or_else(|| anyhow!("{path}: unknown sprint {name} in {}", pc.key))?;
        let Some(s) = self.store.sprints.get(&id) else {
            bail!("{path}: sprint {name} vanished")
        };
        if at < s.created_at {
            bail!(
                "{path}: sprint {name} does not exist yet at {at} (created {})",
                s.created_at
            );
        }
        if s.completed_at.is_some_and(|c| c <= at) {
            bail!("{path}: sprint {name} is already Completed at {at}");
        }
        Ok(id)
    }

    fn label_ref(path: &str, pc: &ProjectCtx, name: &str) -> anyhow::Result<Uuid> {
        pc.labels
            .get(&name.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown label {name} in {}", pc.key))
    }

    fn check_tags(path: &str, tags: &BTreeMap<String, String>) -> anyhow::Result<()> {
        for (k, v) in tags {
            if !is_tag_key(k) {
                bail!("{path}.{k}: tag keys match ^[a-z0-9][a-z0-9_.:-]{{0,63}}$");
            }
            if chars(v) > 256 {
                bail!("{path}.{k}: tag values have at most 256 characters");
            }
        }
        if tags.len() > 50 {
            bail!("{path}: at most 50 tags per ticket");
        }
        Ok(())
    }

    fn ticket(&mut self, path: &str, ctx: &OrgCtx, pc: &mut ProjectCtx, t: &TicketSpec) -> anyhow::Result<Uuid> {
        let last = pc.tickets.keys().next_back().copied().unwrap_or(0);
        let number = t.number.unwrap_or(last + 1);
        if number <= last {
            bail!("{path}.number: {number} must be greater than the previous ticket's number ({last})");
        }
        let title = text(&format!("{path}.title"), &t.title, 1, 255)?;
        let description = opt_text(&format!("{path}.description"), &t.description, 50_000)?;
        let at = t.created_at;
        let created_by = self.ticket_author(&format!("{path}.created_by"), ctx, pc, &t.created_by)?;
        let reporter = match &t.reporter {
            Some(e) => ctx.member(&format!("{path}.reporter"), e)?.0,
            None => created_by,
        };
        let assignee = match &t.assignee {
            Some(e) => Some(ctx.member(&format!("{path}.assignee"), e)?.0),
            None => None,
        };
        let sprint = match &t.sprint {
            Some(s) => Some(self.sprint_ref(&format!("{path}.sprint"), pc, s, at)?),
            None => None,
        };
        if t.story_points.is_some_and(|p| !(0..=100).contains(&p)) {
            bail!("{path}.story_points: must be 0-100");
        }
        let mut label_ids = Vec::new();
        for (i, l) in t.labels.iter().enumerate() {
            let id = Self::label_ref(&format!("{path}.labels[{i}]"), pc, l)?;
            if label_ids.contains(&id) {
                bail!("{path}.labels[{i}]: {l} is listed twice");
            }
            label_ids.push(id);
        }
        Self::check_tags(&format!("{path}.tags"), &t.tags)?;
        let workflow = self
            .store
            .workflows
            .get(&pc.workflow_id)
            .cloned()
            .ok_or_else(|| anyhow!("{path}: the project's workflow vanished"))?;
        let key = format!("{}-{number}", pc.key);
        let id = self.store.new_id();
        self.store.tickets.insert(
            id,
            Ticket {
                id,
                org_id: ctx.id,
                project_id: pc.id,
                ticket_number: number,
                key: key.clone(),
                title: title.clone(),
                description,
                status: workflow.initial_status.clone(),
                priority: t.priority.unwrap_or(Priority::Medium),
                ticket_type: t.ticket_type.unwrap_or(TicketType::Task),
                reporter_id: reporter,
                assignee_id: assignee,
                sprint_id: sprint,
                story_points: t.story_points,
                due_date: t.due_date,
                label_ids: label_ids.clone(),
                tags: t.tags.clone(),
                resolved_at: None,
                created_by,
                created_at: at,
                updated_at: at,
            },
        );
        if let Some(p) = self.store.projects.get_mut(&pc.id) {
            p.ticket_counter = number;
        }
        pc.tickets.insert(number, id);
        let created = json!({"key": key, "title": title, "status": workflow.initial_status});
        self.store
            .log_activity(id, created_by, ActivityAction::Created, None, None, Some(created), at);
        for l in &label_ids {
            self.store.log_activity(
                id,
                created_by,
                ActivityAction::LabelAdded,
                Some("labels"),
                None,
                Some(json!(l)),
                at,
            );
        }
        for (k, v) in &t.tags {
            self.store.log_activity(
                id,
                created_by,
                ActivityAction::TagSet,
                Some(k),
                None,
                Some(json!(v)),
                at,
            );
        }
        let mut prev = at;
        for (i, s) in t.history.iter().enumerate() {
            let sp = format!("{path}.history[{i}]");
            check_order(
                &format!("{sp}.at"),
                prev,
                s.at,
                "the previous step (steps are in time order)",
            )?;
            prev = s.at;
            self.step(&sp, ctx, pc, &workflow, id, s)?;
        }
        Ok(id)
    }

    /// The creator of a ticket or comment: a Reporter who is a project member, or Member+.
    fn ticket_author(&self, path: &str, ctx: &OrgCtx, pc: &ProjectCtx, email: &str) -> anyhow::Result<Uuid> {
        let (id, role) = ctx.member(path, email)?;
        if !role.at_least(OrgRole::Reporter) {
            bail!("{path}: {email} is a {role} and cannot write tickets or comments");
        }
        if role == OrgRole::Reporter && !pc.members.contains(&id) {
            bail!("{path}: {email} is a Reporter and not a member of project {}", pc.key);
        }
        Ok(id)
    }

    fn step(
        &mut self,
        path: &str,
        ctx: &OrgCtx,
        pc: &ProjectCtx,
        workflow: &Workflow,
        tid: Uuid,
        s: &StepSpec,
    ) -> anyhow::Result<()> {
        let is_patch = s.priority.is_some()
            || s.ticket_type.is_some()
            || s.assignee.is_some()
            || s.sprint.is_some()
            || s.story_points.is_some()
            || s.due_date.is_some();
        let kinds = [
            s.status.is_some(),
            is_patch,
            !s.add_labels.is_empty() || !s.remove_labels.is_empty(),
            !s.tags.is_empty(),
            s.comment.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            bail!(
                "{path}: a step makes exactly one kind of change: status, field changes (priority, ticket_type, \
                 assignee, sprint, story_points, due_date), labels (add_labels, remove_labels), tags, or comment"
            );
        }
        if s.edited_at.is_some() && s.comment.is_none() {
            bail!("{path}.edited_at: only a comment step can be edited");
        }
        let at = s.at;
        let Some(ticket) = self.store.tickets.get(&tid).cloned() else {
            bail!("{path}: the ticket vanished")
        };
        if let Some(body) = &s.comment {
            let author = self.ticket_author(&format!("{path}.by"), ctx, pc, &s.by)?;
            let body = text(&format!("{path}.comment"), body, 1, 10_000)?;
            if let Some(e) = s.edited_at {
                check_order(&format!("{path}.edited_at"), at, e, "the comment's at")?;
            }
            let cid = self.store.new_id();
            self.store.comments.insert(
                cid,
                Comment {
                    id: cid,
                    org_id: ctx.id,
                    ticket_id: tid,
                    author_id: author,
                    body,
                    edited_at: s.edited_at,
                    created_at: at,
                    updated_at: s.edited_at.unwrap_or(at),
                },
            );
            self.store
                .log_activity(tid, author, ActivityAction::Commented, None, None, Some(json!(cid)), at);
            return Ok(());
        }
        let actor = ctx.actor(&format!("{path}.by"), &s.by, OrgRole::Member, "changing a ticket")?;
        if let Some(to) = &s.status {
            let from = ticket.status.clone();
            if !workflow.has_status(to) {
                bail!("{path}.status: {to} is not a status of workflow {}", workflow.name);
            }
            if &from == to {
                bail!("{path}.status: the ticket is already {to} (a no-op leaves no activity)");
            }
            if workflow.enforcement == WorkflowEnforcement::Strict
                && !workflow.transitions.iter().any(|t| t.from == from && t.to == *to)
            {
                let allowed: Vec<&str> = workflow
                    .transitions
                    .iter()
                    .filter(|t| t.from == from)
                    .map(|t| t.to.as_str())
                    .collect();
                bail!(
                    "{path}.status: transition {from} -> {to} is not allowed by workflow {} (allowed: {})",
                    workflow.name,
                    allowed.join(", ")
                );
            }
            let was_open = workflow.category_of(&from).is_open();
            let now_open = workflow.category_of(to).is_open();
            if let Some(t) = self.store.tickets.get_mut(&tid) {
                t.status = to.clone();
                if was_open && !now_open {
                    t.resolved_at = Some(at);
                } else if now_open {
                    t.resolved_at = None;
                }
            }
            self.store.log_activity(
                tid,
                actor,
                ActivityAction::StatusChanged,
                Some("status"),
                Some(json!(from)),
                Some(json!(to)),
                at,
            );
            return Ok(());
        }
        if is_patch {
            return self.patch(path, ctx, pc, &ticket, actor, s);
        }
        if !s.add_labels.is_empty() || !s.remove_labels.is_empty() {
            let mut labels = ticket.label_ids.clone();
            for (i, l) in s.add_labels.iter().enumerate() {
                let lid = Self::label_ref(&format!("{path}.add_labels[{i}]"), pc, l)?;
                if labels.contains(&lid) {
                    bail!("{path}.add_labels[{i}]: {l} is already attached");
                }
                labels.push(lid);
                self.set_labels(tid, &labels);
                self.store.log_activity(
                    tid,
                    actor,
                    ActivityAction::LabelAdded,
                    Some("labels"),
                    None,
                    Some(json!(lid)),
                    at,
                );
            }
            for (i, l) in s.remove_labels.iter().enumerate() {
                let lid = Self::label_ref(&format!("{path}.remove_labels[{i}]"), pc, l)?;
                if !labels.contains(&lid) {
                    bail!("{path}.remove_labels[{i}]: {l} is not attached");
                }
                labels.retain(|x| *x != lid);
                self.set_labels(tid, &labels);
                self.store.log_activity(
                    tid,
                    actor,
                    ActivityAction::LabelRemoved,
                    Some("labels"),
                    Some(json!(lid)),
                    None,
                    at,
                );
            }
            return Ok(());
        }
        let mut tags = ticket.tags.clone();
        for (k, v) in &s.tags {
            let old = tags.get(k).cloned();
            match v {
                Some(v) => {
                    if old.as_ref() == Some(v) {
                        bail!("{path}.tags.{k}: already {v:?} (a no-op leaves no activity)");
                    }
                    tags.insert(k.clone(), v.clone());
                }
                None => {
                    if old.is_none() {
                        bail!("{path}.tags.{k}: the ticket has no such tag to remove");
                    }
                    tags.remove(k);
                }
            }
        }
        Self::check_tags(&format!("{path}.tags"), &tags)?;
        if let Some(t) = self.store.tickets.get_mut(&tid) {
            t.tags = tags;
        }
        for (k, v) in &s.tags {
            let old = ticket.tags.get(k).map(|o| json!(o));
            let (action, new) = match v {
                Some(v) => (ActivityAction::TagSet, Some(json!(v))),
                None => (ActivityAction::TagRemoved, None),
            };
            self.store.log_activity(tid, actor, action, Some(k), old, new, at);
        }
        Ok(())
    }

    fn set_labels(&mut self, tid: Uuid, labels: &[Uuid]) {
        if let Some(t) = self.store.tickets.get_mut(&tid) {
            t.label_ids = labels.to_vec();
        }
    }

    /// One PATCH: entries in §3.4 field order.
    fn patch(
        &mut self,
        path: &str,
        ctx: &OrgCtx,
        pc: &ProjectCtx,
        ticket: &Ticket,
        actor: Uuid,
        s: &StepSpec,
    ) -> anyhow::Result<()> {
        let at = s.at;
        let mut t = ticket.clone();
        let mut entries: Vec<(ActivityAction, &str, Value, Value)> = Vec::new();
        if let Some(p) = s.priority
            && p != t.priority
        {
            entries.push((ActivityAction::Updated, "priority", json!(t.priority), json!(p)));
            t.priority = p;
        }
        if let Some(ty) = s.ticket_type
            && ty != t.ticket_type
        {
            entries.push((ActivityAction::Updated, "ticket_type", json!(t.ticket_type), json!(ty)));
            t.ticket_type = ty;
        }
        if let Some(a) = &s.assignee {
            let new = match a {
                Some(e) => Some(ctx.member(&format!("{path}.assignee"), e)?.0),
                None => None,
            };
            if new != t.assignee_id {
                entries.push((
                    ActivityAction::Assigned,
                    "assignee_id",
                    json!(t.assignee_id),
                    json!(new),
                ));
                t.assignee_id = new;
            }
        }
        if let Some(sp) = &s.sprint {
            let new = match sp {
                Some(name) => Some(self.sprint_ref(&format!("{path}.sprint"), pc, name, at)?),
                None => None,
            };
            if new != t.sprint_id {
                entries.push((
                    ActivityAction::SprintChanged,
                    "sprint_id",
                    json!(t.sprint_id),
                    json!(new),
                ));
                t.sprint_id = new;
            }
        }
        if let Some(pts) = s.story_points {
            if pts.is_some_and(|p| !(0..=100).contains(&p)) {
                bail!("{path}.story_points: must be 0-100");
            }
            if pts != t.story_points {
                entries.push((
                    ActivityAction::Updated,
                    "story_points",
                    json!(t.story_points),
                    json!(pts),
                ));
                t.story_points = pts;
            }
        }
        if let Some(d) = s.due_date
            && d != t.due_date
        {
            entries.push((ActivityAction::Updated, "due_date", json!(t.due_date), json!(d)));
            t.due_date = d;
        }
        if entries.is_empty() {
            bail!("{path}: every field of this step already has that value (a no-op leaves no activity)");
        }
        self.store.tickets.insert(t.id, t.clone());
        for (action, field, old, new) in entries {
            self.store
                .log_activity(t.id, actor, action, Some(field), Some(old), Some(new), at);
        }
        Ok(())
    }

    /// The ticket's statuses over time, from its activity: `(at, status)` ascending.
    fn status_timeline(&self, tid: Uuid) -> Vec<(Ts, String)> {
        let mut out: Vec<(Ts, Uuid, String)> = self
            .store
            .activity
            .values()
            .filter(|a| a.ticket_id == tid)
            .filter_map(|a| match a.action {
                ActivityAction::Created => a
                    .new_value
                    .as_ref()?
                    .get("status")?
                    .as_str()
                    .map(|s| (a.created_at, a.id, s.to_string())),
                ActivityAction::StatusChanged => a
                    .new_value
                    .as_ref()?
                    .as_str()
                    .map(|s| (a.created_at, a.id, s.to_string())),
                _ => None,
            })
            .collect();
        out.sort();
        out.into_iter().map(|(t, _, s)| (t, s)).collect()
    }

    /// A Completed sprint keeps only tickets that were closed when it completed: open ones were
    /// carried over (a `sprint` step at `completed_at`).
    fn check_completed_sprints(
        &self,
        path: &str,
        pc: &ProjectCtx,
        p: &ProjectSpec,
        timelines: &Timelines,
    ) -> anyhow::Result<()> {
        let Some(workflow) = self.store.workflows.get(&pc.workflow_id) else {
            return Ok(());
        };
        for s in &p.sprints {
            let (Some(done), Some(sid)) = (s.completed_at, pc.sprints.get(s.name.trim())) else {
                continue;
            };
            for (tid, (i, timeline)) in timelines {
                if self.store.tickets.get(tid).is_none_or(|t| t.sprint_id != Some(*sid)) {
                    continue;
                }
                let status = timeline
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= done)
                    .map(|(_, s)| s.as_str())
                    .unwrap_or("");
                if workflow.category_of(status).is_open() {
                    bail!(
                        "{path}.tickets[{i}]: was {status} (open) when sprint {} completed at {done}; \
                         move it out with a sprint step at that instant",
                        s.name
                    );
                }
            }
        }
        Ok(())
    }

    /// Stores the burndown of every Completed sprint as `complete` would have frozen it: over
    /// the tickets in the sprint just before `completed_at` (carried-over ones included), each
    /// with its status at that instant.
    fn freeze_burndowns(&mut self, pc: &ProjectCtx, timelines: &Timelines) {
        let sprints: Vec<Sprint> = pc
            .sprints
            .values()
            .filter_map(|id| self.store.sprints.get(id))
            .filter(|s| s.status == SprintStatus::Completed)
            .cloned()
            .collect();
        for sprint in sprints {
            let Some(done) = sprint.completed_at else { continue };
            let mut saved: Vec<Ticket> = Vec::new();
            for (tid, (_, timeline)) in timelines {
                let Some(t) = self.store.tickets.get(tid) else { continue };
                if self.sprint_before(t, done) != Some(sprint.id) {
                    continue;
                }
                let mut then = t.clone();
                then.sprint_id = Some(sprint.id);
                if let Some((_, status)) = timeline.iter().rev().find(|(at, _)| *at <= done) {
                    then.status = status.clone();
                }
                saved.push(t.clone());
                self.store.tickets.insert(then.id, then);
            }
            let frozen = crate::routes::sprints::compute_burndown(self.store, &sprint);
            for t in saved {
                self.store.tickets.insert(t.id, t);
            }
            if let Some(s) = self.store.sprints.get_mut(&sprint.id) {
                s.frozen_burndown = Some(frozen);
            }
        }
    }

    /// The ticket's sprint just before `at` (moves made at `at` itself not yet applied).
    fn sprint_before(&self, t: &Ticket, at: Ts) -> Option<Uuid> {
        let mut moves: Vec<(Ts, Uuid, Option<Uuid>, Option<Uuid>)> = self
            .store
            .activity
            .values()
            .filter(|a| a.ticket_id == t.id && a.action == ActivityAction::SprintChanged)
            .map(|a| {
                let id = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
                (a.created_at, a.id, id(&a.old_value), id(&a.new_value))
            })
            .collect();
        moves.sort();
        match moves.iter().rev().find(|m| m.0 < at) {
            Some(m) => m.3,
            None => moves.first().map_or(t.sprint_id, |m| m.2),
        }
    }

    fn time_entry(&mut self, path: &str, ctx: &OrgCtx, e: &TimeEntrySpec) -> anyhow::Result<()> {
        let (pkey, number) = match parse_ticket_ref(e.ticket.trim()) {
            Some(Ref::TicketKey(k, n)) => (k, n),
            _ => bail!("{path}.ticket: {:?} is not a ticket key like WEB-3", e.ticket),
        };
        let pc = ctx
            .projects
            .get(&pkey)
            .ok_or_else(|| anyhow!("{path}.ticket: unknown project {pkey}"))?;
        let tid = *pc
            .tickets
            .get(&number)
            .ok_or_else(|| anyhow!("{path}.ticket: unknown ticket {}", e.ticket))?;
        let Some(ticket) = self.store.tickets.get(&tid).cloned() else {
            bail!("{path}.ticket: the ticket vanished")
        };
        let user = ctx.actor(&format!("{path}.user"), &e.user, OrgRole::Member, "logging time")?;
        if !(1..=1440).contains(&e.minutes) {
            bail!("{path}.minutes: must be 1-1440");
        }
        if e.date < Day::from_ymd(2000, 1, 1).unwrap_or(e.date) {
            bail!("{path}.date: not before 2000-01-01");
        }
        if e.date < ticket.created_at.day() {
            bail!("{path}.date: {} is before {} was created", e.date, ticket.key);
        }
        let description = opt_text(&format!("{path}.description"), &e.description, 2000)?;
        let created = e.created_at.unwrap_or_else(|| e.date.start().plus_ms(17 * 3_600_000));
        let reviewer = |who: &Option<String>, field: &str| -> anyhow::Result<Option<Uuid>> {
            match who {
                Some(w) => Ok(Some(ctx.actor(
                    &format!("{path}.{field}"),
                    w,
                    OrgRole::Admin,
                    "reviewing time",
                )?)),
                None => Ok(None),
            }
        };
        let approved_by = reviewer(&e.approved_by, "approved_by")?;
        let rejected_by = reviewer(&e.rejected_by, "rejected_by")?;
        let approved = e.approved_at.is_some() || approved_by.is_some();
        let rejected = e.rejected_at.is_some() || rejected_by.is_some() || e.rejection_reason.is_some();
        let need = |v: bool, field: &str| -> anyhow::Result<()> {
            if v {
                Ok(())
            } else {
                Err(anyhow!("{path}.{field}: required for a {} entry", e.status))
            }
        };
        let forbid = |v: bool, field: &str| -> anyhow::Result<()> {
            if v {
                Err(anyhow!("{path}.{field}: not allowed on a {} entry", e.status))
            } else {
                Ok(())
            }
        };
        let all_rejected = e.rejected_at.is_some() && rejected_by.is_some() && e.rejection_reason.is_some();
        match e.status {
            TimeEntryStatus::Draft => {
                forbid(approved, "approved_at")?;
                // A Rejected entry that was edited is a Draft that still shows its rejection.
                if rejected && !all_rejected {
                    bail!("{path}: an edited rejection keeps rejected_at, rejected_by and rejection_reason together");
                }
                if rejected != e.submitted_at.is_some() {
                    bail!("{path}.submitted_at: a Draft has submitted_at only when it was rejected before");
                }
            }
            TimeEntryStatus::Submitted => {
                need(e.submitted_at.is_some(), "submitted_at")?;
                forbid(approved, "approved_at")?;
                forbid(rejected, "rejected_at")?;
            }
            TimeEntryStatus::Approved => {
                need(e.submitted_at.is_some(), "submitted_at")?;
                need(
                    e.approved_at.is_some() && approved_by.is_some(),
                    "approved_at and approved_by",
                )?;
                forbid(rejected, "rejected_at")?;
            }
            TimeEntryStatus::Rejected => {
                need(e.submitted_at.is_some(), "submitted_at")?;
                need(all_rejected, "rejected_at, rejected_by and rejection_reason")?;
                forbid(approved, "approved_at")?;
            }
        }
        if let Some(r) = &e.rejection_reason {
            text(&format!("{path}.rejection_reason"), r, 1, 500)?;
        }
        if let Some(s) = e.submitted_at {
            check_order(&format!("{path}.submitted_at"), created, s, "created_at")?;
            for (field, v) in [("approved_at", e.approved_at), ("rejected_at", e.rejected_at)] {
                if let Some(v) = v {
                    check_order(&format!("{path}.{field}"), s, v, "submitted_at")?;
                }
            }
        }
        let updated = [Some(created), e.submitted_at, e.approved_at, e.rejected_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(created);
        let id = self.store.new_id();
        self.store.time_entries.insert(
            id,
            TimeEntry {
                id,
                org_id: ctx.id,
                project_id: ticket.project_id,
                ticket_id: tid,
                ticket_key: ticket.key.clone(),
                user_id: user,
                date: e.date,
                minutes: e.minutes,
                description,
                status: e.status,
                submitted_at: e.submitted_at,
                approved_at: e.approved_at,
                rejected_at: e.rejected_at,
                approved_by,
                rejected_by,
                rejection_reason: e.rejection_reason.clone(),
                created_at: created,
                updated_at: updated,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Settings;
    use crate::values::Clock;

    fn store() -> Store {
        Store::new(
            Settings {
                deterministic: true,
                ..Settings::default()
            },
            Clock::Fixed(Ts(0)),
        )
    }

    #[test]
    fn the_bundled_seed_parses_and_applies() {
        let seed = Seed::bundled().expect("bundled seed parses");
        let keys = seed.apply(&mut store()).expect("bundled seed applies");
        for role in OrgRole::ALL {
            assert!(keys.for_role(*role).starts_with("alloy_test_"), "{role} has a key");
        }
        assert!(!keys.other_org_owner().is_empty());
    }

    #[test]
    fn an_unknown_field_is_an_error_naming_it() {
        let e = Seed::from_json(r#"{"users": [], "orgs": [], "userz": []}"#, "x.json").expect_err("error");
        let msg = e.to_string();
        assert!(msg.contains("x.json") && msg.contains("userz"), "{msg}");
    }

    #[test]
    fn an_unknown_assignee_is_an_error_naming_the_seed_path() {
        let text = r#"{
          "users": [{"email": "o@x.test", "display_name": "O", "created_at": "2026-01-01T00:00:00Z"}],
          "orgs": [{"name": "X", "slug": "xxx", "created_at": "2026-01-01T00:00:00Z",
            "members": [{"email": "o@x.test", "role": "Owner"}],
            "projects": [{"key": "PP", "name": "P", "created_by": "o@x.test", "created_at": "2026-01-01T00:00:00Z"},
              {"key": "PQ", "name": "Q", "created_by": "o@x.test", "created_at": "2026-01-01T00:00:00Z",
               "tickets": [{"title": "t", "created_by": "o@x.test", "created_at": "2026-01-02T00:00:00Z",
                            "assignee": "bob@x"}]}]}]}"#;
        let seed = Seed::from_json(text, "t.json").expect("parses");
        let msg = format!("{:#}", seed.apply(&mut store()).expect_err("error"));
        assert!(
            msg.contains("t.json: orgs[0].projects[1].tickets[0].assignee: unknown user bob@x"),
            "{msg}"
        );
    }

    #[test]
    fn a_transition_the_strict_workflow_forbids_is_an_error() {
        let text = r#"{
          "users": [{"email": "o@x.test", "display_name": "O", "created_at": "2026-01-01T00:00:00Z"}],
          "orgs": [{"name": "X", "slug": "xxx", "created_at": "2026-01-01T00:00:00Z",
            "members": [{"email": "o@x.test", "role": "Owner"}],
            "workflows": [{"name": "Strict", "enforcement": "strict", "created_by": "o@x.test",
              "created_at": "2026-01-01T00:00:00Z",
              "statuses": [{"name": "Open", "category": "Unstarted"}, {"name": "Shut", "category": "Completed"}],
              "transitions": []}],
            "projects": [{"key": "PQ", "name": "Q", "workflow": "Strict", "created_by": "o@x.test",
               "created_at": "2026-01-01T00:00:00Z",
               "tickets": [{"title": "t", "created_by": "o@x.test", "created_at": "2026-01-02T00:00:00Z",
                 "history": [{"at": "2026-01-03T00:00:00Z", "by": "o@x.test", "status": "Shut"}]}]}]}]}"#;
        let seed = Seed::from_json(text, "t.json").expect("parses");
        let msg = format!("{:#}", seed.apply(&mut store()).expect_err("error"));
        assert!(
            msg.contains("orgs[0].projects[0].tickets[0].history[0].status"),
            "{msg}"
        );
        assert!(msg.contains("Open -> Shut"), "{msg}");
    }
}
