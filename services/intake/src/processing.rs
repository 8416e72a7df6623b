//! An administrator's work on a case: take it from the queue, then realise it. Each step is
//! one transaction with the events it causes (SEOD's status, accounts' command, audit).
//!
//! Duties are separated here, where the cases live, so that no one person can obtain a
//! starting password meant for someone else: whoever registered an operator's request may
//! not take or realise it; collection in person needs the request to have asked for it, or
//! the requester's agreement recorded by someone other than the realiser (delivery then
//! keeps the realiser away from the desk for that case).

use chrono::{DateTime, Utc};
use contracts::events::RealisationRequested;
use contracts::forms::DeliveryMode;
use contracts::seod_status::CaseStatus;
use contracts::{Actor, Envelope};
use kit::outbox::outbox_insert_event;
use sqlx::{PgConnection, PgPool};

use crate::error::Error;
use crate::store::cases;

fn conflict(message: impl Into<String>) -> Error {
    Error::Conflict(message.into())
}

/// The login the automatic realisation policy acts under.
pub const AUTOMATIC_POLICY: &str = "automatic-policy";

/// The staff member acting, as events name him: his login and his role.
fn person(login: &str, role: &str) -> Actor {
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
        role: Some(role.to_owned()),
    }
}

/// Whoever registered an operator's request may not process it.
fn refuse_registrant(
    case: &cases::ProcessingRow,
    case_number: &str,
    by: &str,
) -> Result<(), Error> {
    if case.registered_by.as_deref() == Some(by) {
        return Err(Error::Duty(format!(
            "Wniosek {case_number} zarejestrował(a) {by}; sprawę musi zrealizować inna osoba \
             (rozdzielenie obowiązków)."
        )));
    }
    Ok(())
}

/// How the requester's agreement to collection in person is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAgreement {
    /// How and when the requester agreed (e.g. "telefonicznie 1 grudnia 2026").
    pub how: String,
    /// A proxy authorised with form F-01, if the requester named one.
    pub proxy: Option<contracts::events::AuthorisedProxy>,
}

