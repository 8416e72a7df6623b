//! The auditors' pages in a real browser: the record searched, paged and exported as CSV, a
//! bad filter named next to its field; the register of incidents, one incident moved
//! forward and one opened by hand; the chain's verification, intact and broken, and a
//! checkpoint signed until audit refuses. Every page is accessible and works without
//! JavaScript; an operator gets the refusal page, and a form without its token does nothing.

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use contracts::permissions::Identity;
use contracts::subjects;
use fantoccini::Locator;
use serde_json::json;
use sqlx::{Connection, Executor};
use test_support::system::STAFF_PASSWORD;
use test_support::{System, SystemOptions, eventually};

use crate::browser::Browser;
use crate::helpers::{submit_zszo, verified, zszo_form, zszo_form_for};

/// The case the automatic incident of these tests is opened for.
const INCIDENT_CASE: &str = "ZSZO-05/2026/000077";

async fn system(extra: &[(&str, &str)]) -> System {
    let mut options = SystemOptions {
        console: true,
        ..SystemOptions::default()
    };
    for (name, value) in extra {
        options.env.insert((*name).to_owned(), (*value).to_owned());
    }
    System::start(options).await
}

/// A system whose checkpoints are signed only when a page asks: the periodic signer
/// would otherwise have signed the head before the button is pressed.
async fn system_without_periodic_checkpoints() -> System {
    system(&[("KLUCZNIK_AUDIT__CHECKPOINT_INTERVAL_SECS", "3600")]).await
}

async fn assert_accessible(browser: &Browser, page: &str) {
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{page}: {violations:?}");
    let unlabelled = browser.unlabelled_fields().await;
    assert!(
        unlabelled.is_empty(),
        "{page}: fields without a visible label: {unlabelled:?}"
    );
}

/// Signs `login` in at the console with a TOTP code nobody has used yet.
async fn sign_in(browser: &Browser, system: &System, login: &str) {
    browser
        .open(&format!("{}/zaloguj", system.url("console")))
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 30 > 25 {
        tokio::time::sleep(Duration::from_secs(30 - now % 30 + 1)).await;
    }
    browser.fill("login", login).await;
    browser.fill("password", STAFF_PASSWORD).await;
    browser.fill("totp", &system.totp_code(login)).await;
    browser.submit("form[action='/zaloguj'] button").await;
    let text = browser.text().await;
    assert!(text.contains(&format!("Zalogowano: {login}")), "{text}");
}

/// `GET` of a console page with the browser's session, for what the browser does not
/// show: the status, the headers, a download.
async fn fetch(browser: &Browser, system: &System, path: &str) -> reqwest::Response {
    let cookie = browser
        .client
        .get_named_cookie("klucznik")
        .await
        .expect("the session cookie");
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{path}", system.url("console")))
        .header("cookie", format!("klucznik={}", cookie.value()))
        .send()
        .await
        .unwrap()
}

