//! audit as an inspector relies on it: tampering in the database is named by /verify, and
//! the auditor's questions are answered from real flows.

use std::time::Duration;

use contracts::subjects;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{submit_zszo, zszo_form, zszo_form_for};

async fn verify(system: &System) -> (u16, Value) {
    let response = reqwest::get(format!("{}/verify", system.url("audit")))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post_checkpoint(system: &System) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/checkpoints", system.url("audit")))
        .bearer_auth(system.auditor_token().await)
        .send()
        .await
        .unwrap()
}

async fn sign_checkpoint(system: &System) {
    let response = post_checkpoint(system).await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// A superuser session that bypasses the append-only triggers, as an intruder with
/// database access would.
async fn intruder(system: &System) -> sqlx::PgConnection {
    let mut conn = sqlx::PgConnection::connect_with(&system.databases["audit"].options())
        .await
        .unwrap();
    conn.execute("SET session_replication_role = replica")
        .await
        .unwrap();
    conn
}

async fn recorded_count(system: &System) -> usize {
    system.audit_events("limit=10000").await.len()
}

/// Submits a few forms and waits until audit has recorded all they caused.
async fn some_history(system: &System) -> usize {
    for i in 0..4 {
        submit_zszo(system, &zszo_form_for(&format!("SEOD-AUD-{i}"), i + 1)).await;
    }
    let mut bad = zszo_form("SEOD-AUD-BAD");
    bad["contact"]["rspo_email"] = json!("not-an-address");
    submit_zszo(system, &bad).await;
    // 5 forms, 5 statuses, 4 registrations, 1 rejection, 4 verifications by accounts.
    eventually(
        Duration::from_secs(20),
        "audit to record the history",
        || async {
            let n = recorded_count(system).await;
            (n >= 19).then_some(n)
        },
    )
    .await
}

#[tokio::test]
async fn verify_names_a_changed_a_removed_and_an_inserted_record_and_cut_off_newest_records() {
    let system = System::start(SystemOptions::default()).await;
    let n = some_history(&system).await as i64;
    sign_checkpoint(&system).await;
    let (status, report) = verify(&system).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["valid"], true);
    assert_eq!(report["records_checked"], n);

    let audit_pool = system.databases["audit"].pool().await;
    let refused = sqlx::query("UPDATE audit_records SET actor_id = 'x' WHERE position = 1")
        .execute(&audit_pool)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    let refused = sqlx::query("DELETE FROM audit_records WHERE position = 1")
        .execute(&audit_pool)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");

    let mut db = intruder(&system).await;
    db.execute("CREATE TEMP TABLE pristine AS SELECT * FROM audit_records")
        .await
        .unwrap();
    let restore = "DELETE FROM audit_records; INSERT INTO audit_records SELECT * FROM pristine";

    // A record changed in place.
    db.execute("UPDATE audit_records SET actor_id = 'someone-else' WHERE position = 3")
        .await
        .unwrap();
    assert_problem(&system, 3, "changed").await;
    db.execute(restore).await.unwrap();

    // A record changed together with its own hash: the next one no longer follows it.
    db.execute("UPDATE audit_records SET body = '{}', hash = '\\x00' WHERE position = 5")
        .await
        .unwrap();
    assert_problem(&system, 5, "changed").await;
    db.execute(restore).await.unwrap();

    // A record removed from the middle.
    db.execute("DELETE FROM audit_records WHERE position = 4")
        .await
        .unwrap();
    assert_problem(&system, 4, "removed").await;
    db.execute(restore).await.unwrap();

    // A record inserted after the head, made to look like the others.
    db.execute(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_records SELECT {} AS position, stream, stream_seq, 'forged', subject, event_type,
            occurred_at, recorded_at, actor_kind, actor_id, institution_rspo_id, case_number, document_id,
            subject_login, pesel_hash, revocation_request_id, trace_id, body, prev_hash, hash
         FROM audit_records WHERE position = 2",
        n + 1
    )))
    .await
    .unwrap();
    assert_problem(&system, n + 1, "changed").await;
    db.execute(restore).await.unwrap();
    let (status, report) = verify(&system).await;
    assert_eq!(status, 200, "restored: {report}");

    // The newest records cut off, with the head and the checkpoints in the database
    // rewound too: only the checkpoint kept outside the database shows it.
    db.execute(sqlx::AssertSqlSafe(format!(
        "DELETE FROM audit_records WHERE position > {}",
        n - 2
    )))
    .await
    .unwrap();
    db.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_chain_head SET position = {0}, hash = (SELECT hash FROM audit_records WHERE position = {0})",
        n - 2
    )))
    .await
    .unwrap();
    db.execute("DELETE FROM audit_checkpoints").await.unwrap();
    assert_problem(&system, n - 1, "truncated").await;
    // audit will not sign the shorter chain, which would hide the cut.
    let refused = post_checkpoint(&system).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem["type"]
            .as_str()
            .map(|t| t.ends_with("chain-does-not-extend-checkpoint")),
        Some(true),
        "{problem}"
    );
    assert_problem(&system, n - 1, "truncated").await;
}

