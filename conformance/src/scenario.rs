//! Scenarios are data: `fixtures/scenarios/<category>/<tool>__<case>.json`, one file per case,
//! each a list of frames to send. This module defines the file format, loads and checks the
//! files, and validates `tools/call` arguments against the server's own `inputSchema` before
//! they are sent.
//!
//! ```json
//! {
//!   "description": "get_ticket answers a known key with the ticket",
//!   "protocol_version": "2025-06-18",
//!   "handshake": true,
//!   "transports": ["stdio", "http"],
//!   "eras": ["handshake", "stateless"],
//!   "steps": [
//!     {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
//!               "params": {"name": "get_ticket", "arguments": {"ticket_id": "WEB-1"}}}},
//!     {"raw": "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\"", "await": "none"},
//!     {"oversized": {"bytes": 17000000, "message": {"jsonrpc": "2.0", "id": 3, "method": "ping"}}, "await": "any"}
//!   ]
//! }
//! ```
//!
//! Fields: `description` (required, a sentence); `protocol_version` (what the harness's own
//! `initialize` asks for, default [`DEFAULT_PROTOCOL_VERSION`]); `handshake` (default `true`:
//! the harness initializes before the steps; `false`: the steps start on a fresh connection);
//! `transports` (default all the target offers; restrict a case whose wire behaviour is
//! transport-specific, e.g. an HTTP status); `eras` (the wire eras the case runs in,
//! `handshake` and/or `stateless`, see [`crate::era`]; default both when the harness prepares
//! the connection, only `handshake` for `"handshake": false` cases, which test what happens
//! around `initialize`); `role` (whose seeded API key the server acts with,
//! default `Owner`; see [`Role`]); `redact` (object members whose values the transcript
//! shows as `<redacted>`, see [`crate::transcript::normalize_redacting`]; `record --redact`
//! writes it); `steps`. Each step has exactly one of `send` (a JSON
//! value), `raw` (text sent verbatim) or `oversized` (`message` padded with a `padding` member to
//! `bytes`), plus optional `await` and `arguments`:
//!
//! - `await`: `"response"` waits for the next response and checks its id (default for a
//!   request with a string or integer id), `"any"` waits for the next frame of any kind (a
//!   request with an odd id, a raw frame), `"none"` expects no answer: the driver settles and
//!   whatever arrived is recorded (default for notifications).
//! - `arguments` (only `tools/call`): `"valid"` (default) means the arguments must satisfy the
//!   tool's `inputSchema` from the server's `tools/list`, `"invalid"` means they must not (a
//!   deliberate error case), `"unchecked"` skips the check (an unknown tool).

use crate::driver::Transport;
use crate::era::Era;
use alloy_mock_api::model::OrgRole;
use alloy_mock_api::seed::SeedKeys;
use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The protocol version the harness asks for when a scenario does not say.
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

/// What a step waits for after sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Await {
    /// The next response; its id must equal the request's.
    Response,
    /// The next frame, whatever it is.
    Any,
    /// Nothing: settle, then record whatever arrived.
    None,
}

/// How a `tools/call` step's arguments relate to the tool's `inputSchema`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgumentsCheck {
    /// They must satisfy it.
    #[default]
    Valid,
    /// They must violate it (the case tests the server's rejection).
    Invalid,
    /// Not checked (unknown tools).
    Unchecked,
}

/// Whose seeded API key a case runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A role in the primary org (`acme`).
    Primary(OrgRole),
    /// The Owner of the second org (`globex`): sees none of the primary org's records.
    OtherOrgOwner,
}

impl Default for Role {
    /// The primary org's Owner.
    fn default() -> Role {
        Role::Primary(OrgRole::Owner)
    }
}

impl Role {
    /// Parses the `role` field.
    pub fn parse(s: &str) -> Option<Role> {
        if s == "OtherOrgOwner" {
            return Some(Role::OtherOrgOwner);
        }
        OrgRole::parse(s).map(Role::Primary)
    }

    /// The raw key of this role in `keys` (`""` when the seed has none).
    pub fn key(self, keys: &SeedKeys) -> &str {
        match self {
            Role::Primary(r) => keys.for_role(r),
            Role::OtherOrgOwner => keys.other_org_owner(),
        }
    }

