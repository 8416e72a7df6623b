//! The sessions accounts ended, kept by every other service so that `auth` refuses their
//! tokens at once rather than at expiry. Fed by the service's own durable consumer of
//! `accounts.sessions.ended`; a row is dropped once its token would have expired anyway.

use chrono::Utc;
use contracts::Envelope;
use contracts::events::SessionsEnded;
use sqlx::PgConnection;

use crate::consumer::{HandleError, Handler, Incoming};

pub struct EndedSessions;

impl Handler for EndedSessions {
    type Error = HandleError;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        let event: Envelope<SessionsEnded> = message.decode()?;
        let (sids, until): (Vec<String>, Vec<chrono::DateTime<Utc>>) = event
            .data
            .sessions
            .into_iter()
            .map(|s| (s.sid, s.expires_at))
            .unzip();
        sqlx::query(
            "INSERT INTO kit_ended_sessions (sid, expires_at)
             SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT (sid) DO NOTHING",
        )
        .bind(&sids)
        .bind(&until)
        .execute(&mut *conn)
        .await?;
        // Sessions are ended far less often than they start; tidying here costs nothing.
        sqlx::query("DELETE FROM kit_ended_sessions WHERE expires_at < $1")
            .bind(event.occurred_at - chrono::Duration::hours(1))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
