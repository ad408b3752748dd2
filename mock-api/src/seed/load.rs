//! The seed loader: it replays the seed as the API requests that would have made it. Each
//! record is a call of its route's handler ([`Loader::call`]), acting as the record's user at
//! the record's instant (the store's clock is set to it), so every field rule, reference rule,
//! permission, workflow transition and activity entry is the API's own. Only what no request
//! can do is written directly, after the routes' own readers checked it: users (and whether
//! they are active), memberships with their join date, API keys and invite codes with fixed
//! secrets, an accepted invite, a sprint completed in the past with its frozen burndown, and a
//! comment's edit date. What is left to the loader are natural keys (emails, names, numbers)
//! and the order of time.

use super::format::*;
use super::{SeedKeys, SeededKey};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::model::*;
use crate::request::{Body, Ctx, Mode, Query, ReplyBody};
use crate::routes::{Route, access, all_routes, sprints::compute_burndown, system};
use crate::store::{Store, sha256_hex};
use crate::values::{Clock, Ts};
use anyhow::{anyhow, bail};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A failed call as a seed error: the seed path, then what the API said (each failing field of
/// a `validation_error` as `<path>.<field>: <problem>`).
fn refused(path: &str, e: &ApiError) -> anyhow::Error {
    if let Some(Value::Object(fields)) = e.details.get("fields") {
        let parts: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{path}.{k}: {}", v.as_str().unwrap_or("invalid")))
            .collect();
        return anyhow!("{}", parts.join("; "));
    }
    anyhow!("{path}: {} ({} {})", e.message, e.status, e.code)
}

/// `later` must not be before `earlier`.
fn after(path: &str, earlier: Ts, later: Ts, what: &str) -> anyhow::Result<()> {
    if later < earlier {
        bail!("{path}: {later} is before {what} ({earlier})");
    }
    Ok(())
}

fn id_of(v: &Value, path: &str) -> anyhow::Result<Uuid> {
    v.get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("{path}: the API answered without an id"))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Lookups of one org while it is being seeded.
struct OrgCtx {
    id: Uuid,
    slug: String,
    /// email → user id.
    members: BTreeMap<String, Uuid>,
    /// lower-cased name → workflow id.
    workflows: BTreeMap<String, Uuid>,
}

/// One sprint of the project being seeded and the instants of its life.
struct SprintLife {
    id: Uuid,
    created_at: Ts,
    started_at: Option<Ts>,
    completed_at: Option<Ts>,
    starter: Uuid,
}

/// Lookups of one project while it is being seeded.
struct ProjectCtx {
    id: Uuid,
    key: String,
    /// lower-cased name → label id.
    labels: BTreeMap<String, Uuid>,
    /// name → sprint.
    sprints: BTreeMap<String, SprintLife>,
    last_number: i64,
}

/// Each seeded ticket of a project: its index in the seed and its `(at, status)` history.
type Timelines = BTreeMap<Uuid, (usize, Vec<(Ts, String)>)>;

pub(super) struct Loader<'a> {
    store: &'a mut Store,
    routes: Vec<Route>,
    /// Lower-cased email → user id, across the installation.
    users: BTreeMap<String, Uuid>,
    keys: SeedKeys,
}

