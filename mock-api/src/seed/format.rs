//! The seed file's format: what `fixtures/seed/seed.json` may say, as serde types. Everything is
//! named by natural keys (emails, project keys, workflow, label and sprint names, ticket
//! numbers); unknown fields are errors. A ticket's `history` is a list of [`Step`]s, one API
//! request each, told apart by `kind`, so a step carries exactly the fields of its kind.

use crate::model::{ApiKeyScope, OrgRole, Priority, TicketType};
use crate::values::{Day, Ts};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

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
pub(super) struct SeedDoc {
    /// Free text for readers of the file.
    #[serde(default, rename = "description")]
    pub _description: Option<String>,
    pub users: Vec<UserSpec>,
    pub orgs: Vec<OrgSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UserSpec {
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    pub created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrgSpec {
    pub name: String,
    pub slug: String,
    pub created_at: Ts,
    pub members: Vec<MemberSpec>,
    #[serde(default)]
    pub invites: Vec<InviteSpec>,
    #[serde(default)]
    pub teams: Vec<TeamSpec>,
    #[serde(default)]
    pub workflows: Vec<WorkflowSpec>,
    #[serde(default)]
    pub labor_rates: Vec<LaborRateSpec>,
    #[serde(default)]
    pub projects: Vec<ProjectSpec>,
    #[serde(default)]
    pub time_entries: Vec<TimeEntrySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MemberSpec {
    pub email: String,
    pub role: OrgRole,
    /// Default: the org's `created_at`.
    #[serde(default)]
    pub joined_at: Option<Ts>,
    #[serde(default)]
    pub api_key: Option<KeySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeySpec {
    pub name: String,
    /// The raw key: `alloy_test_` or `alloy_live_` and a secret.
    pub key: String,
    /// Default `["read", "write"]`.
    #[serde(default)]
    pub scopes: Option<Vec<ApiKeyScope>>,
    #[serde(default)]
    pub expires_at: Option<Ts>,
    /// Default: the member's `joined_at`.
    #[serde(default)]
    pub created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteSpec {
    pub email: String,
    #[serde(default)]
    pub role: Option<OrgRole>,
    pub invited_by: String,
    pub created_at: Ts,
    #[serde(default)]
    pub expires_in_days: Option<i64>,
    /// Default: a fresh `inv_` secret.
    #[serde(default)]
    pub code: Option<String>,
    /// When the invitee (listed under members) accepted it.
    #[serde(default)]
    pub accepted_at: Option<Ts>,
    /// When `invited_by` revoked it.
    #[serde(default)]
    pub revoked_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    pub created_by: String,
    pub created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkflowSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// As the API takes them: `[{name, category}]`.
    pub statuses: Value,
    #[serde(default)]
    pub initial_status: Option<String>,
    /// As the API takes them: `[{from, to}]`.
    #[serde(default)]
    pub transitions: Option<Value>,
    #[serde(default)]
    pub enforcement: Option<String>,
    pub created_by: String,
    pub created_at: Ts,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LaborRateSpec {
    pub user: String,
    pub hourly_rate_cents: i64,
    pub effective_from: Day,
    #[serde(default)]
    pub note: Option<String>,
    pub created_by: String,
    /// Default: the start of `effective_from`.
    #[serde(default)]
    pub created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectSpec {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Workflow name; default `Default`.
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub capitalization_type: Option<String>,
    #[serde(default)]
    pub development_phase: Option<String>,
    #[serde(default)]
    pub cost_center_id: Option<String>,
    #[serde(default)]
    pub budget_cents: Option<i64>,
    #[serde(default)]
    pub budget_period: Option<String>,
    #[serde(default)]
    pub amortization_months: Option<i64>,
    pub created_by: String,
    pub created_at: Ts,
    /// Emails of project members besides the creator (who is always one).
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub labels: Vec<LabelSpec>,
    #[serde(default)]
    pub sprints: Vec<SprintSpec>,
    #[serde(default)]
    pub tickets: Vec<TicketSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelSpec {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default: the project's creator.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Default: the project's `created_at`.
    #[serde(default)]
    pub created_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SprintSpec {
    pub name: String,
    #[serde(default)]
    pub goal: Option<String>,
    pub start_date: Day,
    pub end_date: Day,
    pub created_by: String,
    pub created_at: Ts,
    /// When it was started (it is Active from then on).
    #[serde(default)]
    pub started_at: Option<Ts>,
    /// When it was completed (it is Completed from then on).
    #[serde(default)]
    pub completed_at: Option<Ts>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TicketSpec {
    /// Default: the previous number + 1; a gap stands for deleted tickets.
    #[serde(default)]
    pub number: Option<i64>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ticket_type: Option<TicketType>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Default: `created_by`.
    #[serde(default)]
    pub reporter: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub sprint: Option<String>,
    #[serde(default)]
    pub story_points: Option<i64>,
    #[serde(default)]
    pub due_date: Option<Day>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_by: String,
    pub created_at: Ts,
    #[serde(default)]
    pub history: Vec<Step>,
}

/// One dated change to a ticket: one API request by `by` at `at`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Step {
    /// `POST /tickets/{t}/transition`.
    Transition { at: Ts, by: String, status: String },
    /// `PATCH /tickets/{t}` (`null` clears a field).
    Update {
        at: Ts,
        by: String,
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
    },
    /// `POST /tickets/{t}/labels` per added label, `DELETE …/labels/{id}` per removed one.
    Labels {
        at: Ts,
        by: String,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// `PATCH /tickets/{t}/tags` (a string sets, `null` removes).
    Tags {
        at: Ts,
        by: String,
        tags: BTreeMap<String, Option<String>>,
    },
    /// `POST /tickets/{t}/comments`, optionally marked edited at `edited_at`.
    Comment {
        at: Ts,
        by: String,
        body: String,
        #[serde(default)]
        edited_at: Option<Ts>,
    },
}

impl Step {
    /// When and by whom.
    pub fn at_by(&self) -> (Ts, &str) {
        match self {
            Step::Transition { at, by, .. }
            | Step::Update { at, by, .. }
            | Step::Labels { at, by, .. }
            | Step::Tags { at, by, .. }
            | Step::Comment { at, by, .. } => (*at, by),
        }
    }
}

/// A review of a time entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Review {
    pub at: Ts,
    pub by: String,
    /// Required for a rejection.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TimeEntrySpec {
    /// Ticket key, e.g. `WEB-3`.
    pub ticket: String,
    pub user: String,
    pub date: Day,
    pub minutes: i64,
    #[serde(default)]
    pub description: Option<String>,
    /// Default: 17:00 UTC on `date`.
    #[serde(default)]
    pub created_at: Option<Ts>,
    #[serde(default)]
    pub submitted_at: Option<Ts>,
    #[serde(default)]
    pub approved: Option<Review>,
    #[serde(default)]
    pub rejected: Option<Review>,
}
