//! The mock as a state machine (issue 11, item 3), property-tested with proptest against a small
//! reference model of the contract. Random sequences of requests (create, update, transition,
//! assign, comment, label, sprint start/complete, time entries and their review, delete) by every
//! role, and by a key of another org, go through the mock's own pipeline in process
//! (`routes::handle`: routing, auth, validation, handler); after each one the mock must agree
//! with the model on the status and on every field the model tracks, and a refused request must
//! leave the store exactly as it was. Further properties: pagination over any limit, sort and
//! filter returns each ticket exactly once and in order; export then import into an empty org is
//! the identity up to the ids the import lists; concurrent creates over HTTP get unique,
//! consecutive numbers. Each suite sets its number of cases and prints how many ran.

use alloy_mock_api::routes::{RawRequest, Routes, all_routes, handle};
use alloy_mock_api::seed::Seed;
use alloy_mock_api::store::{Settings, Store};
use alloy_mock_api::values::{Clock, Ts};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

/// The roles of the org under test, and an Owner of another org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Owner,
    Admin,
    Member,
    Reporter,
    Viewer,
    Outsider,
}

const PEOPLE: [Who; 6] = [
    Who::Owner,
    Who::Admin,
    Who::Member,
    Who::Reporter,
    Who::Viewer,
    Who::Outsider,
];

impl Who {
    fn key(self) -> String {
        format!("alloy_test_{:?}Model0000000000000000000000000000", self)[..43].to_string()
    }
    fn email(self) -> String {
        format!("{:?}@model.test", self).to_lowercase()
    }
    /// Privilege in the org under test (the outsider has none there).
    fn rank(self) -> u8 {
        match self {
            Who::Owner => 5,
            Who::Admin => 4,
            Who::Member => 3,
            Who::Reporter => 2,
            Who::Viewer => 1,
            Who::Outsider => 0,
        }
    }
}

/// The fixture every case starts from: one key per role, an outsider's org, project `PM` (the
/// Reporter is a member), labels `l1` and `l2`, Planned sprints `S1` and `S2`.
fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let at = "2026-01-01T00:00:00Z";
        let users: Vec<Value> = PEOPLE
            .iter()
            .map(|w| json!({"email": w.email(), "display_name": format!("{w:?}"), "created_at": at}))
            .collect();
        let member =
            |w: Who, role: &str| json!({"email": w.email(), "role": role, "api_key": {"name": "k", "key": w.key()}});
        let doc = json!({
            "users": users,
            "orgs": [{
                "name": "Model", "slug": "model", "created_at": at,
                "members": [member(Who::Owner, "Owner"), member(Who::Admin, "Admin"), member(Who::Member, "Member"),
                            member(Who::Reporter, "Reporter"), member(Who::Viewer, "Viewer")],
                "projects": [{"key": "PM", "name": "PM", "created_by": Who::Owner.email(), "created_at": at,
                    "members": [Who::Reporter.email()],
                    "labels": [{"name": "l1"}, {"name": "l2"}],
                    "sprints": [
                        {"name": "S1", "start_date": "2026-01-05", "end_date": "2026-01-16",
                         "created_by": Who::Owner.email(), "created_at": at},
                        {"name": "S2", "start_date": "2026-01-19", "end_date": "2026-01-30",
                         "created_by": Who::Owner.email(), "created_at": at}]}]
            }, {
                "name": "Other", "slug": "other", "created_at": at,
                "members": [member(Who::Outsider, "Owner")]
            }]
        });
        Seed::from_json(&doc.to_string(), "model fixture").expect("the model fixture parses")
    })
}

const START: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// The mock in process: a store, the route table, a clock moved one second per request.
struct Mock {
    store: Store,
    routes: Routes,
    now: i64,
}

impl Mock {
    fn new() -> Mock {
        let settings = Settings {
            deterministic: true,
            ..Settings::default()
        };
        let mut store = Store::new(settings, Clock::Fixed(Ts(START)));
        seed().apply(&mut store).expect("the model fixture applies");
        Mock {
            store,
            routes: all_routes(),
            now: START + 3_600_000,
        }
    }

    /// One request through the whole pipeline; returns the status and the JSON answer.
    fn call(
        &mut self,
        who: Who,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> (u16, Value) {
        self.now += 1000;
        self.store.clock = Clock::Fixed(Ts(self.now));
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = BTreeMap::new();
        headers.insert("authorization".to_string(), format!("Bearer {}", who.key()));
        headers.insert("content-type".to_string(), "application/json".to_string());
        let req = RawRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            headers,
            body: bytes.as_bytes(),
            body_len: bytes.len(),
        };
        let resp = handle(&mut self.store, &self.routes, &req);
        let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.status, v)
    }

    /// A request with a JSON body and no query (see [`Mock::call`]).
    fn send(&mut self, who: Who, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(who, method, path, &[], Some(body))
    }

    /// Every domain table and the id counter, copied: what a refused request must not change.
    fn snapshot(&self) -> Snapshot {
        let s = &self.store;
        let memberships = s.memberships.values().cloned().collect();
        Snapshot(
            s.tickets.clone(),
            s.comments.clone(),
            s.activity.clone(),
            s.sprints.clone(),
            s.time_entries.clone(),
            s.labels.clone(),
            s.projects.clone(),
            memberships,
            s.id_mark(),
        )
    }

    fn user(&self, who: Who) -> Uuid {
        let email = who.email();
        self.store
            .users
            .values()
            .find(|u| u.email == email)
            .map(|u| u.id)
            .unwrap_or_default()
    }

    fn id_of(&self, what: &str, name: &str) -> Uuid {
        match what {
            "label" => self.store.labels.values().find(|l| l.name == name).map(|l| l.id),
            _ => self.store.sprints.values().find(|s| s.name == name).map(|s| s.id),
        }
        .unwrap_or_default()
    }
}

