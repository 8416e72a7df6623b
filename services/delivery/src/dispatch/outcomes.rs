//! What a try's outcome means for its case, recorded in the case's row and told on the bus:
//! completed, expired, retried later with a growing delay, or failed for good.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::events::{DispatchCompleted, DispatchFailed};
use contracts::forms::DeliveryMode;
use kit::outbox::outbox_insert_event;
use uuid::Uuid;

use super::Dispatcher;
use crate::domain::backoff::{AfterFailure, after_passing_failure};
use crate::events;
use crate::letter::{LetterError, polish_date_time};
use crate::store::deliveries::{
    DeliveryRow, delivery_complete_in_txn, delivery_expire_in_txn, delivery_fail_in_txn,
    delivery_retry_later,
};

/// What failed, as operators count it (`klucznik_failures_total{operation="delivery_dispatch"}`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Cause {
    SmtpUnavailable,
    SmtpRefused,
    SmsUnavailable,
    SmsRefused,
    /// The director's mobile or the institution's address is not usable.
    RecipientData,
    /// A sealed copy (credentials or cipher password) that does not open.
    SealedCopy,
    /// The letter cannot be made.
    Letter,
    Expired,
    AttemptsExhausted,
}

impl Cause {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Cause::SmtpUnavailable => "smtp_unavailable",
            Cause::SmtpRefused => "smtp_refused",
            Cause::SmsUnavailable => "sms_unavailable",
            Cause::SmsRefused => "sms_refused",
            Cause::RecipientData => "recipient_data",
            Cause::SealedCopy => "sealed_copy",
            Cause::Letter => "letter",
            Cause::Expired => "expired",
            Cause::AttemptsExhausted => "attempts_exhausted",
        }
    }
}

/// Why a try did not complete, and what to record.
#[derive(Debug)]
pub(super) enum Failure {
    /// Worth another try: `error` is technical, `reason` a Polish phrase for the administrator.
    Passing {
        cause: Cause,
        error: String,
        reason: String,
    },
    /// Will not get better by waiting; `reason` is the Polish sentence for the administrator.
    Permanent {
        cause: Cause,
        error: String,
        reason: String,
    },
    /// The attempts were used up before this try began (interrupted tries).
    Exhausted { error: String },
    /// The outcome could not be stored; the lease's end brings the case back.
    Unrecorded { error: String },
    /// Another dispatcher holds the case now (this one's lease ended).
    LostClaim,
}

impl Failure {
    /// What operators count; `None` for what is not a failure of the delivery itself.
    fn cause(&self) -> Option<Cause> {
        match self {
            Failure::Passing { cause, .. } | Failure::Permanent { cause, .. } => Some(*cause),
            Failure::Exhausted { .. } => Some(Cause::AttemptsExhausted),
            Failure::Unrecorded { .. } | Failure::LostClaim => None,
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Unrecorded {
            error: format!("database: {e}"),
        }
    }
}

pub(super) fn permanent(
    cause: Cause,
    error: impl Into<String>,
    reason: impl Into<String>,
) -> Failure {
    Failure::Permanent {
        cause,
        error: error.into(),
        reason: reason.into(),
    }
}

impl Dispatcher {
    pub(super) async fn complete(&self, row: &DeliveryRow, token: Uuid) -> Result<(), Failure> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        if !delivery_complete_in_txn(&mut tx, &row.case_number, token, now).await? {
            return Err(Failure::LostClaim);
        }
        let event = events::by_delivery(
            row,
            now,
            DispatchCompleted {
                case_number: row.case_number.clone(),
                delivery: DeliveryMode::Electronic,
                completed_at: now,
            },
        );
        outbox_insert_event(&mut tx, &event).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        tracing::info!("credentials delivered; the sealed copy is wiped");
        Ok(())
    }

    pub(super) async fn expire(
        &self,
        row: &DeliveryRow,
        token: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let mut tx = self.pool.begin().await?;
        if !delivery_expire_in_txn(&mut tx, &row.case_number, token, now).await? {
            return Err(Failure::LostClaim);
        }
        let reason = format!(
            "Hasło startowe wygasło ({}), zanim udało się je doręczyć; potrzebne jest nowe hasło.",
            polish_date_time(row.expires_at)
        );
        self.publish_failed(&mut tx, row, now, reason).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        self.metrics
            .failed("delivery_dispatch", Cause::Expired.as_str());
        tracing::warn!("the starting password expired before delivery");
        Ok(())
    }

