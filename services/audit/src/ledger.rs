//! Appending to the chain: the one way a record is written.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::EventRecord;
use crate::domain::chain::StoredRecord;
use crate::store::records;

/// Appends `record` after the chain head, inside the caller's transaction (which holds the
/// head's lock until it commits, so positions never collide). A message already recorded is
/// not recorded again.
pub async fn append_in_txn(
    conn: &mut PgConnection,
    record: EventRecord,
    now: DateTime<Utc>,
) -> Result<Option<StoredRecord>, sqlx::Error> {
    let (position, hash) = records::chain_head_lock_in_txn(conn).await?;
    if records::record_exists_in_txn(conn, &record.stream, &record.message_id).await? {
        return Ok(None);
    }
    let stored = record.chain(position + 1, &hash, now);
    records::record_insert_in_txn(conn, &stored).await?;
    records::chain_head_update_in_txn(conn, stored.position, &stored.hash).await?;
    Ok(Some(stored))
}
