//! A tool's own `inputSchema` turned into proptest strategies: [`Generator::valid`] gives
//! instances the schema accepts, [`Generator::near_misses`] instances that break it in exactly
//! one place, each knowing which field it broke ([`NearMiss`]).
//!
//! **Valid instances** are built, not filtered: `type` (one or a list, `["T", "null"]`
//! included), `const`, `enum`, string `minLength`/`maxLength`/`pattern` ([`super::pattern`]) and
//! `format` (`uuid`, `date`, `date-time`, `email`, `time`, `uri`, `hostname`, `ipv4`, `ipv6`),
//! numbers with `minimum`/`maximum`/exclusive bounds/`multipleOf` and the integer formats
//! schemars writes (`uint32`, `int64`, ...), arrays (`items`, `prefixItems`,
//! `minItems`/`maxItems`), objects (`properties`, `required`, `additionalProperties`), local
//! `$ref`s (inlined; recursion stops at a depth), `anyOf`/`oneOf` (each branch merged with the
//! keywords beside it) and `allOf` (merged). Where no construction exists (`oneOf`
//! exclusivity, `not`, `if`, `uniqueItems`, `contains`, `dependentRequired`, property counts
//! and names, a lossy merge) that node's values are filtered by the node's own compiled
//! validator. A pattern no generator can take is met by filtering candidate strings, when a
//! sample finds any; otherwise the field is [`GenError::Unsupported`] (an optional field is then
//! left out, a required one makes the whole schema unsupported, reported by name).
//!
//! Values a user would give are mixed in ([`Hints`]): the schema's own `examples` and
//! `default`, the backticked examples of a field's `description` (`e.g. \`WEB-42\``), and
//! values the caller knows exist (the test suites add the seeded mock's keys and ids), each
//! used only where it validates.
//!
//! **Near-misses** start from a valid instance and apply one [`Mutation`] at one place: a
//! value of a type the schema does not allow, a required field removed, a field added where
//! `additionalProperties` is `false`, a value outside an `enum`, a string that breaks its
//! `pattern`, a number, length or item count outside its bounds, and (when
//! [`GenOptions::break_formats`] is set) a string that breaks its `format`. Every near-miss is
//! checked against the schema's validator before it is handed out: it must fail, and every
//! error must be at the mutated field ([`NearMiss::is_error_at`]).

use super::pattern;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::{BoxedStrategy, Just, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Map, Number, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Nesting beyond which a schema is not followed (recursive `$ref`s end here).
const MAX_DEPTH: u32 = 16;
/// Expansions of one `$ref` chain before the recursion marker takes its place.
const MAX_REF_DEPTH: u32 = 6;
/// Marks where a recursive `$ref` was cut.
const RECURSION_MARK: &str = "x-alloy-conformance-recursion";
/// Marks the site schema of an optional object member: `null` there reads as "not given" (as
/// many servers read it, alloy-mcp included), so it is no wrong type to demand a refusal for.
const NULL_IS_ABSENT: &str = "x-alloy-conformance-null-is-absent";
/// Items generated beyond `minItems` at most.
const EXTRA_ITEMS: u64 = 4;
/// Characters generated beyond `minLength` at most (for strings without pattern or format).
const EXTRA_CHARS: u64 = 48;

/// Values known to make sense for a field, by property name (for arrays: the array's name).
#[derive(Clone, Debug, Default)]
pub struct Hints {
    by_name: BTreeMap<String, Vec<Value>>,
}

impl Hints {
    /// No hints.
    pub fn new() -> Hints {
        Hints::default()
    }

    /// Adds `values` for fields named `name`.
    pub fn add(&mut self, name: &str, values: impl IntoIterator<Item = Value>) {
        let slot = self.by_name.entry(name.to_string()).or_default();
        for v in values {
            if !slot.contains(&v) {
                slot.push(v);
            }
        }
    }

    /// The values for fields named `name`.
    pub fn get(&self, name: &str) -> &[Value] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// How many names have hints.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there is no hint at all.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// How instances are generated.
#[derive(Clone, Debug, Default)]
pub struct GenOptions {
    /// Values mixed into valid instances where they fit.
    pub hints: Hints,
    /// Whether near-misses may break a `format` (for servers that assert formats; JSON Schema
    /// 2020-12 makes `format` an annotation unless a validator is told otherwise).
    pub break_formats: bool,
}

/// Why no strategy could be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// The schema is not a JSON Schema the validator compiles.
    #[error("the schema does not compile: {0}")]
    Compile(String),
    /// A construct the generator cannot satisfy (named).
    #[error("cannot generate valid instances: {0}")]
    Unsupported(String),
    /// No valid instance has a place a mutation applies to.
    #[error("no mutation applies to any valid instance (nothing is typed, bounded or required)")]
    NoMutation,
}

/// One step of a path into an instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array item.
    Index(usize),
}

/// Where in an instance something is: `statuses[0].name`, or `/statuses/0/name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// The top of the instance.
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    fn child(&self, seg: Seg) -> FieldPath {
        let mut v = self.0.clone();
        v.push(seg);
        FieldPath(v)
    }

    /// The path one step up (the root's parent is the root).
    pub fn parent(&self) -> FieldPath {
        let mut v = self.0.clone();
        v.pop();
        FieldPath(v)
    }

    /// The last member name, if the path ends in one.
    pub fn leaf(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// `statuses[0].name` (empty at the root): how servers usually name a field.
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// The JSON pointer (`/statuses/0/name`; empty at the root).
    pub fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|seg| match seg {
                Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => format!("/{i}"),
            })
            .collect()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(the arguments)")
        } else {
            f.write_str(&self.dotted())
        }
    }
}

/// The one change a near-miss makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// A value of a type the schema does not allow.
    WrongType,
    /// A required member removed.
    MissingRequired,
    /// A member added where `additionalProperties` is `false`.
    ExtraField,
    /// A value of an allowed type outside the `enum`.
    OutsideEnum,
    /// A string its `pattern` does not match.
    PatternBroken,
    /// A number, length or item count outside the bound named (`maximum`, `minLength`, ...).
    OutOfRange(&'static str),
    /// A string that is not of its `format`.
    FormatBroken(String),
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::WrongType => f.write_str("wrong type"),
            Mutation::MissingRequired => f.write_str("required field missing"),
            Mutation::ExtraField => f.write_str("unknown field added"),
            Mutation::OutsideEnum => f.write_str("value outside the enum"),
            Mutation::PatternBroken => f.write_str("pattern broken"),
            Mutation::OutOfRange(k) => write!(f, "out of range ({k})"),
            Mutation::FormatBroken(fmt) => write!(f, "not a valid {fmt}"),
        }
    }
}

/// A valid instance with exactly one [`Mutation`] at [`NearMiss::field`].
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    /// The instance.
    pub value: Value,
    /// The field the mutation broke (for a removed or added member: that member).
    pub field: FieldPath,
    /// What was done.
    pub mutation: Mutation,
}

impl NearMiss {
    /// Whether a validation error is the one this near-miss causes: at the field (for a
    /// missing or unexpected member: at its object, naming it).
    pub fn is_error_at(&self, e: &jsonschema::ValidationError<'_>) -> bool {
        use jsonschema::error::ValidationErrorKind as K;
        let at = e.instance_path().as_str();
        let leaf = self.field.leaf().unwrap_or("");
        match (&self.mutation, e.kind()) {
            (Mutation::MissingRequired, K::Required { property }) => {
                at == self.field.parent().pointer() && property.as_str() == Some(leaf)
            }
            (Mutation::ExtraField, K::AdditionalProperties { unexpected }) => {
                at == self.field.parent().pointer() && unexpected.iter().any(|u| u == leaf)
            }
            (Mutation::ExtraField, K::FalseSchema) => at == self.field.pointer(),
            (Mutation::MissingRequired | Mutation::ExtraField, _) => false,
            _ => at == self.field.pointer(),
        }
    }
}

