//! The transactional outbox: `outbox_insert` in the transaction of the state change,
//! and a relay that publishes pending rows with `Nats-Msg-Id` = the row's id, marking
//! them sent only after JetStream acknowledged them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::propagation::current_context_headers;
use crate::settings::OutboxSettings;

/// Records an event to publish once the surrounding transaction commits.
#[tracing::instrument(skip_all, fields(subject = subject))]
pub async fn outbox_insert(
    conn: &mut PgConnection,
    id: Uuid,
    subject: &str,
    payload: &[u8],
) -> Result<(), sqlx::Error> {
    let headers = serde_json::to_value(current_context_headers()).unwrap_or_default();
    sqlx::query("INSERT INTO kit_outbox (id, subject, payload, headers) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(subject)
        .bind(payload)
        .bind(headers)
        .execute(conn)
        .await?;
    Ok(())
}

/// Serialises `message` as JSON and records it with `outbox_insert`.
pub async fn outbox_insert_json<T: Serialize>(
    conn: &mut PgConnection,
    id: Uuid,
    subject: &str,
    message: &T,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_vec(message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    outbox_insert(conn, id, subject, &payload).await
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    seq: i64,
    id: Uuid,
    subject: String,
    payload: Vec<u8>,
    headers: sqlx::types::Json<HashMap<String, String>>,
}

pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    wake: Arc<Notify>,
    settings: OutboxSettings,
}

impl Relay {
    pub fn new(
        pool: PgPool,
        js: jetstream::Context,
        wake: Arc<Notify>,
        settings: OutboxSettings,
    ) -> Self {
        Self {
            pool,
            js,
            wake,
            settings,
        }
    }

    /// Publishes until `stop` fires, then drains what is pending once more and returns.
    pub async fn run(self, stop: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut last_cleanup = Instant::now();
        loop {
            let published = match self.publish_batch().await {
                Ok(n) => n,
                Err(error) => {
                    tracing::warn!(%error, "outbox relay: publishing failed; retrying");
                    0
                }
            };
            if stop.is_cancelled() && published == 0 {
                break;
            }
            if published as i64 >= self.settings.batch {
                continue;
            }
            if last_cleanup.elapsed() > Duration::from_secs(3600) {
                last_cleanup = Instant::now();
                if let Err(error) = self.prune().await {
                    tracing::warn!(%error, "outbox relay: pruning old rows failed");
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.cancelled() => {}
            }
        }
    }

    /// Claims a batch (other replicas skip it), publishes it, awaits every ack, marks it sent.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut tx = self.pool.begin().await?;
        // Marking rows published need not wait for the WAL flush: if a database crash loses
        // the mark, the rows go out again under the same Nats-Msg-Id, which JetStream (within
        // its duplicate window) and every consumer's inbox (after it) recognise.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let rows: Vec<PendingRow> = sqlx::query_as(
            "SELECT seq, id, subject, payload, headers FROM kit_outbox
             WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.settings.batch)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut acks = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut headers = async_nats::HeaderMap::new();
            for (k, v) in row.headers.iter() {
                headers.insert(k.as_str(), v.as_str());
            }
            let publish = PublishMessage::build()
                .payload(row.payload.clone().into())
                .headers(headers)
                .message_id(row.id.to_string());
            let ack = self
                .js
                .send_publish(row.subject.clone(), publish)
                .await
                .map_err(|e| RelayError::Publish(e.to_string()))?;
            acks.push(ack);
        }
        for ack in
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await
        {
            ack.map_err(|e| RelayError::Publish(e.to_string()))?;
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        sqlx::query("UPDATE kit_outbox SET published_at = now() WHERE seq = ANY($1)")
            .bind(&seqs)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::debug!(count = rows.len(), "outbox relay: published");
        Ok(rows.len())
    }

    async fn prune(&self) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM kit_outbox WHERE published_at < now() - interval '7 days'")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("JetStream publish: {0}")]
    Publish(String),
}
