//! What a run used: CPU time of every process on the machine, by name, from `/proc` (Linux),
//! and the commits and rows each database wrote, so a figure can say which part costs what.

use std::collections::BTreeMap;

/// CPU seconds used so far, by process name (a service's binary, `postgres`, `nats-server`,
/// `python3`, ...), summed over the processes alive now.
pub fn snapshot() -> BTreeMap<String, f64> {
    let ticks = 100.0; // USER_HZ on Linux
    let mut by_name = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return by_name;
    };
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the last parenthesis.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // After comm: state is field 0; utime and stime are fields 11 and 12.
        let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
            continue;
        };
        let used = utime.parse::<f64>().unwrap_or(0.0) + stime.parse::<f64>().unwrap_or(0.0);
        *by_name.entry(name).or_insert(0.0) += used / ticks;
    }
    by_name
}

/// What each process name used between two snapshots, largest first, leaving out the idle.
pub fn used_between(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> Vec<(String, f64)> {
    let mut used: Vec<(String, f64)> = after
        .iter()
        .map(|(name, t)| (name.clone(), t - before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, t)| *t >= 0.05)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    used
}

/// Commits and rows written so far in each of the run's databases (`test_<service>_…`).
pub async fn database_work(admin: &sqlx::PgPool) -> BTreeMap<String, (i64, i64)> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT split_part(datname, '_', 2), xact_commit,
                tup_inserted + tup_updated + tup_deleted
         FROM pg_stat_database WHERE datname LIKE 'test\\_%'",
    )
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    let mut by_service = BTreeMap::new();
    for (service, commits, written) in rows {
        let entry = by_service.entry(service).or_insert((0, 0));
        entry.0 += commits;
        entry.1 += written;
    }
    by_service
}

/// A process's resident memory now, in MiB (`VmRSS` in `/proc/<pid>/status`).
pub fn resident_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
