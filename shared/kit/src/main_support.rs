//! What every service's `main` does: load settings, start telemetry, listen for signals,
//! run, and turn any start-up failure into a clear message and a non-zero exit.

use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::platform::StartupError;
use crate::settings::{self, ServiceSettings};

pub async fn run_service<S, F, Fut>(service: &'static str, base_config: &str, body: F) -> ExitCode
where
    S: ServiceSettings,
    F: FnOnce(S, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), StartupError>>,
{
    install_crypto_provider();
    let settings: S = match settings::load(base_config) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{service}: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = settings.platform().validate() {
        eprintln!("{service}: {error}");
        return ExitCode::from(2);
    }
    let telemetry = match crate::telemetry::init(service, &settings.platform().telemetry) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("{service}: {error}");
            return ExitCode::from(2);
        }
    };
    let stop = crate::shutdown::on_signal();
    let result = body(settings, stop).await;
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "{service} cannot run");
            eprintln!("{service}: {error}");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}

/// Chooses rustls' cryptography (ring) for the whole process, once. Without it, a TLS client
/// built with more than one provider compiled in (or none chosen) refuses to start.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
