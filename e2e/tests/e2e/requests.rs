//! Who may ask: accounts checks each registered case against the directory; a refusal
//! reaches SEOD as a `rejected` status naming the field and the reason, and is audited.

use std::time::Duration;

use contracts::seod_status::CaseStatus;
use contracts::subjects;
use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{count, pool_of, zszo_form};

/// Submits a form and waits for accounts' verdict: the refusal, or None once verified.
async fn verdict(
    system: &System,
    subject: &str,
    form: &Value,
) -> Option<contracts::seod_status::Rejection> {
    let id = form["document_id"].as_str().unwrap();
    let first = system
        .submit(subject, form.to_string().as_bytes(), id, id)
        .await;
    assert_eq!(first.status, CaseStatus::Registered, "{first:?}");
    let case = first.case_number.unwrap();
    let intake = pool_of(system, "intake").await;
    eventually(Duration::from_secs(20), "accounts' verdict", || async {
        let (status, verified): (String, Option<String>) =
            sqlx::query_as("SELECT status, verified_at::text FROM cases WHERE case_number = $1")
                .bind(&case)
                .fetch_one(&intake)
                .await
                .ok()?;
        match (status.as_str(), verified) {
            ("rejected", _) => {
                let statuses = system.statuses(id).await;
                let rejected = statuses.iter().find(|s| s.status == CaseStatus::Rejected)?;
                assert_eq!(rejected.case_number.as_deref(), Some(case.as_str()));
                Some(rejected.rejection.clone())
            }
            (_, Some(_)) => Some(None),
            _ => None,
        }
    })
    .await
}

async fn refused(system: &System, form: &Value) -> (String, String) {
    let rejection = verdict(system, subjects::SEOD_FORM_ZSZO_PASSWORD_RESET, form)
        .await
        .expect("the request is refused");
    assert!(!rejection.message.is_empty());
    (rejection.field, rejection.code)
}

