//! A recording on disk: a scenario file and its expected transcript, in the very formats `run`
//! reads (`<dir>/scenarios/<category>/<tool>__<case>.json` and
//! `<dir>/expected/<category>/<tool>__<case>.snap`, `…@stateless.snap` for the 2026-07-28
//! wire), so `alloy-conformance run --fixtures <dir>` judges a server by it with no editing.
//! [`Writer`] writes one per recorded session (`record`); [`load`] reads one back for `replay`
//! and `verify`.
//!
//! How a session maps onto the files: every frame the client sent is a step (`send` for JSON,
//! `raw` for anything else), in order, with `await` and `"arguments": "unchecked"` where `run`
//! needs them to collect the same answers (see [`crate::record::session`]). A handshake-era
//! session is a `"handshake": false` case (the client's own `initialize` is the first step), a
//! stateless one runs in the `stateless` era (the transcript opens with the `discover` entry
//! `run` records for its own `server/discover`). `transports` is the transport recorded on,
//! `role` the role of the API key the server acted with, `redact` the `--redact` names. The
//! expected transcript is the raw transcript through the one normalization
//! ([`crate::transcript::normalize_redacting`]); the steps keep the client's values except its
//! secrets ([`crate::transcript::scrub_secrets`]).

use crate::driver::Transport;
use crate::era::Era;
use crate::expected;
use crate::record::session::Finished;
use crate::scenario::{Role, Scenario};
use crate::transcript::{self, Transcript};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The category of recordings when `--name` does not give one.
pub const DEFAULT_CATEGORY: &str = "recorded";

/// What a recorded session is, besides its frames.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The transport it was recorded on.
    pub transport: Transport,
    /// The role of the key the server acted with.
    pub role: Role,
    /// Members to redact (`--redact`).
    pub redact: Vec<String>,
    /// The scenario's description (`--description`); made up from the session when `None`.
    pub description: Option<String>,
}

/// Files written for one session.
#[derive(Clone, Debug)]
pub struct Written {
    /// `<category>/<tool>__<case>`.
    pub id: String,
    /// The scenario file.
    pub scenario: PathBuf,
    /// The expected transcript.
    pub expected: PathBuf,
    /// The era recorded.
    pub era: Era,
    /// Number of steps.
    pub steps: usize,
}

/// Writes recordings under one folder: `--name` for the first session of this process,
/// `<name>-2`, `<name>-3`, … for later ones; without `--name`,
/// `recorded/session__<unix seconds>` and a free suffix (claimed atomically, so recorders
/// started at the same second do not overwrite each other).
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    name: Option<(String, String, String)>,
    written: usize,
}

impl Writer {
    /// A writer into `dir` (created now, so a wrong `--out` fails before the session);
    /// `name` is `[<category>/]<tool>__<case>`, checked here.
    pub fn new(dir: &Path, name: Option<&str>) -> anyhow::Result<Writer> {
        let name = match name {
            None => None,
            Some(n) => Some(parse_name(n)?),
        };
        std::fs::create_dir_all(dir.join("scenarios"))
            .and_then(|()| std::fs::create_dir_all(dir.join("expected")))
            .with_context(|| format!("--out {}: cannot create the recordings folder there", dir.display()))?;
        Ok(Writer {
            dir: dir.to_path_buf(),
            name,
            written: 0,
        })
    }

