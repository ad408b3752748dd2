//! The `alloy://` resources (contract §7): three fixed resources, one resource per project in
//! `resources/list`, and six templates. Every read goes through the API with the caller's key;
//! the content is one `application/json` text. A URI outside these forms, or with a variable of
//! the wrong syntax, is -32002 without an API call; an API 404 is -32002; any other failure is
//! -32603 `"<status> <code>: <message>"` (the mapping lives in [`crate::surface::errors`]).

use crate::surface::errors;
use crate::upstream::api::{ApiPath, Query};
use crate::upstream::identity::Caller;
use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{Value, json};

const JSON: &str = "application/json";

/// Items a list resource holds at most.
const LIST_CAP: u32 = 200;

/// The six resource templates, each with name, description and MIME type.
pub fn templates() -> Vec<ResourceTemplate> {
    [
        (
            "alloy://projects/{project}",
            "project",
            "A project (by uuid or key) and its summary: ticket counts, active sprint, budget.",
        ),
        (
            "alloy://projects/{project}/tickets",
            "project-open-tickets",
            "Open tickets of a project (first 200).",
        ),
        (
            "alloy://projects/{project}/sprints",
            "project-sprints",
            "All sprints of a project (first 200).",
        ),
        (
            "alloy://tickets/{ticket}",
            "ticket",
            "A ticket (by uuid or key, e.g. WEB-42) with its first 50 comments.",
        ),
        ("alloy://sprints/{sprint_id}", "sprint", "A sprint and its board."),
        (
            "alloy://sprints/{sprint_id}/burndown",
            "sprint-burndown",
            "The burndown of a sprint.",
        ),
    ]
    .into_iter()
    .map(|(uri, name, description)| {
        ResourceTemplate::new(uri, name)
            .with_description(description)
            .with_mime_type(JSON)
    })
    .collect()
}

/// The fixed resources, then one `alloy://projects/<KEY>` per project (first 200). When the
/// project list cannot be read, only the fixed resources are listed (and a warning logged).
pub async fn list(caller: &Caller) -> Vec<Resource> {
    let mut out = vec![
        Resource::new("alloy://me", "me")
            .with_description("The caller: user id, org id, email and role.")
            .with_mime_type(JSON),
        Resource::new("alloy://projects", "projects")
            .with_description("Projects of the caller's org (first 200).")
            .with_mime_type(JSON),
        Resource::new("alloy://my/tickets", "my-tickets")
            .with_description("Open tickets assigned to the caller, most urgent first (first 200).")
            .with_mime_type(JSON),
    ];
    let r = caller
        .api
        .get("/api/v1/projects", &Query::new().set("limit", LIST_CAP))
        .await;
    match errors::json_value(r) {
        Ok(page) => {
            for p in page["items"].as_array().into_iter().flatten() {
                let (Some(key), Some(name)) = (p["key"].as_str(), p["name"].as_str()) else {
                    continue;
                };
                out.push(
                    Resource::new(format!("alloy://projects/{key}"), name)
                        .with_description(key)
                        .with_mime_type(JSON),
                );
            }
        }
        Err(_) => tracing::warn!("resources/list: the project list could not be read; listing fixed resources only"),
    }
    out
}