async fn choose(browser: &Browser, select: &str, value: &str) {
    browser
        .client
        .find(Locator::Css(&format!("#{select} option[value='{value}']")))
        .await
        .unwrap_or_else(|e| panic!("option {value} of #{select}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn attribute(browser: &Browser, css: &str, name: &str) -> Option<String> {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .unwrap()
}

async fn value_of(browser: &Browser, id: &str) -> String {
    browser
        .client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// `field`'s error, tied to it: the field is marked invalid and described by the message.
async fn assert_error_at(browser: &Browser, field: &str, message: &str) {
    let css = format!("#{field}");
    assert_eq!(
        attribute(browser, &css, "aria-invalid").await.as_deref(),
        Some("true"),
        "#{field} is marked invalid"
    );
    let described = attribute(browser, &css, "aria-describedby")
        .await
        .unwrap_or_default();
    assert!(
        described
            .split(' ')
            .any(|id| id == format!("{field}-error")),
        "#{field} is described by its error: {described}"
    );
    let shown = browser
        .client
        .find(Locator::Id(&format!("{field}-error")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains(message), "#{field}-error: {shown}");
}

async fn audit_count(system: &System, sql: &'static str, bind: &str) -> i64 {
    let pool = system.databases["audit"].pool().await;
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&pool)
        .await
        .unwrap()
}

/// Waits until audit has recorded at least `n` events of `case`.
async fn recorded_for_case(system: &System, case: &str, n: i64) {
    eventually(
        Duration::from_secs(30),
        "audit to record the case",
        || async {
            let count = audit_count(
                system,
                "SELECT count(*) FROM audit_records WHERE case_number = $1",
                case,
            )
            .await;
            (count >= n).then_some(())
        },
    )
    .await;
}

/// Announces a new starting password for `INCIDENT_CASE`, as accounts does; audit opens a
/// "starting password loss" incident for it. Its number's path, `/incydenty/…`.
async fn incident_opened(system: &System) -> String {
    let js = async_nats::jetstream::new(system.client().await);
    let id = uuid::Uuid::now_v7();
    let issued = json!({
        "id": id, "type": subjects::ACCOUNTS_CREDENTIAL_ISSUED, "version": 1,
        "occurred_at": "2026-11-23T12:00:00Z",
        "actor": { "kind": "person", "id": "admin.ek04", "role": "administrator" },
        "institution_rspo_id": "12345", "case_number": INCIDENT_CASE,
        "data": { "case_number": INCIDENT_CASE, "login": "lzak", "delivery": "electronic",
                  "sealed_credentials": "", "expires_at": "2026-11-30T12:00:00Z" }
    });
    js.send_publish(
        subjects::ACCOUNTS_CREDENTIAL_ISSUED,
        PublishMessage::build()
            .payload(issued.to_string().into())
            .message_id(id.to_string()),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let pool = system.databases["audit"].pool().await;
    let (year, sequence): (i32, i64) = eventually(
        Duration::from_secs(20),
        "audit to open the incident",
        || async {
            sqlx::query_as("SELECT year, sequence FROM incidents ORDER BY sequence LIMIT 1")
                .fetch_optional(&pool)
                .await
                .ok()
                .flatten()
        },
    )
    .await;
    format!("/incydenty/{year}/{sequence:06}")
}

async fn incident_status(system: &System) -> String {
    let pool = system.databases["audit"].pool().await;
    sqlx::query_scalar("SELECT status FROM incidents ORDER BY sequence LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_auditor_searches_the_record_by_case_pages_it_downloads_csv_and_sees_a_bad_filter_by_its_field()
 {
    let system = system(&[]).await;
    let status = submit_zszo(&system, &zszo_form("SEOD-AUDYT-1")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    recorded_for_case(&system, &case, 2).await;
    // Enough records of the school for more than one page.
    let js = async_nats::jetstream::new(system.client_as(Identity::Seod).await);
    for i in 0..25 {
        let id = format!("SEOD-AUDYT-STRONY-{i}");
        js.send_publish(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            PublishMessage::build()
                .payload(zszo_form_for(&id, i + 1).to_string().into())
                .message_id(id),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    eventually(
        Duration::from_secs(60),
        "more than a page of the school's records",
        || async {
            let n = audit_count(
                &system,
                "SELECT count(*) FROM audit_records WHERE institution_rspo_id = $1",
                "12345",
            )
            .await;
            (n > 50).then_some(())
        },
    )
    .await;

    let browser = Browser::start(true).await;
    sign_in(&browser, &system, "audytor").await;
    assert_eq!(
        browser.path().await,
        "/audyt",
        "an auditor starts at the record"
    );
    assert!(
        browser
            .client
            .source()
            .await
            .unwrap()
            .contains(r#"href="/audyt" aria-current="page""#),
        "the menu marks the record"
    );

    browser.fill("case_number", &case).await;
    browser.submit("form[action='/audyt'] button").await;
    let text = browser.text().await;
    assert!(text.contains("sprawa zarejestrowana"), "{text}");
    assert!(
        text.contains("wniosek z SEOD") || text.contains(&case),
        "{text}"
    );
    assert!(
        text.contains("od najstarszego"),
        "the order is said: {text}"
    );
    let case_link = format!("a[href='/sprawy/{case}']");
    assert!(
        browser.client.find(Locator::Css(&case_link)).await.is_ok(),
        "the case links to its page"
    );
    assert_eq!(value_of(&browser, "case_number").await, case);
    browser.screenshot("console-audyt").await;
    assert_accessible(&browser, "record").await;

    // Newest first: the same records, the other way round.
    let positions = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            let mut found = Vec::new();
            for cell in client
                .find_all(Locator::Css("table.audit-record tbody tr td:first-child"))
                .await
                .unwrap()
            {
                found.push(cell.text().await.unwrap().trim().parse::<i64>().unwrap());
            }
            found
        }
    };
    let oldest = positions(&browser).await;
    browser.select("sort", "newest").await;
    browser.submit("form[action='/audyt'] button").await;
    assert!(browser.text().await.contains("od najnowszego"));
    let newest = positions(&browser).await;
    assert_eq!(
        newest,
        oldest.iter().rev().copied().collect::<Vec<_>>(),
        "newest first"
    );
    browser.select("sort", "oldest").await;
    browser.submit("form[action='/audyt'] button").await;

    // The CSV: the same criteria, audit's export passed on as a file.
    let csv_href = attribute(&browser, "a[href^='/audyt.csv']", "href")
        .await
        .expect("a CSV link");
    assert!(csv_href.contains("case_number="), "{csv_href}");
    let csv = fetch(&browser, &system, &csv_href).await;
    assert_eq!(csv.status(), 200);
    let headers = csv.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{headers:?}"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("rejestr-zdarzen-20"),
        "{disposition}"
    );
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("position,occurred_at,"), "{body}");
    assert!(body.contains(&case), "{body}");
    assert!(
        body.lines()
            .skip(1)
            .all(|line| line.is_empty() || line.contains(&case)),
        "only the case's records: {body}"
    );

    // More than a page: the next one keeps the criteria.
    browser.fill("case_number", "").await;
    browser.fill("institution", "12345").await;
    browser.submit("form[action='/audyt'] button").await;
    let next = attribute(&browser, "a[rel=next]", "href")
        .await
        .expect("a next page");
    assert!(
        next.contains("institution=12345") && next.contains("after="),
        "{next}"
    );
    browser.submit("a[rel=next]").await;
    assert_eq!(value_of(&browser, "institution").await, "12345");
    let text = browser.text().await;
    assert!(text.contains("Pierwsza strona"), "{text}");

    // A PESEL audit will not take: its word next to the field, what was typed kept.
    browser.fill("institution", "").await;
    browser.fill("person", "12345678901").await;
    browser.submit("form[action='/audyt'] button").await;
    assert_error_at(
        &browser,
        "person",
        "Numer PESEL musi mieć 11 cyfr i poprawną cyfrę kontrolną.",
    )
    .await;
    assert_eq!(value_of(&browser, "person").await, "12345678901");
    browser.screenshot("console-audyt-blad").await;
    assert_accessible(&browser, "record with a bad filter").await;
    let refused = fetch(&browser, &system, "/audyt?person=12345678901").await;
    assert_eq!(refused.status(), 422);

    // A day that is no date.
    browser.fill("person", "").await;
    browser.fill("from", "23.11.2026").await;
    browser.submit("form[action='/audyt'] button").await;
    assert_error_at(&browser, "from", "RRRR-MM-DD").await;
    assert_eq!(value_of(&browser, "from").await, "23.11.2026");
    let refused = fetch(&browser, &system, "/audyt?from=23.11.2026").await;
    assert_eq!(refused.status(), 422);
    // The CSV of criteria that cannot be read leads back to the form.
    let back = fetch(&browser, &system, "/audyt.csv?from=23.11.2026").await;
    assert_eq!(back.status(), 303);
    assert_eq!(back.headers()["location"], "/audyt?from=23.11.2026");

    // A day that is: the period holds the case's records of today.
    let today = {
        let pool = system.databases["audit"].pool().await;
        let day: String = sqlx::query_scalar(
            "SELECT to_char(occurred_at AT TIME ZONE 'Europe/Warsaw', 'YYYY-MM-DD')
             FROM audit_records WHERE case_number = $1 ORDER BY position LIMIT 1",
        )
        .bind(&case)
        .fetch_one(&pool)
        .await
        .unwrap();
        day
    };
    browser.fill("from", &today).await;
    browser.fill("to", &today).await;
    browser.fill("case_number", &case).await;
    browser.submit("form[action='/audyt'] button").await;
    let text = browser.text().await;
    assert!(text.contains("sprawa zarejestrowana"), "{today}: {text}");
}

#[tokio::test]
async fn an_auditor_moves_an_incident_forward_opens_one_by_hand_and_an_operator_is_refused() {
    let system = system(&[]).await;
    let incident = incident_opened(&system).await;
    let number = format!("INC/{}", incident.trim_start_matches("/incydenty/"));

    let browser = Browser::start(true).await;
    sign_in(&browser, &system, "audytor").await;
    let console = system.url("console");
    browser.open(&format!("{console}/incydenty")).await;
    let text = browser.text().await;
    assert!(text.contains(&number), "{text}");
    assert!(text.contains("Utrata hasła startowego"), "{text}");
    assert!(text.contains("zarejestrowany"), "{text}");
    browser.screenshot("console-incydenty").await;
    assert_accessible(&browser, "incidents").await;

    // Filtered by a status it does not have, then by its category and case.
    choose(&browser, "status", "closed").await;
    browser.submit("form[action='/incydenty'] button").await;
    assert!(
        browser
            .text()
            .await
            .contains("Żaden incydent nie spełnia tych kryteriów."),
    );
    choose(&browser, "status", "").await;
    choose(&browser, "category", "starting_password_loss").await;
    browser.fill("case_number", INCIDENT_CASE).await;
    browser.submit("form[action='/incydenty'] button").await;
    assert!(browser.text().await.contains(&number));

    browser.submit(&format!("a[href='{incident}']")).await;
    assert_eq!(browser.path().await, incident);
    let text = browser.text().await;
    assert!(text.contains(&format!("Incydent {number}")), "{text}");
    assert!(
        text.contains("Wydano nowe hasło startowe dla konta lzak"),
        "{text}"
    );
    assert!(text.contains("automatycznie (audit)"), "{text}");
    assert!(
        text.contains("pozycja "),
        "the record that opened it: {text}"
    );
    assert!(
        browser
            .client
            .find(Locator::Css(&format!("a[href='/sprawy/{INCIDENT_CASE}']")))
            .await
            .is_ok(),
        "the linked case links to its page"
    );
    assert!(
        browser
            .client
            .source()
            .await
            .unwrap()
            .contains(r#"href="/incydenty" aria-current="page""#)
    );
    browser.screenshot("console-incydent").await;
    assert_accessible(&browser, "incident").await;

    // Closing without a note: audit's word next to the note, the choice kept.
    choose(&browser, "status", "closed").await;
    browser.submit("form[action*='/status'] button").await;
    assert_error_at(&browser, "note", "notatki zamykającej").await;
    assert_eq!(value_of(&browser, "status").await, "closed");
    browser.screenshot("console-incydent-blad").await;
    assert_accessible(&browser, "incident with a refused change").await;
    assert_eq!(incident_status(&system).await, "registered");

    choose(&browser, "status", "under_analysis").await;
    browser
        .fill("note", "Sprawdzam z dyrektorem, czy list doszedł.")
        .await;
    browser.submit("form[action*='/status'] button").await;
    assert_eq!(browser.path().await, incident, "back to the incident");
    let text = browser.text().await;
    assert!(
        text.contains("Zmieniono status incydentu na „w analizie”."),
        "{text}"
    );
    assert!(text.contains("Sprawdzam z dyrektorem"), "{text}");
    assert_eq!(incident_status(&system).await, "under_analysis");

    // A form without its token changes nothing.
    let cookie = browser.client.get_named_cookie("klucznik").await.unwrap();
    let forged = reqwest::Client::new()
        .post(format!("{console}{incident}/status"))
        .header("cookie", format!("klucznik={}", cookie.value()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("status=closed&note=bez+tokenu")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("Formularz wygasł"));
    assert_eq!(incident_status(&system).await, "under_analysis");

    // Closing, by the auditor who analysed it: moving the incident is not taking part in
    // the case, so he may.
    choose(&browser, "status", "closed").await;
    browser
        .fill("note", "List doszedł; hasło startowe zmienione.")
        .await;
    browser.submit("form[action*='/status'] button").await;
    let text = browser.text().await;
    assert!(
        text.contains("Zmieniono status incydentu na „zamknięty”."),
        "{text}"
    );
    assert_eq!(incident_status(&system).await, "closed");
    assert_accessible(&browser, "a closed incident").await;

    // An incident opened by hand: a missing title is named, then it is registered.
    browser.open(&format!("{console}/incydenty/nowy")).await;
    assert_accessible(&browser, "new incident").await;
    browser
        .fill(
            "description",
            "Laptop z dostępem do konsoli zgubiony w tramwaju.",
        )
        .await;
    browser.fill("case_numbers", INCIDENT_CASE).await;
    browser
        .submit("form[action='/incydenty/nowy'] button")
        .await;
    assert_error_at(&browser, "title", "Pole „Tytuł” nie może być puste.").await;
    assert_eq!(
        value_of(&browser, "description").await,
        "Laptop z dostępem do konsoli zgubiony w tramwaju."
    );
    browser.screenshot("console-incydent-nowy-blad").await;
    assert_accessible(&browser, "new incident with an error").await;
    browser.fill("title", "Zgubiony laptop").await;
    browser
        .submit("form[action='/incydenty/nowy'] button")
        .await;
    let text = browser.text().await;
    assert!(text.contains("Zarejestrowano incydent INC/"), "{text}");
    assert!(text.contains("Zgubiony laptop"), "{text}");
    assert!(
        text.contains(", audytor"),
        "opened by whoever signed in: {text}"
    );
    choose(&browser, "status", "closed").await;
    browser
        .fill(
            "note",
            "Laptop odnaleziony; konto zablokowane do czasu zmiany hasła.",
        )
        .await;
    browser.submit("form[action*='/status'] button").await;
    let text = browser.text().await;
    assert!(text.contains("Incydent jest zamknięty"), "{text}");
    assert!(text.contains("Laptop odnaleziony"), "{text}");

    // An operator reaches the pages only to be told audit refused him.
    let operator = Browser::start(true).await;
    sign_in(&operator, &system, "operator.ek04").await;
    for path in ["/audyt", "/incydenty", incident.as_str()] {
        operator.open(&format!("{console}{path}")).await;
        let text = operator.text().await;
        assert!(text.contains("Brak uprawnień"), "{path}: {text}");
        assert_eq!(
            fetch(&operator, &system, path).await.status(),
            403,
            "{path}"
        );
    }
    operator.screenshot("console-audyt-operator").await;
    assert_accessible(&operator, "refusal").await;
}

/// A superuser session past the append-only triggers, as an intruder with database access.
async fn intruder(system: &System) -> sqlx::PgConnection {
    let mut conn = sqlx::PgConnection::connect_with(&system.databases["audit"].options())
        .await
        .unwrap();
    conn.execute("SET session_replication_role = replica")
        .await
        .unwrap();
    conn
}

#[tokio::test]
async fn the_verification_page_shows_the_chain_intact_then_broken_and_audits_refusal_to_sign() {
    let system = system_without_periodic_checkpoints().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-WERYF-1")).await;
    let case = status.case_number.expect("a case");
    recorded_for_case(&system, &case, 2).await;

    let browser = Browser::start(true).await;
    sign_in(&browser, &system, "audytor").await;
    let console = system.url("console");
    browser.open(&format!("{console}/weryfikacja")).await;
    let text = browser.text().await;
    assert!(
        text.contains("Łańcuch rejestru jest nienaruszony."),
        "{text}"
    );
    assert!(
        text.contains("Nie podpisano jeszcze żadnego punktu kontrolnego."),
        "{text}"
    );
    assert_accessible(&browser, "verification").await;

    browser
        .submit("form[action^='/weryfikacja/punkt-kontrolny'] button")
        .await;
    assert_eq!(browser.path().await, "/weryfikacja");
    let text = browser.text().await;
    assert!(
        text.contains("Podpisano punkt kontrolny na pozycji "),
        "{text}"
    );
    let pool = system.databases["audit"].pool().await;
    let signed: i64 = sqlx::query_scalar("SELECT max(position) FROM audit_checkpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        text.contains(&format!("na pozycji {signed}.")),
        "{signed}: {text}"
    );
    assert!(text.contains("klucz Ed25519 usługi audytu"), "{text}");
    browser.screenshot("console-weryfikacja").await;
    assert_accessible(&browser, "verification with a checkpoint").await;

    // The checkpoint leaves the database (the bus keeps it); then the signed record is
    // rewritten in place.
    let js = async_nats::jetstream::new(system.client().await);
    eventually(
        Duration::from_secs(10),
        "the checkpoint on the AUDIT stream",
        || async {
            let stream = js.get_stream("AUDIT").await.ok()?;
            let message = stream
                .get_last_raw_message_by_subject(subjects::AUDIT_CHECKPOINT_SIGNED)
                .await
                .ok()?;
            let published: serde_json::Value = serde_json::from_slice(&message.payload).ok()?;
            (published["position"] == signed).then_some(())
        },
    )
    .await;
    let mut db = intruder(&system).await;
    db.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_records SET hash = '\\x00' WHERE position = {signed}"
    )))
    .await
    .unwrap();
    browser.open(&format!("{console}/weryfikacja")).await;
    let text = browser.text().await;
    assert!(text.contains("Łańcuch rejestru jest naruszony."), "{text}");
    assert!(
        text.contains(&format!("rekordzie na pozycji {signed}")),
        "{text}"
    );
    assert!(text.contains("rekord został zmieniony"), "{text}");
    browser.screenshot("console-weryfikacja-naruszony").await;
    assert_accessible(&browser, "verification of a broken chain").await;

    // Something new to sign, over a chain that no longer extends the checkpoint.
    let status = submit_zszo(&system, &zszo_form_for("SEOD-WERYF-2", 1)).await;
    recorded_for_case(&system, &status.case_number.expect("a case"), 2).await;
    browser
        .submit("form[action^='/weryfikacja/punkt-kontrolny'] button")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains(
            "Łańcuch nie przedłuża ostatniego punktu kontrolnego. Łańcuch w bazie danych"
        ),
        "{text}"
    );
    let newest: i64 = sqlx::query_scalar("SELECT max(position) FROM audit_checkpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(newest, signed, "no new checkpoint");
    browser.screenshot("console-weryfikacja-odmowa").await;
    assert_accessible(&browser, "verification with a refusal").await;
}

#[tokio::test]
async fn the_auditors_pages_work_without_javascript() {
    let system = system_without_periodic_checkpoints().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-AUDYT-BEZ-JS")).await;
    let case = status.case_number.expect("a case");
    recorded_for_case(&system, &case, 2).await;
    let incident = incident_opened(&system).await;

    let browser = Browser::start(false).await;
    sign_in(&browser, &system, "audytor").await;
    browser.fill("case_number", &case).await;
    browser.submit("form[action='/audyt'] button").await;
    assert!(browser.text().await.contains("sprawa zarejestrowana"));
    browser.screenshot("console-audyt-bez-js").await;
    browser.fill("to", "jutro").await;
    browser.submit("form[action='/audyt'] button").await;
    assert_error_at(&browser, "to", "RRRR-MM-DD").await;

    let console = system.url("console");
    browser.open(&format!("{console}/incydenty")).await;
    browser.screenshot("console-incydenty-bez-js").await;
    browser.submit(&format!("a[href='{incident}']")).await;
    choose(&browser, "status", "under_analysis").await;
    browser.fill("note", "Bez JavaScriptu.").await;
    browser.submit("form[action*='/status'] button").await;
    assert!(
        browser
            .text()
            .await
            .contains("Zmieniono status incydentu na „w analizie”.")
    );
    assert_eq!(incident_status(&system).await, "under_analysis");
    browser.screenshot("console-incydent-bez-js").await;

    browser.open(&format!("{console}/weryfikacja")).await;
    browser
        .submit("form[action^='/weryfikacja/punkt-kontrolny'] button")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("Podpisano punkt kontrolny na pozycji "),
        "{text}"
    );
    assert!(
        text.contains("Łańcuch rejestru jest nienaruszony."),
        "{text}"
    );
    browser.screenshot("console-weryfikacja-bez-js").await;
}
