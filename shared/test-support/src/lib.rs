//! Real dependencies for tests: a `nats-server` with JetStream on a free port, a fresh
//! PostgreSQL database, and the service binaries as processes.

pub mod database;
pub mod in_process;
pub mod nats;
pub mod postgres;
pub mod process;
pub mod sinks;
pub mod stored;
pub mod system;

pub use database::TestDatabase;
pub use in_process::InProcess;
pub use nats::NatsServer;
pub use postgres::PrivatePostgres;
pub use process::ServiceProcess;
pub use sinks::{SmsSink, SmtpSink};
pub use stored::{Stored, stored};
pub use system::{System, SystemOptions};

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A PESEL from its first ten digits (birth date and serial) and the check digit they need.
pub fn pesel_with_check_digit(first_ten: &str) -> String {
    const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = first_ten
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first_ten}{}", (10 - sum % 10) % 10)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS gives a free port")
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory under the workspace's `target/`, removed by nobody: kept for
/// reading logs after a failure.
pub fn scratch_dir(label: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/test-scratch")
        .join(format!("{label}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Polls `check` until it gives a value or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