/// Reads one resource.
pub async fn read(caller: &Caller, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let target = parse(uri).ok_or_else(|| errors::resource_not_found(uri))?;
    let api = &caller.api;
    let get = |path: ApiPath, query: Query| async move { errors::resource_json(uri, api.get(path, &query).await) };
    let open = "Unstarted,Started";
    let value = match target {
        Target::Me => get(ApiPath::fixed("/api/v1/auth/me"), Query::new()).await?,
        Target::Projects => capped(get(ApiPath::fixed("/api/v1/projects"), Query::new().set("limit", LIST_CAP)).await?),
        Target::MyTickets => capped(
            get(
                ApiPath::fixed("/api/v1/tickets"),
                Query::new()
                    .set("assignee_id", &caller.identity.user_id)
                    .set("status_category", open)
                    .set("sort", "-priority")
                    .set("limit", LIST_CAP),
            )
            .await?,
        ),
        Target::Project(p) => {
            let project = get(ApiPath::fixed("/api/v1/projects").seg(&p), Query::new()).await?;
            let summary = get(ApiPath::fixed("/api/v1/projects").seg(&p).then("summary"), Query::new()).await?;
            json!({"project": project, "summary": summary})
        }
        Target::ProjectTickets(p) => capped(
            get(
                ApiPath::fixed("/api/v1/projects").seg(&p).then("tickets"),
                Query::new().set("status_category", open).set("limit", LIST_CAP),
            )
            .await?,
        ),
        Target::ProjectSprints(p) => capped(
            get(
                ApiPath::fixed("/api/v1/projects").seg(&p).then("sprints"),
                Query::new().set("limit", LIST_CAP),
            )
            .await?,
        ),
        Target::Ticket(t) => {
            let ticket = get(ApiPath::fixed("/api/v1/tickets").seg(&t), Query::new()).await?;
            let comments = get(
                ApiPath::fixed("/api/v1/tickets").seg(&t).then("comments"),
                Query::new().set("limit", 50),
            )
            .await?;
            json!({"ticket": ticket, "comments": comments["items"].clone()})
        }
        Target::Sprint(s) => {
            let sprint = get(ApiPath::fixed("/api/v1/sprints").seg(&s), Query::new()).await?;
            let board = get(ApiPath::fixed("/api/v1/sprints").seg(&s).then("board"), Query::new()).await?;
            json!({"sprint": sprint, "board": board})
        }
        Target::Burndown(s) => get(ApiPath::fixed("/api/v1/sprints").seg(&s).then("burndown"), Query::new()).await?,
    };
    let text = serde_json::to_string(&value).map_err(|e| errors::internal(format!("resource JSON: {e}")))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(JSON),
    ]))
}

/// `{"items": [...], "has_more": bool}` of a list page.
fn capped(page: Value) -> Value {
    json!({
        "items": page.get("items").cloned().unwrap_or_else(|| json!([])),
        "has_more": page.get("has_more").cloned().unwrap_or(Value::Bool(false)),
    })
}

/// What a URI names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Me,
    Projects,
    MyTickets,
    Project(String),
    ProjectTickets(String),
    ProjectSprints(String),
    Ticket(String),
    Sprint(String),
    Burndown(String),
}

fn parse(uri: &str) -> Option<Target> {
    let rest = uri.strip_prefix("alloy://")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let project = |p: &str| (is_uuid(p) || is_project_key(p)).then(|| p.to_string());
    let ticket = |t: &str| (is_uuid(t) || is_ticket_key(t)).then(|| t.to_string());
    let sprint = |s: &str| is_uuid(s).then(|| s.to_string());
    match parts.as_slice() {
        ["me"] => Some(Target::Me),
        ["projects"] => Some(Target::Projects),
        ["my", "tickets"] => Some(Target::MyTickets),
        ["projects", p] => project(p).map(Target::Project),
        ["projects", p, "tickets"] => project(p).map(Target::ProjectTickets),
        ["projects", p, "sprints"] => project(p).map(Target::ProjectSprints),
        ["tickets", t] => ticket(t).map(Target::Ticket),
        ["sprints", s] => sprint(s).map(Target::Sprint),
        ["sprints", s, "burndown"] => sprint(s).map(Target::Burndown),
        _ => None,
    }
}

/// 8-4-4-4-12 hex digits, any case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `^[A-Za-z][A-Za-z0-9]{1,9}$`.
fn is_project_key(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=10).contains(&b.len()) && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `^[A-Za-z][A-Za-z0-9]{1,9}-[1-9][0-9]{0,8}$`.
fn is_ticket_key(s: &str) -> bool {
    let Some((key, number)) = s.rsplit_once('-') else {
        return false;
    };
    is_project_key(key)
        && (1..=9).contains(&number.len())
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_uris_parse_by_the_reference_syntax() {
        assert_eq!(parse("alloy://me"), Some(Target::Me));
        assert_eq!(parse("alloy://projects/WEB"), Some(Target::Project("WEB".into())));
        assert_eq!(parse("alloy://tickets/web-42"), Some(Target::Ticket("web-42".into())));
        assert_eq!(parse("alloy://tickets/WEB-042"), None);
        assert_eq!(parse("alloy://projects/W"), None);
        assert_eq!(parse("alloy://sprints/WEB"), None);
        assert_eq!(
            parse("alloy://sprints/00000000-0000-4000-8000-000000000001/burndown"),
            Some(Target::Burndown("00000000-0000-4000-8000-000000000001".into()))
        );
        assert_eq!(parse("https://me"), None);
        assert_eq!(parse("alloy://projects/WEB/labels"), None);
    }
}
