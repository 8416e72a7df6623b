//! The procedures in the browser, end to end: an administrator takes and realises a case,
//! the letter arrives and opens with the SMS password, the user sets his own password on the
//! access portal, and the case page shows it closed; the collection desk hands a letter
//! over. What the staff see never holds a starting password.

use std::time::Duration;

use serde_json::json;
use test_support::eventually;

use crate::browser::Browser;
use crate::console::{assert_accessible, sign_in, system};
use crate::helpers::{call, everything, holds, receive, submit_zszo, tool, verified, zszo_form};

/// The main flow, with JavaScript off in every browser: every page and form works so.
#[tokio::test]
async fn an_administrator_realises_a_case_and_the_user_sets_his_password_on_the_portal() {
    let system = system().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-CONSOLE-FLOW")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    let console = system.url("console");

    let admin = Browser::start(false).await;
    sign_in(&admin, &system, "admin.ek04").await;
    let mut seen = Vec::new();
    admin
        .open(&format!(
            "{console}/kolejka?status=waiting&procedure=ZSZO-05&institution=podstawowa"
        ))
        .await;
    let text = admin.text().await;
    assert!(text.contains(&case), "the filtered queue lists it: {text}");
    assert!(text.contains("Pozycje 1–1 z 1"), "{text}");
    admin.screenshot("console-kolejka-filtr-bez-js").await;
    seen.push(admin.source().await);
    admin
        .open(&format!("{console}/kolejka?older_than_days=wczoraj"))
        .await;
    let text = admin.text().await;
    assert!(
        text.contains("Liczba całkowita od 0 do 3650."),
        "a bad filter is named next to its field: {text}"
    );
    let typed = admin
        .client
        .find(fantoccini::Locator::Id("older_than_days"))
        .await
        .unwrap();
    assert_eq!(
        typed.prop("value").await.unwrap().as_deref(),
        Some("wczoraj")
    );

    admin.open(&format!("{console}/kolejka")).await;
    admin.submit(&format!("a[href='/sprawy/{case}']")).await;
    assert_eq!(admin.path().await, format!("/sprawy/{case}"));
    let text = admin.text().await;
    for expected in [
        "Stan\nzarejestrowana",
        "Przebieg sprawy",
        "zweryfikowana w ewidencji kont",
        "Wniosek, jak wpłynął",
        // The loss, registered as an incident with the request.
        "INC/2026/000001: Utrata hasła startowego",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    admin.screenshot("console-sprawa-bez-js").await;
    admin.submit("form[action$='/przyjmij'] button").await;
    let text = admin.text().await;
    assert!(text.contains("Stan\nprzyjęta do realizacji"), "{text}");
    assert!(text.contains("Prowadzi\nadmin.ek04"), "{text}");
    admin.submit("form[action$='/realizuj'] button").await;
    let text = admin.text().await;
    assert!(text.contains("zlecono realizację"), "{text}");
    admin.screenshot("console-sprawa-zrealizowana-bez-js").await;
    seen.push(admin.source().await);

    let received = receive(&system, &case, "sp7@edu.krakow.pl", "48600100200").await;

    let user = Browser::start(false).await;
    user.open(&format!("{console}/portal")).await;
    assert!(user.text().await.contains("Portal Dostępowy"));
    user.screenshot("portal-logowanie-bez-js").await;
    user.fill("login", &received.login).await;
    user.fill("password", "Zle-Haslo-123456").await;
    user.submit("form[action='/portal'] button").await;
    let text = user.text().await;
    assert!(text.contains("Nieprawidłowy login lub hasło."), "{text}");
    user.fill("password", &received.starting_password).await;
    user.submit("form[action='/portal'] button").await;
    assert_eq!(user.path().await, "/portal/haslo");
    let text = user.text().await;
    assert!(
        text.contains("co najmniej 12 znaków") && text.contains("inne niż login"),
        "the policy next to the field: {text}"
    );
    user.screenshot("portal-zmiana-hasla-bez-js").await;
    user.fill("new_password", "krotkie").await;
    user.fill("repeat", "krotkie").await;
    user.submit("form[action='/portal/haslo'] button").await;
    let text = user.text().await;
    assert!(
        text.contains("Nowe hasło musi mieć co najmniej 12 znaków."),
        "{text}"
    );
    user.fill("new_password", "Moje-Wlasne-Haslo-2026").await;
    user.fill("repeat", "Moje-Wlasne-Haslo-2025").await;
    user.submit("form[action='/portal/haslo'] button").await;
    assert!(
        user.text()
            .await
            .contains("Powtórzone hasło różni się od nowego hasła.")
    );
    user.fill("new_password", "Moje-Wlasne-Haslo-2026").await;
    user.fill("repeat", "Moje-Wlasne-Haslo-2026").await;
    user.submit("form[action='/portal/haslo'] button").await;
    assert_eq!(user.path().await, "/portal/gotowe");
    assert!(user.text().await.contains("Hasło zmienione"));
    user.screenshot("portal-haslo-zmienione-bez-js").await;
    let (status, _) = call(
        &system,
        "accounts",
        None,
        "/api/portal/login",
        json!({ "login": received.login, "password": "Moje-Wlasne-Haslo-2026" }),
    )
    .await;
    assert_eq!(status, 200, "the new password works");

    let page = format!("{console}/sprawy/{case}");
    eventually(Duration::from_secs(60), "the case closed", || async {
        admin.open(&page).await;
        admin.text().await.contains("Stan\nzamknięta").then_some(())
    })
    .await;
    let text = admin.text().await;
    assert!(text.contains("doręczona"), "{text}");
    admin.screenshot("console-sprawa-zamknieta-bez-js").await;
    seen.push(admin.source().await);

    for page in &seen {
        assert!(!page.contains(&received.starting_password));
        assert!(!page.contains(&received.cipher_password));
    }
    let all = everything(&system).await;
    for secret in [
        received.starting_password.as_str(),
        received.cipher_password.as_str(),
        "Moje-Wlasne-Haslo-2026",
    ] {
        assert!(
            !holds(&all, secret),
            "no database, stream or log (the console's too) holds a password"
        );
    }
}

/// The collection desk with JavaScript on: an operator records the requester's agreement on
/// the case page, then hands the letter over once; the user opens the portal with it.
#[tokio::test]
async fn the_collection_desk_hands_a_letter_over_once_and_the_user_changes_his_password() {
    let system = system().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-CONSOLE-DESK")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    let console = system.url("console");
    let admin = system.staff_token("admin.ek04").await;
    let (status, taken) = call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}/take"),
        json!({}),
    )
    .await;
    assert_eq!(status, 202, "{taken}");

    let operator = Browser::start(true).await;
    sign_in(&operator, &system, "operator.ek04").await;
    assert_accessible(&operator, "the operator's queue").await;
    operator.open(&format!("{console}/sprawy/{case}")).await;
    assert_accessible(&operator, "the case page").await;
    operator.fill("proxy_name", "Anna Nowak").await;
    operator.submit("form[action$='/zgoda'] button").await;
    let text = operator.text().await;
    assert!(
        text.contains("Opisz, jak i kiedy wnioskodawca wyraził zgodę"),
        "the error is next to the field it names: {text}"
    );
    let kept = operator
        .client
        .find(fantoccini::Locator::Id("proxy_name"))
        .await
        .unwrap();
    assert_eq!(
        kept.prop("value").await.unwrap().as_deref(),
        Some("Anna Nowak")
    );
    assert_accessible(&operator, "the agreement with an error").await;
    operator.screenshot("console-zgoda-blad").await;
    operator.fill("how", "telefonicznie, 2 grudnia 2026").await;
    operator.fill("proxy_name", "").await;
    operator.submit("form[action$='/zgoda'] button").await;
    let text = operator.text().await;
    assert!(text.contains("uzgodniono odbiór osobisty"), "{text}");

    let (status, realised) = call(
        &system,
        "intake",
        Some(&admin),
        &format!("/api/cases/{case}/realise"),
        json!({ "delivery": "in_person" }),
    )
    .await;
    assert_eq!(status, 202, "{realised}");

    eventually(
        Duration::from_secs(60),
        "the letter at the desk",
        || async {
            operator.open(&format!("{console}/odbior")).await;
            operator.text().await.contains(&case).then_some(())
        },
    )
    .await;
    assert_accessible(&operator, "the desk").await;
    operator.screenshot("console-punkt-odbioru").await;
    operator.open(&format!("{console}/odbior?q=%C5%BCak")).await;
    assert!(
        operator.text().await.contains(&case),
        "found by the surname, any case"
    );
    operator
        .open(&format!("{console}/odbior?q=nikt-taki"))
        .await;
    assert!(
        operator
            .text()
            .await
            .contains("Żadne czekające pismo nie pasuje do „nikt-taki”.")
    );
    operator.open(&format!("{console}/odbior")).await;
    operator.submit(&format!("a[href='/odbior/{case}']")).await;
    assert_accessible(&operator, "the hand-over").await;
    operator.click("#by-proxy").await;
    operator.fill("person_name", "Jan Kowalski").await;
    operator.select("id_type", "dowod_osobisty").await;
    operator.fill("id_last4", "1234").await;
    operator.submit("form[action^='/odbior/'] button").await;
    let text = operator.text().await;
    assert!(
        text.contains("Pełnomocnik musi okazać pisemne upoważnienie (formularz F-01)"),
        "{text}"
    );
    assert_accessible(&operator, "the hand-over with an error").await;
    operator.screenshot("console-wydanie-blad").await;

    // The right hand-over, as the browser would send it; the answer is the letter to print.
    let form = [
        ("csrf", operator.csrf().await),
        ("collected_by", "requester".to_owned()),
        ("person_name", "Jan Kowalski".to_owned()),
        ("f01_reference", String::new()),
        ("id_type", "dowod_osobisty".to_owned()),
        ("id_last4", "AB12".to_owned()),
    ];
    let letter = reqwest::Client::new()
        .post(format!("{console}/odbior/{case}"))
        .header("cookie", operator.session_cookie().await)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(urlencoded(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(letter.status(), 200);
    assert_eq!(letter.headers()["content-type"], "application/pdf");
    assert_eq!(letter.headers()["cache-control"], "no-store");
    let pdf = letter.bytes().await.unwrap();
    let dir = test_support::scratch_dir("desk-letter");
    let file = dir.join("letter.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = tool("pdftotext", &["-layout", file.to_str().unwrap(), "-"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let value_after = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{label} in the letter:\n{text}"))
    };
    let (login, starting) = (value_after("Login:"), value_after("Hasło startowe:"));

    operator.open(&format!("{console}/odbior/{case}")).await;
    assert!(
        operator.text().await.contains("Pismo nie czeka na odbiór"),
        "handed over once, then gone"
    );
    assert!(!operator.source().await.contains(&starting));

    let user = Browser::start(true).await;
    user.open(&format!("{console}/portal")).await;
    assert_accessible(&user, "the portal").await;
    user.fill("login", &login).await;
    user.fill("password", &starting).await;
    user.submit("form[action='/portal'] button").await;
    assert_eq!(user.path().await, "/portal/haslo");
    assert_accessible(&user, "the password change").await;
    user.fill("new_password", &starting).await;
    user.fill("repeat", &starting).await;
    user.submit("form[action='/portal/haslo'] button").await;
    let text = user.text().await;
    assert!(
        text.contains("Nowe hasło musi różnić się od hasła startowego."),
        "{text}"
    );
    assert_accessible(&user, "the password change with an error").await;
    user.screenshot("portal-zmiana-hasla-blad").await;
    user.fill("new_password", "Odebrane-Osobiscie-2026").await;
    user.fill("repeat", "Odebrane-Osobiscie-2026").await;
    user.submit("form[action='/portal/haslo'] button").await;
    assert!(user.text().await.contains("Hasło zmienione"));
    assert_accessible(&user, "the result").await;

    let all = everything(&system).await;
    assert!(
        !holds(&all, &starting),
        "the printed letter was kept nowhere"
    );
}

