//! E-mail confirmation links (procedure C, seed 002 point 6): each one sent is kept as its
//! token's hash; following the newest one, once and in time, confirms the address and, for an
//! account waiting for it, activates the account.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Links an account may be sent in an hour: a mistyped address is corrected, a flood is not.
pub const PER_HOUR: i64 = 5;

pub async fn sent_within_hour(
    conn: &mut PgConnection,
    login: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM email_confirmations WHERE login = $1 AND sent_at > $2")
        .bind(login)
        .bind(now - chrono::Duration::hours(1))
        .fetch_one(conn)
        .await
}

/// Keeps a new link (its earlier ones stop working) and the address it confirms.
pub async fn confirmation_insert_in_txn(
    conn: &mut PgConnection,
    login: &str,
    email: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_confirmations SET superseded_at = $2
         WHERE login = $1 AND used_at IS NULL AND superseded_at IS NULL",
    )
    .bind(login)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO email_confirmations (token_hash, login, email, sent_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(login)
    .bind(email)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE accounts SET email_pending = $2, updated_at = $3 WHERE login = $1")
        .bind(login)
        .bind(email)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// What following a link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    Unknown,
    Used,
    Superseded,
    Expired,
    /// Confirmed now; `activated` when the account was waiting for it.
    Confirmed {
        login: String,
        email: String,
        activated: bool,
    },
}

#[derive(sqlx::FromRow)]
struct Link {
    login: String,
    email: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    superseded_at: Option<DateTime<Utc>>,
}

/// Follows a link, in the caller's transaction (which records the steps it answers).
pub async fn follow_in_txn(
    conn: &mut PgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Followed, sqlx::Error> {
    let link: Option<Link> = sqlx::query_as(
        "SELECT login, email, expires_at, used_at, superseded_at FROM email_confirmations
         WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(link) = link else {
        return Ok(Followed::Unknown);
    };
    if link.used_at.is_some() {
        return Ok(Followed::Used);
    }
    if link.superseded_at.is_some() {
        return Ok(Followed::Superseded);
    }
    if link.expires_at <= now {
        return Ok(Followed::Expired);
    }
    sqlx::query("UPDATE email_confirmations SET used_at = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let was: Option<String> =
        sqlx::query_scalar("SELECT status FROM accounts WHERE login = $1 FOR UPDATE")
            .bind(&link.login)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "UPDATE accounts SET email = $2, email_confirmed_at = $3,
            email_pending = CASE WHEN email_pending = $2 THEN NULL ELSE email_pending END,
            status = CASE WHEN status = 'pending' THEN 'active' ELSE status END, updated_at = $3
         WHERE login = $1",
    )
    .bind(&link.login)
    .bind(&link.email)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Followed::Confirmed {
        activated: was.as_deref() == Some("pending"),
        login: link.login,
        email: link.email,
    })
}

/// The local administrator who created the account: his e-mail address, and the account's
/// person, for the notice of its activation.
pub async fn activation_notice_facts(
    conn: &mut PgConnection,
    login: &str,
) -> Result<(Option<String>, Option<String>), sqlx::Error> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT creator.email, NULLIF(concat_ws(' ', p.first_name, p.last_name), '')
         FROM accounts a LEFT JOIN accounts creator ON creator.login = a.created_by
         LEFT JOIN people p ON p.id = a.person_id WHERE a.login = $1",
    )
    .bind(login)
    .fetch_optional(conn)
    .await?;
    Ok(row.unwrap_or((None, None)))
}