    /// The word of the `role` field (`Owner`, `Admin`, `Member`, `Reporter`, `Viewer`,
    /// `OtherOrgOwner`); [`Role::parse`] reads it back.
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary(r) => r.as_str(),
            Role::OtherOrgOwner => "OtherOrgOwner",
        }
    }

    /// The role whose seeded key `key` is, if it is one of `keys`.
    pub fn of_key(keys: &SeedKeys, key: &str) -> Option<Role> {
        let mut roles = [
            OrgRole::Owner,
            OrgRole::Admin,
            OrgRole::Member,
            OrgRole::Reporter,
            OrgRole::Viewer,
        ]
        .map(Role::Primary)
        .to_vec();
        roles.push(Role::OtherOrgOwner);
        roles.into_iter().find(|r| !key.is_empty() && r.key(keys) == key)
    }

    /// Every seeded key with the name it stands for in recordings and transcripts: the role
    /// name for keys a scenario can pick (see [`Role::of_key`]), `<org slug>/<role>` for the
    /// others.
    pub fn names_of_keys(keys: &SeedKeys) -> Vec<(String, String)> {
        keys.keys
            .iter()
            .map(|k| {
                let name = match Role::of_key(keys, &k.key) {
                    Some(r) => r.name().to_string(),
                    None => format!("{}/{}", k.org_slug, k.role.as_str()),
                };
                (k.key.clone(), name)
            })
            .collect()
    }
}

/// A message padded past a size limit.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oversized {
    /// Total size of the frame in bytes.
    pub bytes: usize,
    /// The message to pad; a `padding` string member is added at the top level.
    pub message: Value,
}

/// One step as written in the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A JSON value to send.
    #[serde(default)]
    pub send: Option<Value>,
    /// Text to send verbatim.
    #[serde(default)]
    pub raw: Option<String>,
    /// A padded message.
    #[serde(default)]
    pub oversized: Option<Oversized>,
    /// What to wait for; see the module docs for the default.
    #[serde(default, rename = "await")]
    pub wait: Option<Await>,
    /// Argument check for `tools/call`.
    #[serde(default)]
    pub arguments: Option<ArgumentsCheck>,
}

impl Step {
    /// The wait that applies, explicit or default.
    pub fn effective_await(&self) -> Await {
        if let Some(w) = self.wait {
            return w;
        }
        match &self.send {
            Some(v)
                if v.get("method").is_some()
                    && v.get("id")
                        .is_some_and(|id| id.is_string() || id.is_i64() || id.is_u64()) =>
            {
                Await::Response
            }
            Some(v) if v.get("method").is_some() && v.get("id").is_some() => Await::Any,
            Some(_) => Await::None,
            None => Await::Any,
        }
    }

    /// The JSON-RPC method of a `send` step.
    pub fn method(&self) -> Option<&str> {
        self.send.as_ref()?.get("method")?.as_str()
    }

    /// The tool name of a `tools/call` step.
    pub fn tool_name(&self) -> Option<&str> {
        if self.method() != Some("tools/call") {
            return None;
        }
        self.send.as_ref()?.get("params")?.get("name")?.as_str()
    }
}

/// A scenario file as written.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the case shows, as a sentence.
    pub description: String,
    /// Version requested by the harness's own `initialize`.
    #[serde(default)]
    pub protocol_version: Option<String>,
    /// Whether the harness initializes first.
    #[serde(default = "yes")]
    pub handshake: bool,
    /// Transports the case runs on (default: all the target offers).
    #[serde(default)]
    pub transports: Option<Vec<String>>,
    /// Wire eras the case runs in (default: both, or only `handshake` when `handshake` is
    /// false).
    #[serde(default)]
    pub eras: Option<Vec<String>>,
    /// Whose seeded API key the server acts with: `Owner` (default), `Admin`, `Member`,
    /// `Reporter` or `Viewer` of the primary org, or `OtherOrgOwner` (the second org's Owner).
    #[serde(default)]
    pub role: Option<String>,
    /// Object members whose values the normalized transcript shows as `<redacted>` (secrets a
    /// recording must not keep; `record --redact NAME` writes them here).
    #[serde(default)]
    pub redact: Option<Vec<String>>,
    /// The frames to send.
    pub steps: Vec<Step>,
}

fn yes() -> bool {
    true
}

/// A loaded, checked scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `<category>/<tool>__<case>`: the identity used in reports, filters and expected files.
    pub id: String,
    /// Folder name.
    pub category: String,
    /// File name before `__` (a tool, method or topic).
    pub tool: String,
    /// File name after `__`.
    pub case: String,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// The parsed file.
    pub file: ScenarioFile,
}

impl Scenario {
    /// `<tool>__<case>`.
    pub fn name(&self) -> String {
        format!("{}__{}", self.tool, self.case)
    }

    /// The version the harness's `initialize` asks for.
    pub fn protocol_version(&self) -> &str {
        self.file
            .protocol_version
            .as_deref()
            .unwrap_or(DEFAULT_PROTOCOL_VERSION)
    }

    /// Whether the case runs on `t`.
    pub fn runs_on(&self, t: Transport) -> bool {
        match &self.file.transports {
            None => true,
            Some(list) => list.iter().any(|n| n == t.name()),
        }
    }

