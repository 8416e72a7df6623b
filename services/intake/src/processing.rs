//! An administrator's work on a case: take it from the queue, then realise it. Each step is
//! one transaction with the events it causes (SEOD's status, accounts' command, audit).

use chrono::{DateTime, Utc};
use contracts::events::RealisationRequested;
use contracts::forms::{DeliveryMode, Procedure};
use contracts::seod_status::CaseStatus;
use contracts::{Actor, Envelope, subjects};
use kit::outbox::outbox_insert_json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::store::cases;

#[derive(Debug, thiserror::Error)]
pub enum ProcessingError {
    #[error("Nie ma sprawy o numerze {0}.")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn conflict(message: impl Into<String>) -> ProcessingError {
    ProcessingError::Conflict(message.into())
}

/// The login the automatic realisation policy acts under.
pub const AUTOMATIC_POLICY: &str = "automatic-policy";

fn person(login: &str) -> Actor {
    if login == AUTOMATIC_POLICY {
        return Actor {
            kind: contracts::envelope::ActorKind::System,
            id: Some(AUTOMATIC_POLICY.to_owned()),
            role: Some("automatic".to_owned()),
        };
    }
    Actor {
        kind: contracts::envelope::ActorKind::Person,
        id: Some(login.to_owned()),
        role: Some("administrator".to_owned()),
    }
}

pub async fn take(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ProcessingError> {
    let mut tx = pool.begin().await?;
    take_in_txn(&mut tx, case_number, by, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn take_in_txn(
    tx: &mut PgConnection,
    case_number: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ProcessingError> {
    let case = cases::case_for_processing_in_txn(tx, case_number)
        .await?
        .ok_or_else(|| ProcessingError::NotFound(case_number.to_owned()))?;
    if case.status != CaseStatus::Registered.as_str() {
        return Err(match case.taken_by {
            Some(other) => conflict(format!("Sprawę {case_number} prowadzi już {other}.")),
            None => conflict(format!(
                "Sprawa {case_number} ma status {} i nie czeka w kolejce.",
                case.status
            )),
        });
    }
    if !case.verified {
        return Err(conflict(format!(
            "Sprawa {case_number} nie została jeszcze sprawdzona (czy wnioskodawca może o nią wnioskować)."
        )));
    }
    cases::case_taken_in_txn(tx, case_number, by, now).await?;
    crate::announce::announce(
        tx,
        case_number,
        &case.document_id,
        CaseStatus::Taken,
        None,
        now,
    )
    .await?;
    let event = Envelope {
        id: Uuid::now_v7(),
        kind: subjects::INTAKE_CASE_TAKEN.to_owned(),
        version: 1,
        occurred_at: now,
        actor: person(by),
        institution_rspo_id: Some(case.institution_rspo_id),
        case_number: Some(case_number.to_owned()),
        data: serde_json::json!({ "case_number": case_number, "taken_by": by }),
    };
    outbox_insert_json(tx, event.id, subjects::INTAKE_CASE_TAKEN, &event).await?;
    Ok(())
}

pub async fn realise(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    delivery: Option<DeliveryMode>,
    now: DateTime<Utc>,
) -> Result<(), ProcessingError> {
    let mut tx = pool.begin().await?;
    realise_in_txn(&mut tx, case_number, by, delivery, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn realise_in_txn(
    tx: &mut PgConnection,
    case_number: &str,
    by: &str,
    delivery: Option<DeliveryMode>,
    now: DateTime<Utc>,
) -> Result<(), ProcessingError> {
    let case = cases::case_for_processing_in_txn(tx, case_number)
        .await?
        .ok_or_else(|| ProcessingError::NotFound(case_number.to_owned()))?;
    if case.status != CaseStatus::Taken.as_str() {
        return Err(conflict(format!(
            "Sprawę {case_number} trzeba najpierw przyjąć do realizacji (ma status {}).",
            case.status
        )));
    }
    if case.taken_by.as_deref() != Some(by) {
        return Err(conflict(format!(
            "Sprawę {case_number} prowadzi {}; tylko ta osoba może ją zrealizować.",
            case.taken_by.unwrap_or_default()
        )));
    }
    if case.realisation_requested {
        return Err(conflict(format!(
            "Sprawa {case_number} jest już realizowana."
        )));
    }
    let delivery = delivery.unwrap_or(if case.delivery_mode == "in_person" {
        DeliveryMode::InPerson
    } else {
        DeliveryMode::Electronic
    });
    let procedure = Procedure::parse(&case.procedure)
        .ok_or_else(|| conflict(format!("Nieznana procedura {}.", case.procedure)))?;
    cases::case_realisation_requested_in_txn(tx, case_number, by, delivery.as_str(), now).await?;
    let event = Envelope {
        id: Uuid::now_v7(),
        kind: subjects::INTAKE_CASE_REALISATION_REQUESTED.to_owned(),
        version: 1,
        occurred_at: now,
        actor: person(by),
        institution_rspo_id: Some(case.institution_rspo_id.clone()),
        case_number: Some(case_number.to_owned()),
        data: RealisationRequested {
            case_number: case_number.to_owned(),
            procedure,
            institution_rspo_id: case.institution_rspo_id,
            target_login: case.target_login,
            delivery,
            requested_by: by.to_owned(),
        },
    };
    outbox_insert_json(
        tx,
        event.id,
        subjects::INTAKE_CASE_REALISATION_REQUESTED,
        &event,
    )
    .await?;
    Ok(())
}
