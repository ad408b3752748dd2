//! Budget files for `cost --budget FILE`: limits on a tool surface, checked against a
//! [`CostReport`].
//!
//! ```json
//! {
//!   "note": "why these numbers",
//!   "enforced": {"model_facing_tokens": 21000, "max_tool_tokens": 1100,
//!                "whole_answer_bytes": {"2024-11-05": 84000, "2025-11-25": 86000}},
//!   "target":   {"model_facing_tokens": 12000, "max_tool_tokens": 500, "whole_answer_bytes": 49151}
//! }
//! ```
//!
//! Every limit is optional and inclusive (a figure equal to its limit is within it).
//! `model_facing_tokens` bounds the sum over tools and `max_tool_tokens` every single tool,
//! under every revision the server offers. `whole_answer_bytes` is one number for every offered
//! revision or an object per revision; an offered revision missing from the object exceeds it
//! (add it). `enforced` decides the exit code; `target` is reported beside it and never fails.

use super::{CostReport, group};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A budget file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Free text: where the numbers come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Limits that fail the command.
    pub enforced: Limits,
    /// Limits that are reported only (where the surface is headed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Limits>,
}

/// One set of limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Model-facing tokens of all tools together, under each offered revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_facing_tokens: Option<u64>,
    /// Model-facing tokens of any one tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tool_tokens: Option<u64>,
    /// Bytes of the whole `tools/list` answer (all pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_answer_bytes: Option<PerRevision>,
}

/// A limit for every revision, or one per revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerRevision {
    /// The same limit for every revision.
    Every(u64),
    /// A limit per revision.
    Each(BTreeMap<String, u64>),
}

impl PerRevision {
    fn for_revision(&self, revision: &str) -> Option<u64> {
        match self {
            PerRevision::Every(n) => Some(*n),
            PerRevision::Each(m) => m.get(revision).copied(),
        }
    }
}

/// One comparison of a figure with its limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// `enforced` or `target`.
    pub section: String,
    /// Which limit: `model_facing_tokens`, `max_tool_tokens`, `whole_answer_bytes`.
    pub limit: String,
    /// The revisions the figure was measured under (identical figures are merged).
    pub revisions: Vec<String>,
    /// The tool, for `max_tool_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The measured figure.
    pub measured: u64,
    /// The limit; `None` when the budget has no limit for this revision.
    pub allowed: Option<u64>,
    /// Whether the figure exceeds the limit (or has none where one is needed).
    pub over: bool,
}

/// Every check of a report against a budget file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The revisions the server offers (what the checks ran under).
    pub offered: Vec<String>,
    /// Checks of the `enforced` section, then of `target`.
    pub checks: Vec<Check>,
}

impl BudgetFile {
    /// Reads and parses a budget file; the error names the file and what is wrong.
    pub fn load(path: &Path) -> anyhow::Result<BudgetFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read budget file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "budget file {} is not valid: expected {{\"enforced\": {{\"model_facing_tokens\", \"max_tool_tokens\", \"whole_answer_bytes\"}}, \"target\": {{...}}, \"note\"}}",
                path.display()
            )
        })
    }

    /// Compares `report` with both sections.
    pub fn check(&self, report: &CostReport) -> Verdict {
        let mut checks = section_checks("enforced", &self.enforced, report);
        if let Some(t) = &self.target {
            checks.extend(section_checks("target", t, report));
        }
        Verdict {
            offered: report.offered().map(|r| r.revision.clone()).collect(),
            checks,
        }
    }
}

fn section_checks(section: &str, limits: &Limits, report: &CostReport) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    let mut push = |limit: &str, revision: &str, tool: Option<&str>, measured: u64, allowed: Option<u64>| {
        let over = allowed.is_none_or(|a| measured > a);
        // Identical figures under several revisions make one line.
        if let Some(c) = checks
            .iter_mut()
            .find(|c| c.limit == limit && c.tool.as_deref() == tool && c.measured == measured && c.allowed == allowed)
        {
            c.revisions.push(revision.to_string());
            return;
        }
        checks.push(Check {
            section: section.to_string(),
            limit: limit.to_string(),
            revisions: vec![revision.to_string()],
            tool: tool.map(str::to_string),
            measured,
            allowed,
            over,
        });
    };
    for r in report.offered() {
        let mut tools: Vec<&crate::cost::ToolCost> = r.tools.iter().collect();
        tools.sort_by(|a, b| {
            b.model_facing
                .tokens
                .cmp(&a.model_facing.tokens)
                .then(a.name.cmp(&b.name))
        });
        if let Some(max) = limits.model_facing_tokens {
            push(
                "model_facing_tokens",
                &r.revision,
                None,
                r.model_facing_total.tokens,
                Some(max),
            );
        }
        if let Some(max) = limits.max_tool_tokens {
            // Every tool over the limit, or else the largest one (to show the headroom).
            let mut shown: Vec<&crate::cost::ToolCost> =
                tools.iter().copied().filter(|t| t.model_facing.tokens > max).collect();
            if shown.is_empty() {
                shown.extend(r.max_tool());
            }
            for t in shown {
                push(
                    "max_tool_tokens",
                    &r.revision,
                    Some(&t.name),
                    t.model_facing.tokens,
                    Some(max),
                );
            }
        }
        if let Some(per) = &limits.whole_answer_bytes {
            push(
                "whole_answer_bytes",
                &r.revision,
                None,
                r.answer.bytes,
                per.for_revision(&r.revision),
            );
        }
    }
    checks
}

