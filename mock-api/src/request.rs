//! One request as a handler sees it ([`Ctx`]): the store, the caller, path parameters, the
//! query and the parsed JSON body, plus the typed readers that turn raw input into values or
//! into the contract's errors (`400 bad_request` for queries and paths, `400 validation_error`
//! listing every failing body field).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{OrgRole, Problem, Project, Ticket};
use crate::page::paginate;
use crate::store::{OrgRecord, ProjectRecord, Ref, Store, parse_project_ref, parse_ticket_ref, parse_uuid};
use crate::values::{Day, Ts};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What a handler returns on success.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: ReplyBody,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

/// A success body.
#[derive(Clone, Debug)]
pub enum ReplyBody {
    /// JSON.
    Json(Value),
    /// Text with a content type (CSV).
    Text(String, &'static str),
    /// No body (204).
    Empty,
}

impl Reply {
    /// `200` with JSON.
    pub fn ok(v: Value) -> Reply {
        Reply {
            status: 200,
            body: ReplyBody::Json(v),
            headers: Vec::new(),
        }
    }

    /// `201` with JSON and, when given, a `Location` header.
    pub fn created(v: Value, location: Option<String>) -> Reply {
        let headers = location.map(|l| vec![("Location".to_string(), l)]).unwrap_or_default();
        Reply {
            status: 201,
            body: ReplyBody::Json(v),
            headers,
        }
    }

    /// `204` without a body.
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: ReplyBody::Empty,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

/// Parsed query string: repeated keys keep the last value.
#[derive(Clone, Debug, Default)]
pub struct Query(pub BTreeMap<String, String>);

impl Query {
    /// Raw value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A comma-separated list of enum values; an unknown value → `400 invalid_query`.
    pub fn csv_enum<E>(&self, name: &str, parse: impl Fn(&str) -> Option<E>) -> ApiResult<Option<Vec<E>>> {
        let Some(raw) = self.get(name) else { return Ok(None) };
        raw.split(',')
            .map(|s| {
                parse(s.trim()).ok_or_else(|| ApiError::invalid_query(name, format!("{name}: unknown value {s:?}")))
            })
            .collect::<ApiResult<Vec<E>>>()
            .map(Some)
    }

    /// A comma-separated list of strings.
    pub fn csv(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|raw| {
            raw.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    /// A boolean `true`/`false`.
    pub fn bool(&self, name: &str, default: bool) -> ApiResult<bool> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(s) => Err(ApiError::invalid_query(
                name,
                format!("{name} must be true or false, got {s:?}"),
            )),
        }
    }

    /// A `YYYY-MM-DD` date.
    pub fn date(&self, name: &str) -> ApiResult<Option<Day>> {
        self.get(name)
            .map(|s| {
                Day::parse(s)
                    .ok_or_else(|| ApiError::invalid_query(name, format!("{name} must be YYYY-MM-DD, got {s:?}")))
            })
            .transpose()
    }

    /// An RFC 3339 timestamp.
    pub fn ts(&self, name: &str) -> ApiResult<Option<Ts>> {
        self.get(name)
            .map(|s| {
                Ts::parse(s).ok_or_else(|| {
                    ApiError::invalid_query(name, format!("{name} must be an RFC 3339 timestamp, got {s:?}"))
                })
            })
            .transpose()
    }

    /// A uuid (`400 invalid_id` when malformed).
    pub fn uuid(&self, name: &str) -> ApiResult<Option<Uuid>> {
        self.get(name)
            .map(|s| parse_uuid(s).ok_or_else(|| ApiError::invalid_id(name, s)))
            .transpose()
    }
}

/// One request as handlers see it.
pub struct Ctx<'a> {
    /// The installation state (locked for the whole request).
    pub store: &'a mut Store,
    /// The authenticated caller (`None` on public routes).
    pub caller: Option<Caller>,
    /// Path parameters by name.
    pub params: Vec<(&'static str, String)>,
    /// The query.
    pub query: Query,
    /// The parsed JSON body, if one was sent.
    pub body: Option<Value>,
    /// Client identity for public rate limits.
    pub client: String,
}

impl<'a> Ctx<'a> {
    /// The caller; only `None` on public routes, where handlers do not ask for it.
    pub fn caller(&self) -> ApiResult<Caller> {
        self.caller
            .clone()
            .ok_or_else(|| ApiError::unauthorized("missing_token", "authentication required"))
    }

