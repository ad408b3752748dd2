//! `record --stdio CMD`: the recorder is the command the client starts. It spawns the real
//! server (`sh -c "exec CMD"`) and stands between the two: every byte from the client goes to
//! the server's stdin as it comes (malformed lines included), every line from the server to
//! the client's stdout unchanged, the server's stderr is the recorder's (inherited), the
//! client's EOF closes the server's stdin and the server's exit status is the recorder's. The
//! client notices nothing but a little latency.
//!
//! Every frame is recorded before it is forwarded (a server line before the client can read
//! it, a client line before the server can), so the order recorded is the causal one: an
//! answer can never be recorded before its request, nor a request before the answer the
//! client waited for.
//!
//! Our own stdin and stdout are served by two plain threads (a read blocked on a client that
//! keeps stdin open must not keep the process from exiting), the child's pipes by tokio. At
//! the stateless wire a session whose client never asked `server/discover` gets
//! one private `server/discover` (its answer is not forwarded) after the client's EOF, for the
//! `discover` entry of the transcript.

use super::session::{ClientFrame, Session};
use super::{Ctx, FRAME_CAP, SESSION_CAP, exit_code_of, journal_values};
use crate::driver::parse_frame;
use crate::era;
use crate::transcript::{Received, ReceivedEvent};
use anyhow::Context;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

/// The id of the recorder's own `server/discover`.
const PRIVATE_ID: &str = "alloy-conformance-record-discover";
/// How long the server may take to exit once its stdin is closed, before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(30);
/// How long the private `server/discover` may take.
const DISCOVER_WITHIN: Duration = Duration::from_secs(10);

/// Splits a byte stream into lines (without the `\n`), each at most [`FRAME_CAP`] bytes kept.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
    dropped: usize,
}

/// One line, or the size of one too long to keep.
enum Line {
    Text(Vec<u8>),
    TooLong(usize),
}

impl Lines {
    fn push(&mut self, chunk: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.take(&rest[..pos]);
            out.push(self.end());
            rest = &rest[pos + 1..];
        }
        self.take(rest);
        out
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = FRAME_CAP.saturating_sub(self.buf.len());
        let kept = bytes.len().min(room);
        self.buf.extend_from_slice(&bytes[..kept]);
        self.dropped += bytes.len() - kept;
    }

    fn end(&mut self) -> Line {
        let line = std::mem::take(&mut self.buf);
        let dropped = std::mem::take(&mut self.dropped);
        if dropped > 0 {
            Line::TooLong(line.len() + dropped)
        } else {
            Line::Text(line)
        }
    }

    /// Whether the next byte starts a line.
    fn at_line_start(&self) -> bool {
        self.buf.is_empty() && self.dropped == 0
    }

    /// The unterminated rest at EOF, if any.
    fn finish(&mut self) -> Option<Line> {
        (!self.buf.is_empty() || self.dropped > 0).then(|| self.end())
    }
}

/// The text of a client line as `run`'s stdio driver would send it back (it adds the `\n`).
fn line_text(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    (!text.trim().is_empty()).then(|| text.to_string())
}

struct Shared {
    session: Mutex<Session>,
    ctx: Arc<Ctx>,
    /// Bytes recorded so far; past [`SESSION_CAP`] frames are forwarded, not recorded.
    recorded: Mutex<usize>,
}

impl Shared {
    fn within_budget(&self, bytes: usize) -> bool {
        let Ok(mut r) = self.recorded.lock() else { return false };
        if *r >= SESSION_CAP {
            return false;
        }
        *r += bytes;
        if *r >= SESSION_CAP
            && let Ok(mut s) = self.session.lock()
        {
            s.note(format!(
                "the session passed {} MiB: later frames were forwarded but not recorded",
                SESSION_CAP >> 20
            ));
        }
        true
    }

