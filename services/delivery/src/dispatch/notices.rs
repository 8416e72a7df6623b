//! The notice worker: sends the recorded notices (password changes, replies to e-mailed
//! requests) through the same [`Mailer`] as the letters, with the same claim, lease and
//! back-off rules as the dispatcher (see the parent module).
//!
//! A notice is marked `sent` only after the relay accepted it. If the process stops between
//! the relay's acceptance and that mark, the lease's end brings the notice back and it is
//! sent again: the e-mail's Message-ID is derived from the event, so it is the same message
//! both times and mail clients show it once. A redelivered event never adds a notice (the
//! consumer's inbox and the event id as the table's key).

use std::sync::Arc;

use kit::clock::Clock;
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use super::{DispatchConfig, MailError, Mailer};
use crate::domain::backoff::{AfterFailure, after_passing_failure};
use crate::domain::replies::{reply_body, reply_subject};
use crate::domain::texts::{
    activated_body, activated_subject, confirmation_body, confirmation_subject, notice_body,
    notice_subject,
};
use crate::letter::polish_date_time;
use crate::store::notices::{
    NoticeKind, NoticeRow, notice_fail, notice_mark_sent, notice_retry_later, notices_claim_due,
};

pub struct NoticeSender {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    config: DispatchConfig,
    /// Opens the confirmation links' tokens at the moment they are sent.
    seal_keys: Option<crate::domain::credentials::SealKeys>,
}

enum Outcome {
    Sent,
    Passing(String),
    Permanent(String),
}

