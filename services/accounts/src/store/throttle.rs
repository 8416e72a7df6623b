//! The sign-in throttle's counters (`domain::sign_in`): one statement claims an attempt, so
//! parallel attempts are counted one by one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::sign_in::Throttle;

/// Claims an attempt under `key`: `Ok(())`, or how long to wait before the next one.
#[tracing::instrument(skip_all)]
pub async fn throttle_claim(
    pool: &PgPool,
    key: &str,
    rule: &Throttle,
    now: DateTime<Utc>,
) -> Result<Result<(), Duration>, sqlx::Error> {
    let window_start = now - chrono::Duration::from_std(rule.window).unwrap_or_default();
    // The new streak, the delay it earns (2^(streak - free) s from the free-th on, capped,
    // as `Throttle::delay_after`), and the next allowed time are computed in the one
    // statement that takes the row's lock.
    let claimed: Option<i32> = sqlx::query_scalar(
        "INSERT INTO sign_in_throttle AS t (key, streak, next_allowed_at, updated_at)
         VALUES ($1, 1, '-infinity', $2)
         ON CONFLICT (key) DO UPDATE SET
             streak = CASE WHEN t.updated_at < $3 THEN 1 ELSE t.streak + 1 END,
             -- A zero wait leaves the time alone: parallel attempts read their clocks in
             -- any order, and one must not shut out another that read it a moment earlier.
             next_allowed_at = CASE
                 WHEN (CASE WHEN t.updated_at < $3 THEN 1 ELSE t.streak + 1 END) >= $4
                 THEN $2 + make_interval(secs => LEAST($5::double precision,
                     power(2, LEAST(20, (CASE WHEN t.updated_at < $3 THEN 1 ELSE t.streak + 1 END) - $4))))
                 ELSE t.next_allowed_at END,
             updated_at = $2
         WHERE t.next_allowed_at <= $2
         RETURNING streak",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .bind(rule.free)
    .bind(rule.cap.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    if claimed.is_some() {
        return Ok(Ok(()));
    }
    let next: DateTime<Utc> =
        sqlx::query_scalar("SELECT next_allowed_at FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
    Ok(Err((next - now).to_std().unwrap_or(Duration::from_secs(1))))
}

/// A successful sign-in ends the account's streak, and takes one attempt off the address's,
/// so many people signing in from one school's address do not slow each other down.
#[tracing::instrument(skip_all)]
pub async fn throttle_succeeded(
    pool: &PgPool,
    account_key: &str,
    address_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
        .bind(account_key)
        .execute(pool)
        .await?;
    sqlx::query("UPDATE sign_in_throttle SET streak = GREATEST(streak - 1, 0) WHERE key = $1")
        .bind(address_key)
        .execute(pool)
        .await?;
    Ok(())
}
