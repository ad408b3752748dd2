//! `alloy-conformance cost`: what a server's tool surface costs the model that reads it.
//!
//! Per protocol revision the server offers (the four handshake revisions, each on its own
//! connection; 2026-07-28 through `server/discover` and per-request `_meta` when the server
//! answers it), it fetches every page of `tools/list` (and `prompts/list` and
//! `resources/templates/list` when the capabilities announce them) and counts bytes and
//! tokens with the o200k encoding (`tiktoken-rs`, `encode_ordinary`: special-token text counts
//! as plain text):
//!
//! - **model-facing**, per tool: the compact JSON object `{"name", "description",
//!   "inputSchema"}` (keys in that order, fields the tool lacks left out): what a client hands
//!   the model to describe the tool. The total is the sum over tools.
//! - **tool as listed**: the compact JSON of the whole tool object (adds `title`,
//!   `annotations`, `outputSchema`, `_meta`, ...).
//! - **whole answer**: the answer messages exactly as received (the stdio line without its
//!   newline, the HTTP JSON body or SSE `data`), summed over pages.
//!
//! [`budget`] compares a report with a budget file. The default target is the local
//! `alloy-mcp` over stdio against the embedded seeded mock, like `run`.

pub mod budget;

use crate::driver::stdio::CommandSpec;
use crate::measure::http::HttpClient;
use crate::measure::stdio::StdioClient;
use crate::measure::{self, CallError, HANDSHAKE_REVISIONS, STATELESS_REVISION};
use alloy_mock_api::MockAlloy;
use alloy_mock_api::model::OrgRole;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Every revision `cost` asks for, oldest first.
pub const REVISIONS: [&str; 5] = [
    HANDSHAKE_REVISIONS[0],
    HANDSHAKE_REVISIONS[1],
    HANDSHAKE_REVISIONS[2],
    HANDSHAKE_REVISIONS[3],
    STATELESS_REVISION,
];

/// Pages of one list followed at most (a server whose cursor never ends is an error).
const MAX_PAGES: usize = 100;

/// The tokenizer named in reports.
pub const TOKENIZER: &str = "o200k_base (tiktoken-rs)";

/// `alloy-conformance cost` flags.
#[derive(clap::Args, Debug)]
pub struct CostArgs {
    /// Measure a server started by this command line (run by `sh -c`) over stdio. It gets
    /// ALLOY_API_URL and ALLOY_API_TOKEN of the embedded mock API.
    #[arg(long, value_name = "CMD", conflicts_with = "http")]
    pub stdio: Option<String>,
    /// Measure a running server's Streamable HTTP endpoint (e.g. http://127.0.0.1:3001/mcp).
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Bearer token for --http (default: none).
    #[arg(long, value_name = "T", requires = "http")]
    pub token: Option<String>,
    /// The alloy-mcp binary of the default run (default: next to this binary, then
    /// target/debug, target/release).
    #[arg(long, value_name = "PATH")]
    pub server: Option<PathBuf>,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Compare with a budget file (e.g. fixtures/budget/tools.json); exit 1 when the surface
    /// exceeds its `enforced` limits. Its `target` limits are reported, not enforced.
    #[arg(long, value_name = "FILE")]
    pub budget: Option<PathBuf>,
    /// Tools listed in the per-tool table (most expensive first; 0 = all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub top: usize,
    /// Seconds to wait for each answer (and for start-up).
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub timeout: f64,
}

/// Bytes and tokens of one piece of text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    /// UTF-8 bytes.
    pub bytes: u64,
    /// o200k tokens.
    pub tokens: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.bytes += other.bytes;
        self.tokens += other.tokens;
    }
}

/// Counts `text` with the o200k encoding.
pub fn size_of(text: &str) -> Size {
    let bpe = tiktoken_rs::o200k_base_singleton();
    Size {
        bytes: text.len() as u64,
        tokens: bpe.encode_ordinary(text).len() as u64,
    }
}

/// One tool's cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCost {
    /// The tool's name.
    pub name: String,
    /// `{"name","description","inputSchema"}` as compact JSON.
    pub model_facing: Size,
    /// The whole tool object as listed, as compact JSON.
    pub as_listed: Size,
}

/// The cost of a list other than tools (prompts, resource templates).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListCost {
    /// Items listed.
    pub items: usize,
    /// The items as listed, compact JSON, summed.
    pub as_listed: Size,
    /// The answer messages as received, summed over pages.
    pub answer: Size,
}

