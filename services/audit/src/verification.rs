//! Verifies the whole chain against itself, the checkpoints in the database and the newest
//! checkpoint kept outside it (on the AUDIT stream).

use async_nats::jetstream;
use contracts::{streams, subjects};
use ed25519_dalek::VerifyingKey;
use sqlx::PgPool;

use crate::domain::checkpoint::Checkpoint;
use crate::domain::verify::{Report, Verifier};
use crate::store::{checkpoints, records};

const PAGE: i64 = 20_000;

pub async fn verify(
    pool: &PgPool,
    js: &jetstream::Context,
    trusted: &VerifyingKey,
) -> Result<Report, sqlx::Error> {
    let mut known = checkpoints::checkpoints_all(pool).await?;
    if let Some(outside) = newest_published_checkpoint(js).await {
        known.push(outside);
    }
    let mut verifier = Verifier::new(checkpoints::pruned_newest(pool).await?, known, trusted);
    // The next page is read while this one is hashed.
    let fetch = |after: i64| {
        let pool = pool.clone();
        tokio::spawn(async move { records::records_page(&pool, after, PAGE).await })
    };
    let mut next = fetch(0);
    loop {
        let page = next
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("page reader failed: {e}")))??;
        let Some(last) = page.last() else { break };
        next = fetch(last.position);
        if !page.iter().all(|record| verifier.feed(record)) {
            next.abort();
            break;
        }
    }
    Ok(verifier.finish())
}

/// The newest checkpoint on the AUDIT stream, if there is one.
pub async fn newest_published_checkpoint(js: &jetstream::Context) -> Option<Checkpoint> {
    let stream = js.get_stream(streams::AUDIT.name).await.ok()?;
    let message = stream
        .get_last_raw_message_by_subject(subjects::AUDIT_CHECKPOINT_SIGNED)
        .await
        .ok()?;
    serde_json::from_slice(&message.payload).ok()
}
