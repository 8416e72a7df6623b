//! The whole system for an e2e test: a nats-server, a fresh database per service, and the
//! five service binaries as processes on free ports.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use contracts::permissions::Identity;
use contracts::seod_status::SeodStatus;
use contracts::{streams, subjects};
use futures::StreamExt;

use crate::{NatsServer, ServiceProcess, TestDatabase};

/// delivery's X25519 sealing key in tests.
pub const TEST_DELIVERY_SEAL_KEY: &str =
    "64656c69766572792d746573742d7365616c2d6b65792d303030303030303031";

/// accounts' token signing seed in tests.
pub const TEST_ACCOUNTS_SIGNING_KEY: &str =
    "6b6c7563a7a16e696b2d746573742d6163636f756e74732d7369676e696e6721";

/// accounts' key for staff TOTP secrets at rest, in tests.
pub const TEST_ACCOUNTS_TOTP_KEY: &str =
    "746f74702d6b65792d666f722d746573747320303030303030303030303031aa";

/// The Ed25519 public key (64 hex) of a seed given as 64 hex.
fn public_of_seed(seed_hex: &str) -> String {
    let seed: [u8; 32] = hex::decode(seed_hex).unwrap().try_into().unwrap();
    hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .as_bytes(),
    )
}

/// The public key the services check tokens with, in tests.
pub fn test_accounts_public_key() -> String {
    public_of_seed(TEST_ACCOUNTS_SIGNING_KEY)
}

/// The department's staff in the sample directory, and the password tests give them.
pub const STAFF: [&str; 3] = ["admin.ek04", "operator.ek04", "audytor"];
/// Directors who sign in to the console (the central admin panel) with the staff password and
/// a TOTP secret of their own.
pub const CONSOLE_DIRECTORS: [&str; 1] = ["jkowalski"];
/// People of procedure D's register who sign in to the console: Kraków's inspector (mode 1,
/// and the authorising body of Kraków's schools) and the ministry's (Kraków's).
pub const CONSOLE_SIO_USERS: [&str; 2] = ["anowak", "mkontrola"];
pub const STAFF_PASSWORD: &str = "Haslo-Personelu-2026!";

/// Keys only tests use: an Ed25519 seed and a PESEL hash key.
pub const TEST_CHECKPOINT_KEY: &str =
    "4b6c7563a7a16e696b2d746573742d636865636b706f696e742d6b65792d3031";
/// audit's checkpoint public key in tests (64 hex), as an operator would get it out of band.
pub fn test_checkpoint_public_key() -> String {
    public_of_seed(TEST_CHECKPOINT_KEY)
}
pub const TEST_PESEL_KEY: &str = "klucznik-test-pesel-key-0123456789abcdef";
/// revocation's key of its PESEL index (not audit's: each keeps its own).
pub const TEST_REVOCATION_PESEL_KEY: &str = "klucznik-test-revocation-pesel-key-0123456789";

pub const SERVICES: [&str; 5] = ["intake", "accounts", "delivery", "revocation", "audit"];

#[derive(Debug, Clone, Default)]
pub struct SystemOptions {
    pub otlp_endpoint: Option<String>,
    /// The directory accounts starts with (default: the sample `make run` loads).
    pub directory: Option<PathBuf>,
    /// Run the release binaries (benchmarks).
    pub release: bool,
    /// Where delivery sends e-mail and SMS (set by `System::start`).
    pub smtp_port: Option<u16>,
    pub sms_url: Option<String>,
    /// Extra environment for every service.
    pub env: BTreeMap<String, String>,
    /// Start the console too (the staff's web pages), at `url("console")`.
    pub console: bool,
    /// The PostgreSQL server the databases are made on (default: the tests' shared one).
    pub database_url: Option<String>,
    /// Nodes of the NATS cluster (0 or 1: a single server), streams at as many replicas.
    pub nats_nodes: usize,
    /// Processes of each service (and of the console) against the same bus and databases
    /// (0 or 1: one).
    pub replicas: usize,
}

pub struct System {
    pub nats: NatsServer,
    pub databases: BTreeMap<&'static str, TestDatabase>,
    pub services: BTreeMap<&'static str, ServiceProcess>,
    /// Each service's further replicas (`SystemOptions::replicas`), on ports of their own.
    pub replicas: BTreeMap<&'static str, Vec<ServiceProcess>>,
    pub logs: PathBuf,
    /// Each staff member's TOTP secret (base32), from `accounts enroll-totp`.
    pub totp_secrets: BTreeMap<String, String>,
    pub smtp: crate::SmtpSink,
    pub sms: crate::SmsSink,
    /// Each staff member's token, signed in once: tokens live 15 minutes, longer than a
    /// test, and a TOTP code is accepted only once.
    staff_tokens: std::sync::Mutex<BTreeMap<String, String>>,
}

