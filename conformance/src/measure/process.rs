//! Children spawned for measurement, with their pid in hand: killed on drop, killed by a
//! watchdog when an armed deadline passes (so a blocking read on their stdout ends instead of
//! hanging), killed by [`kill_all`] on Ctrl-C, and sampled for peak RSS (`VmHWM` of
//! `/proc/<pid>/status`, Linux only) until they end.

use crate::driver::stdio::CommandSpec;
use crate::measure::CallError;
use std::io::Read;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const STDERR_TAIL_BYTES: usize = 16 * 1024;
/// How often the watchdog looks at the deadline; RSS is sampled every fifth look.
const TICK: Duration = Duration::from_millis(10);

/// Every live child of this process, for [`kill_all`].
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

struct Shared {
    child: Mutex<Child>,
    pid: u32,
    epoch: Instant,
    /// Nanoseconds after `epoch` at which the child is killed; 0 = no deadline.
    deadline_ns: AtomicU64,
    timed_out: AtomicBool,
    done: AtomicBool,
    peak_kib: AtomicU64,
    stderr: Mutex<Vec<u8>>,
}

impl Shared {
    fn kill(&self) {
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn sample_rss(&self) {
        if let Some(kib) = peak_rss_kib(self.pid) {
            self.peak_kib.fetch_max(kib, Ordering::Relaxed);
        }
    }
}

/// Where the child's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Piped to [`Spawned::stdout`] (a stdio server).
    Pipe,
    /// Discarded (an HTTP server).
    Null,
}

/// A running child.
pub struct Spawned {
    shared: Arc<Shared>,
    /// The child's stdin (closing it asks a stdio server to exit).
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, when [`Output::Pipe`].
    pub stdout: Option<ChildStdout>,
    watchdog: Option<JoinHandle<()>>,
    started: Instant,
    command: String,
}

