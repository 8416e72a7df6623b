//! The outbox relay and the consumer against a real nats-server and PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use contracts::streams::{self, consumers};
use contracts::subjects;
use futures::StreamExt;
use kit::consumer::{Consumer, HandleError, Handler, Incoming};
use kit::outbox::{Relay, outbox_insert};
use kit::settings::{ConsumerSettings, OutboxSettings};
use sqlx::{PgConnection, PgPool};
use test_support::{NatsServer, TestDatabase, eventually};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

async fn setup() -> (NatsServer, TestDatabase, PgPool, jetstream::Context) {
    let nats = NatsServer::start();
    let db = TestDatabase::create("kit").await;
    let pool = db.pool().await;
    kit::db::migrate(&pool, &NO_MIGRATIONS).await.unwrap();
    let js = jetstream::new(nats.client().await);
    for spec in [streams::INTAKE, streams::DEAD_LETTER] {
        kit::nats::ensure_stream(&js, &spec, 1).await.unwrap();
    }
    (nats, db, pool, js)
}

async fn read_all(js: &jetstream::Context, stream: &str) -> Vec<jetstream::Message> {
    let stream = js.get_stream(stream).await.unwrap();
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    while let Ok(Some(Ok(m))) =
        tokio::time::timeout(Duration::from_millis(300), messages.next()).await
    {
        out.push(m);
    }
    out
}

#[tokio::test]
async fn the_relay_publishes_committed_rows_once_with_their_id_and_never_rolled_back_ones() {
    let (_nats, _db, pool, js) = setup().await;
    let committed = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    outbox_insert(
        &mut tx,
        committed,
        subjects::INTAKE_CASE_REGISTERED,
        b"committed",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    outbox_insert(
        &mut tx,
        Uuid::now_v7(),
        subjects::INTAKE_CASE_REGISTERED,
        b"rolled back",
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();

    let relay = Relay::new(
        pool.clone(),
        js.clone(),
        Arc::new(Notify::new()),
        OutboxSettings {
            batch: 10,
            poll_interval_ms: 100,
        },
    );
    assert_eq!(relay.publish_batch().await.unwrap(), 1);
    assert_eq!(
        relay.publish_batch().await.unwrap(),
        0,
        "nothing is published twice"
    );

    // A relay that died after publishing but before marking the row publishes it again;
    // JetStream recognises the id and keeps one copy.
    sqlx::query("UPDATE kit_outbox SET published_at = NULL")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(relay.publish_batch().await.unwrap(), 1);

    let messages = read_all(&js, streams::INTAKE.name).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].payload.as_ref(), b"committed");
    let id = messages[0]
        .headers
        .as_ref()
        .unwrap()
        .get("Nats-Msg-Id")
        .unwrap()
        .as_str()
        .to_owned();
    assert_eq!(id, committed.to_string());
}

#[tokio::test]
async fn a_row_the_bus_refuses_is_set_aside_and_every_later_row_still_goes_out() {
    let (_nats, _db, pool, js) = setup().await;
    let too_large = Uuid::now_v7();
    let bad_subject = Uuid::now_v7();
    let normal = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    // An unbounded login in an event could make one larger than NATS's 1 MiB payload limit.
    let huge = vec![b'x'; 2 * 1024 * 1024];
    outbox_insert(&mut tx, too_large, subjects::INTAKE_CASE_REGISTERED, &huge)
        .await
        .unwrap();
    outbox_insert(&mut tx, bad_subject, "intake.case. registered", b"{}")
        .await
        .unwrap();
    outbox_insert(&mut tx, normal, subjects::INTAKE_CASE_REGISTERED, b"later")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let relay = Relay::new(
        pool.clone(),
        js.clone(),
        Arc::new(Notify::new()),
        OutboxSettings {
            batch: 10,
            poll_interval_ms: 100,
        },
    )
    .of_service("intake");
    assert_eq!(relay.publish_batch().await.unwrap(), 3);
    assert_eq!(
        relay.publish_batch().await.unwrap(),
        0,
        "nothing is retried"
    );

    let published = read_all(&js, streams::INTAKE.name).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].payload.as_ref(), b"later");
    let dead = read_all(&js, streams::DEAD_LETTER.name).await;
    assert_eq!(dead.len(), 2);
    for letter in &dead {
        assert_eq!(letter.subject.as_str(), "deadletter.intake.outbox");
        assert!(letter.payload.len() < 1024, "a dead letter stays small");
    }
    let reasons: Vec<Option<String>> =
        sqlx::query_scalar("SELECT set_aside FROM kit_outbox ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        reasons[0]
            .as_deref()
            .unwrap()
            .contains("larger than the bus takes")
    );
    assert!(
        reasons[1]
            .as_deref()
            .unwrap()
            .contains("not a valid NATS subject")
    );
    assert_eq!(reasons[2], None);
}

