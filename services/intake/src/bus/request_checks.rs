//! accounts' answers: about who asked (a verified case waits for an administrator; a refused
//! one is rejected, and SEOD is told why), and that a new starting password was issued.

use contracts::forms::{DeliveryMode, RequestSource};
use std::sync::Arc;

use contracts::events::{RequestChecked, RequestOutcome};
use contracts::seod_status::CaseStatus;
use contracts::{Envelope, subjects};
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};

use crate::error::Error;
use sqlx::PgConnection;

use crate::store::cases;

pub struct RequestChecksHandler {
    pub clock: Arc<dyn Clock>,
    pub auto_realise: crate::startup::AutoRealise,
}

impl Handler for RequestChecksHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        match message.subject.as_str() {
            subjects::ACCOUNTS_REQUEST_VERIFIED | subjects::ACCOUNTS_REQUEST_REFUSED => {
                self.checked(conn, message).await
            }
            subjects::ACCOUNTS_CREDENTIAL_ISSUED => self.issued(conn, message).await,
            // Other accounts events (sign-ins, ...) are not intake's business.
            _ => Ok(()),
        }
    }
}

impl RequestChecksHandler {
    /// The optional policy: a verified SEOD request of a listed procedure is taken and
    /// realised at once, under the actor `automatic-policy`, which audit records as such.
    async fn maybe_realise_automatically(
        &self,
        conn: &mut PgConnection,
        case_number: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Error> {
        let Some(cases::CaseOrigin { procedure, source }) =
            cases::case_procedure_and_source_in_txn(conn, case_number).await?
        else {
            return Ok(());
        };
        if source != RequestSource::Seod || !self.auto_realise.applies_to(procedure) {
            return Ok(());
        }
        use crate::processing::{AUTOMATIC_POLICY, realise_in_txn, take_in_txn};
        let outcome = async {
            take_in_txn(conn, case_number, AUTOMATIC_POLICY, "automatic", now).await?;
            // The policy may choose electronic delivery, but never switch a case to
            // collection in person that the request did not ask for: that needs a person.
            let delivery = match self.auto_realise.delivery {
                DeliveryMode::Electronic => Some(DeliveryMode::Electronic),
                DeliveryMode::InPerson => None,
            };
            realise_in_txn(
                conn,
                case_number,
                AUTOMATIC_POLICY,
                "automatic",
                delivery,
                now,
            )
            .await
        }
        .await;
        outcome?;
        tracing::info!(
            case_number,
            "realised automatically by the configured policy"
        );
        Ok(())
    }

    /// The new starting password exists: the case is realised.
    async fn issued(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let event: Envelope<contracts::events::CredentialIssued> = message.decode()?;
        let case_number = event.data.case_number;
        let Some(cases::LockedCase {
            document_id,
            status,
        }) = cases::case_lock_in_txn(conn, &case_number).await?
        else {
            return Err(Error::Unusable(format!("no case {case_number}")));
        };
        if status != CaseStatus::Taken {
            return Ok(());
        }
        let now = self.clock.now();
        cases::case_status_set_in_txn(conn, &case_number, CaseStatus::Realised, now).await?;
        crate::announce::announce(
            conn,
            &case_number,
            &document_id,
            CaseStatus::Realised,
            None,
            now,
        )
        .await?;
        Ok(())
    }

    async fn checked(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let event: Envelope<RequestChecked> = message.decode()?;
        let check = event.data;
        let Some(cases::LockedCase {
            document_id,
            status,
        }) = cases::case_lock_in_txn(conn, &check.case_number).await?
        else {
            return Err(Error::Unusable(format!("no case {}", check.case_number)));
        };
        if status != CaseStatus::Registered {
            tracing::info!(case_number = %check.case_number, status = status.as_str(), "the case moved on; the check changes nothing");
            return Ok(());
        }
        let now = self.clock.now();
        match (check.outcome, check.rejection) {
            (RequestOutcome::Verified, _) => {
                cases::case_verified_in_txn(conn, &check.case_number, now).await?;
                if !check.contact_updated.is_empty() {
                    cases::case_contact_updates_set_in_txn(
                        conn,
                        &check.case_number,
                        &check.contact_updated,
                    )
                    .await?;
                }
                self.maybe_realise_automatically(conn, &check.case_number, now)
                    .await?;
            }
            (RequestOutcome::Refused, rejection) => {
                let rejection = rejection
                    .ok_or_else(|| Error::Unusable("a refusal without a reason".into()))?;
                tracing::info!(case_number = %check.case_number, code = %rejection.code, "request refused");
                cases::case_ended_with_reason_in_txn(
                    conn,
                    &check.case_number,
                    CaseStatus::Rejected,
                    &rejection,
                    now,
                )
                .await?;
                crate::announce::announce(
                    conn,
                    &check.case_number,
                    &document_id,
                    CaseStatus::Rejected,
                    Some(rejection),
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }
}
