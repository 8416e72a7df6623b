//! Procedure C at the start of a school year: `accounts import-staff` of a 50,000-row staff
//! file (the release binary, as an administrator runs it), then 1,000 "Utwórz konto" in a
//! row through accounts' HTTP API (each one an argon2id hash and a hand-over sheet), each as
//! a rate, beside the argon2id ceiling measured in the same run.

use std::time::Instant;

use test_support::{System, SystemOptions};

const ROWS: usize = 50_000;
const ACCOUNTS: usize = 1_000;

/// A PESEL with a valid birth date and check digit, different for every `i`.
fn pesel(i: usize) -> String {
    let (day, month, year) = (1 + i % 28, 1 + (i / 28) % 12, 60 + (i / 336) % 40);
    let serial = (i / 13_440) % 10_000;
    test_support::pesel_with_check_digit(&format!("{year:02}{month:02}{day:02}{serial:04}"))
}

const FIRST: [&str; 10] = [
    "Anna",
    "Łukasz",
    "Małgorzata",
    "Piotr",
    "Żaneta",
    "Grzegorz",
    "Ewa",
    "Józef",
    "Zofia",
    "Błażej",
];
const LAST: [&str; 10] = [
    "Nowak",
    "Wójcik",
    "Kowalczyk",
    "Woźniak",
    "Mazur",
    "Krawczyk",
    "Śliwa",
    "Zając",
    "Król",
    "Żak",
];

fn staff_file() -> std::path::PathBuf {
    let mut text = String::from("rspo_id,first_name,last_name,pesel,position,employment,login\n");
    for i in 0..ROWS {
        text.push_str(&format!(
            "12345,{},{}-{},{},nauczyciel,zatrudniony,\n",
            FIRST[i % 10],
            LAST[(i / 10) % 10],
            LAST[(i / 100) % 10],
            pesel(i)
        ));
    }
    let path = test_support::scratch_dir("bench-staff").join("staff.csv");
    std::fs::write(&path, text).unwrap();
    path
}

pub async fn run() {
    kit::main_support::install_crypto_provider();
    let (one_hash, ceiling) = crate::pipeline::argon2_ceiling();
    println!(
        "staff: argon2id takes {:.1} ms: {:.1} hashes/s one at a time, ceiling {ceiling:.1} hashes/s on all cores",
        one_hash * 1000.0,
        1.0 / one_hash
    );
    let mut options = SystemOptions {
        release: true,
        ..Default::default()
    };
    options.env.insert("RUST_LOG".to_owned(), "warn".to_owned());
    let mut system = System::start(options).await;
    let file = staff_file();
    let env = system.service("accounts").env().clone();
    let started = Instant::now();
    let out =
        std::process::Command::new(test_support::process::binary_path_in("accounts", "release"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .args(["import-staff", file.to_str().unwrap()])
            .output()
            .expect("accounts import-staff runs");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "import-staff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "staff: import of {ROWS} rows in {seconds:.2} s: {:.0} rows/s ({})",
        ROWS as f64 / seconds,
        String::from_utf8_lossy(&out.stdout).trim()
    );

    let pool = sqlx::PgPool::connect_with(system.databases["accounts"].options())
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM staff_members WHERE login IS NULL AND position = 'nauczyciel' LIMIT $1",
    )
    .bind(ACCOUNTS as i64)
    .fetch_all(&pool)
    .await
    .unwrap();
    let token = system.staff_token("jkowalski").await;
    let http = reqwest::Client::new();
    let base = system.url("accounts");
    let started = Instant::now();
    for id in &ids {
        let response = http
            .post(format!("{base}/api/panel/staff/{id}/account"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "permissions": ["dziennik.nauczyciel"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.bytes().await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = ids.len() as f64 / seconds;
    println!(
        "staff: {} accounts created in a row in {seconds:.1} s: {rate:.1} accounts/s; \
         one at a time the argon2id ceiling is {:.1}/s (ratio {:.2})",
        ids.len(),
        1.0 / one_hash,
        rate * one_hash
    );
}
