//! No request can stop a service: every field and body is bounded, sign-ins are throttled
//! before any hashing and counted atomically, hashing itself is bounded, and what was typed
//! as an unknown login is kept nowhere.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{everything, holds};

async fn sign_in(system: &System, path: &str, body: Value) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", system.url("accounts")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

const STAFF: &str = "/api/auth/staff-login";

/// Announces a sign-in body of `length` bytes and sends none of it: the refusal must come
/// from the announced length alone. (Sending it all races the server's answer: a server
/// that closes with the body unread resets the connection, and the answer may be lost.)
async fn announce_a_huge_body(system: &System, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(&system.url("accounts")).unwrap();
    let mut socket = tokio::net::TcpStream::connect((
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap(),
    ))
    .await
    .unwrap();
    let head = format!(
        "POST {STAFF} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n",
        url.host_str().unwrap()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // The server need not close: the answer is read as far as its head says it goes.
    let mut answer = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            answer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if answer.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
            assert!(n > 0, "closed before answering");
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer without reading the body");
    String::from_utf8_lossy(&answer).into_owned()
}
const PORTAL: &str = "/api/portal/login";

#[tokio::test]
async fn an_oversized_login_is_refused_clearly_and_later_events_still_go_out() {
    let system = System::start(SystemOptions::default()).await;
    let answer = announce_a_huge_body(&system, 1_100_000).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    let (status, _, problem) = sign_in(
        &system,
        STAFF,
        json!({ "login": "a".repeat(1000), "password": "x", "totp": "123456" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("`login`"),
        "{problem}"
    );

    // A normal failed sign-in afterwards is still announced and recorded.
    let (status, _, _) = sign_in(
        &system,
        STAFF,
        json!({ "login": "admin.ek04", "password": "zle-haslo", "totp": "123456" }),
    )
    .await;
    assert_eq!(status, 401);
    eventually(
        Duration::from_secs(20),
        "audit to record the failure",
        || async {
            let events = system
                .audit_events("event_type=accounts.login.failed&login=admin.ek04")
                .await;
            (!events.is_empty()).then_some(())
        },
    )
    .await;
    let (status, _) = crate::helpers::get(&system, "accounts", None, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn twenty_parallel_wrong_passwords_cannot_exceed_the_limit() {
    let system = System::start(SystemOptions::default()).await;
    let attempts = (0..20).map(|i| {
        sign_in(
            &system,
            STAFF,
            json!({ "login": "admin.ek04", "password": format!("zgadywane-{i}"), "totp": "123456" }),
        )
    });
    let answers = futures::future::join_all(attempts).await;
    let refused = answers.iter().filter(|(s, _, _)| *s == 401).count();
    let limited: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!(refused, 5, "five attempts get an answer: {answers:?}");
    assert_eq!(limited.len(), 15);
    assert!(
        limited.iter().all(|(_, retry, _)| retry.is_some()),
        "Retry-After on every 429"
    );
    // Only the attempts that were let through were checked and reported.
    let failures = eventually(
        Duration::from_secs(20),
        "five failures in audit",
        || async {
            let events = system
                .audit_events("event_type=accounts.login.failed&login=admin.ek04")
                .await;
            (events.len() >= 5).then_some(events)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(failures.len(), 5);
    // A growing delay, not a lock: the right password and code work again after it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let code = system.totp_code("admin.ek04");
    let (status, _, body) = sign_in(
        &system,
        STAFF,
        json!({ "login": "admin.ek04", "password": test_support::system::STAFF_PASSWORD, "totp": code }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_burst_of_sign_ins_is_told_to_come_back_and_the_service_stays_up() {
    let mut options = SystemOptions::default();
    options.env.insert(
        "KLUCZNIK_ACCOUNTS__SIGN_IN__MAX_CONCURRENT_HASHES".into(),
        "1".into(),
    );
    options.env.insert(
        "KLUCZNIK_ACCOUNTS__SIGN_IN__HASH_WAIT_MS".into(),
        "0".into(),
    );
    let system = System::start(options).await;
    let burst = (0..16).map(|i| {
        sign_in(
            &system,
            PORTAL,
            json!({ "login": format!("ktos{i}"), "password": "jakies-haslo-123" }),
        )
    });
    let answers = futures::future::join_all(burst).await;
    let busy: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(
        !busy.is_empty(),
        "one hash at a time: the rest are told to come back"
    );
    assert!(busy.iter().all(|(_, retry, _)| retry.is_some()));
    assert!(
        answers.iter().all(|(s, _, _)| [401, 503].contains(s)),
        "{answers:?}"
    );
    let (status, _) = crate::helpers::get(&system, "accounts", None, "/healthz").await;
    assert_eq!(status, 200);
    let (status, _, _) = sign_in(
        &system,
        PORTAL,
        json!({ "login": "ktos-potem", "password": "jakies-haslo-123" }),
    )
    .await;
    assert_eq!(status, 401, "answered normally once the burst is over");
}

#[tokio::test]
async fn a_password_typed_into_the_login_field_is_kept_nowhere() {
    let system = System::start(SystemOptions::default()).await;
    let typed = "Moje-Tajne-Haslo-2026";
    for path in [STAFF, PORTAL] {
        let (status, _, _) = sign_in(
            &system,
            path,
            json!({ "login": typed, "password": "cokolwiek", "totp": "123456" }),
        )
        .await;
        assert_eq!(status, 401);
    }
    let recorded = eventually(Duration::from_secs(20), "audit to record both", || async {
        let events = system
            .audit_events("event_type=accounts.login.failed")
            .await;
        (events.len() >= 2).then_some(events)
    })
    .await;
    let all = everything(&system).await;
    assert!(
        !holds(&all, typed) && !holds(&all, &typed.to_lowercase()),
        "what was typed is in no database, stream, file or log"
    );
    // The positive control: the keyed hash it was kept as is there, in the same places.
    let kept = recorded[0]["subject_login"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(kept.starts_with("nieznany:"), "{recorded:?}");
    assert!(holds(&all, &kept));
}
