//! Procedure A (ZSZO-05) and B (PZO-01), electronic delivery, all the way as people go
//! through it: the director files the form in SEOD, an administrator takes and realises the
//! case, the institution's mailbox gets an encrypted letter and the director's phone the
//! password to it, the user signs in with the starting password, must change it, and signs in
//! with his own; SEOD sees the case closed and audit the incident. Then the starting and the
//! cipher passwords are looked for everywhere, and found nowhere.

use std::time::Duration;

use contracts::seod_status::CaseStatus;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{
    Received, call, everything, first_login, get, holds, pool_of, receive, statuses_until,
    take_and_realise, zszo_form,
};

async fn run_procedure(
    system: &System,
    subject: &str,
    form: Value,
    login: &str,
) -> (String, Received) {
    let document = form["document_id"].as_str().unwrap().to_owned();
    let status = system
        .submit(subject, form.to_string().as_bytes(), &document, &document)
        .await;
    let case = status.case_number.expect("registered");
    take_and_realise(system, &case, "electronic").await;

    let received = receive(system, &case, "sp7@edu.krakow.pl", "48600100200").await;
    assert_eq!(received.login, login);
    first_login(system, &received.login, &received.starting_password).await;

    let statuses = statuses_until(
        system,
        &document,
        CaseStatus::Closed,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        statuses,
        [
            CaseStatus::Registered,
            CaseStatus::Taken,
            CaseStatus::Realised,
            CaseStatus::Delivered,
            CaseStatus::Closed
        ]
    );
    let incidents = system
        .audit_get(&format!(
            "/api/incidents?case_number={}",
            case.replace('/', "%2F")
        ))
        .await;
    assert_eq!(
        incidents["incidents"][0]["category"],
        "starting_password_loss"
    );
    (case, received)
}

#[tokio::test]
async fn procedures_a_and_b_by_e_mail_and_sms_from_the_form_to_the_users_own_password() {
    let system = System::start(SystemOptions::default()).await;

    let (_, a) = run_procedure(
        &system,
        contracts::subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
        zszo_form("SEOD-A-1"),
        "lzak",
    )
    .await;

    let mut pzo = zszo_form("SEOD-B-1");
    pzo["form"] = json!("pzo.password-reset");
    pzo["account"] = json!({ "pzo_identifier": "pzo-admin-12345" });
    let (_, b) = run_procedure(
        &system,
        contracts::subjects::SEOD_FORM_PZO_PASSWORD_RESET,
        pzo,
        "pzo-admin-12345",
    )
    .await;

    let delivery = pool_of(&system, "delivery").await;
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE sealed_credentials IS NOT NULL")
            .fetch_one(&delivery)
            .await
            .unwrap();
    assert_eq!(kept, 0, "delivery destroyed its sealed copies");
    // Nor is a sealed copy left anywhere else: the credentials' own stream is empty once
    // delivery took them, the outbox row that held them is gone, and the announcement on
    // accounts' stream never carried one.
    let js = async_nats::jetstream::new(system.client().await);
    let mut credentials = js
        .get_stream(contracts::streams::CREDENTIALS.name)
        .await
        .unwrap();
    let state = credentials.info().await.unwrap().state.clone();
    assert_eq!(state.messages, 0, "the work queue is empty");
    assert!(state.last_sequence >= 2, "both credentials went through it");
    let accounts = pool_of(&system, "accounts").await;
    let outbox: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM kit_outbox WHERE subject = 'credentials.sealed' OR payload::text LIKE '%sealed_credentials%'",
    )
    .fetch_one(&accounts)
    .await
    .unwrap();
    assert_eq!(outbox, 0, "no outbox row holds a sealed copy");
    let announced = js
        .get_stream(contracts::streams::ACCOUNTS.name)
        .await
        .unwrap()
        .get_last_raw_message_by_subject(contracts::subjects::ACCOUNTS_CREDENTIAL_ISSUED)
        .await
        .unwrap();
    assert!(!holds(&announced.payload, "sealed_credentials"));

    let haystack = everything(&system).await;
    // The positive control: the scan finds values known to be there, in the places it
    // looks (a table's text, an outbox payload kept as bytea, a stream, a log), so a miss
    // below is not the scan failing to look.
    for known in [
        "sp7@edu.krakow.pl",
        "\"target_login\":\"lzak\"",
        "accounts.credential.issued",
    ] {
        assert!(holds(&haystack, known), "the scan misses {known}");
    }
    for (what, secret) in [
        ("A's starting password", &a.starting_password),
        ("A's cipher password", &a.cipher_password),
        ("B's starting password", &b.starting_password),
        ("B's cipher password", &b.cipher_password),
    ] {
        assert!(
            !holds(&haystack, secret),
            "{what} is in a database, a stream or a log"
        );
    }
}