    fn client(&self, line: Line) {
        let frame = match line {
            Line::Text(bytes) => match line_text(&bytes) {
                Some(text) => {
                    if !self.within_budget(text.len()) {
                        return;
                    }
                    ClientFrame::parse(&text)
                }
                None => return,
            },
            Line::TooLong(n) => {
                self.note(format!(
                    "a client frame of {n} bytes (over {} MiB) was forwarded but not recorded: the recording is incomplete",
                    FRAME_CAP >> 20
                ));
                return;
            }
        };
        if let Ok(mut s) = self.session.lock() {
            let journal = journal_values(self.ctx.mock.as_deref());
            s.client(frame, journal);
        }
    }

    fn server(&self, item: Received) {
        if let Ok(mut s) = self.session.lock() {
            s.server(item, || journal_values(self.ctx.mock.as_deref()));
        }
    }

    fn note(&self, note: String) {
        if let Ok(mut s) = self.session.lock() {
            s.note(note);
        }
    }
}

/// Runs the recorder for the server command line `cmd` until the client or the server ends
/// the session; writes the recording; returns the server's exit status.
pub async fn record(cmd: &str, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let ctx = Arc::new(ctx);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("exec {cmd}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(mock) = &ctx.mock {
        command
            .env("ALLOY_API_URL", mock.base_url())
            .env("ALLOY_API_TOKEN", ctx.role.key(mock.keys()));
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start the server `{cmd}`"))?;
    let child_stdin = child.stdin.take().context("the server has no stdin pipe")?;
    let child_stdout = child.stdout.take().context("the server has no stdout pipe")?;
    let shared = Arc::new(Shared {
        session: Mutex::new(Session::default()),
        ctx: ctx.clone(),
        recorded: Mutex::new(0),
    });

    // Our stdout: a thread writing what the server pump hands it, flushing every line.
    let (out_tx, out_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let (out_done_tx, out_done_rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut stdout = std::io::stdout().lock();
        for bytes in out_rx {
            if stdout.write_all(&bytes).and_then(|()| stdout.flush()).is_err() {
                break;
            }
        }
        let _ = out_done_tx.send(());
    });
    // Our stdin: a thread reading chunks as they come.
    let (in_tx, mut in_rx) = mpsc::channel::<Vec<u8>>(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if in_tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    // Server → client.
    let (discover_tx, discover_rx) = oneshot::channel::<Vec<String>>();
    let client_gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server_pump = {
        let shared = shared.clone();
        let client_gone = client_gone.clone();
        tokio::spawn(async move {
            let mut discover_tx = Some(discover_tx);
            let mut reader = BufReader::with_capacity(64 * 1024, child_stdout);
            let mut lines = Lines::default();
            let mut buf = Vec::new();
            loop {
                buf.clear();
                // At most one frame's cap per read, so a huge line passes in pieces.
                match (&mut reader).take(FRAME_CAP as u64).read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if lines.at_line_start()
                    && buf.ends_with(b"\n")
                    && let Some(supported) = private_answer(String::from_utf8_lossy(&buf).trim_end())
                {
                    if let Some(tx) = discover_tx.take() {
                        let _ = tx.send(supported);
                    }
                    continue;
                }
                // Recorded before it is forwarded: the client may answer at once.
                for line in lines.push(&buf) {
                    let Line::Text(bytes) = line else {
                        shared.note(format!(
                            "a server frame over {} MiB was forwarded but not recorded: the recording is incomplete",
                            FRAME_CAP >> 20
                        ));
                        continue;
                    };
                    let text = String::from_utf8_lossy(&bytes);
                    let text = text.trim_end_matches('\r');
                    if !text.trim().is_empty() && shared.within_budget(text.len()) {
                        shared.server(Received::from(&parse_frame(text)));
                    }
                }
                let _ = out_tx.send(buf.clone());
            }
            if let Some(Line::Text(rest)) = lines.finish()
                && let Some(text) = line_text(&rest)
                && shared.within_budget(text.len())
            {
                shared.server(Received::from(&parse_frame(&text)));
            }
            // The server ended the conversation while the client was still there: `run`
            // sees the same as a `closed` event.
            if !client_gone.load(std::sync::atomic::Ordering::SeqCst) {
                shared.server(Received::Event(ReceivedEvent::Closed));
            }
            drop(out_tx);
        })
    };

    // Client → server.
    let client_pump = {
        let shared = shared.clone();
        let client_gone = client_gone.clone();
        tokio::spawn(async move {
            let mut stdin: ChildStdin = child_stdin;
            let mut lines = Lines::default();
            while let Some(chunk) = in_rx.recv().await {
                for line in lines.push(&chunk) {
                    shared.client(line);
                }
                if stdin.write_all(&chunk).await.is_err() || stdin.flush().await.is_err() {
                    // The server is gone; keep reading so the client is not blocked.
                    continue;
                }
            }
            client_gone.store(true, std::sync::atomic::Ordering::SeqCst);
            if let Some(rest) = lines.finish() {
                shared.client(rest);
            }
            let needs = shared.session.lock().map(|s| s.needs_discover()).unwrap_or(false);
            if needs {
                let ask = json!({"jsonrpc": "2.0", "id": PRIVATE_ID, "method": "server/discover",
                    "params": {"_meta": era::request_meta(era::STATELESS_VERSION)}});
                let mut line = ask.to_string().into_bytes();
                line.push(b'\n');
                if stdin.write_all(&line).await.is_ok() && stdin.flush().await.is_ok() {
                    match tokio::time::timeout(DISCOVER_WITHIN, discover_rx).await {
                        Ok(Ok(supported)) => {
                            if let Ok(mut s) = shared.session.lock() {
                                s.set_discover(supported);
                            }
                        }
                        _ => shared.note(
                            "the server did not answer the recorder's server/discover: the transcript's discover entry lists no versions".into(),
                        ),
                    }
                }
            }
            // Dropping stdin is the server's EOF.
            drop(stdin);
        })
    };

    let code = tokio::select! {
        status = child.wait() => exit_code_of(status.ok()),
        _ = client_pump => {
            match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(status) => exit_code_of(status.ok()),
                Err(_) => {
                    eprintln!(
                        "alloy-conformance record: the server did not exit within {} s of its stdin closing; stopping it",
                        EXIT_GRACE.as_secs()
                    );
                    let _ = child.kill().await;
                    exit_code_of(None)
                }
            }
        }
        signal = super::termination() => {
            // A terminal's Ctrl-C reaches the server too; otherwise it is stopped here.
            if tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
            ExitCode::from(128 + signal)
        }
    };
    // Whatever the server wrote before exiting reaches the client, then the recording is
    // written.
    let _ = tokio::time::timeout(Duration::from_secs(5), server_pump).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), out_done_rx).await;
    let session = shared
        .session
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    super::write_session(&ctx, session, crate::driver::Transport::Stdio, ctx.role);
    Ok(code)
}

