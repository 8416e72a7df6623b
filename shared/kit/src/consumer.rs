//! Durable pull consumers with an idempotent inbox. A handler's effect, its outbox rows and
//! the inbox record of the message commit together; then the message is acked. A retryable
//! failure is nak'ed with a growing delay; a permanent one, or one that exhausted
//! `max_deliver`, goes to the dead-letter subject with its error and is terminated. While
//! the database does not answer at all, a failed message is held (in progress) rather
//! than nak'ed: an outage must not turn accepted messages into dead letters.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use bytes::Bytes;
use contracts::streams::ConsumerSpec;
use contracts::subjects::{self, headers};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::Retryable;
use crate::propagation;
use crate::settings::ConsumerSettings;

/// A message as a handler sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub subject: String,
    pub payload: Bytes,
    pub headers: Option<async_nats::HeaderMap>,
    /// `Nats-Msg-Id` when the publisher set one, else `<stream>:<sequence>`.
    pub message_id: String,
    pub stream: String,
    pub stream_sequence: u64,
    pub delivered: i64,
    pub published: chrono::DateTime<chrono::Utc>,
    /// The message's place in its trace (continuing the publisher's); work done for it, and
    /// the events that work publishes, belong there even when handled in a batch.
    pub span: tracing::Span,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_ref()?.get(name).map(|v| v.as_str())
    }

    /// The event this message carries; a body that is not one, or whose type is not the
    /// subject it came on, fails the same way every time.
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<contracts::Envelope<T>, contracts::envelope::DecodeError> {
        contracts::Envelope::decode(&self.subject, &self.payload)
    }

    /// The publisher's `Nats-Msg-Id`, if it set one.
    pub fn publisher_message_id(&self) -> Option<&str> {
        self.header(headers::MSG_ID)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth another try (a database or the bus briefly unavailable).
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time: kept on the dead-letter subject.
    #[error("{0}")]
    Permanent(String),
}

impl<E: Retryable> From<E> for HandleError {
    /// The one place where a service's error becomes a retry or a dead letter.
    fn from(e: E) -> Self {
        if e.retryable() {
            HandleError::Retryable(e.to_string())
        } else {
            HandleError::Permanent(e.to_string())
        }
    }
}

pub trait Handler: Send + Sync + 'static {
    /// The service's own error; it becomes a retry or a dead letter through `HandleError`.
    type Error: Into<HandleError> + Send;

    /// Does the message's work inside `conn`'s transaction. Invalid input that deserves an
    /// answer (a rejection event) is a success: the rejection is the work.
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'a;

    /// Does a batch's work inside one transaction; a batched consumer calls this with the
    /// messages not handled before, in stream order. Override it to do the work in bulk.
    fn handle_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        messages: &'a [&'a Incoming],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'a {
        async move {
            for message in messages {
                self.handle(conn, message)
                    .instrument(message.span.clone())
                    .await?;
            }
            Ok(())
        }
    }
}

enum Outcome {
    Done,
    Duplicate,
}

pub struct Consumer {
    pub spec: ConsumerSpec,
    pub consumer: jetstream::consumer::PullConsumer,
    pub pool: PgPool,
    pub js: jetstream::Context,
    pub settings: ConsumerSettings,
    pub outbox_wake: Arc<Notify>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Consumer {
    /// Handles messages until `stop` fires, finishing the batch in hand.
    pub async fn run<H: Handler>(self, handler: Arc<H>, stop: CancellationToken) {
        let this = Arc::new(self);
        while !stop.is_cancelled() {
            let messages = match this.next_messages().await {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(consumer = this.spec.durable, %error, "fetch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.cancelled() => {}
                    }
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            if this.spec.batched {
                this.process_batch(handler.as_ref(), messages).await;
            } else {
                futures::stream::iter(messages)
                    .for_each_concurrent(this.spec.concurrency, |message| {
                        let this = Arc::clone(&this);
                        let handler = Arc::clone(&handler);
                        async move { this.process(handler.as_ref(), message).await }
                    })
                    .await;
            }
        }
        tracing::info!(consumer = this.spec.durable, "consumer stopped");
    }

    /// What is waiting now, up to a batch; if nothing is, waits (up to the fetch expiry)
    /// for the next message, so an idle consumer does not poll in a loop.
    async fn next_messages(&self) -> Result<Vec<jetstream::Message>, String> {
        let available = self
            .consumer
            .fetch()
            .max_messages(self.settings.batch)
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = collect_batch(available).await;
        if messages.is_empty() {
            let waiting = self
                .consumer
                .batch()
                .max_messages(1)
                .expires(Duration::from_millis(self.settings.fetch_expires_ms))
                .messages()
                .await
                .map_err(|e| e.to_string())?;
            messages = collect_batch(waiting).await;
        }
        Ok(messages)
    }

    /// One transaction for the whole batch; if it fails, each message gets its own.
    async fn process_batch<H: Handler>(&self, handler: &H, messages: Vec<jetstream::Message>) {
        let mut batch = Vec::with_capacity(messages.len());
        for message in messages {
            match self.incoming(&message) {
                Some(incoming) => batch.push((message, incoming)),
                None => {
                    let _ = message.ack_with(AckKind::Term).await;
                }
            }
        }
        match self.handle_batch_once(handler, &batch).await {
            Ok(()) => {
                self.outbox_wake.notify_one();
                for (message, _) in &batch {
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, "ack failed; the redelivery will be recognised as handled");
                    }
                }
            }
            Err(error) => {
                tracing::warn!(consumer = self.spec.durable, %error, "batch failed; handling its messages one by one");
                for (message, _) in batch {
                    self.process(handler, message).await;
                }
            }
        }
    }

