//! Parameter types shared by the tool categories: references (`TicketRef`, `ProjectRef`,
//! `Id`, and the name-or-uuid ones `UserRef`, `LabelRef`, `SprintRef` with their filter
//! forms), formats (`Date`, `DateTime`, `DateOrTime`, `Email`), paging (`Limit`, `Cursor`,
//! `Detail`), the PATCH wrapper [`Patch`] and the enums of contract §2.
//!
//! Every type here produces an *inline* JSON schema with its `type`, `format`, `pattern` or
//! bounds, so a tool's input schema is self-contained and states the format of each field;
//! the server enforces those schemas (formats included) before a tool runs. All string types
//! are transparent: they serialize exactly as the string the model sent, so a reference goes
//! to the API "as given" (`web-42` stays `web-42`).
//!
//! A type may say how it is *published* (what `tools/list` shows) in fewer characters than it
//! is *checked*: the [`PUBLISHED`] keyword of its schema holds the keywords that replace (or,
//! when `null`, remove) its own in the published form. The catalog
//! ([`crate::surface::tools::catalog`]) derives both forms from the one generated schema.
//!
//! The steps most tools are made of (one API call as the caller, its answer mapped by
//! [`crate::surface::errors`]) live in [`calls`].

pub mod calls;

use rmcp::schemars::{self, JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// The argument names of `T`, as its JSON schema lists them (for rules the schema cannot state,
/// such as "at least one of these").
pub fn field_names<T: JsonSchema>() -> Vec<String> {
    let schema = SchemaGenerator::default().into_root_schema_for::<T>();
    schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

/// The schema keyword holding a type's published form: an object of keywords that replace the
/// type's own in `tools/list` (`null` removes one). Neither form keeps the keyword itself.
pub const PUBLISHED: &str = "x-published";

/// Regex of a uuid: 8-4-4-4-12 hex digits, any case (contract §0).
pub const UUID_PATTERN: &str = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

/// Regex of a ticket reference: a uuid or a ticket key like `WEB-42` (contract §1.2).
pub const TICKET_REF_PATTERN: &str = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z][A-Za-z0-9]{1,9}-[1-9][0-9]{0,8})$";

/// Regex of a project reference: a uuid or a project key like `WEB` (contract §1.2).
pub const PROJECT_REF_PATTERN: &str =
    "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z][A-Za-z0-9]{1,9})$";

/// Regex of an email address as a user reference: one `@` between non-empty parts, no spaces
/// (the API checks that it belongs to a member).
pub const EMAIL_PATTERN: &str = r"[^@\s]+@[^@\s]+";

/// Regex of a tag key (contract §2, TicketTags): it can never be `.`, `..` or empty.
pub const TAG_KEY_PATTERN: &str = "^[a-z0-9][a-z0-9_.:-]{0,63}$";

/// Regex of a workflow status name (contract §2).
pub const STATUS_PATTERN: &str = "^[A-Z][A-Za-z0-9]{0,31}$";

