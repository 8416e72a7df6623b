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

/// What accounts itself verified for a case: the only ground a realisation stands on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VerifiedRequest {
    pub procedure: String,
    pub institution_rspo_id: String,
    pub target_login: String,
}

/// Why a case cannot be realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRealisable {
    Unknown,
    Refused,
    AlreadyRealised,
}

/// Marks a verified case realised, once, and answers what was verified for it.
#[tracing::instrument(skip_all, fields(case_number))]
pub async fn case_request_realise_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    realised_by: &str,
    at: DateTime<Utc>,
) -> Result<Result<VerifiedRequest, NotRealisable>, sqlx::Error> {
    let claimed: Option<VerifiedRequest> = sqlx::query_as(
        "UPDATE case_requests SET realised_at = $3, realised_by = $2
         WHERE case_number = $1 AND decision = 'verified' AND realised_at IS NULL
         RETURNING procedure, institution_rspo_id, target_login",
    )
    .bind(case_number)
    .bind(realised_by)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(verified) = claimed {
        return Ok(Ok(verified));
    }
    let decision: Option<(String, Option<DateTime<Utc>>)> =
        sqlx::query_as("SELECT decision, realised_at FROM case_requests WHERE case_number = $1")
            .bind(case_number)
            .fetch_optional(conn)
            .await?;
    Ok(Err(match decision {
        None => NotRealisable::Unknown,
        Some((_, Some(_))) => NotRealisable::AlreadyRealised,
        Some(_) => NotRealisable::Refused,
    }))
}