    async fn handle_batch_once<H: Handler>(
        &self,
        handler: &H,
        batch: &[(jetstream::Message, Incoming)],
    ) -> Result<(), HandleError> {
        let mut tx = self.pool.begin().await?;
        let mut fresh_ids = self
            .inbox_insert_many(&mut tx, batch.iter().map(|(_, i)| i))
            .await?;
        // `remove` lets a message that came twice in one batch through once.
        let fresh: Vec<&Incoming> = batch
            .iter()
            .map(|(_, i)| i)
            .filter(|i| fresh_ids.remove(&i.message_id))
            .collect();
        for incoming in &fresh {
            incoming
                .span
                .in_scope(|| tracing::debug!("handled in a batch"));
        }
        handler
            .handle_batch(&mut tx, &fresh)
            .await
            .map_err(Into::into)?;
        tx.commit().await?;
        Ok(())
    }

    /// Records many messages as handled at once; returns the ids not handled before.
    async fn inbox_insert_many<'a>(
        &self,
        conn: &mut PgConnection,
        incomings: impl Iterator<Item = &'a Incoming>,
    ) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        let (mut ids, mut subjects, mut seqs) = (Vec::new(), Vec::new(), Vec::new());
        for incoming in incomings {
            ids.push(incoming.message_id.clone());
            subjects.push(incoming.subject.clone());
            seqs.push(incoming.stream_sequence as i64);
        }
        let fresh: Vec<String> = sqlx::query_scalar(
            "INSERT INTO kit_inbox (consumer, message_id, subject, stream_seq)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[])
             ON CONFLICT DO NOTHING RETURNING message_id",
        )
        .bind(self.spec.durable)
        .bind(&ids)
        .bind(&subjects)
        .bind(&seqs)
        .fetch_all(conn)
        .await?;
        Ok(fresh.into_iter().collect())
    }

    fn span(&self, incoming: &Incoming) -> tracing::Span {
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", incoming.subject),
            otel.kind = "consumer",
            messaging.system = "nats",
            messaging.destination.name = %incoming.subject,
            messaging.consumer.group.name = self.spec.durable,
            messaging.message.id = %incoming.message_id,
            delivered = incoming.delivered,
        );
        propagation::adopt_parent(&span, incoming.headers.as_ref());
        span
    }

    /// Records the message as handled; false when it already was.
    async fn inbox_insert(
        &self,
        conn: &mut PgConnection,
        incoming: &Incoming,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO kit_inbox (consumer, message_id, subject, stream_seq) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(self.spec.durable)
        .bind(&incoming.message_id)
        .bind(&incoming.subject)
        .bind(incoming.stream_sequence as i64)
        .execute(conn)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn process<H: Handler>(&self, handler: &H, message: jetstream::Message) {
        let incoming = match self.incoming(&message) {
            Some(incoming) => incoming,
            None => {
                tracing::warn!(
                    consumer = self.spec.durable,
                    "a message without JetStream metadata; terminated"
                );
                let _ = message.ack_with(AckKind::Term).await;
                return;
            }
        };
        let span = incoming.span.clone();
        async {
            let mut handled = self.handle_once(handler, &incoming).await;
            // A database that does not answer is an outage, not this message's fault: the
            // message is held (its ack wait renewed) until the database is back, instead of
            // spending its deliveries towards a dead letter.
            while matches!(handled, Err(HandleError::Retryable(_))) && !self.database_answers().await {
                tracing::warn!(consumer = self.spec.durable, "the database does not answer; holding the message until it does");
                let _ = message.ack_with(AckKind::Progress).await;
                tokio::time::sleep(self.hold_interval()).await;
                if self.database_answers().await {
                    handled = self.handle_once(handler, &incoming).await;
                }
            }
            match handled {
                Ok(outcome) => {
                    if matches!(outcome, Outcome::Duplicate) {
                        tracing::info!("already handled; acknowledged again");
                    }
                    self.outbox_wake.notify_one();
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, "ack failed; the redelivery will be recognised as handled");
                    }
                }
                Err(HandleError::Retryable(error)) if incoming.delivered < self.settings.max_deliver => {
                    let delay = self.retry_delay(incoming.delivered);
                    tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "handling failed; will retry");
                    let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
                }
                Err(error) => {
                    tracing::error!(%error, "handling failed for good; dead-lettered");
                    match self.dead_letter(&incoming, &error.to_string()).await {
                        Ok(()) => {
                            self.metrics.dead_lettered(self.spec.durable);
                            let _ = message.ack_with(AckKind::Term).await;
                        }
                        Err(dl_error) => {
                            tracing::error!(error = %dl_error, "dead-lettering failed; will retry");
                            let _ = message
                                .ack_with(AckKind::Nak(Some(self.retry_delay(incoming.delivered))))
                                .await;
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    fn incoming(&self, message: &jetstream::Message) -> Option<Incoming> {
        let info = message.info().ok()?;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
                .filter(|v| !v.is_empty() && v.len() <= 256)
        };
        let message_id = header(headers::REPLAY_OF)
            .or_else(|| header(headers::MSG_ID))
            .unwrap_or_else(|| format!("{}:{}", info.stream, info.stream_sequence));
        let published = chrono::DateTime::from_timestamp(
            info.published.unix_timestamp(),
            info.published.nanosecond(),
        )
        .unwrap_or_default();
        let mut incoming = Incoming {
            subject: message.subject.to_string(),
            payload: message.payload.clone(),
            headers: message.headers.clone(),
            message_id,
            stream: info.stream.to_owned(),
            stream_sequence: info.stream_sequence,
            delivered: info.delivered,
            published,
            span: tracing::Span::none(),
        };
        incoming.span = self.span(&incoming);
        Some(incoming)
    }

    async fn handle_once<H: Handler>(
        &self,
        handler: &H,
        incoming: &Incoming,
    ) -> Result<Outcome, HandleError> {
        let mut tx = self.pool.begin().await?;
        if !self.inbox_insert(&mut tx, incoming).await? {
            return Ok(Outcome::Duplicate);
        }
        handler
            .handle(&mut tx, incoming)
            .await
            .map_err(Into::into)?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }

    /// Whether the database takes a trivial query within a couple of seconds.
    async fn database_answers(&self) -> bool {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), ping).await,
            Ok(Ok(_))
        )
    }

    /// How often a held message's ack wait is renewed: well within it.
    fn hold_interval(&self) -> Duration {
        (self.settings.ack_wait() / 3).clamp(Duration::from_millis(200), Duration::from_secs(5))
    }

    fn retry_delay(&self, delivered: i64) -> Duration {
        let exponent = (delivered.clamp(1, 10) - 1) as u32;
        let millis = self.settings.retry_base_ms.saturating_mul(1 << exponent);
        Duration::from_millis(millis.min(60_000))
    }

    async fn dead_letter(&self, incoming: &Incoming, error: &str) -> Result<(), String> {
        let mut h = async_nats::HeaderMap::new();
        h.insert(headers::DEAD_LETTER_ERROR, one_line(error).as_str());
        h.insert(headers::DEAD_LETTER_SERVICE, self.spec.service);
        h.insert(headers::DEAD_LETTER_SUBJECT, incoming.subject.as_str());
        h.insert(
            headers::DEAD_LETTER_STREAM_SEQ,
            incoming.stream_sequence.to_string().as_str(),
        );
        h.insert(
            headers::DEAD_LETTER_DELIVERIES,
            incoming.delivered.to_string().as_str(),
        );
        h.insert(
            headers::DEAD_LETTER_MESSAGE_ID,
            incoming.message_id.as_str(),
        );
        propagation::inject_current(&mut h);
        // One dead letter per stream message and consumer: a retried dead-lettering is
        // dropped as a duplicate, a replay that fails again is a new one.
        let publish = jetstream::message::PublishMessage::build()
            .payload(incoming.payload.clone())
            .headers(h)
            .message_id(format!(
                "dl:{}:{}:{}",
                self.spec.durable, incoming.stream, incoming.stream_sequence
            ));
        self.js
            .send_publish(
                subjects::dead_letter(self.spec.service, &incoming.subject),
                publish,
            )
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Header values cannot hold line breaks.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.chars().take(1000).collect()
}

/// Accepts a message whose body is an `Envelope<T>` and does nothing more with it; any
/// other body is a permanent failure, kept on the dead-letter subject. A service that
/// consumes a subject before it acts on it uses this, so its inbox and its dead letters
/// already behave as they will.
pub struct AcceptEnvelope<T> {
    _body: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for AcceptEnvelope<T> {
    fn default() -> Self {
        Self {
            _body: std::marker::PhantomData,
        }
    }
}

impl<T: serde::de::DeserializeOwned + 'static> Handler for AcceptEnvelope<T> {
    type Error = HandleError;

    async fn handle(
        &self,
        _conn: &mut PgConnection,
        message: &Incoming,
    ) -> Result<(), HandleError> {
        let envelope: contracts::Envelope<T> = message.decode()?;
        tracing::info!(event_id = %envelope.id, kind = %envelope.kind, "event accepted");
        Ok(())
    }
}

async fn collect_batch(batch: jetstream::consumer::pull::Batch) -> Vec<jetstream::Message> {
    batch
        .filter_map(|m| async move {
            m.map_err(|error| tracing::warn!(%error, "receiving failed"))
                .ok()
        })
        .collect()
        .await
}
