//! Strings that match a JSON Schema `pattern`. A pattern is an ECMA 262 regex searched anywhere
//! in the string; proptest's regex strategies take Rust regex syntax and no anchors. So a
//! pattern is translated to Rust syntax the way the `jsonschema` crate reads it (`\d` is
//! `[0-9]`, `\w` ASCII: `jsonschema-regex`), parsed with `regex-syntax`, its anchors at the
//! edges (`^…$`, also inside edge groups and in every branch of an alternation) removed (a
//! string the rest matches is matched by the anchored pattern too, and by an unanchored
//! pattern anywhere), long repetitions capped at 64 more than their minimum (every count in
//! range still matches), and handed to [`proptest::string::string_regex_parsed`].
//!
//! What cannot be generated that way is a [`PatternError`] naming why: look-around and
//! back-references (`regex-syntax` does not parse them), anchors or word boundaries in the
//! middle of a pattern, and patterns that are no ECMA 262 regex at all. The caller decides what
//! to do (the schema generator falls back to filtering candidate strings with the pattern).

use proptest::strategy::{BoxedStrategy, Strategy};
use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};

/// Extra repetitions allowed above a repetition's minimum.
const REPEAT_SPAN: u32 = 64;

/// Why a pattern cannot be turned into a generator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern is not an ECMA 262 regex the `jsonschema` crate can read.
    #[error("`{0}` is not an ECMA 262 regular expression the validator can read")]
    Unreadable(String),
    /// Look-around, back-references and other constructs `regex-syntax` does not parse.
    #[error("`{pattern}` uses syntax no regex generator takes ({why})")]
    Unsupported {
        /// The pattern.
        pattern: String,
        /// The parser's complaint.
        why: String,
    },
    /// An anchor or a word boundary away from the edges of the pattern.
    #[error("`{0}` has an anchor or a word boundary inside it, which a generator cannot honour")]
    InnerAssertion(String),
}

/// A strategy for strings that `pattern` matches (see the module docs for what is refused).
pub fn strategy(pattern: &str) -> Result<BoxedStrategy<String>, PatternError> {
    let rust = jsonschema_regex::to_rust_regex(pattern).map_err(|()| PatternError::Unreadable(pattern.to_string()))?;
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&rust)
        .map_err(|e| PatternError::Unsupported {
            pattern: pattern.to_string(),
            why: first_line(&e.to_string()),
        })?;
    let edges = strip_edges(&hir, true, true);
    let core = cap_repetitions(&edges);
    if has_assertion(&core) {
        return Err(PatternError::InnerAssertion(pattern.to_string()));
    }
    let strategy = proptest::string::string_regex_parsed(&core).map_err(|e| PatternError::Unsupported {
        pattern: pattern.to_string(),
        why: e.to_string(),
    })?;
    Ok(strategy.boxed())
}

fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

fn is_edge_anchor(look: Look) -> bool {
    matches!(
        look,
        Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF
    )
}

/// Removes anchors at the start (`front`) and end (`back`) of `hir`.
fn strip_edges(hir: &Hir, front: bool, back: bool) -> Hir {
    match hir.kind() {
        HirKind::Look(look) if (front || back) && is_edge_anchor(*look) => Hir::empty(),
        HirKind::Concat(subs) => {
            let mut subs: Vec<Hir> = subs.clone();
            if front {
                while subs
                    .first()
                    .is_some_and(|h| matches!(h.kind(), HirKind::Look(l) if is_edge_anchor(*l)))
                {
                    subs.remove(0);
                }
            }
            if back {
                while subs
                    .last()
                    .is_some_and(|h| matches!(h.kind(), HirKind::Look(l) if is_edge_anchor(*l)))
                {
                    subs.pop();
                }
            }
            let last = subs.len().saturating_sub(1);
            let subs = subs
                .iter()
                .enumerate()
                .map(|(i, h)| strip_edges(h, front && i == 0, back && i == last))
                .collect();
            Hir::concat(subs)
        }
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(|h| strip_edges(h, front, back)).collect()),
        HirKind::Capture(c) => Hir::capture(Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(strip_edges(&c.sub, front, back)),
        }),
        _ => hir.clone(),
    }
}

/// Caps every repetition at [`REPEAT_SPAN`] above its minimum.
fn cap_repetitions(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Repetition(r) => {
            let cap = r.min.saturating_add(REPEAT_SPAN);
            Hir::repetition(Repetition {
                min: r.min,
                max: Some(r.max.map_or(cap, |m| m.min(cap))),
                greedy: r.greedy,
                sub: Box::new(cap_repetitions(&r.sub)),
            })
        }
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(cap_repetitions).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(cap_repetitions).collect()),
        HirKind::Capture(c) => Hir::capture(Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(cap_repetitions(&c.sub)),
        }),
        _ => hir.clone(),
    }
}

fn has_assertion(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(_) => true,
        HirKind::Repetition(r) => has_assertion(&r.sub),
        HirKind::Capture(c) => has_assertion(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(has_assertion),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn samples(pattern: &str, n: usize) -> Vec<String> {
        let s = strategy(pattern).unwrap_or_else(|e| panic!("{e}"));
        let mut runner = TestRunner::deterministic();
        (0..n)
            .map(|_| s.new_tree(&mut runner).expect("a value").current())
            .collect()
    }

    fn matches(pattern: &str, s: &str) -> bool {
        let schema = serde_json::json!({"type": "string", "pattern": pattern});
        jsonschema::validator_for(&schema)
            .expect("compiles")
            .is_valid(&serde_json::json!(s))
    }

    #[test]
    fn anchored_patterns_of_the_alloy_schemas_generate_matching_strings() {
        for p in [
            "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z][A-Za-z0-9]{1,9}-[1-9][0-9]{0,8})$",
            "^[A-Z][A-Za-z0-9]{0,31}$",
            "^#[0-9A-Fa-f]{6}$",
            "^[a-z0-9][a-z0-9_.:-]{0,63}$",
            "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|me|all)$",
            "^a$|^b+$",
            "(?m)^x",
            r"^\d{3}-\w+$",
            "abc",
            "[0-9]+",
        ] {
            for s in samples(p, 64) {
                assert!(matches(p, &s), "{s:?} does not match {p}");
            }
        }
    }

    #[test]
    fn digits_are_ascii_as_in_ecma_262() {
        for s in samples(r"^\d+$", 200) {
            assert!(s.chars().all(|c| c.is_ascii_digit()), "{s:?}");
        }
    }

    #[test]
    fn unbounded_and_huge_repetitions_are_capped_above_their_minimum() {
        for s in samples("^a{3,}b*$", 100) {
            assert!(s.len() <= 3 + 64 + 64 && s.starts_with("aaa"), "{s:?}");
        }
        for s in samples("^x{2,100000}$", 20) {
            assert!((2..=66).contains(&s.len()), "{}", s.len());
        }
    }

    #[test]
    fn patterns_no_generator_can_take_are_errors_not_panics() {
        assert!(matches!(strategy("^(?=a)b"), Err(PatternError::Unsupported { .. })));
        assert!(matches!(strategy(r"(a)\1"), Err(PatternError::Unsupported { .. })));
        assert!(matches!(strategy(r"a\bb"), Err(PatternError::InnerAssertion(_))));
        assert!(matches!(strategy("a^b"), Err(PatternError::InnerAssertion(_))));
        assert!(matches!(strategy("(a"), Err(PatternError::Unreadable(_))));
    }
}
