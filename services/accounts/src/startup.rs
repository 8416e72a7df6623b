//! Builds accounts from its settings and runs it until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::bus::cases::CasesHandler;
use contracts::streams::{self, consumers};
use ed25519_dalek::SigningKey;
use kit::{Platform, PlatformSettings, StartupError, Workers};
use serde::Deserialize;

use crate::domain::passwords::{HashCost, Hasher};
use tokio_util::sync::CancellationToken;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub platform: PlatformSettings,
    pub accounts: AccountsSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountsSettings {
    pub token_ttl_secs: u64,
    /// Ed25519 seed, 64 hex characters, that signs tokens. Secret.
    #[serde(default)]
    pub signing_key: Option<secrecy::SecretString>,
    #[serde(default)]
    pub signing_key_file: Option<std::path::PathBuf>,
    /// 32 bytes, 64 hex characters, that encrypt staff TOTP secrets at rest. Secret.
    #[serde(default)]
    pub totp_key: Option<secrecy::SecretString>,
    #[serde(default)]
    pub totp_key_file: Option<std::path::PathBuf>,
    pub password_hash: HashCost,
    pub starting_password: StartingPasswordSettings,
    /// delivery's X25519 public key (64 hex): new credentials are sealed to it.
    #[serde(default)]
    pub delivery_public_key: Option<String>,
    /// The access portal's address, printed in the letter.
    pub portal_url: String,
    pub sign_in: SignInSettings,
    /// The catalogue of ZSZO permissions a local administrator grants in the panel.
    #[serde(default)]
    pub permission_catalogue: crate::domain::staff::Catalogue,
    /// How long an e-mail confirmation link works, in hours.
    pub email_confirmation_hours: i64,
}

/// Bounds on sign-ins (staff and portal).
#[derive(Debug, Clone, Deserialize)]
pub struct SignInSettings {
    /// argon2id hashes at once (each takes `password_hash.memory_kib`); more wait, then 503.
    pub max_concurrent_hashes: usize,
    /// How long a sign-in waits for a hashing slot before 503 with Retry-After.
    pub hash_wait_ms: u64,
    /// Proxies whose `X-Forwarded-For` names the client: addresses or networks (the
    /// console's pods, an Ingress).
    #[serde(default)]
    pub trusted_proxies: crate::domain::sign_in::TrustedProxies,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StartingPasswordSettings {
    pub length: usize,
    pub expiry_days: i64,
}

impl AccountsSettings {
    pub fn signing_key(&self) -> Result<SigningKey, StartupError> {
        use secrecy::ExposeSecret;
        let seed = kit::settings::secret_from(
            "accounts.signing_key",
            &self.signing_key,
            &self.signing_key_file,
        )?
        .ok_or_else(|| {
            StartupError::Service(
                "accounts.signing_key_file (or KLUCZNIK_ACCOUNTS__SIGNING_KEY) is required".into(),
            )
        })?;
        kit::auth::key_bytes_from_hex(seed.expose_secret())
            .map(|b| SigningKey::from_bytes(&b))
            .map_err(|e| {
                StartupError::Service(format!("accounts.signing_key is not an Ed25519 seed: {e}"))
            })
    }

    /// The at-rest key's bytes.
    fn totp_key_bytes(&self) -> Result<zeroize::Zeroizing<[u8; 32]>, StartupError> {
        use secrecy::ExposeSecret;
        let key =
            kit::settings::secret_from("accounts.totp_key", &self.totp_key, &self.totp_key_file)?
                .ok_or_else(|| {
                StartupError::Service(
                    "accounts.totp_key_file (or KLUCZNIK_ACCOUNTS__TOTP_KEY) is required".into(),
                )
            })?;
        Ok(zeroize::Zeroizing::new(
            kit::auth::key_bytes_from_hex(key.expose_secret())
                .map_err(|e| StartupError::Service(format!("accounts.totp_key: {e}")))?,
        ))
    }

    pub fn totp_key(&self) -> Result<kit::at_rest::AtRestKey, StartupError> {
        Ok(kit::at_rest::AtRestKey::new(&*self.totp_key_bytes()?))
    }

    /// The key of the PESEL index (`domain::staff::pesel_index`), derived from the at-rest
    /// key for its own purpose: rotating that key means importing the staff again.
    pub fn pesel_key(&self) -> Result<[u8; 32], StartupError> {
        use hmac::{KeyInit, Mac};
        let bytes = self.totp_key_bytes()?;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(bytes.as_ref()).expect("any key length");
        mac.update(b"klucznik pesel-index key v1");
        Ok(mac.finalize().into_bytes().into())
    }

    pub fn delivery_key(&self) -> Result<[u8; 32], StartupError> {
        let text = self.delivery_public_key.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| {
            StartupError::Service("accounts.delivery_public_key (KLUCZNIK_ACCOUNTS__DELIVERY_PUBLIC_KEY) is required".into())
        })?;
        kit::auth::key_bytes_from_hex(text)
            .map_err(|e| StartupError::Service(format!("accounts.delivery_public_key: {e}")))
    }

