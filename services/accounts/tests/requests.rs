//! accounts on its own, in-process, on a real database and an authenticated NATS, loaded
//! with the sample directory: the test plays intake (through intake's own identity) and
//! reads what accounts publishes.

use async_nats::jetstream;
use contracts::permissions::Identity;
use contracts::{streams, subjects};
use serde_json::{Value, json};
use test_support::eventually;

mod common;
use common::{Accounts, WAIT, accounts};

/// Publishes `data` as intake would, on the subject its type names.
async fn as_intake(accounts: &Accounts, kind: &'static str, case: &str, data: Value) {
    let event = json!({
        "id": uuid::Uuid::now_v7(), "type": kind, "version": 1,
        "occurred_at": "2026-12-01T08:00:00Z",
        "actor": { "kind": "seod", "id": "jkowalski", "role": "director" },
        "institution_rspo_id": "12345", "case_number": case, "data": data
    });
    let intake = jetstream::new(accounts.nats.connect_as(Identity::Intake).await);
    intake
        .publish(kind, event.to_string().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

fn registered(case: &str, requester: &str, target: &str) -> Value {
    json!({
        "case_number": case, "procedure": "ZSZO-05", "document_id": format!("SEOD-{case}"),
        "institution_rspo_id": "12345",
        "institution_name": "Szkoła Podstawowa nr 7 im. Marii Skłodowskiej-Curie w Krakowie",
        "requester_login": requester, "target_login": target,
        "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "48600100200",
        "delivery": "electronic", "submitted_at": "2026-12-01T07:55:00Z", "source": "seod"
    })
}

/// The newest event on `subject` of the ACCOUNTS stream about `case`.
async fn answer(accounts: &Accounts, subject: &str, case: &str) -> Value {
    let js = accounts.jetstream().await;
    eventually(WAIT, "accounts' answer", || async {
        let stream = js.get_stream(streams::ACCOUNTS.name).await.ok()?;
        let message = stream.get_last_raw_message_by_subject(subject).await.ok()?;
        let event: Value = serde_json::from_slice(&message.payload).ok()?;
        (event["case_number"] == case).then_some(event)
    })
    .await
}

#[tokio::test]
async fn the_current_director_may_ask_for_his_schools_account_and_no_one_else_may() {
    let accounts = accounts().await;
    let right = "ZSZO-05/2026/000001";
    let case = registered(right, "jkowalski", "lzak");
    as_intake(&accounts, subjects::INTAKE_CASE_REGISTERED, right, case).await;
    let verified = answer(&accounts, subjects::ACCOUNTS_REQUEST_VERIFIED, right).await;
    assert_eq!(verified["type"], subjects::ACCOUNTS_REQUEST_VERIFIED);
    assert_eq!(verified["data"]["outcome"], "verified");

    // The director of another school asks for this school's account.
    let wrong = "ZSZO-05/2026/000002";
    let case = registered(wrong, "ezielinska", "lzak");
    as_intake(&accounts, subjects::INTAKE_CASE_REGISTERED, wrong, case).await;
    let refused = answer(&accounts, subjects::ACCOUNTS_REQUEST_REFUSED, wrong).await;
    assert_eq!(refused["data"]["outcome"], "refused");
    assert_eq!(
        refused["data"]["rejection"]["field"], "requester.login",
        "{refused}"
    );
    assert!(
        !refused["data"]["rejection"]["message"]
            .as_str()
            .unwrap()
            .is_empty(),
        "the requester is told why, in Polish"
    );
}

/// The reasons on accounts' dead letters of `subject`, once there are `expected` of them.
async fn dead_letter_reasons(accounts: &Accounts, subject: &str, expected: usize) -> Vec<String> {
    let js = accounts.jetstream().await;
    let dead = format!("{}.accounts.{subject}", subjects::DEAD_LETTER_PREFIX);
    eventually(WAIT, "the dead letters", || async {
        let reasons: Vec<String> = test_support::stored(&js, streams::DEAD_LETTER.name, &dead)
            .await
            .into_iter()
            .filter_map(|m| m.error)
            .collect();
        (reasons.len() == expected).then_some(reasons)
    })
    .await
}

#[tokio::test]
async fn a_realisation_accounts_did_not_verify_is_set_aside_and_issues_nothing() {
    let accounts = accounts().await;
    let refused = "ZSZO-05/2026/000003";
    let case = registered(refused, "ezielinska", "lzak");
    as_intake(&accounts, subjects::INTAKE_CASE_REGISTERED, refused, case).await;
    answer(&accounts, subjects::ACCOUNTS_REQUEST_REFUSED, refused).await;
    for case in [refused, "ZSZO-05/2026/000404"] {
        let realise = json!({
            "case_number": case, "procedure": "ZSZO-05", "institution_rspo_id": "12345",
            "target_login": "lzak", "delivery": "electronic", "requested_by": "a.nowak"
        });
        as_intake(
            &accounts,
            subjects::INTAKE_CASE_REALISATION_REQUESTED,
            case,
            realise,
        )
        .await;
    }
    let reasons =
        dead_letter_reasons(&accounts, subjects::INTAKE_CASE_REALISATION_REQUESTED, 2).await;
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("was refused by accounts")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("is not known to accounts")),
        "{reasons:?}"
    );
    let issued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM kit_outbox WHERE subject IN ($1, $2)")
            .bind(subjects::CREDENTIALS_SEALED)
            .bind(subjects::ACCOUNTS_CREDENTIAL_ISSUED)
            .fetch_one(&accounts.pool)
            .await
            .unwrap();
    assert_eq!(issued, 0, "no starting password was issued");
}

#[tokio::test]
async fn a_failed_staff_sign_in_is_told_to_audit_without_what_was_typed() {
    let accounts = accounts().await;
    let typed = "Moje-Tajne-Haslo-2026";
    let response = reqwest::Client::new()
        .post(accounts.url("/api/auth/staff-login"))
        .json(&json!({ "login": typed, "password": "x", "totp": "123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let js = accounts.jetstream().await;
    let failed: Value = eventually(WAIT, "accounts.login.failed", || async {
        let stream = js.get_stream(streams::ACCOUNTS.name).await.ok()?;
        let message = stream
            .get_last_raw_message_by_subject(subjects::ACCOUNTS_LOGIN_FAILED)
            .await
            .ok()?;
        serde_json::from_slice(&message.payload).ok()
    })
    .await;
    let login = failed["data"]["login"].as_str().unwrap();
    assert!(login.starts_with("nieznany:"), "{failed}");
    assert!(!failed.to_string().contains(typed), "{failed}");
}