async fn assert_problem(system: &System, position: i64, kind: &str) {
    let (status, report) = verify(system).await;
    assert_eq!(status, 409, "{report}");
    assert_eq!(report["valid"], false);
    assert_eq!(report["problem"]["position"], position, "{report}");
    assert_eq!(report["problem"]["kind"], kind, "{report}");
}

#[tokio::test]
async fn an_auditor_finds_records_by_case_institution_person_pesel_request_and_time_and_exports_csv()
 {
    let system = System::start(SystemOptions::default()).await;
    let status = submit_zszo(&system, &zszo_form("SEOD-Q-1")).await;
    let case = status.case_number.unwrap();
    let mut other = zszo_form("SEOD-Q-2");
    other["institution"]["rspo_id"] = json!("777");
    other["account"]["login"] = json!("mnowak");
    submit_zszo(&system, &other).await;

    // A revocation event carrying a PESEL (revocation's own carry only a mask; audit must
    // minimise whatever comes).
    let js = async_nats::jetstream::new(system.client().await);
    let event = json!({
        "id": uuid::Uuid::now_v7(), "type": "revocation.authorisation.revoked", "version": 1,
        "occurred_at": "2026-11-23T12:00:00Z",
        "actor": { "kind": "system", "id": "organ-jst-1" },
        "institution_rspo_id": "12345",
        "data": { "request_id": "REV-9", "authorisation_id": "UPW-9", "person_id": "os-9",
                  "reason": "head_dismissed", "granted_in": "LBD-9",
                  "pesel": "44051401359", "revoked_at": "2026-11-23T12:00:00Z" }
    });
    js.publish(
        subjects::REVOCATION_AUTHORISATION_REVOKED,
        event.to_string().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();

    let by_pesel = eventually(
        Duration::from_secs(20),
        "the revocation to be recorded",
        || async {
            let found = system.audit_events("pesel=44051401359").await;
            (!found.is_empty()).then_some(found)
        },
    )
    .await;
    assert_eq!(by_pesel.len(), 1);
    assert_eq!(by_pesel[0]["revocation_request_id"], "REV-9");
    assert_eq!(
        by_pesel[0]["body"]["data"]["pesel"]["pesel_masked"],
        "*********59"
    );
    assert!(
        !by_pesel[0].to_string().contains("44051401359"),
        "no PESEL in clear"
    );
    assert_eq!(
        system
            .audit_events("revocation_request_id=REV-9")
            .await
            .len(),
        1
    );
    let revocations = system.audit_get("/api/reports/revocations").await;
    assert_eq!(revocations["events"][0]["actor_id"], "organ-jst-1");
    assert_eq!(
        revocations["events"][0]["body"]["data"]["reason"],
        "head_dismissed"
    );

    eventually(
        Duration::from_secs(20),
        "both cases to be recorded",
        || async {
            (system
                .audit_events("event_type=intake.case.registered")
                .await
                .len()
                == 2)
                .then_some(())
        },
    )
    .await;
    let by_case = system
        .audit_events(&format!("case_number={}", case.replace('/', "%2F")))
        .await;
    assert!(by_case.iter().all(|e| e["case_number"] == case.as_str()));
    assert!(by_case.len() >= 2, "registration and status: {by_case:?}");
    let by_institution = system.audit_events("institution_rspo_id=777").await;
    assert!(
        !by_institution.is_empty()
            && by_institution
                .iter()
                .all(|e| e["institution_rspo_id"] == "777")
    );
    let about_mnowak = system.audit_events("login=mnowak").await;
    assert!(
        about_mnowak
            .iter()
            .all(|e| e["subject_login"] == "mnowak" || e["actor_id"] == "mnowak")
    );
    assert_eq!(
        about_mnowak.len(),
        3,
        "the form, its registration and the loss incident it opened: {about_mnowak:?}"
    );
    let by_director = system
        .audit_events("login=jkowalski&event_type=intake.case.registered")
        .await;
    assert_eq!(by_director.len(), 2);
    assert!(
        system
            .audit_events("from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")
            .await
            .is_empty()
    );
    assert!(
        !system
            .audit_events("from=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );

    let page = system.audit_events("limit=2").await;
    assert_eq!(page.len(), 2);
    let next = system
        .audit_events(&format!("limit=2&after_position={}", page[1]["position"]))
        .await;
    assert!(next[0]["position"].as_i64() > page[1]["position"].as_i64());
    // Newest first, a page at a time from the head backwards.
    let newest = system.audit_get("/api/events?order=newest&limit=2").await;
    let positions: Vec<i64> = newest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions[0] > positions[1], "{positions:?}");
    let before = newest["next_before_position"].as_i64().unwrap();
    let older = system
        .audit_get(&format!(
            "/api/events?order=newest&limit=2&before_position={before}"
        ))
        .await;
    assert!(older["events"][0]["position"].as_i64().unwrap() < before);

    let auditor = system.auditor_token().await;
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/events?institution_rspo_id=777&format=csv",
            system.url("audit")
        ))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("position,occurred_at,recorded_at,event_type")
    );
    assert_eq!(lines.count(), by_institution.len());

    let url = format!("{}/api/events?pesel=123", system.url("audit"));
    let bad = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");

    // The record is for auditors and administrators, signed in.
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    let operator = reqwest::Client::new()
        .get(&url)
        .bearer_auth(system.staff_token("operator.ek04").await)
        .send()
        .await
        .unwrap();
    assert_eq!(
        operator.status(),
        403,
        "an operator does not read the record"
    );
}

