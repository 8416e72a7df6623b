//! Procedure A with the letter collected in person: the director files the form in SEOD,
//! an administrator realises it for collection in person, an operator at the desk refuses
//! a proxy without form F-01, hands the printed letter to the requester (once), SEOD sees
//! the case collected and closed, the user signs in with the starting password and sets
//! his own, and his mailbox gets a notice of the change without any password in it.

use std::process::Command;
use std::time::Duration;

use contracts::seod_status::CaseStatus;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{first_login, get, pool_of, statuses_until, submit_zszo, zszo_form};

const USER_EMAIL: &str = "lukasz.zak@sp7.edu.krakow.pl";

/// `POST /api/collections/{case}` on delivery: the status, the content type and the body.
async fn collect(system: &System, token: &str, case: &str, body: Value) -> (u16, String, Vec<u8>) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/collections/{case}", system.url("delivery")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// What the printed letter says, as `pdftotext` reads it.
fn letter_text(pdf: &[u8]) -> String {
    let dir = test_support::scratch_dir("printed-letter");
    let file = dir.join("letter.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .unwrap_or_else(|e| panic!("pdftotext is needed ({e}); Debian: poppler-utils"));
    assert!(out.status.success(), "the letter is a plain, readable PDF");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn procedure_a_collected_in_person_from_the_form_to_the_users_own_password_and_notice() {
    let system = System::start(SystemOptions::default()).await;
    let form = zszo_form("SEOD-C-1");
    let document = form["document_id"].as_str().unwrap().to_owned();
    let case = submit_zszo(&system, &form)
        .await
        .case_number
        .expect("registered");

    // The administrator alone cannot switch the case to collection in person.
    crate::helpers::take_and_realise_refused(&system, &case, "in_person").await;
    // The parties agreed on collection in person: an operator records it.
    crate::helpers::agree_in_person(&system, &case, None).await;
    let admin = system.staff_token("admin.ek04").await;
    let (status, body) = crate::helpers::call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}/realise"),
        json!({ "delivery": "in_person" }),
    )
    .await;
    assert_eq!(status, 202, "{body}");

    // The operator at the desk sees the letter waiting, with nothing secret.
    let operator = system.staff_token("operator.ek04").await;
    let waiting = eventually(
        Duration::from_secs(30),
        "the letter waiting at the desk",
        || async {
            let (_, listed) = get(&system, "delivery", Some(&operator), "/api/collections").await;
            listed["collections"]
                .as_array()?
                .iter()
                .find(|c| c["case_number"] == case.as_str())
                .cloned()
        },
    )
    .await;
    assert_eq!(waiting["login"], "lzak");
    assert_eq!(
        waiting["institution_name"],
        "Szkoła Podstawowa nr 7 im. Marii Skłodowskiej-Curie w Krakowie",
        "the institution as registered"
    );
    assert!(waiting["expires_at"].is_string());

    // A proxy without the written authorisation F-01 is refused, naming the field.
    let document_shown = json!({ "type": "dowod_osobisty", "last4": "4321" });
    let (status, content_type, body) = collect(
        &system,
        &operator,
        &case,
        json!({
            "collected_by": "proxy",
            "person_name": "Anna Nowak",
            "id_document": document_shown
        }),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("`f01_reference`"),
        "{problem}"
    );

    // The requester collects it: the printed letter, unencrypted.
    let requester = json!({
        "collected_by": "requester",
        "person_name": "Jan Kowalski",
        "id_document": document_shown
    });
    let (status, content_type, pdf) = collect(&system, &operator, &case, requester.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    let text = letter_text(&pdf);
    let value_after = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{label} in the letter:\n{text}"))
    };
    assert_eq!(value_after("Login:"), "lzak");
    let starting = value_after("Hasło startowe:");
    assert!(starting.len() >= 12, "a starting password: {starting:?}");

    // Once only.
    let (status, content_type, body) = collect(&system, &operator, &case, requester).await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "application/problem+json");

    let statuses = statuses_until(
        &system,
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
            CaseStatus::Collected,
            CaseStatus::Closed
        ]
    );

    let delivery = pool_of(&system, "delivery").await;
    let (sealed_left, operator_login, last4): (bool, String, String) = sqlx::query_as(
        "SELECT d.sealed_credentials IS NOT NULL, c.operator_login, c.id_document_last4
         FROM deliveries d JOIN collections c USING (case_number) WHERE d.case_number = $1",
    )
    .bind(&case)
    .fetch_one(&delivery)
    .await
    .unwrap();
    assert!(!sealed_left, "the sealed copy is destroyed");
    assert_eq!(operator_login, "operator.ek04");
    assert_eq!(last4, "4321");

    // The user signs in with the starting password and must set his own.
    let own = first_login(&system, "lzak", &starting).await;

    // His mailbox gets the notice of the change, without either password.
    let notice = eventually(
        Duration::from_secs(30),
        "the password-change notice",
        || async {
            system.smtp.messages().into_iter().find(|raw| {
                MessageParser::default()
                    .parse(raw)
                    .and_then(|m| {
                        m.to()
                            .and_then(|a| a.first())
                            .and_then(|a| a.address())
                            .map(|a| a == USER_EMAIL)
                    })
                    .unwrap_or(false)
            })
        },
    )
    .await;
    let message = MessageParser::default().parse(&notice).unwrap();
    assert_eq!(message.subject(), Some("Zmiana hasła do konta lzak"));
    let body = message.body_text(0).unwrap_or_default().into_owned();
    assert!(
        body.contains("Hasło do konta lzak zostało zmienione"),
        "{body}"
    );
    assert!(body.contains("skontaktuj się niezwłocznie z administratorem"));
    let raw = String::from_utf8_lossy(&notice);
    for secret in [&starting, &own] {
        assert!(!body.contains(secret.as_str()), "no password in the notice");
        assert!(!raw.contains(secret.as_str()), "no password in the notice");
    }

    // Nothing else went out: no letter by e-mail, no SMS.
    assert_eq!(system.smtp.messages().len(), 1, "only the notice");
    assert!(system.sms.messages().is_empty());
}
