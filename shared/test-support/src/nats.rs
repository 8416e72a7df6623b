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
    /// The first node's client port.
    pub port: u16,
    store: PathBuf,
    seeds: BTreeMap<Identity, String>,
    nodes: Vec<Node>,
    replicas: usize,
}

/// One `nats-server` process of the test's server or cluster.
struct Node {
    port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

fn binary() -> String {
    std::env::var("KLUCZNIK_TEST_NATS_SERVER")
        .ok()
        .filter(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| "nats-server".to_owned())
}

/// JetStream's fsync: every write reaches the disk before it is acknowledged (the default,
/// every two minutes, lets a power loss take acknowledged messages; see docs/runbook.md).
pub const SYNC_INTERVAL: &str = "always";

impl NatsServer {
    pub fn start() -> Self {
        Self::start_nodes(1)
    }

    /// A cluster of `size` nodes on this machine, its streams at `size` replicas.
    pub fn cluster(size: usize) -> Self {
        Self::start_nodes(size)
    }

    /// As [`cluster`](Self::cluster), with JetStream's `sync_interval` set to `sync` (e.g.
    /// `always`, `2m`), or left at nats-server's default when `None`: for measuring what the
    /// choice costs.
    pub fn cluster_with_sync(size: usize, sync: Option<&str>) -> Self {
        Self::start_nodes_with(size, sync)
    }

    fn start_nodes(size: usize) -> Self {
        Self::start_nodes_with(size, Some(SYNC_INTERVAL))
    }

    fn start_nodes_with(size: usize, sync: Option<&str>) -> Self {
        let sync = sync
            .map(|s| format!(", sync_interval: {s}"))
            .unwrap_or_default();
        let store = crate::scratch_dir("nats");
        let seeds = kit::nats_auth::init_dir(&store.join("identities")).expect("nkeys");
        let ports: Vec<(u16, u16)> = (0..size)
            .map(|_| (crate::free_port(), crate::free_port()))
            .collect();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, (port, cluster_port))| {
                let name = format!("n{}", i + 1);
                let config = store.join(format!("{name}.conf"));
                let mut text = format!(
                    "server_name: \"{name}\"\nlisten: \"127.0.0.1:{port}\"\n\
                     jetstream {{ store_dir: \"{}\"{sync} }}\n\
                     include \"identities/auth.conf\"\n",
                    store.join(format!("js-{name}")).display()
                );
                if size > 1 {
                    let routes: Vec<String> = ports
                        .iter()
                        .filter(|(p, _)| p != port)
                        .map(|(_, c)| format!("\"nats-route://127.0.0.1:{c}\""))
                        .collect();
                    text.push_str(&format!(
                        "cluster {{ name: \"klucznik\", listen: \"127.0.0.1:{cluster_port}\", routes: [{}] }}\n",
                        routes.join(", ")
                    ));
                }
                std::fs::write(&config, text).expect("nats config");
                Node {
                    port: *port,
                    config,
                    log: store.join(format!("{name}.log")),
                    child: None,
                }
            })
            .collect();
        let mut server = Self {
            port: ports[0].0,
            store,
            seeds,
            nodes,
            replicas: size,
        };
        for node in 0..size {
            server.start_node(node);
        }
        server.provision();
        server
    }

    /// How many nodes there are.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Every node's URL, comma-separated (a client tries them in turn).
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
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
            .connect(kit::nats::server_urls(&self.url()))
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
        let replicas = self.replicas;
        let seed = self.seed(Identity::Provisioner).to_owned();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async move {
                    let client = async_nats::ConnectOptions::with_nkey(seed)
                        .custom_inbox_prefix(Identity::Provisioner.inbox_prefix())
                        .connect(kit::nats::server_urls(&url))
                        .await
                        .expect("the provisioner connects");
                    let js = async_nats::jetstream::new(client);
                    // A new cluster elects its meta leader a moment after its routes are up.
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        match kit::nats::provision_streams(&js, replicas).await {
                            Ok(()) => break,
                            Err(_) if Instant::now() < deadline => {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                            Err(e) => panic!("streams provisioned: {e}"),
                        }
                    }
                })
        })
        .join()
        .expect("provisioning");
    }

    /// Starts every node (again) on the same ports and stores.
    pub fn restart(&mut self) {
        for node in 0..self.nodes.len() {
            if self.nodes[node].child.is_none() {
                self.start_node(node);
            }
        }
    }

    /// Starts one node (again) on its port and store.
    pub fn start_node(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .expect("nats log");
        let child = Command::new(binary())
            .arg("-c")
            .arg(&node.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server ({e}); set KLUCZNIK_TEST_NATS_SERVER or run `make deps`")
            });
        node.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", node.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start; see {}",
                node.log.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills one node with SIGKILL (its store stays).
    pub fn kill_node(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn stop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill_node(node);
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
