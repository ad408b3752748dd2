//! The permission matrix as a table: every write operation of the API against every role of the
//! seeded org. Each cell runs on a fresh seeded mock (so one role's successful write cannot
//! change what the next role sees); a role at or above the row's minimum gets the row's success
//! status, every role below it gets `403 forbidden`. Ids are resolved from the seed by natural
//! keys (`{label:WEB:frontend}`, `{te:maya:Draft}`, ...).

use crate::support::{Api, spawn};
use alloy_mock_api::Store;
use alloy_mock_api::model::{OrgRole, SprintStatus, TimeEntryStatus};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One write operation: the least role that may perform it and what it answers then.
struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    min: OrgRole,
    ok: u16,
}

use OrgRole::Owner;

/// Every non-public write route of the API, one a line: method, path, the least role
/// (`Viewer` = any authenticated role), the success status and the body, if any. Lines
/// starting with `#` head a group.
const MATRIX: &str = r##"
# API keys, orgs, members, invites
POST   /api/v1/api-keys                                     Viewer   201 {"name": "ci"}
DELETE /api/v1/api-keys/{key:self}                          Viewer   204
POST   /api/v1/orgs                                         Viewer   201 {"name": "Side project", "slug": "side-project"}
PATCH  /api/v1/orgs/{org}                                   Owner    200 {"name": "Acme Renamed"}
PATCH  /api/v1/orgs/{org}/members/{user:marco}              Admin    200 {"role": "Viewer"}
DELETE /api/v1/orgs/{org}/members/{user:marco}              Admin    204
POST   /api/v1/orgs/{org}/invites                           Admin    201 {"email": "new.hire@acme.test"}
DELETE /api/v1/invites/{invite:nina@acme.test}              Admin    204
# Teams
POST   /api/v1/orgs/{org}/teams                             Admin    201 {"name": "Data"}
PATCH  /api/v1/teams/{team:Frontend}                        Admin    200 {"description": "UI"}
DELETE /api/v1/teams/{team:Frontend}                        Admin    204
POST   /api/v1/teams/{team:Frontend}/members                Admin    200 {"user_id": "{user:sofia}"}
DELETE /api/v1/teams/{team:Frontend}/members/{user:sofia}   Admin    200
# Workflows and labor rates
POST   /api/v1/orgs/{org}/workflows                         Admin    201 {"name": "Simple", "statuses": [{"name": "Open", "category": "Unstarted"}, {"name": "Closed", "category": "Completed"}]}
PATCH  /api/v1/workflows/{wf:Delivery}                      Admin    200 {"description": "Strict delivery"}
DELETE /api/v1/workflows/{wf:Delivery}                      Admin    409
POST   /api/v1/orgs/{org}/labor-rates                       Admin    201 {"user_id": "{user:marco}", "hourly_rate_cents": 8000, "effective_from": "2026-06-01"}
DELETE /api/v1/labor-rates/{rate:sofia}                     Admin    409
# Projects and project members
POST   /api/v1/projects                                     Member   201 {"key": "NEWP", "name": "New project"}
PATCH  /api/v1/projects/WEB                                 Member   200 {"name": "Storefront"}
PATCH  /api/v1/projects/OPS                                 Admin    200 {"workflow_id": "{wf:Delivery}"}
DELETE /api/v1/projects/OPS                                 Admin    409
POST   /api/v1/projects/OPS/members                         Member   201 {"user_id": "{user:rita}"}
DELETE /api/v1/projects/WEB/members/{user:rita}             Member   204
# Labels
POST   /api/v1/projects/WEB/labels                          Member   201 {"name": "perf"}
PATCH  /api/v1/labels/{label:WEB:frontend}                  Member   200 {"color": "#112233"}
DELETE /api/v1/labels/{label:WEB:frontend}                  Admin    204
POST   /api/v1/tickets/WEB-1/labels                         Member   200 {"label_id": "{label:WEB:checkout}"}
DELETE /api/v1/tickets/WEB-1/labels/{label:WEB:checkout}    Member   200
# Tickets, tags, comments
POST   /api/v1/projects/WEB/tickets                         Reporter 201 {"title": "From the matrix"}
PATCH  /api/v1/tickets/WEB-1                                Member   200 {"priority": "Critical"}
DELETE /api/v1/tickets/WEB-16                               Admin    204
POST   /api/v1/tickets/WEB-16/transition                    Member   200 {"status": "Cancelled"}
POST   /api/v1/tickets/batch-transition                     Member   200 {"ticket_ids": ["WEB-16"], "status": "Todo"}
POST   /api/v1/tickets/batch-update                         Member   200 {"ticket_ids": ["WEB-16"], "changes": {"story_points": 8}}
PUT    /api/v1/tickets/WEB-1/tags                           Member   200 {"tags": {"env": "prod"}}
PATCH  /api/v1/tickets/WEB-1/tags                           Member   200 {"tags": {"env": "staging"}}
DELETE /api/v1/tickets/WEB-1/tags/env                       Member   200
POST   /api/v1/tickets/WEB-1/comments                       Reporter 201 {"body": "Looks good"}
DELETE /api/v1/comments/{comment:marco}                     Admin    204
# Sprints
POST   /api/v1/projects/WEB/sprints                         Member   201 {"name": "Sprint 4", "start_date": "2026-04-20", "end_date": "2026-05-01"}
PATCH  /api/v1/sprints/{sprint:WEB:Planned}                 Member   200 {"goal": "Faster pages"}
DELETE /api/v1/sprints/{sprint:WEB:Planned}                 Admin    204
POST   /api/v1/sprints/{sprint:WEB:Planned}/start           Member   409
POST   /api/v1/sprints/{sprint:WEB:Active}/complete         Member   200
# Time entries
POST   /api/v1/tickets/WEB-1/time-entries                   Member   201 {"minutes": 30}
PATCH  /api/v1/time-entries/{te:maya:Draft}                 Member   200 {"minutes": 45}
DELETE /api/v1/time-entries/{te:maya:Draft}                 Member   204
POST   /api/v1/time-entries/{te:maya:Draft}/submit          Member   200
POST   /api/v1/time-entries/{te:*:Submitted}/approve        Admin    200
POST   /api/v1/time-entries/{te:*:Submitted}/reject         Admin    200 {"reason": "Wrong ticket"}
# Data
POST   /api/v1/import?dry_run=true                          Admin    200 {export}
"##;

