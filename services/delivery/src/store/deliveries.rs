//! The `deliveries` table: inserted by the credentials consumer, claimed and moved forward
//! by the dispatcher. Every change after a claim names the claim's token, so a dispatcher
//! whose lease ran out (and whose case someone else took) changes nothing.

use chrono::{DateTime, Utc};
use contracts::forms::{DeliveryMode, Procedure};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::status::DeliveryStatus;

/// A case as the credentials consumer stores it.
#[derive(Debug)]
pub struct NewDelivery<'a> {
    pub case_number: &'a str,
    pub procedure: &'a str,
    pub login: &'a str,
    pub delivery_mode: &'a str,
    pub institution_rspo_id: Option<&'a str>,
    pub institution_name: &'a str,
    pub rspo_email: &'a str,
    pub director_mobile: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub sealed_credentials: &'a [u8],
    /// Electronic cases only: `crate::domain::cipher`.
    pub sealed_cipher: Option<&'a [u8]>,
    /// The credentials' trace, which the dispatch continues.
    pub trace_parent: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
    pub portal_url: &'a str,
    pub status: DeliveryStatus,
    pub issued_event_id: Uuid,
    pub now: DateTime<Utc>,
    /// The person who realised the case (from accounts' event).
    pub realised_by: Option<&'a str>,
    pub director_name: Option<&'a str>,
    pub proxy_name: Option<&'a str>,
    pub proxy_f01_reference: Option<&'a str>,
}

/// Stores a case; false when the case is already known (nothing changes then).
#[tracing::instrument(skip_all, fields(case_number = new.case_number))]
pub async fn delivery_insert_in_txn(
    conn: &mut PgConnection,
    new: &NewDelivery<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO deliveries (case_number, procedure, login, delivery_mode,
             institution_rspo_id, institution_name, rspo_email, director_mobile, first_name,
             last_name, sealed_credentials, expires_at, portal_url, status, next_attempt_at,
             issued_event_id, created_at, updated_at, realised_by, director_name, proxy_name,
             proxy_f01_reference, sealed_cipher, trace_parent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $15, $15,
                 $17, $18, $19, $20, $21, $22)
         ON CONFLICT (case_number) DO NOTHING",
    )
    .bind(new.case_number)
    .bind(new.procedure)
    .bind(new.login)
    .bind(new.delivery_mode)
    .bind(new.institution_rspo_id)
    .bind(new.institution_name)
    .bind(new.rspo_email)
    .bind(new.director_mobile)
    .bind(new.first_name)
    .bind(new.last_name)
    .bind(new.sealed_credentials)
    .bind(new.expires_at)
    .bind(new.portal_url)
    .bind(new.status.as_str())
    .bind(new.now)
    .bind(new.issued_event_id)
    .bind(new.realised_by)
    .bind(new.director_name)
    .bind(new.proxy_name)
    .bind(new.proxy_f01_reference)
    .bind(new.sealed_cipher)
    .bind(new.trace_parent)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A case as the dispatcher works on it (the columns it needs; queries return whole rows).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub case_number: String,
    #[sqlx(try_from = "String")]
    pub procedure: Procedure,
    pub login: String,
    #[sqlx(try_from = "String")]
    pub delivery_mode: DeliveryMode,
    pub institution_rspo_id: Option<String>,
    pub institution_name: String,
    pub rspo_email: String,
    pub director_mobile: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub sealed_credentials: Option<Vec<u8>>,
    pub sealed_cipher: Option<Vec<u8>>,
    pub issued_event_id: Uuid,
    pub trace_parent: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub portal_url: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub claims: i32,
    pub interrupted_tries: i32,
    pub mails_accepted: i32,
    pub mail_message_id: Option<String>,
    pub realised_by: Option<String>,
    pub director_name: Option<String>,
    pub proxy_name: Option<String>,
    pub proxy_f01_reference: Option<String>,
}

impl DeliveryRow {
    /// What this case's sealed cipher password is bound to.
    pub fn cipher_binding(&self) -> crate::domain::cipher::CipherBinding<'_> {
        crate::domain::cipher::CipherBinding {
            case_number: &self.case_number,
            login: &self.login,
            issued_event_id: self.issued_event_id,
        }
    }

    /// Whom the sealed copy may be opened for: what this row will act on.
    pub fn binding(&self) -> contracts::events::SealBinding<'_> {
        contracts::events::SealBinding {
            case_number: &self.case_number,
            procedure: self.procedure.code(),
            login: &self.login,
            delivery: self.delivery_mode.as_str(),
            rspo_email: &self.rspo_email,
            director_mobile: &self.director_mobile,
            expires_at: self.expires_at,
        }
    }
}

