//! Retention: records older than the configured period leave the database only as a whole
//! chain segment that was exported first (the caller proves it by the export's SHA-256) and
//! is covered by a signed checkpoint, so what remains still verifies.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::domain::chain::{StoredRecord, record_hash};
use crate::domain::checkpoint::{Checkpoint, Signed};
use crate::error::Error;
use crate::store::{checkpoints, records, retention};

/// One exported record: every stored field, hashes in hex, so the segment can be verified
/// on its own.
#[derive(Debug, Serialize, Deserialize)]
struct ExportedRecord<'a> {
    position: i64,
    stream: &'a str,
    stream_seq: i64,
    message_id: &'a str,
    subject: &'a str,
    event_type: &'a str,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    actor_kind: Option<&'a str>,
    actor_id: Option<&'a str>,
    institution_rspo_id: Option<&'a str>,
    case_number: Option<&'a str>,
    document_id: Option<&'a str>,
    subject_login: Option<&'a str>,
    pesel_hash: Option<&'a str>,
    revocation_request_id: Option<&'a str>,
    trace_id: Option<&'a str>,
    body: &'a str,
    prev_hash: String,
    hash: String,
}

/// Reads back one line of an export, as an auditor's own machine does to verify it
/// (`klucznikctl audit verify --segment`), trusting nothing but the audit's public key.
pub fn parse_export_line(line: &str) -> Result<StoredRecord, String> {
    #[derive(Deserialize)]
    struct Owned {
        position: i64,
        stream: String,
        stream_seq: i64,
        message_id: String,
        subject: String,
        event_type: String,
        occurred_at: DateTime<Utc>,
        recorded_at: DateTime<Utc>,
        actor_kind: Option<String>,
        actor_id: Option<String>,
        institution_rspo_id: Option<String>,
        case_number: Option<String>,
        document_id: Option<String>,
        subject_login: Option<String>,
        pesel_hash: Option<String>,
        revocation_request_id: Option<String>,
        trace_id: Option<String>,
        body: String,
        prev_hash: String,
        hash: String,
    }
    let r: Owned = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let hex = |h: &str| hex::decode(h).map_err(|e| format!("a hash is not hex: {e}"));
    Ok(StoredRecord {
        position: r.position,
        stream: r.stream,
        stream_seq: r.stream_seq,
        message_id: r.message_id,
        subject: r.subject,
        event_type: r.event_type,
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
        actor_kind: r.actor_kind,
        actor_id: r.actor_id,
        institution_rspo_id: r.institution_rspo_id,
        case_number: r.case_number,
        document_id: r.document_id,
        subject_login: r.subject_login,
        pesel_hash: r.pesel_hash,
        revocation_request_id: r.revocation_request_id,
        trace_id: r.trace_id,
        body: r.body,
        prev_hash: hex(&r.prev_hash)?,
        hash: hex(&r.hash)?,
    })
}

fn export_line(r: &StoredRecord) -> String {
    let line = ExportedRecord {
        position: r.position,
        stream: &r.stream,
        stream_seq: r.stream_seq,
        message_id: &r.message_id,
        subject: &r.subject,
        event_type: &r.event_type,
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
        actor_kind: r.actor_kind.as_deref(),
        actor_id: r.actor_id.as_deref(),
        institution_rspo_id: r.institution_rspo_id.as_deref(),
        case_number: r.case_number.as_deref(),
        document_id: r.document_id.as_deref(),
        subject_login: r.subject_login.as_deref(),
        pesel_hash: r.pesel_hash.as_deref(),
        revocation_request_id: r.revocation_request_id.as_deref(),
        trace_id: r.trace_id.as_deref(),
        body: &r.body,
        prev_hash: hex::encode(&r.prev_hash),
        hash: hex::encode(&r.hash),
    };
    let mut text = serde_json::to_string(&line).unwrap_or_default();
    text.push('\n');
    text
}

/// The segment that may be pruned now: its end, its export (JSON lines) and the export's hash.
pub struct Segment {
    pub upto: i64,
    pub records: i64,
    pub last_hash: Vec<u8>,
    pub export: String,
    pub sha256: String,
}

pub async fn segment(
    pool: &PgPool,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<Segment, Error> {
    let upto = retention::prunable_upto(pool, now - retention).await?;
    segment_upto(pool, upto).await
}

async fn segment_upto(pool: &PgPool, upto: i64) -> Result<Segment, Error> {
    let start = checkpoints::pruned_newest(pool).await?;
    let (mut expected_prev, first) = match start {
        Some((p, hash)) => (hash, p),
        None => (crate::domain::chain::GENESIS.to_vec(), 0),
    };
    if upto <= first {
        return Err(Error::NothingToPrune);
    }
    let mut export = String::new();
    let mut after = first;
    let mut count = 0;
    while after < upto {
        let page = records::records_page(pool, after, (upto - after).min(10_000)).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for r in page {
            let expected_position = first + count + 1;
            if r.position != expected_position
                || r.prev_hash != expected_prev
                || record_hash(&r.prev_hash, &r).as_slice() != r.hash.as_slice()
            {
                return Err(Error::ChainBroken(expected_position));
            }
            expected_prev = r.hash.clone();
            export.push_str(&export_line(&r));
            count += 1;
        }
    }
    if first + count != upto {
        return Err(Error::ChainBroken(first + count + 1));
    }
    let digest = Sha256::digest(export.as_bytes());
    let sha256 = digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    Ok(Segment {
        upto,
        records: count,
        last_hash: expected_prev,
        export,
        sha256,
    })
}

fn pruned_record(
    upto: i64,
    records: i64,
    export_sha256: &str,
    by: &str,
    at: DateTime<Utc>,
) -> crate::domain::record::EventRecord {
    crate::domain::record::EventRecord {
        actor_kind: Some("person".to_owned()),
        actor_id: Some(by.to_owned()),
        ..crate::domain::record::own_record(
            format!("pruned:{upto}"),
            "audit.segment.pruned",
            at,
            serde_json::json!({ "upto_position": upto, "records": records, "export_sha256": export_sha256 }),
        )
    }
}

/// Prunes the segment up to `upto` if it is old enough, intact, and exported as `sha256` says.
pub async fn prune(
    pool: &PgPool,
    key: &SigningKey,
    retention: Duration,
    now: DateTime<Utc>,
    upto: i64,
    export_sha256: &str,
    by: &str,
) -> Result<Checkpoint, Error> {
    let allowed = retention::prunable_upto(pool, now - retention).await?;
    if upto > allowed {
        return Err(Error::TooRecent(upto));
    }
    let segment = segment_upto(pool, upto).await?;
    if segment.sha256 != export_sha256 {
        return Err(Error::ExportMismatch(upto));
    }
    let checkpoint = Checkpoint::sign(key, upto, &segment.last_hash, now);
    let mut tx = pool.begin().await?;
    checkpoints::checkpoint_insert_in_txn(&mut tx, &checkpoint).await?;
    retention::segment_prune_in_txn(
        &mut tx,
        upto,
        &segment.last_hash,
        export_sha256,
        segment.records,
        by,
        now,
    )
    .await?;
    // The prune is itself a record of the chain: who removed which segment, under which export.
    crate::ledger::append_in_txn(
        &mut tx,
        pruned_record(upto, segment.records, export_sha256, by, now),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        upto,
        by,
        records = segment.records,
        "audit segment pruned under a signed checkpoint"
    );
    Ok(checkpoint)
}
