//! Dispatch end to end with real parts only: delivery built in-process against a fresh
//! PostgreSQL database, a real nats-server, a real SMTP server (aiosmtpd writing a Maildir)
//! and a real HTTP server standing in for the SMS gateway (wiremock). An
//! `accounts.credential.issued` event sealed to the test key goes onto the bus; what
//! arrives in the mailbox is opened with qpdf/pdftotext (or 7-Zip) using the password the
//! SMS carried, exactly as the recipient would.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use contracts::events::{CredentialIssued, Recipient};
use contracts::forms::{DeliveryMode, Procedure};
use contracts::{Actor, Envelope, streams, subjects};
use delivery::Settings;
use delivery::dispatch::sms::{self, SmsError};
use delivery::domain::msisdn::Msisdn;
use delivery::startup::{SmsGatewayKind, SmsSettings};
use delivery::store::deliveries::{DeliveryRow, delivery_find};
use secrecy::SecretString;
use serde_json::Value;
use test_support::{eventually, free_port};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CASE: &str = "ZSZO-05/2026/000001";
const LOGIN: &str = "lukasz.zak@sp123";
const STARTING_PASSWORD: &str = "Start-Haslo-9xQ#wZ";
const RSPO_EMAIL: &str = "sekretariat@sp123.krakow.example.pl";
const MOBILE: &str = "600 100 289";
const MSISDN: &str = "48600100289";
const WAIT: Duration = Duration::from_secs(30);

#[path = "support/mod.rs"]
mod support;

use support::{SmtpServer, TestDelivery, logs, run, scratch};

/// The text of `pdf` opened with `password`, or None when qpdf refuses the password.
fn open_pdf(pdf: &[u8], password: &str) -> Option<String> {
    let dir = scratch("pdf");
    let encrypted = dir.join("letter.pdf");
    let decrypted = dir.join("decrypted.pdf");
    std::fs::write(&encrypted, pdf).unwrap();
    let out = run(
        "qpdf",
        &[
            &format!("--password={password}"),
            "--decrypt",
            encrypted.to_str().unwrap(),
            decrypted.to_str().unwrap(),
        ],
    );
    if !out.status.success() {
        return None;
    }
    let text = run("pdftotext", &[decrypted.to_str().unwrap(), "-"]);
    assert!(
        text.status.success(),
        "pdftotext reads the decrypted letter"
    );
    Some(String::from_utf8(text.stdout).unwrap())
}

/// The text of the PDF inside the AES ZIP `zip`, opened with `password`.
fn open_zip(zip: &[u8], password: &str) -> Option<String> {
    let dir = scratch("zip");
    let archive = dir.join("letter.zip");
    std::fs::write(&archive, zip).unwrap();
    let out_dir = dir.join("out");
    let out = run(
        "7z",
        &[
            "x",
            "-y",
            &format!("-p{password}"),
            &format!("-o{}", out_dir.display()),
            archive.to_str().unwrap(),
        ],
    );
    if !out.status.success() {
        return None;
    }
    let pdf = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .expect("a PDF in the ZIP");
    let text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    assert!(text.status.success());
    Some(String::from_utf8(text.stdout).unwrap())
}

// ---------------------------------------------------------- the service ---

/// An SMS as the gateway stand-in received it.
#[derive(Debug, Clone)]
struct Sms {
    to: String,
    message: String,
}

impl Sms {
    /// The cipher password: between `): ` and the full stop that ends the sentence.
    fn cipher_password(&self) -> String {
        let start = self
            .message
            .find("): ")
            .expect("the password follows the case")
            + 3;
        let rest = &self.message[start..];
        rest[..rest.find(". ").expect("a sentence")].to_owned()
    }
}

/// A gateway that takes everything.
async fn gateway_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

impl TestDelivery {
    async fn start(gateway: MockServer) -> Self {
        Self::start_on(gateway, SmtpServer::start(), |_| {}).await
    }

