//! Signed checkpoints and pruned segments.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::checkpoint::Checkpoint;

#[derive(sqlx::FromRow)]
struct Row {
    position: i64,
    hash: Vec<u8>,
    signed_at: DateTime<Utc>,
    public_key: String,
    signature: String,
}

impl From<Row> for Checkpoint {
    fn from(r: Row) -> Self {
        Checkpoint {
            position: r.position,
            hash: hex::encode(r.hash),
            signed_at: r.signed_at,
            public_key: r.public_key,
            signature: r.signature,
        }
    }
}

pub async fn checkpoint_insert_in_txn(
    conn: &mut PgConnection,
    cp: &Checkpoint,
) -> Result<(), sqlx::Error> {
    let hash = hex::decode(&cp.hash).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (position, hash, signed_at, public_key, signature)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (position) DO NOTHING",
    )
    .bind(cp.position)
    .bind(hash)
    .bind(cp.signed_at)
    .bind(&cp.public_key)
    .bind(&cp.signature)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn checkpoints_all(pool: &PgPool) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT position, hash, signed_at, public_key, signature FROM audit_checkpoints ORDER BY position",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

pub async fn checkpoint_newest(pool: &PgPool) -> Result<Option<Checkpoint>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT position, hash, signed_at, public_key, signature FROM audit_checkpoints
         ORDER BY position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Checkpoint::from))
}

pub async fn checkpoint_newest_position(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM audit_checkpoints")
        .fetch_one(pool)
        .await
}

/// The newest pruned segment's end and hash: where verification starts.
pub async fn pruned_newest(pool: &PgPool) -> Result<Option<(i64, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT upto_position, hash FROM audit_pruned_segments ORDER BY upto_position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}
