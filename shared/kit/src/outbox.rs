//! The transactional outbox: `outbox_insert` in the transaction of the state change,
//! and a relay that publishes pending rows with `Nats-Msg-Id` = the row's id, marking
//! them sent only after JetStream acknowledged them.
//!
//! The relay publishes oldest first, and retries a batch that failed. A row the bus can never
//! take (larger than the server's payload limit, or with an invalid subject) would so stop
//! every later event of the service; such a row is set aside instead, with the reason, and a
//! small dead letter (`deadletter.<service>.outbox`, audited) names it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use contracts::{Envelope, Event};
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

/// Records an event, on the subject its type names, with its id as `Nats-Msg-Id`.
pub async fn outbox_insert_event<T: Event>(
    conn: &mut PgConnection,
    event: &Envelope<T>,
) -> Result<(), sqlx::Error> {
    outbox_insert_json(conn, event.id, event.subject(), event).await
}

/// Records an event that carries a sealed secret: like `outbox_insert_event`, but the row
/// is deleted, not kept, once the bus has it.
pub async fn outbox_insert_transient_event<T: Event>(
    conn: &mut PgConnection,
    event: &Envelope<T>,
) -> Result<(), sqlx::Error> {
    outbox_insert_event(conn, event).await?;
    sqlx::query("UPDATE kit_outbox SET transient = true WHERE id = $1")
        .bind(event.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Serialises `message` as JSON and records it with `outbox_insert`; for messages that are
/// not events (SEOD's statuses, audit's checkpoints).
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
    /// Names the dead letters of rows set aside.
    service: String,
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
            service: "kit".to_owned(),
        }
    }

    /// The service whose outbox this is (its dead letters are `deadletter.<service>.outbox`).
    pub fn of_service(mut self, service: &str) -> Self {
        self.service = service.to_owned();
        self
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
        let max_payload = self.js.client().server_info().max_payload;
        let (rows, refused): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .map(|row| {
                let why = unpublishable(&row, max_payload);
                (row, why)
            })
            .partition(|(_, why)| why.is_none());
        for (row, why) in &refused {
            self.set_aside(&mut tx, row, why.as_deref().unwrap_or_default())
                .await?;
        }
        let rows: Vec<PendingRow> = rows.into_iter().map(|(row, _)| row).collect();
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
        // A sealed secret stays no longer than it takes the bus to have it.
        sqlx::query("DELETE FROM kit_outbox WHERE seq = ANY($1) AND transient")
            .bind(&seqs)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::debug!(count = rows.len(), "outbox relay: published");
        Ok(rows.len() + refused.len())
    }

    /// Marks `row` as never to be published, and says so in a dead letter of its own.
    async fn set_aside(
        &self,
        tx: &mut PgConnection,
        row: &PendingRow,
        why: &str,
    ) -> Result<(), RelayError> {
        tracing::error!(outbox_id = %row.id, reason = why, "outbox relay: a row the bus refuses is set aside");
        let named: String = row.subject.chars().take(200).collect();
        let body = serde_json::json!({
            "outbox_id": row.id,
            "subject": named,
            "bytes": row.payload.len(),
            "reason": why,
        });
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(contracts::subjects::headers::DEAD_LETTER_ERROR, why);
        headers.insert(
            contracts::subjects::headers::DEAD_LETTER_SERVICE,
            self.service.as_str(),
        );
        let publish = PublishMessage::build()
            .payload(serde_json::to_vec(&body).unwrap_or_default().into())
            .headers(headers)
            .message_id(format!("set-aside-{}", row.id));
        self.js
            .send_publish(
                contracts::subjects::dead_letter(&self.service, "outbox"),
                publish,
            )
            .await
            .map_err(|e| RelayError::Publish(e.to_string()))?
            .await
            .map_err(|e| RelayError::Publish(e.to_string()))?;
        sqlx::query("UPDATE kit_outbox SET published_at = now(), set_aside = $2 WHERE seq = $1")
            .bind(row.seq)
            .bind(why)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn prune(&self) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM kit_outbox WHERE published_at < now() - interval '7 days'")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Why the bus would never take `row`, if it would not.
fn unpublishable(row: &PendingRow, max_payload: usize) -> Option<String> {
    if !is_publishable_subject(&row.subject) {
        return Some("the subject is not a valid NATS subject".to_owned());
    }
    let headers: usize = row.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    // The id header and the protocol's framing take a little more than the payload.
    let size = row.payload.len() + headers + 128;
    (max_payload > 0 && size > max_payload).then(|| {
        format!(
            "the event ({} bytes) is larger than the bus takes ({max_payload} bytes)",
            row.payload.len()
        )
    })
}

/// A subject a publisher may use: dot-separated non-empty tokens, no wildcards, no spaces.
pub fn is_publishable_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject.len() <= 1024
        && subject.split('.').all(|token| {
            !token.is_empty()
                && token != "*"
                && token != ">"
                && !token
                    .bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        })
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("JetStream publish: {0}")]
    Publish(String),
}

#[cfg(test)]
mod tests {
    use super::is_publishable_subject;

    #[test]
    fn a_subject_with_a_space_an_empty_token_or_a_wildcard_is_not_publishable() {
        assert!(is_publishable_subject("accounts.login.failed"));
        for bad in ["", "a..b", "a.*", "a.>", "a b", "a.\nb", ".a"] {
            assert!(!is_publishable_subject(bad), "{bad:?}");
        }
    }
}
