//! Institutions, people and accounts: look-ups and the import's upserts.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::account::{AccountKind, AccountStatus};
use crate::domain::authority::{Account, Institution};

#[derive(sqlx::FromRow)]
struct InstitutionRow {
    rspo_id: String,
    city_run: bool,
    rspo_email: String,
    odpn_email: Option<String>,
    director_login: Option<String>,
    director_mobile: Option<String>,
}

pub async fn institution_find_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
) -> Result<Option<Institution>, sqlx::Error> {
    let row: Option<InstitutionRow> = sqlx::query_as(
        "SELECT rspo_id, city_run, rspo_email, odpn_email, director_login, director_mobile
         FROM institutions WHERE rspo_id = $1",
    )
    .bind(rspo_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Institution {
        rspo_id: r.rspo_id,
        city_run: r.city_run,
        rspo_email: r.rspo_email,
        odpn_email: r.odpn_email,
        director_login: r.director_login,
        director_mobile: r.director_mobile,
    }))
}

/// The institution's contact data as a verified request corrected them.
pub async fn institution_contact_set_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
    rspo_email: &str,
    director_mobile: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE institutions SET rspo_email = $2, director_mobile = $3 WHERE rspo_id = $1")
        .bind(rspo_id)
        .bind(rspo_email)
        .bind(director_mobile)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn account_find_in_txn(
    conn: &mut PgConnection,
    login: &str,
) -> Result<Option<Account>, sqlx::Error> {
    let row: Option<(String, AccountKind, Option<String>, AccountStatus)> = sqlx::query_as(
        "SELECT login, kind, institution_rspo_id, status FROM accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(conn)
    .await?;
    Ok(
        row.map(|(login, kind, institution_rspo_id, status)| Account {
            login,
            kind,
            institution_rspo_id,
            status,
        }),
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn institution_upsert_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
    name: &str,
    city_run: bool,
    rspo_email: &str,
    odpn_email: Option<&str>,
    director_mobile: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO institutions (rspo_id, name, city_run, rspo_email, director_mobile, created_at,
            updated_at, odpn_email)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
         ON CONFLICT (rspo_id) DO UPDATE SET name = $2, city_run = $3, rspo_email = $4,
            director_mobile = coalesce($5, institutions.director_mobile), updated_at = $6,
            odpn_email = $7",
    )
    .bind(rspo_id)
    .bind(name)
    .bind(city_run)
    .bind(rspo_email)
    .bind(director_mobile)
    .bind(at)
    .bind(odpn_email)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn institution_director_set_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
    director_login: &str,
    director_mobile: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE institutions SET director_login = $2, director_mobile = $3, updated_at = $4 WHERE rspo_id = $1",
    )
    .bind(rspo_id)
    .bind(director_login)
    .bind(director_mobile)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn institution_exists_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM institutions WHERE rspo_id = $1)")
        .bind(rspo_id)
        .fetch_one(conn)
        .await
}

/// Creates or updates an account and its person. The password is never touched here.
#[allow(clippy::too_many_arguments)]
pub async fn account_upsert_in_txn(
    conn: &mut PgConnection,
    login: &str,
    kind: &str,
    role: &str,
    institution_rspo_id: Option<&str>,
    first_name: Option<&str>,
    last_name: Option<&str>,
    email: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let person_id: Option<Uuid> = match (first_name, last_name) {
        (Some(first), Some(last)) => {
            let existing: Option<Uuid> =
                sqlx::query_scalar("SELECT person_id FROM accounts WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&mut *conn)
                    .await?
                    .flatten();
            let id = existing.unwrap_or_else(Uuid::now_v7);
            sqlx::query(
                "INSERT INTO people (id, first_name, last_name, institution_rspo_id, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET first_name = $2, last_name = $3, institution_rspo_id = $4",
            )
            .bind(id)
            .bind(first)
            .bind(last)
            .bind(institution_rspo_id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            Some(id)
        }
        _ => None,
    };
    sqlx::query(
        "INSERT INTO accounts (login, kind, role, person_id, institution_rspo_id, email, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (login) DO UPDATE SET kind = $2, role = $3, person_id = coalesce($4, accounts.person_id),
            institution_rspo_id = $5, email = coalesce($6, accounts.email), updated_at = $7",
    )
    .bind(login)
    .bind(kind)
    .bind(role)
    .bind(person_id)
    .bind(institution_rspo_id)
    .bind(email)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    name: String,
    rspo_email: String,
    director_mobile: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    director_name: Option<String>,
}

/// The institution's registered contact data and the account holder's name.
pub async fn recipient_in_txn(
    conn: &mut PgConnection,
    rspo_id: &str,
    login: &str,
) -> Result<Option<contracts::events::Recipient>, sqlx::Error> {
    let row: Option<RecipientRow> = sqlx::query_as(
        "SELECT i.name, i.rspo_email, i.director_mobile, p.first_name, p.last_name,
                NULLIF(concat_ws(' ', dp.first_name, dp.last_name), '') AS director_name
         FROM accounts a JOIN institutions i ON i.rspo_id = a.institution_rspo_id
         LEFT JOIN people p ON p.id = a.person_id
         LEFT JOIN accounts da ON da.login = i.director_login
         LEFT JOIN people dp ON dp.id = da.person_id
         WHERE a.login = $1 AND i.rspo_id = $2",
    )
    .bind(login)
    .bind(rspo_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| contracts::events::Recipient {
        institution_name: r.name,
        rspo_email: r.rspo_email,
        director_mobile: r.director_mobile.unwrap_or_default(),
        first_name: r.first_name,
        last_name: r.last_name,
        director_name: r.director_name,
    }))
}
