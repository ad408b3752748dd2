//! The permission matrix as a table: every write operation of the API against every role of the
//! seeded org. Each cell runs on a fresh seeded mock (so one role's successful write cannot
//! change what the next role sees); a role at or above the row's minimum gets the row's success
//! status, every role below it gets `403 forbidden`. Ids are resolved from the seed by natural
//! keys (`{label:WEB:frontend}`, `{te:maya:Draft}`, ...).

use crate::support::{Api, spawn};
use alloy_mock_api::Store;
use alloy_mock_api::model::{OrgRole, SprintStatus, TimeEntryStatus};
use serde_json::Value;

/// One write operation: the least role that may perform it and what it answers then.
struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    min: OrgRole,
    ok: u16,
}

const fn row(method: &'static str, path: &'static str, body: Option<&'static str>, min: OrgRole, ok: u16) -> Row {
    Row {
        method,
        path,
        body,
        min,
        ok,
    }
}

use OrgRole::{Admin, Member, Owner, Reporter, Viewer};

/// Every non-public write route of the API. `Viewer` as minimum = any authenticated role.
const ROWS: &[Row] = &[
    // API keys, orgs, members, invites
    row("POST", "/api/v1/api-keys", Some(r#"{"name": "ci"}"#), Viewer, 201),
    row("DELETE", "/api/v1/api-keys/{key:self}", None, Viewer, 204),
    row(
        "POST",
        "/api/v1/orgs",
        Some(r#"{"name": "Side project", "slug": "side-project"}"#),
        Viewer,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/orgs/{org}",
        Some(r#"{"name": "Acme Renamed"}"#),
        Owner,
        200,
    ),
    row(
        "PATCH",
        "/api/v1/orgs/{org}/members/{user:marco}",
        Some(r#"{"role": "Viewer"}"#),
        Admin,
        200,
    ),
    row("DELETE", "/api/v1/orgs/{org}/members/{user:marco}", None, Admin, 204),
    row(
        "POST",
        "/api/v1/orgs/{org}/invites",
        Some(r#"{"email": "new.hire@acme.test"}"#),
        Admin,
        201,
    ),
    row("DELETE", "/api/v1/invites/{invite:nina@acme.test}", None, Admin, 204),
    // Teams
    row(
        "POST",
        "/api/v1/orgs/{org}/teams",
        Some(r#"{"name": "Data"}"#),
        Admin,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/teams/{team:Frontend}",
        Some(r#"{"description": "UI"}"#),
        Admin,
        200,
    ),
    row("DELETE", "/api/v1/teams/{team:Frontend}", None, Admin, 204),
    row(
        "POST",
        "/api/v1/teams/{team:Frontend}/members",
        Some(r#"{"user_id": "{user:sofia}"}"#),
        Admin,
        200,
    ),
    row(
        "DELETE",
        "/api/v1/teams/{team:Frontend}/members/{user:sofia}",
        None,
        Admin,
        200,
    ),
    // Workflows and labor rates
    row(
        "POST",
        "/api/v1/orgs/{org}/workflows",
        Some(
            r#"{"name": "Simple", "statuses": [{"name": "Open", "category": "Unstarted"}, {"name": "Closed", "category": "Completed"}]}"#,
        ),
        Admin,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/workflows/{wf:Delivery}",
        Some(r#"{"description": "Strict delivery"}"#),
        Admin,
        200,
    ),
    row("DELETE", "/api/v1/workflows/{wf:Delivery}", None, Admin, 409),
    row(
        "POST",
        "/api/v1/orgs/{org}/labor-rates",
        Some(r#"{"user_id": "{user:marco}", "hourly_rate_cents": 8000, "effective_from": "2026-06-01"}"#),
        Admin,
        201,
    ),
    row("DELETE", "/api/v1/labor-rates/{rate:sofia}", None, Admin, 409),
    // Projects and project members
    row(
        "POST",
        "/api/v1/projects",
        Some(r#"{"key": "NEWP", "name": "New project"}"#),
        Member,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/projects/WEB",
        Some(r#"{"name": "Storefront"}"#),
        Member,
        200,
    ),
    row(
        "PATCH",
        "/api/v1/projects/OPS",
        Some(r#"{"workflow_id": "{wf:Delivery}"}"#),
        Admin,
        200,
    ),
    row("DELETE", "/api/v1/projects/OPS", None, Admin, 409),
    row(
        "POST",
        "/api/v1/projects/OPS/members",
        Some(r#"{"user_id": "{user:rita}"}"#),
        Member,
        201,
    ),
    row("DELETE", "/api/v1/projects/WEB/members/{user:rita}", None, Member, 204),
    // Labels
    row(
        "POST",
        "/api/v1/projects/WEB/labels",
        Some(r#"{"name": "perf"}"#),
        Member,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/labels/{label:WEB:frontend}",
        Some(r##"{"color": "#112233"}"##),
        Member,
        200,
    ),
    row("DELETE", "/api/v1/labels/{label:WEB:frontend}", None, Admin, 204),
    row(
        "POST",
        "/api/v1/tickets/WEB-1/labels",
        Some(r#"{"label_id": "{label:WEB:checkout}"}"#),
        Member,
        200,
    ),
    row(
        "DELETE",
        "/api/v1/tickets/WEB-1/labels/{label:WEB:checkout}",
        None,
        Member,
        200,
    ),
    // Tickets, tags, comments
    row(
        "POST",
        "/api/v1/projects/WEB/tickets",
        Some(r#"{"title": "From the matrix"}"#),
        Reporter,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/tickets/WEB-1",
        Some(r#"{"priority": "Critical"}"#),
        Member,
        200,
    ),
    row("DELETE", "/api/v1/tickets/WEB-16", None, Admin, 204),
    row(
        "POST",
        "/api/v1/tickets/WEB-16/transition",
        Some(r#"{"status": "Cancelled"}"#),
        Member,
        200,
    ),
    row(
        "POST",
        "/api/v1/tickets/batch-transition",
        Some(r#"{"ticket_ids": ["WEB-16"], "status": "Todo"}"#),
        Member,
        200,
    ),
    row(
        "POST",
        "/api/v1/tickets/batch-update",
        Some(r#"{"ticket_ids": ["WEB-16"], "changes": {"story_points": 8}}"#),
        Member,
        200,
    ),
    row(
        "PUT",
        "/api/v1/tickets/WEB-1/tags",
        Some(r#"{"tags": {"env": "prod"}}"#),
        Member,
        200,
    ),
    row(
        "PATCH",
        "/api/v1/tickets/WEB-1/tags",
        Some(r#"{"tags": {"env": "staging"}}"#),
        Member,
        200,
    ),
    row("DELETE", "/api/v1/tickets/WEB-1/tags/env", None, Member, 200),
    row(
        "POST",
        "/api/v1/tickets/WEB-1/comments",
        Some(r#"{"body": "Looks good"}"#),
        Reporter,
        201,
    ),
    row("DELETE", "/api/v1/comments/{comment:marco}", None, Admin, 204),
    // Sprints
    row(
        "POST",
        "/api/v1/projects/WEB/sprints",
        Some(r#"{"name": "Sprint 4", "start_date": "2026-04-20", "end_date": "2026-05-01"}"#),
        Member,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/sprints/{sprint:WEB:Planned}",
        Some(r#"{"goal": "Faster pages"}"#),
        Member,
        200,
    ),
    row("DELETE", "/api/v1/sprints/{sprint:WEB:Planned}", None, Admin, 204),
    row("POST", "/api/v1/sprints/{sprint:WEB:Planned}/start", None, Member, 409),
    row(
        "POST",
        "/api/v1/sprints/{sprint:WEB:Active}/complete",
        None,
        Member,
        200,
    ),
    // Time entries
    row(
        "POST",
        "/api/v1/tickets/WEB-1/time-entries",
        Some(r#"{"minutes": 30}"#),
        Member,
        201,
    ),
    row(
        "PATCH",
        "/api/v1/time-entries/{te:maya:Draft}",
        Some(r#"{"minutes": 45}"#),
        Member,
        200,
    ),
    row("DELETE", "/api/v1/time-entries/{te:maya:Draft}", None, Member, 204),
    row("POST", "/api/v1/time-entries/{te:maya:Draft}/submit", None, Member, 200),
    row(
        "POST",
        "/api/v1/time-entries/{te:*:Submitted}/approve",
        None,
        Admin,
        200,
    ),
    row(
        "POST",
        "/api/v1/time-entries/{te:*:Submitted}/reject",
        Some(r#"{"reason": "Wrong ticket"}"#),
        Admin,
        200,
    ),
    // Data
    row("POST", "/api/v1/import?dry_run=true", Some("{export}"), Admin, 200),
];

fn user(s: &Store, name: &str) -> String {
    let email = format!("{name}@acme.test");
    s.users
        .values()
        .find(|u| u.email == email)
        .map(|u| u.id.to_string())
        .expect("seeded user")
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
        let acme = s.orgs.values().find(|o| o.slug == "acme").map(|o| o.id).expect("acme");
        let project = |key: &str| {
            s.projects
                .values()
                .find(|p| p.key == key)
                .map(|p| p.id)
                .expect("project")
        };
        match parts.as_slice() {
            ["org"] => acme.to_string(),
            ["user", name] => user(s, name),
            ["team", name] => s
                .teams
                .values()
                .find(|t| t.name == *name)
                .map(|t| t.id.to_string())
                .expect("team"),
            ["wf", name] => s
                .workflows
                .values()
                .find(|w| w.name == *name && w.org_id == acme)
                .map(|w| w.id.to_string())
                .expect("wf"),
            ["invite", email] => s
                .invites
                .values()
                .find(|i| i.email == *email)
                .map(|i| i.id.to_string())
                .expect("invite"),
            ["label", p, name] => {
                let pid = project(p);
                s.labels
                    .values()
                    .find(|l| l.project_id == pid && l.name == *name)
                    .map(|l| l.id.to_string())
                    .expect("label")
            }
            ["sprint", p, status] => {
                let pid = project(p);
                let st = SprintStatus::parse(status).expect("status");
                s.sprints
                    .values()
                    .find(|x| x.project_id == pid && x.status == st)
                    .map(|x| x.id.to_string())
                    .expect("sprint")
            }
            ["comment", name] => {
                let uid = user(s, name);
                s.comments
                    .values()
                    .find(|c| c.author_id.to_string() == uid)
                    .map(|c| c.id.to_string())
                    .expect("comment")
            }
            ["te", who, status] => {
                let st = TimeEntryStatus::parse(status).expect("status");
                let uid = if *who == "*" { None } else { Some(user(s, who)) };
                s.time_entries
                    .values()
                    .find(|e| e.status == st && uid.as_ref().is_none_or(|u| e.user_id.to_string() == *u))
                    .map(|e| e.id.to_string())
                    .expect("time entry")
            }
            ["rate", name] => {
                let uid = user(s, name);
                s.labor_rates
                    .values()
                    .find(|r| r.user_id.to_string() == uid)
                    .map(|r| r.id.to_string())
                    .expect("rate")
            }
            ["key", "self"] => {
                let hash = alloy_mock_api::store::sha256_hex(caller_key);
                s.api_keys
                    .values()
                    .find(|k| k.key_hash == hash)
                    .map(|k| k.id.to_string())
                    .expect("key")
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
    for row in ROWS {
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
    let missing: Vec<String> = alloy_mock_api::routes::all_routes()
        .iter()
        .filter(|r| r.method != "GET" && !exempt.contains(&(r.method, r.path)))
        .filter(|r| !ROWS.iter().any(|row| row.method == r.method && fits(r.path, row.path)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "write routes without a matrix row:\n{}",
        missing.join("\n")
    );
}