/// What one revision costs, or why it was not measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionCost {
    /// The revision asked for.
    pub revision: String,
    /// Whether the server speaks it (answered `initialize` with it, or listed it in
    /// `server/discover`).
    pub offered: bool,
    /// Why not, when not offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Tools in the server's order.
    #[serde(default)]
    pub tools: Vec<ToolCost>,
    /// Sum of the tools' model-facing sizes.
    #[serde(default)]
    pub model_facing_total: Size,
    /// The `tools/list` answers as received, summed over pages.
    #[serde(default)]
    pub answer: Size,
    /// Pages of `tools/list`.
    #[serde(default)]
    pub pages: usize,
    /// `prompts/list`, when the server announces prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts: Option<ListCost>,
    /// `resources/templates/list`, when the server announces resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_templates: Option<ListCost>,
}

impl RevisionCost {
    fn not_offered(revision: &str, note: String) -> RevisionCost {
        RevisionCost {
            revision: revision.to_string(),
            offered: false,
            note: Some(note),
            tools: Vec::new(),
            model_facing_total: Size::default(),
            answer: Size::default(),
            pages: 0,
            prompts: None,
            resource_templates: None,
        }
    }

    /// The tool with the most model-facing tokens.
    pub fn max_tool(&self) -> Option<&ToolCost> {
        self.tools.iter().max_by_key(|t| t.model_facing.tokens)
    }
}

/// The whole `cost` report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// What was measured (command or URL).
    pub server: String,
    /// The tokenizer.
    pub tokenizer: String,
    /// One entry per revision asked for, oldest first.
    pub revisions: Vec<RevisionCost>,
}

impl CostReport {
    /// The revisions the server offers.
    pub fn offered(&self) -> impl Iterator<Item = &RevisionCost> {
        self.revisions.iter().filter(|r| r.offered)
    }
}

/// The server under measurement.
#[derive(Clone, Debug)]
pub enum Target {
    /// Spawned per revision, over stdio.
    Stdio(CommandSpec),
    /// A running Streamable HTTP endpoint.
    Http {
        /// The MCP endpoint.
        url: String,
        /// Bearer token.
        token: Option<String>,
    },
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Stdio(c) => format!("{} (stdio)", c.display()),
            Target::Http { url, .. } => format!("{url} (Streamable HTTP)"),
        }
    }
}

/// One connection, whatever the transport. The blocking stdio client runs on the blocking
/// pool, so a runtime that also serves the mock API is never held up by it.
enum Session {
    Stdio(Option<Box<StdioClient>>),
    Http(Box<HttpClient>),
}

impl Session {
    fn open(target: &Target, timeout: Duration) -> Result<Session, CallError> {
        Ok(match target {
            Target::Stdio(spec) => Session::Stdio(Some(Box::new(StdioClient::spawn(spec, timeout)?))),
            Target::Http { url, token } => Session::Http(Box::new(HttpClient::new(url, token.as_deref(), timeout)?)),
        })
    }

    /// Runs `f` with the stdio client on the blocking pool.
    async fn blocking<T: Send + 'static>(
        slot: &mut Option<Box<StdioClient>>,
        f: impl FnOnce(&mut StdioClient) -> Result<T, CallError> + Send + 'static,
    ) -> Result<T, CallError> {
        let mut client = slot
            .take()
            .ok_or_else(|| CallError::Closed("the session was lost".into()))?;
        let (client, result) = tokio::task::spawn_blocking(move || {
            let r = f(&mut client);
            (client, r)
        })
        .await
        .map_err(|e| CallError::Closed(format!("the client thread failed: {e}")))?;
        *slot = Some(client);
        result
    }

    /// Sends request `frame` with id `id` and returns its answer's bytes. `stateless` adds the
    /// stateless revision's headers over HTTP.
    async fn call(&mut self, id: u64, method: &str, frame: &str, stateless: bool) -> Result<Vec<u8>, CallError> {
        match self {
            Session::Stdio(slot) => {
                let frame = frame.to_string();
                Self::blocking(slot, move |c| c.call(id, &frame).map(<[u8]>::to_vec)).await
            }
            Session::Http(c) => {
                let headers: &[(&str, &str)] = if stateless { &[("Mcp-Method", method)] } else { &[] };
                c.post(frame, Some(id), headers).await
            }
        }
    }

    async fn notify(&mut self, frame: &str) -> Result<(), CallError> {
        match self {
            Session::Stdio(slot) => {
                let frame = frame.to_string();
                Self::blocking(slot, move |c| c.send(&frame)).await
            }
            Session::Http(c) => c.post(frame, None, &[]).await.map(|_| ()),
        }
    }

    fn set_version(&mut self, version: &str) {
        if let Session::Http(c) = self {
            c.set_version(version);
        }
    }

    async fn close(self) {
        match self {
            Session::Stdio(c) => drop(c),
            Session::Http(c) => c.close().await,
        }
    }
}

