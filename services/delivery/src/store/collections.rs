//! In-person collection: the letters waiting at the desk (rows of `deliveries` in
//! `awaiting_collection`), the `collections` record of who took one, and the expiry of
//! those nobody took in time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::collection::Collection;
use crate::store::deliveries::DeliveryRow;

/// A letter waiting to be collected, as the desk lists it: nothing secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AwaitingCollection {
    pub case_number: String,
    pub procedure: String,
    pub institution_rspo_id: Option<String>,
    pub institution_name: String,
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Letters still waiting whose starting password is still valid at `now`, soonest expiry first.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn collections_awaiting(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<Vec<AwaitingCollection>, sqlx::Error> {
    sqlx::query_as(
        "SELECT case_number, procedure, institution_rspo_id, institution_name, login,
                first_name, last_name, expires_at
         FROM deliveries
         WHERE status = 'awaiting_collection' AND expires_at > $1
         ORDER BY expires_at, case_number",
    )
    .bind(now)
    .fetch_all(pool)
    .await
}

/// One case, locked until the transaction ends: a second collection of the same letter
/// waits here, then finds it collected.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_lock_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM deliveries WHERE case_number = $1 FOR UPDATE")
        .bind(case_number)
        .fetch_optional(conn)
        .await
}

/// Who handed over a case's letter, and when (nothing about the person who took it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollectionDone {
    pub operator_login: String,
    pub collected_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn collection_find_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<CollectionDone>, sqlx::Error> {
    sqlx::query_as("SELECT operator_login, collected_at FROM collections WHERE case_number = $1")
        .bind(case_number)
        .fetch_optional(conn)
        .await
}

/// Records the collection and marks the case `collected`, its sealed copy wiped. False
/// when the case was no longer waiting (nothing is changed then; the caller rolls back).
#[tracing::instrument(skip_all, fields(case_number = %case_number, operator = %operator_login))]
pub async fn collection_record_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    collection: &Collection,
    operator_login: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'collected', sealed_credentials = NULL, sealed_cipher = NULL,
             claim_token = NULL, completed_at = $2, updated_at = $2
         WHERE case_number = $1 AND status = 'awaiting_collection'",
    )
    .bind(case_number)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO collections (case_number, collected_by, person_name, f01_reference,
             id_document_type, id_document_last4, operator_login, collected_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(case_number)
    .bind(collection.collected_by.as_str())
    .bind(&collection.person_name)
    .bind(collection.f01_reference.as_deref())
    .bind(collection.id_document_kind.as_str())
    .bind(&collection.id_document_last4)
    .bind(operator_login)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Up to `limit` letters nobody collected before their starting password expired: each
/// becomes `expired` with its sealed copy wiped. Rows a collection holds right now are
/// skipped (that collection decides them); the next round sees them again if still waiting.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn deliveries_expire_uncollected_in_txn(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH due AS (
             SELECT case_number FROM deliveries
             WHERE status = 'awaiting_collection' AND expires_at <= $1
             ORDER BY expires_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
         )
         UPDATE deliveries d SET status = 'expired', sealed_credentials = NULL, sealed_cipher = NULL,
             claim_token = NULL,
             last_error = 'the starting password expired before the letter was collected',
             updated_at = $1
         FROM due WHERE d.case_number = due.case_number
         RETURNING d.*",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}
