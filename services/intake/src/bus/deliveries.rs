//! delivery's outcome: delivered (or collected), then the case is closed; or failed, for an
//! administrator to act on. SEOD hears each status.

use std::sync::Arc;

use contracts::events::{DispatchCompleted, DispatchFailed};
use contracts::forms::DeliveryMode;
use contracts::seod_status::{CaseStatus, Rejection};
use contracts::{Envelope, subjects};
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};

use crate::error::Error;
use sqlx::PgConnection;

use crate::announce::announce;
use crate::store::cases;

pub struct DeliveriesHandler {
    pub clock: Arc<dyn Clock>,
}

impl Handler for DeliveriesHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let now = self.clock.now();
        match message.subject.as_str() {
            subjects::DELIVERY_DISPATCH_COMPLETED => {
                let done: Envelope<DispatchCompleted> = message.decode()?;
                let case = done.data.case_number;
                let Some(cases::LockedCase {
                    document_id,
                    status,
                }) = cases::case_lock_in_txn(conn, &case).await?
                else {
                    return Err(Error::Unusable(format!("no case {case}")));
                };
                if status != CaseStatus::Realised {
                    return Ok(());
                }
                let reached = match done.data.delivery {
                    DeliveryMode::Electronic => CaseStatus::Delivered,
                    DeliveryMode::InPerson => CaseStatus::Collected,
                };
                for step in [reached, CaseStatus::Closed] {
                    cases::case_status_set_in_txn(conn, &case, step, now).await?;
                    announce(conn, &case, &document_id, step, None, now).await?;
                }
                tracing::info!(case_number = %case, "case closed");
                Ok(())
            }
            subjects::DELIVERY_DISPATCH_FAILED => {
                let failed: Envelope<DispatchFailed> = message.decode()?;
                let case = failed.data.case_number;
                let Some(cases::LockedCase {
                    document_id,
                    status,
                }) = cases::case_lock_in_txn(conn, &case).await?
                else {
                    return Err(Error::Unusable(format!("no case {case}")));
                };
                if status.is_terminal() {
                    return Ok(());
                }
                let reason = Rejection {
                    field: "$".into(),
                    code: "delivery_failed".into(),
                    message: failed.data.reason,
                    detail: None,
                };
                cases::case_ended_with_reason_in_txn(conn, &case, CaseStatus::Failed, &reason, now)
                    .await?;
                announce(
                    conn,
                    &case,
                    &document_id,
                    CaseStatus::Failed,
                    Some(reason),
                    now,
                )
                .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
