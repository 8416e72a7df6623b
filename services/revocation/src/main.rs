//! The revocation service, and its administration command `revocation import FILE` (units,
//! local databases, people, employees and authorisations, JSON Lines; nothing is imported
//! when a row is wrong, and every wrong row is named by its line); `revocation openapi`
//! prints the HTTP API's OpenAPI document.

use std::process::ExitCode;

use kit::clock::Clock;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(revocation::http::openapi) {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command: Vec<&str> = args.iter().map(String::as_str).collect();
    match command.as_slice() {
        [] => {
            kit::run_service(
                revocation::SERVICE,
                revocation::BASE_CONFIG,
                |settings, stop| async move {
                    revocation::Service::build(settings)
                        .await?
                        .run_until_stopped(stop)
                        .await
                },
            )
            .await
        }
        ["import", file] => import(file).await,
        _ => {
            eprintln!("usage: revocation [import FILE | openapi]");
            ExitCode::from(2)
        }
    }
}

fn fail(error: &str) -> ExitCode {
    eprintln!("revocation: {error}");
    ExitCode::FAILURE
}

async fn import(file: &str) -> ExitCode {
    let settings: revocation::Settings = match kit::settings::load(revocation::BASE_CONFIG) {
        Ok(settings) => settings,
        Err(error) => return fail(&error.to_string()),
    };
    let key = match settings.revocation.pesel_key() {
        Ok(key) => key,
        Err(error) => return fail(&error.to_string()),
    };
    let pool = match kit::db::connect(&settings.platform.database).await {
        Ok(pool) => pool,
        Err(error) => return fail(&error.to_string()),
    };
    if let Err(error) = kit::db::migrate(&pool, &revocation::startup::MIGRATIONS).await {
        return fail(&error.to_string());
    }
    let path = std::path::Path::new(file);
    match revocation::import::import(&pool, path, &key, kit::clock::SystemClock.now()).await {
        Ok(report) if report.errors.is_empty() => {
            println!("zaimportowano {} wierszy z {file}", report.rows);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for error in &report.errors {
                eprintln!("{file}: {error}");
            }
            fail(&format!(
                "nic nie zaimportowano: {} błędnych wierszy",
                report.errors.len()
            ))
        }
        Err(error) => fail(&error),
    }
}
