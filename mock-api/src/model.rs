//! The data model of the mock Alloy API: every enum of contract §2 and every stored entity of
//! §3, serialized exactly as the API returns them (every field present, `null` when unset).

use crate::values::{Day, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Declares a string enum with its exact wire spellings, in contract order.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[doc = $wire]
                #[serde(rename = $wire)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in contract order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses the exact (case-sensitive) wire spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What is wrong with one field of a `400 validation_error` (contract §1.8), as the
    /// `details.fields` map names it.
    Problem {
        Required = "required", TooShort = "too_short", TooLong = "too_long", InvalidFormat = "invalid_format",
        InvalidEnum = "invalid_enum", OutOfRange = "out_of_range", UnknownField = "unknown_field",
        Immutable = "immutable", NotNullable = "not_nullable", DuplicateItem = "duplicate_item"
    }
);

wire_enum!(
    /// A member's role in an org, most privileged first.
    OrgRole { Owner = "Owner", Admin = "Admin", Member = "Member", Reporter = "Reporter", Viewer = "Viewer" }
);

impl OrgRole {
    /// Privilege rank: higher is more privileged.
    pub fn rank(self) -> u8 {
        match self {
            OrgRole::Owner => 5,
            OrgRole::Admin => 4,
            OrgRole::Member => 3,
            OrgRole::Reporter => 2,
            OrgRole::Viewer => 1,
        }
    }

    /// Whether this role includes every right of `min`.
    pub fn at_least(self, min: OrgRole) -> bool {
        self.rank() >= min.rank()
    }
}

wire_enum!(
    /// The category a workflow status belongs to.
    StatusCategory { Unstarted = "Unstarted", Started = "Started", Completed = "Completed", Cancelled = "Cancelled" }
);

impl StatusCategory {
    /// Open = Unstarted or Started.
    pub fn is_open(self) -> bool {
        matches!(self, StatusCategory::Unstarted | StatusCategory::Started)
    }
}

wire_enum!(
    /// Ticket priority, ordered low to high.
    Priority { Low = "Low", Medium = "Medium", High = "High", Critical = "Critical" }
);

wire_enum!(
    /// Ticket type.
    TicketType { Task = "Task", Bug = "Bug", Feature = "Feature" }
);

wire_enum!(
    /// Sprint lifecycle state.
    SprintStatus { Planned = "Planned", Active = "Active", Completed = "Completed" }
);

wire_enum!(
    /// Time-entry lifecycle state.
    TimeEntryStatus { Draft = "Draft", Submitted = "Submitted", Approved = "Approved", Rejected = "Rejected" }
);

wire_enum!(
    /// Capitalization treatment of a project.
    CapitalizationType { Capex = "Capex", Opex = "Opex" }
);

wire_enum!(
    /// ASC 350-40 development stage of a project.
    DevelopmentPhase { Preliminary = "Preliminary", AppDevelopment = "AppDevelopment", PostImplementation = "PostImplementation" }
);

wire_enum!(
    /// Budget window of a project.
    BudgetPeriod { Monthly = "Monthly", Quarterly = "Quarterly", Annual = "Annual", Lifetime = "Lifetime" }
);

wire_enum!(
    /// How strictly a workflow's transitions are enforced.
    WorkflowEnforcement { None = "none", Strict = "strict" }
);

wire_enum!(
    /// API key scope.
    ApiKeyScope { Read = "read", Write = "write" }
);

wire_enum!(
    /// Which prefix an API key carries.
    ApiKeyEnvironment { Live = "live", Test = "test" }
);

wire_enum!(
    /// Invite lifecycle state.
    InviteStatus { Pending = "Pending", Accepted = "Accepted", Revoked = "Revoked", Expired = "Expired" }
);

wire_enum!(
    /// What an activity entry records.
    ActivityAction {
        Created = "Created", Updated = "Updated", StatusChanged = "StatusChanged", Assigned = "Assigned",
        SprintChanged = "SprintChanged", LabelAdded = "LabelAdded", LabelRemoved = "LabelRemoved",
        TagSet = "TagSet", TagRemoved = "TagRemoved", Commented = "Commented"
    }
);

/// An organization (tenant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A user; users are global, membership is per org.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// Plain-text password of the mock (never serialized to clients); `None` = SSO-only user.
    #[serde(skip_serializing, default)]
    pub password: Option<String>,
    pub active: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A user's membership (and role) in one org.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub role: OrgRole,
    pub joined_at: Ts,
}

/// An invitation to join an org.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: OrgRole,
    pub expires_at: Ts,
    pub status: InviteStatus,
    /// The raw code; only echoed in the create response.
    pub code: String,
    pub invited_by: Uuid,
    pub accepted_at: Option<Ts>,
    pub revoked_at: Option<Ts>,
    pub created_at: Ts,
}