    /// A raw path parameter.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// A path parameter that must be a uuid.
    pub fn path_uuid(&self, name: &str) -> ApiResult<Uuid> {
        let raw = self.param(name);
        parse_uuid(raw).ok_or_else(|| ApiError::invalid_id(name, raw))
    }

    /// Resolves `{<KIND>_id}` to a record of the caller's org: 400 malformed, 404 unknown or
    /// another org's.
    pub fn path_record<T: OrgRecord>(&self) -> ApiResult<T> {
        let caller = self.caller()?;
        let id = self.path_uuid(T::PARAM)?;
        T::table(self.store)
            .get(&id)
            .filter(|r| r.org_id() == caller.org_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(T::KIND, self.param(T::PARAM)))
    }

    /// Resolves `{project}` (uuid or key) in the caller's org: 400 malformed, 404 unknown.
    pub fn path_project(&self, name: &str) -> ApiResult<Project> {
        let caller = self.caller()?;
        let raw = self.param(name);
        let r = parse_project_ref(raw).ok_or_else(|| ApiError::invalid_id(name, raw))?;
        self.store
            .find_project(caller.org_id, &r)
            .cloned()
            .ok_or_else(|| ApiError::not_found("project", raw))
    }

    /// Resolves `{ticket}` (uuid or key) in the caller's org: 400 malformed, 404 unknown.
    pub fn path_ticket(&self, name: &str) -> ApiResult<Ticket> {
        let caller = self.caller()?;
        let raw = self.param(name);
        let r = parse_ticket_ref(raw).ok_or_else(|| ApiError::invalid_id(name, raw))?;
        self.store
            .find_ticket(caller.org_id, &r)
            .cloned()
            .ok_or_else(|| ApiError::not_found("ticket", raw))
    }

    /// `{org_id}` in a path: must be the token org (any other → 404).
    pub fn path_org(&self, name: &str) -> ApiResult<Uuid> {
        let caller = self.caller()?;
        let id = self.path_uuid(name)?;
        if id == caller.org_id && self.store.orgs.contains_key(&id) {
            Ok(id)
        } else {
            Err(ApiError::not_found("organization", self.param(name)))
        }
    }

    /// The caller and `{org_id}` (the token org), after the org-level write check for `min`.
    pub fn org_write(&self, min: OrgRole) -> ApiResult<(Caller, Uuid)> {
        let caller = self.caller()?;
        let org = self.path_org("org_id")?;
        caller.check_org_write(min)?;
        Ok((caller, org))
    }

    /// The `{<KIND>_id}` record (see [`Ctx::path_record`]), after the caller passed the
    /// org-level write check for `min`.
    pub fn record_org_write<T: OrgRecord>(&self, min: OrgRole) -> ApiResult<T> {
        let caller = self.caller()?;
        let record = self.path_record()?;
        caller.check_org_write(min)?;
        Ok(record)
    }

    /// The caller and the `{<KIND>_id}` record (see [`Ctx::path_record`]), after the project
    /// write check on the record's project for `min`.
    pub fn record_project_write<T: ProjectRecord>(&self, min: OrgRole) -> ApiResult<(Caller, T)> {
        let caller = self.caller()?;
        let record: T = self.path_record()?;
        caller.check_project_write(record.project_id(), min)?;
        Ok((caller, record))
    }

    /// The `{<KIND>_id}` record (see [`Ctx::path_record`]), after the project read check on
    /// the record's project.
    pub fn record_project_read<T: ProjectRecord>(&self) -> ApiResult<T> {
        let record: T = self.path_record()?;
        self.caller()?.check_project_read(record.project_id())?;
        Ok(record)
    }