/// Records the requester's agreement to collection in person (see the module's comment).
pub async fn agree_delivery(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    agreement: &DeliveryAgreement,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let case = cases::case_for_processing_in_txn(&mut tx, case_number)
        .await?
        .ok_or_else(|| Error::NotFound(case_number.to_owned()))?;
    let open = [CaseStatus::Registered, CaseStatus::Taken];
    if !open.contains(&case.status) || case.realisation_requested {
        return Err(conflict(format!(
            "Sprawa {case_number} ma status „{}”; zgodę na odbiór osobisty odnotowuje się przed \
             realizacją.",
            case.status.polish()
        )));
    }
    if case.taken_by.as_deref() == Some(by) {
        return Err(Error::Duty(format!(
            "Sprawę {case_number} prowadzi {by}; zgodę wnioskodawcy na odbiór osobisty musi \
             odnotować inna osoba (rozdzielenie obowiązków)."
        )));
    }
    let proxy = agreement
        .proxy
        .as_ref()
        .map(|p| (p.name.as_str(), p.f01_reference.as_str()));
    cases::case_delivery_agreement_in_txn(&mut tx, case_number, by, &agreement.how, proxy, now)
        .await?;
    let event = Envelope::new(
        Actor {
            kind: contracts::envelope::ActorKind::Person,
            id: Some(by.to_owned()),
            role: None,
        },
        now,
        contracts::events::DeliveryAgreed {
            case_number: case_number.to_owned(),
            delivery: DeliveryMode::InPerson,
            how: agreement.how.clone(),
            proxy: agreement.proxy.clone(),
            recorded_by: by.to_owned(),
        },
    )
    .institution(case.institution_rspo_id)
    .case(case_number);
    outbox_insert_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// The longest closing note.
pub const CLOSING_NOTE_MAX: usize = 1000;

/// Closes a failed, refused or expired case with a note saying why (what was done instead,
/// what the requester was told); SEOD, or the sender of an e-mailed request, hears it.
pub async fn close_with_note(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let case = cases::case_for_processing_in_txn(&mut tx, case_number)
        .await?
        .ok_or_else(|| Error::NotFound(case_number.to_owned()))?;
    if !matches!(
        case.status,
        CaseStatus::Failed | CaseStatus::Rejected | CaseStatus::Expired
    ) {
        return Err(conflict(format!(
            "Z notatką zamyka się tylko sprawę niedoręczoną, odrzuconą albo wygasłą; sprawa \
             {case_number} ma status „{}”.",
            case.status.polish()
        )));
    }
    cases::case_closed_with_note_in_txn(&mut tx, case_number, by, note, now).await?;
    crate::announce::announce(
        &mut tx,
        case_number,
        &case.document_id,
        CaseStatus::Closed,
        None,
        now,
    )
    .await?;
    let event = Envelope::new(
        person(by, "administrator"),
        now,
        contracts::events::CaseClosed {
            case_number: case_number.to_owned(),
            closed_by: by.to_owned(),
            from_status: case.status,
            note: note.to_owned(),
        },
    )
    .institution(case.institution_rspo_id)
    .case(case_number);
    outbox_insert_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn take(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    take_in_txn(&mut tx, case_number, by, role, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn take_in_txn(
    tx: &mut PgConnection,
    case_number: &str,
    by: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let case = cases::case_for_processing_in_txn(tx, case_number)
        .await?
        .ok_or_else(|| Error::NotFound(case_number.to_owned()))?;
    if case.status != CaseStatus::Registered {
        return Err(match case.taken_by {
            Some(other) => conflict(format!("Sprawę {case_number} prowadzi już {other}.")),
            None => conflict(format!(
                "Sprawa {case_number} ma status „{}” i nie czeka w kolejce.",
                case.status.polish()
            )),
        });
    }
    if !case.verified {
        return Err(conflict(format!(
            "Sprawa {case_number} nie została jeszcze sprawdzona (czy wnioskodawca może o nią wnioskować)."
        )));
    }
    refuse_registrant(&case, case_number, by)?;
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
    let event = Envelope::new(
        person(by, role),
        now,
        contracts::events::CaseTaken {
            case_number: case_number.to_owned(),
            taken_by: by.to_owned(),
        },
    )
    .institution(case.institution_rspo_id)
    .case(case_number);
    outbox_insert_event(tx, &event).await?;
    Ok(())
}

pub async fn realise(
    pool: &PgPool,
    case_number: &str,
    by: &str,
    role: &str,
    delivery: Option<DeliveryMode>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    realise_in_txn(&mut tx, case_number, by, role, delivery, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn realise_in_txn(
    tx: &mut PgConnection,
    case_number: &str,
    by: &str,
    role: &str,
    delivery: Option<DeliveryMode>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let case = cases::case_for_processing_in_txn(tx, case_number)
        .await?
        .ok_or_else(|| Error::NotFound(case_number.to_owned()))?;
    if case.status != CaseStatus::Taken {
        return Err(conflict(format!(
            "Sprawę {case_number} trzeba najpierw przyjąć do realizacji (ma status „{}”).",
            case.status.polish()
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
    refuse_registrant(&case, case_number, by)?;
    // The realisation is a trace of its own (the administrator's request); it links to the
    // trace of the form that opened the case.
    kit::propagation::link_to_traceparent(
        &tracing::Span::current(),
        case.form_trace_parent.as_deref(),
    );
    let asked_in_person = case.delivery_mode == DeliveryMode::InPerson;
    let delivery = delivery.unwrap_or(if asked_in_person {
        DeliveryMode::InPerson
    } else {
        DeliveryMode::Electronic
    });
    if delivery == DeliveryMode::InPerson && !asked_in_person {
        match case.delivery_agreed_by.as_deref() {
            None => {
                return Err(conflict(format!(
                    "Wnioskodawca w sprawie {case_number} nie prosił o odbiór osobisty i nie \
                     odnotowano jego zgody; dane dostępowe zostaną doręczone elektronicznie, \
                     chyba że inna osoba odnotuje zgodę wnioskodawcy."
                )));
            }
            Some(agreed_by) if agreed_by == by => {
                return Err(Error::Duty(format!(
                    "Zgodę na odbiór osobisty w sprawie {case_number} odnotował(a) {by}; \
                     realizująca osoba nie może sama zmienić sposobu doręczenia."
                )));
            }
            Some(_) => {}
        }
    }
    let proxy = match (case.proxy_name.clone(), case.proxy_f01_reference.clone()) {
        (Some(name), Some(f01_reference)) if delivery == DeliveryMode::InPerson => {
            Some(contracts::events::AuthorisedProxy {
                name,
                f01_reference,
            })
        }
        _ => None,
    };
    let procedure = case.procedure;
    cases::case_realisation_requested_in_txn(tx, case_number, by, delivery.as_str(), now).await?;
    let event = Envelope::new(
        person(by, role),
        now,
        RealisationRequested {
            case_number: case_number.to_owned(),
            procedure,
            institution_rspo_id: case.institution_rspo_id.clone(),
            target_login: case.target_login,
            delivery,
            requested_by: by.to_owned(),
            proxy,
        },
    )
    .institution(case.institution_rspo_id)
    .case(case_number);
    outbox_insert_event(tx, &event).await?;
    Ok(())
}
