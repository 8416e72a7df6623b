//! No single person can obtain a starting password meant for someone else: the attack of
//! one administrator who registers, takes, realises for collection in person, hands the
//! letter over to an invented collector and closes the incident himself fails at each step.

use std::time::Duration;

use contracts::seod_status::CaseStatus;
use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{
    agree_in_person, call, problem_kind, statuses_until, submit_zszo, take_and_realise_refused,
    verified, zszo_form,
};

#[tokio::test]
async fn a_single_administrator_cannot_register_realise_collect_and_close_by_himself() {
    let system = System::start(SystemOptions::default()).await;
    let admin = system.staff_token("admin.ek04").await;
    let operator = system.staff_token("operator.ek04").await;

    // He registers a request naming the non-city director's PZO account, then takes it.
    let (status, created) = call(
        &system,
        "intake",
        Some(&admin),
        "/api/requests",
        json!({
            "procedure": "PZO-01",
            "institution": { "rspo_id": "34567", "name": "Niepubliczna Szkoła Podstawowa „Żaczek”" },
            "requester": { "login": "pgrabowski", "first_name": "Piotr", "last_name": "Grabowski" },
            "contact": { "rspo_email": "zaczek@szkola.example.pl", "director_mobile": "602300400" },
            "account_login": "pzo-admin-34567",
            "delivery": "in_person"
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let registered = created["case_number"].as_str().unwrap().to_owned();
    verified(&system, &registered).await;
    let (status, refused) = call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{registered}/take"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(problem_kind(&refused), "separation-of-duties");

    // A SEOD request asked for electronic delivery: he alone cannot switch it to the desk.
    let form = zszo_form("SEOD-DUTY-1");
    let case = submit_zszo(&system, &form).await.case_number.unwrap();
    verified(&system, &case).await;
    take_and_realise_refused(&system, &case, "in_person").await;
    let (status, refused) = call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}/delivery-agreement"),
        json!({ "delivery": "in_person", "how": "sam ze sobą" }),
    )
    .await;
    assert_eq!(
        status, 403,
        "the one who took the case records no agreement: {refused}"
    );
    // The requester's agreement, recorded by another person, lets him realise it.
    agree_in_person(&system, &case, None).await;
    let (status, body) = call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}/realise"),
        json!({ "delivery": "in_person" }),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    statuses_until(
        &system,
        "SEOD-DUTY-1",
        CaseStatus::Realised,
        Duration::from_secs(30),
    )
    .await;

    // Administrators are not on the desk; an invented collector is refused and recorded.
    let collect = |token: String, body: Value| {
        let url = format!("{}/api/collections/{case}", system.url("delivery"));
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap())
        }
    };
    let invented = json!({
        "collected_by": "requester",
        "person_name": "Adam Podstawiony",
        "id_document": { "type": "dowod_osobisty", "last4": "1234" }
    });
    let (status, _) = collect(admin.clone(), invented.clone()).await;
    assert_eq!(status, 403, "an administrator is not on the desk");
    let waiting = eventually(
        Duration::from_secs(20),
        "the letter at the desk",
        || async {
            let (status, body) = collect(operator.clone(), invented.clone()).await;
            (status != 404).then_some((status, body))
        },
    )
    .await;
    assert_eq!(waiting.0, 403, "{}", String::from_utf8_lossy(&waiting.1));
    let refusals = eventually(
        Duration::from_secs(20),
        "audit's record of the refusal",
        || async {
            let events = system
                .audit_events(&format!(
                    "event_type=delivery.collection.refused&case_number={}",
                    case.replace('/', "%2F")
                ))
                .await;
            (!events.is_empty()).then_some(events)
        },
    )
    .await;
    assert_eq!(refusals.len(), 1);
    let (status, pdf) = collect(
        operator.clone(),
        json!({
            "collected_by": "requester",
            "person_name": "Jan Kowalski",
            "id_document": { "type": "dowod_osobisty", "last4": "1234" }
        }),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));

    // The incident of the realised case is closed by an auditor, not by the realiser.
    let incidents = eventually(Duration::from_secs(20), "the incident", || async {
        let body = system
            .audit_get(&format!(
                "/api/incidents?case_number={}",
                case.replace('/', "%2F")
            ))
            .await;
        body["incidents"]
            .as_array()
            .filter(|a| !a.is_empty())
            .cloned()
    })
    .await;
    let number = incidents[0]["number"].as_str().unwrap().replace("INC/", "");
    let close = json!({ "status": "closed", "note": "Hasło przekazane dyrektorowi." });
    let path = format!("/api/incidents/{number}/status");
    let (status, refused) = call(&system, "audit", Some(&admin), &path, close.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(problem_kind(&refused), "separation-of-duties");
    let auditor = system.auditor_token().await;
    let (status, closed) = call(&system, "audit", Some(&auditor), &path, close).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
}

/// "Administrator Systemu lub uprawniony pracownik EK-04" (seed 001): a staff member granted
/// the right to process requests takes and realises a case; without it he is refused.
#[tokio::test]
async fn a_staff_member_granted_the_right_to_process_takes_and_realises_a_case() {
    let system = System::start(SystemOptions::default()).await;
    let status =
        crate::helpers::submit_zszo(&system, &crate::helpers::zszo_form("SEOD-PRAWO-1")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    let auditor = system.staff_token("audytor").await;
    let (status, refused) = call(
        &system,
        "intake",
        Some(&auditor),
        &format!("/api/cases/{case}/take"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "an auditor never processes: {refused}");

    let said = system.accounts_admin(&["set-processing", "operator.ek04", "on"]);
    assert!(said.contains("nadane"), "{said}");
    let operator = system.staff_token("operator.ek04").await;
    for (step, body) in [
        ("take", json!({})),
        ("realise", json!({ "delivery": "electronic" })),
    ] {
        let (status, answer) = call(
            &system,
            "intake",
            Some(&operator),
            &format!("/api/cases/{case}/{step}"),
            body,
        )
        .await;
        assert_eq!(status, 202, "{step}: {answer}");
    }
    crate::helpers::receive(&system, &case, "sp7@edu.krakow.pl", "48600100200").await;
    // The record names him in his own role, not as an administrator.
    let taken = system
        .audit_events(&format!(
            "event_type=intake.case.taken&case_number={}",
            case.replace('/', "%2F")
        ))
        .await;
    assert_eq!(taken[0]["body"]["actor"]["role"], "operator", "{taken:?}");
    assert_eq!(taken[0]["actor_id"], "operator.ek04");
}
