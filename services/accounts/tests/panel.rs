//! The central admin panel on a real database and NATS: the staff import, the local
//! administrators a director authorises and withdraws, "Utwórz konto" with its one hand-over
//! sheet, the permissions, the history and the institution's forms; and every refusal.

use contracts::streams;
use kit::auth::Role;
use serde_json::{Value, json};
use test_support::in_process::staff_token;
use test_support::{eventually, stored, workspace_root};

mod common;
use common::{Accounts, WAIT, accounts};

/// accounts with the sample directory and the sample staff.
async fn with_staff() -> Accounts {
    let accounts = accounts().await;
    let report = import_staff(
        &accounts,
        &workspace_root().join("services/accounts/sample/staff.csv"),
    )
    .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    accounts
}

async fn import_staff(
    accounts: &Accounts,
    path: &std::path::Path,
) -> accounts::import_staff::Report {
    let now = kit::clock::Clock::now(&kit::clock::SystemClock);
    accounts::import_staff::import(&accounts.pool, path, &[7; 32], now, &mut |_| {})
        .await
        .expect("the file reads")
}

fn scratch_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = test_support::scratch_dir("staff-import").join(name);
    std::fs::write(&path, text).unwrap();
    path
}

struct Caller {
    client: reqwest::Client,
    token: String,
}

fn as_person(login: &str, role: Role) -> Caller {
    Caller {
        client: reqwest::Client::new(),
        token: staff_token(login, role),
    }
}

impl Caller {
    async fn get(&self, accounts: &Accounts, path: &str) -> reqwest::Response {
        self.client
            .get(accounts.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, accounts: &Accounts, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(accounts.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, accounts: &Accounts, path: &str) -> Value {
        let response = self.get(accounts, path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

fn names(page: &Value) -> Vec<String> {
    page["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m["last_name"].as_str().unwrap(),
                m["first_name"].as_str().unwrap()
            )
        })
        .collect()
}

async fn member_id(accounts: &Accounts, director: &Caller, query: &str) -> String {
    let page = director
        .json(accounts, &format!("/api/panel/staff?q={query}"))
        .await;
    assert_eq!(page["total"], 1, "{query}: {page}");
    page["members"][0]["id"].as_str().unwrap().to_owned()
}

fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a PDF");
    doc.extract_text(&[1]).unwrap()
}

/// A problem's type without its base address.
fn kind(body: &Value) -> Option<&str> {
    body["type"].as_str().and_then(|t| t.rsplit('/').next())
}

async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_staff_import_reports_every_bad_row_imports_nothing_then_and_runs_again_without_duplicates()
 {
    let accounts = accounts().await;
    let sample = workspace_root().join("services/accounts/sample/staff.csv");
    let first = import_staff(&accounts, &sample).await;
    assert_eq!(
        (first.rows, first.created, first.updated),
        (11, 11, 0),
        "{:?}",
        first.errors
    );
    let again = import_staff(&accounts, &sample).await;
    assert_eq!((again.created, again.updated), (0, 11));
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM staff_members")
            .fetch_one(&accounts.pool)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 11);

    let bad = scratch_file(
        "bad.csv",
        "rspo_id,first_name,last_name,pesel,position,employment,login\n\
         12345,Nowa,Osoba,44051401359,nauczycielka,zatrudniona,\n\
         12345,Jan,Nowak,44051401358,nauczyciel,zatrudniony,\n\
         99999,Ewa,Kos,02270803624,sekretarka,zatrudniona,\n\
         12345,Anna,Lis,85031201233,pedagog,zatrudniona,nieistnieje\n",
    );
    let report = import_staff(&accounts, &bad).await;
    assert_eq!(report.created + report.updated, 0);
    assert_eq!(report.errors.len(), 3, "{:?}", report.errors);
    assert!(
        report.errors[0].starts_with("wiersz 3: pole `pesel`"),
        "{:?}",
        report.errors
    );
    assert!(
        report.errors[1].starts_with("wiersz 4: placówka RSPO 99999"),
        "{:?}",
        report.errors
    );
    assert!(
        report.errors[2].starts_with("wiersz 5: nie ma konta `nieistnieje`"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        count().await,
        11,
        "the good row of a bad file is not imported either"
    );

    // No PESEL is kept whole: only its keyed hash and its last two digits.
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM staff_members WHERE pesel_index LIKE '%85031201233%'
            OR pesel_masked LIKE '%850312%'",
    )
    .fetch_one(&accounts.pool)
    .await
    .unwrap();
    assert_eq!(kept, 0);
    let js = accounts.jetstream().await;
    let imported = eventually(WAIT, "the import's event", || async {
        let events = stored(&js, streams::ACCOUNTS.name, "accounts.staff.imported").await;
        (events.len() == 2).then_some(events)
    })
    .await;
    let last: Value = serde_json::from_slice(&imported[1].payload).unwrap();
    assert_eq!(last["data"]["updated"], 11);
}

#[tokio::test]
async fn the_search_ignores_case_and_polish_letters_keeps_polish_order_and_one_institution() {
    let accounts = with_staff().await;
    let director = as_person("jkowalski", Role::Director);
    let all = director
        .json(&accounts, "/api/panel/staff?per_page=100")
        .await;
    assert_eq!(
        names(&all),
        [
            "Ćwiek Ola",
            "Kowal Stefan",
            "Nowak Adam",
            "Nowak Anna",
            "Śliwiński Grzegorz",
            "Wójcik Małgorzata",
            "Wróblewska Żaneta",
            "Żak Leszek",
            "Żak Łukasz",
        ],
        "Polish alphabetical order, and nobody of another institution"
    );
    assert_eq!(all["members"][0]["pesel_masked"], "*********13");
    let zak = director.json(&accounts, "/api/panel/staff?q=ZAK").await;
    assert_eq!(names(&zak), ["Żak Leszek", "Żak Łukasz"]);
    let one = director
        .json(&accounts, "/api/panel/staff?q=lukasz%20zak")
        .await;
    assert_eq!(names(&one), ["Żak Łukasz"]);
    assert_eq!(one["members"][0]["login"], "lzak");
    let sliw = director.json(&accounts, "/api/panel/staff?q=śliw").await;
    assert_eq!(names(&sliw), ["Śliwiński Grzegorz"]);
    let page = director
        .json(&accounts, "/api/panel/staff?per_page=4&page=3")
        .await;
    assert_eq!((page["total"].as_i64(), names(&page).len()), (Some(9), 1));
    // A wildcard typed is a letter, not a pattern.
    let none = director.json(&accounts, "/api/panel/staff?q=%25").await;
    assert_eq!(none["total"], 0);
    let (status, body) = problem(director.get(&accounts, "/api/panel/staff?page=x").await).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("page")));
}