/// Measures every revision of [`REVISIONS`] on `target`. Fails only when the server offers
/// none of them; a revision it does not offer is an entry with `offered: false` and the reason.
pub async fn measure(target: &Target, timeout: Duration) -> anyhow::Result<CostReport> {
    let mut revisions = Vec::new();
    for revision in REVISIONS {
        let mut session =
            Session::open(target, timeout).with_context(|| format!("cannot start {}", target.describe()))?;
        let result = if revision == STATELESS_REVISION {
            measure_stateless(&mut session, revision).await
        } else {
            measure_handshake(&mut session, revision).await
        };
        session.close().await;
        revisions.push(match result {
            Ok(r) => r,
            Err(Unmeasured::NotOffered(why)) => RevisionCost::not_offered(revision, why),
            Err(Unmeasured::Failed(e)) => {
                return Err(anyhow::anyhow!("{e}")).with_context(|| format!("{} under {revision}", target.describe()));
            }
        });
    }
    if !revisions.iter().any(|r| r.offered) {
        let why: Vec<String> = revisions
            .iter()
            .map(|r| format!("  {}: {}", r.revision, r.note.as_deref().unwrap_or("")))
            .collect();
        anyhow::bail!(
            "{} offers none of the revisions asked for:\n{}",
            target.describe(),
            why.join("\n")
        );
    }
    Ok(CostReport {
        server: target.describe(),
        tokenizer: TOKENIZER.to_string(),
        revisions,
    })
}

enum Unmeasured {
    NotOffered(String),
    Failed(CallError),
}

impl From<CallError> for Unmeasured {
    fn from(e: CallError) -> Self {
        Unmeasured::Failed(e)
    }
}

async fn measure_handshake(session: &mut Session, revision: &str) -> Result<RevisionCost, Unmeasured> {
    let answer = session
        .call(1, "initialize", &measure::initialize(1, revision), false)
        .await?;
    let result = match measure::result_of(&answer) {
        Ok(r) => r,
        Err(e) => return Err(Unmeasured::NotOffered(format!("initialize: {e}"))),
    };
    let negotiated = result.get("protocolVersion").and_then(Value::as_str).unwrap_or("");
    if negotiated != revision {
        return Err(Unmeasured::NotOffered(format!(
            "initialize answered protocolVersion {negotiated:?}"
        )));
    }
    session.set_version(revision);
    session.notify(measure::INITIALIZED).await?;
    lists(session, revision, &result["capabilities"], None).await
}

async fn measure_stateless(session: &mut Session, revision: &str) -> Result<RevisionCost, Unmeasured> {
    session.set_version(revision);
    let frame = measure::request(1, "server/discover", None, Some(revision));
    let answer = match session.call(1, "server/discover", &frame, true).await {
        Ok(a) => a,
        // A server of the handshake era may refuse, ignore (a timeout) or drop a request
        // before `initialize`.
        Err(e) => {
            return Err(Unmeasured::NotOffered(format!(
                "server/discover: {}",
                first_line(&e.to_string())
            )));
        }
    };
    let result = match measure::result_of(&answer) {
        Ok(r) => r,
        Err(e) => return Err(Unmeasured::NotOffered(format!("server/discover: {e}"))),
    };
    let supported: Vec<&str> = result
        .get("supportedVersions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !supported.contains(&revision) {
        return Err(Unmeasured::NotOffered(format!(
            "server/discover lists supportedVersions {supported:?}"
        )));
    }
    lists(session, revision, &result["capabilities"], Some(revision)).await
}

