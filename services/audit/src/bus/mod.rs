//! audit on the bus: every stream, recorded once, in chain order; a newly recorded event
//! may open a security incident in the same transaction.

use std::sync::Arc;

use contracts::subjects::headers;
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use sqlx::PgConnection;

use crate::domain::minimise::Minimiser;
use crate::domain::{Observed, record_of};
use crate::error::Error;
use crate::incidents::IncidentRules;

pub struct RecordHandler {
    pub minimiser: Arc<Minimiser>,
    pub clock: Arc<dyn Clock>,
    pub incident_rules: IncidentRules,
}

impl RecordHandler {
    fn record(&self, m: &Incoming) -> crate::domain::EventRecord {
        record_of(
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
        )
    }
}

impl Handler for RecordHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, m: &Incoming) -> Result<(), Error> {
        let record = self.record(m);
        let now = self.clock.now();
        // A redelivered message is already recorded (None): it opened its incident, if
        // any, the first time.
        if let Some(stored) = crate::ledger::append_in_txn(conn, record, now).await? {
            crate::incidents::on_record_in_txn(conn, &stored, &self.incident_rules, now).await?;
        }
        Ok(())
    }

    /// The batch is chained in bulk; incidents its records open follow it in the chain.
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        messages: &[&Incoming],
    ) -> Result<(), Error> {
        let records = messages.iter().map(|m| self.record(m)).collect();
        let now = self.clock.now();
        for stored in crate::ledger::append_many_in_txn(conn, records, now).await? {
            crate::incidents::on_record_in_txn(conn, &stored, &self.incident_rules, now).await?;
        }
        Ok(())
    }
}
