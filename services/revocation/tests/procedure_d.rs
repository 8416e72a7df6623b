//! Procedure D on a real database and an authenticated NATS: the register's import, both
//! modes of creating a request with every refusal, the communication panel on both sides
//! (sending and checking through the bus), the authorising body's review and its one
//! decision, and the central register's answer. A PESEL is found nowhere in clear.

use std::time::Duration;

use kit::auth::Role;
use serde_json::{Value, json};
use test_support::in_process::staff_token;
use test_support::system::TEST_REVOCATION_PESEL_KEY;
use test_support::{InProcess, eventually, stored, workspace_root};

type Revocation = InProcess<revocation::Service>;

const WAIT: Duration = Duration::from_secs(20);
/// The sample register's people, by PESEL.
const PESEL_EZIELINSKA: &str = "78120986427";
const PESEL_LZAK: &str = "88081713574";
const SAMPLE_PESELS: [&str; 11] = [
    "71031412340",
    "80060243212",
    "69112355789",
    "75040567897",
    "88081713574",
    "90013024689",
    "78120986427",
    "83072197535",
    "85021135795",
    "66100375310",
    "72051911220",
];

async fn revocation() -> Revocation {
    let service = Revocation::start_with("revocation", |s| {
        s.revocation.pesel_key = Some(TEST_REVOCATION_PESEL_KEY.to_owned().into());
    })
    .await;
    let sample = workspace_root().join("services/revocation/sample/register.jsonl");
    let report = revocation::import::import(
        &service.pool,
        &sample,
        TEST_REVOCATION_PESEL_KEY.as_bytes(),
        kit::clock::Clock::now(&kit::clock::SystemClock),
    )
    .await
    .expect("the sample register reads");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    service
}

/// One person signed in to the console, at work in one local database.
struct At<'a> {
    service: &'a Revocation,
    login: &'static str,
    database: &'static str,
}

impl At<'_> {
    fn url(&self, path: &str) -> String {
        self.service
            .url(&format!("/api/local-databases/{}{path}", self.database))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(staff_token(self.login, Role::User))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(staff_token(self.login, Role::User))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn request(
        &self,
        mode: &str,
        authorisation: &str,
        reason: Option<&str>,
        confirmed: bool,
    ) -> (u16, Value) {
        self.post(
            "/revocation-requests",
            json!({ "mode": mode, "authorisation_id": authorisation, "reason": reason,
                    "confirmed": confirmed }),
        )
        .await
    }

    async fn tab(&self, tab: &str) -> Vec<Value> {
        let (status, forms) = self.get(&format!("/panel?tab={tab}")).await;
        assert_eq!(status, 200, "{forms}");
        forms.as_array().unwrap().clone()
    }

    /// Ticks every form of "Do wysłania" and sends them; returns how many moved.
    async fn send_all(&self) -> u64 {
        let ids: Vec<Value> = self
            .tab("to_send")
            .await
            .iter()
            .map(|f| f["form_id"].clone())
            .collect();
        let (status, moved) = self.post("/panel/send", json!({ "form_ids": ids })).await;
        assert_eq!(status, 200, "{moved}");
        moved["moved"].as_u64().unwrap()
    }

    /// Ticks every form of "Wysłane" and checks their status until `expected` moved on.
    async fn check_until(&self, expected: usize) {
        let moved = std::cell::Cell::new(0usize);
        eventually(WAIT, "the central system to acknowledge", || async {
            let ids: Vec<Value> = self
                .tab("sent")
                .await
                .iter()
                .map(|f| f["form_id"].clone())
                .collect();
            if !ids.is_empty() {
                let (status, answer) = self.post("/panel/check", json!({ "form_ids": ids })).await;
                assert_eq!(status, 200, "{answer}");
                moved.set(moved.get() + answer["moved"].as_u64().unwrap() as usize);
            }
            (moved.get() >= expected).then_some(())
        })
        .await;
    }

    /// Waits until the central system acknowledged every form of "Wysłane".
    async fn delivered(&self) -> Vec<Value> {
        eventually(WAIT, "the central system to acknowledge", || async {
            let sent = self.tab("sent").await;
            sent.iter().all(|f| f["delivered"] == true).then_some(sent)
        })
        .await
    }
}