    pub fn hasher(&self) -> Result<Hasher, StartupError> {
        let cost = self.password_hash;
        if cost.memory_kib < HashCost::OWASP.memory_kib
            || cost.iterations < HashCost::OWASP.iterations
        {
            return Err(StartupError::Service(
                "accounts.password_hash is below OWASP's argon2id minimum (m=19456 KiB, t=2, p=1)"
                    .into(),
            ));
        }
        Hasher::new(cost).map_err(|e| StartupError::Service(e.to_string()))
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
    contracts::permissions::Identity::Accounts,
    crate::BASE_CONFIG
);

pub struct Service {
    platform: Platform,
    accounts: AccountsSettings,
    signing: SigningKey,
    hasher: Arc<Hasher>,
    totp_key: Arc<kit::at_rest::AtRestKey>,
}

impl Service {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let signing = settings.accounts.signing_key()?;
        let totp_key = Arc::new(settings.accounts.totp_key()?);
        settings.accounts.delivery_key()?;
        if settings.accounts.starting_password.length < 12 {
            return Err(StartupError::Service(
                "accounts.starting_password.length must be at least 12".into(),
            ));
        }
        let hasher = Arc::new(settings.accounts.hasher()?);
        if !(1..=24 * 14).contains(&settings.accounts.email_confirmation_hours) {
            return Err(StartupError::Service(
                "accounts.email_confirmation_hours must be between 1 and 336".into(),
            ));
        }
        settings
            .accounts
            .permission_catalogue
            .clone()
            .checked()
            .map_err(StartupError::Service)?;
        let platform = Platform::start(
            crate::SERVICE,
            settings.platform,
            &MIGRATIONS,
            // Every service declares every stream, so none depends on who starts first.
            streams::ALL,
        )
        .await?;
        let encrypted =
            crate::store::credentials::totp_secrets_encrypt_legacy(&platform.pool, &totp_key)
                .await
                .map_err(|e| StartupError::Service(format!("encrypting TOTP secrets: {e}")))?;
        if encrypted > 0 {
            tracing::info!(
                encrypted,
                "TOTP secrets stored before encryption are encrypted now"
            );
        }
        Ok(Self {
            platform,
            accounts: settings.accounts,
            signing,
            hasher,
            totp_key,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.platform.local_addr()
    }

    pub async fn run_until_stopped(self, stop: CancellationToken) -> Result<(), StartupError> {
        let Self {
            platform,
            accounts,
            signing,
            hasher,
            totp_key,
        } = self;
        let clock: Arc<dyn kit::clock::Clock> = Arc::new(kit::clock::SystemClock);
        let mut workers = Workers::default();
        let cases = platform.consumer(consumers::ACCOUNTS_CASES).await?;
        workers.spawn(
            consumers::ACCOUNTS_CASES.durable,
            cases.run(
                Arc::new(CasesHandler {
                    clock: Arc::clone(&clock),
                    issuer: Arc::new(crate::bus::realise::Issuer {
                        hasher: Arc::clone(&hasher),
                        delivery_key: accounts.delivery_key()?,
                        starting: accounts.starting_password.clone(),
                        portal_url: accounts.portal_url.clone(),
                    }),
                }),
                stop.clone(),
            ),
        );
        // An unknown login is kept as a hash keyed from the signing key (its own purpose).
        let login_hash_key: [u8; 32] = {
            use hmac::{KeyInit, Mac};
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&signing.to_bytes())
                .expect("any key length");
            mac.update(b"klucznik unknown-login key v1");
            mac.finalize().into_bytes().into()
        };
        let dummy_hash = hasher
            .hash(&secrecy::SecretString::from(
                uuid::Uuid::new_v4().to_string(),
            ))
            .map_err(|e| StartupError::Service(e.to_string()))?;
        let routes = crate::http::router(crate::http::AppState {
            pool: platform.pool.clone(),
            hasher,
            signing,
            clock,
            token_ttl: chrono::Duration::seconds(accounts.token_ttl_secs as i64),
            dummy_hash: Arc::new(dummy_hash),
            totp_key,
            gate: Arc::new(crate::http::gate::Gate::new(
                accounts.sign_in.max_concurrent_hashes,
                std::time::Duration::from_millis(accounts.sign_in.hash_wait_ms),
                accounts.sign_in.trusted_proxies.0.clone(),
                login_hash_key,
            )),
            catalogue: Arc::new(accounts.permission_catalogue.clone()),
            starting: accounts.starting_password.clone(),
            portal_url: accounts.portal_url.clone(),
            delivery_key: accounts.delivery_key()?,
            confirmation_ttl: chrono::Duration::hours(accounts.email_confirmation_hours),
        });
        platform.run(routes, workers, stop).await
    }
}
