//! What every service is to whoever runs it: its binary's `main`, and a test running it
//! in-process (`test_support::InProcess`).

use std::future::Future;
use std::net::SocketAddr;

use contracts::permissions::Identity;
use tokio_util::sync::CancellationToken;

use crate::platform::StartupError;
use crate::settings::ServiceSettings;

pub trait Service: Sized + Send + 'static {
    type Settings: ServiceSettings + Send;
    /// Its bus identity.
    const IDENTITY: Identity;
    /// Its `config/base.yaml`.
    const BASE_CONFIG: &'static str;

    /// Connects to the database and the bus and binds its listener; serves nothing yet.
    fn build(settings: Self::Settings) -> impl Future<Output = Result<Self, StartupError>> + Send;

    fn local_addr(&self) -> SocketAddr;

    /// Serves until `stop` fires, then finishes what is in hand.
    fn run_until_stopped(
        self,
        stop: CancellationToken,
    ) -> impl Future<Output = Result<(), StartupError>> + Send;
}

/// Implements [`Service`] for a service's `startup::Service`, whose inherent `build`,
/// `local_addr` and `run_until_stopped` do the work.
#[macro_export]
macro_rules! service {
    ($service:ty, $settings:ty, $identity:expr, $base:expr) => {
        impl $crate::service::Service for $service {
            type Settings = $settings;
            const IDENTITY: ::contracts::permissions::Identity = $identity;
            const BASE_CONFIG: &'static str = $base;

            async fn build(settings: $settings) -> Result<Self, $crate::StartupError> {
                <$service>::build(settings).await
            }

            fn local_addr(&self) -> ::std::net::SocketAddr {
                <$service>::local_addr(self)
            }

            async fn run_until_stopped(
                self,
                stop: ::tokio_util::sync::CancellationToken,
            ) -> Result<(), $crate::StartupError> {
                <$service>::run_until_stopped(self, stop).await
            }
        }
    };
}
