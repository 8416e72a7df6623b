//! The central admin panel's data: who is a local administrator of which institution, its
//! staff, the accounts created for them, their permissions and their history.

use chrono::{DateTime, Utc};
use contracts::events::{AccountStep, AccountStepRecorded};
use contracts::{Actor, Envelope};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::staff::{Employment, fold};

/// A local administrator signed in: whose staff he may see, and whether he is the director
/// (who alone authorises and withdraws local administrators).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LocalAdmin {
    pub login: String,
    pub institution_rspo_id: String,
    pub institution_name: String,
    pub director: bool,
}

impl LocalAdmin {
    /// How the events name him.
    pub fn actor(&self) -> Actor {
        Actor::person(
            &self.login,
            if self.director {
                "director"
            } else {
                "local_administrator"
            },
        )
    }
}

/// Whether `login` is, now, a local administrator: an active ZSZO account that is its
/// institution's director or holds a grant not withdrawn. Asked at every request, so a
/// withdrawal takes effect at once, not when a token expires.
pub async fn local_admin(pool: &PgPool, login: &str) -> Result<Option<LocalAdmin>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.login, a.institution_rspo_id, i.name AS institution_name,
                (i.director_login IS NOT DISTINCT FROM a.login) AS director
         FROM accounts a JOIN institutions i ON i.rspo_id = a.institution_rspo_id
         WHERE a.login = $1 AND a.kind = 'zszo' AND a.status = 'active'
           AND (i.director_login = a.login OR EXISTS (SELECT 1 FROM local_admin_grants g
                WHERE g.login = a.login AND g.institution_rspo_id = a.institution_rspo_id
                  AND g.withdrawn_at IS NULL))",
    )
    .bind(login)
    .fetch_optional(pool)
    .await
}

/// A member of staff as the panel lists him; the PESEL only masked.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Member {
    #[schema(value_type = String, format = "uuid")]
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// All but the last two digits hidden.
    pub pesel_masked: String,
    pub position: String,
    pub employment: Employment,
    /// His ZSZO account, if he has one.
    pub login: Option<String>,
    /// `active`, `pending` (waiting for the e-mail confirmation), `locked` or `disabled`.
    pub account_status: Option<String>,
}

macro_rules! member_select {
    () => {
        "SELECT m.id, m.first_name, m.last_name, m.pesel_masked, m.position, m.employment, m.login,
                a.status AS account_status
         FROM staff_members m LEFT JOIN accounts a ON a.login = m.login "
    };
}

/// Every word of `$2` matches the start of the first or the last name.
macro_rules! words_filter {
    () => {
        " NOT EXISTS (SELECT 1 FROM unnest($2::text[]) w
                      WHERE NOT (m.first_key LIKE w OR m.last_key LIKE w)) "
    };
}

/// One page of an institution's staff whose first or last names start with every word of
/// `query` (folded: "zolc" finds "Żółć"), in Polish alphabetical order; and how many match.
pub async fn staff_search(
    pool: &PgPool,
    institution: &str,
    query: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Member>, i64), sqlx::Error> {
    let words: Vec<String> = fold(query)
        .split_whitespace()
        .take(4)
        .map(|w| {
            format!(
                "{}%",
                w.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        })
        .collect();
    let total: i64 = sqlx::query_scalar(concat!(
        "SELECT count(*) FROM staff_members m WHERE m.institution_rspo_id = $1 AND",
        words_filter!()
    ))
    .bind(institution)
    .bind(&words)
    .fetch_one(pool)
    .await?;
    let members = sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.institution_rspo_id = $1 AND",
        words_filter!(),
        "ORDER BY m.last_name COLLATE \"pl-x-icu\", m.first_name COLLATE \"pl-x-icu\", m.id
         OFFSET $3 LIMIT $4"
    ))
    .bind(institution)
    .bind(&words)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok((members, total))
}

/// An account of the institution that became active lately: the local administrator is
/// told, and reminded of F-02, F-03 and F-04.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Activated {
    #[schema(value_type = String, format = "uuid")]
    pub member_id: Uuid,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub activated_at: DateTime<Utc>,
}

/// The accounts of `institution` activated since `since`, newest first (at most 20).
pub async fn recently_activated(
    pool: &PgPool,
    institution: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Activated>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id AS member_id, m.login, m.first_name, m.last_name, h.at AS activated_at
         FROM account_history h JOIN staff_members m ON m.login = h.login
         WHERE m.institution_rspo_id = $1 AND h.step = 'activated' AND h.at > $2
         ORDER BY h.at DESC LIMIT 20",
    )
    .bind(institution)
    .bind(since)
    .fetch_all(pool)
    .await
}