/// A copy of the store's domain tables.
#[derive(PartialEq)]
struct Snapshot(
    BTreeMap<Uuid, alloy_mock_api::model::Ticket>,
    BTreeMap<Uuid, alloy_mock_api::model::Comment>,
    BTreeMap<Uuid, alloy_mock_api::model::Activity>,
    BTreeMap<Uuid, alloy_mock_api::model::Sprint>,
    BTreeMap<Uuid, alloy_mock_api::model::TimeEntry>,
    BTreeMap<Uuid, alloy_mock_api::model::Label>,
    BTreeMap<Uuid, alloy_mock_api::model::Project>,
    Vec<alloy_mock_api::model::Membership>,
    u64,
);

// ----- the reference model --------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct MTicket {
    number: i64,
    deleted: bool,
    title: String,
    status: &'static str,
    priority: &'static str,
    assignee: Option<Who>,
    sprint: Option<usize>,
    points: Option<i64>,
    labels: BTreeSet<usize>,
    resolved: bool,
    activity: usize,
    comments: usize,
    updated: i64,
}

impl MTicket {
    /// A transition as the contract says (T2): resolved on entering a closed category from an
    /// open one, unresolved on reopening, one activity entry; the same status changes nothing.
    fn transition(&mut self, to: &'static str, now: i64) {
        if self.status == to {
            return;
        }
        let (was, will) = (is_open(self.status), is_open(to));
        if was && !will {
            self.resolved = true;
        } else if will {
            self.resolved = false;
        }
        self.status = to;
        self.touched(1, now);
    }

    /// Counts `entries` new activity entries; any entry moves `updated` to `now`.
    fn touched(&mut self, entries: usize, now: i64) {
        if entries > 0 {
            self.activity += entries;
            self.updated = now;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum SprintState {
    Planned,
    Active,
    Completed,
}

#[derive(Clone, Debug)]
struct MEntry {
    id: Uuid,
    ticket: usize,
    user: Who,
    status: &'static str,
    gone: bool,
}

#[derive(Clone, Debug)]
struct Model {
    counter: i64,
    tickets: Vec<MTicket>,
    sprints: [SprintState; 2],
    entries: Vec<MEntry>,
}

const STATUSES: [&str; 6] = ["Backlog", "Todo", "InProgress", "InReview", "Done", "Cancelled"];

fn is_open(status: &str) -> bool {
    !matches!(status, "Done" | "Cancelled")
}

/// A request the generator makes; indexes pick among what the model knows (a deleted ticket or
/// entry gives a 404).
#[derive(Clone, Debug)]
enum Op {
    Create {
        who: Who,
        title: usize,
        priority: Option<usize>,
    },
    Update {
        who: Who,
        ticket: Index,
        title: Option<usize>,
        priority: Option<usize>,
        points: Option<Option<i64>>,
    },
    Assign {
        who: Who,
        ticket: Index,
        to: Option<Who>,
    },
    SetSprint {
        who: Who,
        ticket: Index,
        sprint: Option<usize>,
    },
    Transition {
        who: Who,
        ticket: Index,
        status: usize,
    },
    Comment {
        who: Who,
        ticket: Index,
        empty: bool,
    },
    Label {
        who: Who,
        ticket: Index,
        label: usize,
        attach: bool,
    },
    StartSprint {
        who: Who,
        sprint: usize,
    },
    CompleteSprint {
        who: Who,
        sprint: usize,
    },
    Log {
        who: Who,
        ticket: Index,
        minutes: i64,
    },
    Submit {
        who: Who,
        entry: Index,
    },
    Approve {
        who: Who,
        entry: Index,
    },
    Reject {
        who: Who,
        entry: Index,
        reason: bool,
    },
    Delete {
        who: Who,
        ticket: Index,
    },
    /// `POST /tickets/batch-transition`; `None` names a ticket that does not exist.
    BatchTransition {
        who: Who,
        tickets: Vec<Option<Index>>,
        status: usize,
    },
}

/// Titles: valid, blank (`required`), too long (`too_long`).
const TITLES: [&str; 4] = ["Fix the thing", "  Trimmed  ", "", "x"];
const PRIORITIES: [&str; 5] = ["Low", "Medium", "High", "Critical", "Urgent"];

fn title_of(i: usize) -> String {
    if i == 3 { "t".repeat(256) } else { TITLES[i].to_string() }
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        3 => Just(Who::Owner), 3 => Just(Who::Admin), 4 => Just(Who::Member),
        2 => Just(Who::Reporter), 1 => Just(Who::Viewer), 1 => Just(Who::Outsider),
    ]
}

/// Mostly valid titles, sometimes blank or too long.
fn title() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)]
}

/// A case: a few valid creates, then any requests.
fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    let create = (
        prop_oneof![Just(Who::Owner), Just(Who::Member)],
        proptest::option::of(0..4usize),
    )
        .prop_map(|(who, priority)| Op::Create {
            who,
            title: 0,
            priority,
        });
    (
        proptest::collection::vec(create, 1..4),
        proptest::collection::vec(op(), 0..max),
    )
        .prop_map(|(mut a, b)| {
            a.extend(b);
            a
        })
}

fn op() -> impl Strategy<Value = Op> {
    let idx = any::<Index>;
    prop_oneof![
        4 => (who(), title(), proptest::option::of(0..5usize))
            .prop_map(|(who, title, priority)| Op::Create { who, title, priority }),
        2 => (who(), idx(), proptest::option::of(title()), proptest::option::of(0..5usize),
              proptest::option::of(proptest::option::of(-1..=101i64)))
            .prop_map(|(who, ticket, title, priority, points)| Op::Update { who, ticket, title, priority, points }),
        2 => (who(), idx(), proptest::option::of(prop_oneof![Just(Who::Member), Just(Who::Admin), Just(Who::Outsider)]))
            .prop_map(|(who, ticket, to)| Op::Assign { who, ticket, to }),
        2 => (who(), idx(), proptest::option::of(0..2usize)).prop_map(|(who, ticket, sprint)| Op::SetSprint { who, ticket, sprint }),
        4 => (who(), idx(), 0..7usize).prop_map(|(who, ticket, status)| Op::Transition { who, ticket, status }),
        2 => (who(), idx(), any::<bool>()).prop_map(|(who, ticket, empty)| Op::Comment { who, ticket, empty }),
        2 => (who(), idx(), 0..3usize, any::<bool>()).prop_map(|(who, ticket, label, attach)| Op::Label { who, ticket, label, attach }),
        1 => (who(), 0..2usize).prop_map(|(who, sprint)| Op::StartSprint { who, sprint }),
        1 => (who(), 0..2usize).prop_map(|(who, sprint)| Op::CompleteSprint { who, sprint }),
        3 => (who(), idx(), prop_oneof![Just(0i64), Just(30), Just(90), Just(1440), Just(1441)])
            .prop_map(|(who, ticket, minutes)| Op::Log { who, ticket, minutes }),
        3 => (who(), idx()).prop_map(|(who, entry)| Op::Submit { who, entry }),
        2 => (who(), idx()).prop_map(|(who, entry)| Op::Approve { who, entry }),
        2 => (who(), idx(), any::<bool>()).prop_map(|(who, entry, reason)| Op::Reject { who, entry, reason }),
        2 => (who(), idx()).prop_map(|(who, ticket)| Op::Delete { who, ticket }),
        2 => (who(), proptest::collection::vec(proptest::option::weighted(0.9, idx()), 1..5), 0..7usize)
            .prop_map(|(who, tickets, status)| Op::BatchTransition { who, tickets, status }),
    ]
}

