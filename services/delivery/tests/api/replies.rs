//! The reply to the sender of an e-mailed request: `intake.reply.requested` becomes one
//! plain-text e-mail to that address, sent once however often the event arrives.

use contracts::events::ReplyRequested;
use contracts::forms::{DeliveryMode, Procedure};
use contracts::seod_status::{CaseStatus, Rejection};
use contracts::{Actor, Envelope, subjects};
use delivery::store::notices::notices_to;
use kit::clock::{Clock, SystemClock};
use test_support::eventually;

use crate::helpers::{TestDelivery, WAIT, settle};

const SENDER: &str = "dyrektor@zaczek.example.pl";

fn reply(status: CaseStatus, rejection: Option<Rejection>) -> Envelope<ReplyRequested> {
    let now = SystemClock.now();
    Envelope {
        id: uuid::Uuid::now_v7(),
        kind: subjects::INTAKE_REPLY_REQUESTED.to_owned(),
        version: 1,
        occurred_at: now,
        actor: Actor::system("intake"),
        institution_rspo_id: Some("34567".into()),
        case_number: Some("PZO-01/2026/000007".into()),
        data: ReplyRequested {
            case_number: "PZO-01/2026/000007".into(),
            procedure: Procedure::Pzo01,
            institution_name: "Niepubliczna Szkoła Podstawowa „Żaczek” w Krakowie".into(),
            target_login: "pzo-admin-34567".into(),
            to: SENDER.into(),
            status,
            delivery: DeliveryMode::Electronic,
            rejection,
            at: now,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_of_an_e_mailed_request_gets_its_outcome_once() {
    let mut delivery = TestDelivery::start().await;
    let refused = reply(
        CaseStatus::Rejected,
        Some(Rejection {
            field: "requester.login".into(),
            code: "not_director".into(),
            message: "Wnioskodawca nie jest aktualnym dyrektorem tej placówki.".into(),
            detail: None,
        }),
    );
    for _ in 0..2 {
        delivery
            .publish(subjects::INTAKE_REPLY_REQUESTED, &refused, None)
            .await;
    }
    let mails = eventually(WAIT, "the reply in the mailbox", || async {
        let mails = delivery.smtp.mails();
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    let mail = &mails[0];
    assert_eq!(mail.to, SENDER);
    assert_eq!(mail.subject, "Wniosek PZO-01/2026/000007: odrzucony");
    assert!(mail.attachments.is_empty());
    assert!(
        mail.text
            .contains("Powód: Wnioskodawca nie jest aktualnym dyrektorem tej placówki."),
        "{}",
        mail.text
    );
    eventually(WAIT, "both copies handled", || async {
        let handled = delivery
            .count("SELECT count(*) FROM kit_inbox WHERE consumer = 'delivery-replies'")
            .await;
        (handled == 2).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(delivery.smtp.mails().len(), 1, "one reply for one event");
    let recorded = notices_to(&delivery.pool, SENDER).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].kind.as_str(), recorded[0].status.as_str()),
        ("case_outcome", "sent")
    );
    delivery.stop().await;
}
