//! How long a delivery waits after a passing failure: `base`, doubling with each failed
//! attempt, never more than `max`.

use std::time::Duration;

/// The wait after the `failed_attempts`-th failure (1 for the first).
pub fn retry_delay(base: Duration, failed_attempts: u32, max: Duration) -> Duration {
    let exponent = failed_attempts.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << exponent).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_with_each_failure() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=4)
            .map(|n| retry_delay(base, n, max).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240]);
    }

    #[test]
    fn the_wait_never_exceeds_the_maximum() {
        let max = Duration::from_secs(3600);
        assert_eq!(retry_delay(Duration::from_secs(30), 40, max), max);
        assert_eq!(retry_delay(Duration::from_secs(30), u32::MAX, max), max);
    }
}