/// What the model expects of one request: the status, and (on success) how the model changes.
struct Expect {
    status: u16,
}

impl Model {
    fn new() -> Model {
        Model {
            counter: 0,
            tickets: Vec::new(),
            sprints: [SprintState::Planned; 2],
            entries: Vec::new(),
        }
    }

    fn pick_ticket(&self, i: &Index) -> Option<usize> {
        (!self.tickets.is_empty()).then(|| i.index(self.tickets.len()))
    }

    fn pick_entry(&self, i: &Index) -> Option<usize> {
        (!self.entries.is_empty()).then(|| i.index(self.entries.len()))
    }

    fn live(&self, t: Option<usize>) -> Option<usize> {
        t.filter(|t| !self.tickets[*t].deleted)
    }

    /// A ticket write's answer before its own rules: 404 for an outsider or a missing ticket,
    /// 403 when the caller is not `allowed`; otherwise the live ticket.
    fn gate(&self, who: Who, t: Option<usize>, allowed: bool) -> Result<usize, u16> {
        match self.live(t) {
            _ if who == Who::Outsider => Err(404),
            None => Err(404),
            Some(_) if !allowed => Err(403),
            Some(t) => Ok(t),
        }
    }

    /// The key of a picked ticket (a number never used when nothing was picked).
    fn key(&self, t: Option<usize>) -> String {
        format!("PM-{}", t.map_or(999_999, |t| self.tickets[t].number))
    }
}

