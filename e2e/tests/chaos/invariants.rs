//! The promises, checked from outside once the faults have stopped: each accepted request
//! reached its end state once; each account of procedure C created and activated once; one starting password per realisation; one e-mail and one
//! SMS per electronic delivery, the SMS opening the letter; one decision per revocation
//! request and one revocation per authorisation; no dead letter; audit's chain verifies
//! and holds every event of every stream it reads exactly once; no secret in plaintext in
//! any database, stream, store or log.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use contracts::seod_status::CaseStatus;
use contracts::streams;
use contracts::subjects;
use mail_parser::MessageParser;
use serde_json::Value;
use test_support::{System, eventually, stored};

use crate::drive::{Driver, Outcome};
use crate::helpers::{everything, holds, receive, statuses_until};

pub async fn check(system: &System, driver: &Driver, outcome: &Outcome, limit: Duration) {
    let js = jetstream::new(system.client().await);
    let mut secrets = Vec::new();

    for (document, case) in &outcome.cases {
        let statuses = statuses_until(system, document, CaseStatus::Closed, limit).await;
        assert_eq!(
            statuses,
            [
                CaseStatus::Registered,
                CaseStatus::Taken,
                CaseStatus::Realised,
                CaseStatus::Delivered,
                CaseStatus::Closed
            ],
            "{document} ({case}): each status once, in order"
        );
    }
    let issued = per_case(&js, "ACCOUNTS", subjects::ACCOUNTS_CREDENTIAL_ISSUED).await;
    let mails = mails_per_case(system);
    let sms = sms_per_case(system);
    for (_, case) in &outcome.cases {
        assert_eq!(
            issued.get(case),
            Some(&1),
            "{case}: one starting password issued"
        );
        let ids = mails.get(case).cloned().unwrap_or_default();
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            1,
            "{case}: one e-mail (copies of one Message-ID allowed: {ids:?})"
        );
        assert_eq!(sms.get(case), Some(&1), "{case}: one SMS");
        let received = receive(system, case, "sp7@edu.krakow.pl", "48600100200").await;
        secrets.push(received.starting_password);
        secrets.push(received.cipher_password);
    }

    let decided = per_key(&js, subjects::REVOCATION_REQUEST_DECIDED, "request_id").await;
    let revoked = per_key(
        &js,
        subjects::REVOCATION_AUTHORISATION_REVOKED,
        "authorisation_id",
    )
    .await;
    for authorisation in &outcome.authorisations {
        assert_eq!(
            revoked.get(authorisation),
            Some(&1),
            "{authorisation}: revoked once"
        );
        let requests: Vec<String> =
            sqlx::query_scalar("SELECT id::text FROM requests WHERE authorisation_id = $1")
                .bind(authorisation)
                .fetch_all(&driver.revocation)
                .await
                .unwrap();
        assert_eq!(requests.len(), 1, "{authorisation}: one request");
        assert_eq!(
            decided.get(&requests[0]),
            Some(&1),
            "{authorisation}: one decision"
        );
    }

    let created = per_login(&js, subjects::ACCOUNTS_ACCOUNT_CREATED).await;
    let activated = per_login(&js, subjects::ACCOUNTS_ACCOUNT_ACTIVATED).await;
    for login in &outcome.accounts {
        assert_eq!(
            created.get(login),
            Some(&1),
            "{login}: the account created once"
        );
        assert_eq!(activated.get(login), Some(&1), "{login}: activated once");
    }

    let dead = stored(&js, streams::DEAD_LETTER.name, subjects::DEAD_LETTER_ALL).await;
    assert!(
        dead.is_empty(),
        "nothing accepted became a dead letter: {:?}",
        dead.iter()
            .map(|d| (&d.subject, &d.error))
            .collect::<Vec<_>>()
    );

    audit_holds_every_event_once(system, &js, limit).await;

    secrets.extend(driver.secrets.lock().unwrap().iter().cloned());
    let all = everything(system).await;
    for secret in &secrets {
        assert!(!holds(&all, secret), "a secret in plaintext somewhere");
    }
}

/// How many events on `subject` name each case.
async fn per_case(js: &jetstream::Context, stream: &str, subject: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for message in stored(js, stream, subject).await {
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        let case = event["data"]["case_number"].as_str().unwrap_or_default();
        *out.entry(case.to_owned()).or_default() += 1;
    }
    out
}

/// How many of accounts' events on `subject` name each login.
async fn per_login(js: &jetstream::Context, subject: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for message in stored(js, streams::ACCOUNTS.name, subject).await {
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        let login = event["data"]["login"].as_str().unwrap_or_default();
        *out.entry(login.to_owned()).or_default() += 1;
    }
    out
}

/// How many of revocation's events on `subject` carry each value of `data.<key>`.
async fn per_key(js: &jetstream::Context, subject: &str, key: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for message in stored(js, streams::REVOCATION.name, subject).await {
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        let value = event["data"][key].as_str().unwrap_or_default();
        *out.entry(value.to_owned()).or_default() += 1;
    }
    out
}

/// The Message-ID of every e-mail that reached the mailbox, by the case its subject names.
fn mails_per_case(system: &System) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for raw in system.smtp.messages() {
        let message = MessageParser::default()
            .parse(&raw)
            .expect("a MIME message");
        let subject = message.subject().unwrap_or_default();
        let Some(case) = subject
            .rsplit("sprawa ")
            .next()
            .filter(|_| subject.contains("sprawa "))
        else {
            continue;
        };
        out.entry(case.to_owned())
            .or_default()
            .push(message.message_id().unwrap_or_default().to_owned());
    }
    out
}

/// How many SMS reached the phone, by the case they carry the password of.
fn sms_per_case(system: &System) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for body in system.sms.messages() {
        let sms: Value = serde_json::from_str(&body).expect("JSON");
        *out.entry(sms["id"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    out
}

async fn audit_holds_every_event_once(system: &System, js: &jetstream::Context, limit: Duration) {
    let pool = system.databases["audit"].pool().await;
    for consumer in streams::consumers::AUDIT {
        let name = consumer.stream.name;
        let (held, distinct) =
            eventually(limit, &format!("audit to hold all of {name}"), || async {
                let mut stream = js.get_stream(name).await.ok()?;
                let messages = stream.info().await.ok()?.state.messages as i64;
                let (held, distinct): (i64, i64) = sqlx::query_as(
                "SELECT count(*), count(DISTINCT message_id) FROM audit_records WHERE stream = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .ok()?;
                (held == messages).then_some((held, distinct))
            })
            .await;
        assert_eq!(held, distinct, "{name}: each event once in audit");
    }
    let report: Value = reqwest::get(format!("{}/verify", system.url("audit")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["valid"], true, "audit's chain verifies: {report}");
}