impl fmt::Display for NearMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.mutation, self.field, self.value)
    }
}

struct Inner {
    /// The schema with local `$ref`s inlined.
    schema: Value,
    /// The root's `$schema`, carried into every compiled node.
    dialect: Option<Value>,
    validator: jsonschema::Validator,
    options: GenOptions,
}

/// Strategies for one schema. Cheap to clone.
#[derive(Clone)]
pub struct Generator {
    inner: Arc<Inner>,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator").field("schema", &self.inner.schema).finish()
    }
}

/// A compiled validator with formats asserted, as the valid instances must satisfy them.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

impl Generator {
    /// A generator for `schema` (a tool's `inputSchema`).
    pub fn new(schema: &Value, options: GenOptions) -> Result<Generator, GenError> {
        let validator = compile(schema).map_err(GenError::Compile)?;
        let inlined = inline_refs(schema, schema, 0);
        Ok(Generator {
            inner: Arc::new(Inner {
                dialect: schema.get("$schema").cloned(),
                schema: inlined,
                validator,
                options,
            }),
        })
    }

    /// The validator of the whole schema (formats asserted).
    pub fn validator(&self) -> &jsonschema::Validator {
        &self.inner.validator
    }

    /// Instances the schema accepts.
    pub fn valid(&self) -> Result<BoxedStrategy<Value>, GenError> {
        self.node(&self.inner.schema, None, 0).map_err(GenError::Unsupported)
    }

    /// Instances that break the schema in exactly one place.
    pub fn near_misses(&self) -> Result<BoxedStrategy<NearMiss>, GenError> {
        let valid = self.valid()?;
        // A schema with no place to mutate would make every draw a rejection.
        let mut runner = TestRunner::deterministic();
        let mutable = (0..32).any(|_| {
            valid.new_tree(&mut runner).is_ok_and(|t| {
                let mut sites = Vec::new();
                self.sites(&self.inner.schema, &t.current(), &FieldPath::root(), &mut sites);
                !sites.is_empty()
            })
        });
        if !mutable {
            return Err(GenError::NoMutation);
        }
        let me = self.clone();
        Ok((valid, any::<Index>(), any::<u64>())
            .prop_filter_map("a mutation applies", move |(v, index, seed)| me.mutate(&v, index, seed))
            .boxed())
    }

    fn compile_node(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        match (&self.inner.dialect, schema) {
            (Some(d), Value::Object(m)) if !m.contains_key("$schema") => {
                let mut with = m.clone();
                with.insert("$schema".into(), d.clone());
                compile(&Value::Object(with))
            }
            _ => compile(schema),
        }
    }

    // ----- valid instances ---------------------------------------------------------------------

    fn node(&self, schema: &Value, name: Option<&str>, depth: u32) -> Result<BoxedStrategy<Value>, String> {
        let obj = match schema {
            Value::Bool(true) => return Ok(any_json()),
            Value::Bool(false) => return Err("the schema `false` admits no value".into()),
            Value::Object(o) => o,
            other => return Err(format!("{other} is not a schema")),
        };
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if obj.contains_key(RECURSION_MARK) {
            return Err("a recursive $ref nested too deep".into());
        }
        if let Some(r) = obj.get("$ref") {
            return Err(format!("the $ref {r} is not a local reference"));
        }
        let generated = self.generated(schema, obj, name, depth)?;
        let hints = self.hint_values(schema, obj, name);
        Ok(if hints.is_empty() {
            generated
        } else {
            prop_oneof![3 => select(hints), 2 => generated].boxed()
        })
    }