/// Applies one request to the mock and the model; any disagreement is returned as text.
fn step(mock: &mut Mock, m: &mut Model, op: &Op) -> Result<(), String> {
    use Who::*;
    let before = mock.snapshot();
    let now = mock.now + 1000;
    let member_plus = |w: Who| w.rank() >= 3;
    let admin_plus = |w: Who| w.rank() >= 4;
    let (status, body, expect) = match op {
        Op::Create { who, title, priority } => {
            let mut b = json!({"title": title_of(*title)});
            if let Some(p) = priority {
                b["priority"] = json!(PRIORITIES[*p]);
            }
            let (s, v) = mock.call(*who, "POST", "/api/v1/projects/PM/tickets", &[], Some(b));
            let valid = *title < 2 && priority.is_none_or(|p| p < 4);
            let status = match who {
                Outsider => 404,
                Viewer => 403,
                _ if !valid => 400,
                _ => 201,
            };
            if s == 201 && status == 201 {
                m.counter += 1;
                m.tickets.push(MTicket {
                    number: m.counter,
                    deleted: false,
                    title: title_of(*title).trim().to_string(),
                    status: "Backlog",
                    priority: priority.map_or("Medium", |p| PRIORITIES[p]),
                    assignee: None,
                    sprint: None,
                    points: None,
                    labels: BTreeSet::new(),
                    resolved: false,
                    activity: 1,
                    comments: 0,
                    updated: now,
                });
            }
            (s, v, Expect { status })
        }
        Op::Update {
            who,
            ticket,
            title,
            priority,
            points,
        } => {
            let t = m.pick_ticket(ticket);
            let mut b = json!({});
            if let Some(i) = title {
                b["title"] = json!(title_of(*i));
            }
            if let Some(p) = priority {
                b["priority"] = json!(PRIORITIES[*p]);
            }
            if let Some(p) = points {
                b["story_points"] = json!(p);
            }
            let (s, v) = mock.call(*who, "PATCH", &format!("/api/v1/tickets/{}", m.key(t)), &[], Some(b));
            let valid = title.is_none_or(|i| i < 2)
                && priority.is_none_or(|p| p < 4)
                && points.is_none_or(|p| p.is_none_or(|p| (0..=100).contains(&p)));
            let status = match m.gate(*who, t, member_plus(*who)) {
                Err(status) => status,
                Ok(_) if !valid => 400,
                Ok(_) => 200,
            };
            if let (200, Some(t)) = (status, m.live(t)) {
                let mt = &mut m.tickets[t];
                let mut changes = 0;
                if let Some(i) = title {
                    let new = title_of(*i).trim().to_string();
                    changes += usize::from(mt.title != new);
                    mt.title = new;
                }
                if let Some(p) = priority {
                    changes += usize::from(mt.priority != PRIORITIES[*p]);
                    mt.priority = PRIORITIES[*p];
                }
                if let Some(p) = points {
                    changes += usize::from(mt.points != *p);
                    mt.points = *p;
                }
                mt.touched(changes, now);
            }
            (s, v, Expect { status })
        }
        Op::Assign { who, ticket, to } => {
            let t = m.pick_ticket(ticket);
            let id = to.map(|w| mock.user(w));
            let path = format!("/api/v1/tickets/{}", m.key(t));
            let (s, v) = mock.send(*who, "PATCH", &path, json!({"assignee_id": id}));
            let status = match m.gate(*who, t, member_plus(*who)) {
                Err(status) => status,
                Ok(t) if *to == Some(Outsider) && m.tickets[t].assignee != Some(Outsider) => 422,
                Ok(_) => 200,
            };
            if let (200, Some(t)) = (status, m.live(t)) {
                let mt = &mut m.tickets[t];
                let changed = mt.assignee != *to;
                mt.assignee = *to;
                mt.touched(usize::from(changed), now);
            }
            (s, v, Expect { status })
        }
        Op::SetSprint { who, ticket, sprint } => {
            let t = m.pick_ticket(ticket);
            let id = sprint.map(|i| mock.id_of("sprint", ["S1", "S2"][i]));
            let path = format!("/api/v1/tickets/{}", m.key(t));
            let (s, v) = mock.send(*who, "PATCH", &path, json!({"sprint_id": id}));
            let status = match m.gate(*who, t, member_plus(*who)) {
                Err(status) => status,
                Ok(t) => match sprint {
                    Some(i) if m.tickets[t].sprint != Some(*i) && m.sprints[*i] == SprintState::Completed => 422,
                    _ => 200,
                },
            };
            if let (200, Some(t)) = (status, m.live(t)) {
                let mt = &mut m.tickets[t];
                let changed = mt.sprint != *sprint;
                mt.sprint = *sprint;
                mt.touched(usize::from(changed), now);
            }
            (s, v, Expect { status })
        }
        Op::Transition { who, ticket, status: i } => {
            let t = m.pick_ticket(ticket);
            let to = STATUSES.get(*i).copied().unwrap_or("Shipped");
            let path = format!("/api/v1/tickets/{}/transition", m.key(t));
            let (s, v) = mock.send(*who, "POST", &path, json!({"status": to}));
            let status = match m.gate(*who, t, member_plus(*who)) {
                Err(status) => status,
                Ok(_) if *i >= STATUSES.len() => 422,
                Ok(_) => 200,
            };
            if let (200, Some(t)) = (status, m.live(t)) {
                m.tickets[t].transition(to, now);
            }
            (s, v, Expect { status })
        }
        Op::Comment { who, ticket, empty } => {
            let t = m.pick_ticket(ticket);
            let body = json!({"body": if *empty { " " } else { "A comment" }});
            let (s, v) = mock.send(*who, "POST", &format!("/api/v1/tickets/{}/comments", m.key(t)), body);
            let status = match m.gate(*who, t, *who != Viewer) {
                Err(status) => status,
                Ok(_) if *empty => 400,
                Ok(_) => 201,
            };
            if let (201, Some(t)) = (status, m.live(t)) {
                let mt = &mut m.tickets[t];
                mt.comments += 1;
                mt.touched(1, now);
            }
            (s, v, Expect { status })
        }
        Op::Label {
            who,
            ticket,
            label,
            attach,
        } => {
            let t = m.pick_ticket(ticket);
            // Label 2 names no label of the org.
            let id = if *label < 2 {
                mock.id_of("label", ["l1", "l2"][*label])
            } else {
                Uuid::from_u128(7)
            };
            let key = m.key(t);
            let (s, v) = if *attach {
                mock.send(
                    *who,
                    "POST",
                    &format!("/api/v1/tickets/{key}/labels"),
                    json!({"label_id": id}),
                )
            } else {
                mock.call(*who, "DELETE", &format!("/api/v1/tickets/{key}/labels/{id}"), &[], None)
            };
            let status = match m.live(t) {
                _ if *who == Outsider => 404,
                None => 404,
                Some(_) if !*attach && *label == 2 => 404,
                Some(_) if !member_plus(*who) => 403,
                Some(_) if *label == 2 => 422,
                Some(_) => 200,
            };
            if let (200, Some(t)) = (status, m.live(t)) {
                let mt = &mut m.tickets[t];
                let changed = if *attach {
                    mt.labels.insert(*label)
                } else {
                    mt.labels.remove(label)
                };
                mt.touched(usize::from(changed), now);
            }
            (s, v, Expect { status })
        }
        Op::StartSprint { who, sprint } => {
            let id = mock.id_of("sprint", ["S1", "S2"][*sprint]);
            let (s, v) = mock.call(*who, "POST", &format!("/api/v1/sprints/{id}/start"), &[], None);
            let status = match who {
                Outsider => 404,
                w if !member_plus(*w) => 403,
                _ if m.sprints[*sprint] != SprintState::Planned => 422,
                _ if m.sprints.contains(&SprintState::Active) => 409,
                _ => 200,
            };
            if status == 200 {
                m.sprints[*sprint] = SprintState::Active;
            }
            (s, v, Expect { status })
        }
        Op::CompleteSprint { who, sprint } => {
            let id = mock.id_of("sprint", ["S1", "S2"][*sprint]);
            let (s, v) = mock.call(*who, "POST", &format!("/api/v1/sprints/{id}/complete"), &[], None);
            let status = match who {
                Outsider => 404,
                w if !member_plus(*w) => 403,
                _ if m.sprints[*sprint] != SprintState::Active => 422,
                _ => 200,
            };
            if status == 200 {
                m.sprints[*sprint] = SprintState::Completed;
                // Unfinished tickets leave for the backlog.
                for t in m
                    .tickets
                    .iter_mut()
                    .filter(|t| !t.deleted && t.sprint == Some(*sprint) && is_open(t.status))
                {
                    t.sprint = None;
                    t.touched(1, now);
                }
            }
            (s, v, Expect { status })
        }
        Op::Log { who, ticket, minutes } => {
            let t = m.pick_ticket(ticket);
            let path = format!("/api/v1/tickets/{}/time-entries", m.key(t));
            let (s, v) = mock.send(*who, "POST", &path, json!({"minutes": minutes}));
            let status = match m.gate(*who, t, member_plus(*who)) {
                Err(status) => status,
                Ok(_) if !(1..=1440).contains(minutes) => 400,
                Ok(_) => 201,
            };
            if let (201, 201, Some(t)) = (status, s, m.live(t)) {
                let id = v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
                m.entries.push(MEntry {
                    id,
                    ticket: t,
                    user: *who,
                    status: "Draft",
                    gone: false,
                });
            }
            (s, v, Expect { status })
        }
        Op::Submit { who, entry } | Op::Approve { who, entry } | Op::Reject { who, entry, .. } => {
            let e = m.pick_entry(entry);
            let id = e.map_or(Uuid::from_u128(9), |e| m.entries[e].id);
            let (verb, body) = match op {
                Op::Submit { .. } => ("submit", None),
                Op::Approve { .. } => ("approve", None),
                Op::Reject { reason, .. } => ("reject", Some(json!({"reason": if *reason { "Split it" } else { "" }}))),
                _ => unreachable!(),
            };
            let (s, v) = mock.call(*who, "POST", &format!("/api/v1/time-entries/{id}/{verb}"), &[], body);
            let live = e.filter(|e| !m.entries[*e].gone);
            let status = match live {
                _ if *who == Outsider => 404,
                None => 404,
                Some(e) => {
                    let me = &m.entries[e];
                    match verb {
                        "submit" if !member_plus(*who) => 403,
                        "submit" if me.user != *who && !admin_plus(*who) => 403,
                        "submit" if !matches!(me.status, "Draft" | "Rejected") => 422,
                        "submit" => 200,
                        _ if !admin_plus(*who) => 403,
                        "reject" if matches!(op, Op::Reject { reason: false, .. }) => 400,
                        _ if me.status != "Submitted" => 422,
                        _ => 200,
                    }
                }
            };
            if let (200, Some(e)) = (status, live) {
                m.entries[e].status = match verb {
                    "submit" => "Submitted",
                    "approve" => "Approved",
                    _ => "Rejected",
                };
            }
            (s, v, Expect { status })
        }
        Op::BatchTransition {
            who,
            tickets,
            status: i,
        } => {
            let picks: Vec<Option<usize>> = tickets
                .iter()
                .map(|t| t.as_ref().and_then(|t| m.pick_ticket(t)))
                .collect();
            let keys: Vec<String> = picks.iter().map(|t| m.key(*t)).collect();
            let to = STATUSES.get(*i).copied().unwrap_or("Shipped");
            let body = json!({"ticket_ids": keys, "status": to});
            let (s, v) = mock.call(*who, "POST", "/api/v1/tickets/batch-transition", &[], Some(body));
            let distinct: BTreeSet<&String> = keys.iter().collect();
            let status = match who {
                w if !member_plus(*w) && *w != Outsider => 403,
                _ if distinct.len() != keys.len() => 400,
                _ => 200,
            };
            if status == 200 && s == 200 {
                // One result per item, in order: the item's own outcome.
                let results = v["results"].as_array().cloned().unwrap_or_default();
                let mut ok = 0;
                for (n, t) in picks.iter().enumerate() {
                    let live = m.live(*t).filter(|_| *who != Outsider);
                    let want = match live {
                        None => Some(404),
                        Some(_) if *i >= STATUSES.len() => Some(422),
                        Some(_) => None,
                    };
                    let got = results.get(n).map(|r| (r["ok"].clone(), r["error"]["code"].clone()));
                    let expected = match want {
                        None => (json!(true), Value::Null),
                        Some(404) => (json!(false), json!("not_found")),
                        Some(_) => (json!(false), json!("unprocessable")),
                    };
                    if got != Some(expected.clone()) {
                        return Err(format!(
                            "{op:?}: item {n} is {got:?}, the model expects {expected:?}: {v}"
                        ));
                    }
                    if let (None, Some(t)) = (want, live) {
                        ok += 1;
                        m.tickets[t].transition(to, now);
                    }
                }
                if v["succeeded"] != json!(ok) {
                    return Err(format!("{op:?}: succeeded {} vs {ok}", v["succeeded"]));
                }
            }
            (s, v, Expect { status })
        }
        Op::Delete { who, ticket } => {
            let t = m.pick_ticket(ticket);
            let (s, v) = mock.call(*who, "DELETE", &format!("/api/v1/tickets/{}", m.key(t)), &[], None);
            let locked = |t: usize| {
                m.entries
                    .iter()
                    .any(|e| e.ticket == t && !e.gone && matches!(e.status, "Submitted" | "Approved"))
            };
            let status = match m.gate(*who, t, admin_plus(*who)) {
                Err(status) => status,
                Ok(t) if locked(t) => 409,
                Ok(_) => 204,
            };
            if let (204, Some(t)) = (status, m.live(t)) {
                m.tickets[t].deleted = true;
                for e in m.entries.iter_mut().filter(|e| e.ticket == t) {
                    e.gone = true;
                }
            }
            (s, v, Expect { status })
        }
    };
    if status != expect.status {
        return Err(format!(
            "{op:?}: the mock answered {status}, the model expects {}: {body}",
            expect.status
        ));
    }
    answer_agrees(mock, m, op, status, &body).map_err(|e| format!("{op:?}: the answer {e}: {body}"))?;
    if status >= 400 {
        if body["error"]["code"].as_str().is_none() {
            return Err(format!("{op:?}: a {status} without the error envelope: {body}"));
        }
        if mock.snapshot() != before {
            return Err(format!("{op:?}: refused with {status}, yet the store changed"));
        }
    }
    agree(mock, m).map_err(|e| format!("after {op:?}: {e}"))
}

