//! `intake.reply.requested`: the outcome of an e-mailed request goes back to its sender. The
//! reply is recorded here, in the consumer's transaction, and sent by the notice worker
//! (`dispatch::notices`) like a password-change notice; a redelivered event adds none.

use std::sync::Arc;

use chrono::Duration;
use contracts::Envelope;
use contracts::events::ReplyRequested;
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use sqlx::PgConnection;

use crate::error::Error;
use crate::store::notices::{NewNotice, NoticeKind, notice_insert_in_txn};

pub struct ReplyRequestedHandler {
    clock: Arc<dyn Clock>,
    /// As for password-change notices: a stale backlog replayed from the stream sends none.
    max_age: Duration,
}

impl ReplyRequestedHandler {
    pub fn new(clock: Arc<dyn Clock>, max_age: Duration) -> Self {
        Self { clock, max_age }
    }
}

impl Handler for ReplyRequestedHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let envelope: Envelope<ReplyRequested> = message.decode()?;
        let reply = &envelope.data;
        if reply.to.parse::<lettre::Address>().is_err() {
            return Err(Error::Unusable(format!(
                "the requester's address in case {} is not a valid address",
                reply.case_number
            )));
        }
        let now = self.clock.now();
        if now - envelope.occurred_at > self.max_age {
            tracing::warn!(
                case_number = %reply.case_number,
                occurred_at = %envelope.occurred_at,
                "the outcome is too old for a reply; none is sent"
            );
            return Ok(());
        }
        let inserted = notice_insert_in_txn(
            conn,
            &NewNotice {
                event_id: envelope.id,
                kind: NoticeKind::CaseOutcome,
                login: &reply.target_login,
                email: &reply.to,
                occurred_at: reply.at,
                sealed: None,
                facts: None,
                case_outcome: Some(reply),
                now,
            },
        )
        .await?;
        if inserted {
            tracing::info!(case_number = %reply.case_number, status = reply.status.as_str(), "reply to the requester recorded");
        } else {
            tracing::info!(event_id = %envelope.id, "reply already recorded; nothing changes");
        }
        Ok(())
    }
}
