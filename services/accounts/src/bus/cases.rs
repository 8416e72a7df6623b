//! A registered case is checked against the directory: may this requester ask for this
//! account? The answer goes back to intake (and audit) as an event.

use std::sync::Arc;

use contracts::events::{CaseRegistered, RealisationRequested, RequestChecked, RequestOutcome};
use contracts::{Actor, Envelope, subjects};
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};

use crate::error::Error;
use kit::outbox::outbox_insert_event;
use sqlx::PgConnection;

use crate::domain::authority::{self, Request};
use crate::store::{directory, requests};

pub struct CasesHandler {
    pub clock: Arc<dyn Clock>,
    pub issuer: Arc<crate::bus::realise::Issuer>,
}

impl Handler for CasesHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        match message.subject.as_str() {
            subjects::INTAKE_CASE_REGISTERED => self.check(conn, message).await,
            subjects::INTAKE_CASE_REALISATION_REQUESTED => {
                let event: Envelope<RealisationRequested> = message.decode()?;
                self.issuer
                    .realise_in_txn(conn, &event.data, self.clock.now())
                    .await
            }
            // Other case events (taken, ...) are not accounts' business.
            _ => Ok(()),
        }
    }
}

impl CasesHandler {
    async fn check(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let event: Envelope<CaseRegistered> = message.decode()?;
        let case = event.data;
        let request = Request {
            procedure: case.procedure,
            via_seod: case.source == contracts::forms::RequestSource::Seod,
            institution_rspo_id: case.institution_rspo_id.clone(),
            requester_login: case.requester_login.clone(),
            target_login: case.target_login.clone(),
            rspo_email: case.rspo_email.clone(),
            director_mobile: case.director_mobile.clone(),
            reply_email: case.reply_email.clone(),
        };
        let institution =
            directory::institution_find_in_txn(conn, &request.institution_rspo_id).await?;
        let requester = directory::account_find_in_txn(conn, &request.requester_login).await?;
        let target = directory::account_find_in_txn(conn, &request.target_login).await?;
        let verdict = authority::check(
            &request,
            institution.as_ref(),
            requester.as_ref(),
            target.as_ref(),
        );
        let now = self.clock.now();
        let code = verdict.as_ref().err().map(|r| r.code.clone());
        if !requests::case_request_insert_in_txn(
            conn,
            &case.case_number,
            &request,
            code.as_deref(),
            now,
        )
        .await?
        {
            return Ok(());
        }
        let outcome = match &verdict {
            Ok(_) => RequestOutcome::Verified,
            Err(_) => RequestOutcome::Refused,
        };
        let contact_updated = verdict.as_ref().cloned().unwrap_or_default();
        if !contact_updated.is_empty() {
            directory::institution_contact_set_in_txn(
                conn,
                &request.institution_rspo_id,
                &request.rspo_email,
                &request.director_mobile,
            )
            .await?;
            tracing::info!(case_number = %case.case_number, fields = ?contact_updated.iter().map(|u| &u.field).collect::<Vec<_>>(), "contact data updated from a request");
        }
        tracing::info!(case_number = %case.case_number, outcome = ?outcome, refusal = ?code, "request checked");
        let answer = Envelope::new(
            Actor::system(crate::SERVICE),
            now,
            RequestChecked {
                case_number: case.case_number.clone(),
                outcome,
                rejection: verdict.err(),
                contact_updated,
            },
        )
        .institution(case.institution_rspo_id)
        .case(case.case_number);
        outbox_insert_event(conn, &answer).await?;
        Ok(())
    }
}