    /// The folder recordings go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one finished session; `Ok(None)` when the client sent nothing.
    pub fn write(&mut self, finished: Finished, meta: &Meta) -> anyhow::Result<Option<Written>> {
        if finished.steps.is_empty() {
            return Ok(None);
        }
        let scenarios = self.dir.join("scenarios");
        let (category, tool, case) = self.name.clone().unwrap_or_else(|| {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            (DEFAULT_CATEGORY.to_string(), "session".to_string(), secs.to_string())
        });
        let folder = scenarios.join(&category);
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let explicit = self.name.is_some();
        self.written += 1;
        let mut n = if explicit { self.written } else { 1 };
        let (stem, path) = loop {
            let stem = match n {
                1 => format!("{tool}__{case}"),
                n => format!("{tool}__{case}-{n}"),
            };
            let path = folder.join(format!("{stem}.json"));
            if explicit {
                break (stem, path);
            }
            // Claim the name: a file that appeared meanwhile belongs to another recorder.
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => break (stem, path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
            }
        };
        let id = format!("{category}/{stem}");
        let era = finished.era;
        let description = meta.description.clone().unwrap_or_else(|| describe(&finished, meta));
        let text = scenario_text(&finished, meta, &description);
        write_atomically(&path, text.as_bytes())?;
        let scenario = Scenario::load(&scenarios, &path)
            .with_context(|| format!("the recorded scenario {} does not load back", path.display()))?;
        let mut raw: Transcript = finished.transcript;
        raw.scenario = id.clone();
        raw.description = description;
        let normalized = transcript::normalize_redacting(&raw, &meta.redact);
        let expected = expected::write(&self.dir.join("expected"), &scenario, era, &normalized.to_value())?;
        Ok(Some(Written {
            id,
            scenario: path,
            expected,
            era,
            steps: finished.steps.len(),
        }))
    }
}

