//! accounts realises a case only from its own record of what it verified, and only once,
//! whatever a realisation request on the bus says.

use std::time::Duration;

use async_nats::jetstream;
use contracts::events::RealisationRequested;
use contracts::forms::{DeliveryMode, Procedure};
use contracts::permissions::Identity;
use contracts::seod_status::CaseStatus;
use contracts::{Actor, Envelope, streams, subjects};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{pool_of, statuses_until, submit_zszo, take_and_realise, zszo_form};

/// Every message on `subject` in `stream`, with the dead-letter error header if any.
async fn messages(system: &System, stream: &str, subject: &str) -> Vec<(Vec<u8>, String)> {
    let js = jetstream::new(system.client().await);
    test_support::stored(&js, stream, subject)
        .await
        .into_iter()
        .map(|m| (m.payload, m.error.unwrap_or_default()))
        .collect()
}

/// A realisation request as a compromised (or mistaken) intake could publish it.
async fn publish_realisation(system: &System, case: &str, login: &str) {
    let event = Envelope {
        id: uuid::Uuid::now_v7(),
        kind: subjects::INTAKE_CASE_REALISATION_REQUESTED.to_owned(),
        version: 1,
        occurred_at: kit::clock::Clock::now(&kit::clock::SystemClock),
        actor: Actor::system("intake"),
        institution_rspo_id: Some("12345".into()),
        case_number: Some(case.to_owned()),
        data: RealisationRequested {
            case_number: case.to_owned(),
            procedure: Procedure::Zszo05,
            institution_rspo_id: "12345".into(),
            target_login: login.to_owned(),
            delivery: DeliveryMode::Electronic,
            requested_by: "admin.ek04".into(),
            proxy: None,
        },
    };
    jetstream::new(system.client_as(Identity::Intake).await)
        .publish(
            subjects::INTAKE_CASE_REALISATION_REQUESTED,
            serde_json::to_vec(&event).unwrap().into(),
        )
        .await
        .expect("publish")
        .await
        .expect("JetStream stores it");
}

async fn wait_dead_letters(system: &System, n: usize) -> Vec<String> {
    let subject = subjects::dead_letter("accounts", subjects::INTAKE_CASE_REALISATION_REQUESTED);
    eventually(
        Duration::from_secs(20),
        "accounts' dead letters",
        || async {
            let letters: Vec<String> = messages(system, streams::DEAD_LETTER.name, &subject)
                .await
                .into_iter()
                .map(|(_, error)| error)
                .collect();
            (letters.len() >= n).then_some(letters)
        },
    )
    .await
}

async fn password_hash(system: &System, login: &str) -> Option<String> {
    sqlx::query_scalar("SELECT password_hash FROM accounts WHERE login = $1")
        .bind(login)
        .fetch_one(&pool_of(system, "accounts").await)
        .await
        .expect("the account")
}

#[tokio::test]
async fn a_realisation_naming_another_account_or_coming_twice_is_refused_by_accounts() {
    let system = System::start(SystemOptions::default()).await;
    let form = zszo_form("SEOD-2026-REAL-1");
    let case = submit_zszo(&system, &form).await.case_number.unwrap();
    crate::helpers::verified(&system, &case).await;
    let director_before = password_hash(&system, "jkowalski").await;

    // The case was verified for lzak; a request naming the director's login is refused.
    publish_realisation(&system, &case, "jkowalski").await;
    let letters = wait_dead_letters(&system, 1).await;
    assert!(letters[0].contains("names another account"), "{letters:?}");
    assert_eq!(password_hash(&system, "jkowalski").await, director_before);

    // The real realisation goes through once.
    take_and_realise(&system, &case, "electronic").await;
    statuses_until(
        &system,
        "SEOD-2026-REAL-1",
        CaseStatus::Realised,
        Duration::from_secs(30),
    )
    .await;
    let issued = || async {
        messages(
            &system,
            streams::ACCOUNTS.name,
            subjects::ACCOUNTS_CREDENTIAL_ISSUED,
        )
        .await
        .len()
    };
    assert_eq!(issued().await, 1);

    // A second realisation of the same case is refused: no second password.
    let hash = password_hash(&system, "lzak").await;
    publish_realisation(&system, &case, "lzak").await;
    let letters = wait_dead_letters(&system, 2).await;
    assert!(
        letters.iter().any(|l| l.contains("already realised")),
        "{letters:?}"
    );
    assert_eq!(password_hash(&system, "lzak").await, hash);
    assert_eq!(issued().await, 1);
}