/// A member of `institution`'s staff; none for a member of another institution.
pub async fn member_in(
    conn: &mut PgConnection,
    institution: &str,
    id: Uuid,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.id = $1 AND m.institution_rspo_id = $2"
    ))
    .bind(id)
    .bind(institution)
    .fetch_optional(conn)
    .await
}

/// The member locked for the rest of the transaction, so two "Utwórz konto" at once make one.
pub async fn member_lock(
    conn: &mut PgConnection,
    institution: &str,
    id: Uuid,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query(
        "SELECT 1 FROM staff_members WHERE id = $1 AND institution_rspo_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(institution)
    .execute(&mut *conn)
    .await?;
    member_in(conn, institution, id).await
}

/// Creates a ZSZO account for a member of staff under the first free login the rule gives,
/// waiting for its e-mail confirmation, with a starting password's hash; answers the login.
#[allow(clippy::too_many_arguments)]
pub async fn account_create_in_txn(
    conn: &mut PgConnection,
    institution: &str,
    member: &Member,
    password_hash: &str,
    starting_expires_at: DateTime<Utc>,
    created_by: &str,
    at: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let person: Uuid = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO people (id, first_name, last_name, institution_rspo_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(person)
    .bind(&member.first_name)
    .bind(&member.last_name)
    .bind(institution)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    for n in 1.. {
        let login = crate::domain::staff::login_candidate(&member.first_name, &member.last_name, n);
        let inserted = sqlx::query(
            "INSERT INTO accounts (login, kind, role, person_id, institution_rspo_id, password_hash,
                must_change, starting_expires_at, status, created_by, created_at, updated_at)
             VALUES ($1, 'zszo', 'user', $2, $3, $4, true, $5, 'pending', $6, $7, $7)
             ON CONFLICT (login) DO NOTHING",
        )
        .bind(&login)
        .bind(person)
        .bind(institution)
        .bind(password_hash)
        .bind(starting_expires_at)
        .bind(created_by)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            sqlx::query("UPDATE staff_members SET login = $2, updated_at = $3 WHERE id = $1")
                .bind(member.id)
                .bind(&login)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            return Ok(login);
        }
    }
    unreachable!("the login candidates never run out")
}

/// Records a step of an account's history and publishes it for audit, in one transaction.
pub async fn step_record_in_txn(
    conn: &mut PgConnection,
    actor: Actor,
    institution: Option<&str>,
    step: AccountStepRecorded,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let detail = step
        .permission
        .clone()
        .or_else(|| (!step.permissions.is_empty()).then(|| step.permissions.join(",")));
    sqlx::query(
        "INSERT INTO account_history (login, at, step, actor, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&step.login)
    .bind(at)
    .bind(step.step.as_str())
    .bind(actor.id.clone().unwrap_or_else(|| "accounts".to_owned()))
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    let mut event = Envelope::new(actor, at, step);
    event.institution_rspo_id = institution.map(str::to_owned);
    kit::outbox::outbox_insert_event(conn, &event).await
}

/// A step as the history shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// `created`, `sheet_issued`, `first_login`, `email_given`, `email_confirmed`,
    /// `activated`, `password_changed`, `permission_granted`, `permission_withdrawn`.
    pub step: String,
    /// Who did it: the local administrator, or the user himself.
    pub actor: String,
    /// The permission granted or withdrawn; the permissions granted at creation.
    pub detail: Option<String>,
}

pub async fn history(pool: &PgPool, login: &str) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, step, actor, detail FROM account_history WHERE login = $1 ORDER BY id",
    )
    .bind(login)
    .fetch_all(pool)
    .await
}

/// A permission an account holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    pub permission: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
}

pub async fn permissions(conn: &mut PgConnection, login: &str) -> Result<Vec<Held>, sqlx::Error> {
    sqlx::query_as(
        "SELECT permission, granted_by, granted_at FROM account_permissions WHERE login = $1
         ORDER BY permission",
    )
    .bind(login)
    .fetch_all(conn)
    .await
}

