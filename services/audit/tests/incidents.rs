//! The register of security incidents against a real PostgreSQL: events go through audit's
//! record path (the consumer's handler) exactly as they come off the bus, and incidents are
//! opened, numbered and moved forward as the procedures require.

use std::sync::{Arc, Mutex};

use audit::bus::RecordHandler;
use audit::domain::chain::StoredRecord;
use audit::domain::incidents::{
    EVENT_INCIDENT_OPENED, EVENT_INCIDENT_STATUS_CHANGED, Incident, IncidentCategory,
    IncidentNumber, IncidentStatus, NewIncident, StatusChange, TransitionError,
};
use audit::domain::minimise::Minimiser;
use audit::domain::verify::Verifier;
use audit::error::Error;
use audit::incidents::IncidentRules;
use audit::store::incidents::{IncidentFilter, incident_find, incidents_list};
use audit::store::records;
use chrono::{DateTime, TimeDelta, Utc};
use contracts::subjects;
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::InProcess;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A clock the test moves by hand.
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// audit's handlers and HTTP API with a clock the test moves, on the database and NATS
/// any service's in-process test gets (the service itself is not started).
struct Audit {
    service: InProcess<audit::Service>,
    pool: PgPool,
    clock: Arc<TestClock>,
    handler: RecordHandler,
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

async fn audit(rules: IncidentRules) -> Audit {
    let service = InProcess::fresh("audit_incidents").await;
    let pool = service.pool.clone();
    kit::db::migrate(&pool, &MIGRATOR).await.unwrap();
    let clock = Arc::new(TestClock(Mutex::new(at("2026-11-23T10:00:00Z"))));
    let handler = RecordHandler {
        minimiser: Arc::new(Minimiser::new(
            b"a test key of at least 32 bytes!!".to_vec(),
        )),
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
        incident_rules: rules,
    };
    Audit {
        service,
        pool,
        clock,
        handler,
    }
}

/// An enveloped event as a service publishes it.
fn event(
    stream: &str,
    id: &str,
    kind: &str,
    occurred_at: DateTime<Utc>,
    case_number: Option<&str>,
    data: Value,
) -> Incoming {
    let payload = json!({
        "id": envelope_id(id),
        "type": kind,
        "version": 1,
        "occurred_at": occurred_at,
        "actor": { "kind": "system", "id": "accounts" },
        "case_number": case_number,
        "data": data,
    });
    Incoming {
        subject: kind.to_owned(),
        payload: bytes::Bytes::from(serde_json::to_vec(&payload).unwrap()),
        headers: None,
        message_id: id.to_owned(),
        stream: stream.to_owned(),
        stream_sequence: 1,
        delivered: 1,
        published: occurred_at,
        span: tracing::Span::none(),
    }
}

/// The event's own id, made from the test's short label so that a redelivery carries the
/// same one (audit records an event once by this id).
fn envelope_id(label: &str) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    for (slot, b) in bytes.iter_mut().zip(label.bytes()) {
        *slot = b;
    }
    uuid::Uuid::from_bytes(bytes)
}

/// The short label back from a recorded message id (other ids are returned as they are).
fn label(message_id: &str) -> String {
    match uuid::Uuid::parse_str(message_id) {
        Ok(id) => String::from_utf8_lossy(id.as_bytes())
            .trim_end_matches('\0')
            .to_owned(),
        Err(_) => message_id.to_owned(),
    }
}

fn credential_issued(id: &str, case_number: &str) -> Incoming {
    event(
        "ACCOUNTS",
        id,
        subjects::ACCOUNTS_CREDENTIAL_ISSUED,
        at("2026-11-23T09:59:00Z"),
        Some(case_number),
        json!({ "case_number": case_number, "login": "lzak", "sealed_credentials": "c2VhbGVk" }),
    )
}

fn login_failed(id: &str, login: &str, occurred_at: DateTime<Utc>) -> Incoming {
    event(
        "ACCOUNTS",
        id,
        subjects::ACCOUNTS_LOGIN_FAILED,
        occurred_at,
        None,
        json!({ "login": login }),
    )
}