/// The sample auditor, who reads the audit record in tests.
pub const AUDITOR: &str = "audytor";

impl System {
    pub async fn start(mut options: SystemOptions) -> Self {
        kit::main_support::install_crypto_provider();
        let smtp = crate::SmtpSink::start();
        let sms = crate::SmsSink::start().await;
        options.smtp_port = Some(smtp.port);
        options.sms_url = Some(sms.url());
        let nats = NatsServer::cluster(options.nats_nodes.max(1));
        let logs = crate::scratch_dir("system");
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(crate::database::admin_url);
        let mut databases = BTreeMap::new();
        for name in SERVICES {
            databases.insert(name, TestDatabase::create_on(&database_url, name).await);
        }
        let directory = options.directory.clone().unwrap_or_else(|| {
            crate::workspace_root().join("services/accounts/sample/directory.jsonl")
        });
        let accounts_env = service_env("accounts", &nats, &databases["accounts"], &options);
        import_directory(&accounts_env, &directory);
        if options.directory.is_none() {
            import_directory(&accounts_env, &more_accounts(&logs));
            let staff = crate::workspace_root().join("services/accounts/sample/staff.csv");
            accounts_command(
                &accounts_env,
                &["import-staff", &staff.to_string_lossy()],
                "",
            );
        }
        if options.directory.is_none() {
            let register =
                crate::workspace_root().join("services/revocation/sample/register.jsonl");
            let env = service_env("revocation", &nats, &databases["revocation"], &options);
            service_command(
                "revocation",
                &env,
                &["import", &register.to_string_lossy()],
                "",
            );
        }
        let mut totp_secrets = BTreeMap::new();
        if options.directory.is_none() {
            for login in STAFF
                .into_iter()
                .chain(CONSOLE_DIRECTORS)
                .chain(CONSOLE_SIO_USERS)
            {
                accounts_command(&accounts_env, &["set-password", login], STAFF_PASSWORD);
                let out = accounts_command(&accounts_env, &["enroll-totp", login], "");
                let secret = out.lines().next().unwrap_or_default().to_owned();
                totp_secrets.insert(login.to_owned(), secret);
            }
        }
        let mut services = BTreeMap::new();
        let mut replicas: BTreeMap<&'static str, Vec<ServiceProcess>> = BTreeMap::new();
        let profile = if options.release { "release" } else { "debug" };
        for name in SERVICES {
            let env = service_env(name, &nats, &databases[name], &options);
            let port = env["KLUCZNIK_HTTP__PORT"].parse().expect("a port");
            for replica in 1..options.replicas.max(1) {
                let mut env = env.clone();
                let port = crate::free_port();
                env.insert("KLUCZNIK_HTTP__PORT".to_owned(), port.to_string());
                replicas
                    .entry(name)
                    .or_default()
                    .push(ServiceProcess::spawn_logged(
                        name,
                        &format!("{name}-{replica}"),
                        profile,
                        port,
                        env,
                        &logs,
                    ));
            }
            services.insert(
                name,
                ServiceProcess::spawn_profile(name, profile, port, env, &logs),
            );
        }
        let mut system = Self {
            nats,
            databases,
            services,
            replicas,
            logs,
            totp_secrets,
            smtp,
            sms,
            staff_tokens: std::sync::Mutex::new(BTreeMap::new()),
        };
        for name in SERVICES {
            system
                .service(name)
                .wait_ready(Duration::from_secs(30))
                .await;
            for replica in system.replicas.entry(name).or_default() {
                replica.wait_ready(Duration::from_secs(30)).await;
            }
        }
        if options.console {
            system.start_console(&options).await;
        }
        system
    }

    /// The console, pointed at this system's services.
    async fn start_console(&mut self, options: &SystemOptions) {
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(crate::database::admin_url);
        let db = TestDatabase::create_on(&database_url, "console").await;
        let mut env = service_env("console", &self.nats, &db, options);
        env.insert(
            "KLUCZNIK_CONSOLE__ACCOUNTS_URL".to_owned(),
            self.url("accounts"),
        );
        for service in ["intake", "delivery", "revocation", "audit"] {
            env.insert(
                format!("KLUCZNIK_CONSOLE__{}_URL", service.to_uppercase()),
                self.url(service),
            );
        }
        let port = env["KLUCZNIK_HTTP__PORT"].parse().expect("a port");
        let profile = if options.release { "release" } else { "debug" };
        for replica in 1..options.replicas.max(1) {
            let mut env = env.clone();
            let port = crate::free_port();
            env.insert("KLUCZNIK_HTTP__PORT".to_owned(), port.to_string());
            let log_name = format!("console-{replica}");
            let mut replica =
                ServiceProcess::spawn_logged("console", &log_name, profile, port, env, &self.logs);
            replica.wait_ready(Duration::from_secs(30)).await;
            self.replicas.entry("console").or_default().push(replica);
        }
        self.databases.insert("console", db);
        self.services.insert(
            "console",
            ServiceProcess::spawn_profile("console", profile, port, env, &self.logs),
        );
        self.service("console")
            .wait_ready(Duration::from_secs(30))
            .await;
    }

