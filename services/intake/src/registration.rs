//! A request becomes a numbered case, or a rejection naming the field and the reason: the
//! one place that registers requests, whether a SEOD form came on the bus (`bus::forms`) or
//! an operator registered one over HTTP (`http::requests`). Either way SEOD hears back on
//! `seod.status.<document_id>` (for its own forms) and audit on `intake.*`.

use chrono::{DateTime, Datelike, Utc};
use contracts::events::{CaseRegistered, FormRejected};
use contracts::forms::{self, PasswordResetRequest};
use contracts::seod_status::{CaseStatus, Rejection, SeodStatus};
use contracts::{Actor, Envelope, subjects};
use kit::auth::Role;
use kit::outbox::{outbox_insert_event, outbox_insert_json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::case_number;
use crate::error::Result;
use crate::store::cases;

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new case, or the case this very document already is.
    Case(String),
    /// Refused, with the reason SEOD (or the operator) is given.
    Refused(Rejection),
}

/// Records a valid request as a numbered case; SEOD hears `registered` for its own forms.
/// An account has one open case at a time: a second request is refused naming the first.
pub async fn register(
    conn: &mut PgConnection,
    request: &PasswordResetRequest,
    form: &serde_json::Value,
    now: DateTime<Utc>,
    operator: Option<&str>,
) -> Result<Registered> {
    let document_id = request.document_id.as_str();
    if let Some((existing, existing_form, status)) =
        cases::case_find_by_document_in_txn(conn, document_id).await?
    {
        if &existing_form == form {
            // SEOD sent it again (it may have missed our answer): tell it where the case is.
            tracing::info!(case_number = %existing, "this SEOD document is already a case");
            if request.source == forms::RequestSource::Seod {
                let again = SeodStatus {
                    document_id: document_id.to_owned(),
                    case_number: Some(existing.clone()),
                    status: CaseStatus::parse(&status).unwrap_or(CaseStatus::Registered),
                    rejection: None,
                    at: now,
                };
                outbox_insert_json(
                    conn,
                    Uuid::now_v7(),
                    &subjects::seod_status(document_id),
                    &again,
                )
                .await?;
            }
            return Ok(Registered::Case(existing));
        }
        let rejection = Rejection {
            field: "document_id".into(),
            code: "duplicate_document_id".into(),
            message: format!(
                "Dokument o tym identyfikatorze został już zarejestrowany jako sprawa {existing} z inną treścią."
            ),
            detail: None,
        };
        return reject(
            conn,
            document_id,
            subject_of(request),
            rejection.clone(),
            now,
        )
        .await
        .map(|()| Registered::Refused(rejection));
    }
    // Two requests for one account at once must not both pass the check below.
    cases::account_lock_in_txn(conn, request.procedure, request.target_login.as_str()).await?;
    if let Some((open, status)) =
        cases::case_open_for_account_in_txn(conn, request.procedure, request.target_login.as_str())
            .await?
    {
        let status = CaseStatus::parse(&status).map_or(status.clone(), |s| s.polish().to_owned());
        let rejection = Rejection {
            field: "account".into(),
            code: "open_case_exists".into(),
            message: format!(
                "Dla konta {} jest już otwarta sprawa {open} (status: {status}); nowy wniosek \
                 można złożyć po jej zakończeniu.",
                request.target_login.as_str()
            ),
            detail: None,
        };
        return reject(
            conn,
            document_id,
            subject_of(request),
            rejection.clone(),
            now,
        )
        .await
        .map(|()| Registered::Refused(rejection));
    }
    let sequence =
        cases::case_counter_next_in_txn(conn, request.procedure.code(), now.year()).await?;
    let number = case_number(request.procedure, now, sequence);
    cases::case_insert_in_txn(conn, &number, request, form, now, operator).await?;
    let number_for_caller = number.clone();
    let from_seod = request.source == forms::RequestSource::Seod;
    tracing::info!(case_number = %number, procedure = request.procedure.code(), "case registered");

    let status = SeodStatus {
        document_id: document_id.to_owned(),
        case_number: Some(number.clone()),
        status: CaseStatus::Registered,
        rejection: None,
        at: now,
    };
    if from_seod {
        outbox_insert_json(
            conn,
            Uuid::now_v7(),
            &subjects::seod_status(document_id),
            &status,
        )
        .await?;
    }
    let event = Envelope::new(
        if from_seod {
            Actor::seod(request.requester_login.as_str())
        } else {
            Actor::person(operator.unwrap_or("operator"), Role::Operator.as_str())
        },
        now,
        CaseRegistered {
            case_number: number.clone(),
            procedure: request.procedure,
            document_id: document_id.to_owned(),
            institution_rspo_id: request.institution_rspo_id.to_string(),
            institution_name: request.institution_name.clone(),
            requester_login: request.requester_login.to_string(),
            target_login: request.target_login.to_string(),
            rspo_email: request.rspo_email.to_string(),
            director_mobile: request.director_mobile.to_string(),
            delivery: request.delivery,
            submitted_at: request.submitted_at,
            source: request.source,
            reply_email: request.reply_email.as_ref().map(|e| e.to_string()),
            loss: request.loss,
        },
    )
    .institution(request.institution_rspo_id.to_string())
    .case(number);
    outbox_insert_event(conn, &event).await?;
    Ok(Registered::Case(number_for_caller))
}

fn subject_of(request: &PasswordResetRequest) -> &'static str {
    match request.procedure {
        forms::Procedure::Zszo05 => subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
        forms::Procedure::Pzo01 => subjects::SEOD_FORM_PZO_PASSWORD_RESET,
    }
}

pub async fn reject(
    conn: &mut PgConnection,
    correlation: &str,
    subject: &str,
    rejection: Rejection,
    now: DateTime<Utc>,
) -> Result<()> {
    tracing::info!(correlation, field = %rejection.field, code = %rejection.code, "form rejected");
    cases::rejected_form_insert_in_txn(conn, correlation, subject, &rejection, now).await?;
    let status = SeodStatus {
        document_id: correlation.to_owned(),
        case_number: None,
        status: CaseStatus::Rejected,
        rejection: Some(rejection.clone()),
        at: now,
    };
    outbox_insert_json(
        conn,
        Uuid::now_v7(),
        &subjects::seod_status(correlation),
        &status,
    )
    .await?;
    let event = Envelope::new(
        Actor::system(crate::SERVICE),
        now,
        FormRejected {
            correlation: correlation.to_owned(),
            subject: subject.to_owned(),
            rejection,
        },
    );
    outbox_insert_event(conn, &event).await?;
    Ok(())
}