impl Verdict {
    /// Whether every `enforced` check holds.
    pub fn within_enforced(&self) -> bool {
        !self.checks.iter().any(|c| c.section == "enforced" && c.over)
    }

    /// `budget: N enforced limits exceeded` or `budget: within every enforced limit`.
    pub fn closing_line(&self) -> String {
        let over = self.checks.iter().filter(|c| c.section == "enforced" && c.over).count();
        if over == 0 {
            "budget: within every enforced limit".to_string()
        } else {
            format!("budget: {over} enforced limit(s) exceeded")
        }
    }

    /// A table per section: each limit, the figure, and OVER where it is exceeded.
    pub fn render(&self, file: &str) -> String {
        let mut out = format!("budget {file}:\n");
        for section in ["enforced", "target"] {
            let checks: Vec<&Check> = self.checks.iter().filter(|c| c.section == section).collect();
            if checks.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "  {section}{}\n",
                if section == "target" {
                    " (reported, not enforced)"
                } else {
                    ""
                }
            ));
            for c in checks {
                let what = match &c.tool {
                    Some(t) => format!("{} {t}", c.limit),
                    None => c.limit.clone(),
                };
                let limit = match c.allowed {
                    Some(a) => format!("limit {}", group(a)),
                    None => "no limit for this revision in the budget file: add it".to_string(),
                };
                let state = match (c.over, c.allowed) {
                    (false, _) => String::new(),
                    (true, Some(a)) => format!(" — OVER by {}", group(c.measured - a)),
                    (true, None) => " — OVER".to_string(),
                };
                let under = if c.revisions == self.offered && self.offered.len() > 1 {
                    "every offered revision".to_string()
                } else {
                    c.revisions.join(", ")
                };
                out.push_str(&format!(
                    "    {} {what}: {} ({limit}) under {under}{state}\n",
                    if c.over { "✗" } else { "✓" },
                    group(c.measured),
                ));
            }
        }
        out.push_str(&self.closing_line());
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{RevisionCost, Size, ToolCost};

    fn report() -> CostReport {
        let tool = |name: &str, tokens: u64| ToolCost {
            name: name.into(),
            model_facing: Size {
                bytes: tokens * 4,
                tokens,
            },
            as_listed: Size {
                bytes: tokens * 5,
                tokens: tokens + 10,
            },
        };
        let rev = |revision: &str, answer: u64| RevisionCost {
            revision: revision.into(),
            offered: true,
            note: None,
            tools: vec![tool("get_ticket", 300), tool("create_ticket", 700)],
            model_facing_total: Size {
                bytes: 4000,
                tokens: 1000,
            },
            answer: Size {
                bytes: answer,
                tokens: answer / 4,
            },
            pages: 1,
            prompts: None,
            resource_templates: None,
        };
        let mut not_offered = rev("2026-07-28", 0);
        not_offered.offered = false;
        CostReport {
            server: "test".into(),
            tokenizer: "o200k".into(),
            revisions: vec![rev("2024-11-05", 5000), rev("2025-06-18", 5200), not_offered],
        }
    }

    fn budget(json: &str) -> BudgetFile {
        serde_json::from_str(json).expect("a valid budget")
    }

    #[test]
    fn a_surface_within_its_enforced_limits_passes_and_targets_are_only_reported() {
        let b = budget(
            r#"{"enforced": {"model_facing_tokens": 1000, "max_tool_tokens": 700, "whole_answer_bytes": 5200},
                "target": {"model_facing_tokens": 500, "max_tool_tokens": 500}}"#,
        );
        let v = b.check(&report());
        assert!(v.within_enforced(), "{v:?}");
        let target_over: Vec<&Check> = v.checks.iter().filter(|c| c.section == "target" && c.over).collect();
        assert_eq!(target_over.len(), 2, "{target_over:?}");
        assert!(target_over.iter().any(|c| c.tool.as_deref() == Some("create_ticket")));
        let text = v.render("b.json");
        assert!(text.contains("OVER by 500"), "{text}");
        assert!(text.ends_with("budget: within every enforced limit\n"), "{text}");
    }

    #[test]
    fn each_exceeded_limit_is_named_with_its_tool_and_revisions() {
        let b = budget(
            r#"{"enforced": {"model_facing_tokens": 999, "max_tool_tokens": 299,
                             "whole_answer_bytes": {"2024-11-05": 5000}}}"#,
        );
        let v = b.check(&report());
        assert!(!v.within_enforced());
        let over: Vec<String> = v
            .checks
            .iter()
            .filter(|c| c.over)
            .map(|c| format!("{} {:?} {:?}", c.limit, c.tool, c.revisions))
            .collect();
        assert_eq!(
            over,
            vec![
                r#"model_facing_tokens None ["2024-11-05", "2025-06-18"]"#,
                r#"max_tool_tokens Some("create_ticket") ["2024-11-05", "2025-06-18"]"#,
                r#"max_tool_tokens Some("get_ticket") ["2024-11-05", "2025-06-18"]"#,
                r#"whole_answer_bytes None ["2025-06-18"]"#,
            ]
        );
        let text = v.render("b.json");
        assert!(text.contains("no limit for this revision"), "{text}");
        assert!(text.contains("budget: 4 enforced limit(s) exceeded"), "{text}");
    }

    #[test]
    fn a_misspelt_limit_is_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("alloy-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("b.json");
        std::fs::write(&path, r#"{"enforced": {"model_tokens": 10}}"#).expect("written");
        let err = format!("{:#}", BudgetFile::load(&path).expect_err("refused"));
        assert!(err.contains("b.json") && err.contains("model_tokens"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
