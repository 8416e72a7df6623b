//! Passwords, second factors, sessions and failed sign-ins.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::account::{AccountKind, AccountStatus};

/// The role an account signs in to the console with, as SQL over `accounts a`: a staff
/// member's own; `director` for an institution's current director; `local_administrator`
/// for a person a director authorised and has not withdrawn; NULL for anyone else.
#[macro_export]
macro_rules! console_role_sql {
    () => {
        "CASE WHEN a.kind = 'staff' THEN a.role
              WHEN a.kind = 'sio' THEN 'user'
              WHEN a.kind = 'zszo' AND EXISTS (SELECT 1 FROM institutions ci
                   WHERE ci.rspo_id = a.institution_rspo_id AND ci.director_login = a.login)
                   THEN 'director'
              WHEN a.kind = 'zszo' AND EXISTS (SELECT 1 FROM local_admin_grants cg
                   WHERE cg.login = a.login AND cg.institution_rspo_id = a.institution_rspo_id
                     AND cg.withdrawn_at IS NULL)
                   THEN 'local_administrator'
         END"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInRow {
    pub login: String,
    pub kind: AccountKind,
    pub role: String,
    pub institution_rspo_id: Option<String>,
    pub password_hash: Option<String>,
    pub must_change: bool,
    pub starting_expires_at: Option<DateTime<Utc>>,
    pub totp_secret: Option<String>,
    pub status: AccountStatus,
    /// A staff member granted the right to process requests.
    pub may_process: bool,
    /// The role of a console sign-in (`console_role_sql!`); none for who may not.
    pub console_role: Option<String>,
}

pub async fn sign_in_row(pool: &PgPool, login: &str) -> Result<Option<SignInRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT login, kind, role, institution_rspo_id, password_hash, must_change, starting_expires_at,
                totp_secret, status, may_process, ",
        console_role_sql!(),
        " AS console_role FROM accounts a WHERE login = $1"
    ))
    .bind(login)
    .fetch_optional(pool)
    .await
}

/// Grants or withdraws a staff member's right to process requests; false when there is no
/// staff account of that login.
pub async fn processing_right_set(
    pool: &PgPool,
    login: &str,
    granted: bool,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET may_process = $2, updated_at = $3 WHERE login = $1 AND kind = 'staff'",
    )
    .bind(login)
    .bind(granted)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn password_set(
    pool: &PgPool,
    login: &str,
    hash: &str,
    must_change: bool,
    expires_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET password_hash = $2, must_change = $3, starting_expires_at = $4, updated_at = $5
         WHERE login = $1",
    )
    .bind(login)
    .bind(hash)
    .bind(must_change)
    .bind(expires_at)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a TOTP secret, which must already be encrypted ([`kit::at_rest`]).
