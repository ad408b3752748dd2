//! The seed loader: it replays the seed as the API requests that would have made it. Each
//! record is a request (`"POST /api/v1/projects/WEB/tickets"`) routed by the API's own router to
//! its handler, acting as the record's user at the record's instant (the store's clock is set
//! to it), so every field rule, reference rule, permission, workflow transition and activity
//! entry is the API's own. Only what no request can do is written directly, after the routes'
//! own readers checked it: users, memberships with their join date, API keys and invite codes
//! with fixed secrets, an accepted invite, a sprint completed in the past (with the burndown
//! `routes::sprints` rebuilds as of then), a comment's edit date. What is left to the loader
//! are natural keys (emails, names, numbers) and the order of time.

use super::format::*;
use super::{SeedKeys, SeededKey};
use crate::auth::{Caller, is_api_key};
use crate::error::ApiError;
use crate::model::*;
use crate::request::{Body, Mode, ReplyBody};
use crate::routes::sprints::{burndown_as_of, status_at};
use crate::routes::{Routes, access, all_routes, dispatch, system};
use crate::store::{Store, sha256_hex};
use crate::values::{Clock, Ts};
use anyhow::{anyhow, bail};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Who acts, and when: the org, the user, the instant.
type Act = (Uuid, Uuid, Ts);

/// A refused request as a seed error: the seed path, then what the API said (each failing field
/// of a `validation_error` as `<path>.<field>: <problem>`).
fn refused(path: &str, e: &ApiError) -> anyhow::Error {
    if let Some(Value::Object(fields)) = e.details.get("fields") {
        let problem = |(k, v): (&String, &Value)| format!("{path}.{k}: {}", v.as_str().unwrap_or(""));
        return anyhow!("{}", fields.iter().map(problem).collect::<Vec<_>>().join("; "));
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
    let id = v.get("id").and_then(Value::as_str).and_then(|s| s.parse().ok());
    id.ok_or_else(|| anyhow!("{path}: the API answered without an id"))
}

/// A record's own fields with the references the loader resolved, as a request body.
fn with(fields: &Fields, extra: Value) -> Value {
    let mut m = fields.clone();
    if let Value::Object(x) = extra {
        m.extend(x);
    }
    Value::Object(m)
}

/// The tickets of a project as seeded: id → index in the seed.
type Seeded = BTreeMap<Uuid, usize>;

/// Lookups of one org while it is being seeded.
struct OrgCtx {
    id: Uuid,
    slug: String,
    /// email → user id.
    members: BTreeMap<String, Uuid>,
    /// lower-cased name → workflow id.
    workflows: BTreeMap<String, Uuid>,
}

impl OrgCtx {
    /// A member by email, or an error naming the seed path.
    fn member(&self, path: &str, email: &str) -> anyhow::Result<Uuid> {
        let id = self.members.get(&email.trim().to_lowercase()).copied();
        id.ok_or_else(|| anyhow!("{path}: unknown user {email} (not a member of this org; list them under members)"))
    }
}

/// A sprint of the project being seeded and the instants of its life.
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
    sprints: BTreeMap<String, SprintLife>,
    last_number: i64,
}

impl ProjectCtx {
    /// A sprint named at `at`: it must exist by then.
    fn sprint(&self, path: &str, name: &str, at: Ts) -> anyhow::Result<Uuid> {
        let life = self.sprints.get(name);
        let life = life.ok_or_else(|| anyhow!("{path}: unknown sprint {name} in {}", self.key))?;
        after(path, life.created_at, at, &format!("sprint {name} was created"))?;
        Ok(life.id)
    }

    fn label(&self, path: &str, name: &str) -> anyhow::Result<Uuid> {
        let id = self.labels.get(&name.trim().to_lowercase()).copied();
        id.ok_or_else(|| anyhow!("{path}: unknown label {name} in {}", self.key))
    }
}

pub(super) struct Loader<'a> {
    store: &'a mut Store,
    routes: Routes,
    /// Lower-cased email → user id, across the installation.
    users: BTreeMap<String, Uuid>,
    keys: SeedKeys,
}