/// The answer of a successful request says what the model says: the ticket it returns, the
/// status of the time entry or sprint.
fn answer_agrees(mock: &Mock, m: &Model, op: &Op, status: u16, body: &Value) -> Result<(), String> {
    if status >= 300 || status == 204 {
        return Ok(());
    }
    let ticket = match op {
        Op::Create { .. } => m.tickets.last(),
        Op::Update { ticket, .. }
        | Op::Assign { ticket, .. }
        | Op::SetSprint { ticket, .. }
        | Op::Transition { ticket, .. }
        | Op::Label { ticket, .. } => m.pick_ticket(ticket).map(|t| &m.tickets[t]),
        Op::Submit { entry, .. } | Op::Approve { entry, .. } | Op::Reject { entry, .. } => {
            let want = m.pick_entry(entry).map(|e| m.entries[e].status);
            return if body["status"].as_str() == want {
                Ok(())
            } else {
                Err(format!("has status {}", body["status"]))
            };
        }
        Op::StartSprint { sprint, .. } | Op::CompleteSprint { sprint, .. } => {
            let s = body.get("sprint").unwrap_or(body);
            let want = format!("{:?}", m.sprints[*sprint]);
            return if s["status"] == json!(want) {
                Ok(())
            } else {
                Err(format!("has sprint status {}", s["status"]))
            };
        }
        Op::Comment { .. } | Op::Log { .. } | Op::Delete { .. } | Op::BatchTransition { .. } => return Ok(()),
    };
    let Some(t) = ticket else {
        return Err("names no ticket".into());
    };
    let labels: BTreeSet<usize> = (body["labels"].as_array().into_iter().flatten())
        .filter_map(|l| ["l1", "l2"].iter().position(|n| l["name"] == json!(n)))
        .collect();
    let got = (
        body["key"].clone(),
        body["title"].clone(),
        body["status"].clone(),
        body["priority"].clone(),
        body["assignee_id"].clone(),
        body["sprint_id"].clone(),
        body["story_points"].clone(),
        labels,
        body["resolved_at"].is_null(),
    );
    let want = (
        json!(format!("PM-{}", t.number)),
        json!(t.title),
        json!(t.status),
        json!(t.priority),
        json!(t.assignee.map(|w| mock.user(w))),
        json!(t.sprint.map(|i| mock.id_of("sprint", ["S1", "S2"][i]))),
        json!(t.points),
        t.labels.clone(),
        !t.resolved,
    );
    if got == want {
        Ok(())
    } else {
        Err(format!("shows {got:?}, the model {want:?}"))
    }
}

