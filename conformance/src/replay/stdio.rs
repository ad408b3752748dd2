//! `replay --stdio`: the recording as a stdio MCP server. Lines are read from stdin one at a
//! time (each at most [`LINE_CAP`] bytes kept; a longer one is answered as unmatched), answered
//! on stdout, and the process ends at EOF, or when the recording shows the server closing the
//! connection, with the summary on stderr: exit 0 when everything matched, 1 otherwise.

use super::{Book, Out};
use crate::transcript::Serving;
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

/// The longest line kept for matching.
const LINE_CAP: usize = 64 << 20;

/// Serves `book` on stdin/stdout until EOF.
pub fn serve(book: Book, what: &str) -> ExitCode {
    eprintln!("alloy-conformance replay: serving {what} on stdio");
    let mut session = book.fresh();
    let serving = Serving::default();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut stdout = std::io::stdout().lock();
    let mut line = Vec::new();
    'lines: loop {
        line.clear();
        match (&mut input).take(LINE_CAP as u64).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() >= LINE_CAP && !line.ends_with(b"\n") {
            // Skip the rest of an over-long line; it is answered like any unknown frame.
            let mut rest = Vec::new();
            while !matches!(
                (&mut input).take(LINE_CAP as u64).read_until(b'\n', &mut rest),
                Ok(0) | Err(_)
            ) {
                if rest.ends_with(b"\n") {
                    break;
                }
                rest.clear();
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        for out in session.answer(text, &serving) {
            let written = match out {
                Out::Message(m) => writeln!(stdout, "{m}"),
                Out::Raw(t) => writeln!(stdout, "{t}"),
                Out::HttpStatus { .. } => Ok(()),
                Out::Close => break 'lines,
            };
            if written.and_then(|()| stdout.flush()).is_err() {
                break 'lines;
            }
        }
    }
    let (summary, ok) = session.summary(std::slice::from_ref(&session));
    eprintln!("{summary}");
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