/// Claims up to `limit` deliveries that are due, for `lease` (other dispatchers skip them
/// meanwhile, and take them again if the lease ends without an outcome). A claim that
/// finds the previous claim's token still set knows that try was interrupted (the process
/// stopped mid-way): it counts as a failed attempt.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn deliveries_claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
    token: Uuid,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH due AS (
             SELECT case_number FROM deliveries
             WHERE status IN ('pending', 'mail_sent') AND next_attempt_at <= $1
             ORDER BY next_attempt_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
         )
         UPDATE deliveries d SET
             attempts = d.attempts + CASE WHEN d.claim_token IS NULL THEN 0 ELSE 1 END,
             interrupted_tries = d.interrupted_tries
                 + CASE WHEN d.claim_token IS NULL THEN 0 ELSE 1 END,
             last_error = CASE WHEN d.claim_token IS NULL THEN d.last_error
                 ELSE 'the previous try was interrupted before its outcome was recorded' END,
             claim_token = $3,
             claims = d.claims + 1,
             next_attempt_at = $4,
             updated_at = $1
         FROM due WHERE d.case_number = due.case_number
         RETURNING d.*",
    )
    .bind(now)
    .bind(limit)
    .bind(token)
    .bind(lease_until)
    .fetch_all(pool)
    .await
}

/// Keeps a freshly drawn sealed cipher password for a case that has none yet (it arrived
/// before delivery kept them); false if the claim was lost or another try kept one first.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_keep_cipher(
    pool: &PgPool,
    case_number: &str,
    token: Uuid,
    sealed_cipher: &[u8],
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET sealed_cipher = $3
         WHERE case_number = $1 AND claim_token = $2 AND sealed_cipher IS NULL
             AND status IN ('pending', 'mail_sent')",
    )
    .bind(case_number)
    .bind(token)
    .bind(sealed_cipher)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The SMTP relay accepted the e-mail: a durable mark before the SMS goes out.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_mark_mail_sent(
    pool: &PgPool,
    case_number: &str,
    token: Uuid,
    message_id: &str,
    attachment_sha256: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'mail_sent', mails_accepted = mails_accepted + 1,
             mail_message_id = $3, mail_attachment_sha256 = $4, mail_sent_at = $5, updated_at = $5
         WHERE case_number = $1 AND claim_token = $2 AND status IN ('pending', 'mail_sent')",
    )
    .bind(case_number)
    .bind(token)
    .bind(message_id)
    .bind(attachment_sha256)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// E-mail and SMS went out: completed, and the sealed copy is wiped.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_complete_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    token: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'completed', sealed_credentials = NULL, sealed_cipher = NULL, claim_token = NULL,
             completed_at = $3, updated_at = $3
         WHERE case_number = $1 AND claim_token = $2 AND status = 'mail_sent'",
    )
    .bind(case_number)
    .bind(token)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// A passing failure: another try at `next_attempt_at`.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_retry_later(
    pool: &PgPool,
    case_number: &str,
    token: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4,
             claim_token = NULL, updated_at = $5
         WHERE case_number = $1 AND claim_token = $2",
    )
    .bind(case_number)
    .bind(token)
    .bind(error)
    .bind(next_attempt_at)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Delivery gives up: `failed`, and the sealed copy is destroyed (a new starting password is
/// an administrator's decision, and makes a new one).
/// `count_attempt` is false when the attempts were exhausted before this try began.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_fail_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    token: Uuid,
    error: &str,
    count_attempt: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'failed', last_error = $3, sealed_credentials = NULL, sealed_cipher = NULL,
             attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END,
             claim_token = NULL, updated_at = $5
         WHERE case_number = $1 AND claim_token = $2",
    )
    .bind(case_number)
    .bind(token)
    .bind(error)
    .bind(count_attempt)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The starting password expired before it could be delivered: nothing more to send, and
/// the sealed copy of a dead password is wiped.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_expire_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    token: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET status = 'expired', sealed_credentials = NULL, sealed_cipher = NULL, claim_token = NULL,
             last_error = 'the starting password expired before delivery', updated_at = $3
         WHERE case_number = $1 AND claim_token = $2",
    )
    .bind(case_number)
    .bind(token)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// One case, as it stands.
#[tracing::instrument(skip_all, fields(case_number = %case_number))]
pub async fn delivery_find(
    pool: &PgPool,
    case_number: &str,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM deliveries WHERE case_number = $1")
        .bind(case_number)
        .fetch_optional(pool)
        .await
}