    /// Values a user would give here (see [`Hints`]) that the node accepts.
    fn hint_values(&self, schema: &Value, obj: &Map<String, Value>, name: Option<&str>) -> Vec<Value> {
        let mut candidates: Vec<Value> = name
            .map(|n| self.inner.options.hints.get(n).to_vec())
            .unwrap_or_default();
        if let Some(Value::Array(examples)) = obj.get("examples") {
            candidates.extend(examples.iter().cloned());
        }
        if let Some(d) = obj.get("default") {
            candidates.push(d.clone());
        }
        if let Some(Value::String(text)) = obj.get("description") {
            candidates.extend(backticked(text));
        }
        if candidates.is_empty() {
            return candidates;
        }
        let Ok(v) = self.compile_node(schema) else {
            return Vec::new();
        };
        let mut out: Vec<Value> = Vec::new();
        for c in candidates {
            if v.is_valid(&c) && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    fn generated(
        &self,
        schema: &Value,
        obj: &Map<String, Value>,
        name: Option<&str>,
        depth: u32,
    ) -> Result<BoxedStrategy<Value>, String> {
        if let Some(c) = obj.get("const") {
            return if self.compile_node(schema).is_ok_and(|v| v.is_valid(c)) {
                Ok(Just(c.clone()).boxed())
            } else {
                Err(format!("the const {c} breaks the rest of its schema"))
            };
        }
        if let Some(Value::Array(options)) = obj.get("enum") {
            let v = self.compile_node(schema)?;
            let fitting: Vec<Value> = options.iter().filter(|o| v.is_valid(o)).cloned().collect();
            return if fitting.is_empty() {
                Err(format!(
                    "no value of the enum {} fits the rest of its schema",
                    Value::Array(options.clone())
                ))
            } else {
                Ok(select(fitting).boxed())
            };
        }
        let mut lossy = false;
        let strategy = if let Some(Value::Array(all)) = obj.get("allOf") {
            let mut merged = without(obj, &["allOf"]);
            for branch in all {
                merged = merge(&merged, branch, &mut lossy);
            }
            self.node(&Value::Object(merged), name, depth + 1)?
        } else if let Some(Value::Array(branches)) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
            let base = without(obj, &["anyOf", "oneOf"]);
            let mut made = Vec::new();
            let mut why = Vec::new();
            for branch in branches {
                match self.node(&Value::Object(merge(&base, branch, &mut lossy)), name, depth + 1) {
                    Ok(s) => made.push(s),
                    Err(e) => why.push(e),
                }
            }
            if made.is_empty() {
                return Err(format!("no branch can be generated: {}", why.join("; ")));
            }
            proptest::strategy::Union::new(made).boxed()
        } else {
            self.typed(obj, name, depth)?
        };
        let filter = lossy
            || obj.contains_key("oneOf")
            || [
                "not",
                "if",
                "uniqueItems",
                "contains",
                "dependentRequired",
                "dependentSchemas",
                "minProperties",
                "maxProperties",
                "propertyNames",
                "patternProperties",
                "unevaluatedProperties",
                "unevaluatedItems",
            ]
            .iter()
            .any(|k| obj.contains_key(*k) && obj.get(*k) != Some(&Value::Bool(false)));
        if !filter {
            return Ok(strategy);
        }
        let v = Arc::new(self.compile_node(schema)?);
        Ok(strategy
            .prop_filter("fits the node's own validator", move |x| v.is_valid(x))
            .boxed())
    }

    /// A union over the node's types (declared, or inferred from its keywords).
    fn typed(&self, obj: &Map<String, Value>, name: Option<&str>, depth: u32) -> Result<BoxedStrategy<Value>, String> {
        let types = declared_types(obj).unwrap_or_else(|| inferred_types(obj));
        if types.is_empty() {
            return Ok(any_json());
        }
        let mut made = Vec::new();
        let mut why = Vec::new();
        for t in &types {
            let s = match t.as_str() {
                "null" => Ok(Just(Value::Null).boxed()),
                "boolean" => Ok(any::<bool>().prop_map(Value::Bool).boxed()),
                "integer" => integer(obj),
                "number" if !types.contains("integer") => number(obj),
                "number" => continue,
                "string" => self.string(obj),
                "array" => self.array(obj, name, depth),
                "object" => self.object(obj, depth),
                other => Err(format!("unknown type `{other}`")),
            };
            match s {
                Ok(s) => made.push(s),
                Err(e) => why.push(format!("{t}: {e}")),
            }
        }
        if made.is_empty() {
            return Err(why.join("; "));
        }
        Ok(proptest::strategy::Union::new(made).boxed())
    }

    fn string(&self, obj: &Map<String, Value>) -> Result<BoxedStrategy<Value>, String> {
        let min = uint(obj, "minLength").unwrap_or(0);
        let max = uint(obj, "maxLength");
        if max.is_some_and(|m| m < min) {
            return Err(format!("minLength {min} is above maxLength"));
        }
        let pattern = obj.get("pattern").and_then(Value::as_str);
        let formatted = obj.get("format").and_then(Value::as_str).and_then(format_strategy);
        let checked = formatted.is_some() || pattern.is_some();
        let rules = string_rules(obj);
        let base: BoxedStrategy<String> = match (formatted, pattern) {
            (Some(f), _) => f,
            (None, Some(p)) => match pattern::strategy(p) {
                Ok(s) => s,
                // No generator takes this pattern: candidate strings filtered by it, when a
                // sample shows that some get through.
                Err(e) => {
                    let fallback = free_text(min, max);
                    if !self.some_fit(&fallback, &rules)? {
                        return Err(e.to_string());
                    }
                    fallback
                }
            },
            (None, None) => free_text(min, max),
        };
        if !checked {
            return Ok(base.prop_map(Value::String).boxed());
        }
        if !self.some_fit(&base, &rules)? {
            return Err(format!(
                "no generated string fits {}",
                Value::Object(rules.as_object().cloned().unwrap_or_default())
            ));
        }
        let v = Arc::new(self.compile_node(&rules)?);
        Ok(base
            .prop_map(Value::String)
            .prop_filter("fits the string's length, pattern and format", move |x| v.is_valid(x))
            .boxed())
    }

    /// Whether any of 128 samples of `strings` fits the string rules `rules`.
    fn some_fit(&self, strings: &BoxedStrategy<String>, rules: &Value) -> Result<bool, String> {
        let v = self.compile_node(rules)?;
        let mut runner = TestRunner::deterministic();
        Ok((0..128).any(|_| {
            strings
                .new_tree(&mut runner)
                .is_ok_and(|t| v.is_valid(&Value::String(t.current())))
        }))
    }

    fn array(&self, obj: &Map<String, Value>, name: Option<&str>, depth: u32) -> Result<BoxedStrategy<Value>, String> {
        let min = uint(obj, "minItems").unwrap_or(0);
        let declared_max = uint(obj, "maxItems");
        if declared_max.is_some_and(|m| m < min) {
            return Err(format!("minItems {min} is above maxItems"));
        }
        let max = declared_max.unwrap_or(u64::MAX).min(min + EXTRA_ITEMS);
        // `prefixItems` (2020-12) or an array under `items` (older drafts) fix the first items.
        let (prefix, rest): (Vec<Value>, Value) = match (obj.get("prefixItems"), obj.get("items")) {
            (Some(Value::Array(p)), items) => (p.clone(), items.cloned().unwrap_or(Value::Bool(true))),
            (None, Some(Value::Array(p))) => (
                p.clone(),
                obj.get("additionalItems").cloned().unwrap_or(Value::Bool(true)),
            ),
            (_, items) => (Vec::new(), items.cloned().unwrap_or(Value::Bool(true))),
        };
        let rest_strategy = match &rest {
            Value::Bool(false) => None,
            schema => Some(self.node(schema, name, depth + 1)?),
        };
        let max = match &rest_strategy {
            Some(_) => max,
            None => max.min(prefix.len() as u64),
        };
        if min > max {
            return Err(format!("{min} items are needed but only {max} can be made"));
        }
        let mut prefix_strategies = Vec::new();
        for p in &prefix {
            prefix_strategies.push(self.node(p, name, depth + 1)?);
        }
        let lengths = (min as usize)..=(max as usize);
        let Some(rest_strategy) = rest_strategy else {
            return Ok((prefix_strategies, lengths)
                .prop_map(|(p, n)| Value::Array(p.into_iter().take(n).collect()))
                .boxed());
        };
        if prefix_strategies.is_empty() {
            return Ok(proptest::collection::vec(rest_strategy, lengths)
                .prop_map(Value::Array)
                .boxed());
        }
        let rest_len = (max as usize).saturating_sub(prefix.len());
        Ok((
            prefix_strategies,
            proptest::collection::vec(rest_strategy, rest_len..=rest_len),
            lengths,
        )
            .prop_map(|(p, r, n)| Value::Array(p.into_iter().chain(r).take(n).collect()))
            .boxed())
    }

    fn object(&self, obj: &Map<String, Value>, depth: u32) -> Result<BoxedStrategy<Value>, String> {
        let empty = Map::new();
        let props = obj.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let required: BTreeSet<String> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let additional = obj.get("additionalProperties");
        let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
        for (k, sub) in props {
            let key = k.clone();
            match self.node(sub, Some(k), depth + 1) {
                Ok(s) if required.contains(k) => fields.push(s.prop_map(move |v| Some((key.clone(), v))).boxed()),
                Ok(s) => fields.push(
                    proptest::option::weighted(0.6, s)
                        .prop_map(move |o| o.map(|v| (key.clone(), v)))
                        .boxed(),
                ),
                Err(e) if required.contains(k) => return Err(format!("required `{k}`: {e}")),
                // An optional field that cannot be generated is left out.
                Err(_) => {}
            }
        }
        for k in required.iter().filter(|k| !props.contains_key(*k)) {
            let key = k.clone();
            let s = match additional {
                Some(Value::Bool(false)) => {
                    return Err(format!(
                        "`{k}` is required but not a property, and additionalProperties is false"
                    ));
                }
                Some(schema @ Value::Object(_)) => self.node(schema, Some(k), depth + 1)?,
                _ => any_json(),
            };
            fields.push(s.prop_map(move |v| Some((key.clone(), v))).boxed());
        }
        let declared: BTreeSet<String> = props.keys().chain(required.iter()).cloned().collect();
        let extras: BoxedStrategy<Vec<(String, Value)>> = match additional {
            Some(schema @ Value::Object(_)) => {
                let values = self.node(schema, None, depth + 1)?;
                let taken = declared.clone();
                proptest::collection::vec(
                    (
                        "[a-z][a-z_]{0,11}".prop_filter("not a declared property", move |k| !taken.contains(k)),
                        values,
                    ),
                    0..=2,
                )
                .boxed()
            }
            Some(Value::Bool(true)) | None if declared.is_empty() => {
                proptest::collection::vec(("[a-z][a-z_]{0,11}", any_json()), 0..=3).boxed()
            }
            _ => Just(Vec::new()).boxed(),
        };
        Ok((fields, extras)
            .prop_map(|(fields, extras)| {
                let mut m = Map::new();
                for (k, v) in fields.into_iter().flatten() {
                    m.insert(k, v);
                }
                for (k, v) in extras {
                    m.entry(k).or_insert(v);
                }
                Value::Object(m)
            })
            .boxed())
    }

    // ----- near-misses -------------------------------------------------------------------------

    /// The places of `value` (valid for `schema`) a mutation applies to, with their schemas.
    fn sites(&self, schema: &Value, value: &Value, path: &FieldPath, out: &mut Vec<(FieldPath, Mutation, Value)>) {
        let Value::Object(s) = schema else { return };
        if s.contains_key(RECURSION_MARK) {
            return;
        }
        let site =
            |out: &mut Vec<(FieldPath, Mutation, Value)>, m: Mutation| out.push((path.clone(), m, schema.clone()));
        let types = declared_types(s).or_else(|| composite_types(s));
        if !path.0.is_empty() && types.as_ref().is_some_and(|t| !wrong_types(t).is_empty()) {
            site(out, Mutation::WrongType);
        }
        // Keywords beside `anyOf` and the like are followed as well: whatever they suggest is
        // kept only when the validator confirms it (`mutate`).
        if s.get("enum").is_some_and(Value::is_array) {
            site(out, Mutation::OutsideEnum);
        }
        match value {
            Value::String(_) => {
                if s.get("pattern").is_some_and(Value::is_string) {
                    site(out, Mutation::PatternBroken);
                }
                if uint(s, "minLength").is_some_and(|n| n > 0) {
                    site(out, Mutation::OutOfRange("minLength"));
                }
                if uint(s, "maxLength").is_some() {
                    site(out, Mutation::OutOfRange("maxLength"));
                }
                if let Some(f) = s.get("format").and_then(Value::as_str)
                    && self.inner.options.break_formats
                    && !broken_formats(f).is_empty()
                {
                    site(out, Mutation::FormatBroken(f.to_string()));
                }
            }
            Value::Number(_) => {
                for kw in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                    if s.get(kw).is_some_and(Value::is_number) {
                        site(out, Mutation::OutOfRange(kw));
                    }
                }
            }
            Value::Array(items) => {
                if uint(s, "minItems").is_some_and(|n| n > 0) {
                    site(out, Mutation::OutOfRange("minItems"));
                }
                if uint(s, "maxItems").is_some() && !items.is_empty() {
                    site(out, Mutation::OutOfRange("maxItems"));
                }
                let prefix = s.get("prefixItems").and_then(Value::as_array);
                for (i, item) in items.iter().enumerate() {
                    let sub = match (prefix.and_then(|p| p.get(i)), s.get("items")) {
                        (Some(p), _) => p,
                        (None, Some(Value::Array(tuple))) => match tuple.get(i) {
                            Some(t) => t,
                            None => continue,
                        },
                        (None, Some(items)) => items,
                        (None, None) => continue,
                    };
                    self.sites(sub, item, &path.child(Seg::Index(i)), out);
                }
            }
            Value::Object(m) => {
                let required = s.get("required").and_then(Value::as_array);
                for k in required.into_iter().flatten().filter_map(Value::as_str) {
                    if m.contains_key(k) {
                        out.push((
                            path.child(Seg::Key(k.to_string())),
                            Mutation::MissingRequired,
                            Value::Null,
                        ));
                    }
                }
                if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                    let key = unused_key(m, s);
                    out.push((path.child(Seg::Key(key)), Mutation::ExtraField, Value::Null));
                }
                let props = s.get("properties").and_then(Value::as_object);
                for (k, v) in m {
                    let sub = match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(p), _) => p,
                        (None, Some(ap @ Value::Object(_))) => ap,
                        _ => continue,
                    };
                    let first = out.len();
                    let member = path.child(Seg::Key(k.clone()));
                    self.sites(sub, v, &member, out);
                    let optional = !required.into_iter().flatten().any(|r| r.as_str() == Some(k.as_str()));
                    if optional {
                        for (at, mutation, site) in &mut out[first..] {
                            if *at == member
                                && matches!(mutation, Mutation::WrongType)
                                && let Value::Object(site) = site
                            {
                                site.insert(NULL_IS_ABSENT.to_string(), Value::Bool(true));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// One near-miss of `valid`: the site `index` picks (or the next one that works), its
    /// replacement chosen by `seed`; confirmed by the validator.
    fn mutate(&self, valid: &Value, index: Index, seed: u64) -> Option<NearMiss> {
        let mut sites = Vec::new();
        self.sites(&self.inner.schema, valid, &FieldPath::root(), &mut sites);
        if sites.is_empty() {
            return None;
        }
        let start = index.index(sites.len());
        for k in 0..sites.len() {
            let (field, mutation, schema) = &sites[(start + k) % sites.len()];
            for value in self.mutated(valid, field, mutation, schema, seed) {
                let near = NearMiss {
                    value,
                    field: field.clone(),
                    mutation: mutation.clone(),
                };
                if self.confirms(&near) {
                    return Some(near);
                }
            }
        }
        None
    }

    /// Whether the validator refuses `near` at its field and nowhere else.
    fn confirms(&self, near: &NearMiss) -> bool {
        let errors: Vec<_> = self.inner.validator.iter_errors(&near.value).collect();
        !errors.is_empty() && errors.iter().all(|e| near.is_error_at(e))
    }

    /// Candidate instances: `valid` with `mutation` applied at `field`.
    fn mutated(&self, valid: &Value, field: &FieldPath, mutation: &Mutation, schema: &Value, seed: u64) -> Vec<Value> {
        match mutation {
            Mutation::MissingRequired => {
                let mut v = valid.clone();
                let leaf = field.leaf().unwrap_or_default().to_string();
                match v.pointer_mut(&field.parent().pointer()).and_then(Value::as_object_mut) {
                    Some(parent) => {
                        parent.remove(&leaf);
                        vec![v]
                    }
                    None => Vec::new(),
                }
            }
            Mutation::ExtraField => {
                let mut v = valid.clone();
                let leaf = field.leaf().unwrap_or_default().to_string();
                match v.pointer_mut(&field.parent().pointer()).and_then(Value::as_object_mut) {
                    Some(parent) => {
                        parent.insert(leaf, json!("unexpected"));
                        vec![v]
                    }
                    None => Vec::new(),
                }
            }
            _ => {
                let Some(current) = valid.pointer(&field.pointer()) else {
                    return Vec::new();
                };
                let Value::Object(s) = schema else { return Vec::new() };
                let mut candidates = replacements(s, current, mutation);
                if !candidates.is_empty() {
                    let turn = (seed % candidates.len() as u64) as usize;
                    candidates.rotate_left(turn);
                }
                candidates
                    .into_iter()
                    .filter_map(|r| {
                        let mut v = valid.clone();
                        *v.pointer_mut(&field.pointer())? = r;
                        Some(v)
                    })
                    .collect()
            }
        }
    }
}

/// Replacement values for a value of `schema` that break it the way `mutation` says.
fn replacements(s: &Map<String, Value>, current: &Value, mutation: &Mutation) -> Vec<Value> {
    match mutation {
        Mutation::WrongType => {
            let types = declared_types(s).or_else(|| composite_types(s)).unwrap_or_default();
            let mut wrong = wrong_types(&types);
            if s.contains_key(NULL_IS_ABSENT) {
                wrong.retain(|v| !v.is_null());
            }
            wrong
        }
        Mutation::OutsideEnum => {
            let options = s.get("enum").and_then(Value::as_array).cloned().unwrap_or_default();
            let types = declared_types(s).unwrap_or_else(|| options.iter().map(|o| type_name(o).to_string()).collect());
            let mut out = Vec::new();
            if types.contains("string") {
                let first = options.iter().find_map(Value::as_str).unwrap_or("value");
                out.push(json!("NotInTheEnum"));
                out.push(json!(first.to_lowercase()));
                out.push(json!(format!("{first}_x")));
            }
            if types.contains("integer") || types.contains("number") {
                let top = options.iter().filter_map(Value::as_f64).fold(0.0_f64, f64::max);
                out.push(int_value(top as i128 + 1));
            }
            if types.contains("boolean") {
                out.extend([json!(true), json!(false)]);
            }
            out.retain(|o| !options.contains(o));
            out
        }
        Mutation::PatternBroken => {
            let c = current.as_str().unwrap_or_default();
            vec![
                json!(format!("{c}!")),
                json!(format!("!{c}")),
                json!(format!(" {c}")),
                json!(""),
                json!("\u{0}"),
                json!(c.chars().rev().collect::<String>()),
                json!("~~~"),
            ]
        }
        Mutation::OutOfRange(kw) => out_of_range(s, current, kw),
        Mutation::FormatBroken(f) => broken_formats(f).into_iter().map(Value::from).collect(),
        Mutation::MissingRequired | Mutation::ExtraField => Vec::new(),
    }
}

fn out_of_range(s: &Map<String, Value>, current: &Value, kw: &str) -> Vec<Value> {
    let bound = s.get(kw).and_then(Value::as_f64);
    let number = |x: f64| -> Value {
        if x.fract() == 0.0 && x.abs() < 9.0e15 {
            int_value(x as i128)
        } else {
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    };
    match (kw, bound) {
        ("minimum", Some(m)) => vec![number(m.floor() - 1.0), number(m - 1000.0)],
        ("maximum", Some(m)) => vec![number(m.ceil() + 1.0), number(m + 1000.0)],
        ("exclusiveMinimum", Some(e)) => vec![number(e), number(e.floor() - 1.0)],
        ("exclusiveMaximum", Some(e)) => vec![number(e), number(e.ceil() + 1.0)],
        ("minLength", Some(n)) => {
            let c = current.as_str().unwrap_or_default();
            vec![json!(
                c.chars().take((n as usize).saturating_sub(1)).collect::<String>()
            )]
        }
        ("maxLength", Some(n)) => {
            let c = current.as_str().unwrap_or_default();
            let mut long: String = c.chars().collect();
            while long.chars().count() <= n as usize {
                long.push('x');
            }
            vec![json!(long)]
        }
        ("minItems", Some(n)) => match current {
            Value::Array(a) => vec![Value::Array(
                a.iter().take((n as usize).saturating_sub(1)).cloned().collect(),
            )],
            _ => Vec::new(),
        },
        ("maxItems", Some(n)) => match current {
            Value::Array(a) if !a.is_empty() => {
                let mut long = a.clone();
                while long.len() <= n as usize {
                    long.push(a[long.len() % a.len()].clone());
                }
                vec![Value::Array(long)]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Strings that are not of `format` (empty: a format not broken on purpose).
fn broken_formats(format: &str) -> Vec<&'static str> {
    match format {
        "uuid" => vec![
            "not-a-uuid",
            "00000000-0000-4000-8000-00000000000g",
            "00000000000040008000000000000001",
        ],
        "date" => vec!["2026-02-30", "2026-13-01", "01/02/2026", "yesterday"],
        "date-time" => vec!["2026-04-01 12:00", "2026-04-01T25:00:00Z", "2026-04-01", "now"],
        "time" => vec!["25:00:00Z", "noon"],
        "email" => vec!["no-at-sign.example", "a@", "@example.com"],
        "ipv4" => vec!["256.1.1.1", "1.2.3"],
        "ipv6" => vec!["2001:db8:::1", "not-an-ip"],
        "hostname" => vec!["-bad-.example", "a..b"],
        "uri" => vec!["not a uri", "://x"],
        _ => Vec::new(),
    }
}

/// Values of every JSON type `types` does not allow (`integer` counts as `number`).
fn wrong_types(types: &BTreeSet<String>) -> Vec<Value> {
    let allows = |t: &str| types.contains(t) || (t == "integer" && types.contains("number"));
    [
        ("string", json!("wrong type")),
        ("integer", json!(7)),
        ("number", json!(0.5)),
        ("boolean", json!(true)),
        ("null", Value::Null),
        ("array", json!([])),
        ("object", json!({})),
    ]
    .into_iter()
    .filter(|(t, _)| !allows(t))
    .map(|(_, v)| v)
    .collect()
}

/// A member name `m` lacks and `s` does not declare.
fn unused_key(m: &Map<String, Value>, s: &Map<String, Value>) -> String {
    let declared = s.get("properties").and_then(Value::as_object);
    (1..)
        .map(|i| {
            if i == 1 {
                "unexpected_field".to_string()
            } else {
                format!("unexpected_field_{i}")
            }
        })
        .find(|k| !m.contains_key(k) && !declared.is_some_and(|d| d.contains_key(k)))
        .unwrap_or_default()
}

// ----- schema helpers ----------------------------------------------------------------------------

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The `type` keyword as a set.
fn declared_types(s: &Map<String, Value>) -> Option<BTreeSet<String>> {
    match s.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.clone()])),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).map(str::to_string).collect()),
        _ => None,
    }
}

/// The types an `anyOf`/`oneOf` admits, when every branch declares its types.
fn composite_types(s: &Map<String, Value>) -> Option<BTreeSet<String>> {
    let branches = s.get("anyOf").or_else(|| s.get("oneOf"))?.as_array()?;
    let mut all = BTreeSet::new();
    for b in branches {
        all.extend(declared_types(b.as_object()?)?);
    }
    Some(all)
}

/// The types a node without `type` constrains through its keywords (empty: any value).
fn inferred_types(s: &Map<String, Value>) -> BTreeSet<String> {
    let has = |keys: &[&str]| keys.iter().any(|k| s.contains_key(*k));
    let mut out = BTreeSet::new();
    if has(&["pattern", "minLength", "maxLength", "format"]) {
        out.insert("string".to_string());
    }
    if has(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        out.insert("number".to_string());
    }
    if has(&[
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
    ]) {
        out.insert("array".to_string());
    }
    if has(&[
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
    ]) {
        out.insert("object".to_string());
    }
    out
}

fn uint(s: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = s.get(key)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
}

/// The node's string keywords alone, for checking generated strings.
fn string_rules(s: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("string"));
    for k in ["minLength", "maxLength", "pattern", "format"] {
        if let Some(v) = s.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

fn without(s: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    s.iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `base` and `branch` as one schema (both must hold); `lossy` is set where the merge cannot
/// express both (the caller then filters by the original node).
fn merge(base: &Map<String, Value>, branch: &Value, lossy: &mut bool) -> Map<String, Value> {
    let b = match branch {
        Value::Object(b) => b,
        Value::Bool(true) => return base.clone(),
        _ => {
            *lossy = true;
            return base.clone();
        }
    };
    let mut out = base.clone();
    for (k, v) in b {
        let Some(existing) = out.get(k).cloned() else {
            out.insert(k.clone(), v.clone());
            continue;
        };
        if existing == *v {
            continue;
        }
        let merged = match k.as_str() {
            "type" => {
                let a = declared_types(&out).unwrap_or_default();
                let c = declared_types(b).unwrap_or_default();
                let mut both: Vec<String> = a
                    .iter()
                    .filter(|t| c.contains(*t) || (t.as_str() == "integer" && c.contains("number")))
                    .cloned()
                    .collect();
                if a.contains("number") && c.contains("integer") && !both.iter().any(|t| t == "integer") {
                    both.push("integer".into());
                }
                if both.is_empty() {
                    *lossy = true;
                    v.clone()
                } else {
                    json!(both)
                }
            }
            "required" => {
                let mut all: Vec<Value> = existing.as_array().cloned().unwrap_or_default();
                for r in v.as_array().into_iter().flatten() {
                    if !all.contains(r) {
                        all.push(r.clone());
                    }
                }
                Value::Array(all)
            }
            "properties" => {
                let mut props = existing.as_object().cloned().unwrap_or_default();
                for (name, sub) in v.as_object().into_iter().flatten() {
                    let both = match props.get(name) {
                        Some(old) if old != sub => json!({"allOf": [old, sub]}),
                        _ => sub.clone(),
                    };
                    props.insert(name.clone(), both);
                }
                Value::Object(props)
            }
            "minimum" | "exclusiveMinimum" | "minLength" | "minItems" | "minProperties" => {
                match (existing.as_f64(), v.as_f64()) {
                    (Some(x), Some(y)) if x >= y => existing,
                    _ => v.clone(),
                }
            }
            "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" | "maxProperties" => {
                match (existing.as_f64(), v.as_f64()) {
                    (Some(x), Some(y)) if x <= y => existing,
                    _ => v.clone(),
                }
            }
            "enum" => {
                let theirs = v.as_array().cloned().unwrap_or_default();
                Value::Array(
                    existing
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|x| theirs.contains(x))
                        .cloned()
                        .collect(),
                )
            }
            "description" | "title" | "examples" | "default" | "$comment" => existing,
            "additionalProperties" if existing == Value::Bool(false) || *v == Value::Bool(false) => Value::Bool(false),
            _ => {
                *lossy = true;
                v.clone()
            }
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// `node` with every local `$ref` (`#/...`) replaced by what it points at in `root`; a ref
/// nested deeper than [`MAX_REF_DEPTH`] becomes the recursion marker.
fn inline_refs(node: &Value, root: &Value, depth: u32) -> Value {
    match node {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(pointer) = r.strip_prefix('#')
            {
                if depth >= MAX_REF_DEPTH {
                    return json!({RECURSION_MARK: true});
                }
                let Some(target) = root.pointer(&percent_decode(pointer)) else {
                    return node.clone();
                };
                let inlined = inline_refs(target, root, depth + 1);
                let siblings: Map<String, Value> = m
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "$ref" | "$defs" | "definitions" | "$comment"))
                    .map(|(k, v)| (k.clone(), inline_refs(v, root, depth)))
                    .collect();
                if siblings.is_empty() {
                    return inlined;
                }
                return json!({"allOf": [inlined, Value::Object(siblings)]});
            }
            Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let v = if matches!(k.as_str(), "$defs" | "definitions") {
                            v.clone()
                        } else {
                            inline_refs(v, root, depth)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline_refs(v, root, depth)).collect()),
        other => other.clone(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The backticked spans of a description, as JSON where they parse (`null`, `1.5`), else as
/// strings (`WEB-42`).
fn backticked(text: &str) -> Vec<Value> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .map(|s| serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.to_string())))
        .collect()
}

// ----- primitive strategies ----------------------------------------------------------------------

/// A JSON number holding `i` (an `i64` when it fits, else a `u64`, else clamped).
fn int_value(i: i128) -> Value {
    if let Ok(v) = i64::try_from(i) {
        Value::from(v)
    } else if let Ok(v) = u64::try_from(i) {
        Value::from(v)
    } else if i < 0 {
        Value::from(i64::MIN)
    } else {
        Value::from(u64::MAX)
    }
}

/// The range an integer `format` of schemars implies.
fn integer_format_bounds(s: &Map<String, Value>) -> Option<(i128, i128)> {
    Some(match s.get("format")?.as_str()? {
        "uint8" => (0, i128::from(u8::MAX)),
        "uint16" => (0, i128::from(u16::MAX)),
        "uint32" | "uint" => (0, i128::from(u32::MAX)),
        "uint64" => (0, i128::from(u64::MAX)),
        "int8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "int16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "int32" | "int" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "int64" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => return None,
    })
}

/// The numeric `exclusiveMinimum`/`exclusiveMaximum` of 2019-09 and later (the draft-4
/// boolean form is read beside `minimum`/`maximum`).
fn exclusive(s: &Map<String, Value>, kw: &str) -> Option<f64> {
    s.get(kw).filter(|v| v.is_number()).and_then(Value::as_f64)
}

fn integer(s: &Map<String, Value>) -> Result<BoxedStrategy<Value>, String> {
    let (mut lo, mut hi) = (i128::from(i64::MIN), i128::from(u64::MAX));
    if let Some((a, b)) = integer_format_bounds(s) {
        lo = lo.max(a);
        hi = hi.min(b);
    }
    let exclusive_draft4 = |k: &str| s.get(k) == Some(&Value::Bool(true));
    if let Some(m) = s.get("minimum").and_then(Value::as_f64) {
        let m = m.ceil().clamp(-1.0e30, 1.0e30) as i128;
        lo = lo.max(if exclusive_draft4("exclusiveMinimum") { m + 1 } else { m });
    }
    if let Some(e) = exclusive(s, "exclusiveMinimum") {
        lo = lo.max(e.floor().clamp(-1.0e30, 1.0e30) as i128 + 1);
    }
    if let Some(m) = s.get("maximum").and_then(Value::as_f64) {
        let m = m.floor().clamp(-1.0e30, 1.0e30) as i128;
        hi = hi.min(if exclusive_draft4("exclusiveMaximum") { m - 1 } else { m });
    }
    if let Some(e) = exclusive(s, "exclusiveMaximum") {
        hi = hi.min(e.ceil().clamp(-1.0e30, 1.0e30) as i128 - 1);
    }
    let step = match s.get("multipleOf").and_then(Value::as_f64) {
        None => 1,
        Some(m) if m >= 1.0 && m.fract() == 0.0 && m < 1.0e15 => m as i128,
        Some(m) => return Err(format!("multipleOf {m} for an integer")),
    };
    let (klo, khi) = (div_ceil(lo, step), div_floor(hi, step));
    if klo > khi {
        return Err(format!("no integer lies in {lo}..={hi} (multiple of {step})"));
    }
    let window = (klo.max(-1000).min(khi), khi.min(1000).max(klo));
    let clamp = |x: i128| x.clamp(klo, khi);
    let mut edges = vec![klo, khi, clamp(klo + 1), clamp(khi - 1), clamp(0), clamp(1), clamp(-1)];
    edges.dedup();
    let ks = prop_oneof![
        4 => window.0..=window.1,
        2 => klo..=khi,
        2 => select(edges),
    ];
    Ok((ks, 0u8..10)
        .prop_map(move |(k, form)| {
            let i = k * step;
            // JSON Schema counts 5.0 as an integer: a tenth of the values are written so.
            if form == 0 && i.abs() < (1 << 53) {
                json!(i as f64)
            } else {
                int_value(i)
            }
        })
        .boxed())
}

fn div_floor(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}

fn div_ceil(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

fn number(s: &Map<String, Value>) -> Result<BoxedStrategy<Value>, String> {
    let exclusive_draft4 = |k: &str| s.get(k) == Some(&Value::Bool(true));
    let mut lows = Vec::new();
    let mut highs = Vec::new();
    if let Some(m) = s.get("minimum").and_then(Value::as_f64) {
        lows.push(if exclusive_draft4("exclusiveMinimum") {
            m.next_up()
        } else {
            m
        });
    }
    if let Some(e) = exclusive(s, "exclusiveMinimum") {
        lows.push(e.next_up());
    }
    if let Some(m) = s.get("maximum").and_then(Value::as_f64) {
        highs.push(if exclusive_draft4("exclusiveMaximum") {
            m.next_down()
        } else {
            m
        });
    }
    if let Some(e) = exclusive(s, "exclusiveMaximum") {
        highs.push(e.next_down());
    }
    let lo_given = lows.into_iter().reduce(f64::max);
    let hi_given = highs.into_iter().reduce(f64::min);
    // An open side reaches a billion past the other side (or zero).
    let lo = lo_given.unwrap_or_else(|| hi_given.unwrap_or(0.0).min(0.0) - 1.0e9);
    let hi = hi_given.unwrap_or_else(|| lo_given.unwrap_or(0.0).max(0.0) + 1.0e9);
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return Err(format!("no number lies in {lo}..={hi}"));
    }
    let values: BoxedStrategy<f64> = match s.get("multipleOf").and_then(Value::as_f64) {
        Some(m) if m > 0.0 => {
            let (klo, khi) = ((lo / m).ceil(), (hi / m).floor());
            if klo > khi || klo.abs() > 1.0e15 || khi.abs() > 1.0e15 {
                return Err(format!("no multiple of {m} in {lo}..={hi} can be made"));
            }
            ((klo as i64)..=(khi as i64)).prop_map(move |k| k as f64 * m).boxed()
        }
        Some(m) => return Err(format!("multipleOf {m}")),
        None => {
            let clamp = move |x: f64| x.clamp(lo, hi);
            let edges = vec![lo, hi, clamp(0.0), clamp(1.0), clamp(0.5), clamp(-1.5)];
            let small = (clamp(-1000.0), clamp(1000.0));
            prop_oneof![
                3 => small.0..=small.1,
                2 => lo..=hi,
                1 => select(edges),
                1 => (small.0.ceil() as i64..=small.1.floor().max(small.0.ceil()) as i64)
                    .prop_map(|i| i as f64)
                    .prop_filter("within the bounds", move |x| *x >= lo && *x <= hi),
            ]
            .boxed()
        }
    };
    Ok(values
        .prop_filter_map("a finite number", |x| Number::from_f64(x).map(Value::Number))
        .boxed())
}

/// Text of `min` to `max` characters (at most [`EXTRA_CHARS`] beyond `min`): mostly printable
/// ASCII, some letters beyond it, some characters that need escaping.
fn free_text(min: u64, max: Option<u64>) -> BoxedStrategy<String> {
    let max = max.unwrap_or(u64::MAX).min(min + EXTRA_CHARS);
    let chars = prop_oneof![
        12 => (0x20u8..0x7f).prop_map(char::from),
        1 => select(vec!['é', 'ß', 'Ω', '漢', '字', '🙂', '\u{301}', '\u{a0}']),
        1 => select(vec!['\n', '\t', '"', '\\', '\u{0}', '\u{7f}', '\u{2028}']),
    ];
    proptest::collection::vec(chars, (min as usize)..=(max as usize))
        .prop_map(|cs| cs.into_iter().collect())
        .boxed()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn date() -> BoxedStrategy<String> {
    (1970u32..=2100, 1u32..=12, 0u32..31)
        .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{:02}", 1 + d % days_in_month(y, m)))
        .boxed()
}

/// Strings of a `format` (`None`: a format generated as plain text).
/// `n` written as a uuid (8-4-4-4-12 lowercase hex digits).
pub fn uuid_of(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn format_strategy(format: &str) -> Option<BoxedStrategy<String>> {
    let regex = |r: &str| proptest::string::string_regex(r).ok().map(|s| s.boxed());
    Some(match format {
        "uuid" => any::<[u8; 16]>().prop_map(|b| uuid_of(u128::from_be_bytes(b))).boxed(),
        "date" => date(),
        "date-time" => (
            date(),
            0u32..24,
            0u32..60,
            0u32..60,
            proptest::option::of(0u32..1000),
            select(vec!["Z", "+00:00", "+02:00", "-05:30"]),
        )
            .prop_map(|(d, h, mi, s, ms, tz)| match ms {
                Some(ms) => format!("{d}T{h:02}:{mi:02}:{s:02}.{ms:03}{tz}"),
                None => format!("{d}T{h:02}:{mi:02}:{s:02}{tz}"),
            })
            .boxed(),
        "time" => (0u32..24, 0u32..60, 0u32..60)
            .prop_map(|(h, m, s)| format!("{h:02}:{m:02}:{s:02}Z"))
            .boxed(),
        "email" => regex("[a-z][a-z0-9]{0,10}(\\.[a-z0-9]{1,5})?@[a-z][a-z0-9]{0,10}\\.(com|org|test|example)")?,
        "uri" => regex("https://example\\.(com|org)/[a-z0-9]{0,10}")?,
        "hostname" => regex("[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,10}){0,2}")?,
        "ipv4" => any::<[u8; 4]>()
            .prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
            .boxed(),
        "ipv6" => select(vec!["2001:db8::1", "::1", "fe80::1:2:3:4", "2001:db8:0:0:0:0:2:1"])
            .prop_map(str::to_string)
            .boxed(),
        _ => return None,
    })
}

/// Any small JSON value.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "[a-z ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRunner};
    use std::collections::BTreeMap;

    /// The input schemas of alloy-mcp's 71 tools, from their committed snapshots.
    fn alloy_schemas() -> Vec<(String, Value)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/expected/schemas");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the schemas folder") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let Some(tool) = name.strip_prefix("tool_schema@").and_then(|n| n.strip_suffix(".snap")) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("readable");
            let body = text.splitn(3, "---\n").nth(2).expect("an insta snapshot");
            let v: Value = serde_json::from_str(body).expect("JSON");
            out.push((tool.to_string(), v["inputSchema"].clone()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(out.len() >= 70, "the tool schemas are there: {}", out.len());
        out
    }

    fn draw<T: fmt::Debug>(strategy: &BoxedStrategy<T>, runner: &mut TestRunner) -> T {
        strategy.new_tree(runner).expect("a value").current()
    }

    fn runner() -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
        )
    }

    /// An independent validator (formats asserted, as alloy-mcp asserts them).
    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .expect("compiles")
    }

    fn check_valid(name: &str, schema: &Value, options: GenOptions, n: usize) {
        let g = Generator::new(schema, options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let valid = g.valid().unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = validator(schema);
        let mut r = runner();
        for _ in 0..n {
            let x = draw(&valid, &mut r);
            let errors: Vec<String> = v
                .iter_errors(&x)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {x} is invalid: {errors:?}");
        }
    }

    fn check_near_misses(name: &str, schema: &Value, options: GenOptions, n: usize) -> BTreeMap<String, usize> {
        let g = Generator::new(schema, options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let near = g.near_misses().unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = validator(schema);
        let mut r = runner();
        let mut kinds = BTreeMap::new();
        for _ in 0..n {
            let m = draw(&near, &mut r);
            let errors: Vec<_> = v.iter_errors(&m.value).collect();
            assert!(!errors.is_empty(), "{name}: near-miss {m} validates");
            for e in &errors {
                assert!(
                    m.is_error_at(e),
                    "{name}: {m}: error at {} ({e}) is not at the mutated field",
                    e.instance_path()
                );
            }
            assert!(!m.field.0.is_empty(), "{name}: {m} names no field");
            let kind = match &m.mutation {
                Mutation::OutOfRange(_) => "out of range".to_string(),
                Mutation::FormatBroken(_) => "format".to_string(),
                other => other.to_string(),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        kinds
    }

    #[test]
    fn every_valid_instance_of_every_alloy_tool_validates() {
        for (name, schema) in alloy_schemas() {
            check_valid(&name, &schema, GenOptions::default(), 64);
        }
    }

    #[test]
    fn every_near_miss_of_every_alloy_tool_fails_at_its_mutated_field_and_every_mutation_occurs() {
        let mut all: BTreeMap<String, usize> = BTreeMap::new();
        let options = GenOptions {
            break_formats: true,
            ..GenOptions::default()
        };
        for (name, schema) in alloy_schemas() {
            for (k, n) in check_near_misses(&name, &schema, options.clone(), 64) {
                *all.entry(k).or_default() += n;
            }
        }
        for kind in [
            "wrong type",
            "required field missing",
            "unknown field added",
            "value outside the enum",
            "pattern broken",
            "out of range",
            "format",
        ] {
            assert!(all.get(kind).is_some_and(|n| *n > 0), "no `{kind}` near-miss: {all:?}");
        }
    }

    #[test]
    fn hints_are_used_where_they_fit_and_never_where_they_do_not() {
        let schema = json!({"type": "object", "properties": {
            "ticket_id": {"type": "string", "pattern": "^[A-Z]+-[1-9][0-9]*$"}}, "required": ["ticket_id"],
            "additionalProperties": false});
        let mut hints = Hints::new();
        hints.add("ticket_id", [json!("WEB-1"), json!("not a key"), json!(5)]);
        let g = Generator::new(
            &schema,
            GenOptions {
                hints,
                break_formats: false,
            },
        )
        .expect("builds");
        let valid = g.valid().expect("valid");
        let mut r = runner();
        let drawn: Vec<Value> = (0..200).map(|_| draw(&valid, &mut r)["ticket_id"].clone()).collect();
        assert!(drawn.contains(&json!("WEB-1")), "the fitting hint is used");
        assert!(!drawn.contains(&json!("not a key")) && !drawn.contains(&json!(5)));
    }

    #[test]
    fn descriptions_and_examples_give_hints() {
        let schema = json!({"type": "object", "required": ["p"], "properties": {"p": {
            "type": "string", "pattern": "^[A-Z]{2,5}$", "description": "Project key, e.g. `WEB` (not `x y`).",
            "examples": ["OPS"]}}});
        let g = Generator::new(&schema, GenOptions::default()).expect("builds");
        let valid = g.valid().expect("valid");
        let mut r = runner();
        let drawn: BTreeSet<String> = (0..200)
            .map(|_| draw(&valid, &mut r)["p"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(drawn.contains("WEB") && drawn.contains("OPS"), "{drawn:?}");
    }

    #[test]
    fn unions_refs_and_combinators_are_generated_valid_and_mutated_at_their_field() {
        let schemas = [
            json!({"type": "object", "additionalProperties": false, "required": ["a"], "properties": {
                "a": {"anyOf": [{"type": "string", "minLength": 2}, {"type": "integer", "minimum": 10}]},
                "b": {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]},
                "c": {"type": ["string", "null"], "enum": ["x", "y", null]},
                "d": {"allOf": [{"type": "number", "minimum": 0}, {"maximum": 5, "exclusiveMaximum": 4.5}]},
                "e": {"const": "fixed"}}}),
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "$defs": {"node": {"type": "object", "additionalProperties": false, "required": ["v"], "properties": {
                    "v": {"type": "integer", "format": "uint8"},
                    "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}}},
                "required": ["root"], "properties": {"root": {"$ref": "#/$defs/node"}}}),
            json!({"type": "object", "properties": {
                "pair": {"type": "array", "prefixItems": [{"type": "string", "format": "date"}, {"type": "boolean"}],
                    "items": false, "minItems": 2},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{1,4}$"}, "uniqueItems": true,
                    "minItems": 1, "maxItems": 3},
                "extra": {"type": "object", "additionalProperties": {"type": "integer", "exclusiveMinimum": 0}},
                "when": {"type": "string", "format": "date-time"},
                "mail": {"type": "string", "format": "email", "maxLength": 40}},
                "required": ["pair"], "anyOf": [{"required": ["tags"]}, {"required": ["when"]}]}),
        ];
        for (i, schema) in schemas.iter().enumerate() {
            check_valid(&format!("schema {i}"), schema, GenOptions::default(), 200);
            let options = GenOptions {
                break_formats: true,
                ..GenOptions::default()
            };
            check_near_misses(&format!("schema {i}"), schema, options, 200);
        }
    }

    #[test]
    fn patterns_no_generator_takes_are_filtered_or_named() {
        // A look-ahead that random text satisfies often enough: generated by filtering.
        let loose = json!({"type": "object", "required": ["s"], "properties": {
            "s": {"type": "string", "pattern": "^(?!admin)", "maxLength": 8}}});
        check_valid("look-ahead", &loose, GenOptions::default(), 100);
        // One that random text never satisfies: a required field makes the schema unsupported,
        // an optional one is left out.
        let strict = json!({"type": "string", "pattern": "^(?=x)[0-9a-f]{32}$"});
        let required = json!({"type": "object", "required": ["s"], "properties": {"s": strict}});
        let g = Generator::new(&required, GenOptions::default()).expect("compiles");
        let err = g.valid().expect_err("unsupported");
        assert!(err.to_string().contains("`s`"), "{err}");
        let optional = json!({"type": "object", "properties": {"s": strict, "n": {"type": "integer"}}});
        check_valid("optional look-ahead", &optional, GenOptions::default(), 50);
    }

    #[test]
    fn schemas_that_admit_nothing_or_allow_no_mutation_are_errors() {
        let empty_enum =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "enum": ["x"]}}});
        assert!(matches!(
            Generator::new(&empty_enum, GenOptions::default())
                .expect("compiles")
                .valid(),
            Err(GenError::Unsupported(_))
        ));
        let free = json!({"type": "object"});
        assert!(matches!(
            Generator::new(&free, GenOptions::default())
                .expect("compiles")
                .near_misses(),
            Err(GenError::NoMutation)
        ));
        assert!(matches!(
            Generator::new(&json!({"type": 5}), GenOptions::default()),
            Err(GenError::Compile(_))
        ));
    }

    #[test]
    fn field_paths_read_as_servers_name_fields() {
        let p = FieldPath(vec![Seg::Key("statuses".into()), Seg::Index(0), Seg::Key("a/b".into())]);
        assert_eq!(p.dotted(), "statuses[0].a/b");
        assert_eq!(p.pointer(), "/statuses/0/a~1b");
        assert_eq!(p.leaf(), Some("a/b"));
        assert_eq!(p.parent().dotted(), "statuses[0]");
    }
}
