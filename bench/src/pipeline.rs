//! Procedures A/B through the whole pipeline (SEOD form → intake → accounts, argon2id → audit
//! → delivery: encrypted letter by SMTP, cipher password by SMS), with the optional automatic
//! realisation policy on, so every form runs to both dispatches without a person.
//!
//! Prints the sustained rate for a backlog with one and with two replicas of each service,
//! the ratio to the ceiling the unavoidable CPU gives (cores ÷ (one argon2id hash + the
//! letter's rendering and encryption), measured in the same run), where the rest of the CPU
//! goes by process, each process's resident memory idle and under load, and p50/p99 latency
//! from the form to the SMS at half the one-replica rate.

use std::time::{Duration, Instant};

use contracts::subjects;
use secrecy::SecretString;
use serde_json::json;
use test_support::{System, SystemOptions};

const BACKLOG: usize = 200;
const PACED: usize = 100;

/// How many ZSZO accounts the bench's school has: each form asks for a different one, as on
/// a busy morning.
const ACCOUNTS: usize = BACKLOG + PACED;

fn login(i: usize) -> String {
    format!("bench.user.{i:04}")
}

/// The sample directory plus the bench's accounts, all at the sample school 12345.
fn directory() -> std::path::PathBuf {
    let sample = test_support::workspace_root().join("services/accounts/sample/directory.jsonl");
    let mut text = std::fs::read_to_string(sample).unwrap();
    for i in 0..ACCOUNTS {
        text.push_str(&format!(
            "{{\"type\":\"account\",\"rspo_id\":\"12345\",\"login\":\"{}\",\"first_name\":\"Jan\",\"last_name\":\"Testowy\"}}\n",
            login(i)
        ));
    }
    let path = test_support::scratch_dir("bench").join("directory.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn form(id: &str, account: &str) -> serde_json::Value {
    json!({
        "form": "zszo.password-reset", "version": 1, "document_id": id,
        "submitted_at": "2026-11-23T09:15:00Z",
        "institution": { "rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie" },
        "requester": { "login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski" },
        "contact": { "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "+48 600 100 200" },
        "account": { "login": account }, "delivery": "electronic"
    })
}

/// The time of one argon2id hash at the service's cost (the median of 30, so that a
/// neighbour's burst on a shared machine does not decide it) and the ceiling it gives.
pub(crate) fn argon2_ceiling() -> (f64, f64) {
    let hasher =
        accounts::domain::passwords::Hasher::new(accounts::domain::passwords::HashCost::OWASP)
            .unwrap();
    let password = SecretString::from("Start-Haslo-9x".to_owned());
    hasher.hash(&password).unwrap();
    let mut times: Vec<f64> = (0..30)
        .map(|_| {
            let started = Instant::now();
            hasher.hash(&password).unwrap();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let one = times[times.len() / 2];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    (one, cores / one)
}

async fn wait_for_sms(system: &System, count: usize, limit: Duration) {
    let started = Instant::now();
    while system.sms.messages().len() < count {
        assert!(
            started.elapsed() < limit,
            "only {} of {count} SMS in {limit:?}",
            system.sms.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What one run measured.
struct Figures {
    rate: f64,
    ratio: f64,
}

pub async fn run() {
    kit::main_support::install_crypto_provider();
    let one = backlog(1, true).await;
    let two = backlog(2, false).await;
    println!(
        "pipeline: sustained {:.1} requests/s with one replica of each service (ratio {:.2}), \
         {:.1} requests/s with two replicas of each (ratio {:.2}), on the same {} cores",
        one.rate,
        one.ratio,
        two.rate,
        two.ratio,
        cores()
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Every service process of the system (replicas as `service#1`), with its pid.
fn processes(system: &System) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (name, process) in &system.services {
        out.extend(process.pid().map(|pid| ((*name).to_owned(), pid)));
        for (i, replica) in system.replicas.get(name).into_iter().flatten().enumerate() {
            out.extend(replica.pid().map(|pid| (format!("{name}#{}", i + 1), pid)));
        }
    }
    out
}

async fn backlog(replicas: usize, with_latency: bool) -> Figures {
    let (one_hash, ceiling_before) = argon2_ceiling();
    println!(
        "pipeline ({replicas} replica(s) of each service): argon2id (m=19456 KiB, t=2, p=1) takes {:.1} ms: \
         hash ceiling {ceiling_before:.1} hashes/s",
        one_hash * 1000.0
    );

    let overlay = test_support::scratch_dir("bench").join("intake.yaml");
    std::fs::write(
        &overlay,
        "intake:\n  auto_realise:\n    enabled: true\n    procedures: [ZSZO-05]\n",
    )
    .unwrap();
    let mut options = SystemOptions {
        release: true,
        directory: Some(directory()),
        replicas,
        ..Default::default()
    };
    for (k, v) in [
        (
            "KLUCZNIK_CONFIG_FILE",
            overlay.to_string_lossy().into_owned(),
        ),
        ("RUST_LOG", "warn".to_owned()),
        ("KLUCZNIK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
        (
            "KLUCZNIK_AUDIT__CHECKPOINT_INTERVAL_SECS",
            "3600".to_owned(),
        ),
    ] {
        options.env.insert(k.to_owned(), v);
    }
    let system = System::start(options).await;
    let js = async_nats::jetstream::new(system.client().await);
    let publish = |i: usize| {
        let js = js.clone();
        async move {
            let id = format!("BENCH-{i}");
            js.send_publish(
                subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
                async_nats::jetstream::message::PublishMessage::build()
                    .payload(form(&id, &login(i)).to_string().into())
                    .message_id(&id),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };

    let processes = processes(&system);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle: Vec<(String, f64)> = processes
        .iter()
        .map(|(name, pid)| (name.clone(), crate::usage::resident_mib(*pid)))
        .collect();
    let peak = std::sync::Arc::new(std::sync::Mutex::new(idle.clone()));
    let sampling = tokio::spawn({
        let (peak, processes) = (std::sync::Arc::clone(&peak), processes.clone());
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let mut peak = peak.lock().unwrap();
                for ((_, pid), (_, most)) in processes.iter().zip(peak.iter_mut()) {
                    *most = most.max(crate::usage::resident_mib(*pid));
                }
            }
        }
    });

    // Sustained rate: a backlog, from the first form to the last SMS.
    let admin = sqlx::PgPool::connect(&test_support::database::admin_url())
        .await
        .unwrap();
    let db_before = crate::usage::database_work(&admin).await;
    let cpu_before = crate::usage::snapshot();
    let started = Instant::now();
    for i in 0..BACKLOG {
        publish(i).await;
    }
    wait_for_sms(&system, BACKLOG, Duration::from_secs(600)).await;
    let seconds = started.elapsed().as_secs_f64();
    let rate = BACKLOG as f64 / seconds;
    let used = crate::usage::used_between(&cpu_before, &crate::usage::snapshot());
    sampling.abort();
    // The costs that cannot be avoided, right after, on the same machine in the same state.
    let (one_hash_after, ceiling_after) = argon2_ceiling();
    let letter = crate::letter::unavoidable_secs();
    let hash = (one_hash + one_hash_after) / 2.0;
    let unavoidable = hash + letter;
    let ceiling = cores() as f64 / unavoidable;
    println!(
        "pipeline: argon2id right after the backlog takes {:.1} ms (hash ceiling {ceiling_after:.1}/s); \
         unavoidable CPU per request {:.1} ms (argon2id {:.1} ms, mean of before and after, + the \
         letter's rendering and AES-256 encryption {:.1} ms): ceiling {ceiling:.1} requests/s on {} cores",
        one_hash_after * 1000.0,
        unavoidable * 1000.0,
        hash * 1000.0,
        letter * 1000.0,
        cores()
    );
    let total: f64 = used.iter().map(|(_, t)| t).sum();
    println!(
        "pipeline: CPU used meanwhile {total:.1} s of {:.1} s available, per request {:.1} ms:",
        seconds * cores() as f64,
        total * 1000.0 / BACKLOG as f64
    );
    for (name, t) in used.iter().take(12) {
        println!(
            "  {name:<16} {t:6.2} s  {:6.1} ms/request",
            t * 1000.0 / BACKLOG as f64
        );
    }
    // pg_stat_database lags by up to half a second.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let db_after = crate::usage::database_work(&admin).await;
    println!("pipeline: database work per request (commits, rows written):");
    for (service, (commits, written)) in &db_after {
        let (c0, w0) = db_before.get(service).copied().unwrap_or((0, 0));
        println!(
            "  {service:<12} {:5.1} commits  {:6.1} rows",
            (commits - c0) as f64 / BACKLOG as f64,
            (written - w0) as f64 / BACKLOG as f64
        );
    }
    println!(
        "pipeline: resident memory, idle and at its highest under the backlog (aim < 30 MiB idle but accounts):"
    );
    for ((name, idle), (_, most)) in idle.iter().zip(peak.lock().unwrap().iter()) {
        println!("  {name:<14} {idle:6.1} MiB idle  {most:6.1} MiB under load");
    }
    let ratio = rate / ceiling;
    println!(
        "pipeline: sustained {rate:.1} requests/s ({BACKLOG} forms to both dispatches in {seconds:.1} s); \
         throughput/ceiling {ratio:.2} (aim >= 0.6)"
    );
    if !with_latency {
        return Figures { rate, ratio };
    }

    // Latency at half that rate: each form's publish to its SMS.
    let interval = Duration::from_secs_f64(2.0 / rate);
    let mut sent = Vec::with_capacity(PACED);
    let first = system.sms.messages().len();
    let paced_started = Instant::now();
    for i in 0..PACED {
        let due = paced_started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        sent.push(Instant::now());
        publish(BACKLOG + i).await;
    }
    wait_for_sms(&system, first + PACED, Duration::from_secs(600)).await;
    let messages = system.sms.messages();
    let arrivals = system.sms.arrivals.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = (0..PACED)
        .filter_map(|i| {
            // SMS name the case number, not the document; cases are numbered in order.
            let position = messages
                .iter()
                .skip(first)
                .position(|m| m.contains(&format!("/{:06})", BACKLOG + i + 1)))?;
            Some(arrivals[first + position].duration_since(sent[i]))
        })
        .collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "pipeline: at {:.1} requests/s (half the sustained rate), form to both dispatches: p50 {:.0} ms, p99 {:.0} ms \
         ({} of {PACED} matched; aim p99 < 1000 ms)",
        rate / 2.0,
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.len()
    );
    Figures { rate, ratio }
}
