//! Start-up and run of a service: settings checked, listener bound, database migrated,
//! NATS connected and streams declared; then HTTP, consumers and the outbox relay run
//! until the shutdown token fires, and stop in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use contracts::streams::{ConsumerSpec, StreamSpec};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::consumer::Consumer;
use crate::http::{Health, health_routes, with_layers};
use crate::outbox::Relay;
use crate::settings::{PlatformSettings, SettingsError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot listen on {address}: {reason}")]
    Listen { address: String, reason: String },
    #[error("cannot connect to the database {target}: {reason}")]
    Database { target: String, reason: String },
    #[error("cannot apply the {owner} database migrations: {reason}")]
    Migration { owner: &'static str, reason: String },
    #[error("cannot connect to NATS at {url}: {reason}")]
    Nats { url: String, reason: String },
    #[error("cannot declare the JetStream stream {name}: {reason}")]
    Stream { name: &'static str, reason: String },
    #[error("cannot declare the JetStream consumer {name}: {reason}")]
    Consumer { name: &'static str, reason: String },
    #[error("{0}")]
    Service(String),
}

pub struct Platform {
    pub service: &'static str,
    pub settings: PlatformSettings,
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    pub outbox_wake: Arc<Notify>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The database's owner (the service's own pool when no separate owner is configured),
    /// for what only the owner may do at start.
    pub owner: PgPool,
    listener: TcpListener,
}

impl Platform {
    pub async fn start(
        service: &'static str,
        settings: PlatformSettings,
        migrations: &Migrator,
        streams: &[StreamSpec],
    ) -> Result<Self, StartupError> {
        settings.validate()?;
        let address = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|e| StartupError::Listen {
                address: address.clone(),
                reason: e.to_string(),
            })?;
        let pool = crate::db::connect(&settings.database).await?;
        let owner = crate::db::migrate_as_owner(&settings.database, &pool, migrations).await?;
        let nats = crate::nats::connect(&settings.nats, service).await?;
        let js = jetstream::new(nats.clone());
        for stream in streams {
            crate::nats::check_stream(&js, stream, &settings.nats).await?;
        }
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(address);
        tracing::info!(service, %address, database = %settings.database.describe(), nats = %settings.nats.url, "started");
        Ok(Self {
            service,
            settings,
            pool,
            nats,
            js,
            outbox_wake: Arc::new(Notify::new()),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            owner,
            listener,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn consumer(&self, spec: ConsumerSpec) -> Result<Consumer, StartupError> {
        let consumer =
            crate::nats::ensure_consumer(&self.js, &spec, &self.settings.consumer).await?;
        self.metrics.watch(spec);
        Ok(Consumer {
            spec,
            consumer,
            pool: self.pool.clone(),
            js: self.js.clone(),
            settings: self.settings.consumer.clone(),
            outbox_wake: Arc::clone(&self.outbox_wake),
            metrics: Arc::clone(&self.metrics),
        })
    }

    /// Serves `routes` and runs `workers` until `stop` fires. Then the HTTP server stops
    /// taking requests, the workers finish what they hold, the outbox relay publishes what
    /// they committed, and the connections close.
    pub async fn run(
        self,
        routes: Router,
        mut workers: Workers,
        stop: CancellationToken,
    ) -> Result<(), StartupError> {
        if let Some(spec) = contracts::streams::consumers::sessions_of(self.service) {
            let consumer = self.consumer(spec).await?;
            workers.spawn(
                spec.durable,
                consumer.run(Arc::new(crate::sessions::EndedSessions), stop.clone()),
            );
        }
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(
            Relay::new(
                self.pool.clone(),
                self.js.clone(),
                Arc::clone(&self.outbox_wake),
                self.settings.outbox.clone(),
            )
            .of_service(self.service)
            .run(relay_stop.clone()),
        );
        let verifier = crate::auth::TokenVerifier {
            keys: self.settings.auth.verifying_keys(),
            clock: Arc::new(crate::clock::SystemClock),
            // accounts keeps the sessions themselves and checks them where it needs to.
            ended_sessions: contracts::streams::consumers::sessions_of(self.service)
                .map(|_| self.pool.clone()),
        };
        let recorder = crate::refusals::Recorder {
            service: self.service,
            pool: self.pool.clone(),
            wake: Arc::clone(&self.outbox_wake),
        };
        let routes = routes
            .layer(axum::middleware::from_fn_with_state(
                recorder,
                crate::refusals::record_refusals,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(&self.metrics),
                crate::metrics::count_requests,
            ))
            .route_layer(axum::middleware::from_fn(crate::http::server_span));
        let router = with_layers(
            routes.merge(health_routes(Health {
                pool: self.pool.clone(),
                nats: self.nats.clone(),
                js: self.js.clone(),
                metrics: Arc::clone(&self.metrics),
            })),
            Duration::from_secs(self.settings.http.request_timeout_secs),
            self.settings.http.body_limit_bytes,
        )
        .layer(axum::Extension(verifier));
        let http_stop = stop.clone();
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { http_stop.cancelled().await })
        .await;
        if let Err(error) = &served {
            tracing::error!(%error, "HTTP server failed");
            stop.cancel();
        }
        tracing::info!("HTTP server stopped");
        workers.join().await;
        relay_stop.cancel();
        if let Err(error) = relay.await {
            tracing::error!(%error, "outbox relay ended abnormally");
        }
        tracing::info!("outbox relay stopped");
        if let Err(error) = self.nats.drain().await {
            tracing::warn!(%error, "draining NATS failed");
        }
        self.pool.close().await;
        tracing::info!(service = self.service, "stopped");
        served.map_err(|e| StartupError::Service(format!("HTTP server: {e}")))
    }
}

/// Named background tasks that stop with the service.
#[derive(Default)]
pub struct Workers {
    tasks: Vec<(String, JoinHandle<()>)>,
}

impl Workers {
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.push((name.into(), tokio::spawn(task)));
    }

    async fn join(self) {
        for (name, task) in self.tasks {
            match task.await {
                Ok(()) => tracing::info!(task = %name, "stopped"),
                Err(error) => tracing::error!(task = %name, %error, "ended abnormally"),
            }
        }
    }
}
