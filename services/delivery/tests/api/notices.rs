//! The notice after a password change: recorded when `accounts.password.changed` arrives
//! with an e-mail address, sent by a worker with retries, never twice, never with a secret.

use std::time::Duration;

use contracts::subjects;
use delivery::store::notices::{NoticeRow, notices_of_login};
use kit::clock::{Clock, SystemClock};
use test_support::{eventually, free_port};

use crate::helpers::{SmtpServer, TestDelivery, WAIT, settle};

const USER: &str = "lzak";
const EMAIL: &str = "lukasz.zak@sp7.edu.krakow.pl";

async fn notices(delivery: &TestDelivery, login: &str) -> Vec<NoticeRow> {
    notices_of_login(&delivery.pool, login).await.unwrap()
}

async fn wait_for_notice_status(delivery: &TestDelivery, status: &str) -> NoticeRow {
    eventually(WAIT, &format!("a notice {status}"), || async {
        notices(delivery, USER)
            .await
            .into_iter()
            .find(|n| n.status == status)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_sends_one_notice_without_a_secret_even_when_redelivered() {
    let mut delivery = TestDelivery::start().await;
    let event = delivery.password_changed(USER, Some(EMAIL), SystemClock.now());
    delivery
        .publish(
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            &event,
            Some(event.id.to_string()),
        )
        .await;

    let sent = wait_for_notice_status(&delivery, "sent").await;
    assert_eq!(sent.event_id, event.id);
    assert_eq!(sent.email, EMAIL);
    assert!(sent.sent_at.is_some());
    let mails = eventually(WAIT, "the notice in the mailbox", || async {
        let mails = delivery.smtp.mails();
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, EMAIL);
    assert_eq!(mail.subject, "Zmiana hasła do konta lzak");
    assert!(mail.attachments.is_empty());
    assert!(
        mail.raw_text()
            .to_lowercase()
            .contains("text/plain; charset=utf-8"),
        "{}",
        mail.raw_text()
    );
    assert!(
        mail.message_id.contains(&event.id.to_string()),
        "a stable Message-ID: {}",
        mail.message_id
    );
    let changed_at = delivery::letter::polish_date_time(event.occurred_at);
    assert!(
        mail.text.contains(&format!(
            "Hasło do konta lzak zostało zmienione {changed_at}. Jeśli to nie Ty, skontaktuj \
             się niezwłocznie z administratorem."
        )),
        "{}",
        mail.text
    );

    // The same event again: with its own id (JetStream drops it), and as a new message
    // (the consumer handles it, and finds the notice recorded).
    delivery
        .publish(
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            &event,
            Some(event.id.to_string()),
        )
        .await;
    delivery
        .publish(subjects::ACCOUNTS_PASSWORD_CHANGED, &event, None)
        .await;
    eventually(WAIT, "the replay to be handled", || async {
        let handled = delivery
            .count("SELECT count(*) FROM kit_inbox WHERE consumer = 'delivery-notices'")
            .await;
        (handled == 2).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(delivery.smtp.mails().len(), 1, "no second notice");
    assert_eq!(notices(&delivery, USER).await.len(), 1);
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_an_address_or_a_stale_change_gets_no_notice() {
    let mut delivery = TestDelivery::start().await;
    let without = delivery.password_changed(USER, None, SystemClock.now());
    let blank = delivery.password_changed(USER, Some("  "), SystemClock.now());
    let stale = delivery.password_changed(
        USER,
        Some(EMAIL),
        SystemClock.now() - chrono::Duration::days(10),
    );
    for event in [&without, &blank, &stale] {
        delivery
            .publish(
                subjects::ACCOUNTS_PASSWORD_CHANGED,
                event,
                Some(event.id.to_string()),
            )
            .await;
    }
    eventually(WAIT, "the three events handled", || async {
        let handled = delivery
            .count("SELECT count(*) FROM kit_inbox WHERE consumer = 'delivery-notices'")
            .await;
        (handled == 3).then_some(())
    })
    .await;
    settle().await;
    assert!(notices(&delivery, USER).await.is_empty());
    assert!(delivery.smtp.mails().is_empty());
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_relay_is_retried_and_the_notice_goes_out_once() {
    // delivery is told of a relay on `port`, where nothing listens yet.
    let port = free_port();
    let mut delivery = TestDelivery::start_with(SmtpServer::start(), |s| {
        s.delivery.smtp.port = port;
        s.delivery.retry.base_ms = 300;
    })
    .await;
    let event = delivery.password_changed(USER, Some(EMAIL), SystemClock.now());
    delivery
        .publish(
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            &event,
            Some(event.id.to_string()),
        )
        .await;
    let pending = eventually(WAIT, "a refused connection recorded", || async {
        notices(&delivery, USER)
            .await
            .into_iter()
            .find(|n| n.attempts >= 1)
    })
    .await;
    assert_eq!(pending.status.as_str(), "pending");
    assert!(pending.last_error.unwrap().contains("SMTP"));

    delivery.smtp = SmtpServer::start_on(port);
    let sent = wait_for_notice_status(&delivery, "sent").await;
    assert!(sent.attempts >= 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(delivery.smtp.mails().len(), 1);
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_the_relay_refuses_for_good_fails_the_notice_without_retrying() {
    let mut delivery =
        TestDelivery::start_with(SmtpServer::start_refusing_unknown_mailboxes(), |_| {}).await;
    let event =
        delivery.password_changed(USER, Some("nieznany@sp7.edu.krakow.pl"), SystemClock.now());
    delivery
        .publish(
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            &event,
            Some(event.id.to_string()),
        )
        .await;
    let failed = wait_for_notice_status(&delivery, "failed").await;
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.unwrap().contains("550"));
    settle().await;
    assert_eq!(
        notices(&delivery, USER).await[0].attempts,
        1,
        "not tried again"
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_is_no_address_is_dead_lettered_for_someone_to_correct() {
    let mut delivery = TestDelivery::start().await;
    let event = delivery.password_changed(USER, Some("lukasz.zak(at)sp7"), SystemClock.now());
    delivery
        .publish(
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            &event,
            Some(event.id.to_string()),
        )
        .await;
    let dead = eventually(WAIT, "the event on the dead-letter subject", || async {
        delivery
            .events_in(
                contracts::streams::DEAD_LETTER.name,
                &subjects::dead_letter("delivery", subjects::ACCOUNTS_PASSWORD_CHANGED),
            )
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(dead["id"], event.id.to_string());
    assert!(notices(&delivery, USER).await.is_empty());
    assert!(delivery.smtp.mails().is_empty());
    delivery.stop().await;
}