/// Fetches every list the capabilities announce and measures them.
async fn lists(
    session: &mut Session,
    revision: &str,
    capabilities: &Value,
    stateless: Option<&str>,
) -> Result<RevisionCost, Unmeasured> {
    let mut next_id = 2;
    let (tool_items, answer, pages) = fetch_all(session, &mut next_id, "tools/list", "tools", stateless).await?;
    let mut tools = Vec::with_capacity(tool_items.len());
    let mut model_facing_total = Size::default();
    for t in &tool_items {
        let mut facing = serde_json::Map::new();
        for key in ["name", "description", "inputSchema"] {
            if let Some(v) = t.get(key) {
                facing.insert(key.to_string(), v.clone());
            }
        }
        let model_facing = size_of(&Value::Object(facing).to_string());
        model_facing_total.add(model_facing);
        tools.push(ToolCost {
            name: t.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string(),
            model_facing,
            as_listed: size_of(&t.to_string()),
        });
    }
    let mut cost = RevisionCost {
        revision: revision.to_string(),
        offered: true,
        note: None,
        tools,
        model_facing_total,
        answer,
        pages,
        prompts: None,
        resource_templates: None,
    };
    if capabilities.get("prompts").is_some() {
        cost.prompts = Some(list_cost(
            fetch_all(session, &mut next_id, "prompts/list", "prompts", stateless).await?,
        ));
    }
    if capabilities.get("resources").is_some() {
        cost.resource_templates = Some(list_cost(
            fetch_all(
                session,
                &mut next_id,
                "resources/templates/list",
                "resourceTemplates",
                stateless,
            )
            .await?,
        ));
    }
    Ok(cost)
}

fn list_cost((items, answer, _pages): (Vec<Value>, Size, usize)) -> ListCost {
    let mut as_listed = Size::default();
    for i in &items {
        as_listed.add(size_of(&i.to_string()));
    }
    ListCost {
        items: items.len(),
        as_listed,
        answer,
    }
}

/// Every page of `method`: the items under `field`, the answers' summed size, the page count.
async fn fetch_all(
    session: &mut Session,
    next_id: &mut u64,
    method: &str,
    field: &str,
    stateless: Option<&str>,
) -> Result<(Vec<Value>, Size, usize), Unmeasured> {
    let mut items = Vec::new();
    let mut answer = Size::default();
    let mut cursor: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let id = *next_id;
        *next_id += 1;
        let params = cursor.as_ref().map(|c| json!({"cursor": c}));
        let frame = measure::request(id, method, params, stateless);
        let bytes = session.call(id, method, &frame, stateless.is_some()).await?;
        answer.add(size_of(&String::from_utf8_lossy(&bytes)));
        let mut result = measure::result_of(&bytes).map_err(|e| Unmeasured::Failed(prefixed(method, e)))?;
        match result.get_mut(field).map(Value::take) {
            Some(Value::Array(a)) => items.extend(a),
            _ => {
                return Err(Unmeasured::Failed(CallError::Protocol(format!(
                    "{method}: the result has no `{field}` array"
                ))));
            }
        }
        cursor = result.get("nextCursor").and_then(Value::as_str).map(str::to_string);
        if cursor.is_none() {
            return Ok((items, answer, page));
        }
    }
    Err(Unmeasured::Failed(CallError::Protocol(format!(
        "{method}: still a nextCursor after {MAX_PAGES} pages"
    ))))
}

