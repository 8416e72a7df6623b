//! The accounts service, and its administration commands:
//! `accounts import FILE`, `accounts import-staff FILE` (the staff of institutions, with or
//! without accounts: "Pracownicy Placówki"), `accounts set-password LOGIN` (the password on standard input),
//! `accounts enroll-totp LOGIN` (prints a new secret) or `accounts enroll-totp LOGIN
//! --console` (prepares the enrolment: the staff member gets the secret, as a QR code, at
//! his next sign-in in the console, and no one else sees it), `accounts set-status LOGIN active|locked|disabled` (a locked
//! or disabled account's sessions end, and its tokens stop working in every service at once)
//! and `accounts public-key`; `accounts openapi` prints the HTTP API's OpenAPI document.

use std::io::Read;
use std::process::ExitCode;

use accounts::domain::account::AccountStatus;
use kit::clock::Clock;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(accounts::http::openapi) {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command: Vec<&str> = args.iter().map(String::as_str).collect();
    match command.as_slice() {
        [] => {
            kit::run_service(
                accounts::SERVICE,
                accounts::BASE_CONFIG,
                |settings, stop| async move {
                    accounts::Service::build(settings)
                        .await?
                        .run_until_stopped(stop)
                        .await
                },
            )
            .await
        }
        ["import", file] => admin(|_, pool| async move { import(&pool, file).await }).await,
        ["import-staff", file] => {
            admin(|settings, pool| async move { import_staff(&settings, &pool, file).await }).await
        }
        ["set-password", login] => {
            admin(|settings, pool| async move { set_password(&settings, &pool, login).await }).await
        }
        ["enroll-totp", login, "--console"] => {
            admin(|_, pool| async move { prepare_enrolment(&pool, login).await }).await
        }
        ["enroll-totp", login] => {
            admin(|settings, pool| async move { enroll_totp(&settings, &pool, login).await }).await
        }
        ["set-processing", login, grant @ ("on" | "off")] => {
            let granted = *grant == "on";
            admin(|_, pool| async move { set_processing(&pool, login, granted).await }).await
        }
        ["set-status", login, status] if AccountStatus::parse(status).is_some() => {
            let status = AccountStatus::parse(status).expect("checked above");
            admin(|_, pool| async move { set_status(&pool, login, status).await }).await
        }
        ["public-key"] => {
            match settings().and_then(|s| s.accounts.signing_key().map_err(|e| e.to_string())) {
                Ok(key) => {
                    println!("{}", hex::encode(key.verifying_key().as_bytes()));
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        _ => {
            eprintln!(
                "usage: accounts [import FILE | import-staff FILE | set-password LOGIN | enroll-totp LOGIN [--console] | set-processing LOGIN on|off | \
                 set-status LOGIN active|locked|disabled | public-key | openapi]"
            );
            ExitCode::from(2)
        }
    }
}

fn fail(error: &str) -> ExitCode {
    eprintln!("accounts: {error}");
    ExitCode::FAILURE
}

fn settings() -> Result<accounts::Settings, String> {
    kit::settings::load(accounts::BASE_CONFIG).map_err(|e| e.to_string())
}

/// Runs an administration command against accounts' own database (migrated first).
async fn admin<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(accounts::Settings, sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let settings = match settings() {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let pool = match kit::db::connect(&settings.platform.database).await {
        Ok(pool) => pool,
        Err(error) => return fail(&error.to_string()),
    };
    if let Err(error) = kit::db::migrate(&pool, &accounts::startup::MIGRATIONS).await {
        return fail(&error.to_string());
    }
    match command(settings, pool).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn import(pool: &sqlx::PgPool, file: &str) -> Result<(), String> {
    let path = std::path::Path::new(file);
    let report = accounts::import::import(pool, path, kit::clock::SystemClock.now()).await?;
    if report.errors.is_empty() {
        println!("zaimportowano {} wierszy z {file}", report.imported);
        return Ok(());
    }
    for error in &report.errors {
        eprintln!("{file}: {error}");
    }
    Err(format!(
        "nic nie zaimportowano: {} błędnych wierszy",
        report.errors.len()
    ))
}

async fn import_staff(
    settings: &accounts::Settings,
    pool: &sqlx::PgPool,
    file: &str,
) -> Result<(), String> {
    let key = settings.accounts.pesel_key().map_err(|e| e.to_string())?;
    let path = std::path::Path::new(file);
    let mut progress = |line: &str| eprintln!("{file}: {line}");
    let report = accounts::import_staff::import(
        pool,
        path,
        &key,
        kit::clock::SystemClock.now(),
        &mut progress,
    )
    .await?;
    if report.errors.is_empty() {
        println!(
            "zaimportowano {} wierszy z {file}: {} nowych pracowników, {} zaktualizowanych",
            report.rows, report.created, report.updated
        );
        return Ok(());
    }
    for error in &report.errors {
        eprintln!("{file}: {error}");
    }
    Err(format!(
        "nic nie zaimportowano: {} błędnych wierszy",
        report.errors.len()
    ))
}

/// Locks, disables or reactivates an account; a locked or disabled one's sessions end.
async fn set_status(pool: &sqlx::PgPool, login: &str, status: AccountStatus) -> Result<(), String> {
    use accounts::store::credentials;
    let now = kit::clock::SystemClock.now();
    let result = async {
        let mut tx = pool.begin().await?;
        if !credentials::account_status_set_in_txn(&mut tx, login, status, now).await? {
            return Ok(None);
        }
        let ended = if status == AccountStatus::Active {
            0
        } else {
            credentials::sessions_end_in_txn(&mut tx, login, None, "account_locked", now).await?
        };
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Some(ended))
    }
    .await;
    match result {
        Ok(Some(ended)) => {
            println!(
                "konto {login}: {}; zakończono sesji: {ended}",
                status.as_str()
            );
            Ok(())
        }
        Ok(None) => Err(format!("nie ma konta {login}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Sets a staff member's own password, read from standard input (never an argument, which
/// other users could see in the process list).
async fn set_password(
    settings: &accounts::Settings,
    pool: &sqlx::PgPool,
    login: &str,
) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if let Some(reason) = accounts::domain::passwords::policy_violation(login, &password, "") {
        return Err(reason.to_owned());
    }
    let hasher = settings.accounts.hasher().map_err(|e| e.to_string())?;
    let hash = hasher
        .hash(&SecretString::from(password))
        .map_err(|e| e.to_string())?;
    let now = kit::clock::SystemClock.now();
    match accounts::store::credentials::password_set(pool, login, &hash, false, None, now).await {
        Ok(true) => {
            println!("ustawiono hasło konta {login}");
            Ok(())
        }
        Ok(false) => Err(format!("nie ma konta {login}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Grants (`on`) or withdraws (`off`) a staff member's right to process requests; it takes
/// effect at his next sign-in.
async fn set_processing(pool: &sqlx::PgPool, login: &str, granted: bool) -> Result<(), String> {
    let now = kit::clock::SystemClock.now();
    match accounts::store::credentials::processing_right_set(pool, login, granted, now).await {
        Ok(true) => {
            println!(
                "{login}: uprawnienie do realizacji wniosków {} (od najbliższego logowania).",
                if granted { "nadane" } else { "odebrane" }
            );
            Ok(())
        }
        Ok(false) => Err(format!("nie ma konta pracownika {login}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Prepares a staff member's first (or new) TOTP enrolment in the console; his current
/// secret stops working at once.
async fn prepare_enrolment(pool: &sqlx::PgPool, login: &str) -> Result<(), String> {
    let now = kit::clock::SystemClock.now();
    match accounts::store::enrolment::enrolment_prepare_recorded(pool, login, "accounts-cli", now)
        .await
    {
        Ok(Some(until)) => {
            println!(
                "Przygotowano rejestrację aplikacji uwierzytelniającej dla {login}: przy \
                 najbliższym logowaniu w konsoli (do {}) zobaczy kod QR.",
                contracts::time::polish_date_time(until)
            );
            Ok(())
        }
        Ok(None) => Err(format!("nie ma konta pracownika {login}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Gives a staff member a new TOTP secret and prints it once, for an authenticator app.
async fn enroll_totp(
    settings: &accounts::Settings,
    pool: &sqlx::PgPool,
    login: &str,
) -> Result<(), String> {
    let key = settings.accounts.totp_key().map_err(|e| e.to_string())?;
    let mut secret = zeroize::Zeroizing::new([0u8; 20]);
    getrandom::fill(secret.as_mut()).map_err(|e| e.to_string())?;
    let encoded = accounts::domain::totp::base32_encode(secret.as_ref());
    let stored = key
        .encrypt(login, encoded.as_bytes())
        .map_err(|e| e.to_string())?;
    let now = kit::clock::SystemClock.now();
    match accounts::store::credentials::totp_secret_set(pool, login, &stored, now).await {
        Ok(true) => {
            println!("{encoded}");
            println!("otpauth://totp/Klucznik:{login}?secret={encoded}&issuer=Klucznik");
            Ok(())
        }
        Ok(false) => Err(format!("nie ma konta {login}")),
        Err(e) => Err(e.to_string()),
    }
}