impl<'a> Loader<'a> {
    pub fn new(store: &'a mut Store) -> Loader<'a> {
        Loader {
            store,
            routes: all_routes(),
            users: BTreeMap::new(),
            keys: SeedKeys::default(),
        }
    }

    /// Loads the document; the store's clock is back to what it was afterwards.
    pub fn run(mut self, doc: &SeedDoc) -> anyhow::Result<SeedKeys> {
        let clock = self.store.clock.clone();
        let result = self.seed(doc);
        self.store.clock = clock;
        result.map(|()| self.keys)
    }

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

    /// The caller `who` is in `org` (their role read from the store, as authentication does).
    fn caller(&self, org: Uuid, who: Uuid) -> Caller {
        Caller {
            user_id: who,
            org_id: org,
            role: self.store.membership(org, who).map_or(OrgRole::Viewer, |m| m.role),
            email: self.store.users.get(&who).map(|u| u.email.clone()).unwrap_or_default(),
            key: None,
        }
    }

    /// Calls the route `"METHOD /pattern"` as `who` in `org` at `at`, its `{…}` parameters
    /// taken from `args` in order, with `body` (`null` = none); returns the answer's JSON.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        org: Uuid,
        who: Uuid,
        at: Ts,
        route: &str,
        args: &[&str],
        body: Value,
        path: &str,
    ) -> anyhow::Result<Value> {
        let (method, pattern) = route.split_once(' ').unwrap_or(("", route));
        let r = self
            .routes
            .iter()
            .find(|r| r.method == method && r.path == pattern)
            .copied()
            .ok_or_else(|| anyhow!("{path}: the seed loader calls an unknown route {route}"))?;
        let names = r.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'));
        let params = names.zip(args).map(|(n, a)| (n, a.to_string())).collect();
        let caller = self.caller(org, who);
        self.store.clock = Clock::Fixed(at);
        let mut ctx = Ctx {
            store: &mut *self.store,
            caller: Some(caller),
            params,
            query: Query::default(),
            body: (!body.is_null()).then_some(body),
            client: "seed".into(),
        };
        match (r.handler)(&mut ctx) {
            Ok(reply) => match reply.body {
                ReplyBody::Json(v) => Ok(v),
                _ => Ok(Value::Null),
            },
            Err(e) => Err(refused(path, &e)),
        }
    }

