//! Two replicas of every service and of the console against the same bus and databases:
//! a person signed in at one console replica is signed in at the other (the sessions live
//! in the console's database), and signed out of both at once.

use test_support::{System, SystemOptions};

use crate::browser::Browser;
use crate::console::sign_in;
use crate::helpers::{submit_zszo, zszo_form};

#[tokio::test]
async fn a_session_begun_at_one_console_replica_goes_on_at_the_other() {
    let system = System::start(SystemOptions {
        console: true,
        replicas: 2,
        ..Default::default()
    })
    .await;
    let consoles = system.urls("console");
    assert_eq!(consoles.len(), 2);
    // The console signs in with a TOTP code, accepted once: nothing else signs admin.ek04 in.
    let status = submit_zszo(&system, &zszo_form("SEOD-REPLICAS-1")).await;
    let case = status.case_number.expect("a case");

    let browser = Browser::start(false).await;
    sign_in(&browser, &system, "admin.ek04").await;
    // Cookies are per host, not per port: the other replica gets the same session cookie.
    browser.open(&format!("{}/kolejka", consoles[1])).await;
    assert_eq!(
        browser.path().await,
        "/kolejka",
        "not sent to sign in again"
    );
    let text = browser.text().await;
    assert!(text.contains("Zalogowano: admin.ek04"), "{text}");
    let path = format!("/sprawy/{case}");
    browser.open(&format!("{}{path}", consoles[1])).await;
    let text = browser.text().await;
    assert!(text.contains(&case), "{text}");
    // Signed out at one, signed out at both.
    browser.open(&format!("{}/kolejka", consoles[0])).await;
    browser.submit("form[action='/wyloguj'] button").await;
    browser.open(&format!("{}/kolejka", consoles[1])).await;
    assert_eq!(
        browser.path().await,
        "/zaloguj",
        "the session ended everywhere"
    );
}
