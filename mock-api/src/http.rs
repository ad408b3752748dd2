//! The mock's HTTP transport: a hyper server (HTTP/1.1 and h2c) on its own thread and its own
//! single-threaded tokio runtime, so it serves whatever runtime (or none) the caller runs, the
//! way wiremock's `MockServer` did. It replaced wiremock because wiremock keeps a copy of every
//! request a mock matched for the life of the server (`MountedMock::matched_requests`, not
//! switched off by `disable_request_recording`) and reads every body whole: five 20 MiB POSTs
//! stayed in memory for good. Here a request lives only while it is answered, and at most
//! [`READ_CAP`] bytes of its body are held; the rest is read, counted and dropped.
//!
//! A handler is a synchronous function from a request, as the pipeline reads it
//! ([`RawRequest`], borrowing the body), to an [`Answer`]: a response (sent after an optional
//! delay, without holding any lock) or a dropped connection.

use crate::routes::RawRequest;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Most body bytes held per request: one more than the largest body any route accepts, so the
/// pipeline can still tell a body that is too large.
pub const READ_CAP: usize = crate::routes::IMPORT_BODY_LIMIT + 1;

/// Past this many bytes a body is no longer read (its size is then "at least this"); the
/// answer is sent and the connection closed.
pub const DRAIN_LIMIT: usize = 1024 * 1024 * 1024;

/// A finished response of a handler.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What a handler does with a request.
#[derive(Debug)]
pub enum Answer {
    /// Send this response after the delay, if any.
    Respond(Response, Option<Duration>),
    /// Close the connection without answering.
    Drop,
}

/// A request handler.
pub type Handler = Arc<dyn Fn(&RawRequest<'_>) -> Answer + Send + Sync>;

/// A running server; dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    _shutdown: watch::Sender<()>,
}

impl Server {
    /// Serves `listener` with `handler` on a new thread.
    pub fn start(listener: std::net::TcpListener, handler: Handler) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (tx, rx) = watch::channel(());
        std::thread::Builder::new()
            .name(format!("alloy-mock-http-{}", addr.port()))
            .spawn(move || {
                // Dropping the runtime when the loop ends cancels every connection task.
                runtime.block_on(accept_loop(listener, handler, rx));
            })?;
        Ok(Server { addr, _shutdown: tx })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }
}

/// Marks a connection to be closed without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

async fn accept_loop(listener: std::net::TcpListener, handler: Handler, mut shutdown: watch::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before accept: keep serving
                // the others, after a pause so a persistent error does not spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let handler = handler.clone();
                async move { serve_one(req, &handler).await }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            // With a timer, hyper drops a connection whose request head takes over 30 s.
            builder.http1().timer(TokioTimer::new());
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn serve_one(req: hyper::Request<Incoming>, handler: &Handler) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (head, body) = req.into_parts();
    let Ok((body, body_len)) = read_body(body, head.headers.get(hyper::header::CONTENT_LENGTH)).await else {
        // The client went away mid-body: nobody is left to answer.
        return Err(Dropped);
    };
    let received = RawRequest {
        method: head.method.as_str().to_ascii_uppercase(),
        path: head.uri.path().to_string(),
        query: head.uri.query().map(decode_query).unwrap_or_default(),
        headers: head
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: &body,
        body_len,
    };
    match handler(&received) {
        Answer::Drop => Err(Dropped),
        Answer::Respond(r, delay) => {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let mut builder = hyper::Response::builder().status(r.status);
            for (k, v) in &r.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            // Only a handler bug (an invalid header) fails here; the client then sees the
            // connection close, as with any server error.
            builder.body(Full::new(Bytes::from(r.body))).map_err(|_| Dropped)
        }
    }
}

/// Reads a body, keeping its first [`READ_CAP`] bytes and counting the rest (up to
/// [`DRAIN_LIMIT`]).
async fn read_body(
    mut body: Incoming,
    declared: Option<&hyper::header::HeaderValue>,
) -> Result<(Vec<u8>, usize), hyper::Error> {
    let hint = declared
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut kept = Vec::with_capacity(hint.min(READ_CAP));
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        total = total.saturating_add(data.len());
        let room = READ_CAP.saturating_sub(kept.len());
        kept.extend_from_slice(&data[..room.min(data.len())]);
        if total > DRAIN_LIMIT {
            break;
        }
    }
    Ok((kept, total))
}

/// Decodes a query string as `application/x-www-form-urlencoded` (`+` is a space, `%XX`
/// escapes, empty pairs skipped).
pub fn decode_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| crate::routes::percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_forms() {
        assert_eq!(
            decode_query("q=a+b%2Bc&&x&sort=-priority&e=%E2%9C%93"),
            vec![
                ("q".into(), "a b+c".into()),
                ("x".into(), String::new()),
                ("sort".into(), "-priority".into()),
                ("e".into(), "✓".into()),
            ]
        );
    }
}