/// Declares a transparent string newtype with an inline schema.
macro_rules! string_param {
    ($(#[$doc:meta])* $name:ident, $schema:tt) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The value as the model sent it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

string_param!(
    /// A ticket uuid or ticket key (`WEB-42`, any case).
    TicketRef,
    {"type": "string", "pattern": TICKET_REF_PATTERN, PUBLISHED: {"pattern": null}}
);

string_param!(
    /// A project uuid or project key (`WEB`, any case).
    ProjectRef,
    {"type": "string", "pattern": PROJECT_REF_PATTERN, PUBLISHED: {"pattern": null}}
);

string_param!(
    /// A uuid (any resource id other than tickets and projects).
    Id,
    {"type": "string", "format": "uuid"}
);

string_param!(
    /// A user: a user uuid, `me` (the caller) or the email of an org member, resolved by
    /// [`crate::surface::tools::names`].
    UserRef,
    {"type": "string", "pattern": format!("^({UUID_PATTERN}|me|{EMAIL_PATTERN})$"), PUBLISHED: {"pattern": null}}
);

string_param!(
    /// An assignee filter: a [`UserRef`], or `none` (unassigned tickets).
    AssigneeFilter,
    {"type": "string", "pattern": format!("^({UUID_PATTERN}|me|none|{EMAIL_PATTERN})$"), PUBLISHED: {"pattern": null}}
);

string_param!(
    /// A label of a project: its uuid or its name (names are unique per project, ignoring case).
    LabelRef,
    {"type": "string", "minLength": 1, "maxLength": 50, PUBLISHED: {"minLength": null, "maxLength": null}}
);

string_param!(
    /// A sprint of a project: its uuid, its name, `active` (the Active sprint) or `last` (the
    /// most recently completed one).
    SprintRef,
    {"type": "string", "minLength": 1, "maxLength": 100, PUBLISHED: {"minLength": null, "maxLength": null}}
);

string_param!(
    /// A sprint filter: a [`SprintRef`], or `none` (backlog tickets, in no sprint).
    SprintFilter,
    {"type": "string", "minLength": 1, "maxLength": 100, PUBLISHED: {"minLength": null, "maxLength": null}}
);

string_param!(
    /// An instant bound of a filter: a date `YYYY-MM-DD` (UTC; a whole day) or an RFC 3339
    /// timestamp.
    DateOrTime,
    {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}], PUBLISHED: {"anyOf": null}}
);

string_param!(
    /// A calendar date `YYYY-MM-DD` (UTC).
    Date,
    {"type": "string", "format": "date"}
);

string_param!(
    /// An RFC 3339 timestamp, e.g. `2026-04-01T12:00:00Z`.
    DateTime,
    {"type": "string", "format": "date-time"}
);

string_param!(
    /// An email address.
    Email,
    {"type": "string", "format": "email"}
);

string_param!(
    /// A tag key such as `env` or `customer` (lower case, digits, `_.:-`, 1–64 characters).
    TagKey,
    {"type": "string", "pattern": TAG_KEY_PATTERN}
);

string_param!(
    /// A workflow status name such as `InProgress`.
    StatusName,
    {"type": "string", "pattern": STATUS_PATTERN, PUBLISHED: {"pattern": null}}
);

string_param!(
    /// An opaque page cursor.
    Cursor,
    {"type": "string", "minLength": 1, PUBLISHED: {"minLength": null}}
);

/// A page size, 1–100 (default 25: a page of compact items stays a few thousand tokens; the
/// API's own default of 50 full items is not what a context window wants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limit(pub u32);

impl Limit {
    /// The page size when none is given.
    pub const DEFAULT: Limit = Limit(25);
}

impl Default for Limit {
    /// [`Limit::DEFAULT`]: the page size to ask the API for when none is given.
    fn default() -> Limit {
        Limit::DEFAULT
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl JsonSchema for Limit {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Limit".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1, "maximum": 100, "default": 25})
    }
}

/// The page arguments of every list tool, flattened into its arguments (`#[serde(flatten)]`),
/// where they stand as `limit` and `cursor`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct Page {
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// From `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// A PATCH field: absent (unchanged), `null` (cleared) or a value (replaced). Use it for the
/// nullable fields of update tools, with `#[serde(default, skip_serializing_if =
/// "Patch::is_absent")]`; without `default` the field is required but may be `null`
/// (`assign_ticket.assignee_id`). Its schema is the value's schema or `null`, and it is
/// published so: here `null` means something (clear the field), unlike on an optional
/// argument, whose published schema leaves `null` out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not sent: leave the field as it is.
    #[default]
    Absent,
    /// `null`: clear the field.
    Null,
    /// A new value.
    Value(T),
}

impl<T> Patch<T> {
    /// Whether the field was not sent (for `skip_serializing_if`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Patch::Value(v),
            None => Patch::Null,
        })
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Value(v) => v.serialize(s),
            Patch::Absent | Patch::Null => s.serialize_none(),
        }
    }
}

impl<T: JsonSchema> JsonSchema for Patch<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Nullable_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let inner = generator.subschema_for::<T>();
        let mut with_null = inner.clone();
        let added = match with_null.get_mut("type") {
            Some(serde_json::Value::String(t)) => {
                let t = t.clone();
                with_null.insert("type".into(), serde_json::json!([t, "null"]));
                true
            }
            _ => false,
        };
        let mut schema = if added {
            if let Some(serde_json::Value::Array(values)) = with_null.get_mut("enum") {
                values.push(serde_json::Value::Null);
            }
            with_null
        } else {
            json_schema!({"anyOf": [inner, {"type": "null"}]})
        };
        // The published form keeps the `null` (the catalog drops it from optional arguments).
        let mut published = match schema.get(PUBLISHED) {
            Some(serde_json::Value::Object(m)) => m.clone(),
            _ => serde_json::Map::new(),
        };
        for key in ["type", "enum", "anyOf"] {
            if let Some(v) = schema.get(key) {
                published.insert(key.into(), v.clone());
            }
        }
        schema.insert(PUBLISHED.into(), serde_json::Value::Object(published));
        schema
    }
}

