//! Builds revocation from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use contracts::streams::{self, consumers};
use kit::consumer::AcceptEnvelope;
use kit::{Platform, PlatformSettings, StartupError, Workers};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
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
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let platform = Platform::start(
            crate::SERVICE,
            settings.platform,
            &MIGRATIONS,
            // Every service declares every stream, so none depends on who starts first.
            streams::ALL,
        )
        .await?;
        Ok(Self { platform })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let platform = self.platform;
        let mut workers = Workers::default();
        let accounts = platform.consumer(consumers::REVOCATION_ACCOUNTS).await?;
        workers.spawn(
            consumers::REVOCATION_ACCOUNTS.durable,
            accounts.run(
                Arc::new(AcceptEnvelope::<serde::de::IgnoredAny>::default()),
                stop.clone(),
            ),
        );
        platform.run(crate::http::router(), workers, stop).await
    }
}