fn kind(problem: &Value) -> &str {
    problem["type"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

async fn requests_count(service: &Revocation) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(&service.pool)
        .await
        .unwrap()
}

async fn register_check(service: &Revocation, login: &str, pesel: &str) -> Value {
    let response = reqwest::Client::new()
        .post(service.url("/api/register/check"))
        .bearer_auth(staff_token(login, Role::User))
        .json(&json!({ "pesel": pesel }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refusals(service: &Revocation) -> Vec<Value> {
    let js = service.jetstream().await;
    stored(
        &js,
        "REVOCATION",
        contracts::subjects::REVOCATION_REQUEST_REFUSED,
    )
    .await
    .iter()
    .map(|m| serde_json::from_slice(&m.payload).unwrap())
    .collect()
}

#[tokio::test]
async fn mode_1_from_the_granting_local_database_through_review_to_a_revoked_authorisation() {
    let service = revocation().await;
    let anowak = At {
        service: &service,
        login: "anowak",
        database: "LBD-KRK-1",
    };

    // The list: people whose applications were approved here, for units below Kraków.
    let (status, listed) = anowak.get("/subordinate-authorisations").await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["authorisation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["UPW-2025-0001", "UPW-2025-0002"], "{listed}");
    let zielinska = &listed[1];
    assert_eq!(zielinska["last_name"], "Zielińska");
    assert_eq!(zielinska["pesel_masked"], "*********27");
    assert_eq!(
        zielinska["unit_name"],
        "Przedszkole Samorządowe nr 12 w Krakowie"
    );
    assert!(!listed.to_string().contains(PESEL_EZIELINSKA));

    let (status, preview) = anowak
        .get("/authorisations/UPW-2025-0002?mode=subordinate_unit")
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        preview["granted_in_name"],
        "Wydział Edukacji – stanowisko 1"
    );
    assert_eq!(preview["approved_by"], "Anna Nowak");

    // Refusals: each its own reason, nothing saved.
    let cases = [
        (
            "UPW-2025-0003",
            Some("head_dismissed"),
            true,
            403,
            "wrong-local-database",
        ),
        (
            "UPW-2025-0004",
            Some("head_dismissed"),
            true,
            403,
            "unit-not-subordinate",
        ),
        ("UPW-2025-0002", None, true, 422, "reason-required"),
        (
            "UPW-2025-0002",
            Some("ground_3"),
            true,
            422,
            "unknown-reason",
        ),
        (
            "UPW-2025-0002",
            Some("head_dismissed"),
            false,
            422,
            "not-confirmed",
        ),
    ];
    for (authorisation, reason, confirmed, status, expected) in cases {
        let (got, problem) = anowak
            .request("subordinate_unit", authorisation, reason, confirmed)
            .await;
        assert_eq!(
            (got, kind(&problem)),
            (status, expected),
            "{authorisation}: {problem}"
        );
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (status, problem) = anowak
        .get("/authorisations/UPW-2025-0003?mode=subordinate_unit")
        .await;
    assert_eq!((status, kind(&problem)), (403, "wrong-local-database"));
    assert!(
        problem["detail"].as_str().unwrap().contains("stanowisko 2"),
        "{problem}"
    );
    let (status, _) = anowak
        .request(
            "subordinate_unit",
            "UPW-9999-0000",
            Some("head_dismissed"),
            true,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(requests_count(&service).await, 0);
    assert!(anowak.tab("to_send").await.is_empty());
    let recorded = eventually(WAIT, "the refusals on the bus", || async {
        let r = refusals(&service).await;
        (r.len() >= 6).then_some(r)
    })
    .await;
    let wrong = recorded
        .iter()
        .find(|r| r["data"]["reason"] == "wrong_local_database")
        .unwrap();
    assert_eq!(wrong["actor"]["id"], "anowak");
    assert_eq!(wrong["data"]["local_database_id"], "LBD-KRK-1");
    assert_eq!(wrong["data"]["authorisation_id"], "UPW-2025-0003");

    // The request, confirmed; a second for the same authorisation is refused.
    let (status, created) = anowak
        .request(
            "subordinate_unit",
            "UPW-2025-0002",
            Some("head_dismissed"),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created["reminder"].as_str().unwrap().contains("Zakończone"),
        "{created}"
    );
    let (status, again) = anowak
        .request(
            "subordinate_unit",
            "UPW-2025-0002",
            Some("head_dismissed"),
            true,
        )
        .await;
    assert_eq!((status, kind(&again)), (409, "already-requested"));
    assert_eq!(requests_count(&service).await, 1);

    // "Do wysłania" → "Wysłane" (twice sends once) → checked: "Zakończone" (mode 1).
    let to_send = anowak.tab("to_send").await;
    assert_eq!(to_send.len(), 1);
    assert_eq!(to_send[0]["kind"], "request");
    let form = to_send[0]["form_id"].clone();
    assert_eq!(anowak.send_all().await, 1);
    let (_, twice) = anowak
        .post("/panel/send", json!({ "form_ids": [form] }))
        .await;
    assert_eq!(twice["moved"], 0);
    anowak.check_until(1).await;
    let done = anowak.tab("done").await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["form_id"], form);

    // The ministry reviews Kraków's request.
    let mkontrola = At {
        service: &service,
        login: "mkontrola",
        database: "LBD-MEN",
    };
    let (_, fetched) = mkontrola.post("/review/fetch", json!({})).await;
    assert_eq!(fetched["fetched"], 1, "{fetched}");
    let (_, fetched) = mkontrola.post("/review/fetch", json!({})).await;
    assert_eq!(fetched["fetched"], 0);
    let (_, waiting) = mkontrola.get("/review").await;
    assert_eq!(waiting[0]["status"], "Oczekuje na rozpatrzenie");
    assert_eq!(waiting[0]["reason"], "head_dismissed");
    let request = waiting[0]["request_id"].as_str().unwrap().to_owned();
    let decision = format!("/review/{request}/decision");
    let (status, early) = mkontrola
        .post(
            &decision,
            json!({ "decision": "accepted", "confirmed": true }),
        )
        .await;
    assert_eq!((status, kind(&early)), (409, "not-under-review"));
    let (_, marked) = mkontrola
        .post("/review/start", json!({ "request_ids": [request] }))
        .await;
    assert_eq!(marked["moved"], 1);
    let (_, detail) = mkontrola.get(&format!("/review/{request}")).await;
    assert_eq!(detail["status"], "Przyjęty do rozpatrzenia");
    assert_eq!(detail["granted_in"], "LBD-KRK-1");
    assert_eq!(mkontrola.send_all().await, 1);
    mkontrola.check_until(1).await;

    // Kraków cannot review its own request in its own local database.
    let (status, _) = anowak.get(&format!("/review/{request}")).await;
    assert_eq!(status, 404);

    let (status, unconfirmed) = mkontrola
        .post(&decision, json!({ "decision": "accepted" }))
        .await;
    assert_eq!((status, kind(&unconfirmed)), (422, "not-confirmed"));
    // Two decisions at once: one is recorded, the other is a conflict.
    let (a, b) = tokio::join!(
        mkontrola.post(
            &decision,
            json!({ "decision": "accepted", "confirmed": true })
        ),
        mkontrola.post(
            &decision,
            json!({ "decision": "rejected", "confirmed": true })
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let accepted = if a.0 == 200 { &a.1 } else { &b.1 };
    let conflict = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(kind(conflict), "already-decided");
    let first = accepted["decision"].as_str().unwrap().to_owned();

    // Not revoked until the decision reaches the central system.
    let before = register_check(&service, "mkontrola", PESEL_EZIELINSKA).await;
    assert_eq!(before["authorisations"][0]["access"], "active");
    assert_eq!(mkontrola.send_all().await, 1);
    mkontrola.check_until(1).await;
    let after = register_check(&service, "anowak", PESEL_EZIELINSKA).await;
    let entry = &after["authorisations"][0];
    if first == "accepted" {
        assert_eq!(entry["access"], "revoked", "{after}");
        assert_eq!(entry["reason"], "head_dismissed");
        assert_eq!(
            entry["reason_label"],
            "odwołanie ze stanowiska, rozwiązanie umowy lub wygaśnięcia mandatu kierownika podmiotu"
        );
        assert!(entry["revoked_at"].is_string());
        let (status, revoked) = anowak
            .request(
                "subordinate_unit",
                "UPW-2025-0002",
                Some("head_dismissed"),
                true,
            )
            .await;
        assert_eq!((status, kind(&revoked)), (409, "authorisation-not-active"));
    } else {
        assert_eq!(entry["access"], "active", "{after}");
    }

    // A redelivered form changes nothing: publish every sent form again.
    let js = service.jetstream().await;
    let sent = stored(&js, "REVOCATION", contracts::subjects::REVOCATION_FORM_SENT).await;
    assert_eq!(sent.len(), 3);
    for message in &sent {
        js.publish(message.subject.clone(), message.payload.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let delivered = stored(
        &js,
        "REVOCATION",
        contracts::subjects::REVOCATION_FORM_DELIVERED,
    )
    .await;
    assert_eq!(delivered.len(), 3);
    let revoked = stored(
        &js,
        "REVOCATION",
        contracts::subjects::REVOCATION_AUTHORISATION_REVOKED,
    )
    .await;
    assert_eq!(revoked.len(), usize::from(first == "accepted"));

    // No PESEL in clear in the stream or the tables.
    let everything = stored(&js, "REVOCATION", "revocation.>").await;
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (
             SELECT row_to_json(p)::text AS t FROM people p
             UNION ALL SELECT row_to_json(r)::text FROM requests r
             UNION ALL SELECT convert_from(payload, 'UTF8') FROM kit_outbox) x",
    )
    .fetch_one(&service.pool)
    .await
    .unwrap();
    for pesel in SAMPLE_PESELS {
        assert!(!dump.contains(pesel), "{pesel} in the database");
        for m in &everything {
            assert!(
                !String::from_utf8_lossy(&m.payload).contains(pesel),
                "{pesel} on {}",
                m.subject
            );
        }
    }
}

#[tokio::test]
async fn mode_2_only_for_the_administrator_waits_in_sent_until_the_authorising_body_decides() {
    let service = revocation().await;
    let jkowalski = At {
        service: &service,
        login: "jkowalski",
        database: "LBD-SP7",
    };
    let lzak = At {
        service: &service,
        login: "lzak",
        database: "LBD-SP7",
    };
    let mkontrola = At {
        service: &service,
        login: "mkontrola",
        database: "LBD-SP7",
    };

    // Not the administrator: a refusal, not an empty list; not an employee: a refusal.
    let (status, problem) = lzak.get("/own-unit-employees").await;
    assert_eq!(
        (status, kind(&problem)),
        (403, "not-local-database-administrator")
    );
    let (status, problem) = lzak
        .request(
            "own_unit",
            "UPW-2025-0006",
            Some("false_or_outdated_data"),
            true,
        )
        .await;
    assert_eq!(
        (status, kind(&problem)),
        (403, "not-local-database-administrator")
    );
    let (status, problem) = mkontrola.get("/own-unit-employees").await;
    assert_eq!(
        (status, kind(&problem)),
        (403, "not-an-employee-of-the-unit")
    );
    // Mode 1 from the school's own database for its own employee: SP7 is not below SP7.
    let (status, problem) = jkowalski
        .request(
            "subordinate_unit",
            "UPW-2025-0005",
            Some("false_or_outdated_data"),
            true,
        )
        .await;
    assert_eq!((status, kind(&problem)), (403, "unit-not-subordinate"));
    // Mode 2 for someone of another unit.
    let (status, problem) = jkowalski
        .request(
            "own_unit",
            "UPW-2025-0002",
            Some("false_or_outdated_data"),
            true,
        )
        .await;
    assert_eq!(
        (status, kind(&problem)),
        (403, "not-an-employee-of-own-unit")
    );
    assert_eq!(requests_count(&service).await, 0);

    let (status, listed) = jkowalski.get("/own-unit-employees").await;
    assert_eq!(status, 200, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Wójcik", "Żak"]);

    let (status, created) = jkowalski
        .request(
            "own_unit",
            "UPW-2025-0005",
            Some("access_on_behalf_of_head_withdrawn"),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created["reminder"]
            .as_str()
            .unwrap()
            .contains("bazy danych SIO")
    );
    assert_eq!(jkowalski.send_all().await, 1);
    // Delivered, but it stays in "Wysłane" with the seed's tooltip.
    let sent = jkowalski.delivered().await;
    assert_eq!(
        sent[0]["waiting_note"],
        "Wysłane do kolejki powiadomień (do organu prowadzącego)"
    );
    let ids: Vec<Value> = sent.iter().map(|f| f["form_id"].clone()).collect();
    let (_, checked) = jkowalski
        .post("/panel/check", json!({ "form_ids": ids }))
        .await;
    assert_eq!(
        (checked["moved"].as_u64(), checked["stayed"].as_u64()),
        (Some(0), Some(1))
    );

    // Kraków, the school's authorising body, rejects it.
    let anowak = At {
        service: &service,
        login: "anowak",
        database: "LBD-KRK-1",
    };
    let (_, fetched) = anowak.post("/review/fetch", json!({})).await;
    assert_eq!(fetched["fetched"], 1);
    let (_, waiting) = anowak.get("/review").await;
    let request = waiting[0]["request_id"].as_str().unwrap().to_owned();
    assert_eq!(waiting[0]["mode"], "own_unit");
    anowak
        .post("/review/start", json!({ "request_ids": [request] }))
        .await;
    anowak.send_all().await;
    anowak.check_until(1).await;
    // The director who asked works for Kraków too: he still may not decide his own request.
    sqlx::query(
        "INSERT INTO employees (unit_id, person_id, position) VALUES ('JST-KRK', 'os-jkowalski', 'członek komisji')",
    )
    .execute(&service.pool)
    .await
    .unwrap();
    let jkowalski_in_krakow = At {
        service: &service,
        login: "jkowalski",
        database: "LBD-KRK-1",
    };
    let (status, own) = jkowalski_in_krakow
        .post(
            &format!("/review/{request}/decision"),
            json!({ "decision": "accepted", "confirmed": true }),
        )
        .await;
    assert_eq!((status, kind(&own)), (403, "own-request"), "{own}");
    let decision = format!("/review/{request}/decision");
    let (status, _) = anowak
        .post(
            &decision,
            json!({ "decision": "rejected", "confirmed": true }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, twice) = anowak
        .post(
            &decision,
            json!({ "decision": "accepted", "confirmed": true }),
        )
        .await;
    assert_eq!((status, kind(&twice)), (409, "already-decided"));
    assert!(
        twice["detail"].as_str().unwrap().contains("odrzucenie"),
        "{twice}"
    );
    anowak.send_all().await;
    anowak.check_until(1).await;
    // Now the director's status check completes his request.
    jkowalski.check_until(1).await;
    assert_eq!(jkowalski.tab("done").await.len(), 1);
    let (_, mine) = jkowalski.get("/revocation-requests").await;
    assert_eq!(mine[0]["status"], "Odrzucony");
    let check = register_check(&service, "jkowalski", PESEL_LZAK).await;
    assert_eq!(check["authorisations"][0]["access"], "active");

    // Rejected, so a new request may be made; this one is withdrawn ("cofnięcie wniosku").
    let (status, _) = jkowalski
        .request(
            "own_unit",
            "UPW-2025-0005",
            Some("false_or_outdated_data"),
            true,
        )
        .await;
    assert_eq!(status, 201);
    jkowalski.send_all().await;
    jkowalski.delivered().await;
    anowak.post("/review/fetch", json!({})).await;
    let (_, waiting) = anowak.get("/review").await;
    let second = waiting[0]["request_id"].as_str().unwrap().to_owned();
    assert_ne!(second, request);
    anowak
        .post("/review/start", json!({ "request_ids": [second] }))
        .await;
    let (status, withdrawn) = anowak
        .post(
            &format!("/review/{second}/decision"),
            json!({ "decision": "withdrawn", "confirmed": true }),
        )
        .await;
    assert_eq!(status, 200, "{withdrawn}");
    assert_eq!(withdrawn["status"], "Wniosek cofnięty");
    anowak.send_all().await;
    anowak.check_until(2).await;
    jkowalski.check_until(1).await;
    let check = register_check(&service, "anowak", PESEL_LZAK).await;
    assert_eq!(check["authorisations"][0]["access"], "active");
    // Someone the register does not know may not ask it; an auditor may.
    let ask = |login: &str, role: Role| {
        reqwest::Client::new()
            .post(service.url("/api/register/check"))
            .bearer_auth(staff_token(login, role))
            .json(&json!({ "pesel": PESEL_LZAK }))
            .send()
    };
    assert_eq!(ask("nieznany", Role::User).await.unwrap().status(), 403);
    assert_eq!(ask("audytor", Role::Auditor).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_local_database_that_sends_and_checks_by_itself_needs_no_ticking() {
    let service = revocation().await;
    sqlx::query("UPDATE local_databases SET auto_send = true, auto_check = true WHERE id IN ('LBD-PS12', 'LBD-KRK-2')")
        .execute(&service.pool)
        .await
        .unwrap();
    // A poison message first: a valid envelope of a form no local database ever saved.
    let js = service.jetstream().await;
    let poison = contracts::Envelope::new(
        contracts::Actor::system("revocation"),
        kit::clock::Clock::now(&kit::clock::SystemClock),
        contracts::revocation::events::FormSent {
            form_id: uuid::Uuid::now_v7(),
            kind: contracts::revocation::events::FormKind::Decision,
            request_id: uuid::Uuid::now_v7(),
            local_database_id: "LBD-PS12".into(),
            decision: Some(contracts::revocation::events::RevocationDecision::Accepted),
        },
    );
    js.publish(
        contracts::subjects::REVOCATION_FORM_SENT,
        serde_json::to_vec(&poison).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let ezielinska = At {
        service: &service,
        login: "ezielinska",
        database: "LBD-PS12",
    };
    let (status, created) = ezielinska
        .request(
            "own_unit",
            "UPW-2025-0003",
            Some("representation_withdrawn"),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["sent"], true);
    assert!(ezielinska.tab("to_send").await.is_empty());
    // Delivered by itself, and waiting for the authorising body.
    let sent = ezielinska.delivered().await;
    assert_eq!(sent.len(), 1);

    let anowak = At {
        service: &service,
        login: "anowak",
        database: "LBD-KRK-2",
    };
    eventually(WAIT, "the request to reach Kraków", || async {
        let (_, fetched) = anowak.post("/review/fetch", json!({})).await;
        (fetched["fetched"] == 1).then_some(())
    })
    .await;
    let (_, waiting) = anowak.get("/review").await;
    let request = waiting[0]["request_id"].as_str().unwrap().to_owned();
    anowak
        .post("/review/start", json!({ "request_ids": [request] }))
        .await;
    let (status, _) = anowak
        .post(
            &format!("/review/{request}/decision"),
            json!({ "decision": "accepted", "confirmed": true }),
        )
        .await;
    assert_eq!(status, 200);
    eventually(WAIT, "every form to complete by itself", || async {
        let both = ezielinska.tab("done").await.len() == 1 && anowak.tab("done").await.len() == 2;
        both.then_some(())
    })
    .await;
    let check = register_check(&service, "anowak", "83072197535").await;
    assert_eq!(check["authorisations"][0]["access"], "revoked");
    assert_eq!(
        check["authorisations"][0]["reason"],
        "representation_withdrawn"
    );

    // The poison ended in one dead letter, counted for operators; the rest went on.
    let dead = stored(&js, "DEAD_LETTER", "deadletter.revocation.>").await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("never saved"),
        "{:?}",
        dead[0].error
    );
    let metrics = reqwest::get(service.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "klucznik_dead_letters_total{consumer=\"revocation-central\"} 1",
        "klucznik_consumer_pending{consumer=\"revocation-central\"} 0",
        "klucznik_outbox_backlog 0",
        "klucznik_http_requests_total{method=\"POST\",route=\"/api/local-databases/{database}/revocation-requests\",status=\"201\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    assert!(!metrics.contains("LBD-PS12"), "no path becomes a label");
}

#[tokio::test]
async fn a_wrong_register_file_imports_nothing_and_names_every_wrong_line() {
    let service = revocation().await;
    let path = test_support::scratch_dir("register-import").join("bad.jsonl");
    std::fs::write(
        &path,
        [
            r#"{"type":"unit","id":"JST-X","kind":"jst","name":"Gmina X","parent":"NOWHERE"}"#,
            r#"{"type":"person","id":"os-x","first_name":"Jan","last_name":"X","pesel":"44051401358"}"#,
            r#"{"type":"person","id":"os-y","first_name":"Jan","last_name":"Y","pesel":"88081713574"}"#,
            r#"{"type":"authorisation","id":"UPW-X","person":"os-lzak","unit":"SP7","granted_in":"LBD-SP7","approved_by":"os-anowak","approved_at":"2025-01-01","scope":"x"}"#,
            r#"{"type":"local_database","id":"LBD-NEW","unit":"SP7","name":"Nowa"}"#,
            r#"{"type":"employee","person":"os-lzak","unit":"SP7","position":"x","boss":true}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let report = revocation::import::import(
        &service.pool,
        &path,
        TEST_REVOCATION_PESEL_KEY.as_bytes(),
        kit::clock::Clock::now(&kit::clock::SystemClock),
    )
    .await
    .unwrap();
    let lines: Vec<&str> = report
        .errors
        .iter()
        .map(|e| e.split(':').next().unwrap())
        .collect();
    assert_eq!(
        lines,
        ["wiersz 1", "wiersz 2", "wiersz 3", "wiersz 4", "wiersz 6"],
        "{:?}",
        report.errors
    );
    assert!(report.errors[2].contains("os-lzak"), "{:?}", report.errors);
    assert!(
        report.errors[3].contains("approved_by"),
        "{:?}",
        report.errors
    );
    let databases: i64 =
        sqlx::query_scalar("SELECT count(*) FROM local_databases WHERE id = 'LBD-NEW'")
            .fetch_one(&service.pool)
            .await
            .unwrap();
    assert_eq!(databases, 0);
}

#[tokio::test]
async fn hostile_and_oversized_inputs_are_refused_with_a_reason_and_change_nothing() {
    let service = revocation().await;
    let anowak = At {
        service: &service,
        login: "anowak",
        database: "LBD-KRK-1",
    };
    let too_many: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let (status, problem) = anowak
        .post("/panel/send", json!({ "form_ids": too_many }))
        .await;
    // The body limit (16 KiB) stops a long tick list before the handler's own bound.
    assert_eq!(
        (status, kind(&problem)),
        (413, "body-too-large"),
        "{problem}"
    );
    let (status, problem) = anowak.post("/panel/check", json!({ "form_ids": [] })).await;
    assert_eq!(
        (status, kind(&problem)),
        (400, "invalid-request"),
        "{problem}"
    );
    let (status, problem) = anowak
        .post(
            "/revocation-requests",
            json!({ "mode": "every_unit", "authorisation_id": "UPW-2025-0002", "confirmed": true }),
        )
        .await;
    assert_eq!(
        (status, kind(&problem)),
        (400, "invalid-request"),
        "{problem}"
    );
    let long = "U".repeat(5_000);
    let (status, _) = anowak
        .request("subordinate_unit", &long, Some("head_dismissed"), true)
        .await;
    assert_eq!(status, 404);
    let elsewhere = At {
        service: &service,
        login: "anowak",
        database: "LBD-KRK-1'; DROP TABLE requests; --",
    };
    let (status, problem) = elsewhere.get("/panel").await;
    assert_eq!((status, kind(&problem)), (404, "local-database-not-found"));
    let (status, problem) = anowak
        .post(
            "/review/not-a-uuid/decision",
            json!({ "decision": "accepted", "confirmed": true }),
        )
        .await;
    assert_eq!((status, kind(&problem)), (404, "request-not-found"));
    let (status, problem) = anowak
        .post("/review/start", json!({ "request_ids": ["not-a-uuid"] }))
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(requests_count(&service).await, 0);
    let forms: i64 = sqlx::query_scalar("SELECT count(*) FROM panel_forms")
        .fetch_one(&service.pool)
        .await
        .unwrap();
    assert_eq!(forms, 0);
}