#[tokio::test]
async fn only_a_local_administrator_sees_the_panel_and_the_director_alone_grants_and_withdraws() {
    let accounts = with_staff().await;
    let director = as_person("jkowalski", Role::Director);
    let deputy = as_person("mwojcik", Role::LocalAdministrator);
    for caller in [
        &deputy,
        &as_person("admin.ek04", Role::Administrator),
        &as_person("pzo-admin-12345", Role::Director),
    ] {
        let (status, body) = problem(caller.get(&accounts, "/api/panel/staff").await).await;
        assert_eq!(
            (status, kind(&body)),
            (403, Some("not-local-administrator"))
        );
    }
    let (status, body) = problem(
        director
            .post(
                &accounts,
                "/api/panel/local-admins",
                json!({"login": "kszczesniak"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (404, Some("login")),
        "another institution's person: {body}"
    );
    let (status, _) = problem(
        director
            .post(
                &accounts,
                "/api/panel/local-admins",
                json!({"login": "jkowalski"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 409);

    let granted = director
        .post(
            &accounts,
            "/api/panel/local-admins",
            json!({"login": "MWojcik "}),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.unwrap();
    assert!(
        granted["totp_enrolment_until"].is_string(),
        "without a second factor: {granted}"
    );
    let (status, body) = problem(
        director
            .post(
                &accounts,
                "/api/panel/local-admins",
                json!({"login": "mwojcik"}),
            )
            .await,
    )
    .await;
    assert_eq!((status, kind(&body)), (409, Some("already-granted")));

    let page = deputy.json(&accounts, "/api/panel/staff").await;
    assert_eq!(page["director"], false);
    let (status, body) = problem(deputy.get(&accounts, "/api/panel/local-admins").await).await;
    assert_eq!((status, kind(&body)), (403, Some("not-director")));
    let (status, _) = problem(
        deputy
            .post(
                &accounts,
                "/api/panel/local-admins",
                json!({"login": "lzak"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 403);
    // He signs in to the console now: his sign-in draws his TOTP enrolment.
    let role: Option<String> = sqlx::query_scalar(concat!(
        "SELECT ",
        accounts::console_role_sql!(),
        " FROM accounts a WHERE login = 'mwojcik'"
    ))
    .fetch_one(&accounts.pool)
    .await
    .unwrap();
    assert_eq!(role.as_deref(), Some("local_administrator"));

    let list = director.json(&accounts, "/api/panel/local-admins").await;
    assert_eq!(list["grants"][0]["login"], "mwojcik");
    assert_eq!(list["grants"][0]["granted_by"], "jkowalski");
    let withdrawn = director
        .post(
            &accounts,
            "/api/panel/local-admins/mwojcik/withdraw",
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    let (status, _) = problem(deputy.get(&accounts, "/api/panel/staff").await).await;
    assert_eq!(
        status, 403,
        "a withdrawn local administrator is refused at once"
    );
    let (status, _) = problem(
        director
            .post(
                &accounts,
                "/api/panel/local-admins/mwojcik/withdraw",
                json!({}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let list = director.json(&accounts, "/api/panel/local-admins").await;
    assert_eq!(list["grants"][0]["withdrawn_by"], "jkowalski");

    let js = accounts.jetstream().await;
    for subject in [
        "accounts.local-admin.granted",
        "accounts.local-admin.withdrawn",
    ] {
        let events = eventually(WAIT, subject, || async {
            let events = stored(&js, streams::ACCOUNTS.name, subject).await;
            (!events.is_empty()).then_some(events)
        })
        .await;
        let event: Value = serde_json::from_slice(&events[0].payload).unwrap();
        assert_eq!(event["actor"]["id"], "jkowalski");
        assert_eq!(event["actor"]["role"], "director");
        assert_eq!(event["institution_rspo_id"], "12345");
        assert_eq!(event["data"]["login"], "mwojcik");
    }
}

#[tokio::test]
async fn utworz_konto_gives_the_sheet_once_keeps_only_the_hash_and_records_every_step() {
    let accounts = with_staff().await;
    let director = as_person("jkowalski", Role::Director);
    let leszek = member_id(&accounts, &director, "leszek").await;
    let path = format!("/api/panel/staff/{leszek}/account");

    let (status, body) = problem(
        director
            .post(
                &accounts,
                &path,
                json!({"permissions": ["dziennik.nauczyciel", "root"]}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, kind(&body), body["field"].as_str()),
        (422, Some("unknown-permission"), Some("permissions"))
    );

    let created = director
        .post(
            &accounts,
            &path,
            json!({"permissions": ["dziennik.nauczyciel", "arkusz.podglad"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert_eq!(
        created.headers()["klucznik-login"],
        "lzak2",
        "Łukasz Żak has lzak already"
    );
    let sheet = pdf_text(&created.bytes().await.unwrap());
    assert!(
        sheet.contains("Leszek Żak") && sheet.contains("lzak2"),
        "{sheet}"
    );
    let password = sheet
        .lines()
        .find_map(|line| line.trim().strip_prefix("Hasło startowe:").map(str::trim))
        .filter(|p| p.len() >= 12)
        .or_else(|| {
            let lines: Vec<&str> = sheet.lines().map(str::trim).collect();
            let at = lines.iter().position(|l| l.starts_with("Hasło startowe"))?;
            lines.get(at + 1).copied()
        })
        .unwrap_or_else(|| panic!("no starting password on the sheet: {sheet}"))
        .to_owned();

    let (status, body) = problem(director.post(&accounts, &path, json!({})).await).await;
    assert_eq!((status, kind(&body)), (409, Some("account-exists")));

    let (hash, status, must_change): (String, String, bool) = sqlx::query_as(
        "SELECT password_hash, status, must_change FROM accounts WHERE login = 'lzak2'",
    )
    .fetch_one(&accounts.pool)
    .await
    .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&password));
    assert_eq!((status.as_str(), must_change), ("pending", true));

    let detail = director
        .json(&accounts, &format!("/api/panel/staff/{leszek}"))
        .await;
    let account = &detail["account"];
    assert_eq!(account["login"], "lzak2");
    assert_eq!(account["created_by"], "jkowalski");
    assert_eq!(account["sheet_reissuable"], true);
    let steps: Vec<&str> = account["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "created",
            "permission_granted",
            "permission_granted",
            "sheet_issued"
        ]
    );
    assert_eq!(account["history"][0]["label"], "Utworzenie konta");

    let changed = director
        .post(
            &accounts,
            &format!("/api/panel/staff/{leszek}/permissions"),
            json!({"permissions": ["arkusz.podglad", "kadry.pracownicy"]}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        changed,
        json!({"granted": ["kadry.pracownicy"], "withdrawn": ["dziennik.nauczyciel"]})
    );

    let f02 = director
        .get(&accounts, &format!("/api/panel/staff/{leszek}/f-02"))
        .await;
    assert_eq!(f02.headers()["content-type"], "application/pdf");
    let f02 = pdf_text(&f02.bytes().await.unwrap());
    assert!(
        f02.contains("Arkusz organizacyjny – podgląd") && f02.contains("Kadry – dane pracowników"),
        "{f02}"
    );
    assert!(
        !f02.contains("Dziennik elektroniczny"),
        "a withdrawn permission is not on F-02"
    );
    let f03 = director
        .get(&accounts, &format!("/api/panel/staff/{leszek}/f-03"))
        .await;
    let f03 = f03.text().await.unwrap();
    assert!(f03.starts_with('\u{feff}'));
    assert!(
        f03.contains("\"Leszek Żak\";\"nauczyciel informatyki\";\"lzak2\""),
        "{f03}"
    );
    let f04 = director.get(&accounts, "/api/panel/f-04").await;
    assert!(pdf_text(&f04.bytes().await.unwrap()).contains("Szkoła Podstawowa nr 7"));

    // Every step reached audit's stream, and no event carries the password.
    let js = accounts.jetstream().await;
    let events = eventually(WAIT, "the account's steps", || async {
        let events = stored(&js, streams::ACCOUNTS.name, "accounts.account.>").await;
        (events.len() == 6).then_some(events)
    })
    .await;
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "accounts.account.created",
            "accounts.account.permission-granted",
            "accounts.account.permission-granted",
            "accounts.account.sheet-issued",
            "accounts.account.permission-granted",
            "accounts.account.permission-withdrawn",
        ]
    );
    for event in &events {
        assert!(!String::from_utf8_lossy(&event.payload).contains(&password));
    }
    let dump: String =
        sqlx::query_scalar("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM accounts) t")
            .fetch_one(&accounts.pool)
            .await
            .unwrap();
    assert!(!dump.contains(&password));
}

#[tokio::test]
async fn another_institutions_member_a_left_employee_and_a_malformed_id_are_refused_changing_nothing()
 {
    let accounts = with_staff().await;
    let director = as_person("jkowalski", Role::Director);
    let other = as_person("ezielinska", Role::Director);
    let ewelina = member_id(&accounts, &other, "wrobel").await;
    for path in [
        format!("/api/panel/staff/{ewelina}"),
        format!("/api/panel/staff/{ewelina}/f-02"),
    ] {
        let (status, body) = problem(director.get(&accounts, &path).await).await;
        assert_eq!(
            (status, kind(&body)),
            (404, Some("member-not-found")),
            "{path}"
        );
    }
    let (status, _) = problem(
        director
            .post(
                &accounts,
                &format!("/api/panel/staff/{ewelina}/account"),
                json!({}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = problem(
        director
            .post(&accounts, "/api/panel/staff/nie-uuid/account", json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let stefan = member_id(&accounts, &director, "kowal").await;
    let (status, body) = problem(
        director
            .post(
                &accounts,
                &format!("/api/panel/staff/{stefan}/account"),
                json!({}),
            )
            .await,
    )
    .await;
    assert_eq!((status, kind(&body)), (409, Some("member-left")));
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE created_by IS NOT NULL")
            .fetch_one(&accounts.pool)
            .await
            .unwrap();
    assert_eq!(created, 0);
}
