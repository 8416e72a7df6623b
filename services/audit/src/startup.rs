//! Builds audit from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use contracts::streams::{self, consumers};
use ed25519_dalek::SigningKey;
use kit::clock::{Clock, SystemClock};
use kit::settings::secret_from;
use kit::{Platform, PlatformSettings, StartupError, Workers};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::bus::RecordHandler;
use crate::checkpointer::Checkpointer;
use crate::domain::checkpoint::signing_key_from_hex;
use crate::domain::minimise::Minimiser;
use crate::incidents::IncidentRules;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Failed logins are counted over at most a week: a longer window says nothing about an
/// attack in progress.
const MAX_FAILED_LOGIN_WINDOW_SECS: u64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    pub audit: AuditSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    pub checkpoint_interval_secs: u64,
    /// Ed25519 seed, 64 hex characters. Secret: environment or mounted file only.
    #[serde(default)]
    pub checkpoint_key: Option<SecretString>,
    #[serde(default)]
    pub checkpoint_key_file: Option<PathBuf>,
    /// Key of the PESEL look-up hash (at least 32 bytes). Secret.
    #[serde(default)]
    pub pesel_key: Option<SecretString>,
    #[serde(default)]
    pub pesel_key_file: Option<PathBuf>,
    /// Where to keep a copy of the newest checkpoint, outside the database.
    #[serde(default)]
    pub checkpoint_file: Option<PathBuf>,
    /// This many failed logins of one login within the window open a security incident.
    /// Records older than this may be exported and pruned as a whole segment.
    pub retention_days: u32,
    #[serde(default = "default_failed_login_threshold")]
    pub failed_login_threshold: u32,
    #[serde(default = "default_failed_login_window_secs")]
    pub failed_login_window_secs: u64,
}

fn default_failed_login_threshold() -> u32 {
    IncidentRules::default().failed_login_threshold
}

fn default_failed_login_window_secs() -> u64 {
    IncidentRules::default().failed_login_window_secs
}

impl AuditSettings {
    pub fn incident_rules(&self) -> IncidentRules {
        IncidentRules {
            failed_login_threshold: self.failed_login_threshold,
            failed_login_window_secs: self.failed_login_window_secs,
        }
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
    contracts::permissions::Identity::Audit,
    crate::BASE_CONFIG
);

struct Keys {
    signing: SigningKey,
    pesel: Vec<u8>,
}

fn keys(settings: &AuditSettings) -> Result<Keys, StartupError> {
    let missing = |what: &str| {
        StartupError::Service(format!(
            "audit.{what}_file (or KLUCZNIK_AUDIT__{}) is required",
            what.to_ascii_uppercase()
        ))
    };
    let checkpoint = secret_from(
        "audit.checkpoint_key",
        &settings.checkpoint_key,
        &settings.checkpoint_key_file,
    )?
    .ok_or_else(|| missing("checkpoint_key"))?;
    let signing = signing_key_from_hex(checkpoint.expose_secret()).map_err(|e| {
        StartupError::Service(format!("audit.checkpoint_key is not an Ed25519 seed: {e}"))
    })?;
    let pesel = secret_from(
        "audit.pesel_key",
        &settings.pesel_key,
        &settings.pesel_key_file,
    )?
    .ok_or_else(|| missing("pesel_key"))?;
    if pesel.expose_secret().len() < 32 {
        return Err(StartupError::Service(
            "audit.pesel_key must be at least 32 characters".into(),
        ));
    }
    Ok(Keys {
        signing,
        pesel: pesel.expose_secret().as_bytes().to_vec(),
    })
}

pub struct Service {
    platform: Platform,
    audit: AuditSettings,
    keys: Keys,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let keys = keys(&settings.audit)?;
        if settings.audit.checkpoint_interval_secs == 0 {
            return Err(StartupError::Service(
                "audit.checkpoint_interval_secs must be at least 1".into(),
            ));
        }
        if settings.audit.failed_login_threshold == 0 {
            return Err(StartupError::Service(
                "audit.failed_login_threshold must be at least 1".into(),
            ));
        }
        if !(1..=MAX_FAILED_LOGIN_WINDOW_SECS).contains(&settings.audit.failed_login_window_secs) {
            return Err(StartupError::Service(format!(
                "audit.failed_login_window_secs must be between 1 and {MAX_FAILED_LOGIN_WINDOW_SECS}"
            )));
        }
        let platform =
            Platform::start(crate::SERVICE, settings.platform, &MIGRATIONS, streams::ALL).await?;
        // The retention policy the prune function enforces is the owner's to set: audit's own
        // role can only read it.
        crate::store::retention::retention_policy_set(
            &platform.owner,
            i64::from(settings.audit.retention_days),
        )
        .await
        .map_err(|e| StartupError::Service(format!("setting the retention policy: {e}")))?;
        Ok(Self {
            platform,
            audit: settings.audit,
            keys,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let Self {
            platform,
            audit,
            keys,
        } = self;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let minimiser = Arc::new(Minimiser::new(keys.pesel));
        let trusted = keys.signing.verifying_key();
        let checkpointer = Arc::new(Checkpointer {
            pool: platform.pool.clone(),
            key: keys.signing.clone(),
            clock: Arc::clone(&clock),
            interval: Duration::from_secs(audit.checkpoint_interval_secs),
            export_file: audit.checkpoint_file.clone(),
            outbox_wake: Arc::clone(&platform.outbox_wake),
            js: platform.js.clone(),
        });

        let mut workers = Workers::default();
        let handler = Arc::new(RecordHandler {
            minimiser: Arc::clone(&minimiser),
            clock: Arc::clone(&clock),
            incident_rules: audit.incident_rules(),
        });
        let consumers_stopped = CancellationToken::new();
        let mut consumer_tasks = Vec::new();
        for spec in consumers::AUDIT {
            let consumer = platform.consumer(*spec).await?;
            consumer_tasks.push(tokio::spawn(
                consumer.run(Arc::clone(&handler), stop.clone()),
            ));
        }
        // The last checkpoint is signed after the consumers stop, so it covers all they wrote.
        let after_consumers = consumers_stopped.clone();
        workers.spawn("audit-consumers", async move {
            for task in consumer_tasks {
                let _ = task.await;
            }
            after_consumers.cancel();
        });
        workers.spawn(
            "checkpointer",
            Arc::clone(&checkpointer).run(consumers_stopped),
        );

        let routes = crate::http::router(crate::http::AppState {
            pool: platform.pool.clone(),
            js: platform.js.clone(),
            trusted,
            minimiser,
            checkpointer,
            clock,
            retention: chrono::Duration::days(i64::from(audit.retention_days)),
        });
        platform.run(routes, workers, stop).await
    }
}
