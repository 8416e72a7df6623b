//! `accounts.password.changed`: a user set his own password. When his account has an
//! e-mail address, a notice (without any secret) is recorded here, in the consumer's
//! transaction, and sent afterwards by the notice worker (`dispatch::notices`); a
//! redelivered or replayed event finds its notice already recorded and adds none.

use std::sync::Arc;

use chrono::Duration;
use contracts::Envelope;
use contracts::events::{AccountStepRecorded, PasswordChanged};
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use sqlx::PgConnection;

use crate::error::Error;
use crate::store::notices::{NewNotice, NoticeKind, notice_insert_in_txn};

pub use contracts::streams::consumers::DELIVERY_NOTICES;

pub struct PasswordChangedHandler {
    clock: Arc<dyn Clock>,
    /// A change older than this gets no notice: a backlog replayed from the stream (a new
    /// consumer reads the stream from its start) must not send a flood of stale notices.
    max_age: Duration,
}

impl PasswordChangedHandler {
    pub fn new(clock: Arc<dyn Clock>, max_age: Duration) -> Self {
        Self { clock, max_age }
    }
}

impl PasswordChangedHandler {
    /// `accounts.account.activated`: the local administrator who created the account is told,
    /// when he has an address, and reminded of the institution's forms.
    async fn activated(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let envelope: Envelope<AccountStepRecorded> = message.decode()?;
        let step = &envelope.data;
        let Some(email) = step
            .local_admin_email
            .as_deref()
            .map(str::trim)
            .filter(|e| e.parse::<lettre::Address>().is_ok())
        else {
            tracing::info!(login = %step.login, "the local administrator has no usable address; no notice");
            return Ok(());
        };
        let now = self.clock.now();
        if now - envelope.occurred_at > self.max_age {
            tracing::warn!(login = %step.login, "the activation is too old for a notice; none is sent");
            return Ok(());
        }
        let inserted = notice_insert_in_txn(
            conn,
            &NewNotice {
                event_id: envelope.id,
                kind: NoticeKind::AccountActivated,
                login: &step.login,
                email,
                occurred_at: envelope.occurred_at,
                case_outcome: None,
                sealed: None,
                facts: Some(serde_json::json!({ "person_name": step.person_name })),
                now,
            },
        )
        .await?;
        tracing::info!(login = %step.login, inserted, "an activation notice recorded");
        Ok(())
    }
}

impl Handler for PasswordChangedHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        if message.subject == contracts::subjects::ACCOUNTS_ACCOUNT_ACTIVATED {
            return self.activated(conn, message).await;
        }
        let envelope: Envelope<PasswordChanged> = message.decode()?;
        let changed = &envelope.data;
        let Some(email) = changed
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            tracing::info!(login = %changed.login, "the account has no e-mail address; no notice");
            return Ok(());
        };
        if email.parse::<lettre::Address>().is_err() {
            // Not the message's fault, but nothing will ever send it: kept on the
            // dead-letter subject (and so in audit) for someone to correct the address.
            return Err(Error::Unusable(format!(
                "the e-mail address of account {} is not a valid address",
                changed.login
            )));
        }
        let now = self.clock.now();
        if now - envelope.occurred_at > self.max_age {
            tracing::warn!(
                login = %changed.login,
                occurred_at = %envelope.occurred_at,
                "the password change is too old for a notice; none is sent"
            );
            return Ok(());
        }
        let inserted = notice_insert_in_txn(
            conn,
            &NewNotice {
                event_id: envelope.id,
                kind: NoticeKind::PasswordChanged,
                login: &changed.login,
                email,
                occurred_at: envelope.occurred_at,
                sealed: None,
                facts: None,
                case_outcome: None,
                now,
            },
        )
        .await?;
        if inserted {
            tracing::info!(login = %changed.login, event_id = %envelope.id, "password-change notice recorded");
        } else {
            tracing::info!(event_id = %envelope.id, "notice already recorded; nothing changes");
        }
        Ok(())
    }
}