/// The `supportedVersions` of the answer to the recorder's own `server/discover`.
fn private_answer(text: &str) -> Option<Vec<String>> {
    if !text.contains(PRIVATE_ID) {
        return None;
    }
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("id").and_then(Value::as_str) != Some(PRIVATE_ID) || v.get("method").is_some() {
        return None;
    }
    Some(
        v.pointer("/result/supportedVersions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_and_keep_their_bytes() {
        let mut l = Lines::default();
        assert!(l.push(b"{\"a\":").is_empty());
        let out = l.push(b"1}\r\n\n{\"b\"");
        let texts: Vec<Option<String>> = out
            .iter()
            .map(|x| match x {
                Line::Text(b) => line_text(b),
                Line::TooLong(_) => None,
            })
            .collect();
        assert_eq!(texts, vec![Some("{\"a\":1}".to_string()), None]);
        assert!(matches!(l.finish(), Some(Line::Text(b)) if b == b"{\"b\""));
        assert!(l.finish().is_none());
    }

    #[test]
    fn only_the_private_discover_answer_is_held_back() {
        let answer =
            format!(r#"{{"jsonrpc":"2.0","id":"{PRIVATE_ID}","result":{{"supportedVersions":["2026-07-28"]}}}}"#);
        assert_eq!(private_answer(&answer), Some(vec!["2026-07-28".to_string()]));
        let echoed = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"text":"{PRIVATE_ID}"}}}}"#);
        assert_eq!(private_answer(&echoed), None);
    }
}
