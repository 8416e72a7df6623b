//! audit on the bus: every stream, recorded once.

use contracts::subjects::headers;
use kit::consumer::{HandleError, Handler, Incoming};
use sqlx::PgConnection;

use crate::domain::{Observed, record_of};
use crate::store::events::event_insert_in_txn;

pub struct RecordHandler;

impl Handler for RecordHandler {
    async fn handle(&self, conn: &mut PgConnection, m: &Incoming) -> Result<(), HandleError> {
        let record = record_of(&Observed {
            stream: &m.stream,
            stream_seq: m.stream_sequence,
            message_id: &m.message_id,
            subject: &m.subject,
            payload: &m.payload,
            published: m.published,
            traceparent: m.header("traceparent"),
            dead_letter_error: m.header(headers::DEAD_LETTER_ERROR),
        });
        event_insert_in_txn(conn, &record).await?;
        Ok(())
    }
}
