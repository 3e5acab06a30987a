//! Server-Sent Events over a broadcast channel: a first frame, then one frame per item, a
//! keep-alive comment every [`KEEPALIVE`]. A client that falls behind the channel's buffer
//! (`Lagged`) is dropped: its stream ends, nobody else waits for it. Streams also end when the
//! server starts shutting down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event as Frame, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

/// Interval of the `: keepalive` comment.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

struct Feed<T, F> {
    first: Option<Frame>,
    rx: broadcast::Receiver<Arc<T>>,
    closing: CancellationToken,
    render: F,
}

/// The SSE response: `first`, then `render(item)` for each item it does not skip (`None`).
pub fn stream<T, F>(
    first: Frame,
    rx: broadcast::Receiver<Arc<T>>,
    closing: CancellationToken,
    render: F,
) -> Response
where
    T: Send + Sync + 'static,
    F: FnMut(&T) -> Option<Frame> + Send + 'static,
{
    let feed = Feed {
        first: Some(first),
        rx,
        closing,
        render,
    };
    let frames = futures_util::stream::unfold(feed, |mut f| async move {
        if let Some(first) = f.first.take() {
            return Some((Ok::<_, Infallible>(first), f));
        }
        loop {
            let item = tokio::select! {
                _ = f.closing.cancelled() => return None,
                item = f.rx.recv() => item,
            };
            match item {
                Ok(item) => {
                    if let Some(frame) = (f.render)(&item) {
                        return Some((Ok(frame), f));
                    }
                }
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(target: "api", skipped, "a slow stream client fell behind and was dropped");
                    return None;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let sse = Sse::new(frames).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive"));
    // Tells nginx not to buffer the stream (Caddy needs `flush_interval -1`).
    ([("x-accel-buffering", "no")], sse).into_response()
}