/// An API key; only the SHA-256 of the raw key is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub environment: ApiKeyEnvironment,
    pub scopes: Vec<ApiKeyScope>,
    /// The project allow-list (empty = all projects); `project_ids` on the wire, as the MCP
    /// Guide documents it (the real API's stored column is `allowed_project_ids`).
    pub project_ids: Vec<Uuid>,
    pub expires_at: Option<Ts>,
    /// Hex SHA-256 of the raw key.
    pub key_hash: String,
    pub key_prefix: String,
    pub last_used_at: Option<Ts>,
    pub created_at: Ts,
}

/// A team of org members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub member_ids: Vec<Uuid>,
    pub created_by: Uuid,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// One status of a workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStatus {
    pub name: String,
    pub category: StatusCategory,
}

/// An allowed transition of a workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
}

/// A workflow: statuses, transitions and enforcement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub statuses: Vec<WorkflowStatus>,
    pub initial_status: String,
    pub transitions: Vec<Transition>,
    pub enforcement: WorkflowEnforcement,
    /// Computed on output (projects using it); stored value is ignored.
    #[serde(default)]
    pub project_count: u64,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl Workflow {
    /// Category of a status name; a status no longer in the workflow counts as `Unstarted`.
    pub fn category_of(&self, status: &str) -> StatusCategory {
        self.statuses
            .iter()
            .find(|s| s.name == status)
            .map(|s| s.category)
            .unwrap_or(StatusCategory::Unstarted)
    }

    /// Whether the workflow has a status of this name.
    pub fn has_status(&self, status: &str) -> bool {
        self.statuses.iter().any(|s| s.name == status)
    }
}

/// A labor rate row (immutable).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaborRate {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub hourly_rate_cents: i64,
    pub effective_from: Day,
    /// Computed on output from the user's next row.
    #[serde(default)]
    pub effective_to: Option<Day>,
    pub note: Option<String>,
    pub created_by: Uuid,
    pub created_at: Ts,
}

/// A project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: Uuid,
    pub org_id: Uuid,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub workflow_id: Uuid,
    pub ticket_counter: i64,
    pub capitalization_type: Option<CapitalizationType>,
    pub development_phase: Option<DevelopmentPhase>,
    pub cost_center_id: Option<String>,
    pub budget_cents: Option<i64>,
    pub budget_period: Option<BudgetPeriod>,
    pub amortization_months: Option<i64>,
    pub created_by: Uuid,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A user's membership in a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub added_by: Uuid,
    pub added_at: Ts,
}

/// A project label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    /// Computed on output.
    #[serde(default)]
    pub ticket_count: u64,
    pub created_by: Uuid,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A ticket as stored: labels are kept as ids and rendered as `LabelRef`s on output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub ticket_number: i64,
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: Priority,
    pub ticket_type: TicketType,
    pub reporter_id: Uuid,
    pub assignee_id: Option<Uuid>,
    pub sprint_id: Option<Uuid>,
    pub story_points: Option<i64>,
    pub due_date: Option<Day>,
    /// Attached label ids (rendered as `labels`).
    #[serde(default)]
    pub label_ids: Vec<Uuid>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub resolved_at: Option<Ts>,
    pub created_by: Uuid,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A comment on a ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: Uuid,
    pub org_id: Uuid,
    pub ticket_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub edited_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// One entry of a ticket's change history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Uuid,
    pub org_id: Uuid,
    pub ticket_id: Uuid,
    pub actor_id: Uuid,
    pub action: ActivityAction,
    pub field: Option<String>,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
    pub created_at: Ts,
}

/// A sprint; `burndown` holds the series frozen at completion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sprint {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub goal: Option<String>,
    pub start_date: Day,
    pub end_date: Day,
    pub status: SprintStatus,
    pub started_at: Option<Ts>,
    pub completed_at: Option<Ts>,
    pub created_by: Uuid,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// Stored burndown of a Completed sprint (not part of the Sprint model on the wire).
    #[serde(skip_serializing, default)]
    pub frozen_burndown: Option<serde_json::Value>,
}

/// A time entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeEntry {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_key: String,
    pub user_id: Uuid,
    pub date: Day,
    pub minutes: i64,
    pub description: Option<String>,
    pub status: TimeEntryStatus,
    pub submitted_at: Option<Ts>,
    pub approved_at: Option<Ts>,
    pub rejected_at: Option<Ts>,
    pub approved_by: Option<Uuid>,
    pub rejected_by: Option<Uuid>,
    pub rejection_reason: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}
