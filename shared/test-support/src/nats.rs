//! A real `nats-server` with JetStream, one per test, on a free port, with authentication on
//! as in production: every party has its own nkey and the permissions of
//! `contracts::permissions`, and the streams are created by the provisioner before anyone
//! else connects.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use contracts::permissions::Identity;

pub struct NatsServer {
    pub port: u16,
    store: PathBuf,
    config: PathBuf,
    seeds: BTreeMap<Identity, String>,
    child: Option<Child>,
}

fn binary() -> String {
    std::env::var("KLUCZNIK_TEST_NATS_SERVER")
        .ok()
        .filter(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| "nats-server".to_owned())
}

impl NatsServer {
    pub fn start() -> Self {
        let port = crate::free_port();
        let store = crate::scratch_dir("nats");
        let seeds = kit::nats_auth::init_dir(&store.join("identities")).expect("nkeys");
        let config = store.join("nats.conf");
        std::fs::write(
            &config,
            format!(
                "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{}\" }}\ninclude \"identities/auth.conf\"\n",
                store.join("js").display()
            ),
        )
        .expect("nats config");
        let mut server = Self {
            port,
            store,
            config,
            seeds,
            child: None,
        };
        server.restart();
        server.provision();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The nkey seed of a party.
    pub fn seed(&self, identity: Identity) -> &str {
        &self.seeds[&identity]
    }

    /// The file holding a party's seed, for a process given `KLUCZNIK_NATS__NKEY_SEED_FILE`.
    pub fn seed_file(&self, identity: Identity) -> PathBuf {
        kit::nats_auth::seed_file(&self.store.join("identities"), identity)
    }

    /// A client connected as `identity`, its replies under its own inbox prefix.
    pub async fn connect_as(&self, identity: Identity) -> async_nats::Client {
        async_nats::ConnectOptions::with_nkey(self.seed(identity).to_owned())
            .custom_inbox_prefix(identity.inbox_prefix())
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connect to the test NATS as {identity:?}: {e}"))
    }

    /// The tests' own observer: the provisioner, which may read and publish anything.
    pub async fn client(&self) -> async_nats::Client {
        self.connect_as(Identity::Provisioner).await
    }

    /// Points a party's settings at this server with its identity.
    pub fn configure(&self, settings: &mut kit::settings::NatsSettings, identity: Identity) {
        settings.url = self.url();
        settings.nkey_seed = Some(self.seed(identity).to_owned().into());
        settings.nkey_seed_file = None;
        settings.allow_anonymous = false;
    }

    /// Creates every stream, as `klucznikctl nats provision` does before the services start.
    fn provision(&self) {
        let url = self.url();
        let seed = self.seed(Identity::Provisioner).to_owned();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async move {
                    let client = async_nats::ConnectOptions::with_nkey(seed)
                        .custom_inbox_prefix(Identity::Provisioner.inbox_prefix())
                        .connect(url)
                        .await
                        .expect("the provisioner connects");
                    kit::nats::provision_streams(&async_nats::jetstream::new(client), 1)
                        .await
                        .expect("streams provisioned");
                })
        })
        .join()
        .expect("provisioning");
    }

    /// Starts the server (again) on the same port and store.
    pub fn restart(&mut self) {
        let log = std::fs::File::create(self.store.join("nats.log")).expect("nats log");
        let child = Command::new(binary())
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server ({e}); set KLUCZNIK_TEST_NATS_SERVER or run `make deps`")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start; see {}",
                self.store.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl NatsServer {
    pub fn store_dir(&self) -> &std::path::Path {
        &self.store
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