impl NoticeSender {
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        config: DispatchConfig,
    ) -> Self {
        Self {
            pool,
            clock,
            mailer,
            config,
            seal_keys: None,
        }
    }

    /// With the keys that open the confirmation links' tokens.
    pub fn with_seal_keys(mut self, keys: crate::domain::credentials::SealKeys) -> Self {
        self.seal_keys = Some(keys);
        self
    }

    /// Sends until `stop` fires, finishing the notices in hand.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let (poll, batch) = (self.config.poll_interval, self.config.batch);
        super::polling::poll_until_stopped("notices", poll, batch, stop, || self.send_due()).await;
    }

    /// Claims the notices that are due and sends them, one after another; returns how many
    /// it claimed.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let token = Uuid::new_v4();
        let rows = notices_claim_due(
            &self.pool,
            now,
            now + self.config.lease,
            self.config.batch,
            token,
        )
        .await?;
        let claimed = rows.len();
        for row in rows {
            let span = tracing::info_span!(
                "notice",
                event_id = %row.event_id,
                login = %row.login,
                attempts = row.attempts,
            );
            async {
                if let Err(error) = self.send_one(&row, token).await {
                    tracing::error!(%error, "the notice's outcome could not be stored; it comes back when its lease ends");
                }
            }
            .instrument(span)
            .await;
        }
        Ok(claimed)
    }

    async fn send_one(&self, row: &NoticeRow, token: Uuid) -> Result<(), sqlx::Error> {
        if row.attempts >= self.config.max_attempts as i32 {
            let error = row
                .last_error
                .clone()
                .unwrap_or_else(|| "attempts exhausted".into());
            return self.fail(row, token, &error, false).await;
        }
        match self.try_send(row).await {
            Outcome::Sent => {
                let now = self.clock.now();
                if notice_mark_sent(&self.pool, row.event_id, token, now).await? {
                    tracing::info!(
                        kind = row.kind.as_str(),
                        "notice accepted by the SMTP relay"
                    );
                } else {
                    tracing::warn!("another worker holds this notice now; leaving it");
                }
                Ok(())
            }
            Outcome::Permanent(error) => self.fail(row, token, &error, true).await,
            Outcome::Passing(error) => {
                let c = &self.config;
                let (failed, delay) = match after_passing_failure(
                    row.attempts,
                    c.max_attempts,
                    c.retry_base,
                    c.retry_max,
                ) {
                    AfterFailure::GiveUp { .. } => {
                        return self.fail(row, token, &error, true).await;
                    }
                    AfterFailure::RetryIn { failed, delay } => (failed, delay),
                };
                let now = self.clock.now();
                if notice_retry_later(&self.pool, row.event_id, token, &error, now + delay, now)
                    .await?
                {
                    tracing::warn!(
                        %error,
                        attempt = failed,
                        retry_in_ms = delay.as_millis() as u64,
                        "sending the notice failed; will retry"
                    );
                } else {
                    tracing::warn!("another worker holds this notice now; leaving it");
                }
                Ok(())
            }
        }
    }

    async fn try_send(&self, row: &NoticeRow) -> Outcome {
        let address = match row.email.parse() {
            Ok(address) => address,
            Err(e) => return Outcome::Permanent(format!("the account's e-mail address: {e}")),
        };
        let message_id = format!(
            "<notice-{}@{}>",
            row.event_id,
            self.config.from.email.domain()
        );
        let at = polish_date_time(row.occurred_at);
        let (subject, body) = match (row.kind, &row.case_outcome) {
            (NoticeKind::CaseOutcome, Some(reply)) => {
                (reply_subject(reply), reply_body(reply, &at))
            }
            (NoticeKind::PasswordChanged, _) => {
                (notice_subject(&row.login), notice_body(&row.login, &at))
            }
            (NoticeKind::CaseOutcome, None) => {
                return Outcome::Permanent("a case outcome notice without its facts".into());
            }
            (NoticeKind::EmailConfirmation, _) => match self.confirmation(row) {
                Ok(texts) => texts,
                Err(error) => return Outcome::Permanent(error),
            },
            (NoticeKind::AccountActivated, _) => {
                let person = row
                    .facts
                    .as_ref()
                    .and_then(|f| f.0["person_name"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| row.login.clone());
                (
                    activated_subject(&row.login),
                    activated_body(&person, &row.login, &at),
                )
            }
        };
        let message = Message::builder()
            .from(self.config.from.clone())
            .to(Mailbox::new(None, address))
            .subject(subject)
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(body);
        let message = match message {
            Ok(message) => message,
            Err(e) => return Outcome::Permanent(format!("the notice cannot be built: {e}")),
        };
        match self.mailer.send(message).await {
            Ok(()) => Outcome::Sent,
            Err(MailError::Passing(error)) => Outcome::Passing(error),
            Err(MailError::Permanent { error, .. }) => Outcome::Permanent(error),
        }
    }

    /// The confirmation e-mail: its token opened from the seal only now, for this login,
    /// address and expiry.
    fn confirmation(&self, row: &NoticeRow) -> Result<(String, String), String> {
        let facts: contracts::events::EmailConfirmationRequested = row
            .facts
            .as_ref()
            .and_then(|f| serde_json::from_value(f.0.clone()).ok())
            .ok_or("a confirmation notice without its facts")?;
        let sealed = row
            .sealed
            .as_deref()
            .ok_or("a confirmation notice without its seal")?;
        let keys = self
            .seal_keys
            .as_ref()
            .ok_or("no seal key to open the confirmation with")?;
        let token = keys
            .open(sealed, &facts.seal_context())
            .ok_or("the confirmation's seal does not open for its login and address")?;
        let token = std::str::from_utf8(&token).map_err(|_| "the sealed token is not text")?;
        let link = format!("{}?t={token}", facts.confirm_url);
        Ok((
            confirmation_subject(),
            confirmation_body(
                &facts.person_name,
                &facts.login,
                &link,
                &polish_date_time(facts.expires_at),
            ),
        ))
    }

    async fn fail(
        &self,
        row: &NoticeRow,
        token: Uuid,
        error: &str,
        count_attempt: bool,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        if notice_fail(&self.pool, row.event_id, token, error, count_attempt, now).await? {
            tracing::error!(%error, kind = row.kind.as_str(), "the notice could not be sent; given up");
        } else {
            tracing::warn!("another worker holds this notice now; leaving it");
        }
        Ok(())
    }
}
