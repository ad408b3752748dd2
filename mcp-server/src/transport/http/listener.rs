//! The accept loop: one hyper HTTP/1.1 connection per socket, with the limits a public
//! listener needs before anyone has shown a key.
//!
//! - **Header timeout** (`--header-timeout`, hyper's `header_read_timeout`): a request's
//!   headers must arrive within it, counted from when the connection can send one (a new
//!   connection, or one whose previous answer went out). A silent connection is closed after
//!   it, which makes it the idle timeout of kept-alive connections too. A response being
//!   streamed (an SSE stream, a long tool call) is not affected.
//! - **Body timeout** (`--body-timeout`): enforced where bodies are read (`body::read_body`).
//! - **Connections per client address** (`--max-connections-per-ip`, 0 = no cap): one more is
//!   answered 429 (after its headers, within the header timeout) and closed.
//! - `TCP_NODELAY` on every socket; the peer address is given to handlers as axum's
//!   `ConnectInfo`.
//!
//! Shutdown: stop accepting, ask every connection to finish its in-flight request and close,
//! and wait for them, at most `drain`.

use super::options::Limits;
use super::refusal::Refusal;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

/// Open connections per client address.
#[derive(Debug)]
pub(crate) struct PerIp {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerIp {
    pub(crate) fn new(max: usize) -> Arc<PerIp> {
        Arc::new(PerIp {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it holds the maximum.
    pub(crate) fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            per_ip: self.clone(),
            ip,
        })
    }

    /// How many connections `ip` holds.
    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ip)
            .copied()
            .unwrap_or(0)
    }
}

/// One connection's place in [`PerIp`]; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    per_ip: Arc<PerIp>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.per_ip.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until `shutdown`, then drains them (at most `drain`).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let per_ip = PerIp::new(limits.max_connections_per_ip);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        match per_ip.enter(peer.ip()) {
            Some(slot) => {
                let conn = connection(tcp, peer, app.clone(), limits);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            None => {
                tracing::info!(client = %peer.ip(), limit = limits.max_connections_per_ip, "too many connections from one address; refused");
                let refuse = hyper::service::service_fn(|_req: hyper::Request<Incoming>| async {
                    Ok::<_, Infallible>(Refusal::TooManyConnections.into_response())
                });
                let conn = builder(&limits).serve_connection(TokioIo::new(tcp), refuse);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(limits.header_timeout * 2, conn).await;
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!(after_secs = drain.as_secs(), "gave up waiting for in-flight requests");
    }
}

fn builder(limits: &Limits) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    b
}

/// One HTTP/1.1 connection serving `app`, with the peer address in every request.
fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
) -> hyper::server::conn::http1::Connection<
    TokioIo<TcpStream>,
    impl hyper::service::Service<
        hyper::Request<Incoming>,
        Response = axum::response::Response,
        Error = Infallible,
        Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
    > + Send,
> {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        async move { app.call(req).await }
    });
    builder(&limits).serve_connection(TokioIo::new(tcp), service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_capped_per_address_and_given_back() {
        let per_ip = PerIp::new(2);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let s1 = per_ip.enter(a).expect("first");
        let _s2 = per_ip.enter(a).expect("second");
        assert!(per_ip.enter(a).is_none(), "a third from one address is refused");
        assert!(per_ip.enter(b).is_some(), "another address is not affected");
        drop(s1);
        assert_eq!(per_ip.count(a), 1);
        assert!(per_ip.enter(a).is_some());
        let unlimited = PerIp::new(0);
        let slots: Vec<_> = (0..100).filter_map(|_| unlimited.enter(a)).collect();
        assert_eq!(slots.len(), 100);
    }
}