fn prefixed(method: &str, e: CallError) -> CallError {
    match e {
        CallError::Protocol(m) => CallError::Protocol(format!("{method}: {m}")),
        other => other,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Renders the report as text tables: per revision, then per tool (the newest offered
/// revision, `top` most expensive, 0 = all).
pub fn render_text(report: &CostReport, top: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!("cost of {}\n", report.server));
    out.push_str(&format!(
        "tokens: {}; model-facing = compact JSON {{\"name\",\"description\",\"inputSchema\"}} per tool; \
         whole answer = the tools/list answer messages as received\n\n",
        report.tokenizer
    ));
    out.push_str(&format!(
        "{:<11} {:>5} {:>13} {:>10} {:>28} {:>13} {:>12} {:>17} {:>17}\n",
        "revision",
        "tools",
        "model tokens",
        "model B",
        "largest tool (tokens)",
        "answer B",
        "answer tok",
        "prompts (B/tok)",
        "templates (B/tok)"
    ));
    for r in &report.revisions {
        if !r.offered {
            out.push_str(&format!(
                "{:<11} not offered: {}\n",
                r.revision,
                r.note.as_deref().unwrap_or("")
            ));
            continue;
        }
        let largest = r
            .max_tool()
            .map(|t| format!("{} ({})", t.name, group(t.model_facing.tokens)))
            .unwrap_or_default();
        let list = |l: &Option<ListCost>| match l {
            Some(l) => format!("{}: {}/{}", l.items, group(l.answer.bytes), group(l.answer.tokens)),
            None => "-".to_string(),
        };
        out.push_str(&format!(
            "{:<11} {:>5} {:>13} {:>10} {:>28} {:>13} {:>12} {:>17} {:>17}\n",
            r.revision,
            r.tools.len(),
            group(r.model_facing_total.tokens),
            group(r.model_facing_total.bytes),
            largest,
            group(r.answer.bytes),
            group(r.answer.tokens),
            list(&r.prompts),
            list(&r.resource_templates),
        ));
    }
    if let Some(newest) = report.offered().last() {
        let differing: Vec<&str> = report
            .offered()
            .filter(|r| facing_of(r) != facing_of(newest))
            .map(|r| r.revision.as_str())
            .collect();
        let mut tools: Vec<&ToolCost> = newest.tools.iter().collect();
        tools.sort_by(|a, b| {
            b.model_facing
                .tokens
                .cmp(&a.model_facing.tokens)
                .then(a.name.cmp(&b.name))
        });
        let shown = if top == 0 { tools.len() } else { top.min(tools.len()) };
        out.push_str(&format!(
            "\nper tool under {} ({} of {}, most model-facing tokens first; {}):\n",
            newest.revision,
            shown,
            tools.len(),
            if differing.is_empty() {
                "the same under every offered revision".to_string()
            } else {
                format!("differs under {}", differing.join(", "))
            }
        ));
        out.push_str(&format!(
            "{:<34} {:>12} {:>9} {:>12} {:>9}\n",
            "tool", "model tok", "model B", "listed tok", "listed B"
        ));
        for t in tools.iter().take(shown) {
            out.push_str(&format!(
                "{:<34} {:>12} {:>9} {:>12} {:>9}\n",
                t.name,
                group(t.model_facing.tokens),
                group(t.model_facing.bytes),
                group(t.as_listed.tokens),
                group(t.as_listed.bytes)
            ));
        }
    }
    out
}

fn facing_of(r: &RevisionCost) -> Vec<(&str, Size)> {
    r.tools.iter().map(|t| (t.name.as_str(), t.model_facing)).collect()
}

/// `12345` as `12,345`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The `cost` command: measure, print, compare with the budget. Exit 0, 1 when an enforced
/// limit is exceeded; errors (cannot start, bad budget file) are the caller's exit 2.
pub async fn command(args: CostArgs) -> anyhow::Result<ExitCode> {
    let timeout = Duration::from_secs_f64(args.timeout.max(0.001));
    let budget = match &args.budget {
        Some(p) => Some(budget::BudgetFile::load(p)?),
        None => None,
    };
    // The mock lives as long as the measurement: a spawned server checks its key at start-up.
    let mut _mock: Option<MockAlloy> = None;
    let target = match (&args.stdio, &args.http) {
        (_, Some(url)) => Target::Http {
            url: url.clone(),
            token: args.token.clone(),
        },
        (command, None) => {
            let (opts, warning) = crate::runner::mock_options(None);
            if let Some(w) = warning {
                eprintln!("warning: {w}");
            }
            let mock = MockAlloy::start_with(opts).await.context("cannot start the mock API")?;
            let spec = match command {
                Some(cmd) => CommandSpec::shell(cmd),
                None => {
                    let server = crate::local::locate(args.server.as_deref(), true)?;
                    if let Some(w) = crate::local::staleness_warning(&server) {
                        eprintln!("warning: {w}");
                    }
                    CommandSpec::new(server.to_string_lossy(), &[])
                }
            }
            .with_env("ALLOY_API_URL", mock.base_url())
            .with_env("ALLOY_API_TOKEN", mock.key(OrgRole::Owner));
            _mock = Some(mock);
            Target::Stdio(spec)
        }
    };
    let report = measure(&target, timeout).await?;
    let verdict = budget.as_ref().map(|b| b.check(&report));
    if args.json {
        let mut doc = serde_json::to_value(&report)?;
        if let (Some(v), Some(obj)) = (&verdict, doc.as_object_mut()) {
            obj.insert("budget".into(), serde_json::to_value(v)?);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", render_text(&report, args.top));
        if let (Some(v), Some(p)) = (&verdict, &args.budget) {
            print!("\n{}", v.render(&p.display().to_string()));
        }
    }
    Ok(match verdict {
        Some(v) if !v.within_enforced() => {
            if args.json {
                eprintln!("{}", v.closing_line());
            }
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_is_o200k_not_a_byte_ratio() {
        // o200k has one token for each of these common words; bytes/4 would say 5.
        let s = size_of("hello world");
        assert_eq!(s, Size { bytes: 11, tokens: 2 });
        let json = size_of(r#"{"name":"get_ticket"}"#);
        assert!(json.tokens > 3 && json.tokens < json.bytes, "{json:?}");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(82810), "82,810");
        assert_eq!(group(1234567), "1,234,567");
    }
}
