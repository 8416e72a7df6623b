//! intake on its own, in-process, on a real database and an authenticated NATS: the test
//! plays SEOD (through SEOD's own identity) and accounts (publishing what accounts would),
//! and the staff through signed tokens.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use contracts::permissions::Identity;
use contracts::{streams, subjects};
use kit::auth::Role;
use serde_json::{Value, json};
use test_support::in_process::staff_token;
use test_support::{InProcess, eventually, workspace_root};

type Intake = InProcess<intake::Service>;

const WAIT: Duration = Duration::from_secs(20);

fn example(name: &str) -> Value {
    let path = workspace_root().join("proto-schemas/examples").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Publishes `form` as SEOD may: on its form subject, with its own identity.
async fn file_form(intake: &Intake, form: &Value) {
    let seod = jetstream::new(intake.nats.connect_as(Identity::Seod).await);
    seod.send_publish(
        subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
        PublishMessage::build()
            .payload(form.to_string().into())
            .message_id(format!("form-{}", uuid::Uuid::new_v4())),
    )
    .await
    .unwrap()
    .await
    .unwrap();
}

/// The newest status intake published to SEOD for `document_id`.
async fn seod_status(intake: &Intake, document_id: &str) -> Value {
    let js = intake.jetstream().await;
    eventually(WAIT, "intake's answer to SEOD", || async {
        let stream = js.get_stream(streams::SEOD_STATUS.name).await.ok()?;
        let message = stream
            .get_last_raw_message_by_subject(&subjects::seod_status(document_id))
            .await
            .ok()?;
        serde_json::from_slice(&message.payload).ok()
    })
    .await
}

async fn cases_count(intake: &Intake) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cases")
        .fetch_one(&intake.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_form_filed_twice_is_one_case_and_an_invalid_one_is_answered_with_its_field() {
    let intake = Intake::start("intake").await;
    let form = example("zszo-password-reset.json");
    file_form(&intake, &form).await;
    let status = seod_status(&intake, "SEOD-2026-000123").await;
    assert_eq!(status["status"], "registered", "{status}");
    let case = status["case_number"].as_str().unwrap().to_owned();
    assert!(case.starts_with("ZSZO-05/"), "{case}");

    file_form(&intake, &form).await;
    let invalid = example("zszo-password-reset-invalid-phone.json");
    file_form(&intake, &invalid).await;
    let refused = seod_status(&intake, invalid["document_id"].as_str().unwrap()).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(
        refused["rejection"]["field"], "contact.director_mobile",
        "{refused}"
    );
    // Once intake has handled all three forms, the repeated one made no second case.
    eventually(WAIT, "all three forms handled", || async {
        let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM kit_inbox WHERE subject = $1")
            .bind(subjects::SEOD_FORM_ZSZO_PASSWORD_RESET)
            .fetch_one(&intake.pool)
            .await
            .ok()?;
        (handled == 3).then_some(())
    })
    .await;
    assert_eq!(cases_count(&intake).await, 1);
}

/// Registers a request at the desk as `login` in `role`; returns the case number.
async fn register(intake: &Intake, login: &str, role: Role) -> String {
    register_for(intake, login, role, "lzak").await
}

/// Registers a request for `account`; returns the case number.
async fn register_for(intake: &Intake, login: &str, role: Role, account: &str) -> String {
    let (status, created) = try_register(intake, login, role, account).await;
    assert_eq!(status, 201, "{created}");
    created["case_number"].as_str().unwrap().to_owned()
}

async fn try_register(intake: &Intake, login: &str, role: Role, account: &str) -> (u16, Value) {
    let body = json!({
        "procedure": "PZO-01",
        "institution": { "rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie" },
        "requester": { "login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski" },
        "contact": { "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "600100200" },
        "account_login": account,
        "delivery": "electronic"
    });
    let response = reqwest::Client::new()
        .post(intake.url("/api/requests"))
        .bearer_auth(staff_token(login, role))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// What accounts answers after checking who asked: here, that the request is right.
async fn verify_as_accounts(intake: &Intake, case: &str, kind: &str) {
    let event = json!({
        "id": uuid::Uuid::now_v7(), "type": kind, "version": 1,
        "occurred_at": "2026-12-01T08:00:00Z",
        "actor": { "kind": "system", "id": "accounts" },
        "case_number": case,
        "data": { "case_number": case, "outcome": "verified" }
    });
    let accounts = jetstream::new(intake.nats.connect_as(Identity::Accounts).await);
    accounts
        .publish(
            subjects::ACCOUNTS_REQUEST_VERIFIED,
            event.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn step(intake: &Intake, case: &str, what: &str, login: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(intake.url(&format!("/api/cases/{case}/{what}")))
        .bearer_auth(staff_token(login, Role::Administrator))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn queued(intake: &Intake, case: &str) {
    eventually(WAIT, "the verified case in the queue", || async {
        let queue: Value = reqwest::Client::new()
            .get(intake.url("/api/queue"))
            .bearer_auth(staff_token("a.nowak", Role::Administrator))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        queue["cases"]
            .as_array()?
            .iter()
            .any(|c| c["case_number"] == case)
            .then_some(())
    })
    .await
}

#[tokio::test]
async fn a_case_moves_only_in_order_and_never_by_the_person_who_registered_it() {
    let intake = Intake::start("intake").await;
    let case = register(&intake, "a.nowak", Role::Administrator).await;
    verify_as_accounts(&intake, &case, subjects::ACCOUNTS_REQUEST_VERIFIED).await;
    queued(&intake, &case).await;

    let (status, problem) = step(&intake, &case, "realise", "b.wisniewska").await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("„zarejestrowana”"),
        "the status is named in Polish: {problem}"
    );
    let (status, _) = step(&intake, "PZO-01/2026/999999", "take", "a.nowak").await;
    assert_eq!(status, 404);

    let (status, problem) = step(&intake, &case, "take", "a.nowak").await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("separation-of-duties"),
        "{problem}"
    );
    assert!(!realisation_requested(&intake, &case).await);

    let (status, problem) = step(&intake, &case, "take", "b.wisniewska").await;
    assert_eq!(status, 202, "{problem}");
    let (status, problem) = step(&intake, &case, "realise", "c.zielinski").await;
    assert_eq!(status, 409, "only who took it realises it: {problem}");
    assert!(
        !realisation_requested(&intake, &case).await,
        "a refused step changes nothing"
    );
    let (status, problem) = step(&intake, &case, "realise", "b.wisniewska").await;
    assert_eq!(status, 202, "{problem}");
    assert!(realisation_requested(&intake, &case).await);
}

async fn realisation_requested(intake: &Intake, case: &str) -> bool {
    sqlx::query_scalar(
        "SELECT realisation_requested_at IS NOT NULL FROM cases WHERE case_number = $1",
    )
    .bind(case)
    .fetch_one(&intake.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_event_whose_type_is_not_its_subject_is_set_aside_and_changes_nothing() {
    let intake = Intake::start("intake").await;
    let case = register(&intake, "operator.ek04", Role::Operator).await;
    // A verification dressed as a refusal: trusted for neither.
    verify_as_accounts(&intake, &case, subjects::ACCOUNTS_REQUEST_REFUSED).await;
    let js = intake.jetstream().await;
    let dead = format!(
        "{}.intake.{}",
        subjects::DEAD_LETTER_PREFIX,
        subjects::ACCOUNTS_REQUEST_VERIFIED
    );
    let reason = eventually(WAIT, "the dead letter", || async {
        let stream = js.get_stream(streams::DEAD_LETTER.name).await.ok()?;
        let message = stream.get_last_raw_message_by_subject(&dead).await.ok()?;
        let headers = message.headers;
        Some(
            headers
                .get(subjects::headers::DEAD_LETTER_ERROR)?
                .as_str()
                .to_owned(),
        )
    })
    .await;
    assert!(
        reason.contains("arrived on accounts.request.verified"),
        "{reason}"
    );
    let verified: bool =
        sqlx::query_scalar("SELECT verified_at IS NOT NULL FROM cases WHERE case_number = $1")
            .bind(&case)
            .fetch_one(&intake.pool)
            .await
            .unwrap();
    assert!(!verified);
}

async fn list(intake: &Intake, query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(intake.url(&format!("/api/queue?{query}")))
        .bearer_auth(staff_token("a.nowak", Role::Administrator))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn numbers(page: &Value) -> Vec<String> {
    page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_queue_is_filtered_sorted_and_paged_and_a_bad_filter_is_named() {
    let intake = Intake::start("intake").await;
    let mut cases = Vec::new();
    for account in ["lzak", "mnowak", "kwrona"] {
        let case = register_for(&intake, "a.nowak", Role::Administrator, account).await;
        verify_as_accounts(&intake, &case, subjects::ACCOUNTS_REQUEST_VERIFIED).await;
        queued(&intake, &case).await;
        cases.push(case);
    }
    let (_, first) = list(&intake, "per_page=2").await;
    assert_eq!(first["total"], 3, "{first}");
    assert_eq!(numbers(&first), cases[..2]);
    let (_, second) = list(&intake, "per_page=2&page=2").await;
    assert_eq!(numbers(&second), cases[2..]);
    let (_, newest) = list(&intake, "sort=newest").await;
    assert_eq!(numbers(&newest).first(), cases.last());

    let (status, _) = step(&intake, &cases[0], "take", "b.wisniewska").await;
    assert_eq!(status, 202);
    let (_, taken) = list(&intake, "status=taken").await;
    assert_eq!(numbers(&taken), cases[..1]);
    let (_, waiting) = list(&intake, "status=waiting&procedure=PZO-01").await;
    assert_eq!(numbers(&waiting), cases[1..]);
    let (_, by_name) = list(&intake, "institution=podstawowa%20NR%207").await;
    assert_eq!(by_name["total"], 3, "a part of the name, in any case");
    let (_, by_rspo) = list(&intake, "institution=12345").await;
    assert_eq!(by_rspo["total"], 3);
    let (_, elsewhere) = list(&intake, "institution=Liceum").await;
    assert_eq!(elsewhere["total"], 0);
    let (_, old) = list(&intake, "older_than_days=1").await;
    assert_eq!(old["total"], 0, "all registered today");
    let (_, zszo) = list(&intake, "procedure=ZSZO-05").await;
    assert_eq!(zszo["total"], 0);

    for (query, field) in [
        ("status=zamkniete", "status"),
        ("per_page=1000", "per_page"),
        ("page=0", "page"),
        ("older_than_days=-1", "older_than_days"),
        ("sort=random", "sort"),
        ("procedure=ZSZO", "procedure"),
    ] {
        let (status, problem) = list(&intake, query).await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let (status, _) = list(&intake, "unknown=1").await;
    assert_eq!(status, 422);

    // The case's page: the form with its PESEL masked, who took it and when.
    let detail: Value = reqwest::Client::new()
        .get(intake.url(&format!("/api/cases/{}", cases[0])))
        .bearer_auth(staff_token("a.nowak", Role::Administrator))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["taken_by"], "b.wisniewska", "{detail}");
    assert_eq!(detail["registered_by"], "a.nowak", "{detail}");
    let steps: Vec<(&str, &str)> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("registered", "a.nowak"),
            ("verified", "accounts"),
            ("taken", "b.wisniewska")
        ]
    );
    assert_eq!(detail["form"]["account_login"], "lzak");
}

#[tokio::test]
async fn a_second_request_for_an_account_with_an_open_case_is_refused_naming_it() {
    let intake = Intake::start("intake").await;
    let first = register(&intake, "a.nowak", Role::Administrator).await;
    let (status, problem) = try_register(&intake, "a.nowak", Role::Administrator, "lzak").await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains(&first),
        "the open case is named: {problem}"
    );
    assert_eq!(problem["field"], "account");
    assert_eq!(cases_count(&intake).await, 1);
    // Another account is not held up.
    register_for(&intake, "a.nowak", Role::Administrator, "mnowak").await;
    // At once, for one account: one case, one refusal.
    let (a, b) = tokio::join!(
        try_register(&intake, "a.nowak", Role::Administrator, "kwrona"),
        try_register(&intake, "a.nowak", Role::Administrator, "kwrona"),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
}

#[tokio::test]
async fn the_department_registers_pzo_01_only_zszo_05_comes_through_seod() {
    let intake = Intake::start("intake").await;
    let body = json!({
        "procedure": "ZSZO-05",
        "institution": { "rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie" },
        "requester": { "login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski" },
        "contact": { "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "600100200" },
        "account_login": "lzak"
    });
    let response = reqwest::Client::new()
        .post(intake.url("/api/requests"))
        .bearer_auth(staff_token("a.nowak", Role::Operator))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "procedure", "{problem}");
    assert_eq!(cases_count(&intake).await, 0);
}
