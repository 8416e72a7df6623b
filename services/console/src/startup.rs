//! Builds the console from its settings and serves it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kit::{PlatformSettings, StartupError};
use serde::Deserialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::session_store::PgSessionStore;
use crate::upstream::Upstream;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    pub console: ConsoleSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConsoleSettings {
    pub accounts_url: String,
    pub intake_url: String,
    pub delivery_url: String,
    pub revocation_url: String,
    pub audit_url: String,
    pub idle_timeout_mins: u32,
    pub secure_cookies: bool,
}

impl kit::ServiceSettings for Settings {
    fn platform(&self) -> &PlatformSettings {
        &self.platform
    }

    fn platform_mut(&mut self) -> &mut PlatformSettings {
        &mut self.platform
    }
}

/// What every page handler shares.
#[derive(Clone)]
pub struct AppState {
    pub upstream: Arc<Upstream>,
}

pub struct Service {
    settings: Settings,
    pool: PgPool,
    listener: tokio::net::TcpListener,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let pool = kit::db::connect(&settings.platform.database).await?;
        kit::db::migrate(&pool, &MIGRATIONS).await?;
        let http = &settings.platform.http;
        let listener = tokio::net::TcpListener::bind((http.host.as_str(), http.port))
            .await
            .map_err(|e| StartupError::Listen {
                address: format!("{}:{}", http.host, http.port),
                reason: e.to_string(),
            })?;
        Ok(Self {
            settings,
            pool,
            listener,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let Self {
            settings,
            pool,
            listener,
        } = self;
        let console = &settings.console;
        let upstream = Upstream::new(console)
            .map_err(|e| StartupError::Service(format!("console's upstream services: {e}")))?;
        let store = PgSessionStore::new(pool.clone());
        let expiry = store
            .clone()
            .expire_continually(Duration::from_secs(60), stop.clone());
        let router = crate::pages::router(AppState {
            upstream: Arc::new(upstream),
        })
        .route_layer(axum::middleware::from_fn(kit::http::server_span));
        let router = crate::security::with_sessions_and_headers(
            router,
            store,
            console.idle_timeout_mins,
            console.secure_cookies,
        );
        let router = router.merge(crate::pages::health(pool));
        let router = kit::http::with_layers(
            router,
            Duration::from_secs(settings.platform.http.request_timeout_secs),
            settings.platform.http.body_limit_bytes,
        );
        tracing::info!(address = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "console serving");
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
        expiry.abort();
        served.map_err(|e| StartupError::Service(format!("HTTP server failed: {e}")))
    }
}
