//! `perf-floor`: the floor `alloy-conformance perf` measures every server against, in the same
//! run on the same machine. A minimal synchronous JSON-RPC responder: it parses each request,
//! optionally makes one plain keep-alive HTTP GET to the upstream (the same mock API the server
//! under test uses), and answers with a canned result: the bytes the server under test answered
//! to the same method, so both move the same payload. Over stdio (newline-delimited, one thread)
//! or, with `--http ADDR`, HTTP/1.1 keep-alive with one thread per connection and a JSON body per
//! POST. No async runtime, no logging, no validation beyond JSON parsing: nothing a real server
//! could leave out is done here, so "ratio to the floor" is what the server adds.
//!
//! Only the harness runs it (it is found next to `alloy-conformance`):
//!
//! ```text
//! perf-floor [--http 127.0.0.1:PORT] [--answers FILE] [--upstream http://127.0.0.1:PORT
//!            --token KEY --get /api/v1/tickets/WEB-1 --get-on tools/call]
//! ```
//!
//! `FILE` is a JSON object from method to result (`{}` for a method it does not list). It exits
//! when stdin closes (stdio) or when killed (HTTP).

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;

/// What the responder does; parsed from the command line.
struct Config {
    http: Option<String>,
    /// Method → serialized result.
    answers: HashMap<String, String>,
    upstream: Option<Upstream>,
    get_on: String,
}

#[derive(Clone)]
struct Upstream {
    host: String,
    path: String,
    token: String,
}

fn main() -> ExitCode {
    match config(std::env::args().skip(1).collect()) {
        Ok(c) => {
            let c = Arc::new(c);
            let result = match &c.http {
                Some(addr) => serve_http(addr, c.clone()),
                None => serve_stdio(&c),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("perf-floor: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("perf-floor: {e}");
            ExitCode::from(2)
        }
    }
}

fn config(args: Vec<String>) -> Result<Config, String> {
    let mut it = args.into_iter();
    let (mut http, mut answers_file, mut upstream, mut token, mut path) = (None, None, None, None, None);
    let mut get_on = "tools/call".to_string();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--http" => http = Some(value()?),
            "--answers" => answers_file = Some(value()?),
            "--upstream" => upstream = Some(value()?),
            "--token" => token = Some(value()?),
            "--get" => path = Some(value()?),
            "--get-on" => get_on = value()?,
            other => return Err(format!("unknown argument `{other}` (see the file's top comment)")),
        }
    }
    let mut answers = HashMap::new();
    if let Some(file) = answers_file {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read --answers {file}: {e}"))?;
        let map: serde_json::Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| format!("--answers {file} is not a JSON object: {e}"))?;
        for (method, result) in map {
            answers.insert(method, result.to_string());
        }
    }
    let upstream = match (upstream, path) {
        (Some(url), Some(path)) => {
            let host = url
                .strip_prefix("http://")
                .ok_or_else(|| format!("--upstream {url}: only http:// URLs"))?
                .trim_end_matches('/')
                .to_string();
            if host.contains('/') {
                return Err(format!(
                    "--upstream {url}: give the base URL without a path; the path is --get"
                ));
            }
            Some(Upstream {
                host,
                path,
                token: token.unwrap_or_default(),
            })
        }
        (None, None) => None,
        _ => return Err("--upstream and --get go together".into()),
    };
    Ok(Config {
        http,
        answers,
        upstream,
        get_on,
    })
}

/// One keep-alive connection to the upstream.
struct UpstreamConn {
    up: Upstream,
    conn: Option<BufReader<TcpStream>>,
}

impl UpstreamConn {
    fn get(&mut self) -> Result<(), String> {
        // A connection the upstream closed since the last call is opened again, once.
        match self.try_get() {
            Ok(()) => Ok(()),
            Err(_) => {
                self.conn = None;
                self.try_get()
            }
        }
    }

    fn try_get(&mut self) -> Result<(), String> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.up.host).map_err(|e| format!("cannot reach {}: {e}", self.up.host))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().ok_or("no connection")?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: application/json\r\n\r\n",
            self.up.path, self.up.host, self.up.token
        );
        conn.get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let head = read_head(conn)?.ok_or("the upstream closed the connection")?;
        let status = head.lines().next().unwrap_or("");
        if !status.split_whitespace().nth(1).is_some_and(|c| c.starts_with('2')) {
            return Err(format!("upstream GET {} answered `{status}`", self.up.path));
        }
        read_body(conn, &head)?;
        Ok(())
    }
}

/// Reads an HTTP head up to the blank line; `None` when the peer closed before sending one.
fn read_head(r: &mut BufReader<TcpStream>) -> Result<Option<String>, String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err("connection closed inside a header".into())
            };
        }
        if line == "\r\n" || line == "\n" {
            return Ok(Some(head));
        }
        head.push_str(&line);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads a body framed by Content-Length or chunked transfer encoding.
fn read_body(r: &mut BufReader<TcpStream>, head: &str) -> Result<Vec<u8>, String> {
    if header(head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            r.read_line(&mut size).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("bad chunk size {size:?}"))?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let len: usize = match header(head, "content-length") {
        Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
        None => 0,
    };
    let mut body = vec![0; len];
    r.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

/// The answer to one message, or `None` for a notification.
fn respond(c: &Config, upstream: &mut Option<UpstreamConn>, message: &[u8]) -> Option<String> {
    let request: Value = match serde_json::from_slice(message) {
        Ok(v) => v,
        Err(_) => {
            return Some(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#.into());
        }
    };
    let id = request.get("id")?;
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let id = id.to_string();
    if method == c.get_on
        && let Some(up) = upstream.as_mut()
        && let Err(e) = up.get()
    {
        let message = Value::String(format!("floor upstream GET failed: {e}"));
        return Some(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32603,"message":{message}}}}}"#
        ));
    }
    let result = c.answers.get(method).map(String::as_str).unwrap_or("{}");
    Some(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#))
}

fn upstream_conn(c: &Config) -> Option<UpstreamConn> {
    c.upstream.clone().map(|up| UpstreamConn { up, conn: None })
}

fn serve_stdio(c: &Config) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut upstream = upstream_conn(c);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(|e| e.to_string())? == 0 {
            return Ok(());
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if let Some(answer) = respond(c, &mut upstream, text) {
            output.write_all(answer.as_bytes()).map_err(|e| e.to_string())?;
            output.write_all(b"\n").map_err(|e| e.to_string())?;
            output.flush().map_err(|e| e.to_string())?;
        }
    }
}

fn serve_http(addr: &str, c: Arc<Config>) -> Result<(), String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let c = c.clone();
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = serve_connection(stream, &c);
        });
    }
    Ok(())
}

fn serve_connection(stream: TcpStream, c: &Config) -> Result<(), String> {
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    let mut upstream = upstream_conn(c);
    while let Some(head) = read_head(&mut reader)? {
        let body = read_body(&mut reader, &head)?;
        let is_post = head.starts_with("POST ");
        let reply = match (is_post, is_post.then(|| respond(c, &mut upstream, &body)).flatten()) {
            (true, Some(answer)) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            ),
            (true, None) => "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_string(),
            (false, _) => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string(),
        };
        writer.write_all(reply.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(())
}
