//! audit's sustained ingest rate (a backlog of events recorded into the hash chain) and
//! its verification rate.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use contracts::subjects;
use serde_json::json;
use test_support::system::{SystemOptions, service_env};
use test_support::{NatsServer, ServiceProcess, TestDatabase};

const EVENTS: usize = 50_000;

pub async fn run() {
    kit::main_support::install_crypto_provider();
    let nats = NatsServer::start();
    let db = TestDatabase::create("bench_audit").await;
    let pool = db.pool().await;
    let logs = test_support::scratch_dir("bench");
    let mut env = service_env("audit", &nats, &db, &SystemOptions::default());
    env.insert(
        "KLUCZNIK_AUDIT__CHECKPOINT_INTERVAL_SECS".into(),
        "3600".into(),
    );
    env.insert("RUST_LOG".into(), "warn".into());
    env.insert("KLUCZNIK_TELEMETRY__LOG_FORMAT".into(), "json".into());
    let port = env["KLUCZNIK_HTTP__PORT"].parse().unwrap();
    let mut audit = ServiceProcess::spawn_profile("audit", "release", port, env, &logs);
    audit.wait_ready(Duration::from_secs(60)).await;
    // Stop audit while the backlog is published, so the measure is audit's alone.
    audit.terminate(Duration::from_secs(20));

    let js = jetstream::new(nats.client().await);
    let published = Instant::now();
    let mut acks = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let id = uuid::Uuid::now_v7();
        let event = json!({
            "id": id, "type": subjects::INTAKE_CASE_REGISTERED, "version": 1,
            "occurred_at": "2026-11-23T10:00:00Z",
            "actor": { "kind": "seod", "id": "jkowalski", "role": "director" },
            "institution_rspo_id": "12345", "case_number": format!("ZSZO-05/2026/{i:06}"),
            "data": { "case_number": format!("ZSZO-05/2026/{i:06}"), "procedure": "ZSZO-05",
                      "document_id": format!("SEOD-{i}"), "institution_rspo_id": "12345",
                      "institution_name": "Szkoła Podstawowa nr 7", "requester_login": "jkowalski",
                      "target_login": "lzak", "rspo_email": "sp7@edu.krakow.pl",
                      "director_mobile": "48600100200", "delivery": "electronic",
                      "submitted_at": "2026-11-23T09:15:00Z" }
        });
        let ack = js
            .send_publish(
                subjects::INTAKE_CASE_REGISTERED,
                PublishMessage::build()
                    .payload(event.to_string().into())
                    .message_id(id.to_string()),
            )
            .await
            .unwrap();
        acks.push(ack);
        if acks.len() >= 1000 {
            for ack in acks.drain(..) {
                ack.await.unwrap();
            }
        }
    }
    for ack in acks {
        ack.await.unwrap();
    }
    println!(
        "audit: published a backlog of {EVENTS} events in {:.2} s",
        published.elapsed().as_secs_f64()
    );

    audit.start();
    audit.wait_ready(Duration::from_secs(60)).await;
    let started = Instant::now();
    let mut first: Option<(Instant, i64)> = None;
    loop {
        let head: i64 = sqlx::query_scalar("SELECT position FROM audit_chain_head")
            .fetch_one(&pool)
            .await
            .unwrap();
        if head > 0 && first.is_none() {
            first = Some((Instant::now(), head));
        }
        if head as usize >= EVENTS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "audit did not catch up in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (t0, n0) = first.unwrap();
    let rate = (EVENTS as i64 - n0) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "audit: ingest {rate:.0} events/s sustained ({EVENTS} events, hash chain and inbox included; aim >= 5000)"
    );

    let client = reqwest::Client::new();
    let verify_started = Instant::now();
    let report: serde_json::Value = client
        .get(format!("{}/verify", audit.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seconds = verify_started.elapsed().as_secs_f64();
    assert_eq!(report["valid"], true, "{report}");
    println!(
        "audit: verify {:.0} records/s ({} records in {seconds:.2} s; aim >= 100000)",
        report["records_checked"].as_f64().unwrap() / seconds,
        report["records_checked"]
    );
    audit.terminate(Duration::from_secs(20));
}
