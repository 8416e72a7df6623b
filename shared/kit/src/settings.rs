//! Settings shared by every service. Defaults come from `shared/kit/config/platform.yaml`
//! and the service's documented `config/base.yaml` (both compiled in), then the
//! `APP_ENVIRONMENT` overlay, then an optional file named by `KLUCZNIK_CONFIG_FILE`, then
//! `KLUCZNIK_<SECTION>__<KEY>` environment variables. Secrets come only from the
//! environment or mounted files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration is invalid: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("APP_ENVIRONMENT must be `local` or `production`, not `{0}`")]
    Environment(String),
    #[error("configuration value {key} is invalid: {reason}")]
    Value { key: &'static str, reason: String },
    #[error("cannot read the secret file {path} ({key}): {source}")]
    SecretFile {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

const PLATFORM_DEFAULTS: &str = include_str!("../config/platform.yaml");
const LOCAL: &str = include_str!("../config/local.yaml");
const PRODUCTION: &str = include_str!("../config/production.yaml");

/// Settings of a service: the platform's and its own.
pub trait ServiceSettings: serde::de::DeserializeOwned {
    fn platform(&self) -> &PlatformSettings;
    fn platform_mut(&mut self) -> &mut PlatformSettings;
}

/// Loads a service's settings: platform defaults, the service's `base.yaml`, the
/// environment's overlay, an optional `KLUCZNIK_CONFIG_FILE`, then the environment.
pub fn load<T: serde::de::DeserializeOwned>(service_base: &str) -> Result<T, SettingsError> {
    let environment = std::env::var("APP_ENVIRONMENT").unwrap_or_else(|_| "local".into());
    let overlay = match environment.as_str() {
        "local" => LOCAL,
        "production" => PRODUCTION,
        other => return Err(SettingsError::Environment(other.to_owned())),
    };
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(
            PLATFORM_DEFAULTS,
            config::FileFormat::Yaml,
        ))
        .add_source(config::File::from_str(
            service_base,
            config::FileFormat::Yaml,
        ))
        .add_source(config::File::from_str(overlay, config::FileFormat::Yaml));
    if let Ok(path) = std::env::var("KLUCZNIK_CONFIG_FILE") {
        builder = builder.add_source(config::File::from(Path::new(&path)).required(true));
    }
    let built = builder
        .add_source(
            config::Environment::with_prefix("KLUCZNIK")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        )
        .build()?;
    // Deserialising the platform's part on its own first names the key at fault, which a
    // service's flattened settings would not.
    built.clone().try_deserialize::<PlatformSettings>()?;
    Ok(built.try_deserialize()?)
}

/// Reads a secret given either inline (from the environment) or as a mounted file.
pub fn secret_from(
    key: &'static str,
    inline: &Option<SecretString>,
    file: &Option<PathBuf>,
) -> Result<Option<SecretString>, SettingsError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::SecretFile {
            key,
            path: path.clone(),
            source,
        })?;
        return Ok(Some(SecretString::from(
            text.trim_end_matches(['\n', '\r']).to_owned(),
        )));
    }
    Ok(inline.clone())
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlatformSettings {
    pub http: HttpSettings,
    pub nats: NatsSettings,
    pub database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
    pub consumer: ConsumerSettings,
    pub outbox: OutboxSettings,
    #[serde(default)]
    pub auth: AuthSettings,
}

/// How a service checks who is acting: accounts' public token key.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthSettings {
    /// Ed25519 public key of accounts' token signing key, 64 hex characters.
    #[serde(default)]
    pub accounts_public_key: Option<String>,
    /// After a rotation of accounts' signing key: the previous public keys, comma-separated,
    /// trusted until the tokens they signed have expired (a token's lifetime after the
    /// rotation), then removed.
    #[serde(default)]
    pub previous_public_keys: Option<String>,
}

