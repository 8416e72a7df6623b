//! An administrator takes a verified case from the queue and realises it: accounts issues a
//! new starting password (hash only, must change, expiring), sealed to delivery; SEOD hears
//! `taken` and `realised`; audit registers the loss of the starting password as an incident.
//! The password itself appears nowhere in plaintext: not in any database, stream or log.

use std::time::Duration;

use contracts::seod_status::CaseStatus;
use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{
    call, everything, get, holds, pool_of, receive, statuses_until, submit_zszo, zszo_form,
};

async fn post(system: &System, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    call(system, "intake", token, path, body).await
}

/// A registered case accounts has verified.
async fn verified_case(system: &System, document_id: &str) -> String {
    let case = submit_zszo(system, &zszo_form(document_id))
        .await
        .case_number
        .unwrap();
    crate::helpers::verified(system, &case).await;
    case
}

#[tokio::test]
async fn an_administrator_realises_a_case_and_the_starting_password_is_nowhere_in_plaintext() {
    let system = System::start(SystemOptions::default()).await;
    let case = verified_case(&system, "SEOD-REAL-1").await;
    let path = |action: &str| format!("/api/cases/{case}/{action}");

    let (status, _) = post(&system, None, &path("take"), json!({})).await;
    assert_eq!(status, 401, "nothing that changes anything is anonymous");
    let operator = system.staff_token("operator.ek04").await;
    let (status, body) = post(&system, Some(&operator), &path("take"), json!({})).await;
    assert_eq!(status, 403, "{body}");

    let admin = system.staff_token("admin.ek04").await;
    let (_, queue) = get(&system, "intake", Some(&admin), "/api/queue").await;
    assert!(
        queue["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["case_number"] == case.as_str())
    );

    let (status, body) = post(&system, Some(&admin), &path("realise"), json!({})).await;
    assert_eq!(status, 409, "a case is taken before it is realised: {body}");
    let (status, body) = post(&system, Some(&admin), &path("take"), json!({})).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = post(&system, Some(&admin), &path("take"), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("admin.ek04"));
    let (status, body) = post(
        &system,
        Some(&admin),
        &path("realise"),
        json!({ "delivery": "by-pigeon" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = post(
        &system,
        Some(&admin),
        &path("realise"),
        json!({ "delivery": "electronic" }),
    )
    .await;
    assert_eq!(status, 202, "{body}");

    let statuses = statuses_until(
        &system,
        "SEOD-REAL-1",
        CaseStatus::Realised,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        &statuses[..3],
        [
            CaseStatus::Registered,
            CaseStatus::Taken,
            CaseStatus::Realised
        ]
    );

    let accounts = pool_of(&system, "accounts").await;
    let (hash, must_change, expires): (String, bool, String) = sqlx::query_as(
        "SELECT password_hash, must_change, (starting_expires_at - now())::text FROM accounts WHERE login = 'lzak'",
    )
    .fetch_one(&accounts)
    .await
    .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(must_change);
    assert!(
        expires.starts_with("6 days") || expires.starts_with("7 days"),
        "{expires}"
    );

    // The sealed credentials open with delivery's key only; their password is what we look for.
    let issued = eventually(
        Duration::from_secs(20),
        "audit to record the issue",
        || async {
            system
                .audit_events("event_type=accounts.credential.issued")
                .await
                .into_iter()
                .next()
        },
    )
    .await;
    // The announcement everyone reads carries no sealed copy; the letter brings the password.
    assert!(
        issued["body"]["data"].get("sealed_credentials").is_none()
            || issued["body"]["data"]["sealed_credentials"] == "[removed]"
    );
    let received = receive(&system, &case, "sp7@edu.krakow.pl", "48600100200").await;
    let password = received.starting_password.clone();
    assert_eq!(received.login, "lzak");
    assert_eq!(password.chars().count(), 14);

    let incidents: Value = eventually(Duration::from_secs(20), "the incident", || async {
        let body = system
            .audit_get(&format!(
                "/api/incidents?case_number={}",
                case.replace('/', "%2F")
            ))
            .await;
        (!body["incidents"].as_array()?.is_empty()).then_some(body)
    })
    .await;
    assert_eq!(
        incidents["incidents"][0]["category"],
        "starting_password_loss"
    );

    // The user's first login: the starting password only lets him set his own.
    let (status, first) = portal(
        &system,
        None,
        "login",
        json!({ "login": "lzak", "password": password }),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["must_change"], true);
    let change_token = first["token"].as_str().unwrap().to_owned();
    let (status, _) = post(&system, Some(&change_token), &path("take"), json!({})).await;
    assert_eq!(
        status, 401,
        "a portal token is not for the staff's services"
    );
    for (bad, why) in [
        ("krotkie", "12 znaków"),
        ("lzak", "12 znaków"),
        (password.as_str(), "różnić się"),
    ] {
        let (status, body) = portal(
            &system,
            Some(&change_token),
            "password",
            json!({ "new_password": bad }),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, body) = portal(
        &system,
        Some(&change_token),
        "password",
        json!({ "new_password": "Moje-Wlasne-Haslo-2026" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, again) = portal(
        &system,
        None,
        "login",
        json!({ "login": "lzak", "password": "Moje-Wlasne-Haslo-2026" }),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["must_change"], false);
    let (status, _) = portal(
        &system,
        None,
        "login",
        json!({ "login": "lzak", "password": password }),
    )
    .await;
    assert_eq!(status, 401, "the starting password no longer works");
    let (wrong, a) = portal(
        &system,
        None,
        "login",
        json!({ "login": "lzak", "password": "zle-haslo-123" }),
    )
    .await;
    let (unknown, b) = portal(
        &system,
        None,
        "login",
        json!({ "login": "nikt", "password": "zle-haslo-123" }),
    )
    .await;
    assert_eq!((wrong, unknown), (401, 401));
    assert_eq!(a, b, "no account enumeration");
    eventually(
        Duration::from_secs(20),
        "audit to record the change",
        || async {
            (!system
                .audit_events("event_type=accounts.password.changed&login=lzak")
                .await
                .is_empty())
            .then_some(())
        },
    )
    .await;

    let haystack = everything(&system).await;
    assert!(
        !holds(&haystack, &password),
        "the password is in a database, a stream or a log"
    );
}

async fn portal(system: &System, token: Option<&str>, action: &str, body: Value) -> (u16, Value) {
    call(
        system,
        "accounts",
        token,
        &format!("/api/portal/{action}"),
        body,
    )
    .await
}

#[tokio::test]
async fn an_expired_starting_password_no_longer_opens_the_portal() {
    let system = System::start(SystemOptions::default()).await;
    let case = verified_case(&system, "SEOD-EXP-1").await;
    let admin = system.staff_token("admin.ek04").await;
    post(
        &system,
        Some(&admin),
        &format!("/api/cases/{case}/take"),
        json!({}),
    )
    .await;
    post(
        &system,
        Some(&admin),
        &format!("/api/cases/{case}/realise"),
        json!({}),
    )
    .await;
    let accounts = pool_of(&system, "accounts").await;
    eventually(
        Duration::from_secs(20),
        "the new starting password",
        || async {
            let must: bool =
                sqlx::query_scalar("SELECT must_change FROM accounts WHERE login = 'lzak'")
                    .fetch_one(&accounts)
                    .await
                    .ok()?;
            must.then_some(())
        },
    )
    .await;
    let received = receive(&system, &case, "sp7@edu.krakow.pl", "48600100200").await;
    sqlx::query("UPDATE accounts SET starting_expires_at = now() - interval '1 minute' WHERE login = 'lzak'")
        .execute(&accounts)
        .await
        .unwrap();
    let (status, body) = portal(
        &system,
        None,
        "login",
        json!({ "login": "lzak", "password": received.starting_password }),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("wygasło"));
}

#[tokio::test]
async fn the_optional_policy_realises_a_verified_seod_request_itself_and_says_so() {
    let overlay = test_support::scratch_dir("policy").join("intake.yaml");
    std::fs::write(
        &overlay,
        "intake:\n  auto_realise:\n    enabled: true\n    procedures: [ZSZO-05]\n    delivery: electronic\n",
    )
    .unwrap();
    let mut options = SystemOptions::default();
    options.env.insert(
        "KLUCZNIK_CONFIG_FILE".into(),
        overlay.to_string_lossy().into_owned(),
    );
    let system = System::start(options).await;
    let case = submit_zszo(&system, &zszo_form("SEOD-AUTO-1"))
        .await
        .case_number
        .unwrap();
    let statuses = statuses_until(
        &system,
        "SEOD-AUTO-1",
        CaseStatus::Closed,
        Duration::from_secs(60),
    )
    .await;
    assert!(statuses.contains(&CaseStatus::Taken) && statuses.contains(&CaseStatus::Realised));
    let taken = system
        .audit_events(&format!(
            "case_number={}&event_type=intake.case.taken",
            case.replace('/', "%2F")
        ))
        .await;
    assert_eq!(taken[0]["actor_id"], "automatic-policy");
    assert_eq!(taken[0]["actor_kind"], "system");
}
