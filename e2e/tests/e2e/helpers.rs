//! Forms and look-ups shared by the e2e tests.

use std::process::Command;
use std::time::Duration;

use contracts::seod_status::CaseStatus;
use contracts::subjects;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::{System, eventually};

pub fn zszo_form(document_id: &str) -> Value {
    json!({
        "form": "zszo.password-reset",
        "version": 1,
        "document_id": document_id,
        "submitted_at": "2026-11-23T09:15:00Z",
        "institution": { "rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie" },
        "requester": { "login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski" },
        "contact": { "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "+48 600 100 200" },
        "account": { "login": "lzak" },
        "delivery": "electronic"
    })
}

/// A ZSZO-05 form for another account of SP 7 (`konto01` …, `test_support::system`).
pub fn zszo_form_for(document_id: &str, account: usize) -> Value {
    let mut form = zszo_form(document_id);
    form["account"]["login"] = json!(format!("konto{account:02}"));
    form
}

pub async fn submit_zszo(system: &System, form: &Value) -> contracts::seod_status::SeodStatus {
    let id = form["document_id"].as_str().expect("a document id");
    system
        .submit(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            form.to_string().as_bytes(),
            id,
            id,
        )
        .await
}

/// The last part of a problem's `type` (`…/problems/already-requested` → `already-requested`).
pub fn problem_kind(problem: &Value) -> &str {
    problem["type"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

pub async fn pool_of(system: &System, service: &str) -> PgPool {
    system.databases[service].pool().await
}

pub async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count")
}

/// Every row of every service database, every stream message and every log, as bytes.
pub async fn everything(system: &System) -> Vec<u8> {
    use futures::StreamExt;
    let mut out = Vec::new();
    // Every service running, the console too when it was started.
    for service in system.services.keys() {
        let pool = pool_of(system, service).await;
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for table in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM \"{table}\" t"
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            out.extend(rows.join("\n").into_bytes());
            // bytea reads as hex in text form: the raw bytes are searched too (an outbox
            // payload, a sealed copy), or a secret stored there could not be found.
            let binary: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'bytea'",
            )
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap();
            for column in binary {
                let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(
                    format!("SELECT \"{column}\" FROM \"{table}\""),
                ))
                .fetch_all(&pool)
                .await
                .unwrap();
                for value in values.into_iter().flatten() {
                    out.extend(value);
                    out.push(b'\n');
                }
            }
        }
        out.extend(system.services[service].log_text().into_bytes());
        for replica in system.replicas.get(service).into_iter().flatten() {
            out.extend(replica.log_text().into_bytes());
        }
    }
    let js = async_nats::jetstream::new(system.client().await);
    for spec in contracts::streams::ALL {
        let Ok(mut stream) = js.get_stream(spec.name).await else {
            continue;
        };
        if spec.work_queue {
            // A work queue takes no second consumer: what it still holds is read by sequence.
            let state = stream.info().await.unwrap().state.clone();
            for seq in state.first_sequence..=state.last_sequence {
                if let Ok(m) = stream.get_raw_message(seq).await {
                    out.extend_from_slice(&m.payload);
                }
            }
            continue;
        }
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(300), messages.next()).await
        {
            out.extend_from_slice(&m.payload);
            if let Some(headers) = &m.headers {
                for (k, v) in headers.iter() {
                    out.extend(format!("{k}: {v:?}\n").into_bytes());
                }
            }
        }
    }
    // The JetStream store on disk too.
    for entry in walk(system.nats.store_dir()) {
        out.extend(std::fs::read(entry).unwrap_or_default());
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

pub fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

pub async fn call(
    system: &System,
    service: &str,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", system.url(service)))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A GET on a service's API, with a bearer token if given; the status and the JSON body.
pub async fn get(system: &System, service: &str, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", system.url(service)));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A user's first login: the starting password, the forced change, then his own password.
pub async fn first_login(system: &System, login: &str, starting: &str) -> String {
    let (status, first) = call(
        system,
        "accounts",
        None,
        "/api/portal/login",
        json!({ "login": login, "password": starting }),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["must_change"], true,
        "the starting password must be changed first"
    );
    // A second sign-in elsewhere (another browser, or someone who saw the letter).
    let (status, elsewhere) = call(
        system,
        "accounts",
        None,
        "/api/portal/login",
        json!({ "login": login, "password": starting }),
    )
    .await;
    assert_eq!(status, 200, "{elsewhere}");
    let own = format!("Wlasne-Haslo-{}", &starting[..4]);
    let token = first["token"].as_str().unwrap();
    let (status, body) = call(
        system,
        "accounts",
        Some(token),
        "/api/portal/password",
        json!({ "new_password": own }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, ended) = call(
        system,
        "accounts",
        elsewhere["token"].as_str(),
        "/api/portal/password",
        json!({ "new_password": "Cudze-Haslo-12345" }),
    )
    .await;
    assert_eq!(
        (status, ended["type"].as_str().unwrap_or_default()),
        (401, "https://klucznik.example/problems/session-ended"),
        "the change ended the other session at once: {ended}"
    );
    let (status, again) = call(
        system,
        "accounts",
        None,
        "/api/portal/login",
        json!({ "login": login, "password": own }),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["must_change"], false);
    own
}

/// An operator (not the administrator who will realise the case) records that the
/// requester agreed by telephone to collection in person, naming his F-01 proxy if any.
pub async fn agree_in_person(system: &System, case: &str, proxy: Option<Value>) {
    let operator = system.staff_token("operator.ek04").await;
    let mut body = json!({ "delivery": "in_person", "how": "telefonicznie, 1 grudnia 2026" });
    if let Some(proxy) = proxy {
        body["proxy"] = proxy;
    }
    let path = format!("/api/cases/{case}/delivery-agreement");
    let (status, answer) = call(system, "intake", Some(&operator), &path, body).await;
    assert_eq!(status, 202, "{answer}");
}

/// The administrator takes the case as soon as it is in the queue and asks to realise it
/// with `delivery`; what intake answered.
pub async fn take_and_ask_to_realise(system: &System, case: &str, delivery: &str) -> (u16, Value) {
    let admin = system.staff_token("admin.ek04").await;
    let path = |action: &str| format!("/api/cases/{case}/{action}");
    test_support::eventually(Duration::from_secs(20), "the case in the queue", || async {
        let (status, _) = call(system, "intake", Some(&admin), &path("take"), json!({})).await;
        (status == 202).then_some(())
    })
    .await;
    call(
        system,
        "intake",
        Some(&admin),
        &path("realise"),
        json!({ "delivery": delivery }),
    )
    .await
}

/// An administrator takes the case as soon as it is in the queue and realises it.
pub async fn take_and_realise(system: &System, case: &str, delivery: &str) {
    let (status, body) = take_and_ask_to_realise(system, case, delivery).await;
    assert_eq!(status, 202, "{body}");
}

/// The administrator takes the case, but realising it with `delivery` is refused (409).
pub async fn take_and_realise_refused(system: &System, case: &str, delivery: &str) {
    let (status, body) = take_and_ask_to_realise(system, case, delivery).await;
    assert_eq!(status, 409, "{body}");
}

/// Waits until accounts has verified the case (intake knows who may ask for it).
pub async fn verified(system: &System, case: &str) {
    let intake = pool_of(system, "intake").await;
    test_support::eventually(
        Duration::from_secs(20),
        "accounts to verify the case",
        || async {
            let verified: bool = sqlx::query_scalar(
                "SELECT verified_at IS NOT NULL FROM cases WHERE case_number = $1",
            )
            .bind(case)
            .fetch_one(&intake)
            .await
            .ok()?;
            verified.then_some(())
        },
    )
    .await;
}

/// The statuses SEOD heard for `document`, once they include `until`.
pub async fn statuses_until(
    system: &System,
    document: &str,
    until: CaseStatus,
    limit: Duration,
) -> Vec<CaseStatus> {
    test_support::eventually(
        limit,
        &format!("SEOD to hear `{}`", until.as_str()),
        || async {
            let statuses: Vec<CaseStatus> = system
                .statuses(document)
                .await
                .into_iter()
                .map(|s| s.status)
                .collect();
            statuses.contains(&until).then_some(statuses)
        },
    )
    .await
}

pub fn tool(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed ({e}); run `make deps` (Debian: qpdf, poppler-utils)")
        })
}

/// What the director receives: the encrypted letter (from the mailbox) and the cipher
/// password (from the SMS), and what the letter says.
pub struct Received {
    pub cipher_password: String,
    pub login: String,
    pub starting_password: String,
}

pub async fn receive(system: &System, case: &str, rspo_email: &str, mobile: &str) -> Received {
    let (mail, sms) = eventually(
        Duration::from_secs(60),
        "the e-mail and the SMS",
        || async {
            let mail = system
                .smtp
                .messages()
                .into_iter()
                .find(|m| String::from_utf8_lossy(m).contains(&case.replace('/', "-")))?;
            let sms = system
                .sms
                .messages()
                .into_iter()
                .find(|m| m.contains(case))?;
            Some((mail, sms))
        },
    )
    .await;
    let message = MessageParser::default()
        .parse(&mail)
        .expect("a MIME message");
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        to, rspo_email,
        "the letter goes to the institution's RSPO address"
    );
    let body = message.body_text(0).unwrap_or_default().to_string();
    let attachment = message
        .attachments()
        .next()
        .expect("the encrypted letter is attached");
    assert!(attachment.attachment_name().unwrap_or("").ends_with(".pdf"));
    let sms: Value = serde_json::from_str(&sms).expect("the generic gateway gets JSON");
    assert_eq!(
        sms["to"], mobile,
        "the cipher password goes to the director's official mobile"
    );
    let text = sms["message"].as_str().unwrap();
    assert!(text.is_ascii(), "GSM-7 friendly: {text}");
    let cipher_password = text
        .split("): ")
        .nth(1)
        .and_then(|rest| rest.split(". ").next())
        .expect("the password in the SMS")
        .to_owned();
    assert!(
        !body.contains(&cipher_password),
        "the e-mail does not carry its own key"
    );

    let dir = test_support::scratch_dir("letter");
    let encrypted = dir.join("letter.pdf");
    std::fs::write(&encrypted, attachment.contents()).unwrap();
    let decrypted = dir.join("open.pdf");
    let wrong = tool(
        "qpdf",
        &[
            "--password=Zle-Haslo-123",
            "--decrypt",
            encrypted.to_str().unwrap(),
            decrypted.to_str().unwrap(),
        ],
    );
    assert!(
        !wrong.status.success(),
        "a wrong password does not open the letter"
    );
    let right = tool(
        "qpdf",
        &[
            &format!("--password={cipher_password}"),
            "--decrypt",
            encrypted.to_str().unwrap(),
            decrypted.to_str().unwrap(),
        ],
    );
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    let text = tool("pdftotext", &["-layout", decrypted.to_str().unwrap(), "-"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("Hasło startowe należy zmienić przy pierwszym logowaniu"),
        "{text}"
    );
    let value_after = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{label} in the letter:\n{text}"))
    };
    Received {
        cipher_password,
        login: value_after("Login:"),
        starting_password: value_after("Hasło startowe:"),
    }
}
