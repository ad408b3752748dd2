//! Reading a request body: at most [`super::MAX_BODY_BYTES`] (413 beyond) and within the body
//! timeout (408 after), so neither a huge nor a slow body can hold memory or a connection.

use super::refusal::Refusal;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use futures::StreamExt;
use std::time::Duration;

/// How long an oversized body is drained before the 413 goes out anyway.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The request body, or the refusal: 413 over `limit`, 408 when it takes longer than
/// `timeout`, 400 when it broke off.
///
/// An oversized body is still read (and dropped) up to another `limit` bytes or
/// [`DRAIN_TIME`], so the client, which is usually still sending, gets to read the 413
/// instead of a reset connection; then the connection is closed.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Refusal> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    let mut over = declared.is_some_and(|n| n > limit as u64);
    let read = async {
        let mut collected = Vec::with_capacity(declared.map_or(0, |n| n.min(limit as u64) as usize));
        while !over && let Some(chunk) = stream.next().await {
            let bytes = chunk.map_err(|e| Refusal::BodyUnreadable {
                detail: e.to_string(),
                timed_out: false,
            })?;
            if collected.len() + bytes.len() > limit {
                over = true;
            } else {
                collected.extend_from_slice(&bytes);
            }
        }
        Ok::<_, Refusal>(collected)
    };
    let collected = match tokio::time::timeout(timeout, read).await {
        Ok(outcome) => outcome?,
        Err(_) => {
            return Err(Refusal::BodyUnreadable {
                detail: format!("the body did not arrive within {} s", timeout.as_secs()),
                timed_out: true,
            });
        }
    };
    if !over {
        return Ok(Bytes::from(collected));
    }
    drop(collected);
    let mut drained = 0usize;
    let drain = async {
        while let Some(Ok(bytes)) = stream.next().await {
            drained += bytes.len();
            if drained > limit {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    Err(Refusal::TooLarge { limit })
}
