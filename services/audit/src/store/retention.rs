//! Pruning a whole chain segment under a signed checkpoint.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// The newest position P such that every record up to P was recorded before `cutoff`.
pub async fn prunable_upto(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(
            (SELECT min(position) - 1 FROM audit_records WHERE recorded_at >= $1),
            (SELECT max(position) FROM audit_records),
            0)",
    )
    .bind(cutoff)
    .fetch_one(pool)
    .await
}

/// Records the pruned segment and deletes it, through `audit_prune()`: audit's own role may
/// not delete records, and the function (running as the owner) checks the segment is whole,
/// old enough for the retention policy, and ends with the exported hash.
pub async fn segment_prune_in_txn(
    conn: &mut PgConnection,
    upto: i64,
    hash: &[u8],
    export_sha256: &str,
    records: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT audit_prune($1, $2, $3, $4, $5, $6)")
        .bind(upto)
        .bind(hex::encode(hash))
        .bind(records)
        .bind(export_sha256)
        .bind(by)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The retention policy the prune function enforces; set by the owner of the database.
pub async fn retention_policy_set(pool: &PgPool, days: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_retention_policy SET days = $1")
        .bind(days as i32)
        .execute(pool)
        .await?;
    Ok(())
}