/// Declares a string enum of contract §2 with an inline `{"type": "string", "enum": [...]}`
/// schema (variants carry no doc comments on purpose: those would turn the schema into a
/// `oneOf`).
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        #[schemars(inline)]
        #[allow(missing_docs)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// The wire value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Ticket priority, low to high.
    Priority { Low = "Low", Medium = "Medium", High = "High", Critical = "Critical" }
);

string_enum!(
    /// Ticket type.
    TicketType { Task = "Task", Bug = "Bug", Feature = "Feature" }
);

string_enum!(
    /// Category of a workflow status; "open" = Unstarted or Started.
    StatusCategory { Unstarted = "Unstarted", Started = "Started", Completed = "Completed", Cancelled = "Cancelled" }
);

string_enum!(
    /// Ticket list order.
    TicketSort {
        CreatedAt = "created_at",
        CreatedAtDesc = "-created_at",
        UpdatedAt = "updated_at",
        UpdatedAtDesc = "-updated_at",
        PriorityDesc = "-priority",
    }
);

string_enum!(
    /// Sprint status.
    SprintStatus { Planned = "Planned", Active = "Active", Completed = "Completed" }
);

string_enum!(
    /// Role in an org.
    OrgRole { Owner = "Owner", Admin = "Admin", Member = "Member", Reporter = "Reporter", Viewer = "Viewer" }
);

string_enum!(
    /// Time entry status.
    TimeEntryStatus { Draft = "Draft", Submitted = "Submitted", Approved = "Approved", Rejected = "Rejected" }
);

string_enum!(
    /// Invite status.
    InviteStatus { Pending = "Pending", Accepted = "Accepted", Revoked = "Revoked", Expired = "Expired" }
);

string_enum!(
    /// Ticket activity action.
    ActivityAction {
        Created = "Created",
        Updated = "Updated",
        StatusChanged = "StatusChanged",
        Assigned = "Assigned",
        SprintChanged = "SprintChanged",
        LabelAdded = "LabelAdded",
        LabelRemoved = "LabelRemoved",
        TagSet = "TagSet",
        TagRemoved = "TagRemoved",
        Commented = "Commented",
    }
);

string_enum!(
    /// Grouping of the time report's rows.
    ReportGroupBy { User = "user", Team = "team", Project = "project", Ticket = "ticket", Day = "day" }
);

string_param!(
    /// A user filter: a [`UserRef`] (uuid, `me` or an email), or `all` (no user filter).
    UserFilter,
    {"type": "string", "pattern": format!("^({UUID_PATTERN}|me|all|{EMAIL_PATTERN})$"), PUBLISHED: {"pattern": null}}
);

string_enum!(
    /// How much of each item a list returns.
    Detail { Compact = "compact", Full = "full" }
);

string_enum!(
    /// Project capitalization type (ASC 350-40).
    CapitalizationType { Capex = "Capex", Opex = "Opex" }
);

string_enum!(
    /// Project development phase (ASC 350-40 stages).
    DevelopmentPhase {
        Preliminary = "Preliminary",
        AppDevelopment = "AppDevelopment",
        PostImplementation = "PostImplementation",
    }
);

string_enum!(
    /// Project budget period.
    BudgetPeriod { Monthly = "Monthly", Quarterly = "Quarterly", Annual = "Annual", Lifetime = "Lifetime" }
);

string_enum!(
    /// Role an invite grants (every org role except `Owner`).
    InviteRole { Admin = "Admin", Member = "Member", Reporter = "Reporter", Viewer = "Viewer" }
);

string_enum!(
    /// API key scope; `write` implies `read`.
    ApiKeyScope { Read = "read", Write = "write" }
);

string_enum!(
    /// API key environment (selects the `alloy_live_` / `alloy_test_` prefix).
    ApiKeyEnvironment { Live = "live", Test = "test" }
);

string_enum!(
    /// What an import does with a row whose id already exists in the target org.
    OnConflict { Skip = "skip", Overwrite = "overwrite", Fail = "fail" }
);

string_enum!(
    /// Workflow enforcement: `none` lets any status follow any other, `strict` only the listed transitions.
    WorkflowEnforcement { None = "none", Strict = "strict" }
);
