//! The bus as an attacker finds it: no client without an identity gets in, and each identity
//! may say only what it owns and read only what it consumes.

use std::time::Duration;

use async_nats::jetstream;
use contracts::permissions::Identity;
use contracts::query::CaseQuery;
use contracts::{streams, subjects};
use futures::StreamExt;
use serde_json::json;
use test_support::{System, SystemOptions};

/// A JetStream context whose publishes give up quickly: a refused publish is never acked.
fn quick(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client)
}

/// How many messages a stream holds on a subject, read by the tests' observer.
async fn messages_on(system: &System, stream: &str, subject: &str) -> u64 {
    let js = jetstream::new(system.client().await);
    test_support::stored(&js, stream, subject).await.len() as u64
}

#[tokio::test]
async fn a_client_without_an_identity_is_not_let_onto_the_bus() {
    let system = System::start(SystemOptions::default()).await;
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(system.nats.url())
        .await;
    let error = anonymous
        .expect_err("an anonymous client is refused")
        .to_string();
    assert!(error.to_lowercase().contains("authoriz"), "{error}");

    let stranger = async_nats::ConnectOptions::with_nkey(kit::nats_auth::new_seed())
        .connection_timeout(Duration::from_secs(2))
        .connect(system.nats.url())
        .await;
    assert!(stranger.is_err(), "an unknown nkey is refused");
}

#[tokio::test]
async fn intakes_identity_cannot_issue_credentials_and_seods_cannot_ask_for_a_realisation() {
    let system = System::start(SystemOptions::default()).await;
    let forged_credential = json!({
        "id": uuid::Uuid::now_v7(), "type": subjects::ACCOUNTS_CREDENTIAL_ISSUED, "version": 1,
        "occurred_at": "2026-12-01T10:00:00Z", "actor": { "kind": "service", "id": "accounts" },
        "data": { "sealed": "AAAA", "recipient_email": "attacker@example.com" }
    });
    let intake = quick(system.client_as(Identity::Intake).await);
    let refused = async {
        intake
            .publish(
                subjects::ACCOUNTS_CREDENTIAL_ISSUED,
                forged_credential.to_string().into(),
            )
            .await?
            .await
    }
    .await;
    assert!(refused.is_err(), "intake may not publish accounts' events");

    let forged_realisation = json!({
        "id": uuid::Uuid::now_v7(), "type": subjects::INTAKE_CASE_REALISATION_REQUESTED,
        "version": 1, "occurred_at": "2026-12-01T10:00:00Z",
        "actor": { "kind": "staff", "id": "admin.ek04" },
        "case_number": "ZSZO-05/2026/000001", "data": { "account_login": "lzak" }
    });
    let seod = quick(system.client_as(Identity::Seod).await);
    let refused = async {
        seod.publish(
            subjects::INTAKE_CASE_REALISATION_REQUESTED,
            forged_realisation.to_string().into(),
        )
        .await?
        .await
    }
    .await;
    assert!(refused.is_err(), "SEOD may not publish intake's events");

    assert_eq!(
        messages_on(
            &system,
            streams::ACCOUNTS.name,
            subjects::ACCOUNTS_CREDENTIAL_ISSUED
        )
        .await,
        0
    );
    assert_eq!(
        messages_on(
            &system,
            streams::INTAKE.name,
            subjects::INTAKE_CASE_REALISATION_REQUESTED
        )
        .await,
        0
    );
}

#[tokio::test]
async fn seod_reads_only_statuses_and_may_not_ask_intake_about_cases() {
    let system = System::start(SystemOptions::default()).await;
    let seod = quick(system.client_as(Identity::Seod).await);
    let refused = match seod.get_stream(streams::ACCOUNTS.name).await {
        Err(_) => true,
        Ok(stream) => stream
            .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
            .await
            .is_err(),
    };
    assert!(refused, "SEOD may not read accounts' stream");

    let statuses = seod
        .get_stream(streams::SEOD_STATUS.name)
        .await
        .expect("SEOD may read its statuses' stream");
    statuses
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("SEOD may follow its statuses");

    let client = system.client_as(Identity::Seod).await;
    let body = serde_json::to_vec(&CaseQuery {
        case_number: "ZSZO-05/2026/000001".into(),
    })
    .unwrap();
    let asked = tokio::time::timeout(
        Duration::from_secs(3),
        client.request(subjects::QUERY_INTAKE_CASE, body.clone().into()),
    )
    .await;
    assert!(
        !matches!(asked, Ok(Ok(_))),
        "SEOD gets no answer about cases"
    );
    let cli = system.client_as(Identity::Klucznikctl).await;
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        cli.request(subjects::QUERY_INTAKE_CASE, body.into()),
    )
    .await;
    assert!(
        matches!(answer, Ok(Ok(_))),
        "klucznikctl is answered: {answer:?}"
    );

    // Nobody reads another party's replies.
    let eavesdrop = client.subscribe("_INBOX_klucznikctl.>").await;
    let mut eavesdrop = eavesdrop.expect("the subscription is sent");
    let _ = cli
        .request(
            subjects::QUERY_INTAKE_CASE,
            serde_json::to_vec(&CaseQuery {
                case_number: "ZSZO-05/2026/000002".into(),
            })
            .unwrap()
            .into(),
        )
        .await;
    let overheard = tokio::time::timeout(Duration::from_secs(1), eavesdrop.next()).await;
    assert!(!matches!(overheard, Ok(Some(_))), "SEOD overheard a reply");
}

#[tokio::test]
async fn refusals_of_requests_that_would_change_something_are_recorded_by_audit() {
    let system = System::start(SystemOptions::default()).await;
    let path = "/api/cases/ZSZO-05/2026/000001/take";
    let (status, _) = crate::helpers::call(&system, "intake", None, path, json!({})).await;
    assert_eq!(status, 401);
    let auditor = system.auditor_token().await;
    let (status, _) =
        crate::helpers::call(&system, "intake", Some(&auditor), path, json!({})).await;
    assert_eq!(status, 403);
    // Reading is not an attempt to act: a refused GET is not recorded.
    let (status, _) = crate::helpers::get(&system, "intake", None, "/api/queue").await;
    assert_eq!(status, 401);
    let refusals =
        test_support::eventually(Duration::from_secs(20), "two refusals in audit", || async {
            let events = system
                .audit_events("event_type=intake.access.refused")
                .await;
            (events.len() >= 2).then_some(events)
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        system
            .audit_events("event_type=intake.access.refused")
            .await
            .len(),
        2
    );
    let statuses: Vec<u64> = refusals
        .iter()
        .map(|e| e["body"]["data"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [401, 403]);
    assert_eq!(refusals[1]["actor_id"], "audytor", "who tried is named");
    assert_eq!(refusals[1]["body"]["data"]["path"], path);
}
