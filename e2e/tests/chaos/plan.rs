//! What a run does, from the environment: `KLUCZNIK_CHAOS_SEED` (else drawn and printed),
//! `KLUCZNIK_CHAOS_CASES` (procedure A), `KLUCZNIK_CHAOS_REVOCATIONS` (procedure D),
//! `KLUCZNIK_CHAOS_ACCOUNTS` (procedure C),
//! `KLUCZNIK_CHAOS_REPLICAS`, `KLUCZNIK_CHAOS_NATS_NODES`, `KLUCZNIK_CHAOS_STAGGER_MS` (the
//! time between two forms).

use std::collections::BTreeMap;
use std::time::Duration;

pub struct Plan {
    pub seed: u64,
    pub cases: usize,
    pub revocations: usize,
    /// Procedure C: accounts created and activated.
    pub accounts: usize,
    pub replicas: usize,
    pub nats_nodes: usize,
    /// The consumers' ack wait in this run: a pause outlasts it.
    pub ack_wait_secs: u64,
    /// The time between two forms (procedure A); twice it between two revocations.
    pub stagger: Duration,
}

fn number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
        Err(_) => default,
    }
}

impl Plan {
    pub fn from_env() -> Self {
        let drawn = uuid::Uuid::new_v4().as_u64_pair().0;
        Self {
            seed: number("KLUCZNIK_CHAOS_SEED", drawn),
            cases: number("KLUCZNIK_CHAOS_CASES", 8) as usize,
            revocations: number("KLUCZNIK_CHAOS_REVOCATIONS", 3) as usize,
            accounts: number("KLUCZNIK_CHAOS_ACCOUNTS", 2) as usize,
            replicas: number("KLUCZNIK_CHAOS_REPLICAS", 2) as usize,
            nats_nodes: number("KLUCZNIK_CHAOS_NATS_NODES", 3) as usize,
            ack_wait_secs: 3,
            stagger: Duration::from_millis(number("KLUCZNIK_CHAOS_STAGGER_MS", 2_500)),
        }
        .checked()
    }

    fn checked(self) -> Self {
        assert!(
            self.cases <= test_support::system::EXTRA_ACCOUNTS,
            "at most {} cases (one per sample account)",
            test_support::system::EXTRA_ACCOUNTS
        );
        assert!(self.revocations <= 99, "at most 99 revocations");
        assert!(self.accounts <= 12, "at most 12 accounts");
        self
    }

    /// How long a paused process stays stopped: past the ack wait, so its messages go to
    /// another replica meanwhile.
    pub fn pause(&self) -> Duration {
        Duration::from_secs(self.ack_wait_secs + 1)
    }

    /// Settings that let a run end in minutes: short back-offs and the shortest lease the
    /// dispatcher accepts.
    pub fn service_env(&self) -> BTreeMap<String, String> {
        [
            (
                "KLUCZNIK_CONSUMER__ACK_WAIT_SECS",
                self.ack_wait_secs.to_string(),
            ),
            ("KLUCZNIK_DELIVERY__RETRY__BASE_MS", "500".into()),
            ("KLUCZNIK_DELIVERY__RETRY__MAX_DELAY_SECS", "5".into()),
            ("KLUCZNIK_DELIVERY__RETRY__MAX_ATTEMPTS", "30".into()),
            ("KLUCZNIK_DELIVERY__SMTP__TIMEOUT_SECS", "5".into()),
            ("KLUCZNIK_DELIVERY__SMS__TIMEOUT_SECS", "3".into()),
            ("KLUCZNIK_DELIVERY__DISPATCH__LEASE_SECS", "38".into()),
            (
                "KLUCZNIK_NATS__STREAM_REPLICAS",
                self.nats_nodes.max(1).to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chaos seed {} (replay: KLUCZNIK_CHAOS_SEED={} make chaos): {} cases of procedure A, \
             {} accounts (procedure C), {} revocations (procedure D), {} replicas of each service, \
             {} NATS nodes",
            self.seed,
            self.seed,
            self.cases,
            self.accounts,
            self.revocations,
            self.replicas,
            self.nats_nodes
        )
    }
}