/// Every field the model tracks, as the store holds it.
fn agree(mock: &Mock, m: &Model) -> Result<(), String> {
    let s = &mock.store;
    let project = s
        .projects
        .values()
        .find(|p| p.key == "PM")
        .ok_or("project PM is gone")?;
    if project.ticket_counter != m.counter {
        return Err(format!("ticket_counter {} vs {}", project.ticket_counter, m.counter));
    }
    let label_ids = [mock.id_of("label", "l1"), mock.id_of("label", "l2")];
    let sprint_ids = [mock.id_of("sprint", "S1"), mock.id_of("sprint", "S2")];
    for (i, state) in m.sprints.iter().enumerate() {
        let got = s.sprints.get(&sprint_ids[i]).map(|x| format!("{:?}", x.status));
        if got.as_deref() != Some(&format!("{state:?}")) {
            return Err(format!("sprint S{}: {got:?} vs {state:?}", i + 1));
        }
    }
    let live: Vec<&MTicket> = m.tickets.iter().filter(|t| !t.deleted).collect();
    let stored = s.tickets.values().filter(|t| t.project_id == project.id).count();
    if stored != live.len() {
        return Err(format!("{stored} tickets stored, the model has {}", live.len()));
    }
    for mt in live {
        let t = s
            .tickets
            .values()
            .find(|t| t.project_id == project.id && t.ticket_number == mt.number)
            .ok_or_else(|| format!("PM-{} is missing", mt.number))?;
        let labels: BTreeSet<usize> = t
            .label_ids
            .iter()
            .filter_map(|l| label_ids.iter().position(|x| x == l))
            .collect();
        let got = (
            t.title.as_str(),
            t.status.as_str(),
            t.priority.as_str(),
            t.assignee_id,
            t.sprint_id,
            t.story_points,
            labels,
            t.resolved_at.is_some(),
            t.updated_at.0,
        );
        let want = (
            mt.title.as_str(),
            mt.status,
            mt.priority,
            mt.assignee.map(|w| mock.user(w)),
            mt.sprint.map(|i| sprint_ids[i]),
            mt.points,
            mt.labels.clone(),
            mt.resolved,
            mt.updated,
        );
        if got != want {
            return Err(format!("PM-{}: store {got:?}, model {want:?}", mt.number));
        }
        let activity = s.activity.values().filter(|a| a.ticket_id == t.id).count();
        let comments = s.comments.values().filter(|c| c.ticket_id == t.id).count();
        if (activity, comments) != (mt.activity, mt.comments) {
            return Err(format!(
                "PM-{}: activity/comments {:?} vs {:?}",
                mt.number,
                (activity, comments),
                (mt.activity, mt.comments)
            ));
        }
    }
    for e in &m.entries {
        let got = s.time_entries.get(&e.id).map(|x| x.status.as_str());
        let want = (!e.gone).then_some(e.status);
        if got != want {
            return Err(format!("time entry {}: {got:?} vs {want:?}", e.id));
        }
    }
    Ok(())
}

/// Prints, outside the test harness's capture, how many cases a suite ran.
fn report(suite: &str, cases: usize, detail: &str) {
    let _ = writeln!(std::io::stderr(), "proptest {suite}: {cases} cases ({detail})");
}

/// Runs `cases` cases of `strategy` through `test` with shrinking and the regression file of
/// this source (`proptest-regressions/it/model.txt`), prints the count, and fails with the
/// minimal failing input.
fn run<S: Strategy>(suite: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<usize, String>) {
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Config::default()
    };
    let (ran, work) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |v| {
        ran.fetch_add(1, Ordering::Relaxed);
        let n = test(v).map_err(TestCaseError::fail)?;
        work.fetch_add(n, Ordering::Relaxed);
        Ok(())
    });
    report(
        suite,
        ran.load(Ordering::Relaxed),
        &format!("{} requests", work.load(Ordering::Relaxed)),
    );
    if let Err(e) = result {
        panic!("{suite}: {e}");
    }
}

/// A fresh mock and model after every op of `ops` (each step checked).
fn replay(ops: &[Op]) -> Result<(Mock, Model), String> {
    let (mut mock, mut model) = (Mock::new(), Model::new());
    for op in ops {
        step(&mut mock, &mut model, op)?;
    }
    Ok((mock, model))
}

#[test]
fn the_mock_agrees_with_the_model_on_every_request() {
    run("state machine", 1500, ops(40), |ops| {
        replay(&ops)?;
        Ok(ops.len())
    });
}

// ----- pagination ------------------------------------------------------------------------------