pub async fn permission_grant_in_txn(
    conn: &mut PgConnection,
    login: &str,
    permission: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO account_permissions (login, permission, granted_by, granted_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(login)
    .bind(permission)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn permission_withdraw_in_txn(
    conn: &mut PgConnection,
    login: &str,
    permission: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM account_permissions WHERE login = $1 AND permission = $2")
        .bind(login)
        .bind(permission)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What the panel shows of an account besides its permissions and history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountFacts {
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub email: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub email_pending: Option<String>,
    pub first_login_at: Option<DateTime<Utc>>,
    pub must_change: bool,
    pub starting_expires_at: Option<DateTime<Utc>>,
}

pub async fn account_facts(
    conn: &mut PgConnection,
    login: &str,
) -> Result<Option<AccountFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, created_at, created_by, email, email_confirmed_at, email_pending,
                first_login_at, must_change, starting_expires_at
         FROM accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(conn)
    .await
}

/// A new starting password for an account whose user has not signed in yet (the sheet was
/// lost before it reached him): the old one stops working.
pub async fn starting_password_replace_in_txn(
    conn: &mut PgConnection,
    login: &str,
    password_hash: &str,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET password_hash = $2, starting_expires_at = $3, must_change = true,
            updated_at = $4
         WHERE login = $1 AND status = 'pending' AND first_login_at IS NULL",
    )
    .bind(login)
    .bind(password_hash)
    .bind(expires_at)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A local administrator as the director's list shows him.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Every grant of an institution, the open ones first, newest first.
pub async fn grants(pool: &PgPool, institution: &str) -> Result<Vec<Grant>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.login, p.first_name, p.last_name, g.granted_by, g.granted_at, g.withdrawn_by,
                g.withdrawn_at
         FROM local_admin_grants g JOIN accounts a ON a.login = g.login
         LEFT JOIN people p ON p.id = a.person_id
         WHERE g.institution_rspo_id = $1
         ORDER BY (g.withdrawn_at IS NULL) DESC, g.granted_at DESC
         LIMIT 500",
    )
    .bind(institution)
    .fetch_all(pool)
    .await
}

/// Why a person cannot be made a local administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGrantable {
    NoSuchAccount,
    NotActive,
    TheDirector,
    AlreadyGranted,
}

pub async fn grant_in_txn(
    conn: &mut PgConnection,
    institution: &str,
    login: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Result<(), NotGrantable>, sqlx::Error> {
    let account: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.status, i.director_login FROM accounts a
         JOIN institutions i ON i.rspo_id = a.institution_rspo_id
         WHERE a.login = $1 AND a.kind = 'zszo' AND a.institution_rspo_id = $2 FOR UPDATE OF a",
    )
    .bind(login)
    .bind(institution)
    .fetch_optional(&mut *conn)
    .await?;
    match account {
        None => return Ok(Err(NotGrantable::NoSuchAccount)),
        Some((_, Some(director))) if director == login => {
            return Ok(Err(NotGrantable::TheDirector));
        }
        Some((status, _)) if status != "active" => return Ok(Err(NotGrantable::NotActive)),
        Some(_) => {}
    }
    let done = sqlx::query(
        "INSERT INTO local_admin_grants (id, institution_rspo_id, login, granted_by, granted_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(institution)
    .bind(login)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(NotGrantable::AlreadyGranted)
    })
}

/// Withdraws an open grant; false when there is none.
pub async fn withdraw_in_txn(
    conn: &mut PgConnection,
    institution: &str,
    login: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE local_admin_grants SET withdrawn_by = $3, withdrawn_at = $4
         WHERE institution_rspo_id = $1 AND login = $2 AND withdrawn_at IS NULL",
    )
    .bind(institution)
    .bind(login)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an account has a confirmed TOTP secret (a new local administrator without one
/// gets an enrolment prepared).
pub async fn has_totp(conn: &mut PgConnection, login: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT totp_secret IS NOT NULL OR totp_enrolment_until IS NOT NULL FROM accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_one(conn)
    .await
}

/// Records a step of the account's history by the user himself, for an account created in
/// the panel (one without a history is not given one).
pub async fn own_step_in_txn(
    conn: &mut PgConnection,
    login: &str,
    step: AccountStepRecorded,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let institution: Option<Option<String>> = sqlx::query_scalar(
        "SELECT institution_rspo_id FROM accounts WHERE login = $1 AND created_by IS NOT NULL",
    )
    .bind(login)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(institution) = institution else {
        return Ok(false);
    };
    step_record_in_txn(
        conn,
        Actor::person(login, "user"),
        institution.as_deref(),
        step,
        at,
    )
    .await?;
    Ok(true)
}

/// The first portal sign-in of an account created in the panel, once.
pub async fn first_login_in_txn(
    conn: &mut PgConnection,
    login: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let first = sqlx::query(
        "UPDATE accounts SET first_login_at = $2
         WHERE login = $1 AND first_login_at IS NULL AND created_by IS NOT NULL",
    )
    .bind(login)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if first.rows_affected() == 1 {
        own_step_in_txn(
            conn,
            login,
            AccountStepRecorded::new(login, AccountStep::FirstLogin),
            at,
        )
        .await?;
    }
    Ok(())
}