/// The rows of [`MATRIX`].
fn rows() -> Vec<Row> {
    let word = |rest: &mut &'static str| {
        let t = rest.trim_start();
        let (w, tail) = t.split_at(t.find(' ').unwrap_or(t.len()));
        *rest = tail;
        w
    };
    MATRIX
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut rest = line;
            let (method, path) = (word(&mut rest), word(&mut rest));
            let min = OrgRole::parse(word(&mut rest)).expect("a role");
            let ok = word(&mut rest).parse().expect("a status");
            let body = Some(rest.trim()).filter(|b| !b.is_empty());
            Row {
                method,
                path,
                body,
                min,
                ok,
            }
        })
        .collect()
}

/// The id (the table's key) of the first record of `table` that `pick` accepts.
fn find<T>(table: &BTreeMap<Uuid, T>, what: &str, pick: impl Fn(&T) -> bool) -> String {
    let found = table.iter().find(|(_, r)| pick(r)).map(|(id, _)| id.to_string());
    found.unwrap_or_else(|| panic!("no seeded {what}"))
}

fn user(s: &Store, name: &str) -> String {
    let email = format!("{name}@acme.test");
    find(&s.users, "user", |u| u.email == email)
}

/// Replaces every `{kind:args}` placeholder with the seeded id it names.
fn resolve(api: &Api, text: &str, caller_key: &str) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find('{') {
        let Some(len) = out[start..].find('}') else { break };
        let token = out[start + 1..start + len].to_string();
        if token.contains('"') || token.trim().is_empty() || token.contains(' ') {
            // A JSON object brace, not a placeholder: placeholders never hold quotes or spaces.
            let rest = resolve(api, &out[start + 1..], caller_key);
            return format!("{}{{{}", &out[..start], rest);
        }
        let value = lookup(api, &token, caller_key);
        out.replace_range(start..start + len + 1, &value);
    }
    out
}