    async fn start_with(
        gateway: MockServer,
        smtp: SmtpServer,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        Self::start_on(gateway, smtp, tweak).await
    }

    fn issued(&self, case_number: &str, delivery: DeliveryMode) -> Envelope<CredentialIssued> {
        self.issued_until(case_number, delivery, "2099-11-30T13:00:00Z")
    }

    fn issued_until(
        &self,
        case_number: &str,
        delivery: DeliveryMode,
        expires_at: &str,
    ) -> Envelope<CredentialIssued> {
        let occurred_at = at("2026-11-23T10:00:00Z");
        let mut issued = Envelope {
            id: uuid::Uuid::new_v4(),
            kind: subjects::CREDENTIALS_SEALED.to_owned(),
            version: 1,
            occurred_at,
            actor: Actor::system("accounts"),
            institution_rspo_id: Some("120456".into()),
            case_number: Some(case_number.to_owned()),
            data: CredentialIssued {
                case_number: case_number.to_owned(),
                procedure: Procedure::Zszo05,
                login: LOGIN.to_owned(),
                delivery,
                recipient: Recipient {
                    institution_name: "Szkoła Podstawowa nr 123 w Krakowie".into(),
                    rspo_email: RSPO_EMAIL.into(),
                    director_mobile: MOBILE.into(),
                    first_name: Some("Łukasz".into()),
                    last_name: Some("Żak".into()),
                    director_name: Some("Jan Kowalski".into()),
                },
                sealed_credentials: String::new(),
                seal_key_id: String::new(),
                expires_at: at(expires_at),
                portal_url: "https://portal.zszo.example.pl/logowanie".into(),
                proxy: None,
            },
        };
        self.reseal(&mut issued);
        issued
    }

    /// Seals the credentials for what the event says (again, after a test changed it), as
    /// accounts would have.
    fn reseal(&self, issued: &mut Envelope<CredentialIssued>) {
        let credentials =
            serde_json::json!({ "login": LOGIN, "starting_password": STARTING_PASSWORD });
        let sealed = kit::seal::seal(
            &self.seal_public,
            credentials.to_string().as_bytes(),
            &issued.data.binding().context(),
        )
        .unwrap();
        issued.data.sealed_credentials = base64::engine::general_purpose::STANDARD.encode(sealed);
    }

    async fn js(&self) -> jetstream::Context {
        jetstream::new(self.nats.client().await)
    }

    /// Publishes as accounts' outbox relay does: `Nats-Msg-Id` = the event id, unless
    /// `message_id` says otherwise (None: no id, so JetStream keeps it as a new message).
    async fn publish(&self, event: &Envelope<CredentialIssued>, message_id: Option<String>) {
        let mut publish =
            PublishMessage::build().payload(serde_json::to_vec(event).unwrap().into());
        if let Some(id) = message_id {
            publish = publish.message_id(id);
        }
        self.js()
            .await
            .send_publish(subjects::CREDENTIALS_SEALED, publish)
            .await
            .expect("publish")
            .await
            .expect("JetStream stores the event");
    }

    /// What `/metrics` shows now.
    async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn row(&self, case_number: &str) -> Option<DeliveryRow> {
        delivery_find(&self.pool, case_number).await.expect("query")
    }

    async fn wait_for_status(&self, case_number: &str, status: &str) -> DeliveryRow {
        eventually(WAIT, &format!("{case_number} to be {status}"), || async {
            self.row(case_number)
                .await
                .filter(|r| r.status.as_str() == status)
        })
        .await
    }

