//! Procedure C in the browser, as the people would do it (with axe-core checking each page;
//! the second test walks the panel with JavaScript off): a
//! director signs in and authorises a deputy as local administrator; the deputy finds an
//! employee by a surname typed without its Polish letters, creates the account and reads
//! the login and starting password from its one hand-over sheet; the employee signs in on
//! the portal, sets a password and an e-mail address, follows the link from the real SMTP
//! server's mailbox and signs in as an active user; the director sees the account's history
//! and downloads F-02 and the F-03 row. And the refusals, each with its message.

use std::time::Duration;

use mail_parser::MessageParser;
use test_support::eventually;

use crate::browser::Browser;
use crate::console::{assert_accessible, sign_in, system};
use crate::helpers::{everything, holds, tool};

const DEPUTY_PASSWORD: &str = "Wicedyrektor-SP7-2026";
const EMPLOYEE_PASSWORD: &str = "Jesienne-Liscie-2026";

/// Posts a form of the page `browser` shows, as the browser would (its session and CSRF
/// token), for an answer to read whole: a PDF or a CSV.
async fn post_as(browser: &Browser, url: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = browser.csrf().await;
    let mut form = reqwest::Url::parse("http://form.invalid/").unwrap();
    form.query_pairs_mut().append_pair("csrf", &csrf);
    for (name, value) in fields {
        form.query_pairs_mut().append_pair(name, value);
    }
    reqwest::Client::new()
        .post(url)
        .header("cookie", browser.session_cookie().await)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.query().unwrap_or_default().to_owned())
        .send()
        .await
        .unwrap()
}

async fn get_as(browser: &Browser, url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("cookie", browser.session_cookie().await)
        .send()
        .await
        .unwrap()
}