#[tokio::test]
async fn only_the_current_director_may_ask_and_only_for_an_account_of_his_own_school() {
    let system = System::start(SystemOptions::default()).await;

    assert_eq!(
        verdict(
            &system,
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            &zszo_form("SEOD-OK")
        )
        .await,
        None,
        "the director of SP 7 asks for lzak of SP 7"
    );

    // Each for another account: an account has one open case at a time.
    let mut wrong_school = zszo_form("SEOD-R-1");
    wrong_school["institution"]["rspo_id"] = json!("99999");
    wrong_school["account"]["login"] = json!("konto01");
    assert_eq!(
        refused(&system, &wrong_school).await,
        ("institution.rspo_id".into(), "unknown_institution".into())
    );

    let mut not_director = zszo_form("SEOD-R-2");
    not_director["requester"]["login"] = json!("mwojcik");
    not_director["account"]["login"] = json!("konto02");
    assert_eq!(
        refused(&system, &not_director).await,
        ("requester.login".into(), "not_director".into())
    );

    let mut unknown = zszo_form("SEOD-R-3");
    unknown["account"]["login"] = json!("nieistniejacy");
    assert_eq!(
        refused(&system, &unknown).await,
        ("account.login".into(), "unknown_login".into())
    );

    let mut other_school = zszo_form("SEOD-R-4");
    other_school["account"]["login"] = json!("kszczesniak");
    assert_eq!(
        refused(&system, &other_school).await,
        (
            "account.login".into(),
            "account_of_another_institution".into()
        )
    );

    let mut pzo_of_other = zszo_form("SEOD-R-5");
    pzo_of_other["form"] = json!("pzo.password-reset");
    pzo_of_other["account"] = json!({ "pzo_identifier": "pzo-admin-23456" });
    let rejection = verdict(
        &system,
        subjects::SEOD_FORM_PZO_PASSWORD_RESET,
        &pzo_of_other,
    )
    .await
    .unwrap();
    assert_eq!(
        (rejection.field.as_str(), rejection.code.as_str()),
        ("account.pzo_identifier", "pzo_of_another_institution")
    );

    let mut pzo_own = zszo_form("SEOD-P-OK");
    pzo_own["form"] = json!("pzo.password-reset");
    pzo_own["account"] = json!({ "pzo_identifier": "pzo-admin-12345" });
    assert_eq!(
        verdict(&system, subjects::SEOD_FORM_PZO_PASSWORD_RESET, &pzo_own).await,
        None
    );

    let intake = pool_of(&system, "intake").await;
    assert_eq!(
        count(
            &intake,
            "SELECT count(*) FROM cases WHERE status = 'rejected'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &intake,
            "SELECT count(*) FROM cases WHERE verified_at IS NOT NULL"
        )
        .await,
        2
    );
    eventually(
        Duration::from_secs(20),
        "audit to record each refusal",
        || async {
            (system
                .audit_events("event_type=accounts.request.refused")
                .await
                .len()
                == 5)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_bad_directory_file_is_refused_line_by_line_and_nothing_is_imported() {
    let system = System::start(SystemOptions::default()).await;
    let file = test_support::scratch_dir("import").join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"type\":\"institution\",\"rspo_id\":\"55555\",\"name\":\"SP 55\",\"city_run\":\"true\",\"rspo_email\":\"sp55@edu.krakow.pl\"}\n\
         {\"type\":\"director\",\"rspo_id\":\"55555\",\"login\":\"dyr55\",\"first_name\":\"Anna\",\"last_name\":\"Nowak\",\"mobile\":\"123\"}\n\
         {\"type\":\"account\",\"rspo_id\":\"77777\",\"login\":\"ktos\",\"first_name\":\"Jan\",\"last_name\":\"Nowak\"}\n",
    )
    .unwrap();
    let env = test_support::system::service_env(
        "accounts",
        &system.nats,
        &system.databases["accounts"],
        &SystemOptions::default(),
    );
    let out = std::process::Command::new(test_support::process::binary_path("accounts"))
        .env_clear()
        .envs(&env)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wiersz 2: pole `mobile`"), "{stderr}");
    assert!(stderr.contains("wiersz 3: placówka RSPO 77777"), "{stderr}");
    let accounts = pool_of(&system, "accounts").await;
    assert_eq!(
        count(
            &accounts,
            "SELECT count(*) FROM institutions WHERE rspo_id = '55555'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_operator_registers_a_pzo_request_of_a_non_city_school_which_seod_cannot_send() {
    let system = System::start(SystemOptions::default()).await;
    // The director cannot use SEOD: his institution is not city-run.
    let mut through_seod = zszo_form("SEOD-NC-1");
    through_seod["form"] = json!("pzo.password-reset");
    through_seod["institution"]["rspo_id"] = json!("34567");
    through_seod["requester"]["login"] = json!("pgrabowski");
    through_seod["contact"] =
        json!({ "rspo_email": "zaczek@szkola.example.pl", "director_mobile": "602300400" });
    through_seod["account"] = json!({ "pzo_identifier": "pzo-admin-34567" });
    let rejection = verdict(
        &system,
        subjects::SEOD_FORM_PZO_PASSWORD_RESET,
        &through_seod,
    )
    .await
    .unwrap();
    assert_eq!(rejection.code, "not_city_run");

    let body = json!({
        "procedure": "PZO-01",
        "institution": { "rspo_id": "34567", "name": "Niepubliczna Szkoła Podstawowa „Żaczek”" },
        "requester": { "login": "pgrabowski", "first_name": "Piotr", "last_name": "Grabowski" },
        "contact": { "rspo_email": "zaczek@szkola.example.pl", "director_mobile": "602300400" },
        "account_login": "pzo-admin-34567",
        "delivery": "in_person"
    });
    let url = format!("{}/api/requests", system.url("intake"));
    let anonymous = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let operator = system.staff_token("operator.ek04").await;
    let mut bad = body.clone();
    bad["contact"]["director_mobile"] = json!("7");
    let refused = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&operator)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("contact.director_mobile"),
        "{problem}"
    );

    let created = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&operator)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let case: Value = created.json().await.unwrap();
    let case = case["case_number"].as_str().unwrap().to_owned();
    assert!(case.starts_with("PZO-01/"));
    let intake = pool_of(&system, "intake").await;
    eventually(
        Duration::from_secs(20),
        "accounts to verify the operator's request",
        || async {
            let verified: bool = sqlx::query_scalar(
                "SELECT verified_at IS NOT NULL FROM cases WHERE case_number = $1",
            )
            .bind(&case)
            .fetch_one(&intake)
            .await
            .ok()?;
            verified.then_some(())
        },
    )
    .await;
    let registered = system
        .audit_events("event_type=intake.case.registered&institution_rspo_id=34567")
        .await;
    // The newest: the SEOD attempt above was registered (and refused by accounts) first.
    assert_eq!(
        registered.last().unwrap()["actor_id"],
        "operator.ek04",
        "audit names the operator"
    );
}

/// Seeds 000 and 001, step 1: the director checks and, where needed, corrects the contact
/// data in SEOD. The request's data are what delivery uses; accounts' copy is updated and
/// the change is recorded (the case's page, audit), not refused.
#[tokio::test]
async fn contact_data_corrected_in_the_request_are_used_and_update_the_copy() {
    let system = System::start(SystemOptions::default()).await;
    let mut form = zszo_form("SEOD-KONTAKT-1");
    form["contact"]["director_mobile"] = json!("+48 600 999 999");
    let status = crate::helpers::submit_zszo(&system, &form).await;
    let case = status.case_number.expect("a case");
    crate::helpers::verified(&system, &case).await;
    crate::helpers::take_and_realise(&system, &case, "electronic").await;
    let received =
        crate::helpers::receive(&system, &case, "sp7@edu.krakow.pl", "48600999999").await;
    assert!(!received.cipher_password.is_empty());

    let admin = system.staff_token("admin.ek04").await;
    let (_, detail) = crate::helpers::get(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}"),
    )
    .await;
    assert_eq!(
        detail["contact_updates"],
        json!([{ "field": "contact.director_mobile", "previous": "48600100200", "current": "48600999999" }]),
        "{detail}"
    );
    let checked = system
        .audit_events(&format!(
            "event_type=accounts.request.verified&case_number={}",
            case.replace('/', "%2F")
        ))
        .await;
    assert_eq!(
        checked[0]["body"]["data"]["contact_updated"][0]["current"], "48600999999",
        "{checked:?}"
    );

    // The copy holds the new number: the next request with it changes nothing.
    let mut next = crate::helpers::zszo_form_for("SEOD-KONTAKT-2", 1);
    next["contact"]["director_mobile"] = json!("600999999");
    let status = crate::helpers::submit_zszo(&system, &next).await;
    let next_case = status.case_number.expect("a case");
    crate::helpers::verified(&system, &next_case).await;
    let (_, detail) = crate::helpers::get(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{next_case}"),
    )
    .await;
    assert_eq!(detail["contact_updates"], json!([]), "{detail}");
}
