//! Faults: bad configuration, unreachable dependencies, SIGTERM and SIGKILL.

use std::collections::BTreeMap;
use std::time::Duration;

use contracts::seod_status::CaseStatus;
use contracts::subjects;
use test_support::system::service_env;
use test_support::{
    NatsServer, ServiceProcess, System, SystemOptions, TestDatabase, eventually, free_port,
};

use crate::helpers::{count, pool_of, zszo_form_for};

/// Runs intake with `change` applied to a working environment and returns its exit
/// status and output.
async fn intake_exit(change: impl FnOnce(&mut BTreeMap<String, String>)) -> (i32, String) {
    let nats = NatsServer::start();
    let db = TestDatabase::create("intake").await;
    let mut env = service_env("intake", &nats, &db, &SystemOptions::default());
    change(&mut env);
    let logs = test_support::scratch_dir("faults");
    let port = env["KLUCZNIK_HTTP__PORT"].parse().unwrap();
    let mut process = ServiceProcess::spawn("intake", port, env, &logs);
    let status = process
        .wait_exit(Duration::from_secs(20))
        .expect("intake exits on its own");
    (status.code().unwrap_or(-1), process.log_text())
}

#[tokio::test]
async fn an_unreachable_nats_at_start_up_is_named_and_exits_non_zero() {
    let closed = free_port();
    let (code, log) = intake_exit(|env| {
        env.insert(
            "KLUCZNIK_NATS__URL".into(),
            format!("nats://127.0.0.1:{closed}"),
        );
    })
    .await;
    assert_ne!(code, 0);
    assert!(
        log.contains(&format!(
            "cannot connect to NATS at nats://127.0.0.1:{closed}"
        )),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test]
async fn an_unreachable_database_at_start_up_is_named_and_exits_non_zero() {
    let closed = free_port();
    let (code, log) = intake_exit(|env| {
        env.insert("KLUCZNIK_DATABASE__PORT".into(), closed.to_string());
    })
    .await;
    assert_ne!(code, 0);
    assert!(
        log.contains("cannot connect to the database postgres://"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test]
async fn bad_configuration_is_named_and_exits_non_zero() {
    let (code, log) = intake_exit(|env| {
        env.insert("KLUCZNIK_CONSUMER__MAX_DELIVER".into(), "often".into());
    })
    .await;
    assert_eq!(code, 2);
    assert!(
        log.contains("configuration is invalid") && log.contains("max_deliver"),
        "{log}"
    );

    let (code, log) = intake_exit(|env| {
        env.insert("KLUCZNIK_DATABASE__SSL_MODE".into(), "sometimes".into());
    })
    .await;
    assert_eq!(code, 2);
    assert!(log.contains("ssl_mode"), "{log}");

    let (code, log) = intake_exit(|env| {
        env.insert(
            "KLUCZNIK_DATABASE__PASSWORD_FILE".into(),
            "/nonexistent/secret".into(),
        );
    })
    .await;
    assert_ne!(code, 0);
    assert!(log.contains("/nonexistent/secret"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test]
async fn sigterm_stops_every_service_cleanly_with_exit_status_zero() {
    let mut system = System::start(SystemOptions::default()).await;
    for name in test_support::system::SERVICES {
        let service = system.service(name);
        let status = service
            .terminate(Duration::from_secs(15))
            .expect("stops within 15 s");
        assert!(
            status.success(),
            "{name} exited with {status}:\n{}",
            service.log_text()
        );
        assert!(
            service.log_text().contains("stopped"),
            "{name} logs its stop"
        );
    }
}

#[tokio::test]
async fn intake_killed_and_restarted_registers_every_pending_form_exactly_once() {
    let mut system = System::start(SystemOptions::default()).await;
    const FORMS: usize = 30;
    let js = async_nats::jetstream::new(system.client().await);
    let publish = |i: usize| {
        let js = js.clone();
        async move {
            let id = format!("SEOD-KILL-{i}");
            js.send_publish(
                subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
                async_nats::jetstream::message::PublishMessage::build()
                    .payload(zszo_form_for(&id, i + 1).to_string().into())
                    .message_id(&id),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };
    let intake = pool_of(&system, "intake").await;
    for i in 0..FORMS / 2 {
        publish(i).await;
    }
    // Kill intake while it works through the first half, then send the rest while it is down.
    eventually(
        Duration::from_secs(15),
        "intake to start on the forms",
        || async { (count(&intake, "SELECT count(*) FROM cases").await > 0).then_some(()) },
    )
    .await;
    system.service("intake").kill();
    system.service("audit").kill();
    for i in FORMS / 2..FORMS {
        publish(i).await;
    }
    system.service("intake").start();
    system
        .service("intake")
        .wait_ready(Duration::from_secs(30))
        .await;
    system.service("audit").start();
    system
        .service("audit")
        .wait_ready(Duration::from_secs(30))
        .await;

    eventually(
        Duration::from_secs(30),
        "every form to become a case",
        || async {
            (count(&intake, "SELECT count(*) FROM cases").await == FORMS as i64).then_some(())
        },
    )
    .await;
    let distinct = count(&intake, "SELECT count(DISTINCT case_number) FROM cases").await;
    assert_eq!(distinct, FORMS as i64);
    let highest: String = sqlx::query_scalar("SELECT max(case_number) FROM cases")
        .fetch_one(&intake)
        .await
        .unwrap();
    assert!(
        highest.ends_with(&format!("/{FORMS:06}")),
        "numbers have no gaps: {highest}"
    );

    eventually(
        Duration::from_secs(30),
        "audit to record every case once",
        || async {
            let recorded = system
                .audit_events("event_type=intake.case.registered")
                .await
                .len();
            assert!(recorded <= FORMS, "audit recorded {recorded} > {FORMS}");
            (recorded == FORMS).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // past ack_wait: any redelivery has happened
    assert_eq!(
        system
            .audit_events("event_type=intake.case.registered")
            .await
            .len(),
        FORMS
    );
    for i in [0, FORMS / 2 - 1, FORMS - 1] {
        let statuses = system.statuses(&format!("SEOD-KILL-{i}")).await;
        assert_eq!(
            statuses.len(),
            1,
            "one status for SEOD-KILL-{i}: {statuses:?}"
        );
        assert_eq!(statuses[0].status, CaseStatus::Registered);
    }
    let outbox_pending = count(
        &intake,
        "SELECT count(*) FROM kit_outbox WHERE published_at IS NULL",
    )
    .await;
    assert_eq!(outbox_pending, 0, "everything committed was published");
}