/// The text of a PDF, laid out (poppler's `pdftotext`).
fn pdf_text(label: &str, pdf: &[u8]) -> String {
    let file = test_support::scratch_dir(label).join("document.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = tool("pdftotext", &["-layout", file.to_str().unwrap(), "-"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn value_after(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("{label} in:\n{text}"))
}

/// Signs in a person whose TOTP enrolment was prepared: the password draws the secret, the
/// first code from it confirms.
async fn first_console_sign_in(browser: &Browser, console: &str, login: &str, password: &str) {
    browser.open(&format!("{console}/zaloguj")).await;
    browser.fill("login", login).await;
    browser.fill("password", password).await;
    browser.submit("form[action='/zaloguj'] button").await;
    assert_eq!(
        browser.path().await,
        "/zaloguj/aplikacja",
        "{}",
        browser.text().await
    );
    let (_, key) = crate::console::enrolment_key(browser).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    browser.fill("totp", &kit::totp::code(&key, now)).await;
    browser
        .submit("form[action='/zaloguj/aplikacja'] button")
        .await;
}

#[tokio::test]
async fn a_deputy_creates_an_account_the_employee_activates_it_and_the_director_sees_its_history() {
    let system = system().await;
    let console = system.url("console");
    let mut pages = Vec::new();
    system.accounts_admin_with(&["set-password", "mwojcik"], DEPUTY_PASSWORD);
    // The deputy has an address of his own: the activation notice goes there.
    let directory = test_support::scratch_dir("deputy").join("deputy.jsonl");
    std::fs::write(
        &directory,
        "{\"type\":\"account\",\"rspo_id\":\"12345\",\"login\":\"mwojcik\",\"first_name\":\"Małgorzata\",\"last_name\":\"Wójcik\",\"email\":\"m.wojcik@sp7.edu.krakow.pl\"}\n",
    )
    .unwrap();
    system.accounts_admin(&["import", directory.to_str().unwrap()]);

    // The director authorises his deputy.
    let director = Browser::start(true).await;
    sign_in(&director, &system, "jkowalski").await;
    assert_eq!(
        director.path().await,
        "/panel",
        "a director starts at the panel"
    );
    let text = director.text().await;
    assert!(
        text.contains("Pracownicy Placówki") && text.contains("Wróblewska"),
        "{text}"
    );
    assert!(
        !text.contains("Szczęśniak"),
        "no other institution's staff: {text}"
    );
    assert_accessible(&director, "the staff list").await;
    director.screenshot("panel-pracownicy-placowki").await;
    director
        .open(&format!("{console}/panel/administratorzy"))
        .await;
    director.fill("login", "kszczesniak").await;
    director
        .submit("form[action='/panel/administratorzy'] button")
        .await;
    let text = director.text().await;
    assert!(
        text.contains("W Twojej placówce nie ma konta ZSZO o loginie „kszczesniak”"),
        "{text}"
    );
    assert_accessible(&director, "the local administrators with an error").await;
    director.fill("login", "mwojcik").await;
    director
        .submit("form[action='/panel/administratorzy'] button")
        .await;
    let text = director.text().await;
    assert!(
        text.contains("Upoważniono mwojcik jako administratora lokalnego"),
        "{text}"
    );
    assert!(
        text.contains("kod QR"),
        "his first sign-in will enrol his app: {text}"
    );
    assert_accessible(&director, "the local administrators").await;
    director.screenshot("panel-administratorzy-lokalni").await;

    // The deputy signs in (password, then his new app) and finds the employee without
    // typing Polish letters.
    let deputy = Browser::start(true).await;
    first_console_sign_in(&deputy, &console, "mwojcik", DEPUTY_PASSWORD).await;
    assert_eq!(deputy.path().await, "/panel");
    assert!(
        deputy
            .text()
            .await
            .contains("Zalogowano: mwojcik, administrator lokalny")
    );
    deputy.fill("q", "wroblewska").await;
    deputy.submit("form[action='/panel'] button").await;
    let text = deputy.text().await;
    assert!(
        text.contains("Wróblewska") && text.contains("Żaneta"),
        "{text}"
    );
    assert!(
        text.contains("*********99") && !text.contains("90022807899"),
        "PESEL masked: {text}"
    );
    assert!(!text.contains("Śliwiński"), "{text}");
    assert_accessible(&deputy, "the search").await;
    deputy.click("details.row-menu summary").await;
    deputy.screenshot("panel-wyszukiwanie-menu-wiersza").await;
    deputy.submit("details.row-menu a[href$='/konto']").await;
    let card = deputy.path().await.trim_end_matches("/konto").to_owned();
    let text = deputy.text().await;
    assert!(
        text.contains("Utwórz konto ZSZO: Żaneta Wróblewska"),
        "{text}"
    );
    assert!(
        text.contains("Dziennik elektroniczny – nauczyciel"),
        "{text}"
    );
    assert_accessible(&deputy, "Utwórz konto").await;
    deputy.screenshot("panel-utworz-konto").await;
    pages.push(deputy.source().await);

    // A form from elsewhere changes nothing.
    let forged = reqwest::Client::new()
        .post(format!("{console}{card}/konto"))
        .header("cookie", deputy.session_cookie().await)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=zly-token&permission=dziennik.nauczyciel")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let sheet = post_as(
        &deputy,
        &format!("{console}{card}/konto"),
        &[
            ("permission", "dziennik.nauczyciel"),
            ("permission", "arkusz.podglad"),
        ],
    )
    .await;
    assert_eq!(sheet.status(), 200);
    assert_eq!(sheet.headers()["content-type"], "application/pdf");
    assert_eq!(sheet.headers()["cache-control"], "no-store");
    let sheet = pdf_text("hand-over-sheet", &sheet.bytes().await.unwrap());
    assert!(
        sheet.contains("Arkusz przekazania danych dostępowych"),
        "{sheet}"
    );
    let (login, starting) = (
        value_after(&sheet, "Login:"),
        value_after(&sheet, "Hasło startowe:"),
    );
    assert_eq!(login, "zwroblewska", "the login rule");
    let again = post_as(&deputy, &format!("{console}{card}/konto"), &[]).await;
    let again = again.text().await.unwrap();
    assert!(
        again.contains("ma już konto ZSZO"),
        "a second account is refused: {again}"
    );
    assert!(!again.contains(&starting));
    deputy.open(&format!("{console}{card}")).await;
    let text = deputy.text().await;
    assert!(
        text.contains("czeka na potwierdzenie adresu e-mail"),
        "{text}"
    );
    assert!(
        !deputy.source().await.contains(&starting),
        "the sheet is given once"
    );
    pages.push(deputy.source().await);

    // The employee on the access portal.
    let employee = Browser::start(true).await;
    employee.open(&format!("{console}/portal")).await;
    employee.fill("login", &login).await;
    employee.fill("password", &starting).await;
    employee.submit("form[action='/portal'] button").await;
    assert_eq!(employee.path().await, "/portal/haslo");
    employee.fill("new_password", EMPLOYEE_PASSWORD).await;
    employee.fill("repeat", EMPLOYEE_PASSWORD).await;
    employee.submit("form[action='/portal/haslo'] button").await;
    assert_eq!(employee.path().await, "/portal/email");
    employee.fill("email", "nie adres").await;
    employee.submit("form[action='/portal/email'] button").await;
    assert!(
        employee
            .text()
            .await
            .contains("Podaj adres e-mail w postaci"),
        "{}",
        employee.text().await
    );
    assert_accessible(&employee, "the e-mail address with an error").await;
    employee.fill("email", "zaneta.wroblewska@example.pl").await;
    employee.screenshot("portal-adres-email").await;
    employee.submit("form[action='/portal/email'] button").await;
    let text = employee.text().await;
    assert!(
        text.contains("Sprawdź pocztę") && text.contains("zaneta.wroblewska@example.pl"),
        "{text}"
    );
    assert_accessible(&employee, "check your mailbox").await;
    employee.screenshot("portal-sprawdz-poczte").await;

    let mail = eventually(
        Duration::from_secs(60),
        "the confirmation e-mail",
        || async {
            system
                .smtp
                .messages()
                .into_iter()
                .find(|m| String::from_utf8_lossy(m).contains("zaneta.wroblewska@example.pl"))
        },
    )
    .await;
    let message = MessageParser::default().parse(&mail).unwrap();
    assert_eq!(message.subject(), Some("Potwierdź adres e-mail konta ZSZO"));
    let body = message.body_text(0).unwrap().to_string();
    let link = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.contains("/portal/potwierdz?t="))
        .unwrap_or_else(|| panic!("a link in: {body}"));
    // The configured portal address is the production one; here the console's own.
    let link = format!("{console}{}", &link[link.find("/portal/").unwrap()..]);
    employee.open(&link).await;
    assert_accessible(&employee, "the confirmation").await;
    employee.screenshot("portal-potwierdzenie-adresu").await;
    employee
        .submit("form[action='/portal/potwierdz'] button")
        .await;
    let text = employee.text().await;
    assert!(
        text.contains("Adres e-mail potwierdzony") && text.contains("Konto jest aktywne"),
        "{text}"
    );
    employee.screenshot("portal-konto-aktywne").await;
    employee.open(&link).await;
    employee
        .submit("form[action='/portal/potwierdz'] button")
        .await;
    let text = employee.text().await;
    assert!(
        text.contains("Odnośnik został już użyty"),
        "a used link says so: {text}"
    );
    assert_accessible(&employee, "a used link").await;
    employee.screenshot("portal-odnosnik-uzyty").await;
    employee.open(&format!("{console}/portal")).await;
    employee.fill("login", &login).await;
    employee.fill("password", EMPLOYEE_PASSWORD).await;
    employee.submit("form[action='/portal'] button").await;
    let text = employee.text().await;
    assert!(
        text.contains("Konto zwroblewska jest aktywne"),
        "signed in as an active user: {text}"
    );

    // The deputy is told by e-mail and in the panel; the director reads the history and the
    // forms.
    let notice = eventually(Duration::from_secs(60), "the activation notice", || async {
        system
            .smtp
            .messages()
            .into_iter()
            .find(|m| String::from_utf8_lossy(m).contains("m.wojcik@sp7.edu.krakow.pl"))
    })
    .await;
    let notice = MessageParser::default().parse(&notice).unwrap();
    assert_eq!(
        notice.subject(),
        Some("Konto ZSZO zwroblewska jest aktywne")
    );
    let body = notice.body_text(0).unwrap().to_string();
    for title in [
        "F-02 Upoważnienie pracownika do przetwarzania danych osobowych",
        "F-03 Ewidencja osób upoważnionych do przetwarzania danych osobowych",
        "F-04 Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych",
        "nie przesyła się ich do Wydziału",
    ] {
        assert!(body.contains(title), "{title} in: {body}");
    }
    deputy.open(&format!("{console}/panel")).await;
    let text = deputy.text().await;
    assert!(
        text.contains("Nowe konta są aktywne") && text.contains("Żaneta Wróblewska (zwroblewska)"),
        "{text}"
    );
    director.open(&format!("{console}{card}")).await;
    let text = director.text().await;
    for step in [
        "Utworzenie konta",
        "Nadanie uprawnienia",
        "Wydruk arkusza przekazania danych dostępowych",
        "Pierwsze logowanie w Portalu Dostępowym",
        "Zmiana hasła",
        "Podanie adresu e-mail",
        "Potwierdzenie adresu e-mail",
        "Aktywacja konta",
        "F-02 Upoważnienie pracownika do przetwarzania danych osobowych",
        "F-03 Ewidencja osób upoważnionych do przetwarzania danych osobowych",
        "F-04 Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych",
    ] {
        assert!(text.contains(step), "{step}: {text}");
    }
    assert_accessible(&director, "the employee's card").await;
    director.screenshot("panel-karta-pracownika-historia").await;
    pages.push(director.source().await);
    let f02 = get_as(&director, &format!("{console}{card}/f-02.pdf")).await;
    assert_eq!(f02.headers()["content-type"], "application/pdf");
    let f02 = pdf_text("f-02", &f02.bytes().await.unwrap());
    for expected in [
        "Żaneta Wróblewska",
        "zwroblewska",
        "Dziennik elektroniczny – nauczyciel",
        "Arkusz organizacyjny – podgląd",
    ] {
        assert!(f02.contains(expected), "{expected} in F-02: {f02}");
    }
    let f03 = get_as(&director, &format!("{console}{card}/f-03.csv")).await;
    let f03 = f03.text().await.unwrap();
    assert!(
        f03.contains("\"Żaneta Wróblewska\";\"nauczycielka języka polskiego\";\"zwroblewska\""),
        "{f03}"
    );

    // audit's report of accounts created works from what creation published.
    let created = eventually(
        Duration::from_secs(20),
        "audit to record the creation",
        || async {
            let found = system
                .audit_events("event_type=accounts.account.created&institution_rspo_id=12345")
                .await;
            (!found.is_empty()).then_some(found)
        },
    )
    .await;
    assert_eq!(created[0]["actor_id"], "mwojcik");

    // The director withdraws the deputy: refused at once.
    director
        .open(&format!("{console}/panel/administratorzy"))
        .await;
    director
        .submit("form[action='/panel/administratorzy/mwojcik/odwolaj'] button")
        .await;
    assert!(
        director
            .text()
            .await
            .contains("Odwołano upoważnienie mwojcik")
    );
    deputy.open(&format!("{console}/panel")).await;
    let text = deputy.text().await;
    assert!(
        text.contains("Brak uprawnień") && text.contains("administratora lokalnego"),
        "{text}"
    );
    assert_accessible(&deputy, "the refusal").await;
    deputy.screenshot("panel-odmowa-odwolany").await;

    // The starting password is nowhere but on the sheet given once.
    let all = everything(&system).await;
    assert!(
        !holds(&all, &starting),
        "the starting password in a database, stream or log"
    );
    for page in &pages {
        assert!(!page.contains(&starting));
    }
}

