//! A small HTTP/1.1 server on a loopback address, for the two commands that answer MCP clients
//! over HTTP: `record --http` (a proxy) and `replay --http` (a recorded server). Hyper with a
//! header timeout, a bound on connections at once, streamed response bodies (SSE reaches the
//! client event by event) and a shutdown that stops accepting and gives open connections a
//! moment before they are dropped.

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A response body: whole or streamed.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send a request head.
const HEAD_WITHIN: Duration = Duration::from_secs(30);
/// How long open connections get to finish at shutdown.
const DRAIN_WITHIN: Duration = Duration::from_secs(2);

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// A body streamed from a channel: each item is sent as it arrives; the body ends when the
/// sender is dropped.
pub fn channel_body(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Body {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(hyper::body::Frame::data), rx))
    });
    http_body_util::StreamBody::new(stream).boxed()
}

/// A plain-text response.
pub fn text(status: u16, body: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(full(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Binds `addr`, which must be a loopback address (these servers carry API keys and
/// recordings; they are for this machine only).
pub async fn bind_loopback(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    if !addr.ip().is_loopback() {
        anyhow::bail!("{what} {addr}: listen on a loopback address (127.0.0.1 or [::1]); it is for this machine only");
    }
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("{what}: cannot listen on {addr}: {e}"))
}

/// What answers each request.
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<Body>> + Send + Sync>;

/// Serves `listener` with `handler` until `shutdown` completes, then stops accepting and gives
/// open connections [`DRAIN_WITHIN`] to finish.
pub async fn serve(listener: TcpListener, handler: Handler, shutdown: impl std::future::Future<Output = ()>) {
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = hyper::service::service_fn(move |req| {
            let handler = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(handler(req).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEAD_WITHIN)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    let _ = tokio::time::timeout(DRAIN_WITHIN, graceful.shutdown()).await;
}