    /// Whether the case runs in `era`.
    pub fn runs_in(&self, era: Era) -> bool {
        match &self.file.eras {
            Some(list) => list.iter().any(|n| n == era.name()),
            None => self.file.handshake || era == Era::Handshake,
        }
    }

    /// Whose key the server acts with.
    pub fn role(&self) -> Role {
        self.file.role.as_deref().and_then(Role::parse).unwrap_or_default()
    }

    /// Whether any step calls a tool with arguments to check (the harness then fetches
    /// `tools/list` first; a case whose calls are all `"arguments": "unchecked"`, such as a
    /// recorded session, is played without that extra request).
    pub fn checks_tool_arguments(&self) -> bool {
        self.file
            .steps
            .iter()
            .any(|s| s.tool_name().is_some() && s.arguments != Some(ArgumentsCheck::Unchecked))
    }

    /// The members the transcript shows as `<redacted>` (the `redact` field).
    pub fn redact(&self) -> &[String] {
        self.file.redact.as_deref().unwrap_or_default()
    }

    /// Parses and checks one file; `root` is the scenarios folder.
    pub fn load(root: &Path, path: &Path) -> anyhow::Result<Scenario> {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let category = rel
            .parent()
            .and_then(|p| p.to_str())
            .filter(|p| !p.is_empty() && !p.contains(['/', '\\']))
            .with_context(|| {
                format!(
                    "{}: a scenario lives in <scenarios>/<category>/<tool>__<case>.json",
                    path.display()
                )
            })?
            .to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", path.display()))?;
        let Some((tool, case)) = stem.split_once("__") else {
            bail!("{}: the file name must be <tool>__<case>.json", path.display());
        };
        if tool.is_empty() || case.is_empty() || !is_name(tool) || !is_name(case) {
            bail!("{}: tool and case names use [a-z0-9_-] only", path.display());
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file: ScenarioFile =
            serde_json::from_str(&text).with_context(|| format!("{} is not a valid scenario", path.display()))?;
        let scenario = Scenario {
            id: format!("{category}/{stem}"),
            category,
            tool: tool.to_string(),
            case: case.to_string(),
            path: path.to_path_buf(),
            file,
        };
        scenario.check().with_context(|| format!("{}", path.display()))?;
        Ok(scenario)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.file.description.trim().is_empty() {
            bail!("`description` is empty");
        }
        if self.file.steps.is_empty() {
            bail!("`steps` is empty");
        }
        if let Some(role) = &self.file.role
            && Role::parse(role).is_none()
        {
            bail!("unknown role `{role}` (Owner, Admin, Member, Reporter, Viewer, OtherOrgOwner)");
        }
        if let Some(names) = &self.file.redact
            && names.iter().any(|n| n.is_empty())
        {
            bail!("`redact` names an empty member");
        }
        known_names(
            &self.file.transports,
            "transports",
            "transport",
            "stdio, http, sse",
            |t| Transport::parse(t).is_some(),
        )?;
        known_names(&self.file.eras, "eras", "era", "handshake, stateless", |e| {
            Era::parse(e).is_some()
        })?;
        if let Some(list) = &self.file.eras
            && !self.file.handshake
            && list.iter().any(|e| e == Era::Stateless.name())
        {
            bail!(
                "a `\"handshake\": false` case runs in the handshake era only (it tests the wire around `initialize`)"
            );
        }
        for (i, step) in self.file.steps.iter().enumerate() {
            let kinds = [step.send.is_some(), step.raw.is_some(), step.oversized.is_some()];
            if kinds.iter().filter(|k| **k).count() != 1 {
                bail!("step {}: exactly one of `send`, `raw`, `oversized`", i + 1);
            }
            if step.arguments.is_some() && step.tool_name().is_none() {
                bail!("step {}: `arguments` applies to tools/call only", i + 1);
            }
            if step.effective_await() == Await::Response {
                let id = step.send.as_ref().and_then(|s| s.get("id"));
                if id.is_none() {
                    bail!("step {}: `await: response` needs a request with an id", i + 1);
                }
            }
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Loads every scenario under `root` (`<root>/<category>/*.json`), sorted by id. Every broken
/// file is reported, not just the first.
pub fn load_dir(root: &Path) -> anyhow::Result<Vec<Scenario>> {
    let mut categories: Vec<PathBuf> = std::fs::read_dir(root)
        .with_context(|| format!("cannot read the scenarios folder {}", root.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    categories.sort();
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for dir in categories {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for f in files {
            match Scenario::load(root, &f) {
                Ok(s) => scenarios.push(s),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
    }
    if !problems.is_empty() {
        bail!("broken scenario files:\n  {}", problems.join("\n  "));
    }
    scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(scenarios)
}

/// `--only` matching: a pattern with `*` or `?` is a glob over the whole scenario id
/// (`tickets/*__not_found`, `*` also crosses `/`); without wildcards it is a substring match.
pub fn matches_filter(pattern: &str, id: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return id.contains(pattern);
    }
    // Only `*` and `?` are wildcards: every other character is escaped, so any pattern compiles.
    let mut glob = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' | '?' => glob.push(c),
            c => glob.push_str(&globset::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    globset::Glob::new(&glob).is_ok_and(|g| g.compile_matcher().is_match(id))
}

/// Checks a `tools/call` step's arguments against the tool's `inputSchema` from the server's
/// own `tools/list` answer (`tools` = its `tools` array). `Err` explains why the scenario
/// cannot be sent as written.
pub fn check_tool_arguments(step: &Step, tools: &[Value]) -> Result<(), String> {
    let Some(name) = step.tool_name() else {
        return Ok(());
    };
    let expectation = step.arguments.unwrap_or_default();
    if expectation == ArgumentsCheck::Unchecked {
        return Ok(());
    }
    let Some(tool) = tools
        .iter()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
    else {
        return Err(format!("tool `{name}` is not in the server's tools/list"));
    };
    let Some(schema) = tool.get("inputSchema") else {
        return Err(format!("tool `{name}` has no inputSchema"));
    };
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| format!("the inputSchema of `{name}` cannot be compiled: {e}"))?;
    let empty = Value::Object(Default::default());
    let arguments = step
        .send
        .as_ref()
        .and_then(|s| s.get("params"))
        .and_then(|p| p.get("arguments"))
        .unwrap_or(&empty);
    let errors: Vec<String> = validator
        .iter_errors(arguments)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    match (expectation, errors.is_empty()) {
        (ArgumentsCheck::Valid, false) => Err(format!(
            "the arguments for `{name}` violate its inputSchema: {}",
            errors.join("; ")
        )),
        (ArgumentsCheck::Invalid, true) => Err(format!(
            "the step says its arguments for `{name}` are invalid, but they satisfy the inputSchema"
        )),
        _ => Ok(()),
    }
}

/// A scenario's optional list of names (`field`): not empty, and every entry one of `valid`.
fn known_names(
    list: &Option<Vec<String>>,
    field: &str,
    what: &str,
    valid: &str,
    known: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let Some(list) = list else {
        return Ok(());
    };
    if list.is_empty() {
        bail!("`{field}` is empty");
    }
    if let Some(bad) = list.iter().find(|n| !known(n)) {
        bail!("unknown {what} `{bad}` ({valid})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_and_substrings_select_scenarios() {
        assert!(matches_filter("lifecycle", "lifecycle/ping__basic"));
        assert!(matches_filter("*/ping__*", "lifecycle/ping__basic"));
        assert!(matches_filter("lifecycle/*", "lifecycle/ping__basic"));
        assert!(!matches_filter("tickets/*", "lifecycle/ping__basic"));
        assert!(matches_filter("l?fecycle/ping__basic", "lifecycle/ping__basic"));
        assert!(matches_filter("*[x]*", "a/b[x]__c"));
        assert!(!matches_filter("*[x]*", "a/bx__c"));
    }

    #[test]
    fn requests_wait_for_a_response_and_notifications_do_not() {
        let step = |v: Value| Step {
            send: Some(v),
            raw: None,
            oversized: None,
            wait: None,
            arguments: None,
        };
        assert_eq!(
            step(json!({"id": 1, "method": "ping"})).effective_await(),
            Await::Response
        );
        assert_eq!(
            step(json!({"id": {"a": 1}, "method": "ping"})).effective_await(),
            Await::Any
        );
        assert_eq!(
            step(json!({"method": "notifications/initialized"})).effective_await(),
            Await::None
        );
    }

    #[test]
    fn tool_arguments_are_checked_against_the_tools_own_schema() {
        let tools = vec![json!({"name": "get_ticket", "inputSchema": {
            "type": "object", "properties": {"ticket_id": {"type": "string"}},
            "required": ["ticket_id"], "additionalProperties": false}})];
        let call = |args: Value, check: Option<ArgumentsCheck>| Step {
            send: Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "get_ticket", "arguments": args}})),
            raw: None,
            oversized: None,
            wait: None,
            arguments: check,
        };
        assert!(check_tool_arguments(&call(json!({"ticket_id": "WEB-1"}), None), &tools).is_ok());
        let err = check_tool_arguments(&call(json!({}), None), &tools).expect_err("missing field");
        assert!(err.contains("ticket_id"), "{err}");
        assert!(check_tool_arguments(&call(json!({}), Some(ArgumentsCheck::Invalid)), &tools).is_ok());
        assert!(check_tool_arguments(&call(json!({"ticket_id": "x"}), Some(ArgumentsCheck::Invalid)), &tools).is_err());
    }
}