impl Audit {
    /// The record path of one message, in a transaction of its own, as the consumer runs it.
    async fn record(&self, message: &Incoming) {
        let mut tx = self.pool.begin().await.unwrap();
        self.handler.handle(&mut tx, message).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn incidents(&self) -> Vec<Incident> {
        incidents_list(&self.pool, &IncidentFilter::default())
            .await
            .unwrap()
    }

    async fn incident(&self, number: &str) -> Incident {
        incident_find(&self.pool, IncidentNumber::parse(number).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{number} exists"))
    }

    async fn chain(&self) -> Vec<StoredRecord> {
        records::records_page(&self.pool, 0, 10_000).await.unwrap()
    }

    /// The chain is intact and gap-free, incident records included.
    async fn assert_chain_intact(&self) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let mut verifier = Verifier::new(None, Vec::new(), &key);
        for record in self.chain().await {
            assert!(
                verifier.feed(&record),
                "record {} breaks the chain",
                record.position
            );
        }
        let report = verifier.finish();
        assert!(report.valid, "{report:?}");
    }

    async fn change(
        &self,
        number: &str,
        status: IncidentStatus,
        by: &str,
        note: Option<&str>,
    ) -> Result<Incident, Error> {
        audit::incidents::change_status(
            &self.pool,
            IncidentNumber::parse(number).unwrap(),
            &StatusChange::new(status, by, note).unwrap(),
            kit::auth::Role::Auditor,
            self.clock.now(),
        )
        .await
    }

    async fn open_by_hand(
        &self,
        category: IncidentCategory,
        title: &str,
        cases: &[&str],
    ) -> Incident {
        let cases: Vec<String> = cases.iter().map(|c| (*c).to_owned()).collect();
        let new = NewIncident::by_person(category, title, "Opis zdarzenia", &cases, "admin.ek04")
            .unwrap();
        audit::incidents::open(&self.pool, &new, self.clock.now())
            .await
            .unwrap()
    }
}

fn numbers(incidents: &[Incident]) -> Vec<String> {
    incidents.iter().map(|i| i.number.to_string()).collect()
}

#[tokio::test]
async fn an_issued_credential_opens_one_incident_however_often_its_record_path_runs() {
    let audit = audit(IncidentRules::default()).await;
    let first = credential_issued("cred-1", "ZSZO-05/2026/000001");

    audit.record(&first).await;
    audit.record(&first).await; // redelivered: already recorded, opens nothing more

    let incidents = audit.incidents().await;
    assert_eq!(numbers(&incidents), ["INC/2026/000001"]);
    let incident = audit.incident("INC/2026/000001").await;
    assert_eq!(incident.category, IncidentCategory::StartingPasswordLoss);
    assert_eq!(incident.status, IncidentStatus::Registered);
    assert_eq!(incident.title, "Utrata hasła startowego");
    assert_eq!(incident.case_numbers, ["ZSZO-05/2026/000001"]);
    assert_eq!(
        incident.record_positions,
        [1],
        "linked to the credential's record"
    );
    assert_eq!(incident.subject_login.as_deref(), Some("lzak"));
    assert!(incident.opened_automatically);
    assert_eq!(incident.opened_by, "audit");
    assert_eq!(incident.opened_at, at("2026-11-23T10:00:00Z"));
    assert_eq!(incident.history.len(), 1);
    assert_eq!(incident.history[0].status, IncidentStatus::Registered);

    audit
        .record(&credential_issued("cred-2", "ZSZO-05/2026/000002"))
        .await;
    assert_eq!(
        numbers(&audit.incidents().await),
        ["INC/2026/000001", "INC/2026/000002"]
    );

    // The sequence starts again with a new year.
    audit.clock.set(at("2027-01-01T00:00:01Z"));
    audit
        .record(&credential_issued("cred-3", "ZSZO-05/2027/000001"))
        .await;
    assert_eq!(
        numbers(&audit.incidents().await),
        ["INC/2026/000001", "INC/2026/000002", "INC/2027/000001"]
    );

    // Each opening is itself a record of the chain, right after the record that caused it.
    let chain = audit.chain().await;
    let labels: Vec<String> = chain.iter().map(|r| label(&r.message_id)).collect();
    let kinds: Vec<(&str, &str)> = chain
        .iter()
        .zip(&labels)
        .map(|(r, l)| (r.event_type.as_str(), l.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (subjects::ACCOUNTS_CREDENTIAL_ISSUED, "cred-1"),
            (EVENT_INCIDENT_OPENED, "INC/2026/000001:opened"),
            (subjects::ACCOUNTS_CREDENTIAL_ISSUED, "cred-2"),
            (EVENT_INCIDENT_OPENED, "INC/2026/000002:opened"),
            (subjects::ACCOUNTS_CREDENTIAL_ISSUED, "cred-3"),
            (EVENT_INCIDENT_OPENED, "INC/2027/000001:opened"),
        ]
    );
    let opened = &chain[1];
    assert_eq!(opened.stream, "AUDIT");
    assert_eq!(opened.actor_kind.as_deref(), Some("system"));
    assert_eq!(opened.actor_id.as_deref(), Some("audit"));
    assert_eq!(opened.case_number.as_deref(), Some("ZSZO-05/2026/000001"));
    let body: Value = serde_json::from_str(&opened.body).unwrap();
    assert_eq!(body["number"], "INC/2026/000001");
    assert_eq!(body["category"], "starting_password_loss");
    assert_eq!(body["title"], "Utrata hasła startowego");
    audit.assert_chain_intact().await;
}

#[tokio::test]
async fn failed_logins_open_one_incident_only_once_the_threshold_is_reached_within_the_window() {
    let audit = audit(IncidentRules {
        failed_login_threshold: 3,
        failed_login_window_secs: 600,
    })
    .await;
    let t0 = at("2026-11-23T08:00:00Z");
    let minutes = |m: i64| t0 + TimeDelta::minutes(m);

    audit.record(&login_failed("f1", "lzak", minutes(0))).await;
    audit.record(&login_failed("f2", "lzak", minutes(1))).await;
    audit.record(&login_failed("o1", "inny", minutes(2))).await;
    assert!(
        audit.incidents().await.is_empty(),
        "two of lzak's, one of another login"
    );

    // Ten minutes later the first two no longer count.
    audit.record(&login_failed("f3", "lzak", minutes(20))).await;
    audit.record(&login_failed("f4", "lzak", minutes(21))).await;
    assert!(audit.incidents().await.is_empty(), "two within the window");

    audit.record(&login_failed("f5", "lzak", minutes(22))).await;
    let incidents = audit.incidents().await;
    assert_eq!(numbers(&incidents), ["INC/2026/000001"]);
    let incident = &incidents[0];
    assert_eq!(incident.category, IncidentCategory::RepeatedFailedLogins);
    assert_eq!(incident.title, "Powtarzające się nieudane logowania");
    assert_eq!(incident.subject_login.as_deref(), Some("lzak"));
    assert_eq!(
        incident.description,
        "Nieudane logowania na konto lzak: 3 w ciągu 10 min."
    );
    let f5 = audit
        .chain()
        .await
        .into_iter()
        .find(|r| label(&r.message_id) == "f5")
        .unwrap();
    assert_eq!(incident.record_positions, [f5.position]);

    // Further failures while it is open add no incident.
    audit.record(&login_failed("f6", "lzak", minutes(23))).await;
    audit.record(&login_failed("f6", "lzak", minutes(23))).await;
    assert_eq!(audit.incidents().await.len(), 1);

    // Once it is closed, the next failure past the threshold opens a new one.
    audit
        .change(
            "INC/2026/000001",
            IncidentStatus::Closed,
            "admin.ek04",
            Some("Użytkownik zapomniał hasła; konto odblokowano."),
        )
        .await
        .unwrap();
    audit.record(&login_failed("f7", "lzak", minutes(24))).await;
    let incidents = audit.incidents().await;
    assert_eq!(numbers(&incidents), ["INC/2026/000001", "INC/2026/000002"]);
    assert_eq!(
        incidents[1].description,
        "Nieudane logowania na konto lzak: 5 w ciągu 10 min."
    );
    audit.assert_chain_intact().await;
}

#[tokio::test]
async fn a_revocation_refused_for_the_wrong_local_database_opens_an_incident_and_other_refusals_do_not()
 {
    let audit = audit(IncidentRules::default()).await;
    let refused = |id: &str, reason: &str| {
        event(
            "REVOCATION",
            id,
            subjects::REVOCATION_REQUEST_REFUSED,
            at("2026-11-23T09:00:00Z"),
            None,
            json!({ "request_id": format!("R-{id}"), "reason": reason }),
        )
    };
    audit.record(&refused("1", "incomplete")).await;
    audit.record(&refused("2", "wrong_local_database")).await;

    let incidents = audit.incidents().await;
    assert_eq!(numbers(&incidents), ["INC/2026/000001"]);
    let incident = &incidents[0];
    assert_eq!(
        incident.category,
        IncidentCategory::RevocationWrongLocalDatabase
    );
    assert_eq!(
        incident.title,
        "Odmowa cofnięcia upoważnienia z niewłaściwej lokalnej bazy danych"
    );
    assert!(
        incident.description.contains("R-2"),
        "{}",
        incident.description
    );
    assert_eq!(incident.record_positions, [2]);
}

#[tokio::test]
async fn an_incidents_status_only_moves_forward_and_closing_needs_a_note() {
    let audit = audit(IncidentRules::default()).await;
    let opened = audit
        .open_by_hand(
            IncidentCategory::Other,
            "Zgubiony laptop z dostępem do SIO",
            &["ZSZO-05/2026/000009"],
        )
        .await;
    assert_eq!(opened.number.to_string(), "INC/2026/000001");
    assert!(!opened.opened_automatically);
    assert_eq!(opened.opened_by, "admin.ek04");
    let number = "INC/2026/000001";

    audit.clock.set(at("2026-11-23T11:00:00Z"));
    let analysed = audit
        .change(number, IncidentStatus::UnderAnalysis, "analityk", None)
        .await
        .unwrap();
    assert_eq!(analysed.status, IncidentStatus::UnderAnalysis);
    assert_eq!(analysed.updated_at, at("2026-11-23T11:00:00Z"));

    let back = audit
        .change(number, IncidentStatus::Registered, "analityk", None)
        .await;
    assert!(matches!(
        back,
        Err(Error::Refused {
            refusal: TransitionError::Backwards {
                from: IncidentStatus::UnderAnalysis,
                to: IncidentStatus::Registered
            },
            ..
        })
    ));
    let without_note = audit
        .change(number, IncidentStatus::Closed, "analityk", Some("  "))
        .await;
    assert!(matches!(
        without_note,
        Err(Error::Refused {
            refusal: TransitionError::ClosingNoteMissing,
            ..
        })
    ));
    assert_eq!(
        audit.incident(number).await.status,
        IncidentStatus::UnderAnalysis,
        "a refused change changes nothing"
    );

    audit.clock.set(at("2026-11-23T12:00:00Z"));
    let closed = audit
        .change(
            number,
            IncidentStatus::Closed,
            "kierownik",
            Some("Laptop odnaleziony; hasła zmienione."),
        )
        .await
        .unwrap();
    assert_eq!(closed.status, IncidentStatus::Closed);
    assert_eq!(closed.closed_at, Some(at("2026-11-23T12:00:00Z")));
    assert_eq!(closed.closed_by.as_deref(), Some("kierownik"));
    assert_eq!(
        closed.closing_note.as_deref(),
        Some("Laptop odnaleziony; hasła zmienione.")
    );
    let history: Vec<(IncidentStatus, &str)> = closed
        .history
        .iter()
        .map(|h| (h.status, h.by.as_str()))
        .collect();
    assert_eq!(
        history,
        [
            (IncidentStatus::Registered, "admin.ek04"),
            (IncidentStatus::UnderAnalysis, "analityk"),
            (IncidentStatus::Closed, "kierownik"),
        ]
    );

    let again = audit
        .change(
            number,
            IncidentStatus::Closed,
            "kierownik",
            Some("jeszcze raz"),
        )
        .await;
    assert!(matches!(
        again,
        Err(Error::Refused {
            refusal: TransitionError::AlreadyClosed,
            ..
        })
    ));
    assert!(matches!(
        audit
            .change("INC/2026/000077", IncidentStatus::Closed, "x", Some("y"))
            .await,
        Err(Error::IncidentNotFound(_))
    ));

    // Straight from registered to closed is allowed too.
    audit
        .open_by_hand(IncidentCategory::Other, "Fałszywy alarm", &[])
        .await;
    let closed = audit
        .change(
            "INC/2026/000002",
            IncidentStatus::Closed,
            "admin.ek04",
            Some("Pomyłka."),
        )
        .await
        .unwrap();
    assert_eq!(closed.history.len(), 2);

    // Each opening and change is in the chain, with the person who made it.
    let changes: Vec<(String, String, Option<String>)> = audit
        .chain()
        .await
        .into_iter()
        .map(|r| (r.event_type, r.message_id, r.actor_id))
        .collect();
    let person = |s: &str| Some(s.to_owned());
    assert_eq!(
        changes,
        [
            (
                EVENT_INCIDENT_OPENED.to_owned(),
                format!("{number}:opened"),
                person("admin.ek04")
            ),
            (
                EVENT_INCIDENT_STATUS_CHANGED.to_owned(),
                format!("{number}:under_analysis"),
                person("analityk")
            ),
            (
                EVENT_INCIDENT_STATUS_CHANGED.to_owned(),
                format!("{number}:closed"),
                person("kierownik")
            ),
            (
                EVENT_INCIDENT_OPENED.to_owned(),
                "INC/2026/000002:opened".to_owned(),
                person("admin.ek04")
            ),
            (
                EVENT_INCIDENT_STATUS_CHANGED.to_owned(),
                "INC/2026/000002:closed".to_owned(),
                person("admin.ek04")
            ),
        ]
    );
    audit.assert_chain_intact().await;

    // The history is never rewritten, whoever asks the database.
    let rewrite = sqlx::query("UPDATE incident_history SET note = 'x'")
        .execute(&audit.pool)
        .await;
    assert!(rewrite.is_err());
}

#[tokio::test]
async fn the_register_is_listed_by_status_category_and_case_a_page_at_a_time() {
    let audit = audit(IncidentRules::default()).await;
    audit
        .record(&credential_issued("cred-1", "ZSZO-05/2026/000001"))
        .await;
    audit
        .open_by_hand(
            IncidentCategory::Other,
            "Zgubiony laptop",
            &["ZSZO-05/2026/000001", "PZO-01/2026/000003"],
        )
        .await;
    audit
        .open_by_hand(IncidentCategory::Other, "Podejrzany e-mail", &[])
        .await;
    audit
        .change(
            "INC/2026/000003",
            IncidentStatus::UnderAnalysis,
            "analityk",
            None,
        )
        .await
        .unwrap();

    let list = |filter: IncidentFilter| {
        let pool = audit.pool.clone();
        async move { numbers(&incidents_list(&pool, &filter).await.unwrap()) }
    };
    assert_eq!(
        list(IncidentFilter {
            case_number: Some("ZSZO-05/2026/000001".into()),
            ..Default::default()
        })
        .await,
        ["INC/2026/000001", "INC/2026/000002"]
    );
    assert_eq!(
        list(IncidentFilter {
            category: Some(IncidentCategory::Other),
            status: Some(IncidentStatus::Registered),
            ..Default::default()
        })
        .await,
        ["INC/2026/000002"]
    );
    assert_eq!(
        list(IncidentFilter {
            status: Some(IncidentStatus::UnderAnalysis),
            ..Default::default()
        })
        .await,
        ["INC/2026/000003"]
    );
    assert_eq!(
        list(IncidentFilter {
            after: IncidentNumber::parse("INC/2026/000001"),
            limit: Some(1),
            ..Default::default()
        })
        .await,
        ["INC/2026/000002"]
    );
    assert!(
        list(IncidentFilter {
            from: Some(at("2026-11-24T00:00:00Z")),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    let listed = incidents_list(&audit.pool, &IncidentFilter::default())
        .await
        .unwrap();
    assert_eq!(
        listed[1].case_numbers,
        ["PZO-01/2026/000003", "ZSZO-05/2026/000001"]
    );
    assert!(
        listed[1].history.is_empty(),
        "a list leaves the history out"
    );
}

/// audit's router over a real listener, with the test's database and clock.
async fn serve(audit: &Audit) -> String {
    kit::main_support::install_crypto_provider();
    let js = audit.service.jetstream().await;
    let checkpoint_js = js.clone();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let clock: Arc<dyn Clock> = Arc::clone(&audit.clock) as Arc<dyn Clock>;
    let state = audit::http::AppState {
        pool: audit.pool.clone(),
        js,
        trusted: key.verifying_key(),
        minimiser: Arc::clone(&audit.handler.minimiser),
        checkpointer: Arc::new(audit::checkpointer::Checkpointer {
            pool: audit.pool.clone(),
            key,
            clock: Arc::clone(&clock),
            interval: std::time::Duration::from_secs(3600),
            export_file: None,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            js: checkpoint_js,
        }),
        clock: Arc::clone(&clock),
        retention: chrono::Duration::days(365),
    };
    // As the platform does: tokens are checked with accounts' public key.
    let verifier = kit::auth::TokenVerifier {
        keys: vec![staff_key().verifying_key()],
        clock: Arc::clone(&clock),
        ended_sessions: None,
    };
    let router = audit::http::router(state).layer(axum::Extension(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{address}")
}

/// accounts' token key in tests.
fn staff_key() -> ed25519_dalek::SigningKey {
    let seed: [u8; 32] = hex::decode(test_support::system::TEST_ACCOUNTS_SIGNING_KEY)
        .unwrap()
        .try_into()
        .unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// A staff token as accounts signs them, valid for 15 minutes of the test's clock.
fn staff_token(audit: &Audit, login: &str, role: &str) -> String {
    let now = audit.clock.now().timestamp();
    kit::auth::sign(
        &staff_key(),
        &kit::auth::Claims {
            sub: login.to_owned(),
            role: kit::auth::Role::parse(role).expect("a role"),
            institution: None,
            iat: now,
            exp: now + 900,
            sid: format!("session-of-{login}"),
            aud: kit::auth::Audience::Staff,
            kid: String::new(),
            processing: false,
        },
    )
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_http_api_opens_reads_lists_and_closes_an_incident_and_refuses_in_polish() {
    let audit = audit(IncidentRules::default()).await;
    let base = serve(&audit).await;
    let laptop = json!({ "category": "other", "title": "Zgubiony laptop", "description": "d" });
    let anonymous = reqwest::Client::new()
        .post(format!("{base}/api/incidents"))
        .json(&laptop)
        .send()
        .await
        .unwrap();
    problem(anonymous, 401).await;
    let operator = reqwest::Client::new()
        .get(format!("{base}/api/incidents"))
        .bearer_auth(staff_token(&audit, "operator.ek04", "operator"))
        .send()
        .await
        .unwrap();
    problem(operator, 403).await;

    let mut signed_in = reqwest::header::HeaderMap::new();
    signed_in.insert(
        reqwest::header::AUTHORIZATION,
        format!(
            "Bearer {}",
            staff_token(&audit, "admin.ek04", "administrator")
        )
        .parse()
        .unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(signed_in)
        .build()
        .unwrap();
    let post = |path: &str, body: Value| http.post(format!("{base}{path}")).json(&body).send();
    let mut someone_else = laptop.clone();
    someone_else["opened_by"] = json!("kto-inny");
    let refused = problem(post("/api/incidents", someone_else).await.unwrap(), 422).await;
    assert!(
        refused["detail"].as_str().unwrap().contains("„opened_by”"),
        "{refused}"
    );
    let not_json = http
        .post(format!("{base}/api/incidents"))
        .body("{")
        .send()
        .await
        .unwrap();
    problem(not_json, 400).await;

    let created = post(
        "/api/incidents",
        json!({
            "category": "other",
            "title": "Zgubiony laptop",
            "description": "Laptop z dostępem do SIO zgubiony w pociągu.",
            "case_numbers": ["ZSZO-05/2026/000001"],
        }),
    )
    .await
    .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(
        created.headers()[reqwest::header::LOCATION],
        "/api/incidents/2026/000001"
    );
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["number"], "INC/2026/000001");
    assert_eq!(created["status"], "registered");
    assert_eq!(created["case_numbers"], json!(["ZSZO-05/2026/000001"]));

    let read: Value = http
        .get(format!("{base}/api/incidents/2026/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["number"], "INC/2026/000001");
    assert_eq!(read["history"][0]["by"], "admin.ek04");
    let missing = problem(
        http.get(format!("{base}/api/incidents/2026/000099"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(missing["title"], "Nie znaleziono incydentu");
    assert_eq!(
        missing["detail"],
        "Nie ma incydentu o numerze INC/2026/000099."
    );

    let status = "/api/incidents/2026/000001/status";
    let no_note = problem(
        post(status, json!({ "status": "closed" })).await.unwrap(),
        422,
    )
    .await;
    assert!(no_note["detail"].as_str().unwrap().contains("„note”"));
    let analysed = post(status, json!({ "status": "under_analysis" }))
        .await
        .unwrap();
    assert_eq!(analysed.status().as_u16(), 200);
    let backwards = problem(
        post(status, json!({ "status": "registered" }))
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(backwards["title"], "Niedozwolona zmiana statusu incydentu");
    assert_eq!(
        backwards["detail"],
        "INC/2026/000001: Status incydentu może się zmieniać tylko naprzód: ze statusu \
         „w analizie” nie można wrócić do statusu „zarejestrowany”."
    );
    let closed: Value = post(
        status,
        json!({ "status": "closed", "note": "Laptop odnaleziony." }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closing_note"], "Laptop odnaleziony.");

    let listed: Value = http
        .get(format!("{base}/api/incidents?status=closed&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["incidents"][0]["number"], "INC/2026/000001");
    assert_eq!(listed["next_after"], "INC/2026/000001");
    let unknown = problem(
        http.get(format!("{base}/api/incidents?category=fire"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(unknown["detail"].as_str().unwrap().contains("„category”"));
}
