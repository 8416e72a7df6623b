use std::process::ExitCode;

use kit::clock::Clock;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("import") {
        let Some(file) = args.get(2) else {
            eprintln!("usage: accounts import FILE.jsonl|FILE.csv");
            return ExitCode::from(2);
        };
        return import(std::path::Path::new(file)).await;
    }
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

/// `accounts import FILE`: loads the directory into accounts' own database.
async fn import(file: &std::path::Path) -> ExitCode {
    let settings: accounts::Settings = match kit::settings::load(accounts::BASE_CONFIG) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("accounts import: {error}");
            return ExitCode::from(2);
        }
    };
    let pool = match kit::db::connect(&settings.platform.database).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("accounts import: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = kit::db::migrate(&pool, &accounts::startup::MIGRATIONS).await {
        eprintln!("accounts import: {error}");
        return ExitCode::FAILURE;
    }
    match accounts::import::import(&pool, file, kit::clock::SystemClock.now()).await {
        Ok(report) if report.errors.is_empty() => {
            println!(
                "zaimportowano {} wierszy z {}",
                report.imported,
                file.display()
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for error in &report.errors {
                eprintln!("{}: {error}", file.display());
            }
            eprintln!(
                "nic nie zaimportowano: {} błędnych wierszy",
                report.errors.len()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("accounts import: {error}");
            ExitCode::FAILURE
        }
    }
}