/// The reply the director got at `address` about `case`, as text (subject and body).
async fn reply_to(system: &System, address: &str, case: &str) -> (String, String) {
    eventually(
        Duration::from_secs(30),
        "the reply to the requester",
        || async {
            system.smtp.messages().into_iter().find_map(|raw| {
                let message = MessageParser::default().parse(&raw)?;
                let to = message.to()?.first()?.address()?.to_owned();
                let subject = message.subject()?.to_owned();
                (to == address && subject.contains(case)).then(|| {
                    (
                        subject,
                        message.body_text(0).unwrap_or_default().to_string(),
                    )
                })
            })
        },
    )
    .await
}

#[tokio::test]
async fn procedure_b_e_mailed_by_a_non_city_director_is_confirmed_to_his_registered_address() {
    let system = System::start(SystemOptions::default()).await;
    let operator = system.staff_token("operator.ek04").await;
    let request = |sender: &str| {
        json!({
            "procedure": "PZO-01",
            "institution": { "rspo_id": "34567", "name": "Niepubliczna Szkoła Podstawowa „Żaczek”" },
            "requester": { "login": "pgrabowski", "first_name": "Piotr", "last_name": "Grabowski" },
            "contact": { "rspo_email": "zaczek@szkola.example.pl", "director_mobile": "602300400" },
            "account_login": "pzo-admin-34567",
            "channel": "email",
            "sender_email": sender,
        })
    };
    let register = |body: Value| {
        let operator = operator.clone();
        let system = &system;
        async move {
            let (status, body) =
                call(system, "intake", Some(&operator), "/api/requests", body).await;
            assert_eq!(status, 201, "{body}");
            body["case_number"].as_str().unwrap().to_owned()
        }
    };

    // From an address ODPN does not know: refused, and that address hears nothing.
    let stranger = register(request("p.grabowski@gmail.com")).await;
    // The operator looks the case up and sees why.
    let refusal = eventually(Duration::from_secs(20), "the refusal", || async {
        let (_, case) = get(
            &system,
            "intake",
            Some(&operator),
            &format!("/api/cases/{stranger}"),
        )
        .await;
        (case["status"] == "rejected").then_some(case)
    })
    .await;
    assert_eq!(
        refusal["reason"]["code"], "sender_not_registered",
        "{refusal}"
    );
    assert!(
        refusal["reason"]["message"]
            .as_str()
            .unwrap()
            .contains("ODPN")
    );

    // From the address registered in ODPN: realised, delivered like any other, confirmed.
    let case = register(request("Dyrektor@Zaczek.example.pl")).await;
    take_and_realise(&system, &case, "electronic").await;
    let received = receive(&system, &case, "zaczek@szkola.example.pl", "48602300400").await;
    assert_eq!(received.login, "pzo-admin-34567");
    first_login(&system, &received.login, &received.starting_password).await;
    let (subject, body) = reply_to(&system, "dyrektor@zaczek.example.pl", &case).await;
    assert_eq!(subject, format!("Wniosek {case}: zrealizowany"));
    assert!(
        body.contains("konta administratora PZO pzo-admin-34567") && body.contains("SMS-em"),
        "{body}"
    );
    for secret in [&received.starting_password, &received.cipher_password] {
        assert!(!body.contains(secret.as_str()), "the reply holds no secret");
    }
    let to_stranger = system
        .smtp
        .messages()
        .into_iter()
        .any(|raw| String::from_utf8_lossy(&raw).contains("p.grabowski@gmail.com"));
    assert!(!to_stranger, "an unregistered address gets no reply");
}
