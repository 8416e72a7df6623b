//! Tokens name their audience and key; a token of an ended session (sign-out, a locked
//! account) stops working in every service at once, not at its expiry.

use std::time::Duration;

use serde_json::json;
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{call, get};

/// Waits until `service` refuses `token` with 401 on a GET of `path`.
async fn refused_soon(system: &System, service: &str, token: &str, path: &str) {
    eventually(
        Duration::from_secs(10),
        "the token to be refused",
        || async {
            let (status, _) = get(system, service, Some(token), path).await;
            (status == 401).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_signed_out_or_locked_staff_members_token_stops_working_at_once_everywhere() {
    let system = System::start(SystemOptions::default()).await;
    let operator = system.staff_token("operator.ek04").await;
    let auditor = system.auditor_token().await;
    assert_eq!(
        get(&system, "intake", Some(&operator), "/api/queue")
            .await
            .0,
        200
    );
    assert_eq!(
        get(&system, "delivery", Some(&operator), "/api/collections")
            .await
            .0,
        200
    );
    assert_eq!(
        get(&system, "audit", Some(&auditor), "/api/events?limit=1")
            .await
            .0,
        200
    );

    // The operator signs out: the token he still holds is refused by intake and delivery.
    let (status, body) = call(
        &system,
        "accounts",
        Some(&operator),
        "/api/auth/sign-out",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    refused_soon(&system, "intake", &operator, "/api/queue").await;
    refused_soon(&system, "delivery", &operator, "/api/collections").await;
    let (_, problem) = get(&system, "intake", Some(&operator), "/api/queue").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("zakończona"),
        "{problem}"
    );

    // The auditor's account is locked: his token stops working, and he cannot sign in.
    let out = system.accounts_admin(&["set-status", "audytor", "locked"]);
    assert!(out.contains("zakończono sesji: 1"), "{out}");
    refused_soon(&system, "audit", &auditor, "/api/events?limit=1").await;
    let code = system.totp_code("audytor");
    let (status, _) = call(
        &system,
        "accounts",
        None,
        "/api/auth/staff-login",
        json!({ "login": "audytor", "password": test_support::system::STAFF_PASSWORD, "totp": code }),
    )
    .await;
    assert_eq!(status, 401, "a locked account does not sign in");
    // Others are not affected.
    let admin = system.staff_token("admin.ek04").await;
    assert_eq!(
        get(&system, "intake", Some(&admin), "/api/queue").await.0,
        200
    );
}

#[tokio::test]
async fn a_token_signed_by_the_previous_key_is_accepted_after_a_rotation_and_a_strangers_is_not() {
    let previous = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut options = SystemOptions::default();
    options.env.insert(
        "KLUCZNIK_AUTH__PREVIOUS_PUBLIC_KEYS".into(),
        hex::encode(previous.verifying_key().as_bytes()),
    );
    let system = System::start(options).await;
    let signed_by = |key: &ed25519_dalek::SigningKey| {
        let now = kit::clock::Clock::now(&kit::clock::SystemClock).timestamp();
        kit::auth::sign(
            key,
            &kit::auth::Claims {
                sub: "admin.ek04".into(),
                role: kit::auth::Role::Administrator,
                institution: None,
                iat: now,
                exp: now + 600,
                sid: uuid::Uuid::now_v7().to_string(),
                aud: kit::auth::Audience::Staff,
                kid: String::new(),
                processing: false,
            },
        )
    };
    let (status, _) = get(&system, "intake", Some(&signed_by(&previous)), "/api/queue").await;
    assert_eq!(status, 200, "tokens signed before the rotation still work");
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[10; 32]);
    let (status, _) = get(&system, "intake", Some(&signed_by(&stranger)), "/api/queue").await;
    assert_eq!(status, 401);
}
