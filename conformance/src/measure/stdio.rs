//! A blocking newline-delimited JSON-RPC client on a spawned server's stdin/stdout: write a
//! line, read lines until the answer with the request's id, on the calling thread (no channel,
//! no task between the pipe and the clock). Each wait is time-boxed by arming the child's
//! watchdog ([`Spawned::arm`]): a silent server is killed, the read ends, and the call fails with
//! [`CallError::Timeout`]. Messages from the server that are not the awaited answer
//! (notifications, its own requests) are skipped.

use crate::driver::stdio::CommandSpec;
use crate::measure::process::{Output, Spawned};
use crate::measure::{CallError, Seen, classify};
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout};
use std::time::Duration;

/// A spawned stdio server and the reader on its stdout.
pub struct StdioClient {
    process: Spawned,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: Vec<u8>,
    timeout: Duration,
}

impl StdioClient {
    /// Spawns `spec`; every later wait is bounded by `timeout`.
    pub fn spawn(spec: &CommandSpec, timeout: Duration) -> Result<StdioClient, CallError> {
        let mut process = Spawned::spawn(spec, Output::Pipe)?;
        let stdin = process
            .stdin
            .take()
            .ok_or_else(|| CallError::Connect("the child has no stdin pipe".into()))?;
        let stdout = process
            .stdout
            .take()
            .ok_or_else(|| CallError::Connect("the child has no stdout pipe".into()))?;
        Ok(StdioClient {
            process,
            stdin,
            stdout: BufReader::with_capacity(256 * 1024, stdout),
            line: Vec::with_capacity(256 * 1024),
            timeout,
        })
    }

    /// The process (pid, RSS, diagnostics).
    pub fn process(&self) -> &Spawned {
        &self.process
    }

    /// Writes one frame and its newline.
    pub fn send(&mut self, frame: &str) -> Result<(), CallError> {
        self.process.arm(self.timeout);
        let written = self
            .stdin
            .write_all(frame.as_bytes())
            .and_then(|_| self.stdin.write_all(b"\n"))
            .and_then(|_| self.stdin.flush());
        self.process.disarm();
        written.map_err(|e| self.gone(format!("cannot write to stdin: {e}")))
    }

    /// Reads lines until the answer to request `id` (to any request when `None`); returns
    /// whether it is a JSON-RPC error and its bytes (without the newline), valid until the next
    /// call.
    pub fn recv_answer(&mut self, id: Option<u64>) -> Result<(bool, &[u8]), CallError> {
        self.process.arm(self.timeout);
        let result = loop {
            self.line.clear();
            match self.stdout.read_until(b'\n', &mut self.line) {
                Ok(0) => break Err(()),
                Ok(_) => {
                    let end = trimmed_len(&self.line);
                    if end == 0 {
                        continue;
                    }
                    match classify(&self.line[..end], id) {
                        Ok(Seen::Answer { error }) => break Ok((end, error)),
                        Ok(Seen::Other) => continue,
                        Err(e) => {
                            self.process.disarm();
                            return Err(e);
                        }
                    }
                }
                Err(_) => break Err(()),
            }
        };
        self.process.disarm();
        match result {
            Ok((end, error)) => Ok((error, &self.line[..end])),
            Err(()) => Err(self.gone("stdout closed".into())),
        }
    }

    /// Sends request `frame` (whose id is `id`) and returns the bytes of its answer (a JSON-RPC
    /// error answer included: see [`StdioClient::recv_answer`] to tell).
    pub fn call(&mut self, id: u64, frame: &str) -> Result<&[u8], CallError> {
        self.send(frame)?;
        self.recv_answer(Some(id)).map(|(_, bytes)| bytes)
    }

    fn gone(&self, what: String) -> CallError {
        if self.process.timed_out() {
            CallError::Timeout(self.timeout)
        } else {
            CallError::Closed(format!("{what}\n{}", self.process.diagnostics()))
        }
    }
}

fn trimmed_len(line: &[u8]) -> usize {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    end
}
