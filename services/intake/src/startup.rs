//! Builds intake from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use contracts::forms::Procedure;
use contracts::streams::{self, consumers};
use kit::{Platform, PlatformSettings, StartupError, Workers};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::bus::forms::FormsHandler;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    pub intake: IntakeSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IntakeSettings {
    pub auto_realise: AutoRealise,
}

/// The optional policy that realises verified SEOD requests without an administrator.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AutoRealise {
    pub enabled: bool,
    pub procedures: Vec<contracts::forms::Procedure>,
    pub delivery: contracts::forms::DeliveryMode,
}

impl AutoRealise {
    pub fn applies_to(&self, procedure: Procedure) -> bool {
        self.enabled && self.procedures.contains(&procedure)
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
    contracts::permissions::Identity::Intake,
    crate::BASE_CONFIG
);

pub struct Service {
    platform: Platform,
    intake: IntakeSettings,
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
        Ok(Self {
            platform,
            intake: settings.intake,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let Self { platform, intake } = self;
        let mut workers = Workers::default();
        let forms = platform.consumer(consumers::INTAKE_FORMS).await?;
        workers.spawn(
            consumers::INTAKE_FORMS.durable,
            forms.run(
                Arc::new(FormsHandler::new(Arc::new(kit::clock::SystemClock))),
                stop.clone(),
            ),
        );
        let checks = platform.consumer(consumers::INTAKE_REQUEST_CHECKS).await?;
        workers.spawn(
            consumers::INTAKE_REQUEST_CHECKS.durable,
            checks.run(
                Arc::new(crate::bus::request_checks::RequestChecksHandler {
                    clock: Arc::new(kit::clock::SystemClock),
                    auto_realise: intake.auto_realise.clone(),
                }),
                stop.clone(),
            ),
        );
        let deliveries = platform.consumer(consumers::INTAKE_DELIVERIES).await?;
        workers.spawn(
            consumers::INTAKE_DELIVERIES.durable,
            deliveries.run(
                Arc::new(crate::bus::deliveries::DeliveriesHandler {
                    clock: Arc::new(kit::clock::SystemClock),
                }),
                stop.clone(),
            ),
        );
        let queries = crate::bus::queries::subscribe(&platform.nats)
            .await
            .map_err(|e| StartupError::Service(format!("cannot subscribe to case queries: {e}")))?;
        workers.spawn(
            "case-queries",
            crate::bus::queries::serve(
                queries,
                platform.nats.clone(),
                platform.pool.clone(),
                stop.clone(),
            ),
        );
        let routes = crate::http::router(platform.pool.clone());
        platform.run(routes, workers, stop).await
    }
}
