//! The chained record: appending under the head's lock, reading in chain order, and the
//! questions an auditor asks.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::chain::StoredRecord;

/// Locks the chain head for this transaction and returns its position and hash.
pub async fn chain_head_lock_in_txn(
    conn: &mut PgConnection,
) -> Result<(i64, Vec<u8>), sqlx::Error> {
    sqlx::query_as("SELECT position, hash FROM audit_chain_head FOR UPDATE")
        .fetch_one(conn)
        .await
}

pub async fn chain_head(pool: &PgPool) -> Result<(i64, Vec<u8>), sqlx::Error> {
    sqlx::query_as("SELECT position, hash FROM audit_chain_head")
        .fetch_one(pool)
        .await
}

pub async fn record_hash_at(pool: &PgPool, position: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT hash FROM audit_records WHERE position = $1")
        .bind(position)
        .fetch_optional(pool)
        .await
}

pub async fn chain_head_update_in_txn(
    conn: &mut PgConnection,
    position: i64,
    hash: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_chain_head SET position = $1, hash = $2")
        .bind(position)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a message from `stream` with `message_id` is already recorded.
pub async fn record_exists_in_txn(
    conn: &mut PgConnection,
    stream: &str,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM audit_records WHERE stream = $1 AND message_id = $2)",
    )
    .bind(stream)
    .bind(message_id)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(skip_all, fields(position = r.position))]
pub async fn record_insert_in_txn(
    conn: &mut PgConnection,
    r: &StoredRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_records (position, stream, stream_seq, message_id, subject, event_type,
            occurred_at, recorded_at, actor_kind, actor_id, institution_rspo_id, case_number,
            document_id, subject_login, pesel_hash, revocation_request_id, trace_id, body,
            prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(r.position)
    .bind(&r.stream)
    .bind(r.stream_seq)
    .bind(&r.message_id)
    .bind(&r.subject)
    .bind(&r.event_type)
    .bind(r.occurred_at)
    .bind(r.recorded_at)
    .bind(&r.actor_kind)
    .bind(&r.actor_id)
    .bind(&r.institution_rspo_id)
    .bind(&r.case_number)
    .bind(&r.document_id)
    .bind(&r.subject_login)
    .bind(&r.pesel_hash)
    .bind(&r.revocation_request_id)
    .bind(&r.trace_id)
    .bind(&r.body)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(conn)
    .await?;
    Ok(())
}

const COLUMNS: &str = "position, stream, stream_seq, message_id, subject, event_type, occurred_at,
    recorded_at, actor_kind, actor_id, institution_rspo_id, case_number, document_id,
    subject_login, pesel_hash, revocation_request_id, trace_id, body, prev_hash, hash";

/// Records after `after` in chain order, for verification and export.
pub async fn records_page(
    pool: &PgPool,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_records WHERE position > $1 ORDER BY position LIMIT $2"
    )))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What an auditor may ask for; every given criterion must hold.
#[derive(Debug, Default, Clone)]
pub struct RecordFilter {
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub event_type: Option<String>,
    /// The person concerned or the actor.
    pub login: Option<String>,
    /// Keyed hash of a PESEL (the HTTP layer turns a PESEL into it).
    pub pesel_hash: Option<String>,
    pub revocation_request_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after_position: Option<i64>,
    /// Newest first, from just before `before_position` (the chain's head when none).
    pub newest_first: bool,
    pub before_position: Option<i64>,
    pub limit: Option<i64>,
}

/// A record as an auditor reads it.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RecordView {
    pub position: i64,
    pub stream: String,
    pub subject: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub subject_login: Option<String>,
    pub revocation_request_id: Option<String>,
    pub trace_id: Option<String>,
    /// The event's message (see the AsyncAPI document), a PESEL in it hashed and masked and
    /// anything secret removed.
    #[schema(value_type = Object)]
    pub body: sqlx::types::Json<serde_json::Value>,
}

