//! `/healthz` and `/readyz` of every service, and what `/readyz` says when NATS is gone.

use std::time::Duration;

use test_support::system::SERVICES;
use test_support::{System, SystemOptions, eventually};

#[tokio::test]
async fn every_service_is_alive_and_ready_on_its_own_database_and_nats() {
    let system = System::start(SystemOptions::default()).await;
    for name in SERVICES {
        for path in ["healthz", "readyz"] {
            let response = reqwest::get(format!("{}/{path}", system.url(name)))
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{name} /{path}");
        }
    }
}

#[tokio::test]
async fn readyz_says_503_and_why_while_nats_is_down_and_recovers_after() {
    let mut system = System::start(SystemOptions::default()).await;
    system.nats.stop();
    let url = format!("{}/readyz", system.url("intake"));
    let body = eventually(
        Duration::from_secs(15),
        "intake to notice NATS is gone",
        || async {
            let response = reqwest::get(&url).await.ok()?;
            (response.status() == 503).then_some(())?;
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "the reason is a problem document"
            );
            response.json::<serde_json::Value>().await.ok()
        },
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("NATS"), "{body}");
    let alive = reqwest::get(format!("{}/healthz", system.url("intake")))
        .await
        .unwrap();
    assert_eq!(alive.status(), 200, "alive even when not ready");

    system.nats.restart();
    eventually(
        Duration::from_secs(30),
        "intake to be ready again",
        || async {
            let response = reqwest::get(&url).await.ok()?;
            (response.status() == 200).then_some(())
        },
    )
    .await;
}