impl AuthSettings {
    /// Every trusted key, the current one first; a key that does not parse is skipped
    /// (`validate` refuses it at start).
    pub fn verifying_keys(&self) -> Vec<ed25519_dalek::VerifyingKey> {
        let previous = self.previous_public_keys.as_deref().unwrap_or_default();
        self.accounts_public_key
            .iter()
            .map(String::as_str)
            .chain(previous.split(','))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .filter_map(|k| crate::auth::key_bytes_from_hex(k).ok())
            .filter_map(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    pub request_timeout_secs: u64,
    /// The longest request body a route accepts unless it sets its own limit.
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NatsSettings {
    pub url: String,
    pub connect_timeout_secs: u64,
    /// Replicas of each stream: 1 on one machine, 3 on the production cluster.
    pub stream_replicas: usize,
    /// This party's NATS identity: an nkey seed (`SU…`), inline or, better, in a file.
    #[serde(default)]
    pub nkey_seed: Option<SecretString>,
    #[serde(default)]
    pub nkey_seed_file: Option<PathBuf>,
    /// The CA certificate that signed the NATS servers' (TLS required when set; the URL's
    /// host is checked against the certificate).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Connect without an identity. Only for a NATS that has no authentication at all; a
    /// service started so warns that every client may then publish anything.
    #[serde(default)]
    pub allow_anonymous: bool,
}

impl NatsSettings {
    /// The nkey seed, or `None` when running anonymously (refused unless allowed).
    pub fn nkey_seed(&self) -> Result<Option<SecretString>, SettingsError> {
        let seed = secret_from("nats.nkey_seed", &self.nkey_seed, &self.nkey_seed_file)?;
        if seed.is_none() && !self.allow_anonymous {
            return Err(SettingsError::Value {
                key: "nats.nkey_seed_file",
                reason:
                    "required: this party's NATS nkey seed (`klucznikctl nats init` makes one); \
                         set nats.allow_anonymous to true only for a NATS without authentication"
                        .into(),
            });
        }
        Ok(seed)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    /// TLS, the server's certificate checked against `ssl_root_cert` and its name.
    VerifyFull,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub host: String,
    pub port: u16,
    pub name: String,
    pub username: String,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    pub ssl_mode: SslMode,
    /// The CA certificate that signed the server's (for `verify_full`).
    #[serde(default)]
    pub ssl_root_cert: Option<PathBuf>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    /// The role that owns the schema and runs the migrations, when the service itself runs
    /// as a role of lesser rights (`username`); after migrating, it grants that role what
    /// the service needs (`kit_grant_app`). Unset: the service's role migrates itself.
    #[serde(default)]
    pub migration_username: Option<String>,
    #[serde(default)]
    pub migration_password: Option<SecretString>,
    #[serde(default)]
    pub migration_password_file: Option<PathBuf>,
}

impl DatabaseSettings {
    pub fn connect_options(&self) -> Result<sqlx::postgres::PgConnectOptions, SettingsError> {
        let password = secret_from("database.password", &self.password, &self.password_file)?;
        self.options_for(&self.username, password)
    }

    /// How the owner connects to run the migrations, when one is configured.
    pub fn migration_options(
        &self,
    ) -> Result<Option<sqlx::postgres::PgConnectOptions>, SettingsError> {
        let Some(owner) = &self.migration_username else {
            return Ok(None);
        };
        let password = secret_from(
            "database.migration_password",
            &self.migration_password,
            &self.migration_password_file,
        )?;
        self.options_for(owner, password).map(Some)
    }

    fn options_for(
        &self,
        username: &str,
        password: Option<SecretString>,
    ) -> Result<sqlx::postgres::PgConnectOptions, SettingsError> {
        use sqlx::postgres::{PgConnectOptions, PgSslMode};
        let mut options = PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(username)
            .database(&self.name)
            .application_name("klucznik")
            .ssl_mode(match self.ssl_mode {
                SslMode::Disable => PgSslMode::Disable,
                SslMode::Prefer => PgSslMode::Prefer,
                SslMode::Require => PgSslMode::Require,
                SslMode::VerifyFull => PgSslMode::VerifyFull,
            });
        if let Some(root) = &self.ssl_root_cert {
            options = options.ssl_root_cert(root);
        }
        if let Some(password) = password {
            options = options.password(password.expose_secret());
        }
        Ok(options)
    }

    /// Where the database is, without any secret, for error messages.
    pub fn describe(&self) -> String {
        format!(
            "postgres://{}@{}:{}/{}",
            self.username, self.host, self.port, self.name
        )
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    /// OTLP/HTTP endpoint of a collector (e.g. `http://collector:4318`); none disables export.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    pub log_format: LogFormat,
    /// `RUST_LOG` wins over this.
    pub log_filter: String,
    pub export_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConsumerSettings {
    pub max_deliver: i64,
    pub ack_wait_secs: u64,
    pub batch: usize,
    pub fetch_expires_ms: u64,
    /// Delay before a retryable failure is tried again, growing with each delivery.
    pub retry_base_ms: u64,
}

impl ConsumerSettings {
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.ack_wait_secs)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboxSettings {
    pub batch: i64,
    pub poll_interval_ms: u64,
}

impl PlatformSettings {
    /// Checks what serde cannot: ranges and relations between values.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |key, reason: &str| {
            Err(SettingsError::Value {
                key,
                reason: reason.to_owned(),
            })
        };
        if !self.nats.url.starts_with("nats://") && !self.nats.url.starts_with("tls://") {
            return bad("nats.url", "must start with nats:// or tls://");
        }
        self.nats.nkey_seed()?;
        if self.consumer.max_deliver < 1 {
            return bad("consumer.max_deliver", "must be at least 1");
        }
        if self.consumer.batch == 0 {
            return bad("consumer.batch", "must be at least 1");
        }
        if self.consumer.ack_wait_secs == 0 {
            return bad("consumer.ack_wait_secs", "must be at least 1");
        }
        let parses = |key: &str| {
            crate::auth::key_bytes_from_hex(key)
                .ok()
                .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
                .is_some()
        };
        if let Some(key) = &self.auth.accounts_public_key
            && !key.is_empty()
            && !parses(key)
        {
            return bad(
                "auth.accounts_public_key",
                "must be an Ed25519 public key, 64 hex characters",
            );
        }
        if let Some(keys) = &self.auth.previous_public_keys
            && keys
                .split(',')
                .map(str::trim)
                .any(|k| !k.is_empty() && !parses(k))
        {
            return bad(
                "auth.previous_public_keys",
                "must be Ed25519 public keys, 64 hex characters each, separated by commas",
            );
        }
        if self.outbox.batch < 1 {
            return bad("outbox.batch", "must be at least 1");
        }
        if self.database.max_connections < 2 {
            return bad("database.max_connections", "must be at least 2");
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !endpoint.is_empty()
            && !endpoint.starts_with("http://")
            && !endpoint.starts_with("https://")
        {
            return bad(
                "telemetry.otlp_endpoint",
                "must be an http:// or https:// URL",
            );
        }
        Ok(())
    }
}
