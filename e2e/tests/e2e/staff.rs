//! The department's staff sign in with a password and a one-time code; every failure gets
//! the same answer, repeated failures are stopped and reported to audit as an incident.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::system::STAFF_PASSWORD;
use test_support::{System, SystemOptions, eventually};

use crate::helpers::pool_of;

async fn sign_in(system: &System, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/auth/staff-login", system.url("accounts")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_sign_in_with_password_and_code_and_failures_are_alike_limited_and_audited() {
    let system = System::start(SystemOptions::default()).await;
    let token = system.staff_token("admin.ek04").await;
    assert!(token.starts_with("kt1."));
    let stored: String =
        sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE login = 'admin.ek04'")
            .fetch_one(&pool_of(&system, "accounts").await)
            .await
            .unwrap();
    assert!(
        stored.starts_with("v1:") && !stored.contains(&system.totp_secrets["admin.ek04"]),
        "the TOTP secret is stored encrypted: {stored}"
    );

    let (wrong_password, a) = sign_in(
        &system,
        json!({ "login": "admin.ek04", "password": "nie-to-haslo", "totp": "123456" }),
    )
    .await;
    let (unknown, b) = sign_in(
        &system,
        json!({ "login": "nikt", "password": STAFF_PASSWORD, "totp": "123456" }),
    )
    .await;
    let (no_code, c) = sign_in(
        &system,
        json!({ "login": "admin.ek04", "password": STAFF_PASSWORD }),
    )
    .await;
    assert_eq!((wrong_password, unknown, no_code), (401, 401, 401));
    assert_eq!(
        a["detail"], b["detail"],
        "an unknown login is told the same as a wrong password"
    );
    assert_eq!(a["detail"], c["detail"]);
    // A TOTP code works once: the same code again (replayed, or seen over a shoulder) is
    // refused like a wrong one.
    let code = system.totp_code("operator.ek04");
    let once = json!({ "login": "operator.ek04", "password": STAFF_PASSWORD, "totp": code });
    let (first, _) = sign_in(&system, once.clone()).await;
    let (again, replayed) = sign_in(&system, once).await;
    assert_eq!((first, again), (200, 401));
    assert_eq!(replayed["detail"], a["detail"]);

    let (user, _) = sign_in(
        &system,
        json!({ "login": "lzak", "password": STAFF_PASSWORD, "totp": "000000" }),
    )
    .await;
    assert_eq!(user, 401, "a school user is not staff");

    // Two failures for admin.ek04 so far; three more reach the limit of five, after which
    // even the right password and code are refused for a while.
    for _ in 0..3 {
        sign_in(
            &system,
            json!({ "login": "admin.ek04", "password": "zle", "totp": "000000" }),
        )
        .await;
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/auth/staff-login", system.url("accounts")))
        .json(&json!({ "login": "admin.ek04", "password": STAFF_PASSWORD, "totp": "000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("spróbuj ponownie"),
        "{body}"
    );

    let incidents = eventually(
        Duration::from_secs(20),
        "audit to open an incident",
        || async {
            let list = system
                .audit_get("/api/incidents?category=repeated_failed_logins")
                .await;
            let list = list["incidents"].as_array()?.clone();
            (!list.is_empty()).then_some(list)
        },
    )
    .await;
    assert_eq!(incidents[0]["subject_login"], "admin.ek04");
    assert!(
        system
            .audit_events("event_type=accounts.login.failed")
            .await
            .len()
            >= 5
    );
}
