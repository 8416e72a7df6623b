//! What a passing failure of a delivery or a notice leads to: another try after `base`,
//! doubling with each failed attempt, never more than `max`; or, at the last attempt, the
//! end.

use std::time::Duration;

/// The wait after the `failed_attempts`-th failure (1 for the first).
pub fn retry_delay(base: Duration, failed_attempts: u32, max: Duration) -> Duration {
    let exponent = failed_attempts.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << exponent).min(max)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after `delay`; `failed` attempts have failed now.
    RetryIn { failed: u32, delay: Duration },
    /// That was the last attempt allowed.
    GiveUp { failed: u32 },
}

/// After a passing failure, with `failed_before` attempts failed before this one.
pub fn after_passing_failure(
    failed_before: i32,
    max_attempts: u32,
    base: Duration,
    max: Duration,
) -> AfterFailure {
    let failed = u32::try_from(failed_before).unwrap_or(0) + 1;
    if failed >= max_attempts {
        AfterFailure::GiveUp { failed }
    } else {
        AfterFailure::RetryIn {
            failed,
            delay: retry_delay(base, failed, max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_allowed_attempt_gives_up() {
        let (base, max) = (Duration::from_secs(30), Duration::from_secs(3600));
        assert_eq!(
            after_passing_failure(0, 3, base, max),
            AfterFailure::RetryIn {
                failed: 1,
                delay: base
            }
        );
        assert_eq!(
            after_passing_failure(2, 3, base, max),
            AfterFailure::GiveUp { failed: 3 }
        );
    }

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
