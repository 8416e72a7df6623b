//! What accounts decided about each registered case.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::authority::Request;

pub async fn case_request_insert_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    request: &Request,
    refusal_code: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO case_requests (case_number, procedure, institution_rspo_id, requester_login,
            target_login, decision, refusal_code, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_number) DO NOTHING",
    )
    .bind(case_number)
    .bind(request.procedure.code())
    .bind(&request.institution_rspo_id)
    .bind(&request.requester_login)
    .bind(&request.target_login)
    .bind(if refusal_code.is_some() {
        "refused"
    } else {
        "verified"
    })
    .bind(refusal_code)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn case_request_verified_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM case_requests WHERE case_number = $1 AND decision = 'verified')",
    )
    .bind(case_number)
    .fetch_one(conn)
    .await
}
