//! Builds delivery from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use contracts::events::CredentialIssued;
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
    pub delivery: DeliverySettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliverySettings {
    pub smtp: SmtpSettings,
    pub sms: SmsSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmsSettings {
    pub kind: SmsGatewayKind,
    pub url: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmsGatewayKind {
    Generic,
    Smsapi,
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
        let platform = Platform::start(
            crate::SERVICE,
            settings.platform,
            &MIGRATIONS,
            &[streams::ACCOUNTS, streams::DELIVERY],
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
        let credentials = platform.consumer(consumers::DELIVERY_CREDENTIALS).await?;
        workers.spawn(
            consumers::DELIVERY_CREDENTIALS.durable,
            credentials.run(
                Arc::new(AcceptEnvelope::<CredentialIssued>::default()),
                stop.clone(),
            ),
        );
        platform.run(axum::Router::new(), workers, stop).await
    }
}