    async fn sms(&self) -> Vec<Sms> {
        self.gateway
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let body: Value = r.body_json().expect("a JSON SMS");
                Sms {
                    to: body["to"].as_str().unwrap().to_owned(),
                    message: body["message"].as_str().unwrap().to_owned(),
                }
            })
            .collect()
    }

    /// Every event published on `subject` so far.
    async fn events(&self, subject: &str) -> Vec<Value> {
        test_support::stored(&self.js().await, streams::DELIVERY.name, subject)
            .await
            .iter()
            .map(|m| serde_json::from_slice(&m.payload).expect("JSON"))
            .collect()
    }

    async fn wait_for_event(&self, subject: &str, case_number: &str) -> Value {
        eventually(WAIT, &format!("{subject} for {case_number}"), || async {
            self.events(subject)
                .await
                .into_iter()
                .find(|e| e["case_number"] == case_number)
        })
        .await
    }

    /// Every row of every table of delivery's database, as text (bytea as hex).
    async fn dump_database(&self) -> String {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        let mut dump = String::new();
        for table in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM \"{table}\" t"
            )))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            dump.push_str(&format!("-- {table}\n{}\n", rows.join("\n")));
        }
        dump
    }

    /// Neither secret, as text or as the hex PostgreSQL shows bytea in, anywhere in the
    /// database, the mailbox's plain parts or the log.
    async fn assert_no_secret_kept(&self, secrets: &[&str]) {
        let dump = self.dump_database().await;
        assert!(
            dump.contains("deliveries"),
            "the dump covers the deliveries table"
        );
        let log = logs().text();
        let mails: Vec<String> = self
            .smtp
            .mails()
            .iter()
            .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
            .collect();
        for secret in secrets {
            let hex = hex::encode(secret.as_bytes());
            assert!(!dump.contains(secret), "a secret is in the database");
            assert!(!dump.contains(&hex), "a secret is in the database (bytea)");
            assert!(!log.contains(secret), "a secret is in the log");
            for mail in &mails {
                assert!(!mail.contains(secret), "a secret is in the e-mail itself");
            }
        }
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

// ---------------------------------------------------------------- tests ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issued_credentials_arrive_as_one_encrypted_letter_and_one_sms_that_opens_it() {
    let mut delivery = TestDelivery::start(gateway_answering(200).await).await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "completed").await;
    assert!(row.sealed_credentials.is_none(), "the sealed copy is wiped");
    assert_eq!(row.mails_accepted, 1);

    let mails = delivery.smtp.mails();
    assert_eq!(mails.len(), 1, "one e-mail");
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, RSPO_EMAIL);
    assert_eq!(mail.to, RSPO_EMAIL);
    assert_eq!(
        mail.subject,
        "Dane dostępowe do konta ZSZO – sprawa ZSZO-05/2026/000001"
    );
    assert!(mail.text.contains("zaszyfrowany"), "{}", mail.text);
    assert!(mail.text.contains("SMS"), "{}", mail.text);
    assert!(
        !mail.text.contains("ponownym wysłaniem"),
        "a first e-mail repeats nothing"
    );
    assert!(
        row.sealed_cipher.is_none(),
        "the sealed cipher password is wiped"
    );
    let (name, pdf) = mail.only_attachment();
    assert_eq!(name, "dane-dostepowe-ZSZO-05-2026-000001.pdf");

    let sms = delivery.sms().await;
    assert_eq!(sms.len(), 1, "one SMS");
    assert_eq!(sms[0].to, MSISDN);
    assert!(sms[0].message.is_ascii(), "a GSM-7 SMS: {}", sms[0].message);
    assert!(sms[0].message.contains(CASE));
    let cipher = sms[0].cipher_password();
    assert_eq!(cipher.len(), delivery::letter::CIPHER_PASSWORD_LEN);

    assert!(
        pdftotext_fails_without_password(pdf),
        "the attachment is encrypted"
    );
    let text = open_pdf(pdf, &cipher).expect("the SMS password opens the letter");
    assert!(text.contains(LOGIN), "{text}");
    assert!(text.contains(STARTING_PASSWORD), "{text}");
    assert!(text.contains("Łukasz Żak"), "{text}");
    assert!(
        open_pdf(pdf, "WrongPassword123").is_none(),
        "a wrong password does not open it"
    );

    let completed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_COMPLETED, CASE)
        .await;
    assert_eq!(completed["type"], subjects::DELIVERY_DISPATCH_COMPLETED);
    assert_eq!(completed["data"]["case_number"], CASE);
    assert_eq!(completed["data"]["delivery"], "electronic");
    assert_eq!(completed["actor"]["id"], "delivery");

    // The same event again: once more with its own id, once as a new message (no id).
    delivery.publish(&event, Some(event.id.to_string())).await;
    delivery.publish(&event, None).await;
    eventually(WAIT, "the replay to be handled", || async {
        let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM kit_inbox")
            .fetch_one(&delivery.pool)
            .await
            .unwrap();
        (handled == 2).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(delivery.smtp.mails().len(), 1, "no second e-mail");
    assert_eq!(delivery.sms().await.len(), 1, "no second SMS");
    assert_eq!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .len(),
        1
    );
    assert_eq!(
        delivery.row(CASE).await.unwrap().status.as_str(),
        "completed"
    );

    delivery.stop().await;
    delivery
        .assert_no_secret_kept(&[STARTING_PASSWORD, &cipher])
        .await;
}

