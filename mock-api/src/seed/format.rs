//! The seed file's format: what `fixtures/seed/seed.json` may say, as serde types. A record is
//! the body its API request takes (`fields`: passed to the route as written, so the route's own
//! reader judges every field and names any it does not know) plus what only a seed says: who
//! and when, and references by natural key (emails, workflow, label and sprint names, ticket
//! keys). A ticket's `history` is a list of [`Step`]s, one request each, told apart by `kind`.

use crate::model::OrgRole;
use crate::values::{Day, Ts};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The fields of a record that its API request takes, as written.
pub(super) type Fields = Map<String, Value>;

/// Deserializes a present field (even `null`) as `Some`, so `Option<Option<T>>` can tell
/// "absent" (no change) from `null` (clear).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeedDoc {
    /// Free text for readers of the file.
    #[serde(rename = "description")]
    pub _description: Option<String>,
    pub users: Vec<UserSpec>,
    pub orgs: Vec<OrgSpec>,
}

/// `email`, `display_name`, `password`? as registration reads them.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct UserSpec {
    /// Default `true`.
    pub active: Option<bool>,
    pub created_at: Ts,
    #[serde(flatten)]
    pub fields: Fields,
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
    pub workflows: Vec<Record>,
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
    pub joined_at: Option<Ts>,
    pub api_key: Option<KeySpec>,
}

/// `name`, `scopes`?, `expires_at`? as key creation reads them, and the raw `key`.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct KeySpec {
    pub key: String,
    /// Default: the member's `joined_at`.
    pub created_at: Option<Ts>,
    #[serde(flatten)]
    pub fields: Fields,
}

/// `email`, `role`?, `expires_in_days`? as invite creation reads them.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct InviteSpec {
    pub invited_by: String,
    pub created_at: Ts,
    /// Default: a fresh `inv_` secret.
    pub code: Option<String>,
    /// When the invitee (listed under members) accepted it.
    pub accepted_at: Option<Ts>,
    /// When `invited_by` revoked it.
    pub revoked_at: Option<Ts>,
    #[serde(flatten)]
    pub fields: Fields,
}

/// A record made by one create request (workflows; labels with both optional).
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Record {
    pub created_by: Option<String>,
    pub created_at: Option<Ts>,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct TeamSpec {
    /// Emails, sent as `member_ids`.
    #[serde(default)]
    pub members: Vec<String>,
    pub created_by: String,
    pub created_at: Ts,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct LaborRateSpec {
    /// Email, sent as `user_id`.
    pub user: String,
    pub effective_from: Day,
    pub created_by: String,
    /// Default: the start of `effective_from`.
    pub created_at: Option<Ts>,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct ProjectSpec {
    /// Workflow name, sent as `workflow_id`; default `Default`.
    pub workflow: Option<String>,
    pub created_by: String,
    pub created_at: Ts,
    /// Emails of project members besides the creator (who is always one).
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub labels: Vec<Record>,
    #[serde(default)]
    pub sprints: Vec<SprintSpec>,
    #[serde(default)]
    pub tickets: Vec<TicketSpec>,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct SprintSpec {
    pub created_by: String,
    pub created_at: Ts,
    /// When it was started (Active from then on).
    pub started_at: Option<Ts>,
    /// When it was completed (Completed from then on).
    pub completed_at: Option<Ts>,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct TicketSpec {
    /// Default: the previous number + 1; a gap stands for deleted tickets.
    pub number: Option<i64>,
    /// Emails and names, sent as `reporter_id` (default `created_by`), `assignee_id`,
    /// `sprint_id` and `label_ids`.
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    pub sprint: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub created_by: String,
    pub created_at: Ts,
    #[serde(default)]
    pub history: Vec<Step>,
    #[serde(flatten)]
    pub fields: Fields,
}

/// One dated change to a ticket: one API request by `by` at `at`.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Step {
    pub at: Ts,
    pub by: String,
    #[serde(flatten)]
    pub change: Change,
}

/// What a step changes, told apart by `kind`: its body's fields as written (the route judges
/// them) and the references by name the loader resolves.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Change {
    /// `POST /tickets/{t}/transition` (`status`).
    Transition {
        #[serde(flatten)]
        fields: Fields,
    },
    /// `PATCH /tickets/{t}` (`null` clears); `assignee` by email and `sprint` by name.
    Update {
        #[serde(default, deserialize_with = "present")]
        assignee: Option<Option<String>>,
        #[serde(default, deserialize_with = "present")]
        sprint: Option<Option<String>>,
        #[serde(flatten)]
        fields: Fields,
    },
    /// `POST /tickets/{t}/labels` per added label, `DELETE …/labels/{id}` per removed one, by name.
    Labels {
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
        /// Nothing else belongs here.
        #[serde(flatten)]
        fields: Fields,
    },
    /// `PATCH /tickets/{t}/tags` (`tags`: a string sets, `null` removes).
    Tags {
        #[serde(flatten)]
        fields: Fields,
    },
    /// `POST /tickets/{t}/comments` (`body`), marked edited at `edited_at` when given.
    Comment {
        edited_at: Option<Ts>,
        #[serde(flatten)]
        fields: Fields,
    },
}

/// A review of a time entry (`reason` for a rejection).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Review {
    pub at: Ts,
    pub by: String,
    pub reason: Option<String>,
}

/// `minutes`, `description`? as logging time reads them, for `user` on ticket `ticket`.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct TimeEntrySpec {
    /// Ticket key, e.g. `WEB-3`.
    pub ticket: String,
    pub user: String,
    pub date: Day,
    /// Default: 17:00 UTC on `date`.
    pub created_at: Option<Ts>,
    pub submitted_at: Option<Ts>,
    pub approved: Option<Review>,
    pub rejected: Option<Review>,
    #[serde(flatten)]
    pub fields: Fields,
}