    /// The caller and `{project}`, after the project write check for `min`.
    pub fn project_write(&self, min: OrgRole) -> ApiResult<(Caller, Project)> {
        let caller = self.caller()?;
        let p = self.path_project("project")?;
        caller.check_project_write(p.id, min)?;
        Ok((caller, p))
    }

    /// The caller and `{ticket}`, after the project write check on its project for `min`.
    pub fn ticket_write(&self, min: OrgRole) -> ApiResult<(Caller, Ticket)> {
        let caller = self.caller()?;
        let t = self.path_ticket("ticket")?;
        caller.check_project_write(t.project_id, min)?;
        Ok((caller, t))
    }

    /// Optional `org_id` query parameter: default token org, any other → 404.
    pub fn query_org(&self) -> ApiResult<Uuid> {
        let caller = self.caller()?;
        match self.query.uuid("org_id")? {
            None => Ok(caller.org_id),
            Some(id) if id == caller.org_id => Ok(id),
            Some(_) => Err(ApiError::not_found(
                "organization",
                self.query.get("org_id").unwrap_or(""),
            )),
        }
    }

    /// A project reference in a query filter: malformed → 400; unknown → `None` (empty result).
    pub fn query_project(&self, name: &str) -> ApiResult<Option<Option<Uuid>>> {
        let caller = self.caller()?;
        let Some(raw) = self.query.get(name) else {
            return Ok(None);
        };
        let r = parse_project_ref(raw).ok_or_else(|| ApiError::invalid_id(name, raw))?;
        Ok(Some(self.store.find_project(caller.org_id, &r).map(|p| p.id)))
    }

    /// A ticket reference in a query filter: malformed → 400; unknown → `None` (empty result).
    pub fn query_ticket(&self, name: &str) -> ApiResult<Option<Option<Uuid>>> {
        let caller = self.caller()?;
        let Some(raw) = self.query.get(name) else {
            return Ok(None);
        };
        let r = parse_ticket_ref(raw).ok_or_else(|| ApiError::invalid_id(name, raw))?;
        Ok(Some(self.store.find_ticket(caller.org_id, &r).map(|t| t.id)))
    }

    /// The body as a field reader (an absent body reads as `{}`); it borrows the parsed body.
    pub fn body(&self) -> ApiResult<Body<'_>> {
        match &self.body {
            None => Ok(Body::new(Map::new())),
            Some(Value::Object(m)) => Ok(Body::of(m)),
            Some(_) => Err(ApiError::bad_request(
                "malformed_json",
                "body",
                "request body must be a JSON object",
            )),
        }
    }

    /// Paginates with this request's `limit` and `cursor`.
    pub fn page<T>(
        &self,
        items: Vec<T>,
        key: impl Fn(&T) -> Vec<crate::page::Key>,
        render: impl Fn(&T) -> Value,
    ) -> ApiResult<Value> {
        paginate(items, key, self.query.get("limit"), self.query.get("cursor"), render)
    }
}

/// A field in a PATCH body.
#[derive(Clone, Debug, PartialEq)]
pub enum Patch<T> {
    /// Not sent: unchanged.
    Absent,
    /// Sent as `null`: cleared.
    Clear,
    /// Sent with a value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field was sent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Patch::Absent)
    }
}

impl<T: Clone + PartialEq> Patch<T> {
    /// Writes a non-nullable field: `Set` replaces it, anything else leaves it. Returns whether
    /// the value changed (an equal value is no change, §1.5).
    pub fn apply(&self, slot: &mut T) -> bool {
        match self {
            Patch::Set(v) if slot != v => {
                *slot = v.clone();
                true
            }
            _ => false,
        }
    }

    /// Writes a nullable field: `Set` replaces it, `Clear` empties it, `Absent` leaves it.
    /// Returns whether the value changed.
    pub fn apply_opt(&self, slot: &mut Option<T>) -> bool {
        let next = match self {
            Patch::Absent => return false,
            Patch::Clear => None,
            Patch::Set(v) => Some(v.clone()),
        };
        if *slot == next {
            return false;
        }
        *slot = next;
        true
    }
}

/// How a body field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Create, required.
    Required,
    /// Create, optional (`null` = omitted).
    Optional,
    /// PATCH of a nullable field (`null` clears).
    Nullable,
    /// PATCH of a non-nullable field (`null` → `not_nullable`).
    NotNull,
}