fn lookup(api: &Api, token: &str, caller_key: &str) -> String {
    let parts: Vec<&str> = token.split(':').collect();
    api.mock.with_store(|s| {
        let acme: Uuid = find(&s.orgs, "acme", |o| o.slug == "acme").parse().expect("uuid");
        let project = |key: &str| find(&s.projects, "project", |p| p.key == key);
        match parts.as_slice() {
            ["org"] => acme.to_string(),
            ["user", name] => user(s, name),
            ["team", name] => find(&s.teams, "team", |t| t.name == *name),
            ["wf", name] => find(&s.workflows, "wf", |w| w.name == *name && w.org_id == acme),
            ["invite", email] => find(&s.invites, "invite", |i| i.email == *email),
            ["label", p, name] => {
                let pid = project(p);
                find(&s.labels, "label", |l| {
                    l.project_id.to_string() == pid && l.name == *name
                })
            }
            ["sprint", p, status] => {
                let pid = project(p);
                let st = SprintStatus::parse(status).expect("status");
                find(&s.sprints, "sprint", |x| {
                    x.project_id.to_string() == pid && x.status == st
                })
            }
            ["comment", name] => {
                let uid = user(s, name);
                find(&s.comments, "comment", |c| c.author_id.to_string() == uid)
            }
            ["te", who, status] => {
                let st = TimeEntryStatus::parse(status).expect("status");
                let uid = if *who == "*" { None } else { Some(user(s, who)) };
                find(&s.time_entries, "time entry", |e| {
                    e.status == st && uid.as_ref().is_none_or(|u| e.user_id.to_string() == *u)
                })
            }
            ["rate", name] => {
                let uid = user(s, name);
                find(&s.labor_rates, "rate", |r| r.user_id.to_string() == uid)
            }
            ["key", "self"] => {
                let hash = alloy_mock_api::store::sha256_hex(caller_key);
                find(&s.api_keys, "key", |k| k.key_hash == hash)
            }
            other => panic!("unknown placeholder {other:?}"),
        }
    })
}

async fn run_cell(row: &Row, role: OrgRole) -> (u16, Value) {
    let api = spawn().await;
    let key = api.key(role);
    let path = resolve(&api, row.path, &key);
    let body = match row.body {
        Some("{export}") => Some(api.get(&api.key(Owner), "/api/v1/export").await.body),
        Some(text) => Some(serde_json::from_str(&resolve(&api, text, &key)).expect("row body is JSON")),
        None => None,
    };
    let r = api.send(row.method, Some(&key), &path, body).await;
    (r.status, r.body)
}

#[tokio::test]
async fn every_role_against_every_write_operation_matches_the_permission_matrix() {
    let mut failures = Vec::new();
    let rows = rows();
    assert_eq!(rows.len(), 52, "every row of the matrix is read");
    for row in &rows {
        for role in OrgRole::ALL {
            let (status, body) = run_cell(row, *role).await;
            let allowed = role.at_least(row.min);
            let ok = if allowed {
                status == row.ok
            } else {
                status == 403 && body["error"]["code"] == "forbidden"
            };
            if !ok {
                let want = if allowed { row.ok.to_string() } else { "403".into() };
                failures.push(format!(
                    "{} {} as {role}: got {status}, want {want}: {body}",
                    row.method, row.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_matrix_covers_every_write_route_of_the_api() {
    // Public routes and those whose rule is not a role (accept an invite, log out, edit one's own
    // comment) are tested in their domain modules.
    let exempt = [
        ("POST", "/api/v1/onboard"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/invites/accept"),
        ("PATCH", "/api/v1/comments/{comment_id}"),
    ];
    // A row covers a route when its concrete path fits the route's pattern segment by segment.
    let fits = |pattern: &str, path: &str| {
        let path = path.split('?').next().unwrap_or("");
        let (a, b): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
        a.len() == b.len() && a.iter().zip(&b).all(|(p, s)| p.starts_with('{') || p == s)
    };
    let rows = rows();
    let missing: Vec<String> = alloy_mock_api::routes::all_routes()
        .iter()
        .filter(|r| r.method != "GET" && !exempt.contains(&(r.method, r.path)))
        .filter(|r| !rows.iter().any(|row| row.method == r.method && fits(r.path, row.path)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "write routes without a matrix row:\n{}",
        missing.join("\n")
    );
}
