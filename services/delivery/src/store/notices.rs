//! The `notices` table: password-change notices (inserted by the consumer of
//! `accounts.password.changed`) and case outcomes for the senders of e-mailed requests
//! (`intake.reply.requested`), claimed and sent by the notice worker. As with deliveries, every change after a claim
//! names the claim's token, so a worker whose lease ran out changes nothing.

use chrono::{DateTime, Utc};
use contracts::events::ReplyRequested;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    PasswordChanged,
    CaseOutcome,
    /// The link that confirms a user's e-mail address (procedure C).
    EmailConfirmation,
    /// To the local administrator: the account he created is active (procedure C).
    AccountActivated,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::CaseOutcome => "case_outcome",
            Self::EmailConfirmation => "email_confirmation",
            Self::AccountActivated => "account_activated",
        }
    }
}

impl TryFrom<String> for NoticeKind {
    type Error = contracts::forms::UnknownValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        [
            Self::PasswordChanged,
            Self::CaseOutcome,
            Self::EmailConfirmation,
            Self::AccountActivated,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
        .ok_or(contracts::forms::UnknownValue {
            kind: "notice kind",
            value,
        })
    }
}

#[derive(Debug)]
pub struct NewNotice<'a> {
    pub event_id: Uuid,
    pub kind: NoticeKind,
    /// The account concerned.
    pub login: &'a str,
    pub email: &'a str,
    /// When what the notice tells happened.
    pub occurred_at: DateTime<Utc>,
    pub case_outcome: Option<&'a ReplyRequested>,
    /// A secret the e-mail carries, still sealed to delivery's key.
    pub sealed: Option<&'a [u8]>,
    /// What the e-mail states, for the kinds that need more than the login.
    pub facts: Option<serde_json::Value>,
    pub now: DateTime<Utc>,
}

/// Stores a notice to send; false when this event's notice is already known.
#[tracing::instrument(skip_all, fields(event_id = %new.event_id))]
pub async fn notice_insert_in_txn(
    conn: &mut PgConnection,
    new: &NewNotice<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO notices (event_id, login, email, occurred_at, status,
             next_attempt_at, created_at, updated_at, kind, case_outcome, sealed, facts)
         VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5, $6, $7, $8, $9)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(new.event_id)
    .bind(new.login)
    .bind(new.email)
    .bind(new.occurred_at)
    .bind(new.now)
    .bind(new.kind.as_str())
    .bind(new.case_outcome.map(Json))
    .bind(new.sealed)
    .bind(new.facts.as_ref().map(Json))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub event_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    pub login: String,
    pub email: String,
    pub occurred_at: DateTime<Utc>,
    pub case_outcome: Option<Json<ReplyRequested>>,
    pub sealed: Option<Vec<u8>>,
    pub facts: Option<Json<serde_json::Value>>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due notices for `lease`. A claim that finds the previous claim's
/// token still set counts that interrupted try as a failed attempt.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn notices_claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
    token: Uuid,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH due AS (
             SELECT event_id FROM notices
             WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
         )
         UPDATE notices n SET
             attempts = n.attempts + CASE WHEN n.claim_token IS NULL THEN 0 ELSE 1 END,
             last_error = CASE WHEN n.claim_token IS NULL THEN n.last_error
                 ELSE 'the previous try was interrupted before its outcome was recorded' END,
             claim_token = $3,
             next_attempt_at = $4,
             updated_at = $1
         FROM due WHERE n.event_id = due.event_id
         RETURNING n.*",
    )
    .bind(now)
    .bind(limit)
    .bind(token)
    .bind(lease_until)
    .fetch_all(pool)
    .await
}

/// The relay accepted the notice.
#[tracing::instrument(skip_all, fields(event_id = %event_id))]
pub async fn notice_mark_sent(
    pool: &PgPool,
    event_id: Uuid,
    token: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE notices SET status = 'sent', claim_token = NULL, sent_at = $3,
             updated_at = $3
         WHERE event_id = $1 AND claim_token = $2 AND status = 'pending'",
    )
    .bind(event_id)
    .bind(token)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// A passing failure: another try at `next_attempt_at`.
#[tracing::instrument(skip_all, fields(event_id = %event_id))]
pub async fn notice_retry_later(
    pool: &PgPool,
    event_id: Uuid,
    token: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE notices SET attempts = attempts + 1, last_error = $3,
             next_attempt_at = $4, claim_token = NULL, updated_at = $5
         WHERE event_id = $1 AND claim_token = $2",
    )
    .bind(event_id)
    .bind(token)
    .bind(error)
    .bind(next_attempt_at)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The notice will not go out: `failed`. `count_attempt` is false when the attempts were
/// exhausted before this try began.
#[tracing::instrument(skip_all, fields(event_id = %event_id))]
pub async fn notice_fail(
    pool: &PgPool,
    event_id: Uuid,
    token: Uuid,
    error: &str,
    count_attempt: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE notices SET status = 'failed', last_error = $3,
             attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END,
             claim_token = NULL, updated_at = $5
         WHERE event_id = $1 AND claim_token = $2",
    )
    .bind(event_id)
    .bind(token)
    .bind(error)
    .bind(count_attempt)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Every notice of `login`, oldest first.
#[tracing::instrument(skip_all, fields(login = %login))]
pub async fn notices_of_login(pool: &PgPool, login: &str) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM notices WHERE login = $1 ORDER BY created_at")
        .bind(login)
        .fetch_all(pool)
        .await
}

/// Every notice sent or to send to `email`, oldest first.
#[tracing::instrument(skip_all)]
pub async fn notices_to(pool: &PgPool, email: &str) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM notices WHERE email = $1 ORDER BY created_at")
        .bind(email)
        .fetch_all(pool)
        .await
}
