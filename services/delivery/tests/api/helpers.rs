//! delivery built in-process against real parts only: a fresh PostgreSQL database, a real
//! nats-server, a real SMTP server (aiosmtpd writing a Maildir) and a real HTTP server
//! standing in for the SMS gateway (wiremock). Staff tokens are signed here with a test key
//! whose public half delivery is configured with, as accounts' would be.

use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use contracts::events::{CredentialIssued, PasswordChanged, Recipient};
use contracts::forms::{DeliveryMode, Procedure};
use contracts::{Actor, Envelope, streams, subjects};
use delivery::Settings;
use delivery::store::deliveries::{DeliveryRow, delivery_find};
use serde::Serialize;
use serde_json::Value;
use test_support::eventually;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const CASE: &str = "ZSZO-05/2026/000001";
pub const LOGIN: &str = "lukasz.zak@sp123";
pub const STARTING_PASSWORD: &str = "Start-Haslo-9xQ#wZ";
pub const WAIT: Duration = Duration::from_secs(30);

pub use crate::support::{SmtpServer, TestDelivery, logs, scratch};

/// The text of a plain (unencrypted) PDF, as `pdftotext` reads it.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = scratch("printed");
    let file = dir.join("letter.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pdftotext ({e}); apt-get install poppler-utils"));
    assert!(out.status.success(), "pdftotext reads the letter");
    String::from_utf8(out.stdout).unwrap()
}

// ---------------------------------------------------------- the service ---

/// A gateway that takes every SMS (none should be sent by what these tests do).
pub async fn gateway() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

impl TestDelivery {
    pub async fn start() -> Self {
        Self::start_with(SmtpServer::start(), |_| {}).await
    }

    pub async fn start_with(smtp: SmtpServer, tweak: impl FnOnce(&mut Settings)) -> Self {
        TestDelivery::start_on(gateway().await, smtp, tweak).await
    }

    // ---------------------------------------------------------------- bus ---

    pub fn issued(&self, case_number: &str, delivery: DeliveryMode) -> Envelope<CredentialIssued> {
        self.issued_until(case_number, delivery, "2099-11-30T13:00:00Z")
    }

    pub fn issued_until(
        &self,
        case_number: &str,
        delivery: DeliveryMode,
        expires_at: &str,
    ) -> Envelope<CredentialIssued> {
        let credentials =
            serde_json::json!({ "login": LOGIN, "starting_password": STARTING_PASSWORD });
        let mut issued = Envelope {
            id: uuid::Uuid::new_v4(),
            kind: subjects::CREDENTIALS_SEALED.to_owned(),
            version: 1,
            occurred_at: at("2026-11-23T10:00:00Z"),
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
                    rspo_email: "sekretariat@sp123.krakow.example.pl".into(),
                    director_mobile: "600 100 289".into(),
                    first_name: Some("Łukasz".into()),
                    last_name: Some("Żak".into()),
                    director_name: Some("Jan Kowalski".into()),
                },
                sealed_credentials: String::new(),
                seal_key_id: String::new(),
                expires_at: at(expires_at),
                portal_url: "https://portal.zszo.example.pl/logowanie".into(),
                proxy: Some(contracts::events::AuthorisedProxy {
                    name: "Anna Nowak".into(),
                    f01_reference: "F-01/2026/17".into(),
                }),
            },
        };
        let sealed = kit::seal::seal(
            &self.seal_public,
            credentials.to_string().as_bytes(),
            &issued.data.binding().context(),
        )
        .unwrap();
        issued.data.sealed_credentials = base64::engine::general_purpose::STANDARD.encode(sealed);
        issued
    }

    pub fn password_changed(
        &self,
        login: &str,
        email: Option<&str>,
        occurred_at: DateTime<Utc>,
    ) -> Envelope<PasswordChanged> {
        Envelope {
            id: uuid::Uuid::now_v7(),
            kind: subjects::ACCOUNTS_PASSWORD_CHANGED.to_owned(),
            version: 1,
            occurred_at,
            actor: Actor {
                kind: contracts::envelope::ActorKind::Person,
                id: Some(login.to_owned()),
                role: Some("user".into()),
            },
            institution_rspo_id: Some("120456".into()),
            case_number: None,
            data: PasswordChanged {
                login: login.to_owned(),
                email: email.map(str::to_owned),
                sessions_ended: 1,
            },
        }
    }

    async fn js(&self) -> jetstream::Context {
        jetstream::new(self.nats.client().await)
    }

    /// Publishes as accounts' outbox relay does: `Nats-Msg-Id` = the event id, unless
    /// `message_id` says otherwise (None: no id, so JetStream keeps it as a new message).
    pub async fn publish<T: Serialize>(
        &self,
        subject: &str,
        event: &Envelope<T>,
        message_id: Option<String>,
    ) {
        let mut publish =
            PublishMessage::build().payload(serde_json::to_vec(event).unwrap().into());
        if let Some(id) = message_id {
            publish = publish.message_id(id);
        }
        self.js()
            .await
            .send_publish(subject.to_owned(), publish)
            .await
            .expect("publish")
            .await
            .expect("JetStream stores the event");
    }

    pub async fn issue(&self, event: &Envelope<CredentialIssued>) {
        self.publish(
            subjects::CREDENTIALS_SEALED,
            event,
            Some(event.id.to_string()),
        )
        .await;
    }

    pub async fn row(&self, case_number: &str) -> Option<DeliveryRow> {
        delivery_find(&self.pool, case_number).await.expect("query")
    }

    pub async fn wait_for_status(&self, case_number: &str, status: &str) -> DeliveryRow {
        eventually(WAIT, &format!("{case_number} to be {status}"), || async {
            self.row(case_number)
                .await
                .filter(|r| r.status.as_str() == status)
        })
        .await
    }

    /// How many rows of a table (a fixed statement from the test).
    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("a count")
    }

    /// Every event delivery published on `subject` so far.
    pub async fn events(&self, subject: &str) -> Vec<Value> {
        self.events_in(streams::DELIVERY.name, subject).await
    }

    /// Every message on `subject` of `stream` so far.
    pub async fn events_in(&self, stream: &str, subject: &str) -> Vec<Value> {
        test_support::stored(&self.js().await, stream, subject)
            .await
            .iter()
            .map(|m| serde_json::from_slice(&m.payload).expect("JSON"))
            .collect()
    }

    pub async fn wait_for_event(&self, subject: &str, case_number: &str) -> Value {
        eventually(WAIT, &format!("{subject} for {case_number}"), || async {
            self.events(subject)
                .await
                .into_iter()
                .find(|e| e["case_number"] == case_number)
        })
        .await
    }

    /// Every row of every table of delivery's database, as text (bytea as hex).
    pub async fn dump_database(&self) -> String {
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

    /// None of `secrets`, as text or as bytea hex, in the database or the log.
    pub async fn assert_no_secret_kept(&self, secrets: &[&str]) {
        let dump = self.dump_database().await;
        assert!(dump.contains("-- deliveries"), "the dump covers deliveries");
        let log = logs().text();
        for secret in secrets {
            let hex = hex::encode(secret.as_bytes());
            assert!(!dump.contains(secret), "a secret is in the database");
            assert!(!dump.contains(&hex), "a secret is in the database (bytea)");
            assert!(!log.contains(secret), "a secret is in the log");
        }
    }
}

// ---------------------------------------------------------------- HTTP ---

/// A token for `login` with `role`, as accounts signs them, valid for 15 minutes.
pub fn token(login: &str, role: &str) -> String {
    test_support::in_process::staff_token(login, kit::auth::Role::parse(role).expect("a role"))
}

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}