/// Reads the fields of a JSON object body, collecting every problem before failing. It borrows
/// the request's parsed body (the body is parsed once and never copied); only a body built
/// here, such as an empty one, is owned.
pub struct Body<'a> {
    obj: Cow<'a, Map<String, Value>>,
    seen: BTreeSet<String>,
    errors: BTreeMap<String, Problem>,
}

/// A value parser: the value or the problem token.
pub type Parser<'p, T> = &'p dyn Fn(&Value) -> Result<T, Problem>;

impl<'a> Body<'a> {
    /// Reads an owned object.
    pub fn new(obj: Map<String, Value>) -> Body<'a> {
        Body::from_cow(Cow::Owned(obj))
    }

    /// Reads a borrowed object (a request's parsed body, a seed record).
    pub fn of(obj: &'a Map<String, Value>) -> Body<'a> {
        Body::from_cow(Cow::Borrowed(obj))
    }

    fn from_cow(obj: Cow<'a, Map<String, Value>>) -> Body<'a> {
        Body {
            obj,
            seen: BTreeSet::new(),
            errors: BTreeMap::new(),
        }
    }

    /// The raw object.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.obj
    }

    /// Records a problem for a field (first problem wins).
    pub fn error(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.entry(field.into()).or_insert(problem);
    }

    /// Whether any problem was recorded so far.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Whether a field was sent (even as null).
    pub fn present(&self, name: &str) -> bool {
        self.obj.contains_key(name)
    }

    /// Reads a field in `mode` with `parse`.
    pub fn field<T>(&mut self, name: &str, mode: Mode, parse: Parser<'_, T>) -> Patch<T> {
        self.seen.insert(name.to_string());
        match self.obj.get(name) {
            None => {
                if mode == Mode::Required {
                    self.error(name, Problem::Required);
                }
                Patch::Absent
            }
            Some(Value::Null) => match mode {
                Mode::Required => {
                    self.error(name, Problem::Required);
                    Patch::Absent
                }
                Mode::Optional => Patch::Absent,
                Mode::Nullable => Patch::Clear,
                Mode::NotNull => {
                    self.error(name, Problem::NotNullable);
                    Patch::Absent
                }
            },
            Some(v) => match parse(v) {
                Ok(t) => Patch::Set(t),
                Err(p) => {
                    self.error(name, p);
                    Patch::Absent
                }
            },
        }
    }

    /// Create-style read: `Some` when sent with a valid value.
    pub fn get<T>(&mut self, name: &str, mode: Mode, parse: Parser<'_, T>) -> Option<T> {
        match self.field(name, mode, parse) {
            Patch::Set(t) => Some(t),
            _ => None,
        }
    }

    /// Marks fields that exist on the model but may not be sent here (`immutable`).
    pub fn immutable(&mut self, names: &[&str]) {
        for n in names {
            self.seen.insert(n.to_string());
            if self.obj.contains_key(*n) {
                self.error(*n, Problem::Immutable);
            }
        }
    }

    /// Every recorded problem plus `unknown_field` for every unread field, by field path.
    pub fn problems(mut self) -> BTreeMap<String, Problem> {
        let unknown: Vec<String> = self.obj.keys().filter(|k| !self.seen.contains(*k)).cloned().collect();
        for k in unknown {
            self.error(k, Problem::UnknownField);
        }
        self.errors
    }

    /// Fails with every recorded problem plus `unknown_field` for every unread field.
    pub fn finish(self) -> ApiResult<()> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(problems))
        }
    }
}

/// Parser: a trimmed string of `min..=max` characters.
pub fn string(min: usize, max: usize) -> impl Fn(&Value) -> Result<String, Problem> {
    move |v| {
        let s = v.as_str().ok_or(Problem::InvalidFormat)?.trim().to_string();
        let n = s.chars().count();
        if n == 0 && min > 0 {
            Err(Problem::Required)
        } else if n < min {
            Err(Problem::TooShort)
        } else if n > max {
            Err(Problem::TooLong)
        } else {
            Ok(s)
        }
    }
}

