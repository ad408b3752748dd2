//! The stdio driver: spawns the server as a child process and speaks newline-delimited JSON-RPC
//! on its stdin/stdout. stderr is captured (the last 64 KiB) for failure reports. The child is
//! killed when the driver is dropped, whatever state it is in.

use super::{Driver, DriverError, Frame, Inbox, Incoming, Timeouts, Transport, parse_frame};
use crate::era::Era;
use futures::FutureExt;
use futures::future::BoxFuture;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::oneshot;

const STDERR_TAIL_BYTES: usize = 64 * 1024;

/// How to start a server process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Program to run.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (added to the harness's own environment).
    pub env: Vec<(String, String)>,
    /// Working directory; the harness's own when `None`.
    pub cwd: Option<PathBuf>,
}

impl CommandSpec {
    /// A program with arguments.
    pub fn new(program: impl Into<String>, args: &[&str]) -> CommandSpec {
        CommandSpec {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// A command line as a user types it (`--stdio "node server.js --flag"`), run by `sh -c`
    /// with `exec` so that the server itself is the child (and is killed with the driver).
    pub fn shell(command_line: &str) -> CommandSpec {
        CommandSpec::new("sh", &["-c", &format!("exec {command_line}")])
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> CommandSpec {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command as one display string.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A running child process driven over stdin/stdout.
pub struct StdioDriver {
    stdin: Option<ChildStdin>,
    inbox: Inbox,
    stderr: Arc<Mutex<Vec<u8>>>,
    exit: Arc<Mutex<Option<String>>>,
    /// The child's pid until it exits.
    pid: Arc<Mutex<Option<u32>>>,
    // Dropping this sender makes the supervising task kill the child.
    _kill: oneshot::Sender<()>,
    timeouts: Timeouts,
    barriers: u64,
    era: Era,
    command: String,
}

impl StdioDriver {
    /// Spawns `spec` with piped stdio.
    pub fn spawn(spec: &CommandSpec, timeouts: Timeouts) -> Result<StdioDriver, DriverError> {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| DriverError::Connect(format!("cannot start `{}`: {e}", spec.display())))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| DriverError::Connect("the child has no stdout pipe".into()))?;
        let stderr_pipe = child.stderr.take();

        let (inbox, tx) = Inbox::new();
        tokio::spawn(async move {
            let mut reader = BufReader::with_capacity(64 * 1024, stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        let text = text.trim_end_matches(['\n', '\r']);
                        if text.trim().is_empty() {
                            continue;
                        }
                        if tx.send(parse_frame(text)).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = tx.send(Incoming::Closed);
        });

        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = stderr_pipe {
            let tail = stderr.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = tail.lock() {
                        t.extend_from_slice(&buf[..n]);
                        let excess = t.len().saturating_sub(STDERR_TAIL_BYTES);
                        t.drain(..excess);
                    }
                }
            });
        }

        let exit = Arc::new(Mutex::new(None));
        let pid = Arc::new(Mutex::new(child.id()));
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        let exit_slot = exit.clone();
        let pid_slot = pid.clone();
        tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    if let Ok(mut p) = pid_slot.lock() {
                        *p = None;
                    }
                    let text = match status {
                        Ok(s) => s.to_string(),
                        Err(e) => format!("unknown ({e})"),
                    };
                    if let Ok(mut slot) = exit_slot.lock() {
                        *slot = Some(text);
                    }
                }
                _ = kill_rx => {
                    let _ = child.kill().await;
                }
            }
        });

        Ok(StdioDriver {
            stdin,
            inbox,
            stderr,
            exit,
            pid,
            _kill: kill_tx,
            timeouts,
            barriers: 0,
            era: Era::Handshake,
            command: spec.display(),
        })
    }

    /// The captured stderr so far (the last 64 KiB).
    pub fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default()
    }

    /// The era of the private settle request (`ping` is removed at the stateless wire).
    fn barrier_era(&self) -> Era {
        self.era
    }

    async fn write(&mut self, frame: &Frame) -> Result<(), DriverError> {
        let stdin = self.stdin.as_mut().ok_or(DriverError::Closed)?;
        let mut bytes = frame.to_bytes();
        bytes.push(b'\n');
        let limit = self.timeouts.request;
        let write = async {
            stdin.write_all(&bytes).await?;
            stdin.flush().await
        };
        match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(DriverError::Closed),
            Err(_) => Err(DriverError::Timeout(limit)),
        }
    }
}

impl Driver for StdioDriver {
    fn transport(&self) -> Transport {
        Transport::Stdio
    }

    fn send<'a>(&'a mut self, frame: &'a Frame) -> BoxFuture<'a, Result<(), DriverError>> {
        self.write(frame).boxed()
    }

    super::inbox_methods!(settle by write);

    fn set_protocol_version(&mut self, _version: &str) {}

    fn set_era(&mut self, era: Era) {
        self.era = era;
    }

    /// The child's process id while it runs.
    fn pid(&self) -> Option<u32> {
        *self.pid.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn diagnostics(&self) -> String {
        let exit = self.exit.lock().ok().and_then(|e| e.clone());
        let mut out = format!("command: {}\n", self.command);
        match exit {
            Some(status) => out.push_str(&format!("process exited: {status}\n")),
            None => out.push_str("process still running\n"),
        }
        let tail = self.stderr_tail();
        if tail.trim().is_empty() {
            out.push_str("stderr: (empty)\n");
        } else {
            out.push_str("stderr (last lines):\n");
            let lines: Vec<&str> = tail.lines().collect();
            for line in &lines[lines.len().saturating_sub(20)..] {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    fn close(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        // Closing stdin asks a well-behaved server to exit; the kill on drop does the rest.
        self.stdin = None;
        async move { drop(self) }.boxed()
    }
}