#[tracing::instrument(skip_all)]
pub async fn records_find(pool: &PgPool, f: &RecordFilter) -> Result<Vec<RecordView>, sqlx::Error> {
    macro_rules! find {
        ($page:literal) => {
            concat!(
                "SELECT position, stream, subject, event_type, occurred_at, recorded_at, actor_kind,
                        actor_id, institution_rspo_id, case_number, document_id, subject_login,
                        revocation_request_id, trace_id, body::jsonb AS body
                 FROM audit_records
                 WHERE ($1::text IS NULL OR case_number = $1)
                   AND ($2::text IS NULL OR document_id = $2)
                   AND ($3::text IS NULL OR institution_rspo_id = $3)
                   AND ($4::text IS NULL OR event_type = $4)
                   AND ($5::text IS NULL OR subject_login = $5 OR actor_id = $5)
                   AND ($6::text IS NULL OR pesel_hash = $6)
                   AND ($7::text IS NULL OR revocation_request_id = $7)
                   AND ($8::timestamptz IS NULL OR occurred_at >= $8)
                   AND ($9::timestamptz IS NULL OR occurred_at < $9) ",
                $page,
                " LIMIT $11"
            )
        };
    }
    // Two statements, not one with a computed order: each walks the position index.
    let (sql, from) = if f.newest_first {
        (
            find!("AND position < $10 ORDER BY position DESC"),
            f.before_position.unwrap_or(i64::MAX),
        )
    } else {
        (
            find!("AND position > $10 ORDER BY position"),
            f.after_position.unwrap_or(0),
        )
    };
    sqlx::query_as(sql)
        .bind(&f.case_number)
        .bind(&f.document_id)
        .bind(&f.institution_rspo_id)
        .bind(&f.event_type)
        .bind(&f.login)
        .bind(&f.pesel_hash)
        .bind(&f.revocation_request_id)
        .bind(f.from)
        .bind(f.to)
        .bind(from)
        .bind(f.limit.unwrap_or(100).clamp(1, 10_000))
        .fetch_all(pool)
        .await
}

/// Which of these (stream, message id) pairs are already recorded.
pub async fn records_existing_in_txn(
    conn: &mut PgConnection,
    streams: &[String],
    message_ids: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.stream, r.message_id FROM audit_records r
         JOIN UNNEST($1::text[], $2::text[]) AS k(stream, message_id)
           ON r.stream = k.stream AND r.message_id = k.message_id",
    )
    .bind(streams)
    .bind(message_ids)
    .fetch_all(conn)
    .await
}

/// Inserts many chained records in one statement.
#[tracing::instrument(skip_all, fields(count = rs.len()))]
pub async fn records_insert_many_in_txn(
    conn: &mut PgConnection,
    rs: &[StoredRecord],
) -> Result<(), sqlx::Error> {
    fn col<T>(rs: &[StoredRecord], f: impl Fn(&StoredRecord) -> T) -> Vec<T> {
        rs.iter().map(f).collect()
    }
    sqlx::query(
        "INSERT INTO audit_records (position, stream, stream_seq, message_id, subject, event_type,
            occurred_at, recorded_at, actor_kind, actor_id, institution_rspo_id, case_number,
            document_id, subject_login, pesel_hash, revocation_request_id, trace_id, body,
            prev_hash, hash)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[],
            $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
            $19::bytea[], $20::bytea[])",
    )
    .bind(col(rs, |r| r.position))
    .bind(col(rs, |r| r.stream.clone()))
    .bind(col(rs, |r| r.stream_seq))
    .bind(col(rs, |r| r.message_id.clone()))
    .bind(col(rs, |r| r.subject.clone()))
    .bind(col(rs, |r| r.event_type.clone()))
    .bind(col(rs, |r| r.occurred_at))
    .bind(col(rs, |r| r.recorded_at))
    .bind(col(rs, |r| r.actor_kind.clone()))
    .bind(col(rs, |r| r.actor_id.clone()))
    .bind(col(rs, |r| r.institution_rspo_id.clone()))
    .bind(col(rs, |r| r.case_number.clone()))
    .bind(col(rs, |r| r.document_id.clone()))
    .bind(col(rs, |r| r.subject_login.clone()))
    .bind(col(rs, |r| r.pesel_hash.clone()))
    .bind(col(rs, |r| r.revocation_request_id.clone()))
    .bind(col(rs, |r| r.trace_id.clone()))
    .bind(col(rs, |r| r.body.clone()))
    .bind(col(rs, |r| r.prev_hash.clone()))
    .bind(col(rs, |r| r.hash.clone()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `login` acted in any record of these cases.
#[tracing::instrument(skip_all)]
pub async fn actor_in_cases_in_txn(
    conn: &mut PgConnection,
    login: &str,
    case_numbers: &[String],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        // Audit's own records of the incident (its status moved by this auditor) are not
        // taking part in the case.
        "SELECT EXISTS (SELECT 1 FROM audit_records
                        WHERE actor_id = $1 AND case_number = ANY($2)
                          AND event_type NOT LIKE 'audit.incident.%')",
    )
    .bind(login)
    .bind(case_numbers)
    .fetch_one(conn)
    .await
}
