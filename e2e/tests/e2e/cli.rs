//! klucznikctl against the running system.

use std::process::{Command, Output};

use contracts::permissions::Identity;
use test_support::process::binary_path;
use test_support::{System, SystemOptions, free_port};

/// Where klucznikctl finds the bus, and with which identity.
struct Bus {
    url: String,
    seed_file: Option<std::path::PathBuf>,
}

fn bus(system: &System) -> Bus {
    Bus {
        url: system.nats.url(),
        seed_file: Some(system.nats.seed_file(Identity::Klucznikctl)),
    }
}

fn klucznikctl(bus: &Bus, args: &[&str]) -> Output {
    let timeout: &[&str] = if args.contains(&"--timeout") {
        &[]
    } else {
        &["--timeout", "20"]
    };
    let mut command = Command::new(binary_path("klucznikctl"));
    if let Some(seed) = &bus.seed_file {
        command.env("KLUCZNIK_NATS__NKEY_SEED_FILE", seed);
    }
    command
        .env("KLUCZNIK_NATS__URL", &bus.url)
        .args(timeout)
        .args(args)
        .output()
        .expect("klucznikctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example(name: &str) -> String {
    test_support::workspace_root()
        .join("proto-schemas/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn klucznikctl_submits_a_form_prints_the_case_and_follows_its_status() {
    let system = System::start(SystemOptions::default()).await;
    let url = bus(&system);

    let out = klucznikctl(&url, &["submit", &example("zszo-password-reset.json")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let case = text(&out.stdout).trim().to_owned();
    assert!(
        case.starts_with("ZSZO-05/") && case.ends_with("/000001"),
        "{case}"
    );

    let out = klucznikctl(&url, &["status", &case]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("registered"));

    let out = klucznikctl(&url, &["--json", "status", &case]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["case_number"], case.as_str());

    let out = klucznikctl(&url, &["--timeout", "2", "watch", &case]);
    assert!(
        text(&out.stdout).contains("registered"),
        "watch shows the statuses so far"
    );

    let out = klucznikctl(&url, &["status", "ZSZO-05/2026/999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Nie ma sprawy"));
}

#[tokio::test]
async fn klucznikctl_verifies_the_audit_chain_and_exports_a_case_as_csv() {
    let system = System::start(SystemOptions::default()).await;
    let url = bus(&system);
    let audit = system.url("audit");
    let out = klucznikctl(&url, &["submit", &example("zszo-password-reset.json")]);
    let case = text(&out.stdout).trim().to_owned();
    test_support::eventually(
        std::time::Duration::from_secs(20),
        "audit to record the case",
        || async {
            (!system
                .audit_events(&format!(
                    "case_number={}&event_type=intake.case.registered",
                    case.replace('/', "%2F")
                ))
                .await
                .is_empty())
            .then_some(())
        },
    )
    .await;

    let out = klucznikctl(&url, &["audit", "--audit-url", &audit, "verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("nienaruszony"));

    let anonymous = klucznikctl(
        &url,
        &["audit", "--audit-url", &audit, "events", "--case", &case],
    );
    assert!(!anonymous.status.success());
    assert!(
        text(&anonymous.stderr).contains("token"),
        "{}",
        text(&anonymous.stderr)
    );
    let auditor = system.auditor_token().await;
    let out = klucznikctl(
        &url,
        &[
            "audit",
            "--audit-url",
            &audit,
            "--token",
            &auditor,
            "events",
            "--case",
            &case,
            "--csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.starts_with("position,"));
    assert!(csv.contains("intake.case.registered"));

    let file = test_support::scratch_dir("cli").join("checkpoint.json");
    let out = klucznikctl(
        &url,
        &[
            "audit",
            "--audit-url",
            &audit,
            "--token",
            &auditor,
            "checkpoint",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(saved["position"].as_i64().unwrap() >= 3);

    let out = klucznikctl(
        &url,
        &[
            "audit",
            "--audit-url",
            &audit,
            "--token",
            &auditor,
            "events",
            "--pesel",
            "123",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad PESEL is the user's error"
    );
    assert!(text(&out.stderr).contains("PESEL"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn klucznikctl_refuses_an_invalid_file_before_sending_and_reports_raw_rejections() {
    let system = System::start(SystemOptions::default()).await;
    let url = bus(&system);

    let out = klucznikctl(
        &url,
        &["submit", &example("zszo-password-reset-invalid-phone.json")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("contact.director_mobile"));

    let out = klucznikctl(
        &url,
        &[
            "submit",
            "--raw",
            &example("zszo-password-reset-invalid-phone.json"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("contact.director_mobile"));

    let garbage = test_support::scratch_dir("cli").join("garbage.json");
    std::fs::write(&garbage, b"\x00\x01 not a form").unwrap();
    let out = klucznikctl(&url, &["submit", "--raw", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("malformed_json"),
        "{}",
        text(&out.stdout)
    );

    let out = klucznikctl(&url, &["submit", "/nonexistent/form.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/form.json"));
}

#[test]
fn klucznikctl_says_clearly_when_nats_is_unreachable() {
    let url = Bus {
        url: format!("nats://127.0.0.1:{}", free_port()),
        seed_file: None,
    };
    let out = klucznikctl(&url, &["status", "ZSZO-05/2026/000001"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains(&url.url),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn klucznikctl_verifies_an_exported_segment_on_the_operators_machine_without_the_server() {
    let mut options = SystemOptions::default();
    options
        .env
        .insert("KLUCZNIK_AUDIT__RETENTION_DAYS".into(), "0".into());
    let system = System::start(options).await;
    let url = bus(&system);
    let audit = system.url("audit");
    klucznikctl(&url, &["submit", &example("zszo-password-reset.json")]);
    test_support::eventually(
        std::time::Duration::from_secs(20),
        "audit to record the form and its case",
        || async { (system.audit_events("limit=100").await.len() >= 4).then_some(()) },
    )
    .await;
    let dir = test_support::scratch_dir("offline");
    let checkpoint = dir.join("checkpoint.json");
    let auditor = system.auditor_token().await;
    let out = klucznikctl(
        &url,
        &[
            "audit",
            "--audit-url",
            &audit,
            "--token",
            &auditor,
            "checkpoint",
            "--out",
            checkpoint.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let segment = dir.join("segment.jsonl");
    let export = reqwest::Client::new()
        .get(format!("{audit}/api/retention/segment"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    std::fs::write(&segment, export.bytes().await.unwrap()).unwrap();

    let public_key = test_support::system::test_checkpoint_public_key();
    // Nothing listens at the audit address given: the verdict is this machine's own.
    let offline = |segment: &std::path::Path, key: &str| {
        klucznikctl(
            &url,
            &[
                "--json",
                "audit",
                "--audit-url",
                "http://127.0.0.1:9",
                "verify",
                "--segment",
                segment.to_str().unwrap(),
                "--checkpoint",
                checkpoint.to_str().unwrap(),
                "--public-key",
                key,
            ],
        )
    };
    let out = offline(&segment, &public_key);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["checkpoints_checked"], 1, "{report}");

    // A record altered in the file is named; a checkpoint under another key is refused.
    let original = std::fs::read_to_string(&segment).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    // The first record that names the procedure, wherever the streams' interleaving put it.
    let at = lines
        .iter()
        .position(|l| l.contains("ZSZO-05"))
        .expect("a record names the procedure");
    let position = serde_json::from_str::<serde_json::Value>(&lines[at]).unwrap()["position"]
        .as_i64()
        .unwrap();
    lines[at] = lines[at].replacen("ZSZO-05", "ZSZO-06", 1);
    let altered = dir.join("altered.jsonl");
    std::fs::write(&altered, lines.join("\n")).unwrap();
    let out = offline(&altered, &public_key);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["problem"]["kind"], "changed");
    assert_eq!(report["problem"]["position"], position);
    let another_key = test_support::system::test_accounts_public_key();
    let out = offline(&segment, &another_key);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["problem"]["kind"], "bad_signature", "{report}");
}

#[tokio::test]
async fn klucznikctl_reaches_a_tls_only_bus_only_through_the_ca_it_is_given() {
    let nats = test_support::nats::TlsNats::start().await;
    let bus = Bus {
        url: nats.url.clone(),
        seed_file: None,
    };
    let ca = nats.ca.to_string_lossy().into_owned();
    let trusted = klucznikctl(&bus, &["--nats-tls-ca-file", &ca, "nats", "provision"]);
    assert!(trusted.status.success(), "{}", text(&trusted.stderr));
    let stranger = klucznikctl(&bus, &["nats", "provision"]);
    assert!(!stranger.status.success());
    assert!(
        text(&stranger.stderr).contains("nie można połączyć się z NATS"),
        "{}",
        text(&stranger.stderr)
    );
    let missing = klucznikctl(
        &bus,
        &["--nats-tls-ca-file", "/brak/ca.crt", "nats", "provision"],
    );
    assert!(
        text(&missing.stderr).contains("nie ma pliku certyfikatu CA"),
        "{}",
        text(&missing.stderr)
    );
}

/// A poison message (a valid subject, a body no service can use) ends as one dead letter,
/// counted on `/metrics` and kept by audit; an operator lists it and replays it: the
/// consumer that gave up handles it again (here failing again: a second dead letter).
#[tokio::test]
async fn an_operator_lists_a_dead_letter_and_replays_it_to_the_consumer_that_gave_up() {
    let system = System::start(SystemOptions::default()).await;
    let provisioner = Bus {
        url: system.nats.url(),
        seed_file: Some(system.nats.seed_file(Identity::Provisioner)),
    };
    let js = async_nats::jetstream::new(system.client().await);
    js.send_publish(
        contracts::subjects::CREDENTIALS_SEALED,
        async_nats::jetstream::message::PublishMessage::build()
            .payload("to nie jest zdarzenie".into())
            .message_id("poison-1"),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let dead_letters = || async {
        test_support::stored(&js, "DEAD_LETTER", contracts::subjects::DEAD_LETTER_ALL).await
    };
    test_support::eventually(
        std::time::Duration::from_secs(20),
        "a dead letter",
        || async { (dead_letters().await.len() == 1).then_some(()) },
    )
    .await;
    let metrics = reqwest::get(format!("{}/metrics", system.url("delivery")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("klucznik_dead_letters_total{consumer=\"delivery-credentials\"} 1"),
        "{metrics}"
    );

    let out = klucznikctl(&provisioner, &["nats", "dead-letters"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.starts_with("1\tdelivery\tcredentials.sealed\tdoręczeń: 1\t"),
        "{listed}"
    );
    let out = klucznikctl(&bus(&system), &["nats", "replay", "1"]);
    assert!(!out.status.success(), "only the provisioner may replay");

    let out = klucznikctl(&provisioner, &["nats", "replay", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("powtórzono wiadomość 1"),
        "{}",
        text(&out.stdout)
    );
    let out = klucznikctl(&provisioner, &["nats", "replay", "1"]);
    assert!(
        text(&out.stdout).contains("została już powtórzona"),
        "a second replay publishes nothing: {}",
        text(&out.stdout)
    );
    test_support::eventually(
        std::time::Duration::from_secs(20),
        "the replay handled again, and failing again",
        || async { (dead_letters().await.len() == 2).then_some(()) },
    )
    .await;
    let out = klucznikctl(&provisioner, &["nats", "replay", "999"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nie ma wiadomości o numerze 999"));

    let pool = system.databases["audit"].pool().await;
    test_support::eventually(
        std::time::Duration::from_secs(20),
        "audit to keep each dead letter once",
        || async {
            let dead: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM audit_records WHERE stream = 'DEAD_LETTER'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            (dead == 2).then_some(())
        },
    )
    .await;
}
