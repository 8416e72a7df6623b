//! Builds audit from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::bus::RecordHandler;
use contracts::streams::{self, consumers};
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
}

pub struct Service {
    platform: Platform,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let platform =
            Platform::start(crate::SERVICE, settings.platform, &MIGRATIONS, streams::ALL).await?;
        Ok(Self { platform })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let platform = self.platform;
        let mut workers = Workers::default();
        let handler = Arc::new(RecordHandler);
        for spec in consumers::AUDIT {
            let consumer = platform.consumer(*spec).await?;
            workers.spawn(
                spec.durable,
                consumer.run(Arc::clone(&handler), stop.clone()),
            );
        }
        let routes = crate::http::router(platform.pool.clone());
        platform.run(routes, workers, stop).await
    }
}
