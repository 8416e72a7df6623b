//! audit on the bus: every stream, recorded once, in chain order.

use std::sync::Arc;

use contracts::subjects::headers;
use kit::clock::Clock;
use kit::consumer::{HandleError, Handler, Incoming};
use sqlx::PgConnection;

use crate::domain::minimise::Minimiser;
use crate::domain::{Observed, record_of};

pub struct RecordHandler {
    pub minimiser: Arc<Minimiser>,
    pub clock: Arc<dyn Clock>,
}

impl Handler for RecordHandler {
    async fn handle(&self, conn: &mut PgConnection, m: &Incoming) -> Result<(), HandleError> {
        let record = record_of(
            &Observed {
                stream: &m.stream,
                stream_seq: m.stream_sequence,
                message_id: &m.message_id,
                subject: &m.subject,
                payload: &m.payload,
                published: m.published,
                traceparent: m.header("traceparent"),
                dead_letter_error: m.header(headers::DEAD_LETTER_ERROR),
            },
            &self.minimiser,
        );
        crate::ledger::append_in_txn(conn, record, self.clock.now()).await?;
        Ok(())
    }
}
