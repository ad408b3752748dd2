//! Names where a person would use names: users by `me` or email, labels by name within their
//! project, sprints by name, `active` or `last` within theirs. A [`Resolver`] lives for one tool
//! call and turns such a reference into the uuid the API takes, through the API itself: one
//! listing per kind (members of the org, labels or sprints of a project), kept for the rest of
//! the call. A name that matches nothing, or several things, is refused with the candidates
//! ([`errors::unresolved_name`]); the server never guesses. A uuid passes through untouched and
//! costs no call (the API checks it, as before).
//!
//! It also holds the other lookups a tool makes before its own call: the project of a ticket
//! (from its key, else from the ticket), whether a project exists (reports and exports check
//! it first instead of answering an empty result), and the members' display names that compact
//! ticket lists show next to the assignee's id.

use crate::surface::errors;
use crate::surface::tools::shared::{ProjectRef, TicketRef, UserRef};
use crate::upstream::api::{ApiPath, Query};
use crate::upstream::identity::Caller;
use rmcp::ErrorData;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Why a tool stops before its own call: an argument it refuses (JSON-RPC `-32602`, through
/// [`errors`]) or an upstream failure of a lookup (the `isError` result of that call).
#[derive(Debug)]
pub enum Halt {
    /// A bad argument, such as an unknown name.
    Invalid(ErrorData),
    /// A lookup the API refused or did not answer.
    Failed(Box<CallToolResult>),
}

impl From<ErrorData> for Halt {
    fn from(e: ErrorData) -> Halt {
        Halt::Invalid(e)
    }
}

impl From<Box<CallToolResult>> for Halt {
    fn from(r: Box<CallToolResult>) -> Halt {
        Halt::Failed(r)
    }
}

/// The outcome of a tool step that may halt.
pub type Step<T> = Result<T, Halt>;

/// A tool's answer from its steps: a refused argument stays an error, a failed lookup becomes
/// the tool's result.
pub fn settle(outcome: Step<CallToolResult>) -> Result<CallToolResult, ErrorData> {
    match outcome {
        Ok(result) => Ok(result),
        Err(Halt::Invalid(e)) => Err(e),
        Err(Halt::Failed(result)) => Ok(*result),
    }
}

/// Whether `s` has the syntax of a uuid (8-4-4-4-12 hex digits, any case).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The project key of a ticket key (`web-42` → `WEB`), `None` for a uuid.
fn key_prefix(ticket: &str) -> Option<String> {
    let (project, number) = ticket.rsplit_once('-')?;
    let valid = !is_uuid(ticket)
        && (2..=10).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_alphabetic())
        && project.bytes().all(|c| c.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.bytes().all(|c| c.is_ascii_digit());
    valid.then(|| project.to_ascii_uppercase())
}

/// How many pages of 200 a lookup reads at most (40,000 items: far beyond any project's labels
/// or sprints, or an org's members).
const MAX_LOOKUP_PAGES: usize = 200;

/// How many candidates an error lists at most.
const MAX_CANDIDATES: usize = 10;

/// The lookups of one tool call, with what they found so far.
pub struct Resolver<'a> {
    caller: &'a Caller,
    members: Option<Vec<Value>>,
    /// The lists of projects read so far (`labels`, `sprints`), by kind and project key in
    /// upper case.
    project_lists: HashMap<(&'static str, String), Vec<Value>>,
    ticket_projects: HashMap<String, String>,
}

impl<'a> Resolver<'a> {
    /// Lookups acting as `caller`.
    pub fn new(caller: &'a Caller) -> Resolver<'a> {
        Resolver {
            caller,
            members: None,
            project_lists: HashMap::new(),
            ticket_projects: HashMap::new(),
        }
    }

    /// Every item of a list endpoint, page after page.
    async fn all(&self, path: ApiPath) -> Step<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LOOKUP_PAGES {
            let query = Query::new().set("limit", 200).opt("cursor", cursor.as_deref());
            let page = errors::json_value(self.caller.api.get(path.clone(), &query).await)?;
            if let Some(Value::Array(list)) = page.get("items") {
                items.extend(list.iter().cloned());
            }
            cursor = page.get("next_cursor").and_then(Value::as_str).map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// The members of the caller's org (looked up once).
    async fn members(&mut self) -> Step<&[Value]> {
        if self.members.is_none() {
            let path = ApiPath::fixed("/api/v1/orgs")
                .seg(&self.caller.identity.org_id)
                .then("members");
            self.members = Some(self.all(path).await?);
        }
        Ok(self.members.as_deref().unwrap_or_default())
    }

    /// The user id of a user reference: a uuid as given, `me` = the caller, an email = the org
    /// member with that email (ignoring case).
    pub async fn user(&mut self, field: &str, reference: &str) -> Step<String> {
        if reference.eq_ignore_ascii_case("me") {
            return Ok(self.caller.identity.user_id.clone());
        }
        if is_uuid(reference) || !reference.contains('@') {
            return Ok(reference.to_string());
        }
        let members = self.members().await?;
        if let Some(id) = members
            .iter()
            .find(|m| text(m, "email").eq_ignore_ascii_case(reference))
            .map(|m| text(m, "user_id").to_string())
        {
            return Ok(id);
        }
        let mut closest: Vec<&Value> = members.iter().collect();
        let wanted = reference.to_ascii_lowercase();
        closest.sort_by_key(|m| {
            (
                distance(&wanted, &text(m, "email").to_ascii_lowercase()),
                text(m, "email"),
            )
        });
        closest.truncate(5);
        let shown: Vec<String> = closest
            .iter()
            .map(|m| format!("{} ({})", text(m, "email"), text(m, "display_name")))
            .collect();
        let candidates = closest
            .iter()
            .map(|m| json!({"user_id": m["user_id"], "email": m["email"], "display_name": m["display_name"]}))
            .collect();
        Err(errors::unresolved_name(
            field,
            format!(
                "no member of this org has the email {reference:?}; closest members: {}",
                list_or_none(&shown)
            ),
            candidates,
        )
        .into())
    }

    /// [`Resolver::user`] of a reference that may not be given.
    pub async fn user_if_given(&mut self, field: &str, reference: Option<&UserRef>) -> Step<Option<String>> {
        match reference {
            Some(r) => Ok(Some(self.user(field, r.as_str()).await?)),
            None => Ok(None),
        }
    }

    /// The display names of the org's members by user id; `None` when they cannot be read (a
    /// list then shows ids without names rather than failing).
    pub async fn member_names(&mut self) -> Option<HashMap<String, String>> {
        let members = self.members().await.ok()?;
        Some(
            members
                .iter()
                .map(|m| (text(m, "user_id").to_string(), text(m, "display_name").to_string()))
                .collect(),
        )
    }

    /// Every item of the list `kind` (`labels` or `sprints`) of `project`, read once per call.
    async fn project_list(&mut self, kind: &'static str, project: &str) -> Step<&[Value]> {
        let key = (kind, project.to_ascii_uppercase());
        if !self.project_lists.contains_key(&key) {
            let path = ApiPath::fixed("/api/v1/projects").seg(project).then(kind);
            let items = self.all(path).await?;
            self.project_lists.insert(key.clone(), items);
        }
        Ok(self.project_lists.get(&key).map(Vec::as_slice).unwrap_or_default())
    }

    /// The id of a label of `project`: a uuid as given, else the label of that name (ignoring
    /// case; names are unique per project).
    pub async fn label(&mut self, field: &str, project: &str, reference: &str) -> Step<String> {
        if is_uuid(reference) {
            return Ok(reference.to_string());
        }
        let labels = self.project_list("labels", project).await?;
        if let Some(label) = labels.iter().find(|l| text(l, "name").eq_ignore_ascii_case(reference)) {
            return Ok(text(label, "id").to_string());
        }
        let closest = by_closeness(labels, reference);
        let names: Vec<String> = closest.iter().map(|l| text(l, "name").to_string()).collect();
        let candidates = closest
            .iter()
            .map(|l| json!({"id": l["id"], "name": l["name"]}))
            .collect();
        Err(errors::unresolved_name(
            field,
            format!(
                "project {project} has no label named {reference:?}; its labels: {}",
                list_or_none(&names)
            ),
            candidates,
        )
        .into())
    }

    /// The id of a sprint: a uuid as given; `active` = the project's Active sprint; `last` = its
    /// most recently completed sprint; anything else = the sprint of that name (ignoring case),
    /// which must be the only one. A name needs `project`.
    pub async fn sprint(&mut self, field: &str, project: Option<&str>, reference: &str) -> Step<String> {
        if is_uuid(reference) {
            return Ok(reference.to_string());
        }
        let Some(project) = project else {
            return Err(errors::invalid_params(
                field,
                format!(
                    "{reference:?} is a sprint name, `active` or `last`, which needs the project: give `project_id` too, or the sprint uuid"
                ),
            )
            .into());
        };
        let sprints = self.project_list("sprints", project).await?;
        let (found, what): (Vec<&Value>, String) = if reference.eq_ignore_ascii_case("active") {
            let active = sprints.iter().filter(|s| text(s, "status") == "Active").collect();
            (active, format!("project {project} has no Active sprint"))
        } else if reference.eq_ignore_ascii_case("last") {
            let last = sprints
                .iter()
                .filter(|s| text(s, "status") == "Completed")
                .max_by_key(|s| (text(s, "completed_at"), text(s, "end_date")))
                .into_iter()
                .collect();
            (last, format!("project {project} has no Completed sprint"))
        } else {
            let named = sprints
                .iter()
                .filter(|s| text(s, "name").eq_ignore_ascii_case(reference))
                .collect();
            (named, format!("project {project} has no sprint named {reference:?}"))
        };
        let describe = |s: &Value| {
            format!(
                "{} ({}, {} to {}, id {})",
                text(s, "name"),
                text(s, "status"),
                text(s, "start_date"),
                text(s, "end_date"),
                text(s, "id")
            )
        };
        let candidate =
            |s: &Value| json!({"id": s["id"], "name": s["name"], "status": s["status"], "start_date": s["start_date"]});
        match found.as_slice() {
            [one] => Ok(text(one, "id").to_string()),
            [] => {
                let closest = by_closeness(sprints, reference);
                let shown: Vec<String> = closest.iter().map(|s| describe(s)).collect();
                Err(errors::unresolved_name(
                    field,
                    format!("{what}; its sprints: {}", list_or_none(&shown)),
                    closest.iter().map(|s| candidate(s)).collect(),
                )
                .into())
            }
            several => {
                let shown: Vec<String> = several.iter().map(|s| describe(s)).collect();
                Err(errors::unresolved_name(
                    field,
                    format!(
                        "{} sprints of project {project} are named {reference:?}: {}; give the uuid of the one you mean",
                        several.len(),
                        shown.join("; ")
                    ),
                    several.iter().map(|s| candidate(s)).collect(),
                )
                .into())
            }
        }
    }

    /// The project key of a ticket: from its key when it is one (`web-42` → `WEB`), else read
    /// from the ticket.
    pub async fn ticket_project(&mut self, ticket: &TicketRef) -> Step<String> {
        if let Some(project) = key_prefix(ticket.as_str()) {
            return Ok(project);
        }
        if let Some(project) = self.ticket_projects.get(ticket.as_str()) {
            return Ok(project.clone());
        }
        let path = ApiPath::fixed("/api/v1/tickets").seg(ticket.as_str());
        let found = errors::json_value(self.caller.api.get(path, &Query::new()).await)?;
        let project = key_prefix(text(&found, "key")).unwrap_or_else(|| text(&found, "project_id").to_string());
        self.ticket_projects
            .insert(ticket.as_str().to_string(), project.clone());
        Ok(project)
    }

    /// The one project the tickets belong to (for names that are per project); `-32602` when
    /// they span several.
    pub async fn tickets_project(&mut self, field: &str, tickets: &[TicketRef]) -> Step<String> {
        let mut projects: Vec<String> = Vec::new();
        for t in tickets {
            let p = self.ticket_project(t).await?;
            if !projects.contains(&p) {
                projects.push(p);
            }
        }
        match projects.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(errors::invalid_params(
                field,
                format!(
                    "a name here is looked up in the tickets' project, but they belong to {}: give a uuid, or tickets of one project",
                    projects.join(", ")
                ),
            )
            .into()),
        }
    }

    /// Checks that each of `projects` exists and the caller may see it, in order: the API's own
    /// 404 (or 403) for the first that does not. Reports and exports filter by project
    /// silently, so a mistyped key would otherwise read as "no data".
    pub async fn ensure_projects(&mut self, projects: impl IntoIterator<Item = &ProjectRef>) -> Step<()> {
        for project in projects {
            let path = ApiPath::fixed("/api/v1/projects").seg(project.as_str());
            errors::json_value(self.caller.api.get(path, &Query::new()).await)?;
        }
        Ok(())
    }
}

/// A string field of an item (`""` when absent or not a string).
fn text<'v>(item: &'v Value, field: &str) -> &'v str {
    item.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Up to [`MAX_CANDIDATES`] items by the closeness of their `name` to `wanted`.
fn by_closeness<'v>(items: &'v [Value], wanted: &str) -> Vec<&'v Value> {
    let wanted = wanted.to_lowercase();
    let mut all: Vec<&Value> = items.iter().collect();
    all.sort_by_key(|i| (distance(&wanted, &text(i, "name").to_lowercase()), text(i, "name")));
    all.truncate(MAX_CANDIDATES);
    all
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// The edit distance of two strings (insertions, deletions, substitutions of characters).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_ticket_keys_are_told_apart() {
        assert!(is_uuid("00000000-0000-4000-8000-0000000000A2"));
        assert!(!is_uuid("00000000-0000-4000-8000-0000000000a"));
        assert!(!is_uuid("frontend"));
        assert_eq!(key_prefix("web-42").as_deref(), Some("WEB"));
        assert_eq!(key_prefix("WEB-0042").as_deref(), Some("WEB"));
        assert_eq!(key_prefix("00000000-0000-4000-8000-000000000002"), None);
        assert_eq!(key_prefix("W-1"), None);
    }

    #[test]
    fn edit_distance_counts_single_character_changes() {
        assert_eq!(distance("maya@acme.test", "maya@acme.test"), 0);
        assert_eq!(distance("maia@acme.test", "maya@acme.test"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
