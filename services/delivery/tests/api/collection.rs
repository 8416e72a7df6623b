//! The collection desk: credentials realised for collection in person wait sealed, an
//! operator hands the printed letter over once (recording who took it and which identity
//! document they showed), and letters nobody collects in time are destroyed.

use contracts::forms::DeliveryMode;
use contracts::subjects;
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::eventually;

use crate::helpers::{
    CASE, LOGIN, STARTING_PASSWORD, SmtpServer, TestDelivery, WAIT, pdf_text, settle, token,
};

const OPERATOR: &str = "operator.ek04";

fn collect_path(case: &str) -> String {
    format!("/api/collections/{case}")
}

fn requester() -> Value {
    json!({
        "collected_by": "requester",
        "person_name": "Jan Kowalski",
        "id_document": { "type": "dowod_osobisty", "last4": "a123" }
    })
}

async fn post(
    delivery: &TestDelivery,
    token: Option<&str>,
    case: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(delivery.url(&collect_path(case)))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("delivery answers")
}

async fn list(delivery: &TestDelivery, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().get(delivery.url("/api/collections"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("delivery answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/problem+json",
        "{status}"
    );
    (status, response.json().await.expect("a problem document"))
}

async fn awaiting(delivery: &TestDelivery, case: &str) {
    let event = delivery.issued(case, DeliveryMode::InPerson);
    delivery.issue(&event).await;
    delivery.wait_for_status(case, "awaiting_collection").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_letter_is_handed_over_once_printed_and_the_case_completes_in_person() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;
    let operator = token(OPERATOR, "operator");

    let (status, listed) = list(&delivery, Some(&operator)).await;
    assert_eq!(status, 200, "{listed}");
    let waiting = listed["collections"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{listed}");
    assert_eq!(waiting[0]["case_number"], CASE);
    assert_eq!(waiting[0]["login"], LOGIN);
    assert_eq!(
        waiting[0]["institution_name"],
        "Szkoła Podstawowa nr 123 w Krakowie"
    );
    assert_eq!(waiting[0]["expires_at"], "2099-11-30T13:00:00Z");
    assert!(
        waiting[0].get("sealed_credentials").is_none(),
        "nothing sealed in the list"
    );
    assert!(!listed.to_string().contains(STARTING_PASSWORD));

    let response = post(&delivery, Some(&operator), CASE, &requester()).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers[reqwest::header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        headers[reqwest::header::CONTENT_DISPOSITION],
        "attachment; filename=\"dane-dostepowe-ZSZO-05-2026-000001.pdf\""
    );
    assert_eq!(headers[reqwest::header::CACHE_CONTROL], "no-store");
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    assert!(text.contains(LOGIN), "{text}");
    assert!(text.contains(STARTING_PASSWORD), "unencrypted: {text}");
    assert!(text.contains("Łukasz Żak"), "{text}");

    let row = delivery.wait_for_status(CASE, "collected").await;
    assert!(row.sealed_credentials.is_none(), "the sealed copy is wiped");
    let recorded: (String, String, Option<String>, String, String, String) = sqlx::query_as(
        "SELECT collected_by, person_name, f01_reference, id_document_type, id_document_last4,
                operator_login
         FROM collections WHERE case_number = $1",
    )
    .bind(CASE)
    .fetch_one(&delivery.pool)
    .await
    .unwrap();
    assert_eq!(
        recorded,
        (
            "requester".into(),
            "Jan Kowalski".into(),
            None,
            "dowod_osobisty".into(),
            "A123".into(),
            OPERATOR.into()
        )
    );

    let completed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_COMPLETED, CASE)
        .await;
    assert_eq!(completed["data"]["delivery"], "in_person");
    assert_eq!(completed["actor"]["kind"], "person");
    assert_eq!(completed["actor"]["id"], OPERATOR);
    assert_eq!(completed["actor"]["role"], "operator");
    assert_eq!(completed["institution_rspo_id"], "120456");

    // Once only: the copy is gone.
    let (status, again) = problem(post(&delivery, Some(&operator), CASE, &requester()).await).await;
    assert_eq!(status, 409, "{again}");
    let detail = again["detail"].as_str().unwrap();
    assert!(detail.contains("zostało już odebrane"), "{detail}");
    assert!(detail.contains(OPERATOR), "{detail}");
    let (_, listed) = list(&delivery, Some(&operator)).await;
    assert_eq!(listed["collections"], json!([]));

    settle().await;
    assert_eq!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .len(),
        1
    );
    assert!(delivery.smtp.mails().is_empty(), "nothing is e-mailed");
    assert!(
        delivery
            .gateway
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing goes by SMS"
    );
    delivery.stop().await;
    delivery.assert_no_secret_kept(&[STARTING_PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_collects_with_the_f01_reference_it_brought() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;
    let admin = token("operator2.ek04", "operator");
    let body = json!({
        "collected_by": "proxy",
        "person_name": "Anna Nowak",
        "f01_reference": "F-01/2026/17",
        "id_document": { "type": "paszport", "last4": "9876" }
    });
    let response = post(&delivery, Some(&admin), CASE, &body).await;
    assert_eq!(response.status(), 200);
    assert!(pdf_text(&response.bytes().await.unwrap()).contains(STARTING_PASSWORD));
    let recorded: (String, Option<String>, String, String) = sqlx::query_as(
        "SELECT collected_by, f01_reference, id_document_type, operator_login
         FROM collections WHERE case_number = $1",
    )
    .bind(CASE)
    .fetch_one(&delivery.pool)
    .await
    .unwrap();
    assert_eq!(
        recorded,
        (
            "proxy".into(),
            Some("F-01/2026/17".into()),
            "paszport".into(),
            "operator2.ek04".into()
        )
    );
    let completed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_COMPLETED, CASE)
        .await;
    assert_eq!(completed["actor"]["role"], "operator");
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_collection_is_refused_naming_its_field_and_nothing_changes() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;
    let operator = token(OPERATOR, "operator");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = requester();
        change(&mut body);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!("requester"), "$"),
        (
            with(&|b| b["collected_by"] = json!("kurier")),
            "collected_by",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("collected_by");
            }),
            "collected_by",
        ),
        (with(&|b| b["person_name"] = json!("")), "person_name"),
        (
            with(&|b| b["collected_by"] = json!("proxy")),
            "f01_reference",
        ),
        (
            with(&|b| b["f01_reference"] = json!("F-01/2026/17")),
            "f01_reference",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("id_document");
            }),
            "id_document",
        ),
        (
            with(&|b| b["id_document"]["type"] = json!("legitymacja")),
            "id_document.type",
        ),
        (
            with(&|b| b["id_document"]["last4"] = json!("12345")),
            "id_document.last4",
        ),
        (
            with(&|b| b["id_document"]["last4"] = json!("12-4")),
            "id_document.last4",
        ),
        (
            with(&|b| b["id_document"]["number"] = json!("ABC123456")),
            "id_document.number",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = problem(post(&delivery, Some(&operator), CASE, &body).await).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("Pole `{field}`")),
            "{body}: {detail}"
        );
        assert!(!detail.contains("ABC123456"), "the value is not repeated");
    }
    // Not JSON at all.
    let response = reqwest::Client::new()
        .post(delivery.url(&collect_path(CASE)))
        .bearer_auth(&operator)
        .body("collected_by=requester")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().starts_with("Pole `$`"));

    let row = delivery.row(CASE).await.unwrap();
    assert_eq!(row.status.as_str(), "awaiting_collection");
    assert!(
        row.sealed_credentials.is_some(),
        "still sealed, still there"
    );
    assert_eq!(delivery.count("SELECT count(*) FROM collections").await, 0);
    assert_eq!(delivery.count("SELECT count(*) FROM kit_outbox").await, 0);
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_use_the_desk_administrators_too_are_refused() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;

    let (status, _) = list(&delivery, None).await;
    assert_eq!(status, 401);
    let (status, _) = problem(post(&delivery, None, CASE, &requester()).await).await;
    assert_eq!(status, 401);
    for role in ["administrator", "auditor", "director", "user"] {
        let other = token("someone", role);
        let (status, _) = list(&delivery, Some(&other)).await;
        assert_eq!(status, 403, "{role}");
        let (status, body) = problem(post(&delivery, Some(&other), CASE, &requester()).await).await;
        assert_eq!(status, 403, "{role}: {body}");
    }
    let forged = format!("{}x", token(OPERATOR, "operator"));
    let (status, _) = problem(post(&delivery, Some(&forged), CASE, &requester()).await).await;
    assert_eq!(status, 401);

    assert_eq!(
        delivery.row(CASE).await.unwrap().status.as_str(),
        "awaiting_collection"
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_case_is_404_and_an_electronic_one_is_409() {
    let mut delivery = TestDelivery::start_with(SmtpServer::start(), |_| {}).await;
    let operator = token(OPERATOR, "operator");
    let (status, body) = problem(
        post(
            &delivery,
            Some(&operator),
            "ZSZO-05/2026/999999",
            &requester(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("ZSZO-05/2026/999999")
    );

    let electronic = "ZSZO-05/2026/000002";
    let event = delivery.issued(electronic, DeliveryMode::Electronic);
    delivery.issue(&event).await;
    delivery.wait_for_status(electronic, "completed").await;
    let (status, body) =
        problem(post(&delivery, Some(&operator), electronic, &requester()).await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("doręczane elektronicznie")
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_that_cannot_be_rendered_changes_nothing() {
    let mut delivery = TestDelivery::start().await;
    let mut event = delivery.issued(CASE, DeliveryMode::InPerson);
    // A control character no font can draw: the letter cannot be made.
    event.data.recipient.institution_name = "Szkoła\u{7} nr 123".into();
    delivery.issue(&event).await;
    delivery.wait_for_status(CASE, "awaiting_collection").await;

    let operator = token(OPERATOR, "operator");
    let (status, body) = problem(post(&delivery, Some(&operator), CASE, &requester()).await).await;
    assert_eq!(status, 500, "{body}");
    let row = delivery.row(CASE).await.unwrap();
    assert_eq!(row.status.as_str(), "awaiting_collection");
    assert!(row.sealed_credentials.is_some());
    assert_eq!(delivery.count("SELECT count(*) FROM collections").await, 0);
    assert_eq!(delivery.count("SELECT count(*) FROM kit_outbox").await, 0);
    delivery.stop().await;
    delivery.assert_no_secret_kept(&[STARTING_PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_nobody_collects_in_time_is_destroyed_and_the_case_fails() {
    let mut delivery = TestDelivery::start().await;
    // Still valid for a few seconds: listed, then expired by the worker.
    let expires_at =
        kit::clock::Clock::now(&kit::clock::SystemClock) + chrono::Duration::seconds(4);
    let event = delivery.issued_until(CASE, DeliveryMode::InPerson, &expires_at.to_rfc3339());
    delivery.issue(&event).await;
    delivery.wait_for_status(CASE, "awaiting_collection").await;
    let operator = token(OPERATOR, "operator");
    let (_, listed) = list(&delivery, Some(&operator)).await;
    assert_eq!(listed["collections"][0]["case_number"], CASE);

    let row = delivery.wait_for_status(CASE, "expired").await;
    assert!(row.sealed_credentials.is_none(), "destroyed");
    let failed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_FAILED, CASE)
        .await;
    assert_eq!(
        failed["data"]["reason"],
        "Dane dostępowe nie zostały odebrane przed upływem ważności hasła startowego; \
         zostały zniszczone."
    );
    assert_eq!(failed["actor"]["id"], "delivery");
    let (_, listed) = list(&delivery, Some(&operator)).await;
    assert_eq!(listed["collections"], json!([]));

    let (status, body) = problem(post(&delivery, Some(&operator), CASE, &requester()).await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("wygasło"),
        "{body}"
    );
    assert_eq!(delivery.count("SELECT count(*) FROM collections").await, 0);
    settle().await;
    assert_eq!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_FAILED)
            .await
            .len(),
        1,
        "expired once"
    );
    assert!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .is_empty()
    );
    delivery.stop().await;
    delivery.assert_no_secret_kept(&[STARTING_PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_at_once_hand_the_letter_over_once() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;
    let (a, b) = (
        token(OPERATOR, "operator"),
        token("operator2.ek04", "operator"),
    );
    let body = requester();
    let (first, second) = tokio::join!(
        post(&delivery, Some(&a), CASE, &body),
        post(&delivery, Some(&b), CASE, &body)
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(delivery.count("SELECT count(*) FROM collections").await, 1);
    delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_COMPLETED, CASE)
        .await;
    settle().await;
    assert_eq!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .len(),
        1
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invented_collector_or_the_realiser_at_the_desk_is_refused_and_recorded() {
    let mut delivery = TestDelivery::start().await;
    awaiting(&delivery, CASE).await;
    let operator = token(OPERATOR, "operator");
    let invented = json!({
        "collected_by": "requester",
        "person_name": "Adam Wymyślony",
        "id_document": { "type": "dowod_osobisty", "last4": "1234" }
    });
    let (status, body) = problem(post(&delivery, Some(&operator), CASE, &invented).await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["type"].as_str().unwrap().rsplit('/').next(),
        Some("collection-refused")
    );
    assert!(
        body["detail"].as_str().unwrap().contains("nie zgadza się"),
        "{body}"
    );
    let wrong_f01 = json!({
        "collected_by": "proxy",
        "person_name": "Anna Nowak",
        "f01_reference": "F-01/2026/99",
        "id_document": { "type": "paszport", "last4": "9876" }
    });
    let (status, _) = problem(post(&delivery, Some(&operator), CASE, &wrong_f01).await).await;
    assert_eq!(status, 403);
    // accounts' event names who realised the case: he may not hand its letter over.
    let realiser = token("accounts", "operator");
    let (status, body) = problem(post(&delivery, Some(&realiser), CASE, &requester()).await).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("inna osoba"),
        "{body}"
    );

    let refusals = eventually(WAIT, "three refusals on the bus", || async {
        Some(delivery.events(subjects::DELIVERY_COLLECTION_REFUSED).await).filter(|e| e.len() == 3)
    })
    .await;
    let codes: Vec<&str> = refusals
        .iter()
        .map(|e| e["data"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["collector_mismatch", "f01_mismatch", "realiser_at_desk"]
    );
    assert_eq!(
        delivery.row(CASE).await.unwrap().status.as_str(),
        "awaiting_collection"
    );
    assert_eq!(delivery.count("SELECT count(*) FROM collections").await, 0);

    // The director himself, by the name the case holds, gets the letter.
    let response = post(&delivery, Some(&operator), CASE, &requester()).await;
    assert_eq!(response.status(), 200);
    delivery.stop().await;
}
