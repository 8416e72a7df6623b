//! The faults, drawn from the seed: which, where and when.

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_support::{PrivatePostgres, System};
use tokio_util::sync::CancellationToken;

const SERVICES: [&str; 5] = test_support::system::SERVICES;

/// SplitMix64: small, and the same sequence for the same seed everywhere.
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn within(&mut self, range: std::ops::Range<u64>) -> u64 {
        range.start + self.next() % (range.end - range.start)
    }

    pub fn millis(&mut self, range: std::ops::Range<u64>) -> Duration {
        Duration::from_millis(self.within(range))
    }
}

pub struct Injector {
    draw: Draw,
    postgres: Arc<PrivatePostgres>,
    pause: Duration,
    started: Instant,
    /// What was done, when (seconds into the run).
    pub log: Vec<String>,
}

impl Injector {
    pub fn new(seed: u64, postgres: Arc<PrivatePostgres>, pause: Duration) -> Self {
        Self {
            draw: Draw::new(seed),
            postgres,
            pause,
            started: Instant::now(),
            log: Vec::new(),
        }
    }

    fn note(&mut self, what: String) {
        let at = self.started.elapsed().as_secs_f64();
        let line = format!("{at:6.1} s  {what}");
        println!("fault: {line}");
        self.log.push(line);
    }

    /// Injects one fault after another until `stop`; each fault is undone (the process
    /// restarted, resumed) before the next, and before this returns.
    pub async fn run(&mut self, system: &mut System, stop: CancellationToken) {
        loop {
            let wait = self.draw.millis(1_500..4_000);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return,
            }
            match self.draw.within(0..10) {
                0..=3 => self.kill_a_service(system).await,
                4..=5 => self.pause_a_service(system).await,
                6..=7 => self.crash_postgres().await,
                _ => self.restart_a_nats_node(system).await,
            }
        }
    }

    /// One process of one service, by the draw.
    fn pick<'a>(
        &mut self,
        system: &'a mut System,
    ) -> (String, &'a mut test_support::ServiceProcess) {
        let service = SERVICES[self.draw.within(0..SERVICES.len() as u64) as usize];
        let mut instances = system.instances(service);
        let index = self.draw.within(0..instances.len() as u64) as usize;
        (format!("{service}#{index}"), instances.swap_remove(index))
    }

    async fn kill_a_service(&mut self, system: &mut System) {
        let down = self.draw.millis(200..1_500);
        let (name, process) = self.pick(system);
        process.kill();
        tokio::time::sleep(down).await;
        process.start();
        self.note(format!(
            "SIGKILL {name}, restarted {} ms later",
            down.as_millis()
        ));
    }

    async fn pause_a_service(&mut self, system: &mut System) {
        let pause = self.pause;
        let (name, process) = self.pick(system);
        process.pause();
        tokio::time::sleep(pause).await;
        process.resume();
        self.note(format!(
            "SIGSTOP {name} for {} s, then SIGCONT",
            pause.as_secs()
        ));
    }

    async fn crash_postgres(&mut self) {
        let postgres = Arc::clone(&self.postgres);
        let began = Instant::now();
        tokio::task::spawn_blocking(move || postgres.crash_and_restart())
            .await
            .expect("PostgreSQL restarts");
        self.note(format!(
            "PostgreSQL stopped (immediate: as in a crash) and back in {} ms",
            began.elapsed().as_millis()
        ));
    }

    async fn restart_a_nats_node(&mut self, system: &mut System) {
        let node = self.draw.within(0..system.nats.size() as u64) as usize;
        let down = self.draw.millis(500..3_000);
        system.nats.kill_node(node);
        tokio::time::sleep(down).await;
        system.nats.start_node(node);
        self.note(format!(
            "NATS node n{} killed, restarted {} ms later",
            node + 1,
            down.as_millis()
        ));
    }
}