/// A ticket to create for the pagination suite: priority, status, assignee, seconds after the
/// previous one (0 = the same instant, so ties are broken by id).
type Row = (usize, usize, Option<Who>, i64);

/// A list query: limit, sort, and one filter.
#[derive(Clone, Debug)]
enum Filter {
    None,
    Category(&'static str),
    Priority(usize),
    Assignee(Option<Who>),
    Text(&'static str),
}

const SORTS: [&str; 5] = ["created_at", "-created_at", "updated_at", "-updated_at", "-priority"];

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![
        Just(Filter::None),
        prop_oneof![Just("Unstarted"), Just("Started,Completed"), Just("Cancelled")].prop_map(Filter::Category),
        (0..4usize).prop_map(Filter::Priority),
        proptest::option::of(prop_oneof![Just(Who::Member), Just(Who::Admin)]).prop_map(Filter::Assignee),
        prop_oneof![Just("1"), Just("T"), Just("zz")].prop_map(Filter::Text),
    ]
}

fn category(status: &str) -> &'static str {
    match status {
        "Backlog" | "Todo" => "Unstarted",
        "InProgress" | "InReview" => "Started",
        "Done" => "Completed",
        _ => "Cancelled",
    }
}

/// Creates the rows, then walks every page of one query; returns the keys in page order and
/// checks every page's shape.
/// With `delete`, the last ticket of every page is deleted before the next page is asked for:
/// the cursor then names a row that is gone, which must neither repeat nor skip anything.
fn walk(
    mock: &mut Mock,
    rows: &[Row],
    query: (usize, usize, &Filter),
    delete: bool,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (limit, sort, f) = query;
    for (i, (priority, status, assignee, gap)) in rows.iter().enumerate() {
        mock.now += gap * 1000 - 1000;
        let body = json!({"title": format!("T{i}"), "priority": PRIORITIES[*priority]});
        let (s, t) = mock.call(Who::Owner, "POST", "/api/v1/projects/PM/tickets", &[], Some(body));
        let key = t["key"].as_str().unwrap_or_default().to_string();
        if s != 201 {
            return Err(format!("create: {s} {t}"));
        }
        if *status > 0 {
            let b = json!({"status": STATUSES[*status]});
            mock.send(Who::Owner, "POST", &format!("/api/v1/tickets/{key}/transition"), b);
        }
        if let Some(w) = assignee {
            let b = json!({"assignee_id": mock.user(*w)});
            mock.call(Who::Owner, "PATCH", &format!("/api/v1/tickets/{key}"), &[], Some(b));
        }
    }
    // What the query must return, computed from the stored rows here, independently.
    let rank = |p: &str| PRIORITIES.iter().position(|x| *x == p).unwrap_or(0) as i64;
    let mut want: Vec<&alloy_mock_api::model::Ticket> = (mock.store.tickets.values())
        .filter(|t| match f {
            Filter::None => true,
            Filter::Category(c) => c.split(',').any(|c| c == category(&t.status)),
            Filter::Priority(p) => t.priority.as_str() == PRIORITIES[*p],
            Filter::Assignee(w) => t.assignee_id == w.map(|w| mock.user(w)),
            Filter::Text(q) => t.title.to_lowercase().contains(&q.to_lowercase()),
        })
        .collect();
    want.sort_by(|a, b| {
        let (ca, cb) = ((a.created_at.0, a.id), (b.created_at.0, b.id));
        let (ua, ub) = ((a.updated_at.0, a.id), (b.updated_at.0, b.id));
        match SORTS[sort] {
            "created_at" => ca.cmp(&cb),
            "-created_at" => cb.cmp(&ca),
            "updated_at" => ua.cmp(&ub),
            "-updated_at" => ub.cmp(&ua),
            _ => rank(b.priority.as_str())
                .cmp(&rank(a.priority.as_str()))
                .then(ca.cmp(&cb)),
        }
    });
    let want: Vec<String> = want.iter().map(|t| t.key.clone()).collect();
    let mut query = vec![("limit", limit.to_string()), ("sort", SORTS[sort].to_string())];
    match f {
        Filter::None => {}
        Filter::Category(c) => query.push(("status_category", c.to_string())),
        Filter::Priority(p) => query.push(("priority", PRIORITIES[*p].to_string())),
        Filter::Assignee(w) => query.push((
            "assignee_id",
            w.map_or("none".to_string(), |w| mock.user(w).to_string()),
        )),
        Filter::Text(q) => query.push(("q", q.to_string())),
    }
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        if page > 200 {
            return Err("more than 200 pages".into());
        }
        let mut q = query.clone();
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let (s, v) = mock.call(Who::Viewer, "GET", "/api/v1/projects/PM/tickets", &q, None);
        let items = v["items"].as_array().ok_or_else(|| format!("page {page}: {s} {v}"))?;
        if items.len() > limit || v["has_more"] != json!(!v["next_cursor"].is_null()) {
            return Err(format!("page {page} breaks the page shape: {v}"));
        }
        got.extend(items.iter().filter_map(|t| t["key"].as_str().map(str::to_string)));
        if let (true, Some(last), true) = (delete, got.last(), v["has_more"] == json!(true)) {
            let (s, _) = mock.call(Who::Owner, "DELETE", &format!("/api/v1/tickets/{last}"), &[], None);
            if s != 204 {
                return Err(format!("deleting {last} between pages: {s}"));
            }
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    Ok((got, want))
}

#[test]
fn every_page_walk_returns_each_ticket_exactly_once_in_order() {
    let rows = proptest::collection::vec(
        (
            0..4usize,
            0..6usize,
            proptest::option::of(prop_oneof![Just(Who::Member), Just(Who::Admin)]),
            0..3i64,
        ),
        0..25,
    );
    let query = (1..=30usize, 0..5usize, filter(), any::<bool>());
    run("pagination", 900, (rows, query), |(rows, (limit, sort, f, delete))| {
        let mut mock = Mock::new();
        let (got, want) = walk(&mut mock, &rows, (limit, sort, &f), delete)?;
        let distinct: BTreeSet<&String> = got.iter().collect();
        if distinct.len() != got.len() {
            return Err(format!("a ticket came twice: {got:?}"));
        }
        if got != want {
            return Err(format!(
                "limit {limit}, sort {}, {f:?}, deleting between pages: {delete}: pages gave {got:?}, expected {want:?}",
                SORTS[sort]
            ));
        }
        Ok(rows.len() * 2 + got.len() / limit + 1)
    });
}

// ----- export and import -----------------------------------------------------------------------

/// Replaces every string that is a key of `m`, everywhere in `v`.
fn remap(v: &Value, m: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => m.get(s).map_or_else(|| v.clone(), |x| json!(x)),
        Value::Array(a) => Value::Array(a.iter().map(|x| remap(x, m)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), remap(x, m))).collect()),
        other => other.clone(),
    }
}

