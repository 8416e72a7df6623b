//! The central system's side of the communication panel: it consumes what local databases
//! sent (`revocation.form.sent`), checks it against the register's own records, applies it
//! once (a request becomes visible to its authorising body; a status; a decision, which on
//! acceptance revokes the authorisation in the central register) and acknowledges it.
//! A redelivered or repeated form finds itself acknowledged and changes nothing.

use std::sync::Arc;

use contracts::revocation::RevocationReason;
use contracts::revocation::events::{
    AuthorisationRevoked, FormDelivered, FormKind, FormSent, RevocationDecision,
};
use contracts::{Actor, Envelope};
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use sqlx::PgConnection;

use crate::error::Error;
use crate::store::panel;

pub struct CentralRegister {
    pub clock: Arc<dyn Clock>,
}

impl Handler for CentralRegister {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let sent: Envelope<FormSent> = message.decode()?;
        let form = sent.data;
        let Some(own) = panel::one(conn, form.form_id).await? else {
            return Err(Error::Unusable(format!(
                "form {} was never saved in a local database",
                form.form_id
            )));
        };
        if own.request_id != form.request_id
            || own.kind != form.kind.code()
            || own.local_database_id != form.local_database_id
            || own.tab == "to_send"
        {
            return Err(Error::Unusable(format!(
                "form {} does not match what its local database sent",
                form.form_id
            )));
        }
        let now = self.clock.now();
        if !panel::mark_delivered(conn, form.form_id, now).await? {
            return Ok(());
        }
        let system = Actor::system(crate::SERVICE);
        match form.kind {
            FormKind::Request => {
                sqlx::query("UPDATE requests SET central_received_at = $2 WHERE id = $1")
                    .bind(form.request_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            }
            FormKind::ReviewStarted => {
                sqlx::query("UPDATE requests SET central_review_started_at = $2 WHERE id = $1")
                    .bind(form.request_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            }
            FormKind::Decision => apply_decision(conn, &form, &system, now).await?,
        }
        let delivered = Envelope::new(
            system.clone(),
            now,
            FormDelivered {
                form_id: form.form_id,
                kind: form.kind,
                request_id: form.request_id,
                local_database_id: form.local_database_id.clone(),
            },
        );
        kit::outbox::outbox_insert_event(conn, &delivered).await?;
        if auto_check(conn, &form.local_database_id).await? {
            crate::communication::check(
                conn,
                &form.local_database_id,
                &[form.form_id],
                &system,
                now,
                true,
            )
            .await?;
        }
        Ok(())
    }
}

async fn auto_check(conn: &mut PgConnection, database: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT auto_check FROM local_databases WHERE id = $1")
        .bind(database)
        .fetch_optional(conn)
        .await
        .map(|v| v.unwrap_or(false))
}

/// The decision reaches the central register: an accepted request revokes the
/// authorisation; a rejected or withdrawn one leaves it in force. The requesting local
/// database's request, waiting in "Wysłane", may now be completed.
async fn apply_decision(
    conn: &mut PgConnection,
    form: &FormSent,
    system: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let (decision, reason, authorisation): (Option<String>, String, String) = sqlx::query_as(
        "UPDATE requests SET central_decision_at = $2 WHERE id = $1
         RETURNING decision, reason, authorisation_id",
    )
    .bind(form.request_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let decision = decision.as_deref().and_then(RevocationDecision::parse);
    if decision != form.decision || decision.is_none() {
        return Err(Error::Unusable(format!(
            "decision form {} does not carry the recorded decision",
            form.form_id
        )));
    }
    if decision == Some(RevocationDecision::Accepted) {
        let revoked: Option<(String, String, String)> = sqlx::query_as(
            "UPDATE authorisations a SET status = 'revoked', revoked_at = $2, revoked_reason = $3,
                 revoked_by_request = $4
             FROM people p
             WHERE a.id = $1 AND a.status = 'active' AND p.id = a.person_id
             RETURNING a.person_id, p.pesel_masked, a.granted_in",
        )
        .bind(&authorisation)
        .bind(now)
        .bind(&reason)
        .bind(form.request_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let (Some((person_id, pesel_masked, granted_in)), Some(reason)) =
            (revoked, RevocationReason::parse(&reason))
        {
            let event = Envelope::new(
                system.clone(),
                now,
                AuthorisationRevoked {
                    authorisation_id: authorisation.clone(),
                    request_id: form.request_id,
                    person_id,
                    pesel_masked,
                    reason,
                    granted_in,
                    revoked_at: now,
                },
            );
            kit::outbox::outbox_insert_event(conn, &event).await?;
        }
    }
    if let Some((request_form, database)) =
        panel::waiting_request_form(conn, form.request_id).await?
        && auto_check(conn, &database).await?
    {
        crate::communication::check(conn, &database, &[request_form], system, now, true).await?;
    }
    Ok(())
}
