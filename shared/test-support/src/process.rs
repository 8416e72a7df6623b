//! A service binary running as a process, with its log in a file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct ServiceProcess {
    pub name: String,
    pub port: u16,
    pub log: PathBuf,
    env: BTreeMap<String, String>,
    binary: PathBuf,
    child: Option<Child>,
}

/// Where `cargo build` put the workspace's binaries.
pub fn binary_path(name: &str) -> PathBuf {
    binary_path_in(name, "debug")
}

/// Where `cargo build` put a binary of `profile` (`debug` or `release`).
pub fn binary_path_in(name: &str, profile: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::workspace_root().join("target"));
    let path = target.join(profile).join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

impl ServiceProcess {
    pub fn spawn(
        name: &str,
        port: u16,
        env: BTreeMap<String, String>,
        log_dir: &std::path::Path,
    ) -> Self {
        Self::spawn_profile(name, "debug", port, env, log_dir)
    }

    pub fn spawn_profile(
        name: &str,
        profile: &str,
        port: u16,
        env: BTreeMap<String, String>,
        log_dir: &std::path::Path,
    ) -> Self {
        Self::spawn_logged(name, name, profile, port, env, log_dir)
    }

    /// As [`spawn_profile`](Self::spawn_profile), logging to `<log_name>.log` (a replica's
    /// own log).
    pub fn spawn_logged(
        name: &str,
        log_name: &str,
        profile: &str,
        port: u16,
        env: BTreeMap<String, String>,
        log_dir: &std::path::Path,
    ) -> Self {
        let mut process = Self {
            name: name.to_owned(),
            port,
            log: log_dir.join(format!("{log_name}.log")),
            env,
            binary: binary_path_in(name, profile),
            child: None,
        };
        process.start();
        process
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("service log");
        let child = Command::new(&self.binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.env)
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        self.child = Some(child);
    }

    /// The environment the process runs with.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `/readyz` answers 200, or fails with the service's log.
    pub async fn wait_ready(&mut self, timeout: Duration) {
        kit::main_support::install_crypto_provider();
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.base_url());
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited with {status} before it was ready:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready in time:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGSTOP: the process stops where it is, holding its connections and messages.
    pub fn pause(&mut self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&mut self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args([signal, &pid.to_string()])
                .status();
        }
    }

    /// Whether the process was started and has not been killed.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
