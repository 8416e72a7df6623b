//! The loop every delivery worker runs (the dispatcher, the notice worker, the expiry of
//! uncollected letters): a round claims what is due and works it; a full batch means more
//! is waiting, so the next round starts at once; otherwise the worker sleeps until the
//! next poll or the stop.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub async fn poll_until_stopped<F, Fut>(
    worker: &str,
    poll_interval: Duration,
    batch: i64,
    stop: CancellationToken,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, sqlx::Error>>,
{
    while !stop.is_cancelled() {
        let claimed = match round().await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(worker, %error, "a round failed; retrying");
                0
            }
        };
        if claimed > 0 && claimed as i64 >= batch {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll_interval) => {}
            _ = stop.cancelled() => {}
        }
    }
    tracing::info!(worker, "stopped");
}