/// The rows of a bundle's array as sorted strings (rows with equal timestamps may come in
/// another order once their ids change).
fn rows_of(bundle: &Value, array: &str) -> Vec<String> {
    let mut out: Vec<String> = bundle[array]
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    out.sort();
    out
}

#[test]
fn export_then_import_into_an_empty_org_is_the_identity_up_to_the_listed_ids() {
    run("export/import", 250, ops(30), |ops| {
        let (mut mock, _) = replay(&ops)?;
        let (s, a) = mock.call(Who::Owner, "GET", "/api/v1/export", &[], None);
        if s != 200 {
            return Err(format!("export: {s} {a}"));
        }
        // An empty org with the same people in the same roles, created at the same instant.
        let source: Uuid = a["source"]["org_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let copy_key = "alloy_test_CopyOwnerModel000000000000000000";
        let copy = {
            let s = &mut mock.store;
            let org = s.orgs.get(&source).cloned().ok_or("source org")?;
            let owner = s
                .users
                .values()
                .find(|u| u.email == Who::Owner.email())
                .map(|u| u.id)
                .unwrap_or_default();
            let saved = std::mem::replace(&mut s.clock, Clock::Fixed(org.created_at));
            let copy = s.create_org("Copy".into(), "copy".into(), owner);
            s.clock = saved;
            let members: Vec<_> = s.memberships.values().filter(|m| m.org_id == source).cloned().collect();
            for m in members {
                s.set_membership(copy, m.user_id, m.role);
                if let Some(x) = s.memberships.get_mut(&(copy, m.user_id)) {
                    x.joined_at = m.joined_at;
                }
            }
            let rw = vec![
                alloy_mock_api::model::ApiKeyScope::Read,
                alloy_mock_api::model::ApiKeyScope::Write,
            ];
            s.insert_api_key(copy, owner, "copy", copy_key, rw, vec![], None);
            copy
        };
        let b = import_as(&mut mock, copy_key, &a)?;
        let mut m: BTreeMap<String, String> = b["id_remaps"]
            .as_object()
            .ok_or("id_remaps")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        if b["conflicts"] != json!([]) || b["unmapped_users"] != json!([]) {
            return Err(format!("import into an empty org: {b}"));
        }
        m.insert(source.to_string(), copy.to_string());
        let exported = export_as(&mut mock, copy_key)?;
        let mapped = remap(&a, &m);
        for array in alloy_mock_api::routes::data::ARRAYS {
            if rows_of(&exported, array) != rows_of(&mapped, array) {
                return Err(format!(
                    "{array} differ after the round trip:\n{:?}\nvs\n{:?}",
                    rows_of(&exported, array),
                    rows_of(&mapped, array)
                ));
            }
        }
        Ok(ops.len() + 3)
    });
}

/// `POST /api/v1/import` with a raw key (the copy's Owner is not one of the model's people).
fn import_as(mock: &mut Mock, key: &str, bundle: &Value) -> Result<Value, String> {
    raw_call(mock, key, "POST", "/api/v1/import", Some(bundle))
}

fn export_as(mock: &mut Mock, key: &str) -> Result<Value, String> {
    raw_call(mock, key, "GET", "/api/v1/export", None)
}

fn raw_call(mock: &mut Mock, key: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    mock.now += 1000;
    mock.store.clock = Clock::Fixed(Ts(mock.now));
    let bytes = body.map(Value::to_string).unwrap_or_default();
    let mut headers = BTreeMap::new();
    headers.insert("authorization".to_string(), format!("Bearer {key}"));
    headers.insert("content-type".to_string(), "application/json".to_string());
    let req = RawRequest {
        method: method.into(),
        path: path.into(),
        query: Vec::new(),
        headers,
        body: bytes.as_bytes(),
        body_len: bytes.len(),
    };
    let resp = handle(&mut mock.store, &mock.routes, &req);
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status == 200 {
        Ok(v)
    } else {
        Err(format!("{method} {path}: {} {v}", resp.status))
    }
}

// ----- concurrent creates ----------------------------------------------------------------------

#[test]
fn concurrent_creates_get_unique_consecutive_numbers() {
    run("concurrent creates", 16, 2..=24usize, |n| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let opts = alloy_mock_api::MockOptions {
                deterministic: true,
                seed: Some(seed().clone()),
                ..alloy_mock_api::MockOptions::default()
            };
            let mock = alloy_mock_api::MockAlloy::start_with(opts)
                .await
                .map_err(|e| e.to_string())?;
            let http = reqwest::Client::new();
            let url = format!("{}/api/v1/projects/PM/tickets", mock.base_url());
            let creates = (0..n).map(|i| {
                let req = http
                    .post(&url)
                    .bearer_auth(Who::Member.key())
                    .json(&json!({"title": format!("c{i}")}));
                async move {
                    let r = req.send().await.map_err(|e| e.to_string())?;
                    let v: Value = r.json().await.map_err(|e| e.to_string())?;
                    v["ticket_number"].as_i64().ok_or_else(|| format!("no number: {v}"))
                }
            });
            let mut numbers = futures::future::join_all(creates)
                .await
                .into_iter()
                .collect::<Result<Vec<i64>, String>>()?;
            numbers.sort();
            if numbers != (1..=n as i64).collect::<Vec<_>>() {
                return Err(format!("{n} concurrent creates got {numbers:?}"));
            }
            Ok(n)
        })
    });
}
