//! Builds delivery from its settings and runs it until the shutdown token fires: the
//! consumer of issued credentials and the dispatcher that sends them, the collection desk
//! (HTTP) and the expiry of letters nobody collected, and the consumer of password changes
//! with the worker that sends their notices.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use contracts::streams::{self, consumers};
use kit::clock::{Clock, SystemClock};
use kit::settings::{SettingsError, secret_from};
use kit::{Platform, PlatformSettings, StartupError, Workers};
use lettre::message::Mailbox;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::bus::{
    CredentialsHandler, DELIVERY_NOTICES, PasswordChangedHandler, ReplyRequestedHandler,
};
use crate::collection::Desk;
use crate::dispatch::{DispatchConfig, Dispatcher, Mailer, NoticeSender, SmsGateway, SmtpMailer};
use crate::domain::Package;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    pub delivery: DeliverySettings,
}

/// `delivery.*`; every key is documented in `config/base.yaml`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeliverySettings {
    /// delivery's X25519 private key, 64 hex characters: opens the credentials accounts
    /// sealed to its public key. Secret: give `seal_key_file` (or the environment).
    #[serde(default)]
    pub seal_key: Option<SecretString>,
    #[serde(default)]
    pub seal_key_file: Option<PathBuf>,
    /// After a rotation: a file with the previous private keys, one 64-hex key a line, kept
    /// until the last credential sealed to them has expired. Secret.
    #[serde(default)]
    pub previous_seal_keys_file: Option<PathBuf>,
    /// `pdf` (an AES-256 PDF) or `zip` (the PDF in an AES-256 ZIP).
    pub package: Package,
    pub retry: RetrySettings,
    pub dispatch: DispatchSettings,
    pub smtp: SmtpSettings,
    pub sms: SmsSettings,
    #[serde(default)]
    pub notices: NoticeSettings,
}

