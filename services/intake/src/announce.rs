//! Telling the requester a case's new status: SEOD hears every status; the director who
//! e-mailed his request (PZO-01) gets the outcomes by e-mail, through delivery.

use chrono::{DateTime, Utc};
use contracts::events::ReplyRequested;
use contracts::forms::DeliveryMode;
use contracts::seod_status::{CaseStatus, Rejection, SeodStatus};
use contracts::{Actor, Envelope, subjects};
use kit::outbox::{outbox_insert_event, outbox_insert_json};
use sqlx::PgConnection;
use uuid::Uuid;

/// accounts' refusal when the sender is not the institution's address in ODPN: nobody known
/// is behind that address, so it is not answered (the operator sees the reason).
const SENDER_NOT_REGISTERED: &str = "sender_not_registered";

/// Whether this status is an outcome the requester is told by e-mail: the end of the case,
/// and, for an in-person collection, that the letter is ready.
fn worth_a_reply(status: CaseStatus, delivery: DeliveryMode) -> bool {
    match status {
        CaseStatus::Realised => delivery == DeliveryMode::InPerson,
        CaseStatus::Closed | CaseStatus::Rejected | CaseStatus::Failed | CaseStatus::Expired => {
            true
        }
        _ => false,
    }
}

/// Records the case's new status for SEOD and, when the request came by e-mail and the
/// status is an outcome, asks delivery to confirm it to the sender.
pub async fn announce(
    conn: &mut PgConnection,
    case_number: &str,
    document_id: &str,
    status: CaseStatus,
    rejection: Option<Rejection>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let reply_code = rejection.as_ref().map(|r| r.code.clone());
    let seod = SeodStatus {
        document_id: document_id.to_owned(),
        case_number: Some(case_number.to_owned()),
        status,
        rejection: rejection.clone(),
        at: now,
    };
    outbox_insert_json(
        conn,
        Uuid::now_v7(),
        &subjects::seod_status(document_id),
        &seod,
    )
    .await?;
    // In-person delivery makes the most statuses worth a reply: if not even then, no case
    // needs looking up.
    if reply_code.as_deref() == Some(SENDER_NOT_REGISTERED)
        || !worth_a_reply(status, DeliveryMode::InPerson)
    {
        return Ok(());
    }
    let Some(case) = crate::store::cases::case_reply_target_in_txn(conn, case_number).await? else {
        return Ok(());
    };
    let delivery = case.delivery_mode;
    if !worth_a_reply(status, delivery) {
        return Ok(());
    }
    let procedure = case.procedure;
    let event = Envelope::new(
        Actor::system(crate::SERVICE),
        now,
        ReplyRequested {
            case_number: case_number.to_owned(),
            procedure,
            institution_name: case.institution_name,
            target_login: case.target_login,
            to: case.reply_email,
            status,
            delivery,
            rejection,
            at: now,
        },
    )
    .institution(case.institution_rspo_id)
    .case(case_number.to_owned());
    tracing::info!(
        case_number,
        status = status.as_str(),
        "the requester is told by e-mail"
    );
    outbox_insert_event(conn, &event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requester_hears_the_outcomes_only() {
        use CaseStatus::*;
        for status in [Closed, Rejected, Failed, Expired] {
            assert!(
                worth_a_reply(status, DeliveryMode::Electronic),
                "{status:?}"
            );
        }
        for status in [Registered, Taken, Realised, Delivered, Collected] {
            assert!(
                !worth_a_reply(status, DeliveryMode::Electronic),
                "{status:?}"
            );
        }
        assert!(worth_a_reply(Realised, DeliveryMode::InPerson));
    }
}
