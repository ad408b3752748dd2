//! Tidy tests: house rules that no compiler checks. Every Rust file of the repository opens
//! with a `//!` paragraph saying what lives there, and every file or folder path that
//! ARCHITECTURE.md or the README names exists (a map that points at nothing misleads).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files git tracks (the repository as a clone has it), or every file below the root
/// when git is not available.
fn tracked_files() -> Vec<PathBuf> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output();
    match out {
        Ok(o) if o.status.success() => o
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
            .collect(),
        _ => walk(&root()),
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn every_rust_file_opens_with_a_module_doc_paragraph() {
    let missing: Vec<String> = tracked_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && p.exists())
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|p| p.strip_prefix(root()).unwrap_or(&p).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading //! paragraph: {missing:?}");
}

/// The backticked repository paths of a Markdown file: words in backticks that contain a `/`
/// and name a file with an extension or a folder ending in `/`, without spaces, wildcards or
/// placeholders.
fn named_paths(markdown: &str) -> Vec<String> {
    let roots = [
        "mcp-server/",
        "mock-api/",
        "conformance/",
        "fixtures/",
        "docs/",
        "tests/",
        "benches/",
        ".ci/",
        "src/",
    ];
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains([' ', '*', '<', '{', '…', '$']) && !w.contains("..."))
        .filter(|w| roots.iter().any(|r| w.starts_with(r)))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_architecture_and_readme_name_only_paths_that_exist() {
    for doc in ["ARCHITECTURE.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).expect("doc");
        let mut checked = 0;
        let mut missing = Vec::new();
        for path in named_paths(&text) {
            // `src/...` and `tests/...` in a crate's code map are relative to that crate:
            // accept the path when the root or any crate has it.
            let candidates: Vec<PathBuf> = ["", "mcp-server", "mock-api", "conformance"]
                .iter()
                .map(|c| root().join(c).join(&path))
                .collect();
            checked += 1;
            if !candidates.iter().any(|c| c.exists()) {
                missing.push(path);
            }
        }
        assert!(checked > 3, "{doc}: the scan found the paths it names ({checked})");
        assert!(missing.is_empty(), "{doc} names paths that do not exist: {missing:?}");
    }
}