/// A step of someone else's procedure in the console: intake's refusal, shown as such.
#[tokio::test]
async fn an_agreement_by_the_administrator_who_took_the_case_is_refused_on_the_page() {
    let system = system().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-CONSOLE-DUTY")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    let admin = Browser::start(true).await;
    sign_in(&admin, &system, "admin.ek04").await;
    admin
        .open(&format!("{}/sprawy/{case}", system.url("console")))
        .await;
    admin.submit("form[action$='/przyjmij'] button").await;
    admin.fill("how", "osobiście, 2 grudnia").await;
    admin.submit("form[action$='/zgoda'] button").await;
    let text = admin.text().await;
    assert!(text.contains("Nie wykonano:"), "{text}");
    assert_accessible(&admin, "a refusal on the case page").await;
}

fn urlencoded(form: &[(&str, String)]) -> String {
    let mut url = reqwest::Url::parse("http://form.invalid/").unwrap();
    url.query_pairs_mut()
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())));
    url.query().unwrap_or_default().to_owned()
}

/// Procedure B at the department: the operator registers a PZO-01 request in the browser
/// (every empty field named at once, then intake's refusal next to its field, typed text
/// kept), the administrator realises it for collection, and the desk hands the letter over.
#[tokio::test]
async fn an_operator_registers_a_pzo_request_and_the_requester_collects_the_letter() {
    let system = system().await;
    let console = system.url("console");
    let operator = Browser::start(true).await;
    sign_in(&operator, &system, "operator.ek04").await;
    operator.open(&format!("{console}/rejestracja")).await;
    assert_accessible(&operator, "the registration").await;
    operator
        .fill(
            "institution_name",
            "Niepubliczna Szkoła Podstawowa „Żaczek”",
        )
        .await;
    operator.submit("form[action='/rejestracja'] button").await;
    let text = operator.text().await;
    assert_eq!(
        text.matches("To pole jest wymagane.").count(),
        7,
        "every empty field is named: {text}"
    );
    assert_accessible(&operator, "the registration with errors").await;
    for (id, value) in [
        ("institution_rspo_id", "34567"),
        ("requester_login", "pgrabowski"),
        ("requester_first_name", "Piotr"),
        ("requester_last_name", "Grabowski"),
        ("contact_rspo_email", "zaczek@szkola.example.pl"),
        ("contact_director_mobile", "7"),
        ("account_login", "pzo-admin-34567"),
    ] {
        operator.fill(id, value).await;
    }
    operator.click("#delivery-in-person").await;
    operator.submit("form[action='/rejestracja'] button").await;
    let error = operator
        .client
        .find(fantoccini::Locator::Id("contact_director_mobile-error"))
        .await
        .expect("the error next to the mobile")
        .text()
        .await
        .unwrap();
    assert!(
        error.contains("telefon") || error.contains("numer"),
        "{error}"
    );
    let kept = operator
        .client
        .find(fantoccini::Locator::Id("requester_last_name"))
        .await
        .unwrap();
    assert_eq!(
        kept.prop("value").await.unwrap().as_deref(),
        Some("Grabowski")
    );
    operator.screenshot("console-rejestracja-blad").await;
    let cases = || async {
        let intake = crate::helpers::pool_of(&system, "intake").await;
        crate::helpers::count(&intake, "SELECT count(*) FROM cases").await
    };
    assert_eq!(cases().await, 0, "nothing registered from a refused form");
    operator
        .fill("contact_director_mobile", "602 300 400")
        .await;
    operator.submit("form[action='/rejestracja'] button").await;
    let path = operator.path().await;
    let case = path
        .strip_prefix("/sprawy/")
        .unwrap_or_else(|| panic!("the new case's page: {path}"))
        .to_owned();
    assert!(case.starts_with("PZO-01/"), "{case}");
    assert!(operator.text().await.contains("zarejestrowany w Wydziale"));
    operator.screenshot("console-sprawa-pzo").await;

    verified(&system, &case).await;
    let admin = system.staff_token("admin.ek04").await;
    for (step, body) in [
        ("take", json!({})),
        ("realise", json!({ "delivery": "in_person" })),
    ] {
        let (status, answer) = call(
            &system,
            "intake",
            Some(&admin),
            &format!("/api/cases/{case}/{step}"),
            body,
        )
        .await;
        assert_eq!(status, 202, "{step}: {answer}");
    }
    eventually(
        Duration::from_secs(60),
        "the PZO letter at the desk",
        || async {
            operator.open(&format!("{console}/odbior")).await;
            operator.text().await.contains(&case).then_some(())
        },
    )
    .await;
    operator.open(&format!("{console}/odbior/{case}")).await;
    let form = [
        ("csrf", operator.csrf().await),
        ("collected_by", "requester".to_owned()),
        ("person_name", "Piotr Grabowski".to_owned()),
        ("f01_reference", String::new()),
        ("id_type", "paszport".to_owned()),
        ("id_last4", "X9Z1".to_owned()),
    ];
    let letter = reqwest::Client::new()
        .post(format!("{console}/odbior/{case}"))
        .header("cookie", operator.session_cookie().await)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(urlencoded(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(letter.status(), 200);
    assert_eq!(letter.headers()["content-type"], "application/pdf");
    let page = format!("{console}/sprawy/{case}");
    eventually(Duration::from_secs(60), "the PZO case closed", || async {
        operator.open(&page).await;
        operator
            .text()
            .await
            .contains("Stan\nzamknięta")
            .then_some(())
    })
    .await;
    assert!(operator.text().await.contains("odebrana osobiście"));
}

/// A staff member's first TOTP app: the administrator prepared the enrolment, the password
/// alone shows the QR code, a wrong code is named, the app's code signs him in; the secret
/// is kept in plain text nowhere.
#[tokio::test]
async fn a_prepared_enrolment_shows_the_qr_code_once_and_the_first_code_signs_in() {
    let system = system().await;
    let console = system.url("console");

    // An administrator prepares it for the operator, in the console.
    let admin = Browser::start(true).await;
    sign_in(&admin, &system, "admin.ek04").await;
    admin.open(&format!("{console}/personel")).await;
    assert_accessible(&admin, "the staff page").await;
    admin.fill("login", "nikt.taki").await;
    admin.submit("form[action='/personel'] button").await;
    let text = admin.text().await;
    assert!(text.contains("Nie ma konta pracownika"), "{text}");
    assert_accessible(&admin, "the staff page with an error").await;
    admin.fill("login", "operator.ek04").await;
    admin.submit("form[action='/personel'] button").await;
    let text = admin.text().await;
    assert!(
        text.contains("Przygotowano rejestrację aplikacji dla operator.ek04"),
        "{text}"
    );
    admin.screenshot("console-personel").await;
    let recorded = eventually(Duration::from_secs(20), "audit to record it", || async {
        let found = system
            .audit_events("event_type=accounts.totp.enrolment-prepared&login=operator.ek04")
            .await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(recorded[0]["actor_id"], "admin.ek04");

    let browser = Browser::start(true).await;
    browser.open(&format!("{console}/zaloguj")).await;
    browser.fill("login", "operator.ek04").await;
    browser
        .fill("password", test_support::system::STAFF_PASSWORD)
        .await;
    browser.submit("form[action='/zaloguj'] button").await;
    assert_eq!(browser.path().await, "/zaloguj/aplikacja");
    assert!(browser.source().await.contains("<svg"), "a QR code");
    assert_accessible(&browser, "the enrolment").await;
    browser.screenshot("console-rejestracja-aplikacji").await;
    let (secret, key) = crate::console::enrolment_key(&browser).await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let near: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|d| kit::totp::code(&key, now() + d))
        .collect();
    let wrong = ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap();
    browser.fill("totp", wrong).await;
    browser
        .submit("form[action='/zaloguj/aplikacja'] button")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("Kod nie pasuje do zeskanowanego klucza"),
        "{text}"
    );
    assert_accessible(&browser, "the enrolment with an error").await;
    browser.fill("totp", &kit::totp::code(&key, now())).await;
    browser
        .submit("form[action='/zaloguj/aplikacja'] button")
        .await;
    assert_eq!(browser.path().await, "/kolejka");
    assert!(browser.text().await.contains("Zalogowano: operator.ek04"));

    // The old secret no longer works.
    let old = system.totp_code("operator.ek04");
    let (status, _) = call(
        &system,
        "accounts",
        None,
        "/api/auth/staff-login",
        json!({ "login": "operator.ek04", "password": test_support::system::STAFF_PASSWORD, "totp": old }),
    )
    .await;
    assert_eq!(status, 401);
    let all = everything(&system).await;
    assert!(!holds(&all, &secret), "the secret is kept encrypted only");
    // The command line prepares one the same way (last: the auditor cannot sign in after).
    let said = system.accounts_admin(&["enroll-totp", "audytor", "--console"]);
    assert!(said.contains("Przygotowano"), "{said}");
}

/// A refused case does not linger: an administrator closes it with a note, SEOD hears it is
/// closed, and audit keeps the note.
#[tokio::test]
async fn an_administrator_closes_a_refused_case_with_a_note_and_seod_is_told() {
    use contracts::seod_status::CaseStatus;
    let system = system().await;
    let mut form = zszo_form("SEOD-CONSOLE-ZAMKNIJ");
    form["requester"]["login"] = json!("mwojcik");
    let status = submit_zszo(&system, &form).await;
    let case = status.case_number.expect("a case");
    crate::helpers::statuses_until(
        &system,
        "SEOD-CONSOLE-ZAMKNIJ",
        CaseStatus::Rejected,
        Duration::from_secs(30),
    )
    .await;

    let admin = Browser::start(true).await;
    sign_in(&admin, &system, "admin.ek04").await;
    admin
        .open(&format!("{}/sprawy/{case}", system.url("console")))
        .await;
    let text = admin.text().await;
    assert!(text.contains("Powód odrzucenia"), "{text}");
    admin.submit("form[action$='/zamknij'] button").await;
    let text = admin.text().await;
    assert!(
        text.contains("Napisz, dlaczego sprawa jest zamykana"),
        "an empty note is named next to the field: {text}"
    );
    assert_accessible(&admin, "closing with an error").await;
    admin
        .fill(
            "note",
            "Wniosek złożyła osoba, która nie jest dyrektorem; poinformowano telefonicznie.",
        )
        .await;
    admin.submit("form[action$='/zamknij'] button").await;
    let text = admin.text().await;
    assert!(text.contains("Stan\nzamknięta"), "{text}");
    assert!(text.contains("Zamknięta przez admin.ek04"), "{text}");
    admin.screenshot("console-sprawa-zamknieta-z-notatka").await;
    assert_accessible(&admin, "a case closed with a note").await;

    let statuses = crate::helpers::statuses_until(
        &system,
        "SEOD-CONSOLE-ZAMKNIJ",
        CaseStatus::Closed,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(statuses.last(), Some(&CaseStatus::Closed), "{statuses:?}");
    let closed = eventually(Duration::from_secs(20), "audit to record it", || async {
        let events = system
            .audit_events(&format!(
                "event_type=intake.case.closed&case_number={}",
                case.replace('/', "%2F")
            ))
            .await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(closed[0]["body"]["data"]["closed_by"], "admin.ek04");
}

/// Every form of the console, sent by a signed-in administrator without its token (or with
/// a wrong one), is refused and changes nothing; a page of another role is the 403 page.
#[tokio::test]
async fn every_form_without_its_token_is_refused_and_another_roles_page_is_403() {
    let system = system().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-CONSOLE-CSRF")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;
    let console = system.url("console");
    let admin = Browser::start(true).await;
    sign_in(&admin, &system, "admin.ek04").await;
    let cookie = admin.session_cookie().await;
    let forms = [
        "/wyloguj".to_owned(),
        "/portal".to_owned(),
        "/portal/haslo".to_owned(),
        "/zaloguj/aplikacja".to_owned(),
        "/rejestracja".to_owned(),
        format!("/sprawy/{case}/przyjmij"),
        format!("/sprawy/{case}/realizuj"),
        format!("/sprawy/{case}/zgoda"),
        format!("/sprawy/{case}/zamknij"),
        format!("/odbior/{case}"),
        "/incydenty/nowy".to_owned(),
        "/incydenty/2026/1/status".to_owned(),
        "/weryfikacja/punkt-kontrolny".to_owned(),
        "/portal/email".to_owned(),
        "/portal/potwierdz".to_owned(),
        "/panel/pracownicy/01900000-0000-7000-8000-000000000000/konto".to_owned(),
        "/panel/pracownicy/01900000-0000-7000-8000-000000000000/arkusz".to_owned(),
        "/panel/pracownicy/01900000-0000-7000-8000-000000000000/uprawnienia".to_owned(),
        "/panel/administratorzy".to_owned(),
        "/panel/administratorzy/mwojcik/odwolaj".to_owned(),
        "/sio/rejestr".to_owned(),
        "/sio/LBD-KRK-1/cofniecie".to_owned(),
        "/sio/LBD-KRK-1/panel/wyslij".to_owned(),
        "/sio/LBD-KRK-1/panel/sprawdz".to_owned(),
        "/sio/LBD-KRK-1/rozpatrywanie/pobierz".to_owned(),
        "/sio/LBD-KRK-1/rozpatrywanie/oznacz".to_owned(),
        "/sio/LBD-KRK-1/rozpatrywanie/01900000-0000-7000-8000-000000000000/decyzja".to_owned(),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for token in ["", "zgadniety-token"] {
        for path in &forms {
            let answer = client
                .post(format!("{console}{path}"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "csrf={token}&note=x&how=x&title=x&description=x&status=closed"
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 403, "{path} without its token");
            assert!(
                answer.text().await.unwrap().contains("Formularz wygasł"),
                "{path}"
            );
        }
    }
    // Nothing changed: the case still waits, and the administrator is still signed in.
    admin.open(&format!("{console}/sprawy/{case}")).await;
    let text = admin.text().await;
    assert!(text.contains("Stan\nzarejestrowana"), "{text}");

    // The auditor's queue: intake refuses him, the console shows it as the 403 page.
    let auditor = Browser::start(true).await;
    sign_in(&auditor, &system, "audytor").await;
    for page in ["/kolejka", "/odbior", "/rejestracja"] {
        let answer = client
            .get(format!("{console}{page}"))
            .header("cookie", auditor.session_cookie().await)
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        if page == "/rejestracja" {
            // An empty form asks nothing of intake; sending it is refused by intake.
            assert_eq!(status, 200, "{page}");
            continue;
        }
        assert_eq!(status, 403, "{page}: {text}");
        assert!(text.contains("Brak uprawnień"), "{page}: {text}");
    }
    auditor.open(&format!("{console}/kolejka")).await;
    assert_accessible(&auditor, "the 403 page").await;
    auditor.screenshot("console-403").await;
}