#[tokio::test]
async fn no_one_but_a_local_administrator_sees_the_panel_and_never_another_institutions_staff() {
    let system = system().await;
    let console = system.url("console");
    let admin = Browser::start(true).await;
    sign_in(&admin, &system, "admin.ek04").await;
    admin.open(&format!("{console}/panel")).await;
    let text = admin.text().await;
    assert!(
        text.contains("Brak uprawnień") && text.contains("tylko dla administratora lokalnego"),
        "{text}"
    );
    assert_accessible(&admin, "the panel refused").await;

    // The panel works without JavaScript: the search, the row's menu, "Utwórz konto".
    let director = Browser::start(false).await;
    sign_in(&director, &system, "jkowalski").await;
    director.fill("q", "SLIWINSKI").await;
    director.submit("form[action='/panel'] button").await;
    assert!(director.text().await.contains("Śliwiński"));
    director.click("details.row-menu summary").await;
    director.submit("details.row-menu a[href$='/konto']").await;
    assert!(
        director
            .text()
            .await
            .contains("Utwórz konto ZSZO: Grzegorz Śliwiński")
    );
    director.screenshot("panel-utworz-konto-bez-js").await;
    // Ewelina Wróbel works at another institution: her card is not found from SP 7.
    let pool = crate::helpers::pool_of(&system, "accounts").await;
    let other: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM staff_members WHERE institution_rspo_id = '23456' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    director
        .open(&format!("{console}/panel/pracownicy/{other}"))
        .await;
    let text = director.text().await;
    assert!(
        text.contains("Nie ma takiego pracownika") && !text.contains("Wróbel"),
        "{text}"
    );
    let created = post_as(
        &director,
        &format!("{console}/panel/pracownicy/{other}/konto"),
        &[],
    )
    .await;
    assert!(
        created
            .text()
            .await
            .unwrap()
            .contains("Nie ma takiego pracownika")
    );
    let accounts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE created_by IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(accounts, 0, "nothing created");
    director.screenshot("panel-odmowa-inna-placowka").await;
}