/// Parser: an enum by its wire spelling.
pub fn enumv<E>(parse: fn(&str) -> Option<E>) -> impl Fn(&Value) -> Result<E, Problem> {
    move |v| {
        v.as_str()
            .ok_or(Problem::InvalidEnum)
            .and_then(|s| parse(s).ok_or(Problem::InvalidEnum))
    }
}

/// Parser: an integer in `lo..=hi`.
pub fn int(lo: i64, hi: i64) -> impl Fn(&Value) -> Result<i64, Problem> {
    move |v| {
        let n = v.as_i64().ok_or(Problem::InvalidFormat)?;
        if (lo..=hi).contains(&n) {
            Ok(n)
        } else {
            Err(Problem::OutOfRange)
        }
    }
}

/// Parser: a boolean.
pub fn boolean(v: &Value) -> Result<bool, Problem> {
    v.as_bool().ok_or(Problem::InvalidFormat)
}

/// Parser: a uuid.
pub fn uuid(v: &Value) -> Result<Uuid, Problem> {
    v.as_str().and_then(parse_uuid).ok_or(Problem::InvalidFormat)
}

/// Parser: a `YYYY-MM-DD` date.
pub fn date(v: &Value) -> Result<Day, Problem> {
    v.as_str().and_then(Day::parse).ok_or(Problem::InvalidFormat)
}

/// Parser: an RFC 3339 timestamp.
pub fn timestamp(v: &Value) -> Result<Ts, Problem> {
    v.as_str().and_then(Ts::parse).ok_or(Problem::InvalidFormat)
}

/// Parser: a project reference (uuid or key), unresolved.
pub fn project_ref(v: &Value) -> Result<Ref, Problem> {
    v.as_str().and_then(parse_project_ref).ok_or(Problem::InvalidFormat)
}

/// Parser: a ticket reference (uuid or key), unresolved.
pub fn ticket_ref(v: &Value) -> Result<Ref, Problem> {
    v.as_str().and_then(parse_ticket_ref).ok_or(Problem::InvalidFormat)
}

/// Parser: an array of uuids (`duplicate_item` on repeats).
pub fn uuid_list(v: &Value) -> Result<Vec<Uuid>, Problem> {
    let arr = v.as_array().ok_or(Problem::InvalidFormat)?;
    let mut out = Vec::with_capacity(arr.len());
    for x in arr {
        let id = uuid(x)?;
        if out.contains(&id) {
            return Err(Problem::DuplicateItem);
        }
        out.push(id);
    }
    Ok(out)
}

/// Parser: a plain JSON object.
pub fn object(v: &Value) -> Result<Map<String, Value>, Problem> {
    v.as_object().cloned().ok_or(Problem::InvalidFormat)
}

/// A simple, permissive email check: one `@`, non-empty parts, ≤ 254 chars; lower-cased.
pub fn email(v: &Value) -> Result<String, Problem> {
    let s = v.as_str().ok_or(Problem::InvalidFormat)?.trim();
    let n = s.chars().count();
    let parts: Vec<&str> = s.split('@').collect();
    if n == 0 {
        return Err(Problem::Required);
    }
    if n > 254 || parts.len() != 2 || parts[0].is_empty() || parts[1].is_empty() || s.contains(char::is_whitespace) {
        return Err(Problem::InvalidFormat);
    }
    Ok(s.to_lowercase())
}

/// 409 `duplicate` on `name` when another record of `org` (any but `except`) already has this
/// name, ignoring case: team and workflow names are unique per org.
pub fn check_name_free<T: OrgRecord>(
    store: &Store,
    (org, except): (Uuid, Option<Uuid>),
    name: &str,
    name_of: fn(&T) -> &str,
) -> ApiResult<()> {
    let lower = name.to_lowercase();
    let taken = T::table(store)
        .iter()
        .any(|(id, r)| r.org_id() == org && Some(*id) != except && name_of(r).to_lowercase() == lower);
    if taken {
        Err(ApiError::duplicate("name", name))
    } else {
        Ok(())
    }
}