/// `[<category>/]<tool>__<case>` as `(category, tool, case)`.
fn parse_name(name: &str) -> anyhow::Result<(String, String, String)> {
    let (category, rest) = match name.split_once('/') {
        Some((c, r)) => (c, r),
        None => (DEFAULT_CATEGORY, name),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    match rest.split_once("__") {
        Some((tool, case)) if ok(category) && ok(tool) && ok(case) && !case.contains("__") => {
            Ok((category.to_string(), tool.to_string(), case.to_string()))
        }
        _ => bail!(
            "--name {name}: give [<category>/]<tool>__<case> with lower-case letters, digits, `_` and `-` (e.g. `my-client/session__list_tickets`)"
        ),
    }
}

fn describe(f: &Finished, meta: &Meta) -> String {
    let client = f.client.as_deref().unwrap_or("an MCP client");
    let server = f.server.as_deref().unwrap_or("the server");
    let version = f.protocol_version.as_deref().unwrap_or("no protocol version named");
    format!(
        "recorded session of {client} with {server} over {} ({} era, {version}), acting as {}",
        meta.transport,
        f.era,
        meta.role.name()
    )
}

/// The scenario file: the fields, then one step per line as the repository's scenarios are
/// written.
fn scenario_text(f: &Finished, meta: &Meta, description: &str) -> String {
    let mut head = serde_json::Map::new();
    head.insert("description".into(), json!(description));
    if f.era == Era::Handshake {
        head.insert("handshake".into(), json!(false));
    }
    head.insert("transports".into(), json!([meta.transport.name()]));
    head.insert("eras".into(), json!([f.era.name()]));
    head.insert("role".into(), json!(meta.role.name()));
    if !meta.redact.is_empty() {
        head.insert("redact".into(), json!(meta.redact));
    }
    let mut out = String::from("{\n");
    for (k, v) in &head {
        out.push_str(&format!("  {}: {},\n", Value::String(k.clone()), v));
    }
    out.push_str("  \"steps\": [\n");
    let steps: Vec<String> = f
        .steps
        .iter()
        .map(|s| format!("    {}", scrub_step(s, &meta.redact)))
        .collect();
    out.push_str(&steps.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

fn scrub_step(step: &Value, redact: &[String]) -> Value {
    let mut step = step.clone();
    for field in ["send", "raw"] {
        if let Some(v) = step.get_mut(field) {
            *v = transcript::scrub_secrets(v, redact);
        }
    }
    step
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// A recording read back: the scenario and the expected transcript of one era.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The scenario (the client's frames).
    pub scenario: Scenario,
    /// The era of the transcript.
    pub era: Era,
    /// The expected transcript (normalized).
    pub transcript: Transcript,
    /// Where the transcript was read from.
    pub expected_path: PathBuf,
}

/// Reads a recording from its scenario file (`<dir>/scenarios/<category>/<tool>__<case>.json`)
/// or its expected transcript (`<dir>/expected/<category>/<tool>__<case>[@stateless].snap`).
/// `era` picks the transcript of a scenario that runs in both eras.
pub fn load(file: &Path, era: Option<Era>) -> anyhow::Result<Recording> {
    let layout = || {
        format!(
            "{}: not a recording; give <dir>/scenarios/<category>/<tool>__<case>.json (as `record` writes it) or its expected transcript <dir>/expected/<category>/<tool>__<case>.snap",
            file.display()
        )
    };
    let name = file.file_name().and_then(|n| n.to_str()).with_context(layout)?;
    let category_dir = file.parent().with_context(layout)?;
    let category = category_dir.file_name().with_context(layout)?;
    let kind_dir = category_dir.parent().with_context(layout)?;
    let root = kind_dir.parent().unwrap_or(Path::new(""));
    let (scenario_path, from_snap_era) = if let Some(stem) = name.strip_suffix(".snap") {
        let (stem, snap_era) = match stem.split_once('@') {
            Some((s, e)) => (s, Some(Era::parse(e).with_context(layout)?)),
            None => (stem, Some(Era::Handshake)),
        };
        if kind_dir.file_name().and_then(|n| n.to_str()) != Some("expected") {
            bail!("{}", layout());
        }
        (
            root.join("scenarios").join(category).join(format!("{stem}.json")),
            snap_era,
        )
    } else if name.ends_with(".json") {
        (file.to_path_buf(), None)
    } else {
        bail!("{}", layout());
    };
    let scenarios = scenario_path
        .parent()
        .and_then(Path::parent)
        .with_context(layout)?
        .to_path_buf();
    if !scenario_path.is_file() {
        bail!(
            "{}: no scenario at {} (a recording is a scenario and its expected transcript)",
            file.display(),
            scenario_path.display()
        );
    }
    let scenario = Scenario::load(&scenarios, &scenario_path)?;
    let era = match (era, from_snap_era) {
        (Some(asked), Some(from)) if asked != from => {
            bail!("{} is the transcript of the {from} era, not {asked}", file.display())
        }
        (Some(e), _) | (None, Some(e)) => e,
        (None, None) => {
            let eras: Vec<Era> = Era::ALL.into_iter().filter(|e| scenario.runs_in(*e)).collect();
            match eras.as_slice() {
                [one] => *one,
                _ => bail!(
                    "{} runs in both eras; pick the transcript with --era handshake or --era stateless",
                    scenario.id
                ),
            }
        }
    };
    if !scenario.runs_in(era) {
        bail!("{} does not run in the {era} era", scenario.id);
    }
    let expected_root = scenarios.parent().unwrap_or(Path::new("")).join("expected");
    let expected_path = expected::path_for(&expected_root, &scenario, era);
    let value = expected::read(&expected_root, &scenario, era)?.with_context(|| {
        format!(
            "no expected transcript at {} for {} (record the session again, or run `alloy-conformance run --write-actual`)",
            expected_path.display(),
            scenario.id
        )
    })?;
    let transcript =
        Transcript::from_value(value).with_context(|| format!("{} is not a transcript", expected_path.display()))?;
    Ok(Recording {
        scenario,
        era,
        transcript,
        expected_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_default_to_the_recorded_category() {
        assert_eq!(
            parse_name("session__a").expect("ok"),
            ("recorded".into(), "session".into(), "a".into())
        );
        assert_eq!(
            parse_name("mine/list__b-2").expect("ok"),
            ("mine".into(), "list".into(), "b-2".into())
        );
        for bad in ["nounderscores", "Upper__x", "a/b/c__d", "x__", "__y", "a__b__c"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }
}
