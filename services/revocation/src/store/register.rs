//! The register: who works where, which local databases a unit has, and the authorisations.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LocalDatabase {
    pub id: String,
    pub name: String,
    pub unit_id: String,
    pub unit_name: String,
    pub unit_kind: String,
    /// The authorising body of the unit; none for the ministry.
    pub parent_id: Option<String>,
    pub auto_send: bool,
    pub auto_check: bool,
}

macro_rules! database_select {
    () => {
        "SELECT d.id, d.name, d.unit_id, u.name AS unit_name, u.kind AS unit_kind, u.parent_id,
                d.auto_send, d.auto_check
         FROM local_databases d JOIN units u ON u.id = d.unit_id"
    };
}

pub async fn local_database(pool: &PgPool, id: &str) -> Result<Option<LocalDatabase>, sqlx::Error> {
    sqlx::query_as(concat!(database_select!(), " WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The signed-in person as an active employee of a unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Employment {
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub position: String,
    pub administrator: bool,
}

pub async fn employment(
    pool: &PgPool,
    login: &str,
    unit_id: &str,
) -> Result<Option<Employment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id AS person_id, p.first_name, p.last_name, e.position, e.administrator
         FROM people p JOIN employees e ON e.person_id = p.id
         WHERE p.login = $1 AND e.unit_id = $2 AND e.active",
    )
    .bind(login)
    .bind(unit_id)
    .fetch_optional(pool)
    .await
}

/// A local database the signed-in person works in, with his role there.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyDatabase {
    #[sqlx(flatten)]
    pub database: LocalDatabase,
    pub first_name: String,
    pub last_name: String,
    pub position: String,
    pub administrator: bool,
}

pub async fn my_databases(pool: &PgPool, login: &str) -> Result<Vec<MyDatabase>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.name, d.unit_id, u.name AS unit_name, u.kind AS unit_kind, u.parent_id,
                d.auto_send, d.auto_check, p.first_name, p.last_name, e.position, e.administrator
         FROM people p
         JOIN employees e ON e.person_id = p.id AND e.active
         JOIN units u ON u.id = e.unit_id
         JOIN local_databases d ON d.unit_id = u.id
         WHERE p.login = $1
         ORDER BY u.name, d.name",
    )
    .bind(login)
    .fetch_all(pool)
    .await
}

/// An authorisation with what its preview shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Authorisation {
    pub id: String,
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_id: String,
    pub unit_name: String,
    pub granted_in: String,
    pub granted_in_name: String,
    pub approved_by_name: String,
    pub approved_at: NaiveDate,
    pub scope: String,
    pub status: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    /// A revocation request for it is under way.
    pub open_request: bool,
}

macro_rules! authorisation_select {
    () => {
        "SELECT a.id, a.person_id, p.first_name, p.last_name, p.pesel_masked, a.unit_id,
                u.name AS unit_name, a.granted_in, d.name AS granted_in_name,
                ap.first_name || ' ' || ap.last_name AS approved_by_name, a.approved_at, a.scope,
                a.status, a.revoked_at, a.revoked_reason,
                EXISTS (SELECT 1 FROM requests r WHERE r.authorisation_id = a.id
                        AND r.decision IS NULL) AS open_request
         FROM authorisations a
         JOIN people p ON p.id = a.person_id
         JOIN people ap ON ap.id = a.approved_by
         JOIN units u ON u.id = a.unit_id
         JOIN local_databases d ON d.id = a.granted_in"
    };
}

pub async fn authorisation(pool: &PgPool, id: &str) -> Result<Option<Authorisation>, sqlx::Error> {
    sqlx::query_as(concat!(authorisation_select!(), " WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Mode 1's list: the active authorisations approved in this local database for people of
/// units subordinate to its own.
pub async fn approved_here(
    pool: &PgPool,
    database: &LocalDatabase,
) -> Result<Vec<Authorisation>, sqlx::Error> {
    sqlx::query_as(concat!(
        "WITH RECURSIVE below(id) AS (
             SELECT id FROM units WHERE parent_id = $2
             UNION SELECT u.id FROM units u JOIN below b ON u.parent_id = b.id
         ) ",
        authorisation_select!(),
        " WHERE a.granted_in = $1 AND a.status = 'active' AND a.unit_id IN (SELECT id FROM below)
          ORDER BY p.last_name, p.first_name, a.id"
    ))
    .bind(&database.id)
    .bind(&database.unit_id)
    .fetch_all(pool)
    .await
}

/// Mode 2's list: the unit's active employees, but the administrator himself, with an
/// active authorisation to represent it.
pub async fn own_unit(
    pool: &PgPool,
    unit_id: &str,
    administrator: &str,
) -> Result<Vec<Authorisation>, sqlx::Error> {
    sqlx::query_as(concat!(
        authorisation_select!(),
        " JOIN employees e ON e.person_id = a.person_id AND e.unit_id = a.unit_id AND e.active
          WHERE a.unit_id = $1 AND a.status = 'active' AND a.person_id <> $2
          ORDER BY p.last_name, p.first_name, a.id"
    ))
    .bind(unit_id)
    .bind(administrator)
    .fetch_all(pool)
    .await
}

/// Whether `unit` lies below `ancestor` in the hierarchy.
pub async fn is_below(pool: &PgPool, unit: &str, ancestor: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent_id) AS (
             SELECT id, parent_id FROM units WHERE id = $1
             UNION SELECT u.id, u.parent_id FROM units u JOIN up ON u.id = up.parent_id
         )
         SELECT EXISTS (SELECT 1 FROM up WHERE id = $2 AND id <> $1)",
    )
    .bind(unit)
    .bind(ancestor)
    .fetch_one(pool)
    .await
}

pub async fn is_active_employee(
    pool: &PgPool,
    unit_id: &str,
    person_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM employees WHERE unit_id = $1 AND person_id = $2 AND active)",
    )
    .bind(unit_id)
    .bind(person_id)
    .fetch_one(pool)
    .await
}

/// The central register's answer for one person, found by his PESEL's index.
pub async fn of_person(
    pool: &PgPool,
    pesel_index: &str,
) -> Result<Vec<Authorisation>, sqlx::Error> {
    sqlx::query_as(concat!(
        authorisation_select!(),
        " WHERE p.pesel_index = $1 ORDER BY a.approved_at, a.id"
    ))
    .bind(pesel_index)
    .fetch_all(pool)
    .await
}

/// Whether the login belongs to anyone in the register.
pub async fn is_known(pool: &PgPool, login: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM people p JOIN employees e ON e.person_id = p.id
                        WHERE p.login = $1 AND e.active)",
    )
    .bind(login)
    .fetch_one(pool)
    .await
}
