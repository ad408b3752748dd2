//! Helpers shared by the end-to-end tests of the binaries: where a built binary is, and the
//! mock API binary started on a free port with the URL and Owner key it prints.

#![allow(dead_code)] // Not every test file uses every helper.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The path of a workspace binary, which must have been built.
pub fn binary(name: &str) -> PathBuf {
    let path = assert_cmd::cargo::cargo_bin(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `alloy-mock-api serve` on a free loopback port: the process, its base URL and the Owner's
/// key, read from the banner it prints. `extra` are more `serve` arguments.
pub fn start_mock(extra: &[&str]) -> (Running, String, String) {
    let mut child = Command::new(binary("alloy-mock-api"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("alloy-mock-api starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut url, mut key) = (String::new(), String::new());
    while url.is_empty() || key.is_empty() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the mock prints its address and keys");
        if let Some(u) = line.strip_prefix("export ALLOY_API_URL=") {
            url = u.trim().to_string();
        }
        if let Some(k) = line.strip_prefix("export ALLOY_API_TOKEN=") {
            key = k.split_whitespace().next().unwrap_or("").to_string();
        }
    }
    (Running(child), url, key)
}
