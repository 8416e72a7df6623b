//! The event record.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::EventRecord;

#[tracing::instrument(skip_all, fields(subject = %r.subject))]
pub async fn event_insert_in_txn(
    conn: &mut PgConnection,
    r: &EventRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (stream, stream_seq, message_id, subject, event_type, occurred_at,
            actor_kind, actor_id, institution_rspo_id, case_number, document_id, trace_id, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (stream, message_id) DO NOTHING",
    )
    .bind(&r.stream)
    .bind(r.stream_seq)
    .bind(&r.message_id)
    .bind(&r.subject)
    .bind(&r.event_type)
    .bind(r.occurred_at)
    .bind(&r.actor_kind)
    .bind(&r.actor_id)
    .bind(&r.institution_rspo_id)
    .bind(&r.case_number)
    .bind(&r.document_id)
    .bind(&r.trace_id)
    .bind(&r.body)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub stream: String,
    pub stream_seq: i64,
    pub subject: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub trace_id: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct EventFilter {
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub event_type: Option<String>,
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn events_list(pool: &PgPool, f: &EventFilter) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, stream, stream_seq, subject, event_type, occurred_at, recorded_at, actor_kind,
                actor_id, institution_rspo_id, case_number, document_id, trace_id, body
         FROM audit_events
         WHERE ($1::text IS NULL OR case_number = $1)
           AND ($2::text IS NULL OR document_id = $2)
           AND ($3::text IS NULL OR institution_rspo_id = $3)
           AND ($4::text IS NULL OR event_type = $4)
           AND id > $5
         ORDER BY id
         LIMIT $6",
    )
    .bind(&f.case_number)
    .bind(&f.document_id)
    .bind(&f.institution_rspo_id)
    .bind(&f.event_type)
    .bind(f.after_id.unwrap_or(0))
    .bind(f.limit.unwrap_or(100).clamp(1, 1000))
    .fetch_all(pool)
    .await
}
