//! The console in a real browser: a staff member signs in with password and TOTP, sees the
//! queue, and signs out; every page is accessible and works without JavaScript.

use std::time::Duration;

use test_support::system::STAFF_PASSWORD;
use test_support::{System, SystemOptions};

use crate::browser::Browser;
use crate::helpers::{submit_zszo, verified, zszo_form};

pub async fn system() -> System {
    System::start(SystemOptions {
        console: true,
        ..SystemOptions::default()
    })
    .await
}

pub async fn assert_accessible(browser: &Browser, page: &str) {
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{page}: {violations:?}");
    let unlabelled = browser.unlabelled_fields().await;
    assert!(
        unlabelled.is_empty(),
        "{page}: fields without a visible label: {unlabelled:?}"
    );
}

/// Waits until the next TOTP step, so the code typed now was not used by anyone yet.
pub async fn fresh_code(system: &System, login: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 30 > 25 {
        tokio::time::sleep(Duration::from_secs(30 - now % 30 + 1)).await;
    }
    system.totp_code(login)
}

/// The key the enrolment page (`/zaloguj/aplikacja`) shows, as the person's app reads it.
pub async fn enrolment_key(browser: &Browser) -> (String, Vec<u8>) {
    let secret: String = browser
        .client
        .find(fantoccini::Locator::Css(".secret code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    let key = kit::totp::base32_decode(&secret).expect("a base32 secret");
    (secret, key)
}

/// Signs `login` in at the console's sign-in page (password and a fresh TOTP code).
pub async fn sign_in(browser: &Browser, system: &System, login: &str) {
    browser
        .open(&format!("{}/zaloguj", system.url("console")))
        .await;
    browser.fill("login", login).await;
    browser.fill("password", STAFF_PASSWORD).await;
    browser.fill("totp", &fresh_code(system, login).await).await;
    browser.submit("form[action='/zaloguj'] button").await;
    let text = browser.text().await;
    assert!(text.contains(&format!("Zalogowano: {login}")), "{text}");
}

#[tokio::test]
async fn an_administrator_signs_in_with_totp_sees_the_queue_and_signs_out() {
    let system = system().await;
    let status = submit_zszo(&system, &zszo_form("SEOD-CONSOLE-1")).await;
    let case = status.case_number.expect("a case");
    verified(&system, &case).await;

    let console = system.url("console");
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        let suffix = if javascript { "" } else { "-bez-js" };
        browser.open(&format!("{console}/kolejka")).await;
        assert_eq!(
            browser.path().await,
            "/zaloguj",
            "the queue asks for a sign-in first"
        );
        assert!(browser.text().await.contains("Logowanie pracownika"));
        browser
            .screenshot(&format!("console-logowanie{suffix}"))
            .await;
        if javascript {
            assert_accessible(&browser, "sign-in").await;
        }

        // A wrong code: the form says so, keeps the login and forgets the password.
        browser.fill("login", "admin.ek04").await;
        browser.fill("password", STAFF_PASSWORD).await;
        browser.fill("totp", "12345").await;
        browser.submit("form[action='/zaloguj'] button").await;
        let text = browser.text().await;
        assert!(
            text.contains("Kod z aplikacji uwierzytelniającej ma 6 cyfr."),
            "{text}"
        );
        let login = browser
            .client
            .find(fantoccini::Locator::Id("login"))
            .await
            .unwrap();
        assert_eq!(
            login.prop("value").await.unwrap().as_deref(),
            Some("admin.ek04")
        );
        let password = browser
            .client
            .find(fantoccini::Locator::Id("password"))
            .await
            .unwrap();
        assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
        browser
            .screenshot(&format!("console-logowanie-blad{suffix}"))
            .await;
        if javascript {
            assert_accessible(&browser, "sign-in with an error").await;
        }

        browser.fill("password", STAFF_PASSWORD).await;
        browser
            .fill("totp", &fresh_code(&system, "admin.ek04").await)
            .await;
        browser.submit("form[action='/zaloguj'] button").await;
        assert_eq!(browser.path().await, "/kolejka");
        let text = browser.text().await;
        assert!(text.contains("Zalogowano: admin.ek04"), "{text}");
        assert!(text.contains(&case), "the verified case is listed: {text}");
        assert!(text.contains("Szkoła Podstawowa nr 7"), "{text}");
        browser
            .screenshot(&format!("console-kolejka{suffix}"))
            .await;
        if javascript {
            assert_accessible(&browser, "queue").await;
        }

        browser.submit("form[action='/wyloguj'] button").await;
        assert_eq!(browser.path().await, "/zaloguj");
        browser.open(&format!("{console}/kolejka")).await;
        assert_eq!(
            browser.path().await,
            "/zaloguj",
            "signed out, the queue is closed"
        );
        if javascript {
            // The next sign-in needs the next code: each is accepted once.
            tokio::time::sleep(Duration::from_secs(31)).await;
        }
    }
}

#[tokio::test]
async fn a_form_without_its_token_or_from_another_site_changes_nothing() {
    let system = system().await;
    let console = system.url("console");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = format!("login=admin.ek04&password={STAFF_PASSWORD}&totp=123456&csrf=zgadniety");
    let without_token = client
        .post(format!("{console}/zaloguj"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), 403);
    assert!(
        without_token
            .text()
            .await
            .unwrap()
            .contains("Formularz wygasł")
    );
    let cross_site = client
        .post(format!("{console}/zaloguj"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let page = client
        .get(format!("{console}/zaloguj"))
        .send()
        .await
        .unwrap();
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(headers["referrer-policy"], "same-origin");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}