    pub fn service(&mut self, name: &str) -> &mut ServiceProcess {
        self.services.get_mut(name).expect("a known service")
    }

    pub fn url(&self, name: &str) -> String {
        self.services[name].base_url()
    }

    /// Every process of a service: the first, then its replicas.
    pub fn instances(&mut self, name: &str) -> Vec<&mut ServiceProcess> {
        let mut all: Vec<&mut ServiceProcess> = Vec::new();
        if let Some(first) = self.services.get_mut(name) {
            all.push(first);
        }
        if let Some(more) = self.replicas.get_mut(name) {
            all.extend(more.iter_mut());
        }
        all
    }

    /// The base URL of every process of a service.
    pub fn urls(&self, name: &str) -> Vec<String> {
        self.services
            .get(name)
            .into_iter()
            .chain(self.replicas.get(name).into_iter().flatten())
            .map(ServiceProcess::base_url)
            .collect()
    }

    /// The tests' observer on the bus (the provisioner's identity: it may read anything).
    pub async fn client(&self) -> async_nats::Client {
        self.nats.client().await
    }

    /// A client with one party's identity and permissions.
    pub async fn client_as(&self, identity: Identity) -> async_nats::Client {
        self.nats.connect_as(identity).await
    }

    /// Publishes a form as SEOD does and returns the first status SEOD hears back.
    pub async fn submit(
        &self,
        subject: &str,
        body: &[u8],
        message_id: &str,
        correlation: &str,
    ) -> SeodStatus {
        let js = jetstream::new(self.client_as(Identity::Seod).await);
        let mut feed = status_feed(&js, correlation).await;
        js.send_publish(
            subject.to_owned(),
            PublishMessage::build()
                .payload(body.to_vec().into())
                .message_id(message_id),
        )
        .await
        .expect("publish")
        .await
        .expect("JetStream acknowledges the form");
        let message = tokio::time::timeout(Duration::from_secs(20), feed.next())
            .await
            .expect("a status within 20 s")
            .expect("a status")
            .expect("a readable status");
        serde_json::from_slice(&message.payload).expect("a status in the published schema")
    }

    /// Every status published for a correlation so far.
    pub async fn statuses(&self, correlation: &str) -> Vec<SeodStatus> {
        let js = jetstream::new(self.client().await);
        let stream = js
            .get_stream(streams::SEOD_STATUS.name)
            .await
            .expect("status stream");
        let subject = subjects::seod_status(correlation);
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: subject,
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .expect("ordered consumer");
        let mut messages = consumer.messages().await.expect("messages");
        let mut out = Vec::new();
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(300), messages.next()).await
        {
            out.push(serde_json::from_slice(&message.payload).expect("a status"));
        }
        out
    }

    /// Runs an `accounts` administration command (`set-status`, …) as an administrator of
    /// the department would, against this system's accounts database.
    pub fn accounts_admin(&self, args: &[&str]) -> String {
        accounts_command(self.services["accounts"].env(), args, "")
    }

    /// As [`System::accounts_admin`], with `stdin` (a password to set).
    pub fn accounts_admin_with(&self, args: &[&str], stdin: &str) -> String {
        accounts_command(self.services["accounts"].env(), args, stdin)
    }

    /// A staff member's bearer token: signed in (password and TOTP) the first time it is
    /// asked for in this system, the same token after that.
    pub async fn staff_token(&self, login: &str) -> String {
        if let Some(token) = self.staff_tokens.lock().unwrap().get(login) {
            return token.clone();
        }
        let token = self.sign_in_staff(login).await;
        self.staff_tokens
            .lock()
            .unwrap()
            .insert(login.to_owned(), token.clone());
        token
    }

    /// The current TOTP code of a staff member.
    pub fn totp_code(&self, login: &str) -> String {
        let secret = &self.totp_secrets[login];
        let bytes = kit::totp::base32_decode(secret).expect("a base32 secret");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        kit::totp::code(&bytes, now)
    }

    async fn sign_in_staff(&self, login: &str) -> String {
        let code = self.totp_code(login);
        let response = reqwest::Client::new()
            .post(format!("{}/api/auth/staff-login", self.url("accounts")))
            .json(&serde_json::json!({ "login": login, "password": STAFF_PASSWORD, "totp": code }))
            .send()
            .await
            .expect("accounts answers");
        assert!(
            response.status().is_success(),
            "sign-in of {login}: {}",
            response.status()
        );
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// A token of the sample auditor, who may read the audit record.
    pub async fn auditor_token(&self) -> String {
        self.staff_token(AUDITOR).await
    }

    /// An authenticated GET on audit's API (as the sample auditor), answered with JSON.
    pub async fn audit_get(&self, path: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.url("audit")))
            .bearer_auth(self.auditor_token().await)
            .send()
            .await
            .expect("audit answers");
        json_of(response, path).await
    }

    /// Audit's recorded events matching a query string, e.g. `case_number=…`.
    pub async fn audit_events(&self, query: &str) -> Vec<serde_json::Value> {
        let limit = if query.contains("limit=") {
            ""
        } else {
            "&limit=1000"
        };
        let url = format!("{}/api/events?{query}{limit}", self.url("audit"));
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(self.auditor_token().await)
            .send()
            .await
            .expect("audit answers");
        let body = json_of(response, &url).await;
        body["events"].as_array().cloned().unwrap_or_default()
    }
}