/// Succeeds, fails once, fails for good, or fails every time, by payload.
#[derive(Default)]
struct Scripted {
    calls: Mutex<HashMap<String, usize>>,
}

impl Handler for Scripted {
    type Error = HandleError;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        let body = String::from_utf8_lossy(&message.payload).into_owned();
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(body.clone()).or_default();
            *n += 1;
            *n
        };
        // The effect shares the inbox's transaction.
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        if body == "constraint" {
            // A NOT NULL violation: the same every time, so never worth a retry.
            sqlx::query("INSERT INTO kit_inbox (consumer) VALUES ('x')")
                .execute(&mut *conn)
                .await?;
        }
        match body.as_str() {
            "ok" | "seen" => Ok(()),
            "flaky" if n == 1 => Err(HandleError::Retryable("flaky: first try fails".into())),
            "flaky" => Ok(()),
            "bad" => Err(HandleError::Permanent("bad: cannot ever work".into())),
            _ => Err(HandleError::Retryable(
                "always: database unavailable".into(),
            )),
        }
    }
}

#[tokio::test]
async fn a_consumer_handles_each_message_once_retries_and_dead_letters_what_keeps_failing() {
    let (_nats, _db, pool, js) = setup().await;
    let settings = ConsumerSettings {
        max_deliver: 3,
        ack_wait_secs: 2,
        batch: 8,
        fetch_expires_ms: 200,
        retry_base_ms: 50,
    };
    let spec = consumers::ACCOUNTS_CASES;
    let metrics = Arc::new(kit::metrics::Metrics::new());
    metrics.watch(spec);
    let consumer = Consumer {
        spec,
        consumer: kit::nats::ensure_consumer(&js, &spec, &settings)
            .await
            .unwrap(),
        pool: pool.clone(),
        js: js.clone(),
        settings,
        outbox_wake: Arc::new(Notify::new()),
        metrics: metrics.clone(),
    };
    // "seen" was handled before (its id is in the inbox): it must not be handled again.
    sqlx::query("INSERT INTO kit_inbox (consumer, message_id, subject, stream_seq) VALUES ($1, 'id-seen', 's', 0)")
        .bind(spec.durable)
        .execute(&pool)
        .await
        .unwrap();
    for body in ["ok", "flaky", "bad", "always", "seen", "constraint"] {
        js.send_publish(
            subjects::INTAKE_CASE_REGISTERED,
            PublishMessage::build()
                .payload(body.into())
                .message_id(format!("id-{body}")),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let handler = Arc::new(Scripted::default());
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(Arc::clone(&handler), stop.clone()));

    let dead = eventually(Duration::from_secs(20), "three dead letters", || async {
        let dead = read_all(&js, streams::DEAD_LETTER.name).await;
        (dead.len() == 3).then_some(dead)
    })
    .await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the consumer stops when told")
        .unwrap();

    let calls = handler.calls.lock().unwrap().clone();
    assert_eq!(calls.get("ok"), Some(&1));
    assert_eq!(calls.get("flaky"), Some(&2));
    assert_eq!(
        calls.get("bad"),
        Some(&1),
        "a permanent failure is not retried"
    );
    assert_eq!(calls.get("always"), Some(&3), "retried up to max_deliver");
    assert_eq!(
        calls.get("constraint"),
        Some(&1),
        "a broken constraint is permanent, not retried"
    );
    assert_eq!(
        calls.get("seen"),
        None,
        "a message in the inbox is not handled again"
    );

    let mut errors: Vec<(String, String)> = dead
        .iter()
        .map(|m| {
            let h = m.headers.as_ref().unwrap();
            (
                m.subject.to_string(),
                h.get(subjects::headers::DEAD_LETTER_ERROR)
                    .unwrap()
                    .as_str()
                    .to_owned(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(errors[0].0, "deadletter.accounts.intake.case.registered");
    let said = |what: &str| errors.iter().any(|(_, e)| e.contains(what));
    assert!(said("database unavailable"), "{errors:?}");
    assert!(said("cannot ever work"), "{errors:?}");
    assert!(said("violates not-null constraint"), "{errors:?}");
    let payloads: Vec<&[u8]> = dead.iter().map(|m| m.payload.as_ref()).collect();
    assert!(payloads.contains(&b"bad".as_slice()) && payloads.contains(&b"always".as_slice()));

    let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM kit_inbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        handled, 3,
        "seen, ok and flaky are recorded; failures are not"
    );
    // An operator sees them counted, and nothing left waiting.
    let text = metrics.render(&pool, &js).await;
    assert!(
        text.contains("klucznik_dead_letters_total{consumer=\"accounts-cases\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("klucznik_consumer_pending{consumer=\"accounts-cases\"} 0"),
        "{text}"
    );
    assert!(text.contains("klucznik_outbox_backlog 0"), "{text}");
}

#[tokio::test]
async fn a_service_connects_to_nats_over_tls_only_when_it_trusts_the_servers_certificate() {
    kit::main_support::install_crypto_provider();
    let nats = test_support::nats::TlsNats::start().await;
    let settings = |ca: Option<std::path::PathBuf>| kit::settings::NatsSettings {
        url: nats.url.clone(),
        connect_timeout_secs: 3,
        stream_replicas: 1,
        nkey_seed: None,
        nkey_seed_file: None,
        tls_ca_file: ca,
        allow_anonymous: true,
    };
    let trusted = kit::nats::connect(&settings(Some(nats.ca.clone())), "intake").await;
    let client = trusted.expect("connects when it trusts the certificate");
    client.flush().await.expect("a round trip over TLS");
    let stranger = kit::nats::connect(&settings(None), "intake").await;
    assert!(
        stranger.is_err(),
        "a certificate no CA vouches for is refused"
    );
}

/// JetStream drops a repeated `Nats-Msg-Id` only within its duplicate window; a publisher
/// that repeats one later (an outbox relay back after a long outage, an operator replaying a
/// dead letter) gets it stored again. The inbox is what keeps it from being handled twice.
#[tokio::test]
async fn a_message_repeated_after_the_duplicate_window_is_still_handled_once() {
    let nats = NatsServer::start();
    let db = TestDatabase::create("kit").await;
    let pool = db.pool().await;
    kit::db::migrate(&pool, &NO_MIGRATIONS).await.unwrap();
    let js = jetstream::new(nats.client().await);
    let window = Duration::from_secs(1);
    for spec in [streams::INTAKE, streams::DEAD_LETTER] {
        js.delete_stream(spec.name).await.unwrap();
        let mut config = kit::nats::stream_config(&spec, 1);
        config.duplicate_window = window;
        js.create_stream(config).await.unwrap();
    }
    let settings = ConsumerSettings {
        max_deliver: 3,
        ack_wait_secs: 2,
        batch: 8,
        fetch_expires_ms: 200,
        retry_base_ms: 50,
    };
    let spec = consumers::ACCOUNTS_CASES;
    let consumer = Consumer {
        spec,
        consumer: kit::nats::ensure_consumer(&js, &spec, &settings)
            .await
            .unwrap(),
        pool: pool.clone(),
        js: js.clone(),
        settings,
        outbox_wake: Arc::new(Notify::new()),
        metrics: Arc::new(kit::metrics::Metrics::new()),
    };
    let handler = Arc::new(Scripted::default());
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(Arc::clone(&handler), stop.clone()));
    let publish = || async {
        js.send_publish(
            subjects::INTAKE_CASE_REGISTERED,
            PublishMessage::build()
                .payload("ok".into())
                .message_id("the-same-id"),
        )
        .await
        .unwrap()
        .await
        .unwrap()
    };
    let first = publish().await;
    let inside = publish().await;
    assert!(inside.duplicate, "within the window JetStream drops it");
    let handled = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM kit_inbox")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    eventually(Duration::from_secs(10), "the first handled", || async {
        (handled().await == 1).then_some(())
    })
    .await;
    tokio::time::sleep(window + Duration::from_millis(500)).await;
    let after = publish().await;
    assert!(
        !after.duplicate,
        "past the window JetStream stores it again"
    );
    assert!(after.sequence > first.sequence);
    eventually(
        Duration::from_secs(10),
        "the repeat acknowledged",
        || async {
            let stream = js.get_stream(streams::INTAKE.name).await.unwrap();
            let info = stream.consumer_info(spec.durable).await.unwrap();
            (info.ack_floor.stream_sequence >= after.sequence && info.num_ack_pending == 0)
                .then_some(())
        },
    )
    .await;
    // An operator's replay of it (`klucznikctl nats replay`): a new id, naming the original.
    let mut replay = async_nats::HeaderMap::new();
    replay.insert(subjects::headers::REPLAY_OF, "the-same-id");
    let replayed = js
        .send_publish(
            subjects::INTAKE_CASE_REGISTERED,
            PublishMessage::build()
                .payload("ok".into())
                .headers(replay)
                .message_id("replay:DEAD_LETTER:1"),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "the replay acknowledged",
        || async {
            let stream = js.get_stream(streams::INTAKE.name).await.unwrap();
            let info = stream.consumer_info(spec.durable).await.unwrap();
            (info.ack_floor.stream_sequence >= replayed.sequence && info.num_ack_pending == 0)
                .then_some(())
        },
    )
    .await;
    stop.cancel();
    running.await.unwrap();

    assert_eq!(
        handler.calls.lock().unwrap().get("ok"),
        Some(&1),
        "handled once: not again past the window, nor as a replay"
    );
    assert_eq!(handled().await, 1);
    assert!(
        read_all(&js, streams::DEAD_LETTER.name).await.is_empty(),
        "a repeat is not a failure"
    );
}