    fn user_id(&self, path: &str, email: &str) -> anyhow::Result<Uuid> {
        self.users
            .get(&email.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown user {email} (add them to the top-level users list)"))
    }

    /// A member of the org by email, or an error naming the seed path.
    fn member(o: &OrgCtx, path: &str, email: &str) -> anyhow::Result<Uuid> {
        o.members
            .get(&email.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown user {email} (not a member of this org; list them under members)"))
    }

    fn user(&mut self, path: &str, u: &UserSpec) -> anyhow::Result<()> {
        let body = json!({"email": u.email, "display_name": u.display_name, "password": u.password});
        let mut b = Body::new(object(body));
        let (email, password, name) = system::read_user(&mut b, Mode::Optional);
        b.finish().map_err(|e| refused(path, &e))?;
        let (Some(email), Some(name)) = (email, name) else {
            bail!("{path}: email and display_name are required");
        };
        if self.users.contains_key(&email) {
            bail!("{path}.email: {email} is listed twice");
        }
        let id = self.store.add_user(&email, &name, password.as_deref());
        if let Some(user) = self.store.users.get_mut(&id) {
            user.active = u.active;
            user.created_at = u.created_at;
            user.updated_at = u.created_at;
        }
        self.users.insert(email, id);
        Ok(())
    }

    fn org(&mut self, path: &str, o: &OrgSpec) -> anyhow::Result<()> {
        let owner = o
            .members
            .iter()
            .position(|m| m.role == OrgRole::Owner)
            .ok_or_else(|| anyhow!("{path}.members: an org needs at least one Owner"))?;
        let owner = self.user_id(&format!("{path}.members[{owner}].email"), &o.members[owner].email)?;
        let body = json!({"name": o.name, "slug": o.slug});
        let org = self.call(Uuid::nil(), owner, o.created_at, "POST /api/v1/orgs", &[], body, path)?;
        let mut ctx = OrgCtx {
            id: id_of(&org, path)?,
            slug: o.slug.clone(),
            members: BTreeMap::new(),
            workflows: BTreeMap::new(),
        };
        if let Some(d) = self.store.default_workflow(ctx.id) {
            ctx.workflows.insert("default".into(), d.id);
        }
        for (i, m) in o.members.iter().enumerate() {
            self.membership(&format!("{path}.members[{i}]"), o, &mut ctx, m)?;
        }
        for (i, inv) in o.invites.iter().enumerate() {
            self.invite(&format!("{path}.invites[{i}]"), &ctx, inv)?;
        }
        for (i, t) in o.teams.iter().enumerate() {
            let p = format!("{path}.teams[{i}]");
            let by = Self::member(&ctx, &format!("{p}.created_by"), &t.created_by)?;
            let mut ids = Vec::new();
            for (j, e) in t.members.iter().enumerate() {
                ids.push(Self::member(&ctx, &format!("{p}.members[{j}]"), e)?);
            }
            let body = json!({"name": t.name, "description": t.description, "member_ids": ids});
            let org_id = ctx.id.to_string();
            self.call(
                ctx.id,
                by,
                t.created_at,
                "POST /api/v1/orgs/{org_id}/teams",
                &[&org_id],
                body,
                &p,
            )?;
        }
        for (i, w) in o.workflows.iter().enumerate() {
            let p = format!("{path}.workflows[{i}]");
            let by = Self::member(&ctx, &format!("{p}.created_by"), &w.created_by)?;
            let body = json!({"name": w.name, "description": w.description, "statuses": w.statuses,
                "initial_status": w.initial_status, "transitions": w.transitions, "enforcement": w.enforcement});
            let org_id = ctx.id.to_string();
            let route = "POST /api/v1/orgs/{org_id}/workflows";
            let wf = self.call(ctx.id, by, w.created_at, route, &[&org_id], body, &p)?;
            ctx.workflows.insert(w.name.trim().to_lowercase(), id_of(&wf, &p)?);
        }
        for (i, r) in o.labor_rates.iter().enumerate() {
            let p = format!("{path}.labor_rates[{i}]");
            let by = Self::member(&ctx, &format!("{p}.created_by"), &r.created_by)?;
            let user = Self::member(&ctx, &format!("{p}.user"), &r.user)?;
            let body = json!({"user_id": user, "hourly_rate_cents": r.hourly_rate_cents,
                "effective_from": r.effective_from, "note": r.note});
            let at = r.created_at.unwrap_or_else(|| r.effective_from.start());
            let org_id = ctx.id.to_string();
            self.call(
                ctx.id,
                by,
                at,
                "POST /api/v1/orgs/{org_id}/labor-rates",
                &[&org_id],
                body,
                &p,
            )?;
        }
        for (i, p) in o.projects.iter().enumerate() {
            self.project(&format!("{path}.projects[{i}]"), &ctx, p)?;
        }
        for (i, e) in o.time_entries.iter().enumerate() {
            self.time_entry(&format!("{path}.time_entries[{i}]"), &ctx, e)?;
        }
        Ok(())
    }

    fn membership(&mut self, path: &str, o: &OrgSpec, ctx: &mut OrgCtx, m: &MemberSpec) -> anyhow::Result<()> {
        let email = m.email.trim().to_lowercase();
        let user = self.user_id(&format!("{path}.email"), &email)?;
        if ctx.members.insert(email.clone(), user).is_some() {
            bail!("{path}.email: {email} is listed twice in this org");
        }
        let joined = m.joined_at.unwrap_or(o.created_at);
        after(
            &format!("{path}.joined_at"),
            o.created_at,
            joined,
            "the org's created_at",
        )?;
        self.store.set_membership(ctx.id, user, m.role);
        if let Some(ms) = self.store.memberships.get_mut(&(ctx.id, user)) {
            ms.joined_at = joined;
        }
        let Some(k) = &m.api_key else { return Ok(()) };
        let kp = format!("{path}.api_key");
        let at = k.created_at.unwrap_or(joined);
        let body = Body::new(object(
            json!({"name": k.name, "scopes": k.scopes, "expires_at": k.expires_at}),
        ));
        let caller = self.caller(ctx.id, user);
        let new = access::read_new_key(self.store, &caller, || Ok(body), at).map_err(|e| refused(&kp, &e))?;
        if !crate::auth::is_api_key(&k.key) {
            bail!("{kp}.key: an API key starts with alloy_test_ or alloy_live_");
        }
        if self.store.api_keys.values().any(|x| x.key_hash == sha256_hex(&k.key)) {
            bail!("{kp}.key: the same key is used twice");
        }
        let id = self.store.insert_api_key(
            ctx.id,
            user,
            &new.name,
            &k.key,
            new.scopes,
            new.project_ids,
            new.expires_at,
        );
        if let Some(stored) = self.store.api_keys.get_mut(&id) {
            stored.created_at = at;
        }
        self.keys.keys.push(SeededKey {
            org_slug: ctx.slug.clone(),
            org_id: ctx.id,
            email,
            user_id: user,
            role: m.role,
            key: k.key.clone(),
        });
        Ok(())
    }

    fn invite(&mut self, path: &str, ctx: &OrgCtx, inv: &InviteSpec) -> anyhow::Result<()> {
        let by = Self::member(ctx, &format!("{path}.invited_by"), &inv.invited_by)?;
        let body = json!({"email": inv.email, "role": inv.role, "expires_in_days": inv.expires_in_days});
        let caller = self.caller(ctx.id, by);
        let new = access::read_new_invite(&caller, || Ok(Body::new(object(body)))).map_err(|e| refused(path, &e))?;
        let is_member = ctx.members.contains_key(&new.email);
        match inv.accepted_at {
            // The invitee is listed under members: they accepted it.
            Some(at) if is_member => after(&format!("{path}.accepted_at"), inv.created_at, at, "created_at")?,
            Some(_) => bail!(
                "{path}.email: {} accepted the invite, so they are a member: list them",
                new.email
            ),
            None => access::check_invitable(self.store, ctx.id, &new.email, inv.created_at)
                .map_err(|e| refused(path, &e))?,
        }
        let code = match &inv.code {
            Some(c) if self.store.invites.values().any(|i| &i.code == c) => bail!("{path}.code: used twice"),
            Some(c) => c.clone(),
            None => format!("inv_{}", self.store.secret(24)),
        };
        let id = self.store.new_id();
        let accepted = inv.accepted_at.is_some();
        self.store.invites.insert(
            id,
            Invite {
                id,
                org_id: ctx.id,
                email: new.email,
                role: new.role,
                expires_at: inv.created_at.plus_days(new.days),
                status: if accepted {
                    InviteStatus::Accepted
                } else {
                    InviteStatus::Pending
                },
                code,
                invited_by: by,
                accepted_at: inv.accepted_at,
                revoked_at: None,
                created_at: inv.created_at,
            },
        );
        if let Some(at) = inv.revoked_at {
            let p = format!("{path}.revoked_at");
            self.call(
                ctx.id,
                by,
                at,
                "DELETE /api/v1/invites/{invite_id}",
                &[&id.to_string()],
                Value::Null,
                &p,
            )?;
        }
        Ok(())
    }

    fn project(&mut self, path: &str, o: &OrgCtx, p: &ProjectSpec) -> anyhow::Result<()> {
        let by = Self::member(o, &format!("{path}.created_by"), &p.created_by)?;
        let wf_name = p.workflow.as_deref().unwrap_or("Default");
        let workflow = *o
            .workflows
            .get(&wf_name.trim().to_lowercase())
            .ok_or_else(|| anyhow!("{path}.workflow: unknown workflow {wf_name}"))?;
        let body = json!({"key": p.key, "name": p.name, "description": p.description, "workflow_id": workflow,
            "capitalization_type": p.capitalization_type, "development_phase": p.development_phase,
            "cost_center_id": p.cost_center_id, "budget_cents": p.budget_cents, "budget_period": p.budget_period,
            "amortization_months": p.amortization_months});
        let created = self.call(o.id, by, p.created_at, "POST /api/v1/projects", &[], body, path)?;
        let mut pc = ProjectCtx {
            id: id_of(&created, path)?,
            key: created["key"].as_str().unwrap_or_default().to_string(),
            labels: BTreeMap::new(),
            sprints: BTreeMap::new(),
            last_number: 0,
        };
        let key = pc.key.clone();
        // Others join from when both the project and their org membership exist.
        for (i, e) in p.members.iter().enumerate() {
            let mp = format!("{path}.members[{i}]");
            let user = Self::member(o, &mp, e)?;
            let joined = self.store.membership(o.id, user).map_or(p.created_at, |m| m.joined_at);
            let body = json!({"user_id": user});
            let at = joined.max(p.created_at);
            self.call(
                o.id,
                by,
                at,
                "POST /api/v1/projects/{project}/members",
                &[&key],
                body,
                &mp,
            )?;
        }
        for (i, l) in p.labels.iter().enumerate() {
            let lp = format!("{path}.labels[{i}]");
            let who = match &l.created_by {
                Some(e) => Self::member(o, &format!("{lp}.created_by"), e)?,
                None => by,
            };
            let body = json!({"name": l.name, "color": l.color, "description": l.description});
            let at = l.created_at.unwrap_or(p.created_at);
            let label = self.call(
                o.id,
                who,
                at,
                "POST /api/v1/projects/{project}/labels",
                &[&key],
                body,
                &lp,
            )?;
            pc.labels.insert(l.name.trim().to_lowercase(), id_of(&label, &lp)?);
        }
        for (i, s) in p.sprints.iter().enumerate() {
            let sp = format!("{path}.sprints[{i}]");
            let who = Self::member(o, &format!("{sp}.created_by"), &s.created_by)?;
            if let Some(st) = s.started_at {
                after(&format!("{sp}.started_at"), s.created_at, st, "created_at")?;
            }
            match (s.started_at, s.completed_at) {
                (Some(st), Some(done)) => after(&format!("{sp}.completed_at"), st, done, "started_at")?,
                (None, Some(_)) => bail!("{sp}.completed_at: a sprint completes after it starts: give started_at"),
                _ => {}
            }
            let body = json!({"name": s.name, "goal": s.goal, "start_date": s.start_date, "end_date": s.end_date});
            let route = "POST /api/v1/projects/{project}/sprints";
            let sprint = self.call(o.id, who, s.created_at, route, &[&key], body, &sp)?;
            let life = SprintLife {
                id: id_of(&sprint, &sp)?,
                created_at: s.created_at,
                started_at: s.started_at,
                completed_at: s.completed_at,
                starter: who,
            };
            if pc.sprints.insert(s.name.clone(), life).is_some() {
                bail!(
                    "{sp}.name: sprint {} is listed twice in {key} (tickets name sprints by name)",
                    s.name
                );
            }
        }
        let mut timelines = BTreeMap::new();
        for (i, t) in p.tickets.iter().enumerate() {
            let tid = self.ticket(&format!("{path}.tickets[{i}]"), o, &mut pc, t)?;
            timelines.insert(tid, (i, self.status_timeline(tid)));
        }
        self.finish_sprints(path, o, &pc)?;
        self.check_completed_sprints(path, &pc, p, &timelines)?;
        self.freeze_burndowns(&pc, &timelines);
        Ok(())
    }

    /// Gives every sprint of the project the status it had at `at`, so the ticket routes judge
    /// sprint references as they would have then.
    fn sync_sprints(&mut self, pc: &ProjectCtx, at: Ts) {
        for life in pc.sprints.values() {
            let status = match (life.started_at, life.completed_at) {
                (_, Some(c)) if c <= at => SprintStatus::Completed,
                (Some(s), _) if s <= at => SprintStatus::Active,
                _ => SprintStatus::Planned,
            };
            if let Some(s) = self.store.sprints.get_mut(&life.id) {
                s.status = status;
            }
        }
    }

    /// A sprint named by a ticket at `at`: it must exist by then.
    fn sprint_ref(pc: &ProjectCtx, path: &str, name: &str, at: Ts) -> anyhow::Result<Uuid> {
        let life = pc
            .sprints
            .get(name)
            .ok_or_else(|| anyhow!("{path}: unknown sprint {name} in {}", pc.key))?;
        if at < life.created_at {
            bail!(
                "{path}: sprint {name} does not exist yet at {at} (created {})",
                life.created_at
            );
        }
        Ok(life.id)
    }

    fn label_ref(pc: &ProjectCtx, path: &str, name: &str) -> anyhow::Result<Uuid> {
        pc.labels
            .get(&name.trim().to_lowercase())
            .copied()
            .ok_or_else(|| anyhow!("{path}: unknown label {name} in {}", pc.key))
    }

    /// Starts each started sprint through the route at its `started_at` (one Active sprint at a
    /// time, as the route requires) and completes it at its `completed_at`.
    fn finish_sprints(&mut self, path: &str, o: &OrgCtx, pc: &ProjectCtx) -> anyhow::Result<()> {
        let mut lives: Vec<&SprintLife> = pc.sprints.values().filter(|l| l.started_at.is_some()).collect();
        lives.sort_by_key(|l| l.started_at);
        for l in pc.sprints.values() {
            if let Some(s) = self.store.sprints.get_mut(&l.id) {
                s.status = SprintStatus::Planned;
            }
        }
        for l in lives {
            let (Some(st), id) = (l.started_at, l.id.to_string()) else {
                continue;
            };
            let p = format!("{path}.sprints (start {id})");
            let route = "POST /api/v1/sprints/{sprint_id}/start";
            self.call(o.id, l.starter, st, route, &[&id], Value::Null, &p)?;
            if let (Some(done), Some(s)) = (l.completed_at, self.store.sprints.get_mut(&l.id)) {
                s.status = SprintStatus::Completed;
                s.completed_at = Some(done);
                s.updated_at = done;
            }
        }
        Ok(())
    }

    fn ticket(&mut self, path: &str, o: &OrgCtx, pc: &mut ProjectCtx, t: &TicketSpec) -> anyhow::Result<Uuid> {
        let number = t.number.unwrap_or(pc.last_number + 1);
        if number <= pc.last_number {
            bail!(
                "{path}.number: {number} must be greater than the previous ticket's number ({})",
                pc.last_number
            );
        }
        let at = t.created_at;
        let by = Self::member(o, &format!("{path}.created_by"), &t.created_by)?;
        let person = |field: &str, e: &Option<String>| -> anyhow::Result<Option<Uuid>> {
            e.as_ref()
                .map(|e| Self::member(o, &format!("{path}.{field}"), e))
                .transpose()
        };
        let (reporter, assignee) = (person("reporter", &t.reporter)?, person("assignee", &t.assignee)?);
        let sprint = match &t.sprint {
            Some(s) => Some(Self::sprint_ref(pc, &format!("{path}.sprint"), s, at)?),
            None => None,
        };
        let mut labels = Vec::new();
        for (i, l) in t.labels.iter().enumerate() {
            labels.push(Self::label_ref(pc, &format!("{path}.labels[{i}]"), l)?);
        }
        // A gap in the numbers stands for deleted tickets: the counter is past it.
        if let Some(p) = self.store.projects.get_mut(&pc.id) {
            p.ticket_counter = number - 1;
        }
        self.sync_sprints(pc, at);
        let body = json!({"title": t.title, "description": t.description, "ticket_type": t.ticket_type,
            "priority": t.priority, "reporter_id": reporter, "assignee_id": assignee, "sprint_id": sprint,
            "story_points": t.story_points, "due_date": t.due_date, "label_ids": labels, "tags": t.tags});
        let key = pc.key.clone();
        let created = self.call(
            o.id,
            by,
            at,
            "POST /api/v1/projects/{project}/tickets",
            &[&key],
            body,
            path,
        )?;
        let (id, key) = (
            id_of(&created, path)?,
            created["key"].as_str().unwrap_or_default().to_string(),
        );
        pc.last_number = number;
        let mut prev = at;
        for (i, s) in t.history.iter().enumerate() {
            let sp = format!("{path}.history[{i}]");
            let (at, by) = s.at_by();
            after(
                &format!("{sp}.at"),
                prev,
                at,
                "the previous step (steps are in time order)",
            )?;
            prev = at;
            let by = Self::member(o, &format!("{sp}.by"), by)?;
            self.sync_sprints(pc, at);
            let before = self.store.activity.len();
            self.step(&sp, o, pc, &key, by, s)?;
            if self.store.activity.len() == before {
                bail!("{sp}: this step changes nothing (a no-op leaves no activity)");
            }
        }
        Ok(id)
    }

    /// One history step, as the request its kind stands for.
    fn step(&mut self, sp: &str, o: &OrgCtx, pc: &ProjectCtx, key: &str, by: Uuid, s: &Step) -> anyhow::Result<()> {
        let (at, org) = (s.at_by().0, o.id);
        match s {
            Step::Transition { status, .. } => {
                let p = format!("{sp}.status");
                let route = "POST /api/v1/tickets/{ticket}/transition";
                self.call(org, by, at, route, &[key], json!({"status": status}), &p)?;
            }
            Step::Update {
                priority,
                ticket_type,
                assignee,
                sprint,
                story_points,
                due_date,
                ..
            } => {
                let mut body = Map::new();
                let mut put = |k: &str, v: Value| body.insert(k.to_string(), v);
                priority.map(|v| put("priority", json!(v)));
                ticket_type.map(|v| put("ticket_type", json!(v)));
                story_points.map(|v| put("story_points", json!(v)));
                due_date.map(|v| put("due_date", json!(v)));
                if let Some(a) = assignee {
                    let id = a
                        .as_ref()
                        .map(|e| Self::member(o, &format!("{sp}.assignee"), e))
                        .transpose()?;
                    body.insert("assignee_id".into(), json!(id));
                }
                if let Some(sn) = sprint {
                    let id = sn
                        .as_ref()
                        .map(|n| Self::sprint_ref(pc, &format!("{sp}.sprint"), n, at))
                        .transpose()?;
                    body.insert("sprint_id".into(), json!(id));
                }
                self.call(
                    org,
                    by,
                    at,
                    "PATCH /api/v1/tickets/{ticket}",
                    &[key],
                    Value::Object(body),
                    sp,
                )?;
            }
            Step::Labels { add, remove, .. } => {
                for (i, l) in add.iter().enumerate() {
                    let p = format!("{sp}.add[{i}]");
                    let body = json!({"label_id": Self::label_ref(pc, &p, l)?});
                    self.call(org, by, at, "POST /api/v1/tickets/{ticket}/labels", &[key], body, &p)?;
                }
                for (i, l) in remove.iter().enumerate() {
                    let p = format!("{sp}.remove[{i}]");
                    let id = Self::label_ref(pc, &p, l)?.to_string();
                    let route = "DELETE /api/v1/tickets/{ticket}/labels/{label_id}";
                    self.call(org, by, at, route, &[key, &id], Value::Null, &p)?;
                }
            }
            Step::Tags { tags, .. } => {
                self.call(
                    org,
                    by,
                    at,
                    "PATCH /api/v1/tickets/{ticket}/tags",
                    &[key],
                    json!({"tags": tags}),
                    sp,
                )?;
            }
            Step::Comment { body, edited_at, .. } => {
                let route = "POST /api/v1/tickets/{ticket}/comments";
                let c = self.call(org, by, at, route, &[key], json!({"body": body}), sp)?;
                if let Some(e) = *edited_at {
                    after(&format!("{sp}.edited_at"), at, e, "the comment's at")?;
                    if let Some(c) = self.store.comments.get_mut(&id_of(&c, sp)?) {
                        c.edited_at = Some(e);
                        c.updated_at = e;
                    }
                }
            }
        }
        Ok(())
    }

    /// A time entry: logged by its user, then submitted, approved or rejected, each through
    /// its route at its instant (the routes hold the state machine).
    fn time_entry(&mut self, path: &str, o: &OrgCtx, e: &TimeEntrySpec) -> anyhow::Result<()> {
        let user = Self::member(o, &format!("{path}.user"), &e.user)?;
        let created = e.created_at.unwrap_or_else(|| e.date.start().plus_ms(17 * 3_600_000));
        let body = json!({"date": e.date, "minutes": e.minutes, "description": e.description});
        let route = "POST /api/v1/tickets/{ticket}/time-entries";
        let entry = self.call(o.id, user, created, route, &[e.ticket.trim()], body, path)?;
        let id = id_of(&entry, path)?.to_string();
        let mut last = created;
        if let Some(at) = e.submitted_at {
            let p = format!("{path}.submitted_at");
            after(&p, last, at, "created_at")?;
            last = at;
            self.call(
                o.id,
                user,
                at,
                "POST /api/v1/time-entries/{time_entry_id}/submit",
                &[&id],
                Value::Null,
                &p,
            )?;
        }
        for (field, review) in [("approved", &e.approved), ("rejected", &e.rejected)] {
            let Some(r) = review else { continue };
            let p = format!("{path}.{field}");
            after(&p, last, r.at, "the step before")?;
            let who = Self::member(o, &format!("{p}.by"), &r.by)?;
            let route = match field {
                "approved" => "POST /api/v1/time-entries/{time_entry_id}/approve",
                _ => "POST /api/v1/time-entries/{time_entry_id}/reject",
            };
            let body = r.reason.as_ref().map_or(Value::Null, |why| json!({"reason": why}));
            self.call(o.id, who, r.at, route, &[&id], body, &p)?;
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
            .filter_map(|a| {
                let status = match a.action {
                    ActivityAction::Created => a.new_value.as_ref()?.get("status")?.as_str(),
                    ActivityAction::StatusChanged => a.new_value.as_ref()?.as_str(),
                    _ => None,
                };
                status.map(|s| (a.created_at, a.id, s.to_string()))
            })
            .collect();
        out.sort();
        out.into_iter().map(|(t, _, s)| (t, s)).collect()
    }

    /// A Completed sprint keeps only tickets that were closed when it completed: open ones were
    /// carried over (an `update` step moving them at `completed_at`).
    fn check_completed_sprints(
        &self,
        path: &str,
        pc: &ProjectCtx,
        p: &ProjectSpec,
        tl: &Timelines,
    ) -> anyhow::Result<()> {
        let Some(workflow) = self.store.project_workflow(pc.id) else {
            return Ok(());
        };
        for s in &p.sprints {
            let (Some(done), Some(life)) = (s.completed_at, pc.sprints.get(&s.name)) else {
                continue;
            };
            for (tid, (i, timeline)) in tl {
                if self.store.tickets.get(tid).is_none_or(|t| t.sprint_id != Some(life.id)) {
                    continue;
                }
                let status = timeline
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= done)
                    .map_or("", |(_, s)| s.as_str());
                if workflow.category_of(status).is_open() {
                    bail!(
                        "{path}.tickets[{i}]: was {status} (open) when sprint {} completed at {done}; \
                         move it out with an update step at that instant",
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
    fn freeze_burndowns(&mut self, pc: &ProjectCtx, tl: &Timelines) {
        let sprints: Vec<Sprint> = pc
            .sprints
            .values()
            .filter_map(|l| self.store.sprints.get(&l.id))
            .filter(|s| s.status == SprintStatus::Completed)
            .cloned()
            .collect();
        for sprint in sprints {
            let Some(done) = sprint.completed_at else { continue };
            let mut saved: Vec<Ticket> = Vec::new();
            for (tid, (_, timeline)) in tl {
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
            let frozen = compute_burndown(self.store, &sprint);
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
        let id = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let mut moves: Vec<(Ts, Uuid, Option<Uuid>, Option<Uuid>)> = self
            .store
            .activity
            .values()
            .filter(|a| a.ticket_id == t.id && a.action == ActivityAction::SprintChanged)
            .map(|a| (a.created_at, a.id, id(&a.old_value), id(&a.new_value)))
            .collect();
        moves.sort();
        match moves.iter().rev().find(|m| m.0 < at) {
            Some(m) => m.3,
            None => moves.first().map_or(t.sprint_id, |m| m.2),
        }
    }
}
