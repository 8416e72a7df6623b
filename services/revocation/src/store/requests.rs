//! Revocation requests: saved in a local database, fetched and reviewed by the authorising
//! body, and what the central system has received of them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Request {
    pub id: Uuid,
    pub mode: String,
    pub local_database_id: String,
    pub local_database_name: String,
    pub reviewer_unit_id: String,
    pub authorisation_id: String,
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub granted_in: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub review_local_database_id: Option<String>,
    pub review_started_at: Option<DateTime<Utc>>,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub central_received_at: Option<DateTime<Utc>>,
    pub central_decision_at: Option<DateTime<Utc>>,
}

macro_rules! request_select {
    () => {
        "SELECT r.id, r.mode, r.local_database_id, d.name AS local_database_name,
                r.reviewer_unit_id, r.authorisation_id, a.person_id, p.first_name, p.last_name,
                p.pesel_masked, u.name AS unit_name, a.granted_in, r.reason, r.created_by,
                r.created_at, r.review_local_database_id, r.review_started_at, r.decision,
                r.decided_by, r.decided_at, r.central_received_at, r.central_decision_at
         FROM requests r
         JOIN local_databases d ON d.id = r.local_database_id
         JOIN authorisations a ON a.id = r.authorisation_id
         JOIN people p ON p.id = a.person_id
         JOIN units u ON u.id = a.unit_id"
    };
}

pub struct NewRequest<'a> {
    pub id: Uuid,
    pub mode: &'a str,
    pub local_database_id: &'a str,
    pub reviewer_unit_id: &'a str,
    pub authorisation_id: &'a str,
    pub reason: &'a str,
    pub created_by: &'a str,
    pub created_at: DateTime<Utc>,
}

/// Saves the request; false when one for the same authorisation is under way.
pub async fn insert(conn: &mut PgConnection, r: &NewRequest<'_>) -> Result<bool, sqlx::Error> {
    let saved = sqlx::query(
        "INSERT INTO requests (id, mode, local_database_id, reviewer_unit_id, authorisation_id,
             reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (authorisation_id) WHERE decision IS NULL OR decision = 'accepted' DO NOTHING",
    )
    .bind(r.id)
    .bind(r.mode)
    .bind(r.local_database_id)
    .bind(r.reviewer_unit_id)
    .bind(r.authorisation_id)
    .bind(r.reason)
    .bind(r.created_by)
    .bind(r.created_at)
    .execute(conn)
    .await?;
    Ok(saved.rows_affected() == 1)
}

pub async fn one(pool: &PgPool, id: Uuid) -> Result<Option<Request>, sqlx::Error> {
    sqlx::query_as(concat!(request_select!(), " WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// "Moje wnioski": the requests created in this local database, newest first.
pub async fn created_in(
    pool: &PgPool,
    database: &str,
    limit: i64,
) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as(concat!(
        request_select!(),
        " WHERE r.local_database_id = $1 ORDER BY r.created_at DESC, r.id LIMIT $2"
    ))
    .bind(database)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// "Rozpatrywanie" → "Cofnięcie": the requests fetched into this local database.
pub async fn fetched_into(
    pool: &PgPool,
    database: &str,
    limit: i64,
) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as(concat!(
        request_select!(),
        " WHERE r.review_local_database_id = $1
          ORDER BY (r.decision IS NOT NULL), r.created_at, r.id LIMIT $2"
    ))
    .bind(database)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Takes the requests the central system holds for this authorising body and no local
/// database has fetched yet.
pub async fn fetch_waiting(
    conn: &mut PgConnection,
    database: &str,
    unit: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE requests SET review_local_database_id = $1, fetched_at = $3
         WHERE reviewer_unit_id = $2 AND central_received_at IS NOT NULL
           AND review_local_database_id IS NULL
         RETURNING id",
    )
    .bind(database)
    .bind(unit)
    .bind(at)
    .fetch_all(conn)
    .await
}

/// Marks fetched, undecided requests "Przyjęty do rozpatrzenia"; those marked before are
/// left as they are.
pub async fn start_review(
    conn: &mut PgConnection,
    database: &str,
    ids: &[Uuid],
    by: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE requests SET review_started_at = $3, review_started_by = $4
         WHERE id = ANY($2) AND review_local_database_id = $1 AND review_started_at IS NULL
           AND decision IS NULL
         RETURNING id",
    )
    .bind(database)
    .bind(ids)
    .bind(at)
    .bind(by)
    .fetch_all(conn)
    .await
}

/// Records the decision once; false when the request is decided already or not under
/// review here (the caller reads which).
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    database: &str,
    decision: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE requests SET decision = $3, decided_by = $4, decided_at = $5
         WHERE id = $1 AND review_local_database_id = $2 AND review_started_at IS NOT NULL
           AND decision IS NULL",
    )
    .bind(id)
    .bind(database)
    .bind(decision)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
