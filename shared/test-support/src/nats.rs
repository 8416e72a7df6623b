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

/// An anonymous nats-server that speaks TLS only, with a certificate for 127.0.0.1 signed
/// by a CA of the test's own (`ca`): for checking that a client trusts exactly that CA.
pub struct TlsNats {
    /// `tls://127.0.0.1:<port>`.
    pub url: String,
    /// The CA's certificate (PEM).
    pub ca: PathBuf,
    _server: Stopped,
}

/// Stops the server even when an assertion fails first.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl TlsNats {
    pub async fn start() -> Self {
        let dir = crate::scratch_dir("nats-tls");
        // A CA of the test's own, and the server's certificate it signs (for 127.0.0.1).
        let (ca, cert, key) = (
            dir.join("ca.crt"),
            dir.join("server.crt"),
            dir.join("server.key"),
        );
        let extensions = dir.join("server.ext");
        std::fs::write(
            &extensions,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        let openssl = |args: &[&str]| {
            let made = std::process::Command::new("openssl")
                .current_dir(&dir)
                .args(args)
                .output()
                .expect("openssl runs");
            assert!(
                made.status.success(),
                "{}",
                String::from_utf8_lossy(&made.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=nats",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
        let port = crate::free_port();
        let config = dir.join("nats.conf");
        std::fs::write(
            &config,
            format!(
                "listen: \"127.0.0.1:{port}\"\ntls {{ cert_file: \"{}\", key_file: \"{}\" }}\n\
                 jetstream {{ store_dir: \"{}\" }}\n",
                cert.display(),
                key.display(),
                dir.join("jetstream").display()
            ),
        )
        .unwrap();
        let binary =
            std::env::var("KLUCZNIK_TEST_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let server = Stopped(
            std::process::Command::new(binary)
                .arg("-c")
                .arg(&config)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("nats-server starts"),
        );
        crate::eventually(Duration::from_secs(10), "nats-server to listen", || async {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        })
        .await;
        Self {
            url: format!("tls://127.0.0.1:{port}"),
            ca,
            _server: server,
        }
    }
}
