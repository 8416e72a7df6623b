//! One way to run a service inside a test: a fresh database and an authenticated NATS of
//! its own, the service built from its own `base.yaml` with the test platform's settings
//! (fast retries and polling, the test token key), then served until the test stops it as
//! SIGTERM would. Each service's integration tests start here.

use std::marker::PhantomData;
use std::net::SocketAddr;

use kit::StartupError;
use kit::service::Service;
use kit::settings::{PlatformSettings, ServiceSettings, SslMode};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::system::test_accounts_public_key;
use crate::{NatsServer, TestDatabase};

pub struct InProcess<S: Service> {
    pub database: TestDatabase,
    /// The schema owner's pool: what the test reads and arranges with.
    pub pool: PgPool,
    pub nats: NatsServer,
    address: Option<SocketAddr>,
    running: Option<(CancellationToken, JoinHandle<Result<(), StartupError>>)>,
    _service: PhantomData<fn() -> S>,
}

impl<S: Service> InProcess<S> {
    /// The database and NATS, nothing running yet.
    pub async fn fresh(label: &str) -> Self {
        kit::main_support::install_crypto_provider();
        let database = TestDatabase::create(label).await;
        let pool = database.pool().await;
        Self {
            database,
            pool,
            nats: NatsServer::start(),
            address: None,
            running: None,
            _service: PhantomData,
        }
    }

    /// Started with the test platform's settings, `tweak`ed.
    pub async fn start_with(label: &str, tweak: impl FnOnce(&mut S::Settings)) -> Self {
        let mut this = Self::fresh(label).await;
        let mut settings = this.settings();
        tweak(&mut settings);
        this.run(settings).await;
        this
    }

    pub async fn start(label: &str) -> Self {
        Self::start_with(label, |_| {}).await
    }

    /// The service's own settings on this database and NATS.
    pub fn settings(&self) -> S::Settings {
        let mut settings: S::Settings =
            kit::settings::load(S::BASE_CONFIG).expect("the service's settings load");
        self.configure(settings.platform_mut());
        settings
    }

    fn configure(&self, p: &mut PlatformSettings) {
        p.http.host = "127.0.0.1".into();
        p.http.port = 0;
        self.nats.configure(&mut p.nats, S::IDENTITY);
        let db = &mut p.database;
        db.host = self.database.host();
        db.port = self.database.port();
        db.name = self.database.name.clone();
        db.username = self.database.username();
        db.password = None;
        db.password_file = None;
        db.ssl_mode = SslMode::Disable;
        p.consumer.ack_wait_secs = 2;
        p.consumer.retry_base_ms = 100;
        p.outbox.poll_interval_ms = 100;
        p.auth.accounts_public_key = Some(test_accounts_public_key());
    }

    pub async fn run(&mut self, settings: S::Settings) {
        let service = S::build(settings).await.expect("the service starts");
        self.address = Some(service.local_addr());
        let stop = CancellationToken::new();
        let task = tokio::spawn(service.run_until_stopped(stop.clone()));
        self.running = Some((stop, task));
    }

    /// Stops the service as SIGTERM would, and waits until it has.
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            stop.cancel();
            task.await
                .expect("the service's task")
                .expect("the service stops cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address.expect("the service runs"))
    }

    /// A JetStream context of the tests' observer (the provisioner).
    pub async fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.nats.client().await)
    }
}

impl<S: Service> Drop for InProcess<S> {
    fn drop(&mut self) {
        if let Some((stop, _)) = &self.running {
            stop.cancel();
        }
    }
}

/// A staff token for `login` in `role`, signed with the test key the services check
/// tokens with (accounts' in production), valid for 15 minutes.
pub fn staff_token(login: &str, role: kit::auth::Role) -> String {
    let seed: [u8; 32] = hex::decode(crate::system::TEST_ACCOUNTS_SIGNING_KEY)
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    kit::auth::sign(
        &ed25519_dalek::SigningKey::from_bytes(&seed),
        &kit::auth::Claims {
            sub: login.to_owned(),
            role,
            institution: None,
            iat: now,
            exp: now + 900,
            sid: uuid::Uuid::new_v4().to_string(),
            aud: kit::auth::Audience::Staff,
            kid: String::new(),
            processing: false,
        },
    )
}
