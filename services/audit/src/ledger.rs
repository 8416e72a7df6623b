//! Appending to the chain: the one way a record is written.

use std::collections::HashSet;

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

/// Appends many records after the chain head in one go: one lock of the head, one look for
/// messages already recorded, one insert, one move of the head. Returns what was appended.
pub async fn append_many_in_txn(
    conn: &mut PgConnection,
    batch: Vec<EventRecord>,
    now: DateTime<Utc>,
) -> Result<Vec<StoredRecord>, sqlx::Error> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let (mut position, mut hash) = records::chain_head_lock_in_txn(conn).await?;
    let streams: Vec<String> = batch.iter().map(|r| r.stream.clone()).collect();
    let ids: Vec<String> = batch.iter().map(|r| r.message_id.clone()).collect();
    let mut skip: HashSet<(String, String)> =
        records::records_existing_in_txn(conn, &streams, &ids)
            .await?
            .into_iter()
            .collect();
    let mut appended = Vec::with_capacity(batch.len());
    for record in batch {
        // `insert` also lets a message that came twice in one batch through once.
        if !skip.insert((record.stream.clone(), record.message_id.clone())) {
            continue;
        }
        let stored = record.chain(position + 1, &hash, now);
        position = stored.position;
        hash.clone_from(&stored.hash);
        appended.push(stored);
    }
    if appended.is_empty() {
        return Ok(appended);
    }
    records::records_insert_many_in_txn(conn, &appended).await?;
    records::chain_head_update_in_txn(conn, position, &hash).await?;
    Ok(appended)
}