impl Spawned {
    /// Starts `spec` with piped stdin, stderr kept (the last 16 KiB) and stdout as `output` says.
    pub fn spawn(spec: &CommandSpec, output: Output) -> Result<Spawned, CallError> {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(match output {
                Output::Pipe => Stdio::piped(),
                Output::Null => Stdio::null(),
            })
            .stderr(Stdio::piped());
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| CallError::Connect(format!("cannot start `{}`: {e}", spec.display())))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let shared = Arc::new(Shared {
            pid: child.id(),
            child: Mutex::new(child),
            epoch: started,
            deadline_ns: AtomicU64::new(0),
            timed_out: AtomicBool::new(false),
            done: AtomicBool::new(false),
            peak_kib: AtomicU64::new(0),
            stderr: Mutex::new(Vec::new()),
        });
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(&shared));
        }
        if let Some(mut pipe) = stderr {
            let tail = shared.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = tail.stderr.lock() {
                        t.extend_from_slice(&buf[..n]);
                        let excess = t.len().saturating_sub(STDERR_TAIL_BYTES);
                        t.drain(..excess);
                    }
                }
            });
        }
        let watched = shared.clone();
        let watchdog = std::thread::spawn(move || {
            let mut ticks = 0u64;
            while !watched.done.load(Ordering::Acquire) {
                std::thread::sleep(TICK);
                ticks += 1;
                if ticks % 5 == 1 {
                    watched.sample_rss();
                }
                let deadline = watched.deadline_ns.load(Ordering::Acquire);
                if deadline != 0 && watched.epoch.elapsed().as_nanos() as u64 > deadline {
                    watched.timed_out.store(true, Ordering::Release);
                    watched.kill();
                    break;
                }
            }
        });
        Ok(Spawned {
            shared,
            stdin,
            stdout,
            watchdog: Some(watchdog),
            started,
            command: spec.display(),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// When the child was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Kills the child unless [`Spawned::disarm`] is called within `within`.
    pub fn arm(&self, within: Duration) {
        let at = self.shared.epoch.elapsed() + within;
        self.shared
            .deadline_ns
            .store((at.as_nanos() as u64).max(1), Ordering::Release);
    }

    /// Cancels the deadline set by [`Spawned::arm`].
    pub fn disarm(&self) {
        self.shared.deadline_ns.store(0, Ordering::Release);
    }

    /// Whether the watchdog killed the child because a deadline passed.
    pub fn timed_out(&self) -> bool {
        self.shared.timed_out.load(Ordering::Acquire)
    }

    /// Whether the child has exited (or been killed), with its status.
    pub fn exit_status(&self) -> Option<String> {
        let mut c = self.shared.child.lock().ok()?;
        c.try_wait().ok().flatten().map(|s| s.to_string())
    }

    /// Peak resident set size so far in KiB (`VmHWM`), the largest of the watchdog's samples and
    /// a reading now; `None` where `/proc` has no such figure (not Linux, or already gone).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.shared.sample_rss();
        let kib = self.shared.peak_kib.load(Ordering::Relaxed);
        (kib > 0).then_some(kib)
    }

    /// The command and the last lines of the child's stderr, for error messages.
    pub fn diagnostics(&self) -> String {
        let mut out = format!("command: {}\n", self.command);
        if let Some(s) = self.exit_status() {
            out.push_str(&format!("process exited: {s}\n"));
        }
        let tail = self
            .shared
            .stderr
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        let lines: Vec<&str> = tail.lines().collect();
        if !lines.is_empty() {
            out.push_str("stderr (last lines):\n");
            for line in &lines[lines.len().saturating_sub(10)..] {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stdin = None;
        self.shared.done.store(true, Ordering::Release);
        self.shared.kill();
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
    }
}

/// Kills every child spawned through this module that is still alive (on Ctrl-C: the process
/// then exits without running destructors).
pub fn kill_all() {
    let live: Vec<Arc<Shared>> = match LIVE.lock() {
        Ok(l) => l.iter().filter_map(Weak::upgrade).collect(),
        Err(_) => return,
    };
    for s in live {
        s.done.store(true, Ordering::Release);
        s.kill();
    }
}

/// `VmHWM` (peak resident set) of `pid` in KiB, from `/proc/<pid>/status`.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

/// `VmRSS` (resident set now) of `pid` in KiB, from `/proc/<pid>/status`.
pub fn current_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_kib(&status, "VmRSS:")
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text, in KiB.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    parse_kib(status, "VmHWM:")
}

/// The line starting with `field` (e.g. `VmRSS:`) of a `/proc/<pid>/status` text, in KiB.
fn parse_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(value),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_kib() {
        let status = "Name:\talloy-mcp\nVmPeak:\t  123456 kB\nVmHWM:\t   19560 kB\nVmRSS:\t   18000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(19560));
        assert_eq!(parse_kib(status, "VmRSS:"), Some(18000));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn an_armed_deadline_kills_a_silent_child_and_drop_reaps_it() {
        let spec = CommandSpec::new("sleep", &["30"]);
        let child = Spawned::spawn(&spec, Output::Pipe).expect("sleep starts");
        child.arm(Duration::from_millis(50));
        let until = Instant::now() + Duration::from_secs(10);
        while child.exit_status().is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(child.timed_out(), "the watchdog fired");
        assert!(child.exit_status().is_some(), "the child is gone");
    }

    #[test]
    fn the_peak_rss_of_a_live_child_is_read_from_proc() {
        let spec = CommandSpec::new("sleep", &["30"]);
        let child = Spawned::spawn(&spec, Output::Null).expect("sleep starts");
        if std::path::Path::new("/proc/self/status").exists() {
            let kib = child.peak_rss_kib();
            assert!(kib.is_some_and(|k| k > 0), "{kib:?}");
        }
        let pid = child.pid();
        drop(child);
        let gone = std::fs::read_to_string(format!("/proc/{pid}/status")).map_or(true, |s| !s.contains("VmHWM"));
        assert!(gone, "dropping the handle kills and reaps the child");
    }
}
