//! The communication panel's forms: "Do wysłania" (`to_send`), "Wysłane" (`sent`),
//! "Zakończone" (`done`), per local database. A form moves only forward, and only from the
//! tab it is in, so sending or checking twice changes nothing the second time.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Form {
    pub id: Uuid,
    pub local_database_id: String,
    pub request_id: Uuid,
    pub kind: String,
    pub tab: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub mode: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub reason: String,
    pub decision: Option<String>,
    /// The central system has the authorising body's decision on the request.
    pub decision_delivered: bool,
}

macro_rules! form_select {
    () => {
        "SELECT f.id, f.local_database_id, f.request_id, f.kind, f.tab, f.created_at, f.sent_at,
                f.delivered_at, f.done_at, r.mode, p.first_name, p.last_name, p.pesel_masked,
                r.reason, r.decision, (r.central_decision_at IS NOT NULL) AS decision_delivered
         FROM panel_forms f
         JOIN requests r ON r.id = f.request_id
         JOIN authorisations a ON a.id = r.authorisation_id
         JOIN people p ON p.id = a.person_id"
    };
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    database: &str,
    request: Uuid,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO panel_forms (id, local_database_id, request_id, kind, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(database)
    .bind(request)
    .bind(kind)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn in_tab(
    pool: &PgPool,
    database: &str,
    tab: &str,
    limit: i64,
) -> Result<Vec<Form>, sqlx::Error> {
    sqlx::query_as(concat!(
        form_select!(),
        " WHERE f.local_database_id = $1 AND f.tab = $2 ORDER BY f.created_at, f.id LIMIT $3"
    ))
    .bind(database)
    .bind(tab)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn one(conn: &mut PgConnection, id: Uuid) -> Result<Option<Form>, sqlx::Error> {
    sqlx::query_as(concat!(form_select!(), " WHERE f.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Moves the chosen forms of "Do wysłania" to "Wysłane"; returns those it moved.
pub async fn send(
    conn: &mut PgConnection,
    database: &str,
    ids: &[Uuid],
    by: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE panel_forms SET tab = 'sent', sent_at = $3, sent_by = $4
         WHERE local_database_id = $1 AND id = ANY($2) AND tab = 'to_send'
         RETURNING id",
    )
    .bind(database)
    .bind(ids)
    .bind(at)
    .bind(by)
    .fetch_all(conn)
    .await
}

/// Moves the chosen forms of "Wysłane" the central system acknowledged to "Zakończone".
/// A mode-2 request waits there until the authorising body's decision was delivered too.
pub async fn complete(
    conn: &mut PgConnection,
    database: &str,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<Vec<(Uuid, String, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE panel_forms f SET tab = 'done', done_at = $3
         FROM requests r
         WHERE r.id = f.request_id AND f.local_database_id = $1 AND f.id = ANY($2)
           AND f.tab = 'sent' AND f.delivered_at IS NOT NULL
           AND (f.kind <> 'request' OR r.mode = 'subordinate_unit'
                OR r.central_decision_at IS NOT NULL)
         RETURNING f.id, f.kind, f.request_id",
    )
    .bind(database)
    .bind(ids)
    .bind(at)
    .fetch_all(conn)
    .await
}

/// The central system's acknowledgement, once: false when the form was acknowledged before.
pub async fn mark_delivered(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE panel_forms SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL
           AND tab <> 'to_send'",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The request form of `request` still waiting in "Wysłane" for the decision.
pub async fn waiting_request_form(
    conn: &mut PgConnection,
    request: Uuid,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, local_database_id FROM panel_forms
         WHERE request_id = $1 AND kind = 'request' AND tab = 'sent'",
    )
    .bind(request)
    .fetch_optional(conn)
    .await
}