#[tokio::test]
async fn the_newest_checkpoint_is_kept_outside_the_database_in_a_file_and_on_the_bus() {
    let file = test_support::scratch_dir("checkpoint").join("checkpoint.json");
    let mut options = SystemOptions::default();
    options.env.insert(
        "KLUCZNIK_AUDIT__CHECKPOINT_FILE".into(),
        file.to_string_lossy().into_owned(),
    );
    // Only the checkpoint this test asks for: a periodic one could land between its reads.
    options.env.insert(
        "KLUCZNIK_AUDIT__CHECKPOINT_INTERVAL_SECS".into(),
        "3600".into(),
    );
    let system = System::start(options).await;
    some_history(&system).await;
    sign_checkpoint(&system).await;
    let latest: Value = reqwest::get(format!("{}/api/checkpoints/latest", system.url("audit")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved, latest);
    assert_eq!(
        saved["position"].as_i64().unwrap() as usize,
        recorded_count(&system).await
    );
    assert_eq!(saved["signature"].as_str().unwrap().len(), 128);

    let js = async_nats::jetstream::new(system.client().await);
    let on_the_bus = eventually(
        Duration::from_secs(10),
        "the checkpoint on the AUDIT stream",
        || async {
            let stream = js.get_stream("AUDIT").await.ok()?;
            let message = stream
                .get_last_raw_message_by_subject(subjects::AUDIT_CHECKPOINT_SIGNED)
                .await
                .ok()?;
            let published: Value = serde_json::from_slice(&message.payload).ok()?;
            (published["position"] == saved["position"]).then_some(published)
        },
    )
    .await;
    assert_eq!(on_the_bus, saved);
}

#[tokio::test]
async fn old_records_leave_only_as_an_exported_segment_under_a_signed_checkpoint() {
    let mut options = SystemOptions::default();
    options
        .env
        .insert("KLUCZNIK_AUDIT__RETENTION_DAYS".into(), "0".into());
    let system = System::start(options).await;
    let n = some_history(&system).await;
    let audit = system.url("audit");
    let client = reqwest::Client::new();
    let auditor = system.auditor_token().await;

    let wrong = client
        .post(format!("{audit}/api/retention/prune"))
        .bearer_auth(&auditor)
        .json(&json!({ "upto_position": 3, "export_sha256": "00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status(),
        422,
        "an export that was not made cannot be claimed"
    );

    let file = test_support::scratch_dir("prune").join("segment.jsonl");
    let out = std::process::Command::new(test_support::process::binary_path("klucznikctl"))
        .args([
            "audit",
            "--audit-url",
            &audit,
            "--token",
            &auditor,
            "prune",
            "--out",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = std::fs::read_to_string(&file).unwrap();
    let pruned = exported.lines().count();
    assert!(pruned >= n, "{pruned} < {n}");
    let last: Value = serde_json::from_str(exported.lines().last().unwrap()).unwrap();
    assert_eq!(last["position"].as_u64().unwrap() as usize, pruned);

    assert!(
        system.audit_events("limit=10000").await.len() < n,
        "the segment left the database"
    );
    let (status, report) = verify(&system).await;
    assert_eq!(status, 200, "{report}");

    submit_zszo(&system, &zszo_form("SEOD-AFTER-PRUNE")).await;
    eventually(
        Duration::from_secs(20),
        "the new form to be recorded",
        || async {
            (!system
                .audit_events("document_id=SEOD-AFTER-PRUNE")
                .await
                .is_empty())
            .then_some(())
        },
    )
    .await;
    let (status, report) = verify(&system).await;
    assert_eq!(
        status, 200,
        "the chain goes on after the pruned segment: {report}"
    );
    assert!(report["first_position"].as_u64().unwrap() as usize > pruned);
}

#[tokio::test]
async fn a_realised_reset_opens_one_starting_password_loss_incident_linked_to_its_case() {
    let system = System::start(SystemOptions::default()).await;
    let js = async_nats::jetstream::new(system.client().await);
    let id = uuid::Uuid::now_v7();
    let issued = json!({
        "id": id, "type": subjects::ACCOUNTS_CREDENTIAL_ISSUED, "version": 1,
        "occurred_at": "2026-11-23T12:00:00Z",
        "actor": { "kind": "person", "id": "admin-ek04", "role": "administrator" },
        "institution_rspo_id": "12345", "case_number": "ZSZO-05/2026/000077",
        "data": { "case_number": "ZSZO-05/2026/000077", "login": "lzak", "delivery": "electronic",
                  "sealed_credentials": "c2VhbGVk", "expires_at": "2026-11-30T12:00:00Z" }
    });
    // Published twice under two message ids, as a careless publisher might: one incident.
    for message_id in [id.to_string(), format!("{id}-again")] {
        js.send_publish(
            subjects::ACCOUNTS_CREDENTIAL_ISSUED,
            async_nats::jetstream::message::PublishMessage::build()
                .payload(issued.to_string().into())
                .message_id(message_id),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let incidents = eventually(
        Duration::from_secs(20),
        "the incident to be opened",
        || async {
            let body = system
                .audit_get("/api/incidents?case_number=ZSZO-05%2F2026%2F000077")
                .await;
            let list = body["incidents"].as_array()?.clone();
            (!list.is_empty()).then_some(list)
        },
    )
    .await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["category"], "starting_password_loss");
    assert!(incidents[0]["number"].as_str().unwrap().starts_with("INC/"));
    let recorded = system
        .audit_events("event_type=accounts.credential.issued")
        .await;
    assert!(!recorded.is_empty());
    assert_eq!(
        recorded[0]["body"]["data"]["sealed_credentials"], "[removed]",
        "no sealed copy in audit"
    );
    let (status, report) = verify(&system).await;
    assert_eq!(status, 200, "{report}");
}

#[tokio::test]
async fn audits_own_role_cannot_update_delete_or_forge_a_prune() {
    let system = System::start(SystemOptions::default()).await;
    let n = some_history(&system).await;
    let db = &system.databases["audit"];
    let mut own = sqlx::PgConnection::connect_with(&db.app_options())
        .await
        .unwrap();
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut own)
        .await
        .unwrap();
    assert_eq!(
        who,
        db.app_username(),
        "audit's own role, as the service runs"
    );
    let attempts = [
        "UPDATE audit_records SET body = '{}' WHERE position = 1",
        "DELETE FROM audit_records WHERE position = 1",
        "TRUNCATE audit_records",
        "UPDATE audit_retention_policy SET days = 0",
        "INSERT INTO audit_pruned_segments (upto_position, hash, pruned_at, export_sha256, records)
             VALUES (3, '\\x00', now(), 'forged', 3)",
    ];
    for attempt in attempts {
        let refused = sqlx::query(sqlx::AssertSqlSafe(attempt))
            .execute(&mut own)
            .await;
        assert!(refused.is_err(), "audit's role may not: {attempt}");
    }
    // The prune path is not opened by a session setting, and the prune function refuses a
    // segment younger than the retention policy (five years by default).
    let forged = async {
        sqlx::query("SELECT set_config('klucznik.prune_upto', '3', false)")
            .execute(&mut own)
            .await?;
        sqlx::query("SELECT set_config('klucznik.pruning', 'audit_prune', false)")
            .execute(&mut own)
            .await?;
        sqlx::query("DELETE FROM audit_records WHERE position <= 3")
            .execute(&mut own)
            .await
    }
    .await;
    assert!(forged.is_err(), "a session setting opens nothing");
    let hash: String =
        sqlx::query_scalar("SELECT encode(hash, 'hex') FROM audit_records WHERE position = 3")
            .fetch_one(&mut own)
            .await
            .unwrap();
    let through_the_function =
        sqlx::query("SELECT audit_prune(3, $1, 3, 'forged', 'intruz', now())")
            .bind(&hash)
            .execute(&mut own)
            .await;
    let error = through_the_function
        .expect_err("too recent to prune")
        .to_string();
    assert!(
        error.contains("younger than the retention period"),
        "{error}"
    );

    assert_eq!(recorded_count(&system).await, n, "nothing was removed");
    let (status, report) = verify(&system).await;
    assert_eq!(status, 200, "{report}");
}

/// The loss is registered as an incident when the request is registered, of the kind the
/// form gives; the realisation and the delivery are added to it, not a second incident.
#[tokio::test]
async fn a_registered_request_opens_its_loss_incident_and_what_follows_joins_it() {
    let system = System::start(SystemOptions::default()).await;
    let mut form = zszo_form("SEOD-INC-1");
    form["loss"] = json!("unauthorised_access");
    let status = submit_zszo(&system, &form).await;
    let case = status.case_number.expect("a case");
    let query = format!("/api/incidents?case_number={}", case.replace('/', "%2F"));
    let opened = eventually(
        Duration::from_secs(20),
        "the incident at registration",
        || async {
            let list = system.audit_get(&query).await["incidents"]
                .as_array()?
                .clone();
            (!list.is_empty()).then_some(list)
        },
    )
    .await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["category"], "starting_password_loss");
    let number = opened[0]["number"].as_str().unwrap().to_owned();
    let detail_path = format!("/api/incidents/{}", number.trim_start_matches("INC/"));
    let detail = system.audit_get(&detail_path).await;
    assert!(
        detail["description"]
            .as_str()
            .unwrap()
            .contains("nieuprawniony dostęp"),
        "{detail}"
    );

    crate::helpers::verified(&system, &case).await;
    crate::helpers::take_and_realise(&system, &case, "electronic").await;
    crate::helpers::receive(&system, &case, "sp7@edu.krakow.pl", "48600100200").await;
    let detail = eventually(Duration::from_secs(30), "the delivery added", || async {
        let detail = system.audit_get(&detail_path).await;
        (detail["record_positions"].as_array()?.len() >= 3).then_some(detail)
    })
    .await;
    let list = system.audit_get(&query).await;
    assert_eq!(
        list["incidents"].as_array().unwrap().len(),
        1,
        "one incident for the case: {list}"
    );
    let positions: Vec<i64> = detail["record_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    let issued = system
        .audit_events(&format!(
            "event_type=accounts.credential.issued&case_number={}",
            case.replace('/', "%2F")
        ))
        .await;
    let issued_at = issued[0]["position"].as_i64().unwrap();
    assert!(positions.contains(&issued_at), "{positions:?} {issued_at}");
}
