//! The walking skeleton: a SEOD form becomes a case, SEOD hears back, audit records it.

use std::time::Duration;

use contracts::seod_status::CaseStatus;
use contracts::subjects;
use serde_json::json;
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{count, get, pool_of, submit_zszo, zszo_form, zszo_form_for};

#[tokio::test]
async fn a_valid_form_becomes_a_numbered_case_answered_to_seod_and_recorded_by_audit() {
    let system = System::start(SystemOptions::default()).await;

    let status = submit_zszo(&system, &zszo_form("SEOD-1")).await;
    assert_eq!(status.status, CaseStatus::Registered);
    let case_number = status.case_number.expect("a registered case has a number");
    assert!(
        case_number.starts_with("ZSZO-05/") && case_number.ends_with("/000001"),
        "{case_number}"
    );

    let second = submit_zszo(&system, &zszo_form_for("SEOD-2", 1)).await;
    assert!(second.case_number.unwrap().ends_with("/000002"));

    let query = format!("case_number={}", case_number.replace('/', "%2F"));
    let events = eventually(
        Duration::from_secs(15),
        "audit to record the case",
        || async {
            let events = system.audit_events(&query).await;
            let types: Vec<String> = events
                .iter()
                .map(|e| e["event_type"].as_str().unwrap().to_owned())
                .collect();
            (types.contains(&"intake.case.registered".to_owned())
                && types.contains(&"seod.status.published".to_owned()))
            .then_some(events)
        },
    )
    .await;
    let registered = events
        .iter()
        .find(|e| e["event_type"] == "intake.case.registered")
        .unwrap();
    assert_eq!(registered["actor_id"], "jkowalski");
    assert_eq!(registered["institution_rspo_id"], "12345");
    assert_eq!(registered["document_id"], "SEOD-1");
    assert!(
        registered["trace_id"]
            .as_str()
            .is_some_and(|t| t.len() == 32)
    );

    let forms = system
        .audit_events("document_id=SEOD-1&event_type=seod.form.received")
        .await;
    assert_eq!(forms.len(), 1, "the form itself is recorded once");

    let url = format!("{}/api/cases/{case_number}", system.url("intake"));
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(
        anonymous.status(),
        401,
        "a case is for the department's staff"
    );
    let operator = system.staff_token("operator.ek04").await;
    let (_, case) = get(
        &system,
        "intake",
        Some(&operator),
        &format!("/api/cases/{case_number}"),
    )
    .await;
    assert_eq!(case["status"], "registered");
    assert_eq!(case["document_id"], "SEOD-1");
}

#[tokio::test]
async fn a_pzo_form_gets_its_own_numbering() {
    let system = System::start(SystemOptions::default()).await;
    let mut form = zszo_form("SEOD-PZO-1");
    form["form"] = json!("pzo.password-reset");
    form["account"] = json!({ "pzo_identifier": "pzo-admin-12345" });
    let status = system
        .submit(
            subjects::SEOD_FORM_PZO_PASSWORD_RESET,
            form.to_string().as_bytes(),
            "SEOD-PZO-1",
            "SEOD-PZO-1",
        )
        .await;
    assert_eq!(status.status, CaseStatus::Registered);
    assert!(status.case_number.unwrap().starts_with("PZO-01/"));
}

