//! First-time TOTP enrolment: prepared by an administrator, started at a password sign-in,
//! confirmed with a code from the new app.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// How long a prepared enrolment waits for the staff member's sign-in.
pub const ENROLMENT_HOURS: i64 = 72;

/// Prepares `login`'s enrolment for [`ENROLMENT_HOURS`], by `by` (an administrator, or the
/// command line), and records it for audit; his current secret stops working. `None` when
/// there is no account of that login that signs in to the console.
pub async fn enrolment_prepare_recorded(
    pool: &PgPool,
    login: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let until = enrolment_prepare_recorded_in_txn(&mut tx, login, by, "administrator", at).await?;
    if until.is_some() {
        tx.commit().await?;
    }
    Ok(until)
}

/// As [`enrolment_prepare_recorded`], in the caller's transaction, by `by` in his `role`.
pub async fn enrolment_prepare_recorded_in_txn(
    tx: &mut sqlx::PgConnection,
    login: &str,
    by: &str,
    role: &str,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let until = at + chrono::Duration::hours(ENROLMENT_HOURS);
    if !enrolment_prepare(&mut *tx, login, until, at).await? {
        return Ok(None);
    }
    let actor = if by == "accounts-cli" {
        contracts::Actor::system("accounts-cli")
    } else {
        contracts::Actor::person(by, role)
    };
    let event = contracts::Envelope::new(
        actor,
        at,
        contracts::events::TotpEnrolmentPrepared {
            login: login.to_owned(),
            prepared_by: by.to_owned(),
            until,
        },
    );
    kit::outbox::outbox_insert_event(tx, &event).await?;
    Ok(Some(until))
}

async fn enrolment_prepare(
    conn: &mut sqlx::PgConnection,
    login: &str,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // Only an account that signs in to the console (staff, a director, a local administrator).
    let done = sqlx::query(concat!(
        "UPDATE accounts a SET totp_enrolment_until = $2, totp_secret = NULL, totp_pending_secret = NULL,
            totp_enrolment_token_hash = NULL, totp_enrolment_attempts = 0, updated_at = $3
         WHERE login = $1 AND (",
        crate::console_role_sql!(),
        ") IS NOT NULL"
    ))
    .bind(login)
    .bind(until)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `login` has an enrolment prepared and not past its deadline.
pub async fn enrolment_prepared(
    pool: &PgPool,
    login: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE login = $1 AND totp_enrolment_until > $2)",
    )
    .bind(login)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// Keeps a freshly drawn secret (encrypted) and its confirmation token's hash; an earlier
/// pending secret is replaced.
pub async fn enrolment_start(
    pool: &PgPool,
    login: &str,
    pending_secret: &str,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET totp_pending_secret = $2, totp_enrolment_token_hash = $3,
            totp_enrolment_attempts = 0
         WHERE login = $1",
    )
    .bind(login)
    .bind(pending_secret)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct PendingEnrolment {
    pub login: String,
    pub role: String,
    pub institution_rspo_id: Option<String>,
    pub pending_secret: String,
    pub attempts: i32,
    pub may_process: bool,
}

/// The enrolment a confirmation token belongs to, while it may still be confirmed.
pub async fn enrolment_by_token(
    pool: &PgPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingEnrolment>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT * FROM (SELECT login, ",
        crate::console_role_sql!(),
        " AS role, institution_rspo_id, totp_pending_secret AS pending_secret,
                totp_enrolment_attempts AS attempts, may_process
         FROM accounts a
         WHERE totp_enrolment_token_hash = $1 AND totp_enrolment_until > $2
           AND totp_pending_secret IS NOT NULL AND status = 'active') e WHERE role IS NOT NULL"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Counts a wrong code; past `max` the pending secret is dropped (a new sign-in draws one).
pub async fn enrolment_wrong_code(pool: &PgPool, login: &str, max: i32) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET totp_enrolment_attempts = totp_enrolment_attempts + 1,
            totp_pending_secret = CASE WHEN totp_enrolment_attempts + 1 >= $2 THEN NULL ELSE totp_pending_secret END,
            totp_enrolment_token_hash = CASE WHEN totp_enrolment_attempts + 1 >= $2 THEN NULL ELSE totp_enrolment_token_hash END
         WHERE login = $1",
    )
    .bind(login)
    .bind(max)
    .execute(pool)
    .await?;
    Ok(())
}

/// The confirmed secret becomes the account's, with its step used; the enrolment ends.
pub async fn enrolment_complete(
    pool: &PgPool,
    login: &str,
    secret: &str,
    step: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET totp_secret = $2, totp_last_step = $3, totp_enrolment_until = NULL,
            totp_pending_secret = NULL, totp_enrolment_token_hash = NULL, totp_enrolment_attempts = 0,
            updated_at = $4
         WHERE login = $1",
    )
    .bind(login)
    .bind(secret)
    .bind(step)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}