/// A response's JSON body; when it is not JSON, the panic says what came instead.
async fn json_of(response: reqwest::Response, what: &str) -> serde_json::Value {
    let status = response.status();
    let headers = format!("{:?}", response.headers());
    let bytes = response.bytes().await.expect("audit's body");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "audit answers JSON to {what}: {e}; got {status} {headers} {:?}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

async fn status_feed(js: &jetstream::Context, correlation: &str) -> consumer::pull::Ordered {
    let stream = js
        .get_stream(streams::SEOD_STATUS.name)
        .await
        .expect("status stream exists");
    stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subjects::seod_status(correlation),
            deliver_policy: consumer::DeliverPolicy::New,
            ..Default::default()
        })
        .await
        .expect("ordered consumer")
        .messages()
        .await
        .expect("messages")
}

/// Runs an `accounts` administration command with `stdin`; returns its standard output.
pub fn accounts_command(env: &BTreeMap<String, String>, args: &[&str], stdin: &str) -> String {
    service_command("accounts", env, args, stdin)
}

/// Runs a service's administration command, as an administrator would.
pub fn service_command(
    service: &str,
    env: &BTreeMap<String, String>,
    args: &[&str],
    stdin: &str,
) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::process::binary_path(service))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{service} runs: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{service} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Loads a directory file with `accounts import`, as an administrator would.
pub fn import_directory(env: &BTreeMap<String, String>, file: &std::path::Path) {
    let out = std::process::Command::new(crate::process::binary_path("accounts"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .arg("import")
        .arg(file)
        .output()
        .expect("accounts import runs");
    assert!(
        out.status.success(),
        "accounts import failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many extra ZSZO accounts SP 7 has in tests, `konto01` … (see [`more_accounts`]).
pub const EXTRA_ACCOUNTS: usize = 40;

/// Extra accounts of SP 7 (RSPO 12345), `konto01` to `konto40`: an account has one open
/// case at a time, so a test that files many requests files each for another account.
fn more_accounts(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("more-accounts.jsonl");
    let lines: String = (1..=EXTRA_ACCOUNTS)
        .map(|i| {
            format!(
                "{{\"type\":\"account\",\"rspo_id\":\"12345\",\"login\":\"konto{i:02}\",\
                 \"first_name\":\"Anna\",\"last_name\":\"Testowa\"}}\n"
            )
        })
        .collect();
    std::fs::write(&file, lines).expect("a scratch file");
    file
}

/// The environment a service process runs with in tests.
pub fn service_env(
    service: &str,
    nats: &NatsServer,
    db: &TestDatabase,
    options: &SystemOptions,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("APP_ENVIRONMENT".to_owned(), "local".to_owned()),
        (
            "KLUCZNIK_HTTP__PORT".to_owned(),
            crate::free_port().to_string(),
        ),
        ("KLUCZNIK_NATS__URL".to_owned(), nats.url()),
        (
            "KLUCZNIK_NATS__NKEY_SEED".to_owned(),
            Identity::parse(service)
                .map(|identity| nats.seed(identity).to_owned())
                .unwrap_or_default(),
        ),
        ("KLUCZNIK_DATABASE__HOST".to_owned(), db.host()),
        ("KLUCZNIK_DATABASE__PORT".to_owned(), db.port().to_string()),
        ("KLUCZNIK_DATABASE__NAME".to_owned(), db.name.clone()),
        ("KLUCZNIK_DATABASE__USERNAME".to_owned(), db.username()),
        (
            "KLUCZNIK_DATABASE__SSL_MODE".to_owned(),
            "disable".to_owned(),
        ),
        (
            "KLUCZNIK_CONSUMER__ACK_WAIT_SECS".to_owned(),
            "2".to_owned(),
        ),
        (
            "KLUCZNIK_CONSUMER__RETRY_BASE_MS".to_owned(),
            "100".to_owned(),
        ),
        (
            "KLUCZNIK_OUTBOX__POLL_INTERVAL_MS".to_owned(),
            "200".to_owned(),
        ),
        (
            "KLUCZNIK_TELEMETRY__EXPORT_INTERVAL_MS".to_owned(),
            "200".to_owned(),
        ),
        (
            "RUST_LOG".to_owned(),
            "info,async_nats=warn,sqlx=warn".to_owned(),
        ),
    ]);
    env.insert(
        "KLUCZNIK_AUTH__ACCOUNTS_PUBLIC_KEY".to_owned(),
        test_accounts_public_key(),
    );
    if service == "accounts" {
        env.insert(
            "KLUCZNIK_ACCOUNTS__SIGNING_KEY".to_owned(),
            TEST_ACCOUNTS_SIGNING_KEY.to_owned(),
        );
        env.insert(
            "KLUCZNIK_ACCOUNTS__TOTP_KEY".to_owned(),
            TEST_ACCOUNTS_TOTP_KEY.to_owned(),
        );
        // The console signs people in from this host on their behalf.
        env.insert(
            "KLUCZNIK_ACCOUNTS__SIGN_IN__TRUSTED_PROXIES".to_owned(),
            "127.0.0.1, ::1".to_owned(),
        );
        let seal: [u8; 32] = hex::decode(TEST_DELIVERY_SEAL_KEY)
            .unwrap()
            .try_into()
            .unwrap();
        env.insert(
            "KLUCZNIK_ACCOUNTS__DELIVERY_PUBLIC_KEY".to_owned(),
            hex::encode(kit::seal::public_of(&seal)),
        );
    }
    if service == "delivery" {
        env.insert(
            "KLUCZNIK_DELIVERY__SEAL_KEY".to_owned(),
            TEST_DELIVERY_SEAL_KEY.to_owned(),
        );
        env.insert(
            "KLUCZNIK_DELIVERY__SMTP__HOST".to_owned(),
            "127.0.0.1".to_owned(),
        );
        env.insert("KLUCZNIK_DELIVERY__SMTP__TLS".to_owned(), "none".to_owned());
        env.insert(
            "KLUCZNIK_DELIVERY__SMS__KIND".to_owned(),
            "generic".to_owned(),
        );
        if let Some(port) = options.smtp_port {
            env.insert("KLUCZNIK_DELIVERY__SMTP__PORT".to_owned(), port.to_string());
        }
        if let Some(url) = &options.sms_url {
            env.insert("KLUCZNIK_DELIVERY__SMS__URL".to_owned(), url.clone());
        }
    }
    if service == "revocation" {
        env.insert(
            "KLUCZNIK_REVOCATION__PESEL_KEY".to_owned(),
            TEST_REVOCATION_PESEL_KEY.to_owned(),
        );
    }
    if service == "audit" {
        // audit runs as a role that may only append and read its record; the owner migrates.
        env.insert("KLUCZNIK_DATABASE__USERNAME".to_owned(), db.app_username());
        env.insert(
            "KLUCZNIK_DATABASE__MIGRATION_USERNAME".to_owned(),
            db.username(),
        );
        env.insert(
            "KLUCZNIK_AUDIT__CHECKPOINT_KEY".to_owned(),
            TEST_CHECKPOINT_KEY.to_owned(),
        );
        env.insert(
            "KLUCZNIK_AUDIT__PESEL_KEY".to_owned(),
            TEST_PESEL_KEY.to_owned(),
        );
        env.insert(
            "KLUCZNIK_AUDIT__CHECKPOINT_INTERVAL_SECS".to_owned(),
            "1".to_owned(),
        );
    }
    if let Some(endpoint) = &options.otlp_endpoint {
        env.insert(
            "KLUCZNIK_TELEMETRY__OTLP_ENDPOINT".to_owned(),
            endpoint.clone(),
        );
    }
    env.extend(options.env.clone());
    env
}
