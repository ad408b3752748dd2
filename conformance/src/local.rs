//! The local `alloy-mcp`: where its binary is and which transports it offers. Shared by the CLI's
//! default run and by `cargo test -p alloy-conformance` (which never builds or links the server:
//! it runs the binary Cargo left in `target/<profile>/`).
//!
//! Transports are found out by asking the binary (`alloy-mcp --help`), not assumed: stdio is
//! always there; Streamable HTTP is offered when the help lists an `--http` flag. A transport
//! that is not offered is reported by the caller as skipped, never counted as passed.

use crate::driver::Transport;
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The server binary's file name on this platform.
pub fn binary_name() -> String {
    format!("alloy-mcp{}", std::env::consts::EXE_SUFFIX)
}

/// The command that builds the binary where it is looked for.
pub const BUILD_HINT: &str = "cargo build -p alloy-mcp";

/// Where `alloy-mcp` is looked for next to `exe`: its own folder, and `target/<profile>` when
/// `exe` is a test binary in `target/<profile>/deps`.
pub fn candidates_next_to(exe: &Path) -> Vec<PathBuf> {
    let name = binary_name();
    let mut candidates = Vec::new();
    if let Some(dir) = exe.parent() {
        // A test binary lives in target/<profile>/deps; the server in target/<profile>.
        if dir.ends_with("deps")
            && let Some(up) = dir.parent()
        {
            candidates.push(up.join(&name));
        }
        candidates.push(dir.join(&name));
    }
    candidates
}

/// Finds the local `alloy-mcp`: `explicit` when given, else next to the running executable,
/// else (`also_workspace`) the workspace's `target/{debug,release}` (or `$CARGO_TARGET_DIR`).
/// Never builds; the error lists every place looked at and says how to build.
pub fn locate(explicit: Option<&Path>, also_workspace: bool) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        bail!("--server {}: no such file", p.display());
    }
    let mut candidates = std::env::current_exe()
        .map(|exe| candidates_next_to(&exe))
        .unwrap_or_default();
    if also_workspace {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        for profile in ["debug", "release"] {
            candidates.push(target.join(profile).join(binary_name()));
        }
    }
    if let Some(found) = candidates.iter().find(|c| c.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|c| format!("  {}", c.display())).collect();
    bail!(
        "alloy-mcp is not built; looked in:\n{}\nbuild it first with `{BUILD_HINT}` (same profile and target dir as this run)",
        looked.join("\n")
    )
}

/// What the binary offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offered {
    /// Transports it speaks (always stdio first).
    pub transports: Vec<Transport>,
    /// Transports it does not speak, each with the reason.
    pub missing: Vec<(Transport, String)>,
}

impl Offered {
    /// Whether `t` is offered.
    pub fn offers(&self, t: Transport) -> bool {
        self.transports.contains(&t)
    }
}

/// Judges a `--help` text: HTTP (Streamable HTTP at `/mcp` and legacy SSE at `/sse`, both
/// started by `--http ADDR`) is offered when the text lists an `--http` flag.
pub fn offered_by_help(help: &str) -> Offered {
    let has_http = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == ']')
        .any(|word| word == "--http");
    let mut offered = Offered {
        transports: vec![Transport::Stdio],
        missing: Vec::new(),
    };
    for t in [Transport::Http, Transport::Sse] {
        if has_http {
            offered.transports.push(t);
        } else {
            offered
                .missing
                .push((t, "`alloy-mcp --help` lists no `--http` flag".to_string()));
        }
    }
    offered
}

/// Runs `<binary> --help` (bounded by `within`) and judges its output with [`offered_by_help`].
pub async fn probe(binary: &Path, within: Duration) -> anyhow::Result<Offered> {
    let run = tokio::process::Command::new(binary)
        .arg("--help")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(within, run).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => bail!("cannot run `{} --help`: {e}", binary.display()),
        Err(_) => bail!(
            "`{} --help` did not finish within {} ms",
            binary.display(),
            within.as_millis()
        ),
    };
    if !output.status.success() {
        bail!("`{} --help` failed ({})", binary.display(), output.status);
    }
    Ok(offered_by_help(&String::from_utf8_lossy(&output.stdout)))
}

/// A warning when a source file of the server in this repository (`mcp-server/src`,
/// `mcp-server/Cargo.toml`) is newer than `binary`: the run would judge an old build.
pub fn staleness_warning(binary: &Path) -> Option<String> {
    let built = std::fs::metadata(binary).and_then(|m| m.modified()).ok()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("mcp-server");
    let newest = newest_file(&root.join("src"))
        .into_iter()
        .chain(modified(&root.join("Cargo.toml")).map(|t| (t, root.join("Cargo.toml"))))
        .max_by_key(|(t, _)| *t)?;
    (newest.0 > built).then(|| {
        format!(
            "{} is older than {}: run `{BUILD_HINT}` to judge the current sources",
            binary.display(),
            newest.1.display()
        )
    })
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn newest_file(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(t) = modified(&p)
                && newest.as_ref().is_none_or(|(n, _)| t > *n)
            {
                newest = Some((t, p));
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_offered_only_when_the_help_lists_the_flag() {
        let without = offered_by_help("Options:\n      --api-url <URL>\n      --read-only\n  -h, --help\n");
        assert_eq!(without.transports, vec![Transport::Stdio]);
        assert_eq!(without.missing.len(), 2);
        let with = offered_by_help("Options:\n      --http <ADDR>\n          Serve MCP over HTTP\n");
        assert_eq!(with.transports, Transport::ALL.to_vec());
        assert!(with.missing.is_empty());
        assert!(!offered_by_help("      --http-timeout <SECS>\n").offers(Transport::Http));
    }

    #[test]
    fn a_test_binary_finds_the_server_in_its_profile_folder() {
        let found = candidates_next_to(Path::new("/t/target/debug/deps/alloy_mcp-0123"));
        assert_eq!(found[0], PathBuf::from("/t/target/debug").join(binary_name()));
    }
}