    async fn publish_failed(
        &self,
        tx: &mut sqlx::PgConnection,
        row: &DeliveryRow,
        now: DateTime<Utc>,
        reason: String,
    ) -> Result<(), sqlx::Error> {
        let event = events::by_delivery(
            row,
            now,
            DispatchFailed {
                case_number: row.case_number.clone(),
                reason,
            },
        );
        outbox_insert_event(tx, &event).await
    }

    fn after_passing_failure(&self, failed_before: i32) -> AfterFailure {
        let c = &self.config;
        after_passing_failure(failed_before, c.max_attempts, c.retry_base, c.retry_max)
    }

    /// Stores what a failed try means: a later try, or the end.
    pub(super) async fn record(&self, row: &DeliveryRow, token: Uuid, failure: Failure) {
        if let Some(cause) = failure.cause() {
            self.metrics.failed("delivery_dispatch", cause.as_str());
        }
        let outcome = match failure {
            Failure::Passing { error, reason, .. } => {
                match self.after_passing_failure(row.attempts) {
                    AfterFailure::GiveUp { failed } => {
                        let reason = format!(
                            "Nie udało się doręczyć danych dostępowych po {failed} próbach \
                         (ostatnio: {reason}). Sprawa wymaga decyzji administratora."
                        );
                        self.fail(row, token, &error, reason, true).await
                    }
                    AfterFailure::RetryIn { failed, delay } => {
                        self.retry_later(row, token, &error, failed, delay).await
                    }
                }
            }
            Failure::Permanent { error, reason, .. } => {
                self.fail(row, token, &error, reason, true).await
            }
            Failure::Exhausted { error } => {
                let reason = format!(
                    "Nie udało się doręczyć danych dostępowych po {} próbach (kolejne próby \
                     zostały przerwane). Sprawa wymaga decyzji administratora.",
                    row.attempts
                );
                self.fail(row, token, &error, reason, false).await
            }
            Failure::Unrecorded { error } => {
                tracing::error!(%error, "the try's outcome could not be stored; the case comes back when its lease ends");
                Ok(())
            }
            Failure::LostClaim => {
                tracing::warn!("another dispatcher holds this case now; leaving it");
                Ok(())
            }
        };
        if let Err(error) = outcome {
            tracing::error!(%error, "the failure could not be stored; the case comes back when its lease ends");
        }
    }

    async fn retry_later(
        &self,
        row: &DeliveryRow,
        token: Uuid,
        error: &str,
        failed: u32,
        delay: Duration,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let next = now + delay;
        if delivery_retry_later(&self.pool, &row.case_number, token, error, next, now).await? {
            tracing::warn!(
                %error,
                attempt = failed,
                retry_in_ms = delay.as_millis() as u64,
                "delivery failed; will retry"
            );
        } else {
            tracing::warn!("another dispatcher holds this case now; leaving it");
        }
        Ok(())
    }

    async fn fail(
        &self,
        row: &DeliveryRow,
        token: Uuid,
        error: &str,
        reason: String,
        count_attempt: bool,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        if delivery_fail_in_txn(&mut tx, &row.case_number, token, error, count_attempt, now).await?
        {
            self.publish_failed(&mut tx, row, now, reason).await?;
            tx.commit().await?;
            self.outbox_wake.notify_one();
            tracing::error!(%error, "delivery failed for good; an administrator must decide");
        } else {
            tracing::warn!("another dispatcher holds this case now; leaving it");
        }
        Ok(())
    }
}

/// A letter that cannot be made: the random generator is worth another try; anything
/// else (a character no font has, a value that does not fit) will fail the same way again.
pub(super) fn letter_failure(error: LetterError) -> Failure {
    match error {
        LetterError::Random(_) => Failure::Passing {
            cause: Cause::Letter,
            error: error.to_string(),
            reason: "generator liczb losowych był chwilowo niedostępny".into(),
        },
        other => permanent(
            Cause::Letter,
            other.to_string(),
            "Nie można przygotować pisma z danymi dostępowymi (np. dane zawierają znak, \
             którego nie da się wydrukować, albo są za długie).",
        ),
    }
}
