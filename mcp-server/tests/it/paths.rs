//! No argument changes which API route a tool calls (hardening finding 1: `delete_tag` with
//! the key `..` sent `DELETE /api/v1/tickets/WEB-3/tags/..`, which the URL parser turned into
//! `DELETE /api/v1/tickets/WEB-3/` and the ticket was deleted).
//!
//! For every tool, the conformance fixtures hold a scenario with valid arguments. A reference
//! call with them shows which string arguments become a path segment, and which route the
//! tool calls. Then proptest feeds each such argument hostile and random strings: every
//! request the mock records must be one of the reference routes with only that segment
//! changed, and the segment must decode to exactly the string given (or the server sends
//! nothing at all, when it refuses the argument). Where an argument may be a name (a label or
//! sprint name, an email), the server may first read a fixed lookup route that the argument
//! does not appear in; that is allowed too.

use crate::support::{Launch, spawn_seeded_stack};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Generated strings per path argument (the fixed hostile ones come on top).
const CASES: u32 = 40;

/// Strings that steered paths somewhere, or might.
const HOSTILE: &[&str] = &[
    "..",
    ".",
    "",
    "/",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "a/../b",
    "../..",
    "WEB-3/..",
    "WEB-3/tags/..",
    "?x=1",
    "#frag",
    "WEB-3?",
    "WEB-3#",
    "%00",
    "\\..",
    "..;",
    "a\u{0}b",
    "é",
    " ",
    "%",
    "%zz",
    "//",
];

/// The arguments of one success scenario per tool (`<tool>__ok*.json` first, else any case).
fn fixture_calls() -> BTreeMap<String, Map<String, Value>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures/scenarios")
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    // `__ok` cases sort before the others of the same tool.
    files.sort_by_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        (!name.contains("__ok"), name)
    });
    let mut calls = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("scenario");
        let v: Value = serde_json::from_str(&text).expect("scenario JSON");
        for step in v["steps"].as_array().into_iter().flatten() {
            let send = &step["send"];
            if send["method"] != "tools/call" {
                continue;
            }
            let (Some(name), Some(args)) = (send["params"]["name"].as_str(), send["params"]["arguments"].as_object())
            else {
                continue;
            };
            calls.entry(name.to_string()).or_insert_with(|| args.clone());
        }
    }
    calls
}

/// One request as the mock recorded it: method and decoded path segments.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Recorded {
    method: String,
    segments: Vec<String>,
}

fn decode(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

async fn call_and_record(stack: &mut crate::support::Stack, tool: &str, args: &Map<String, Value>) -> Vec<Recorded> {
    stack.api.mock.take_journal();
    let answer = stack.mcp.call(tool, Value::Object(args.clone())).await;
    assert!(
        answer.get("result").is_some() || answer.get("error").is_some(),
        "{tool}: no answer: {answer}"
    );
    stack
        .api
        .mock
        .take_journal()
        .into_iter()
        .map(|e| Recorded {
            method: e.method,
            // The raw path, so a trailing slash or an empty segment shows.
            segments: decode(&e.path),
        })
        .collect()
}

/// Whether `r` is one of the lookups a tool makes before its own call to turn a name into an
/// id or to check a project ([`alloy_mcp::surface::tools::names`]): a GET of a fixed route
/// whose segments all come from elsewhere (none is the candidate), so the candidate did not
/// steer it.
fn is_lookup(r: &Recorded, candidate: &str) -> bool {
    let s: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    r.method == "GET"
        && !s.contains(&candidate)
        && matches!(
            s.as_slice(),
            ["api", "v1", "orgs", _, "members"]
                | ["api", "v1", "projects", _, "labels" | "sprints"]
                | ["api", "v1", "projects" | "sprints" | "tickets", _]
        )
}

/// A route the tool calls, with the position of the argument's segment.
#[derive(Clone, Debug)]
struct Template {
    method: String,
    segments: Vec<String>,
    hole: usize,
}

impl Template {
    fn admits(&self, r: &Recorded, value: &str) -> bool {
        r.method == self.method
            && r.segments.len() == self.segments.len()
            && r.segments
                .iter()
                .zip(&self.segments)
                .enumerate()
                .all(
                    |(i, (got, want))| {
                        if i == self.hole { got == value } else { got == want }
                    },
                )
    }
}

#[test]
fn no_argument_changes_which_api_route_a_tool_calls() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stack = std::cell::RefCell::new(rt.block_on(spawn_seeded_stack(Launch::default())));
    let calls = fixture_calls();
    let tools: Vec<String> = rt
        .block_on(stack.borrow_mut().mcp.list_tools())
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<&String> = tools.iter().filter(|t| !calls.contains_key(*t)).collect();
    assert!(missing.is_empty(), "no scenario with arguments for: {missing:?}");

    let mut checked = Vec::new();
    let cases = std::cell::Cell::new(0u32);
    for tool in &tools {
        let args = &calls[tool];
        let reference = rt.block_on(call_and_record(&mut stack.borrow_mut(), tool, args));
        for (name, value) in args {
            let Some(value) = value.as_str() else { continue };
            let templates: Vec<Template> = reference
                .iter()
                .filter_map(|r| {
                    let hole = r.segments.iter().position(|s| s == value)?;
                    Some(Template {
                        method: r.method.clone(),
                        segments: r.segments.clone(),
                        hole,
                    })
                })
                .collect();
            if templates.is_empty() {
                continue;
            }
            checked.push(format!("{tool}.{name}"));
            let hostile = proptest::sample::select(HOSTILE.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            let strategy = prop_oneof![
                hostile,
                "\\PC{0,24}",
                "[A-Za-z0-9./%?#;\\\\-]{0,12}",
                "[A-Z]{2,4}-[0-9]{1,3}(/\\.\\.)?",
            ];
            let mut runner = TestRunner::new(Config {
                cases: CASES + HOSTILE.len() as u32,
                failure_persistence: None,
                ..Config::default()
            });
            let outcome = runner.run(&strategy, |candidate| {
                cases.set(cases.get() + 1);
                let mut changed = args.clone();
                changed.insert(name.clone(), Value::String(candidate.clone()));
                let recorded = rt.block_on(call_and_record(&mut stack.borrow_mut(), tool, &changed));
                for r in &recorded {
                    if !templates.iter().any(|t| t.admits(r, &candidate)) && !is_lookup(r, &candidate) {
                        return Err(TestCaseError::fail(format!(
                            "{tool} with {name} = {candidate:?} called {} /{} (expected one of {:?})",
                            r.method,
                            r.segments.join("/"),
                            templates
                                .iter()
                                .map(|t| format!("{} /{}", t.method, t.segments.join("/")))
                                .collect::<Vec<_>>()
                        )));
                    }
                }
                Ok(())
            });
            if let Err(e) = outcome {
                panic!("{e}\nserver stderr:\n{}", stack.borrow().mcp.stderr());
            }
        }
    }
    // Every tool with an id, key or reference in its path was exercised.
    assert!(
        checked.len() >= 40,
        "only {} path arguments found: {checked:?}",
        checked.len()
    );
    assert!(checked.iter().any(|c| c == "delete_tag.key"), "{checked:?}");
    eprintln!(
        "path arguments checked: {} ({} generated calls)",
        checked.len(),
        cases.get()
    );
}
