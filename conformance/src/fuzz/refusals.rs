//! Refusals of schema-valid arguments a server may make: rules across fields its input schemas
//! do not state (alloy-mcp: exactly one of `minutes` and `hours`, at least one field to change).
//! A schema-valid call refused with `-32602` passes only when a line names the tool and the
//! refusal's `data.field`.
//!
//! The file (`fixtures/fuzz/alloy-mcp-refusals.txt` for alloy-mcp) has one rule a line:
//! `<tool> <field> <example arguments>  # reason`. The field may hold `*` (any characters). The
//! example is one JSON object: arguments that fit the tool's schema and break the rule, so a
//! test can show each rule is real (it is sent, and must be refused naming that field). `#`
//! starts a comment line; a line without a reason is refused.

use serde_json::Value;
use std::path::Path;

/// One rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// The tool.
    pub tool: String,
    /// The `data.field` of the refusal (`*` matches any characters).
    pub field: String,
    /// Schema-valid arguments that break the rule.
    pub example: Value,
    /// Why the server refuses them.
    pub reason: String,
    /// The line in the file.
    pub line: usize,
}

/// The rules of one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refusals {
    /// In file order.
    pub rules: Vec<Refusal>,
}

impl Refusals {
    /// Reads and checks a file.
    pub fn load(path: &Path) -> anyhow::Result<Refusals> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the refusals file {}: {e}", path.display()))?;
        Refusals::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses the text of a file.
    pub fn parse(text: &str) -> Result<Refusals, String> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = i + 1;
            let mut words = line.splitn(3, char::is_whitespace);
            let (Some(tool), Some(field), Some(rest)) = (words.next(), words.next(), words.next()) else {
                return Err(format!(
                    "line {n}: expected `<tool> <field> <example arguments>  # reason`"
                ));
            };
            let mut stream = serde_json::Deserializer::from_str(rest.trim_start()).into_iter::<Value>();
            let example = match stream.next() {
                Some(Ok(v @ Value::Object(_))) => v,
                _ => return Err(format!("line {n}: the example arguments must be one JSON object")),
            };
            let after = rest.trim_start()[stream.byte_offset()..].trim();
            let Some(reason) = after.strip_prefix('#').map(str::trim).filter(|r| !r.is_empty()) else {
                return Err(format!("line {n}: a rule needs a reason after `#`"));
            };
            rules.push(Refusal {
                tool: tool.to_string(),
                field: field.to_string(),
                example,
                reason: reason.to_string(),
                line: n,
            });
        }
        Ok(Refusals { rules })
    }

    /// The rule that allows `tool` to refuse schema-valid arguments naming `field`, if any.
    pub fn allowing(&self, tool: &str, field: &str) -> Option<&Refusal> {
        self.rules
            .iter()
            .find(|r| r.tool == tool && wildcard_match(&r.field, field))
    }
}

/// `pattern` with `*` for any characters, matched against the whole of `text`.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_need_a_tool_a_field_an_example_object_and_a_reason() {
        let r = Refusals::parse(
            "# comment\n\nlog_time minutes|hours {\"ticket_id\": \"WEB-1\", \"minutes\": 5, \"hours\": 1}  # exactly one\nset_tags tags.* {\"a\": \"# not a comment\"} # replace with null\n",
        )
        .expect("parses");
        assert_eq!(r.rules.len(), 2);
        assert_eq!(r.rules[0].field, "minutes|hours");
        assert_eq!(r.rules[1].example["a"], "# not a comment");
        assert!(r.allowing("log_time", "minutes|hours").is_some());
        assert!(r.allowing("log_time", "minutes").is_none());
        assert!(r.allowing("set_tags", "tags.team").is_some());
        assert!(r.allowing("set_tags", "tag").is_none());
        assert!(Refusals::parse("log_time minutes {} \n").is_err(), "no reason");
        assert!(Refusals::parse("log_time minutes [1] # x\n").is_err(), "not an object");
        assert!(Refusals::parse("log_time # x\n").is_err());
    }

    #[test]
    fn wildcards_match_the_whole_field() {
        assert!(wildcard_match("a*c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "a-b-c"));
        assert!(!wildcard_match("a*c", "abcd"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}