#[tokio::test]
async fn malformed_and_schema_invalid_forms_are_rejected_naming_the_field_and_record_no_case() {
    let system = System::start(SystemOptions::default()).await;
    let intake = pool_of(&system, "intake").await;

    let garbage = system
        .submit(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            b"{\"form\": oops",
            "raw-1",
            "raw-1",
        )
        .await;
    assert_eq!(garbage.status, CaseStatus::Rejected);
    let reason = garbage.rejection.unwrap();
    assert_eq!(
        (reason.field.as_str(), reason.code.as_str()),
        ("$", "malformed_json")
    );
    assert!(reason.message.contains("JSON"));

    let mut missing = zszo_form("SEOD-BAD-1");
    missing["account"] = json!({});
    let status = submit_zszo(&system, &missing).await;
    let reason = status.rejection.expect("a reason");
    assert_eq!(
        (reason.field.as_str(), reason.code.as_str()),
        ("account.login", "missing_field")
    );

    let mut phone = zszo_form("SEOD-BAD-2");
    phone["contact"]["director_mobile"] = json!("12");
    let reason = submit_zszo(&system, &phone).await.rejection.unwrap();
    assert_eq!(
        (reason.field.as_str(), reason.code.as_str()),
        ("contact.director_mobile", "invalid_phone")
    );
    assert!(
        reason.message.contains("telefonu"),
        "the reason is in Polish: {}",
        reason.message
    );

    let mut extra = zszo_form("SEOD-BAD-3");
    extra["account"]["password"] = json!("Haslo123!");
    let reason = submit_zszo(&system, &extra).await.rejection.unwrap();
    assert_eq!(
        (reason.field.as_str(), reason.code.as_str()),
        ("account.password", "unknown_field")
    );

    let unknown_form = system
        .submit(
            "seod.forms.zszo.something-else",
            zszo_form("SEOD-BAD-4").to_string().as_bytes(),
            "SEOD-BAD-4",
            "SEOD-BAD-4",
        )
        .await;
    assert_eq!(unknown_form.rejection.unwrap().code, "unknown_form");

    assert_eq!(
        count(&intake, "SELECT count(*) FROM cases").await,
        0,
        "no case for a refused form"
    );
    assert_eq!(
        count(&intake, "SELECT count(*) FROM rejected_forms").await,
        5
    );

    eventually(
        Duration::from_secs(15),
        "audit to record the rejections",
        || async {
            (system
                .audit_events("event_type=intake.form.rejected")
                .await
                .len()
                == 5)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_form_sent_twice_is_one_case_and_a_reused_document_id_with_other_content_is_refused() {
    let system = System::start(SystemOptions::default()).await;
    let form = zszo_form("SEOD-DUP");
    let first = submit_zszo(&system, &form).await;
    assert_eq!(first.status, CaseStatus::Registered);

    // The same document again, under a new message id (SEOD retried after the
    // de-duplication window): recognised, no new case, and SEOD is told its case again.
    let js = async_nats::jetstream::new(system.client().await);
    js.send_publish(
        subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
        async_nats::jetstream::message::PublishMessage::build()
            .payload(form.to_string().into())
            .message_id("SEOD-DUP-retry"),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    eventually(
        Duration::from_secs(20),
        "SEOD to be told its case again",
        || async {
            let statuses = system.statuses("SEOD-DUP").await;
            (statuses
                .iter()
                .filter(|s| s.status == CaseStatus::Registered)
                .count()
                == 2)
                .then_some(())
        },
    )
    .await;

    let mut other = form.clone();
    other["account"]["login"] = json!("kowalczyk");
    let conflicting = system
        .submit(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            other.to_string().as_bytes(),
            "SEOD-DUP-2",
            "SEOD-DUP",
        )
        .await;
    assert_eq!(conflicting.status, CaseStatus::Rejected);
    assert_eq!(conflicting.rejection.unwrap().code, "duplicate_document_id");

    let intake = pool_of(&system, "intake").await;
    assert_eq!(count(&intake, "SELECT count(*) FROM cases").await, 1);
    let statuses = system.statuses("SEOD-DUP").await;
    // The form sent again is answered again, with the same case: SEOD may have missed it.
    let registered: Vec<_> = statuses
        .iter()
        .filter(|s| s.status == CaseStatus::Registered)
        .collect();
    assert!(!registered.is_empty(), "{statuses:?}");
    assert!(
        registered
            .iter()
            .all(|s| s.case_number == registered[0].case_number),
        "{statuses:?}"
    );
}