pub async fn totp_secret_set(
    pool: &PgPool,
    login: &str,
    secret: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE accounts SET totp_secret = $2, updated_at = $3 WHERE login = $1")
            .bind(login)
            .bind(secret)
            .bind(at)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that `login` signed in with the TOTP code of `step`; false when that step (or a
/// later one) was used already, so each code works once.
pub async fn totp_step_claim(pool: &PgPool, login: &str, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET totp_last_step = $2
         WHERE login = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(login)
    .bind(step)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Encrypts the TOTP secrets stored in plain text before they were encrypted at rest;
/// returns how many.
pub async fn totp_secrets_encrypt_legacy(
    pool: &PgPool,
    key: &kit::at_rest::AtRestKey,
) -> Result<usize, String> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT login, totp_secret FROM accounts WHERE totp_secret IS NOT NULL")
            .fetch_all(pool)
            .await
            .map_err(|e| e.to_string())?;
    let mut encrypted = 0;
    for (login, stored) in rows {
        if kit::at_rest::AtRestKey::is_encrypted(&stored) {
            continue;
        }
        let sealed = key
            .encrypt(&login, stored.as_bytes())
            .map_err(|e| e.to_string())?;
        sqlx::query("UPDATE accounts SET totp_secret = $2 WHERE login = $1 AND totp_secret = $3")
            .bind(&login)
            .bind(&sealed)
            .bind(&stored)
            .execute(pool)
            .await
            .map_err(|e| e.to_string())?;
        encrypted += 1;
    }
    Ok(encrypted)
}

pub async fn session_insert(
    pool: &PgPool,
    login: &str,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO sessions (id, login, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(login)
        .bind(at)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(id)
}

/// Whether `session` of `login` is still open: not ended (by a password change or a new
/// starting password) and not expired. A token outlives its session otherwise.
pub async fn session_is_open(
    pool: &PgPool,
    session: Uuid,
    login: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions
             WHERE id = $1 AND login = $2 AND ended_at IS NULL AND expires_at > $3)",
    )
    .bind(session)
    .bind(login)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// Ends every open session of an account (but `keep`, if given), and announces them
/// (`accounts.sessions.ended`) so that every service refuses their tokens at once.
/// Answers how many ended.
pub async fn sessions_end_in_txn(
    conn: &mut PgConnection,
    login: &str,
    keep: Option<Uuid>,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let ended: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE sessions SET ended_at = $3
         WHERE login = $1 AND ended_at IS NULL AND expires_at > $3 AND ($2::uuid IS NULL OR id <> $2)
         RETURNING id, expires_at",
    )
    .bind(login)
    .bind(keep)
    .bind(at)
    .fetch_all(&mut *conn)
    .await?;
    announce_sessions_ended_in_txn(conn, login, &ended, reason, at).await?;
    Ok(ended.len() as u64)
}

/// Ends one session (a sign-out); false when it was not open.
pub async fn session_end_in_txn(
    conn: &mut PgConnection,
    session: Uuid,
    login: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let ended: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE sessions SET ended_at = $3
         WHERE id = $1 AND login = $2 AND ended_at IS NULL RETURNING id, expires_at",
    )
    .bind(session)
    .bind(login)
    .bind(at)
    .fetch_all(&mut *conn)
    .await?;
    announce_sessions_ended_in_txn(conn, login, &ended, "signed_out", at).await?;
    Ok(!ended.is_empty())
}

async fn announce_sessions_ended_in_txn(
    conn: &mut PgConnection,
    login: &str,
    ended: &[(Uuid, DateTime<Utc>)],
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    use contracts::{Actor, Envelope};
    if ended.is_empty() {
        return Ok(());
    }
    let event = Envelope::new(
        Actor::system(crate::SERVICE),
        at,
        contracts::events::SessionsEnded {
            login: login.to_owned(),
            sessions: ended
                .iter()
                .map(|(sid, expires_at)| contracts::events::EndedSession {
                    sid: sid.to_string(),
                    expires_at: *expires_at,
                })
                .collect(),
            reason: reason.to_owned(),
        },
    );
    kit::outbox::outbox_insert_event(conn, &event).await
}

/// Sets an account's status (active, locked, disabled); false when there is no such account.
pub async fn account_status_set_in_txn(
    conn: &mut PgConnection,
    login: &str,
    status: AccountStatus,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE accounts SET status = $2, updated_at = $3 WHERE login = $1")
        .bind(login)
        .bind(status)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A new starting password: only its hash, to be changed at the first login, expiring.
pub async fn starting_password_set_in_txn(
    conn: &mut PgConnection,
    login: &str,
    hash: &str,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $2, must_change = true, starting_expires_at = $3, updated_at = $4
         WHERE login = $1",
    )
    .bind(login)
    .bind(hash)
    .bind(expires_at)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's own password: no longer a starting one.
pub async fn password_changed_in_txn(
    conn: &mut PgConnection,
    login: &str,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $2, must_change = false, starting_expires_at = NULL, updated_at = $3
         WHERE login = $1",
    )
    .bind(login)
    .bind(hash)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn account_email_in_txn(
    conn: &mut PgConnection,
    login: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM accounts WHERE login = $1")
        .bind(login)
        .fetch_one(conn)
        .await
}
