//! Builds revocation from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use contracts::streams::{self, consumers};
use kit::clock::SystemClock;
use kit::settings::secret_from;
use kit::{Platform, PlatformSettings, StartupError, Workers};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::central::CentralRegister;
use crate::http::AppState;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    #[serde(default)]
    pub revocation: RevocationSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevocationSettings {
    /// Key of the PESEL index (at least 32 characters). Secret: environment or file only.
    #[serde(default)]
    pub pesel_key: Option<SecretString>,
    #[serde(default)]
    pub pesel_key_file: Option<PathBuf>,
}

impl RevocationSettings {
    pub fn pesel_key(&self) -> Result<Vec<u8>, StartupError> {
        let key = secret_from(
            "revocation.pesel_key",
            &self.pesel_key,
            &self.pesel_key_file,
        )?
        .ok_or_else(|| {
            StartupError::Service(
                "revocation.pesel_key_file (or KLUCZNIK_REVOCATION__PESEL_KEY) is required".into(),
            )
        })?;
        if key.expose_secret().len() < 32 {
            return Err(StartupError::Service(
                "revocation.pesel_key must be at least 32 characters".into(),
            ));
        }
        Ok(key.expose_secret().as_bytes().to_vec())
    }
}

impl kit::ServiceSettings for Settings {
    fn platform(&self) -> &PlatformSettings {
        &self.platform
    }

    fn platform_mut(&mut self) -> &mut PlatformSettings {
        &mut self.platform
    }
}

kit::service!(
    Service,
    Settings,
    contracts::permissions::Identity::Revocation,
    crate::BASE_CONFIG
);

pub struct Service {
    platform: Platform,
    pesel_key: Arc<Vec<u8>>,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let pesel_key = Arc::new(settings.revocation.pesel_key()?);
        let platform = Platform::start(
            crate::SERVICE,
            settings.platform,
            &MIGRATIONS,
            // Every service declares every stream, so none depends on who starts first.
            streams::ALL,
        )
        .await?;
        Ok(Self {
            platform,
            pesel_key,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let platform = self.platform;
        let clock = Arc::new(SystemClock);
        let mut workers = Workers::default();
        let central = platform.consumer(consumers::REVOCATION_CENTRAL).await?;
        workers.spawn(
            consumers::REVOCATION_CENTRAL.durable,
            central.run(
                Arc::new(CentralRegister {
                    clock: clock.clone(),
                }),
                stop.clone(),
            ),
        );
        let state = AppState {
            pool: platform.pool.clone(),
            clock,
            pesel_key: self.pesel_key,
            outbox_wake: Arc::clone(&platform.outbox_wake),
        };
        platform
            .run(crate::http::router(state), workers, stop)
            .await
    }
}
