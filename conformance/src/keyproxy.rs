//! A loopback front door that adds an API key: for MCP clients that cannot send an
//! `Authorization` header (the official conformance suite, a quick look with a browser tool),
//! `alloy-conformance sandbox --keyless-addr ADDR` listens on ADDR and forwards every HTTP/1.1
//! request to `alloy-mcp --http` with `Authorization: Bearer <key>` set (a key the client sent
//! is replaced). One request per connection: the head is read (at most 64 KiB, within the read
//! limit), rewritten with `Connection: close`, and the rest is piped both ways unchanged, so
//! SSE answers stream as they come. Everything else (Origin, Host, bodies, statuses) passes
//! through, so the server's own checks still apply.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// How long a client may take to send its request head.
const HEAD_WITHIN: Duration = Duration::from_secs(30);

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum KeyProxyError {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds `listen`; the returned future serves until dropped.
pub async fn bind(listen: SocketAddr) -> Result<TcpListener, KeyProxyError> {
    TcpListener::bind(listen)
        .await
        .map_err(|source| KeyProxyError::Bind { addr: listen, source })
}

/// Accepts connections on `listener` and forwards each to `upstream` with the key added.
pub async fn serve(listener: TcpListener, upstream: SocketAddr, key: String) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let key = key.clone();
        tokio::spawn(async move {
            let _ = forward(client, upstream, &key).await;
        });
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, key: &str) -> std::io::Result<()> {
    let (head, rest) = match tokio::time::timeout(HEAD_WITHIN, read_head(&mut client)).await {
        Ok(Ok(Some(parts))) => parts,
        Ok(Ok(None)) => return refuse(&mut client, 431, "request head too large or malformed").await,
        Ok(Err(e)) => return Err(e),
        Err(_) => return refuse(&mut client, 408, "no complete request head in time").await,
    };
    let Some(head) = rewrite_head(&head, key) else {
        return refuse(&mut client, 400, "not an HTTP/1.1 request").await;
    };
    let mut server = match TcpStream::connect(upstream).await {
        Ok(s) => s,
        Err(e) => return refuse(&mut client, 502, &format!("cannot reach alloy-mcp at {upstream}: {e}")).await,
    };
    server.write_all(head.as_bytes()).await?;
    server.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

/// Reads up to the end of the head; `None` when it is longer than [`MAX_HEAD`] or the
/// connection ends first. Returns the head (without the blank line) and the bytes after it.
async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok(Some((head, buf[end + 4..].to_vec())));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The head with `Authorization` replaced by the key and `Connection: close`, ending with the
/// blank line; `None` when the request line is not HTTP/1.x.
fn rewrite_head(head: &str, key: &str) -> Option<String> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?;
    if !request_line.ends_with("HTTP/1.1") && !request_line.ends_with("HTTP/1.0") {
        return None;
    }
    let mut out = format!("{request_line}\r\n");
    for line in lines {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if name == "authorization" || name == "connection" {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Authorization: Bearer {key}\r\nConnection: close\r\n\r\n"));
    Some(out)
}

async fn refuse(client: &mut TcpStream, status: u16, why: &str) -> std::io::Result<()> {
    let body = format!("alloy-conformance key proxy: {why}\n");
    let answer = format!(
        "HTTP/1.1 {status} Refused\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(answer.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_replaces_any_authorization_and_the_connection_closes() {
        let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:1\r\nauthorization: Bearer other\r\nConnection: keep-alive\r\nContent-Length: 2";
        let out = rewrite_head(head, "alloy_test_key").expect("rewritten");
        assert!(
            out.starts_with("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 2\r\n"),
            "{out}"
        );
        assert!(
            out.ends_with("Authorization: Bearer alloy_test_key\r\nConnection: close\r\n\r\n"),
            "{out}"
        );
        assert!(!out.contains("other") && !out.contains("keep-alive"), "{out}");
        assert!(rewrite_head("GARBAGE", "k").is_none());
    }
}