fn pdftotext_fails_without_password(pdf: &[u8]) -> bool {
    let dir = scratch("locked");
    let file = dir.join("locked.pdf");
    std::fs::write(&file, pdf).unwrap();
    !run("pdftotext", &[file.to_str().unwrap(), "-"])
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_failing_twice_gets_the_same_sms_again_and_delivers_once() {
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&gateway)
        .await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&gateway)
        .await;
    let mut delivery = TestDelivery::start(gateway).await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "completed").await;
    assert_eq!(row.attempts, 2, "two failed tries");
    assert!(row.sealed_credentials.is_none());
    let sms = delivery.sms().await;
    assert_eq!(sms.len(), 3, "two refused, one taken");
    let cipher = sms[2].cipher_password();
    assert!(
        sms.iter().all(|s| s.cipher_password() == cipher),
        "the same password each time: the e-mail it opens was sent once"
    );
    let mails = delivery.smtp.mails();
    assert_eq!(mails.len(), 1, "one e-mail");
    let text = open_pdf(mails[0].only_attachment().1, &cipher).expect("it opens");
    assert!(text.contains(STARTING_PASSWORD));
    delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_COMPLETED, CASE)
        .await;
    assert!(
        delivery.metrics().await.contains(
            "klucznik_failures_total{operation=\"delivery_dispatch\",cause=\"sms_unavailable\"} 2"
        ),
        "an operator sees the gateway failing"
    );

    delivery.stop().await;
    delivery
        .assert_no_secret_kept(&[STARTING_PASSWORD, &cipher])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_refusing_the_number_fails_the_case_and_tells_the_administrator() {
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({ "error": "invalid number" })),
        )
        .mount(&gateway)
        .await;
    let mut delivery = TestDelivery::start(gateway).await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "failed").await;
    assert!(
        row.sealed_credentials.is_none(),
        "a failed delivery destroys its sealed copy"
    );
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.unwrap().contains("400"));
    let failed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_FAILED, CASE)
        .await;
    assert_eq!(failed["type"], subjects::DELIVERY_DISPATCH_FAILED);
    let reason = failed["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("Bramka SMS odrzuciła"), "{reason}");
    assert!(reason.contains("289"), "{reason}");
    settle().await;
    assert_eq!(delivery.sms().await.len(), 1, "not tried again");
    assert!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .is_empty()
    );
    let cipher = delivery.sms().await[0].cipher_password();
    let metrics = delivery.metrics().await;
    assert!(
        metrics.contains(
            "klucznik_failures_total{operation=\"delivery_dispatch\",cause=\"sms_refused\"} 1"
        ),
        "{metrics}"
    );

    delivery.stop().await;
    delivery
        .assert_no_secret_kept(&[STARTING_PASSWORD, &cipher])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_between_e_mail_and_sms_only_the_sms_goes_out_with_the_letters_password() {
    let mut delivery = TestDelivery::start(gateway_answering(503).await).await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;
    let sent = eventually(WAIT, "the e-mail out and its SMS refused", || async {
        delivery
            .row(CASE)
            .await
            .filter(|r| r.status.as_str() == "mail_sent" && r.attempts >= 1)
    })
    .await;
    assert!(
        sent.sealed_cipher.is_some(),
        "kept sealed until the SMS went"
    );
    // The process stops; nothing of the cipher password stays in its memory.
    delivery.stop().await;
    let refused = delivery.sms().await;
    let first_cipher = refused[0].cipher_password();
    assert_eq!(delivery.smtp.mails().len(), 1);

    delivery.gateway.reset().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&delivery.gateway)
        .await;
    let settings = delivery.settings();
    delivery.run(settings).await;

    let row = delivery.wait_for_status(CASE, "completed").await;
    assert_eq!(row.mails_accepted, 1);
    assert!(row.sealed_cipher.is_none(), "wiped once the SMS went");
    let mails = delivery.smtp.mails();
    assert_eq!(mails.len(), 1, "no second letter");
    // The gateway's record starts again at its reset: what it got after the restart.
    let after_restart = delivery.sms().await;
    assert_eq!(after_restart.len(), 1, "one SMS after the restart");
    assert_eq!(
        after_restart[0].cipher_password(),
        first_cipher,
        "the letter's own password"
    );
    assert!(
        open_pdf(mails[0].only_attachment().1, &first_cipher)
            .unwrap()
            .contains(STARTING_PASSWORD)
    );
    assert_eq!(
        delivery
            .events(subjects::DELIVERY_DISPATCH_COMPLETED)
            .await
            .len(),
        1
    );

    delivery.stop().await;
    delivery
        .assert_no_secret_kept(&[STARTING_PASSWORD, &first_cipher])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_refusing_the_rspo_mailbox_fails_the_case_and_no_sms_goes_out() {
    let mut delivery = TestDelivery::start_with(
        gateway_answering(200).await,
        SmtpServer::start_refusing_unknown_mailboxes(),
        |_| {},
    )
    .await;
    let mut event = delivery.issued(CASE, DeliveryMode::Electronic);
    event.data.recipient.rspo_email = "nieznany@sp123.krakow.example.pl".into();
    delivery.reseal(&mut event);
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "failed").await;
    assert!(
        row.sealed_credentials.is_none(),
        "destroyed with the failure"
    );
    assert!(row.last_error.unwrap().contains("550"));
    let failed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_FAILED, CASE)
        .await;
    let reason = failed["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("Serwer poczty trwale odrzucił"), "{reason}");
    assert!(
        reason.contains("nieznany@sp123.krakow.example.pl"),
        "{reason}"
    );
    assert!(reason.contains("550"), "{reason}");
    settle().await;
    assert!(delivery.smtp.mails().is_empty());
    assert!(
        delivery.sms().await.is_empty(),
        "no password for a letter that never went"
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_try_cut_off_mid_way_counts_as_an_attempt_and_its_letter_says_it_may_be_a_repeat() {
    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
    let mut delivery =
        TestDelivery::create(gateway_answering(200).await, SmtpServer::start()).await;
    kit::db::migrate(&delivery.pool, &MIGRATOR).await.unwrap();
    // A dispatcher claimed the case and died: its claim token is still set, its lease over.
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(&event.data.sealed_credentials)
        .unwrap();
    let recipient = &event.data.recipient;
    let mut tx = delivery.pool.begin().await.unwrap();
    delivery::store::deliveries::delivery_insert_in_txn(
        &mut tx,
        &delivery::store::deliveries::NewDelivery {
            case_number: CASE,
            procedure: "ZSZO-05",
            login: LOGIN,
            delivery_mode: "electronic",
            institution_rspo_id: Some("120456"),
            institution_name: &recipient.institution_name,
            rspo_email: &recipient.rspo_email,
            director_mobile: &recipient.director_mobile,
            first_name: recipient.first_name.as_deref(),
            last_name: recipient.last_name.as_deref(),
            sealed_credentials: &sealed,
            sealed_cipher: None,
            trace_parent: None,
            realised_by: Some("admin.ek04"),
            director_name: None,
            proxy_name: None,
            proxy_f01_reference: None,
            expires_at: event.data.expires_at,
            portal_url: &event.data.portal_url,
            status: delivery::domain::status::DeliveryStatus::Pending,
            issued_event_id: event.id,
            now: at("2026-11-23T10:00:00Z"),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "UPDATE deliveries SET claim_token = gen_random_uuid(), claims = 1,
             next_attempt_at = now() - interval '1 second' WHERE case_number = $1",
    )
    .bind(CASE)
    .execute(&delivery.pool)
    .await
    .unwrap();

    let settings = delivery.settings();
    delivery.run(settings).await;
    let row = delivery.wait_for_status(CASE, "completed").await;
    assert_eq!(row.attempts, 1, "the lost try counts");
    assert_eq!(row.interrupted_tries, 1);
    let mails = delivery.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].text.contains("ponownym wysłaniem"),
        "the lost try may have sent an e-mail: this one says it is the same letter"
    );
    assert!(
        mails[0].message_id.starts_with(&event.id.to_string()),
        "the same Message-ID as the lost try's: {}",
        mails[0].message_id
    );
    let cipher = delivery.sms().await[0].cipher_password();
    assert!(
        open_pdf(mails[0].only_attachment().1, &cipher)
            .unwrap()
            .contains(STARTING_PASSWORD)
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_mail_relay_is_retried_until_it_answers() {
    // delivery is told of a relay on `port`, where nothing listens yet; the server it is
    // started with (on another port) is never used.
    let port = free_port();
    let placeholder = SmtpServer::start();
    let mut delivery = TestDelivery::start_with(gateway_answering(200).await, placeholder, |s| {
        s.delivery.smtp.port = port;
        s.delivery.retry.base_ms = 300;
    })
    .await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;
    let row = eventually(WAIT, "a refused connection recorded", || async {
        delivery.row(CASE).await.filter(|r| r.attempts >= 1)
    })
    .await;
    assert_eq!(row.status.as_str(), "pending");
    assert!(row.last_error.unwrap().contains("SMTP"));
    assert!(delivery.sms().await.is_empty(), "no SMS before the e-mail");

    delivery.smtp = SmtpServer::start_on(port);
    let row = delivery.wait_for_status(CASE, "completed").await;
    assert!(row.attempts >= 1);
    let mails = delivery.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(
        !mails[0].text.contains("ponownym wysłaniem"),
        "a refused connection sent nothing that could be void"
    );
    let sms = delivery.sms().await;
    assert_eq!(sms.len(), 1);
    assert!(
        open_pdf(mails[0].only_attachment().1, &sms[0].cipher_password())
            .unwrap()
            .contains(STARTING_PASSWORD)
    );
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_package_opens_with_the_password_from_the_sms() {
    let mut delivery =
        TestDelivery::start_with(gateway_answering(200).await, SmtpServer::start(), |s| {
            s.delivery.package = delivery::domain::Package::Zip;
        })
        .await;
    let event = delivery.issued(CASE, DeliveryMode::Electronic);
    delivery.publish(&event, Some(event.id.to_string())).await;
    delivery.wait_for_status(CASE, "completed").await;

    let mails = delivery.smtp.mails();
    let (name, zip) = mails[0].only_attachment();
    assert_eq!(name, "dane-dostepowe-ZSZO-05-2026-000001.zip");
    let cipher = delivery.sms().await[0].cipher_password();
    let text = open_zip(zip, &cipher).expect("the SMS password opens the ZIP");
    assert!(text.contains(STARTING_PASSWORD));
    assert!(open_zip(zip, "WrongPassword123").is_none());
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_for_collection_in_person_wait_and_nothing_is_sent() {
    let mut delivery = TestDelivery::start(gateway_answering(200).await).await;
    let event = delivery.issued(CASE, DeliveryMode::InPerson);
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "awaiting_collection").await;
    assert!(row.sealed_credentials.is_some(), "kept for printing");
    assert_eq!(row.delivery_mode, DeliveryMode::InPerson);
    settle().await;
    assert!(delivery.smtp.mails().is_empty());
    assert!(delivery.sms().await.is_empty());
    assert!(delivery.events(subjects::DELIVERY_ALL).await.is_empty());
    delivery.stop().await;
}

/// The dead letters delivery set aside, with their error.
async fn dead_letters(delivery: &TestDelivery) -> Vec<String> {
    let js = delivery.js().await;
    test_support::stored(&js, streams::DEAD_LETTER.name, subjects::DEAD_LETTER_ALL)
        .await
        .into_iter()
        .map(|m| format!("{} {}", m.subject, m.error.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_credential_event_republished_with_another_recipient_or_mode_opens_nothing() {
    let mut delivery = TestDelivery::start(gateway_answering(200).await).await;
    let genuine = delivery.issued(CASE, DeliveryMode::Electronic);
    let mut to_attacker = genuine.clone();
    to_attacker.id = uuid::Uuid::new_v4();
    to_attacker.data.recipient.rspo_email = "attacker@example.com".into();
    to_attacker.data.recipient.director_mobile = "600 999 999".into();
    delivery
        .publish(&to_attacker, Some(to_attacker.id.to_string()))
        .await;
    let mut to_the_desk = genuine.clone();
    to_the_desk.id = uuid::Uuid::new_v4();
    to_the_desk.data.delivery = DeliveryMode::InPerson;
    delivery
        .publish(&to_the_desk, Some(to_the_desk.id.to_string()))
        .await;

    let letters = eventually(WAIT, "two dead letters", || async {
        Some(dead_letters(&delivery).await).filter(|d| d.len() == 2)
    })
    .await;
    for letter in &letters {
        assert!(
            letter.starts_with("deadletter.delivery.credentials.sealed")
                && letter.contains("do not open"),
            "{letter}"
        );
    }
    settle().await;
    assert!(delivery.row(CASE).await.is_none(), "nothing is stored");
    assert!(delivery.smtp.mails().is_empty());
    assert!(delivery.sms().await.is_empty());

    // The genuine event, as accounts sealed it, is still delivered.
    delivery
        .publish(&genuine, Some(genuine.id.to_string()))
        .await;
    delivery.wait_for_status(CASE, "completed").await;
    assert_eq!(delivery.sms().await.len(), 1);
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_that_expired_before_delivery_are_not_sent_and_the_administrator_hears() {
    let mut delivery = TestDelivery::start(gateway_answering(200).await).await;
    let event = delivery.issued_until(CASE, DeliveryMode::Electronic, "2020-01-01T00:00:00Z");
    delivery.publish(&event, Some(event.id.to_string())).await;

    let row = delivery.wait_for_status(CASE, "expired").await;
    assert!(
        row.sealed_credentials.is_none(),
        "a dead password is not kept"
    );
    let failed = delivery
        .wait_for_event(subjects::DELIVERY_DISPATCH_FAILED, CASE)
        .await;
    assert!(
        failed["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("wygasło")
    );
    assert!(delivery.smtp.mails().is_empty());
    assert!(delivery.sms().await.is_empty());
    delivery.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_does_not_start_without_its_seal_key_and_says_which_key() {
    let delivery = TestDelivery::start(gateway_answering(200).await).await;
    let mut settings = delivery.settings();
    settings.delivery.seal_key = None;
    let error = delivery::Service::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("delivery.seal_key"), "{error}");

    let mut settings = delivery.settings();
    settings.delivery.seal_key = Some(SecretString::from("zz".repeat(32)));
    let error = delivery::Service::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("64 hex"), "{error}");
    assert!(!error.to_string().contains("zz"), "the key is not quoted");
}

// ------------------------------------------------------ SMSAPI adapter ---

fn smsapi_settings(server: &MockServer) -> SmsSettings {
    SmsSettings {
        kind: SmsGatewayKind::Smsapi,
        url: format!("{}/sms.do", server.uri()),
        token: None,
        token_file: None,
        sender: Some("WydzialEdu".into()),
        timeout_secs: 5,
    }
}

async fn smsapi_answering(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms.do"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url_decode_pairs(std::str::from_utf8(body).unwrap())
}

/// `a=b&c=d` with `+` and `%XX` decoded.
fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    let decode = |v: &str| {
        let bytes = v.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16)
                        .unwrap(),
                );
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    s.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[tokio::test]
async fn the_smsapi_adapter_posts_the_form_with_the_bearer_token() {
    let server = smsapi_answering(
        200,
        serde_json::json!({ "count": 1, "list": [{ "id": "1", "points": 0.16, "number": MSISDN, "status": "QUEUE" }] }),
    )
    .await;
    let gateway = sms::gateway(
        &smsapi_settings(&server),
        Some(SecretString::from("test-token")),
    )
    .unwrap();
    let text = SecretString::from("Haslo (sprawa X): AbC. Nie udostepniaj go nikomu.");
    gateway
        .send(&Msisdn::parse(MOBILE).unwrap(), &text, CASE)
        .await
        .expect("sent");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        "Bearer test-token"
    );
    let fields = form(&request.body);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("to"), Some(MSISDN));
    assert_eq!(
        field("message"),
        Some("Haslo (sprawa X): AbC. Nie udostepniaj go nikomu.")
    );
    assert_eq!(field("from"), Some("WydzialEdu"));
    assert_eq!(field("format"), Some("json"));
    assert_eq!(field("encoding"), Some("utf-8"));
    assert_eq!(field("idx"), Some(CASE), "the same on every try");
    assert_eq!(field("check_idx"), Some("1"));
}

#[tokio::test]
async fn the_smsapi_adapter_treats_an_invalid_number_as_permanent_even_with_http_200() {
    let server = smsapi_answering(
        200,
        serde_json::json!({ "error": 13, "message": "No correct phone numbers" }),
    )
    .await;
    let gateway = sms::gateway(&smsapi_settings(&server), Some(SecretString::from("t"))).unwrap();
    let error = gateway
        .send(
            &Msisdn::parse(MOBILE).unwrap(),
            &SecretString::from("x"),
            CASE,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SmsError::Permanent(_)), "{error:?}");
}

#[tokio::test]
async fn the_smsapi_adapter_treats_a_gateway_fault_as_passing() {
    let server = smsapi_answering(
        200,
        serde_json::json!({ "error": 666, "message": "Internal error" }),
    )
    .await;
    let gateway = sms::gateway(&smsapi_settings(&server), Some(SecretString::from("t"))).unwrap();
    let error = gateway
        .send(
            &Msisdn::parse(MOBILE).unwrap(),
            &SecretString::from("x"),
            CASE,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SmsError::Passing(_)), "{error:?}");
}

#[tokio::test]
async fn the_smsapi_adapter_needs_a_token() {
    let server = MockServer::start().await;
    let error = sms::gateway(&smsapi_settings(&server), None).err().unwrap();
    assert!(error.contains("delivery.sms.token"), "{error}");
}

#[tokio::test]
async fn a_generic_gateway_timing_out_is_passing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let settings = SmsSettings {
        kind: SmsGatewayKind::Generic,
        url: format!("{}/sms", server.uri()),
        token: None,
        token_file: None,
        sender: None,
        timeout_secs: 1,
    };
    let gateway = sms::gateway(&settings, None).unwrap();
    let error = gateway
        .send(
            &Msisdn::parse(MOBILE).unwrap(),
            &SecretString::from("x"),
            CASE,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SmsError::Passing(_)), "{error:?}");
}