/// `delivery.notices.*`: the notice after a password change.
#[derive(Debug, Clone, Deserialize)]
pub struct NoticeSettings {
    /// A change older than this gets no notice (a replayed backlog sends no stale ones).
    pub max_event_age_hours: u64,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self {
            max_event_age_hours: 72,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RetrySettings {
    /// Wait after the first passing failure, doubling with each further one.
    pub base_ms: u64,
    pub max_delay_secs: u64,
    /// Failed attempts after which a case is `failed`.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DispatchSettings {
    pub poll_interval_ms: u64,
    /// How long a dispatcher's claim keeps others off a case; longer than one try takes.
    pub lease_secs: u64,
    /// Cases taken (and sent at once) per claim.
    pub batch: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// The e-mail's `From`, e.g. `Wydział Edukacji <no-reply@klucznik.local>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    pub timeout_secs: u64,
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
    /// The gateway's API token (`smsapi`). Secret: give `token_file`.
    #[serde(default)]
    pub token: Option<SecretString>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The registered sender name (`smsapi`'s `from`); empty: the account's default.
    #[serde(default)]
    pub sender: Option<String>,
    pub timeout_secs: u64,
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

    fn platform_mut(&mut self) -> &mut PlatformSettings {
        &mut self.platform
    }
}

kit::service!(
    Service,
    Settings,
    contracts::permissions::Identity::Delivery,
    crate::BASE_CONFIG
);

fn invalid(key: &'static str, reason: impl Into<String>) -> StartupError {
    StartupError::Settings(SettingsError::Value {
        key,
        reason: reason.into(),
    })
}

impl DeliverySettings {
    /// The private seal key; required.
    pub fn seal_key(&self) -> Result<Zeroizing<[u8; 32]>, StartupError> {
        let text = secret_from("delivery.seal_key", &self.seal_key, &self.seal_key_file)?
            .filter(|k| !k.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                invalid(
                    "delivery.seal_key",
                    "missing, and required: give delivery's X25519 private key (64 hex \
                     characters) in the file named by KLUCZNIK_DELIVERY__SEAL_KEY_FILE (or in \
                     KLUCZNIK_DELIVERY__SEAL_KEY)",
                )
            })?;
        // The parser's own message could quote a character of the key: not repeated here.
        kit::auth::key_bytes_from_hex(text.expose_secret())
            .map(Zeroizing::new)
            .map_err(|_| invalid("delivery.seal_key", "must be 64 hex characters (32 bytes)"))
    }

    /// The current seal key and the previous ones still needed.
    pub fn seal_keys(&self) -> Result<crate::domain::credentials::SealKeys, StartupError> {
        let current = self.seal_key()?;
        let mut previous = Vec::new();
        if let Some(file) = &self.previous_seal_keys_file {
            let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
                invalid(
                    "delivery.previous_seal_keys_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?);
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                previous.push(Zeroizing::new(
                    kit::auth::key_bytes_from_hex(line).map_err(|_| {
                        invalid(
                            "delivery.previous_seal_keys_file",
                            "each line must be 64 hex characters (32 bytes)",
                        )
                    })?,
                ));
            }
        }
        Ok(crate::domain::credentials::SealKeys::new(current, previous))
    }

    pub fn dispatch_config(&self) -> Result<DispatchConfig, StartupError> {
        let from: Mailbox =
            self.smtp.from.parse().map_err(|e| {
                invalid("delivery.smtp.from", format!("not an e-mail address: {e}"))
            })?;
        if self.retry.max_attempts < 1 {
            return Err(invalid("delivery.retry.max_attempts", "must be at least 1"));
        }
        if self.retry.base_ms == 0 {
            return Err(invalid("delivery.retry.base_ms", "must be at least 1"));
        }
        if self.dispatch.batch < 1 {
            return Err(invalid("delivery.dispatch.batch", "must be at least 1"));
        }
        if self.dispatch.poll_interval_ms == 0 {
            return Err(invalid(
                "delivery.dispatch.poll_interval_ms",
                "must be at least 1",
            ));
        }
        // A claim must outlast one try: the e-mail's and the SMS's time-outs, and the letter.
        let one_try = self.smtp.timeout_secs + self.sms.timeout_secs + 30;
        if self.dispatch.lease_secs < one_try {
            return Err(invalid(
                "delivery.dispatch.lease_secs",
                format!(
                    "must be at least {one_try} (delivery.smtp.timeout_secs + \
                     delivery.sms.timeout_secs + 30)"
                ),
            ));
        }
        Ok(DispatchConfig {
            package: self.package,
            from,
            max_attempts: self.retry.max_attempts,
            retry_base: Duration::from_millis(self.retry.base_ms),
            retry_max: Duration::from_secs(self.retry.max_delay_secs.max(1)),
            poll_interval: Duration::from_millis(self.dispatch.poll_interval_ms),
            lease: Duration::from_secs(self.dispatch.lease_secs),
            batch: self.dispatch.batch,
        })
    }

    /// How old a password change may be and still get a notice.
    pub fn notice_max_age(&self) -> Result<chrono::Duration, StartupError> {
        i64::try_from(self.notices.max_event_age_hours)
            .ok()
            .and_then(chrono::Duration::try_hours)
            .filter(|age| *age > chrono::Duration::zero())
            .ok_or_else(|| {
                invalid(
                    "delivery.notices.max_event_age_hours",
                    "must be at least 1 (hours)",
                )
            })
    }

    pub fn mailer(&self) -> Result<Arc<dyn Mailer>, StartupError> {
        let password = secret_from(
            "delivery.smtp.password",
            &self.smtp.password,
            &self.smtp.password_file,
        )?;
        let has_username = self.smtp.username.as_deref().is_some_and(|u| !u.is_empty());
        if password.is_some() && !has_username {
            tracing::warn!(
                "delivery.smtp.password is given without delivery.smtp.username; the relay is used without logging in"
            );
        }
        SmtpMailer::new(&self.smtp, password)
            .map(|m| Arc::new(m) as Arc<dyn Mailer>)
            .map_err(|reason| invalid("delivery.smtp", reason))
    }

    pub fn sms_gateway(&self) -> Result<Arc<dyn SmsGateway>, StartupError> {
        let token = secret_from("delivery.sms.token", &self.sms.token, &self.sms.token_file)?;
        crate::dispatch::sms::gateway(&self.sms, token)
            .map_err(|reason| invalid("delivery.sms", reason))
    }
}

pub struct Service {
    platform: Platform,
    dispatcher: Arc<Dispatcher>,
    desk: Arc<Desk>,
    notices: Arc<NoticeSender>,
    credentials: Arc<CredentialsHandler>,
    notice_max_age: chrono::Duration,
    clock: Arc<dyn Clock>,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        crate::install_crypto_provider();
        // delivery's own settings are checked before anything connects.
        let delivery = &settings.delivery;
        let seal_key = delivery.seal_keys()?;
        let config = delivery.dispatch_config()?;
        let mailer = delivery.mailer()?;
        let sms = delivery.sms_gateway()?;
        let notice_max_age = delivery.notice_max_age()?;
        let platform = Platform::start(
            crate::SERVICE,
            settings.platform,
            &MIGRATIONS,
            // Every service declares every stream, so none depends on who starts first.
            streams::ALL,
        )
        .await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let desk = Arc::new(Desk::new(
            platform.pool.clone(),
            Arc::clone(&clock),
            seal_key.clone(),
            Arc::clone(&platform.outbox_wake),
            config.poll_interval,
            config.batch,
        ));
        let notices = Arc::new(
            NoticeSender::new(
                platform.pool.clone(),
                Arc::clone(&clock),
                Arc::clone(&mailer),
                config.clone(),
            )
            .with_seal_keys(seal_key.clone()),
        );
        let credentials = Arc::new(CredentialsHandler::new(
            Arc::clone(&clock),
            seal_key.clone(),
        ));
        let dispatcher = Arc::new(
            Dispatcher::new(
                platform.pool.clone(),
                Arc::clone(&clock),
                mailer,
                sms,
                seal_key,
                config,
                Arc::clone(&platform.outbox_wake),
            )
            .with_metrics(Arc::clone(&platform.metrics)),
        );
        Ok(Self {
            platform,
            dispatcher,
            desk,
            notices,
            credentials,
            notice_max_age,
            clock,
        })
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
            credentials.run(Arc::clone(&self.credentials), stop.clone()),
        );
        let password_changes = platform.consumer(DELIVERY_NOTICES).await?;
        workers.spawn(
            DELIVERY_NOTICES.durable,
            password_changes.run(
                Arc::new(PasswordChangedHandler::new(
                    Arc::clone(&self.clock),
                    self.notice_max_age,
                )),
                stop.clone(),
            ),
        );
        let replies = platform.consumer(consumers::DELIVERY_REPLIES).await?;
        workers.spawn(
            consumers::DELIVERY_REPLIES.durable,
            replies.run(
                Arc::new(ReplyRequestedHandler::new(self.clock, self.notice_max_age)),
                stop.clone(),
            ),
        );
        workers.spawn("dispatcher", self.dispatcher.run(stop.clone()));
        workers.spawn("notices", self.notices.run(stop.clone()));
        workers.spawn(
            "collection-expiry",
            Arc::clone(&self.desk).run_expiry(stop.clone()),
        );
        let routes = crate::http::router(self.desk);
        platform.run(routes, workers, stop).await
    }
}
