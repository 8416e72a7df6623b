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

/// Records the pruned segment and deletes it; the append-only trigger lets these rows go
/// only because the segment is recorded first and `klucznik.prune_upto` names it.
pub async fn segment_prune_in_txn(
    conn: &mut PgConnection,
    upto: i64,
    hash: &[u8],
    export_sha256: &str,
    records: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_pruned_segments (upto_position, hash, pruned_at, export_sha256, records,
             pruned_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(upto)
    .bind(hash)
    .bind(at)
    .bind(export_sha256)
    .bind(records)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT set_config('klucznik.prune_upto', $1, true)")
        .bind(upto.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM audit_records WHERE position <= $1")
        .bind(upto)
        .execute(conn)
        .await?;
    Ok(())
}