impl<'a> Loader<'a> {
    pub fn new(store: &'a mut Store) -> Loader<'a> {
        let (routes, users, keys) = (all_routes(), BTreeMap::new(), SeedKeys::default());
        Loader {
            store,
            routes,
            users,
            keys,
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

    /// `who` in `org`, with their role read from the store, as authentication makes it.
    fn caller(&self, org: Uuid, who: Uuid) -> Caller {
        let role = self.store.membership(org, who).map_or(OrgRole::Viewer, |m| m.role);
        let email = self.store.users.get(&who).map(|u| u.email.clone()).unwrap_or_default();
        let (user_id, org_id, key) = (who, org, None);
        Caller {
            user_id,
            org_id,
            role,
            email,
            key,
        }
    }

    /// Sends `request` (`"METHOD /path"`, with `body`; `null` = none) through the API's router to
    /// its handler, as `act` says; returns the answer's JSON.
    fn call(&mut self, (org, who, at): Act, request: &str, body: Value, path: &str) -> anyhow::Result<Value> {
        let (caller, request) = (
            self.caller(org, who),
            request.split_once(' ').unwrap_or(("GET", request)),
        );
        self.store.clock = Clock::Fixed(at);
        let body = (!body.is_null()).then_some(body);
        match dispatch(self.store, &self.routes, request, caller, body) {
            Ok(r) => Ok(if let ReplyBody::Json(v) = r.body {
                v
            } else {
                Value::Null
            }),
            Err(e) => Err(refused(path, &e)),
        }
    }

    fn user(&mut self, path: &str, u: &UserSpec) -> anyhow::Result<()> {
        let mut b = Body::of(&u.fields);
        let (email, password, name) = system::read_user(&mut b, Mode::Optional);
        b.finish().map_err(|e| refused(path, &e))?;
        let (Some(email), Some(name)) = (email, name) else {
            bail!("{path}: email and display_name are required")
        };
        if self.users.contains_key(&email) {
            bail!("{path}.email: {email} is listed twice");
        }
        let id = self.store.add_user(&email, &name, password.as_deref());
        if let Some(user) = self.store.users.get_mut(&id) {
            (user.active, user.created_at, user.updated_at) = (u.active.unwrap_or(true), u.created_at, u.created_at);
        }
        self.users.insert(email, id);
        Ok(())
    }

    fn org(&mut self, path: &str, o: &OrgSpec) -> anyhow::Result<()> {
        let first = o.members.iter().position(|m| m.role == OrgRole::Owner);
        let first = first.ok_or_else(|| anyhow!("{path}.members: an org needs at least one Owner"))?;
        let owner = self.users.get(&o.members[first].email.trim().to_lowercase()).copied();
        let owner = owner.ok_or_else(|| anyhow!("{path}.members[{first}].email: unknown user (add them to users)"))?;
        let body = json!({"name": o.name, "slug": o.slug});
        let org = self.call((Uuid::nil(), owner, o.created_at), "POST /api/v1/orgs", body, path)?;
        let id = id_of(&org, path)?;
        let (slug, members, mut workflows) = (o.slug.clone(), BTreeMap::new(), BTreeMap::new());
        if let Some(d) = self.store.default_workflow(id) {
            workflows.insert("default".to_string(), d.id);
        }
        let mut ctx = OrgCtx {
            id,
            slug,
            members,
            workflows,
        };
        for (i, m) in o.members.iter().enumerate() {
            self.membership(&format!("{path}.members[{i}]"), o, &mut ctx, m)?;
        }
        for (i, inv) in o.invites.iter().enumerate() {
            self.invite(&format!("{path}.invites[{i}]"), &ctx, inv)?;
        }
        for (i, t) in o.teams.iter().enumerate() {
            let p = format!("{path}.teams[{i}]");
            let by = ctx.member(&format!("{p}.created_by"), &t.created_by)?;
            let mut ids = Vec::new();
            for (j, e) in t.members.iter().enumerate() {
                ids.push(ctx.member(&format!("{p}.members[{j}]"), e)?);
            }
            let body = with(&t.fields, json!({"member_ids": ids}));
            let request = format!("POST /api/v1/orgs/{id}/teams");
            self.call((id, by, t.created_at), &request, body, &p)?;
        }
        for (i, w) in o.workflows.iter().enumerate() {
            let p = format!("{path}.workflows[{i}]");
            let by = ctx.member(&format!("{p}.created_by"), w.created_by.as_deref().unwrap_or(""))?;
            let at = w.created_at.ok_or_else(|| anyhow!("{p}.created_at: required"))?;
            let request = format!("POST /api/v1/orgs/{id}/workflows");
            let wf = self.call((id, by, at), &request, Value::Object(w.fields.clone()), &p)?;
            let name = wf["name"].as_str().unwrap_or_default().to_lowercase();
            ctx.workflows.insert(name, id_of(&wf, &p)?);
        }
        for (i, r) in o.labor_rates.iter().enumerate() {
            let p = format!("{path}.labor_rates[{i}]");
            let by = ctx.member(&format!("{p}.created_by"), &r.created_by)?;
            let user = ctx.member(&format!("{p}.user"), &r.user)?;
            let at = r.created_at.unwrap_or_else(|| r.effective_from.start());
            let body = with(&r.fields, json!({"user_id": user, "effective_from": r.effective_from}));
            self.call((id, by, at), &format!("POST /api/v1/orgs/{id}/labor-rates"), body, &p)?;
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
        let user = self.users.get(&email).copied();
        let user = user.ok_or_else(|| anyhow!("{path}.email: unknown user {email} (add them to users)"))?;
        if ctx.members.insert(email.clone(), user).is_some() {
            bail!("{path}.email: {email} is listed twice in this org");
        }
        let joined = m.joined_at.unwrap_or(o.created_at);
        after(&format!("{path}.joined_at"), o.created_at, joined, "org creation")?;
        self.store.set_membership(ctx.id, user, m.role);
        if let Some(ms) = self.store.memberships.get_mut(&(ctx.id, user)) {
            ms.joined_at = joined;
        }
        let Some(k) = &m.api_key else { return Ok(()) };
        let (kp, at) = (format!("{path}.api_key"), k.created_at.unwrap_or(joined));
        let (caller, body) = (self.caller(ctx.id, user), || Ok(Body::of(&k.fields)));
        let new = access::read_new_key(self.store, &caller, body, at).map_err(|e| refused(&kp, &e))?;
        if !is_api_key(&k.key) {
            bail!("{kp}.key: an API key starts with alloy_test_ or alloy_live_");
        }
        if self.store.api_keys.values().any(|x| x.key_hash == sha256_hex(&k.key)) {
            bail!("{kp}.key: the same key is used twice");
        }
        let (name, scopes, projects, expires) = (&new.name, new.scopes, new.project_ids, new.expires_at);
        let key = self
            .store
            .insert_api_key(ctx.id, user, name, &k.key, scopes, projects, expires);
        if let Some(stored) = self.store.api_keys.get_mut(&key) {
            stored.created_at = at;
        }
        let (org_slug, org_id, key, role, user_id) = (ctx.slug.clone(), ctx.id, k.key.clone(), m.role, user);
        self.keys.keys.push(SeededKey {
            org_slug,
            org_id,
            email,
            user_id,
            role,
            key,
        });
        Ok(())
    }

    fn invite(&mut self, path: &str, ctx: &OrgCtx, inv: &InviteSpec) -> anyhow::Result<()> {
        let by = ctx.member(&format!("{path}.invited_by"), &inv.invited_by)?;
        let body = || Ok(Body::of(&inv.fields));
        let new = access::read_new_invite(&self.caller(ctx.id, by), body).map_err(|e| refused(path, &e))?;
        match inv.accepted_at {
            // The invitee is listed under members: they accepted it.
            Some(at) if ctx.members.contains_key(&new.email) => {
                after(&format!("{path}.accepted_at"), inv.created_at, at, "created_at")?
            }
            Some(_) => bail!("{path}.email: accepted the invite: list {} under members", new.email),
            None => access::check_invitable(self.store, ctx.id, &new.email, inv.created_at)
                .map_err(|e| refused(path, &e))?,
        }
        let code = match &inv.code {
            Some(c) if self.store.invites.values().any(|i| &i.code == c) => bail!("{path}.code: used twice"),
            Some(c) => c.clone(),
            None => format!("inv_{}", self.store.secret(24)),
        };
        let id = self.store.new_id();
        let status = inv
            .accepted_at
            .map_or(InviteStatus::Pending, |_| InviteStatus::Accepted);
        let (org_id, email, role, invited_by) = (ctx.id, new.email, new.role, by);
        let (expires_at, accepted_at, created_at) =
            (inv.created_at.plus_days(new.days), inv.accepted_at, inv.created_at);
        let revoked_at = None;
        let invite = Invite {
            id,
            org_id,
            email,
            role,
            expires_at,
            status,
            code,
            invited_by,
            accepted_at,
            revoked_at,
            created_at,
        };
        self.store.invites.insert(id, invite);
        if let Some(at) = inv.revoked_at {
            let (p, request) = (format!("{path}.revoked_at"), format!("DELETE /api/v1/invites/{id}"));
            self.call((ctx.id, by, at), &request, Value::Null, &p)?;
        }
        Ok(())
    }

    fn project(&mut self, path: &str, o: &OrgCtx, p: &ProjectSpec) -> anyhow::Result<()> {
        let by = o.member(&format!("{path}.created_by"), &p.created_by)?;
        let wf_name = p.workflow.as_deref().unwrap_or("Default");
        let workflow = o.workflows.get(&wf_name.trim().to_lowercase());
        let workflow = *workflow.ok_or_else(|| anyhow!("{path}.workflow: unknown workflow {wf_name}"))?;
        let body = with(&p.fields, json!({"workflow_id": workflow}));
        let created = self.call((o.id, by, p.created_at), "POST /api/v1/projects", body, path)?;
        let key = created["key"].as_str().unwrap_or_default().to_string();
        let (id, labels, sprints) = (id_of(&created, path)?, BTreeMap::new(), BTreeMap::new());
        let mut pc = ProjectCtx {
            id,
            key: key.clone(),
            labels,
            sprints,
            last_number: 0,
        };
        // Others join when both the project and their org membership exist.
        for (i, e) in p.members.iter().enumerate() {
            let mp = format!("{path}.members[{i}]");
            let user = o.member(&mp, e)?;
            let joined = self.store.membership(o.id, user).map_or(p.created_at, |m| m.joined_at);
            let (request, body) = (format!("POST /api/v1/projects/{key}/members"), json!({"user_id": user}));
            self.call((o.id, by, joined.max(p.created_at)), &request, body, &mp)?;
        }
        for (i, l) in p.labels.iter().enumerate() {
            let lp = format!("{path}.labels[{i}]");
            let who = l
                .created_by
                .as_ref()
                .map(|e| o.member(&format!("{lp}.created_by"), e))
                .transpose()?;
            let act = (o.id, who.unwrap_or(by), l.created_at.unwrap_or(p.created_at));
            let request = format!("POST /api/v1/projects/{key}/labels");
            let label = self.call(act, &request, Value::Object(l.fields.clone()), &lp)?;
            let name = label["name"].as_str().unwrap_or_default().to_lowercase();
            pc.labels.insert(name, id_of(&label, &lp)?);
        }
        for (i, s) in p.sprints.iter().enumerate() {
            let sp = format!("{path}.sprints[{i}]");
            let starter = o.member(&format!("{sp}.created_by"), &s.created_by)?;
            match (s.started_at, s.completed_at) {
                (None, Some(_)) => bail!("{sp}.completed_at: a sprint completes after it starts: give started_at"),
                (Some(st), done) => {
                    after(&format!("{sp}.started_at"), s.created_at, st, "created_at")?;
                    done.map(|d| after(&format!("{sp}.completed_at"), st, d, "started_at"))
                        .transpose()?;
                }
                (None, None) => {}
            }
            let request = format!("POST /api/v1/projects/{key}/sprints");
            let body = Value::Object(s.fields.clone());
            let sprint = self.call((o.id, starter, s.created_at), &request, body, &sp)?;
            let (created_at, started_at, completed_at, id) =
                (s.created_at, s.started_at, s.completed_at, id_of(&sprint, &sp)?);
            let life = SprintLife {
                id,
                created_at,
                started_at,
                completed_at,
                starter,
            };
            let name = sprint["name"].as_str().unwrap_or_default().to_string();
            if pc.sprints.insert(name.clone(), life).is_some() {
                bail!("{sp}.name: sprint {name} is listed twice in {key} (tickets name sprints by name)");
            }
        }
        let mut seeded = BTreeMap::new();
        for (i, t) in p.tickets.iter().enumerate() {
            seeded.insert(self.ticket(&format!("{path}.tickets[{i}]"), o, &mut pc, t)?, i);
        }
        self.finish_sprints(path, o.id, &pc)?;
        self.check_completed_sprints(path, &pc, &seeded)
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

    /// Starts each started sprint through its route at `started_at` (one Active sprint at a time,
    /// as the route requires), then completes it at `completed_at` with the burndown the route
    /// would have frozen then.
    fn finish_sprints(&mut self, path: &str, org: Uuid, pc: &ProjectCtx) -> anyhow::Result<()> {
        self.sync_sprints(pc, Ts(i64::MIN));
        let mut started: Vec<&SprintLife> = pc.sprints.values().filter(|l| l.started_at.is_some()).collect();
        started.sort_by_key(|l| l.started_at);
        for l in started {
            let p = format!("{path}.sprints (start of {})", l.id);
            let at = l.started_at.unwrap_or(l.created_at);
            let request = format!("POST /api/v1/sprints/{}/start", l.id);
            self.call((org, l.starter, at), &request, Value::Null, &p)?;
            let (Some(done), Some(mut s)) = (l.completed_at, self.store.sprints.get(&l.id).cloned()) else {
                continue;
            };
            (s.status, s.completed_at, s.updated_at) = (SprintStatus::Completed, Some(done), done);
            s.frozen_burndown = Some(burndown_as_of(self.store, &s, done));
            self.store.sprints.insert(l.id, s);
        }
        Ok(())
    }

    fn ticket(&mut self, path: &str, o: &OrgCtx, pc: &mut ProjectCtx, t: &TicketSpec) -> anyhow::Result<Uuid> {
        let number = t.number.unwrap_or(pc.last_number + 1);
        if number <= pc.last_number {
            bail!("{path}.number: {number} must be greater than the number before it");
        }
        let (at, by) = (t.created_at, o.member(&format!("{path}.created_by"), &t.created_by)?);
        let person = |f: &str, e: &Option<String>| e.as_ref().map(|e| o.member(&format!("{path}.{f}"), e)).transpose();
        let (reporter, assignee) = (person("reporter", &t.reporter)?, person("assignee", &t.assignee)?);
        let sprint = t
            .sprint
            .as_ref()
            .map(|s| pc.sprint(&format!("{path}.sprint"), s, at))
            .transpose()?;
        let label = |(i, l): (usize, &String)| pc.label(&format!("{path}.labels[{i}]"), l);
        let labels: Vec<Uuid> = t.labels.iter().enumerate().map(label).collect::<anyhow::Result<_>>()?;
        // A gap in the numbers stands for deleted tickets: the counter is past it.
        if let Some(p) = self.store.projects.get_mut(&pc.id) {
            p.ticket_counter = number - 1;
        }
        self.sync_sprints(pc, at);
        let refs = json!({"reporter_id": reporter, "assignee_id": assignee, "sprint_id": sprint, "label_ids": labels});
        let request = format!("POST /api/v1/projects/{}/tickets", pc.key);
        let created = self.call((o.id, by, at), &request, with(&t.fields, refs), path)?;
        let id = id_of(&created, path)?;
        let key = created["key"].as_str().unwrap_or_default().to_string();
        pc.last_number = number;
        let mut prev = at;
        for (i, s) in t.history.iter().enumerate() {
            let sp = format!("{path}.history[{i}]");
            let (at, by) = (s.at, &s.by);
            after(&format!("{sp}.at"), prev, at, "the step before it")?;
            prev = at;
            let act = (o.id, o.member(&format!("{sp}.by"), by)?, at);
            self.sync_sprints(pc, at);
            let before = self.store.activity.len();
            self.step(&sp, o, pc, &key, act, &s.change)?;
            if self.store.activity.len() == before {
                bail!("{sp}: this step changes nothing (a no-op leaves no activity)");
            }
        }
        Ok(id)
    }

    /// One history step, as the request its kind stands for.
    fn step(&mut self, sp: &str, o: &OrgCtx, pc: &ProjectCtx, key: &str, act: Act, c: &Change) -> anyhow::Result<()> {
        let t = format!("/api/v1/tickets/{key}");
        match c {
            Change::Transition { fields, .. } => {
                self.call(act, &format!("POST {t}/transition"), Value::Object(fields.clone()), sp)?;
            }
            Change::Update {
                assignee,
                sprint,
                fields,
                ..
            } => {
                let mut refs = Map::new();
                if let Some(a) = assignee {
                    let a = a.as_ref().map(|e| o.member(&format!("{sp}.assignee"), e)).transpose()?;
                    refs.insert("assignee_id".into(), json!(a));
                }
                if let Some(n) = sprint {
                    let n = n
                        .as_ref()
                        .map(|n| pc.sprint(&format!("{sp}.sprint"), n, act.2))
                        .transpose()?;
                    refs.insert("sprint_id".into(), json!(n));
                }
                self.call(act, &format!("PATCH {t}"), with(fields, Value::Object(refs)), sp)?;
            }
            Change::Labels {
                add, remove, fields, ..
            } => {
                if let Some(k) = fields.keys().next() {
                    bail!("{sp}.{k}: unknown field (a labels step has add and remove)");
                }
                for (i, l) in add.iter().enumerate() {
                    let p = format!("{sp}.add[{i}]");
                    let body = json!({"label_id": pc.label(&p, l)?});
                    self.call(act, &format!("POST {t}/labels"), body, &p)?;
                }
                for (i, l) in remove.iter().enumerate() {
                    let p = format!("{sp}.remove[{i}]");
                    let request = format!("DELETE {t}/labels/{}", pc.label(&p, l)?);
                    self.call(act, &request, Value::Null, &p)?;
                }
            }
            Change::Tags { fields, .. } => {
                self.call(act, &format!("PATCH {t}/tags"), Value::Object(fields.clone()), sp)?;
            }
            Change::Comment { fields, edited_at, .. } => {
                let c = self.call(act, &format!("POST {t}/comments"), Value::Object(fields.clone()), sp)?;
                if let Some(e) = *edited_at {
                    after(&format!("{sp}.edited_at"), act.2, e, "the comment")?;
                    if let Some(c) = self.store.comments.get_mut(&id_of(&c, sp)?) {
                        (c.edited_at, c.updated_at) = (Some(e), e);
                    }
                }
            }
        }
        Ok(())
    }

    /// A time entry: logged by its user, then submitted, approved or rejected, each through its
    /// route at its instant (the routes hold the state machine).
    fn time_entry(&mut self, path: &str, o: &OrgCtx, e: &TimeEntrySpec) -> anyhow::Result<()> {
        let user = o.member(&format!("{path}.user"), &e.user)?;
        let created = e.created_at.unwrap_or_else(|| e.date.start().plus_ms(17 * 3_600_000));
        let request = format!("POST /api/v1/tickets/{}/time-entries", e.ticket);
        let body = with(&e.fields, json!({"date": e.date}));
        let entry = self.call((o.id, user, created), &request, body, path)?;
        let url = format!("/api/v1/time-entries/{}", id_of(&entry, path)?);
        let mut last = created;
        if let Some(at) = e.submitted_at {
            let p = format!("{path}.submitted_at");
            after(&p, last, at, "created_at")?;
            last = at;
            self.call((o.id, user, at), &format!("POST {url}/submit"), Value::Null, &p)?;
        }
        for (verb, field, review) in [
            ("approve", "approved", &e.approved),
            ("reject", "rejected", &e.rejected),
        ] {
            let Some(r) = review else { continue };
            let p = format!("{path}.{field}");
            after(&p, last, r.at, "the step before")?;
            let act = (o.id, o.member(&format!("{p}.by"), &r.by)?, r.at);
            let body = r.reason.as_ref().map_or(Value::Null, |why| json!({"reason": why}));
            self.call(act, &format!("POST {url}/{verb}"), body, &p)?;
        }
        Ok(())
    }

    /// A Completed sprint keeps only tickets that were closed when it completed: open ones were
    /// carried over (an `update` step moving them at `completed_at`).
    fn check_completed_sprints(&self, path: &str, pc: &ProjectCtx, seeded: &Seeded) -> anyhow::Result<()> {
        let Some(workflow) = self.store.project_workflow(pc.id) else {
            return Ok(());
        };
        for (name, life) in &pc.sprints {
            let Some(done) = life.completed_at else { continue };
            for (tid, i) in seeded {
                if self.store.tickets.get(tid).is_none_or(|t| t.sprint_id != Some(life.id)) {
                    continue;
                }
                let status = status_at(self.store, *tid, done).unwrap_or_default();
                if workflow.category_of(&status).is_open() {
                    bail!(
                        "{path}.tickets[{i}]: was {status} (open) when sprint {name} completed at {done}; \
                         move it out with an update step at that instant"
                    );
                }
            }
        }
        Ok(())
    }
}
