//! The register of security incidents: numbering, incidents with their links and history,
//! and the questions the automatic rules ask of the record (failed logins, open incidents).

use chrono::{DateTime, Utc};
use contracts::subjects;
use sqlx::{PgConnection, PgPool};

use crate::domain::incidents::{
    HistoryEntry, Incident, IncidentCategory, IncidentNumber, IncidentStatus, NewIncident,
    StatusChange,
};

/// The next sequence of `year`. The counter row stays locked until the transaction ends,
/// so numbers are handed out in order and a rollback leaves no gap.
#[tracing::instrument(skip_all, fields(year = year))]
pub async fn incident_counter_next_in_txn(
    conn: &mut PgConnection,
    year: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO incident_counters (year, last_value) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last_value = incident_counters.last_value + 1
         RETURNING last_value",
    )
    .bind(year)
    .fetch_one(conn)
    .await
}

/// Inserts the incident as registered, its links and the first entry of its history.
/// The newest incident of `category` linked to `case_number`.
pub async fn incident_of_case_in_txn(
    conn: &mut PgConnection,
    category: IncidentCategory,
    case_number: &str,
) -> Result<Option<IncidentNumber>, sqlx::Error> {
    let row: Option<(i32, i64)> = sqlx::query_as(
        "SELECT i.year, i.sequence FROM incidents i
         JOIN incident_links l ON l.incident_number = i.number
         WHERE l.case_number = $1 AND i.category = $2
         ORDER BY i.opened_at DESC, i.sequence DESC LIMIT 1",
    )
    .bind(case_number)
    .bind(category.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(year, sequence)| IncidentNumber { year, sequence }))
}

/// Adds a record (the case's realisation, its delivery) to an incident.
pub async fn incident_record_link_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
    position: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let number = number.to_string();
    sqlx::query(
        "INSERT INTO incident_links (incident_number, record_position) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(&number)
    .bind(position)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE incidents SET updated_at = $2 WHERE number = $1")
        .bind(&number)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(number = %number, category = %new.category))]
pub async fn incident_insert_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
    new: &NewIncident,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let number_text = number.to_string();
    sqlx::query(
        "INSERT INTO incidents (number, year, sequence, category, status, title, description,
            subject_login, opened_at, opened_by, opened_automatically, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9)",
    )
    .bind(&number_text)
    .bind(number.year)
    .bind(number.sequence)
    .bind(new.category.as_str())
    .bind(IncidentStatus::Registered.as_str())
    .bind(&new.title)
    .bind(&new.description)
    .bind(&new.subject_login)
    .bind(at)
    .bind(&new.opened_by)
    .bind(new.opened_automatically)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO incident_links (incident_number, case_number)
         SELECT $1, c FROM unnest($2::text[]) AS c ON CONFLICT DO NOTHING",
    )
    .bind(&number_text)
    .bind(&new.case_numbers)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO incident_links (incident_number, record_position)
         SELECT $1, p FROM unnest($2::bigint[]) AS p ON CONFLICT DO NOTHING",
    )
    .bind(&number_text)
    .bind(&new.record_positions)
    .execute(&mut *conn)
    .await?;
    history_insert_in_txn(
        conn,
        &number_text,
        IncidentStatus::Registered,
        at,
        &new.opened_by,
        None,
    )
    .await
}

async fn history_insert_in_txn(
    conn: &mut PgConnection,
    number: &str,
    status: IncidentStatus,
    at: DateTime<Utc>,
    by: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO incident_history (incident_number, status, at, by, note)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(number)
    .bind(status.as_str())
    .bind(at)
    .bind(by)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// The incident's status, its row locked until the transaction ends so two changes of
/// one incident happen one after the other.
#[tracing::instrument(skip_all, fields(number = %number))]
pub async fn incident_status_lock_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
) -> Result<Option<IncidentStatus>, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM incidents WHERE number = $1 FOR UPDATE")
            .bind(number.to_string())
            .fetch_optional(conn)
            .await?;
    status.as_deref().map(status_of).transpose()
}

/// Sets the status (closing also sets who, when and the note) and adds it to the history.
/// The caller has checked that the change may follow the current status.
#[tracing::instrument(skip_all, fields(number = %number, status = %change.status))]
pub async fn incident_status_update_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
    change: &StatusChange,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let number_text = number.to_string();
    let closed = change.status == IncidentStatus::Closed;
    sqlx::query(
        "UPDATE incidents
         SET status = $2, updated_at = $3,
             closed_at = CASE WHEN $6 THEN $3 END,
             closed_by = CASE WHEN $6 THEN $4 END,
             closing_note = CASE WHEN $6 THEN $5 END
         WHERE number = $1",
    )
    .bind(&number_text)
    .bind(change.status.as_str())
    .bind(at)
    .bind(&change.by)
    .bind(&change.note)
    .bind(closed)
    .execute(&mut *conn)
    .await?;
    history_insert_in_txn(
        conn,
        &number_text,
        change.status,
        at,
        &change.by,
        change.note.as_deref(),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct IncidentRow {
    year: i32,
    sequence: i64,
    category: String,
    status: String,
    title: String,
    description: String,
    subject_login: Option<String>,
    opened_at: DateTime<Utc>,
    opened_by: String,
    opened_automatically: bool,
    closed_at: Option<DateTime<Utc>>,
    closed_by: Option<String>,
    closing_note: Option<String>,
    updated_at: DateTime<Utc>,
    case_numbers: Vec<String>,
    record_positions: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    status: String,
    at: DateTime<Utc>,
    by: String,
    note: Option<String>,
}

fn decode_error(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown incident {what} `{value}`").into())
}

fn status_of(s: &str) -> Result<IncidentStatus, sqlx::Error> {
    IncidentStatus::parse(s).ok_or_else(|| decode_error("status", s))
}

impl IncidentRow {
    fn into_incident(self, history: Vec<HistoryEntry>) -> Result<Incident, sqlx::Error> {
        let number = IncidentNumber {
            year: self.year,
            sequence: self.sequence,
        };
        Ok(Incident {
            number,
            year: self.year,
            sequence: self.sequence,
            category: IncidentCategory::parse(&self.category)
                .ok_or_else(|| decode_error("category", &self.category))?,
            status: status_of(&self.status)?,
            title: self.title,
            description: self.description,
            subject_login: self.subject_login,
            opened_at: self.opened_at,
            opened_by: self.opened_by,
            opened_automatically: self.opened_automatically,
            closed_at: self.closed_at,
            closed_by: self.closed_by,
            closing_note: self.closing_note,
            updated_at: self.updated_at,
            case_numbers: self.case_numbers,
            record_positions: self.record_positions,
            history,
        })
    }
}

/// The incident's columns with its links gathered into arrays.
const SELECT_INCIDENT: &str = "SELECT i.year, i.sequence, i.category, i.status, i.title,
        i.description, i.subject_login, i.opened_at, i.opened_by, i.opened_automatically,
        i.closed_at, i.closed_by, i.closing_note, i.updated_at,
        ARRAY(SELECT l.case_number FROM incident_links l
              WHERE l.incident_number = i.number AND l.case_number IS NOT NULL
              ORDER BY l.case_number) AS case_numbers,
        ARRAY(SELECT l.record_position FROM incident_links l
              WHERE l.incident_number = i.number AND l.record_position IS NOT NULL
              ORDER BY l.record_position) AS record_positions
    FROM incidents i";

/// One incident with its links and history.
pub async fn incident_find(
    pool: &PgPool,
    number: IncidentNumber,
) -> Result<Option<Incident>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    incident_find_in_txn(&mut conn, number).await
}

/// One incident with its links and history, as the transaction sees it.
#[tracing::instrument(skip_all, fields(number = %number))]
pub async fn incident_find_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
) -> Result<Option<Incident>, sqlx::Error> {
    let number_text = number.to_string();
    let row: Option<IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_INCIDENT} WHERE i.number = $1"
    )))
    .bind(&number_text)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let history: Vec<HistoryRow> = sqlx::query_as(
        "SELECT status, at, by, note FROM incident_history
         WHERE incident_number = $1 ORDER BY id",
    )
    .bind(&number_text)
    .fetch_all(conn)
    .await?;
    let history = history
        .into_iter()
        .map(|h| {
            Ok(HistoryEntry {
                status: status_of(&h.status)?,
                at: h.at,
                by: h.by,
                note: h.note,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    row.into_incident(history).map(Some)
}

/// Which incidents a list shows; every given criterion must hold.
#[derive(Debug, Default, Clone)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub category: Option<IncidentCategory>,
    /// Incidents linked to this case.
    pub case_number: Option<String>,
    /// Opened at or after.
    pub from: Option<DateTime<Utc>>,
    /// Opened before.
    pub to: Option<DateTime<Utc>>,
    /// The page starts after this incident.
    pub after: Option<IncidentNumber>,
    pub limit: Option<i64>,
}

/// Incidents in the order they were numbered, without their history.
#[tracing::instrument(skip_all)]
pub async fn incidents_list(
    pool: &PgPool,
    f: &IncidentFilter,
) -> Result<Vec<Incident>, sqlx::Error> {
    let rows: Vec<IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_INCIDENT}
         WHERE ($1::text IS NULL OR i.status = $1)
           AND ($2::text IS NULL OR i.category = $2)
           AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM incident_links l
                                            WHERE l.incident_number = i.number
                                              AND l.case_number = $3))
           AND ($4::timestamptz IS NULL OR i.opened_at >= $4)
           AND ($5::timestamptz IS NULL OR i.opened_at < $5)
           AND ($6::integer IS NULL OR (i.year, i.sequence) > ($6::integer, $7::bigint))
         ORDER BY i.year, i.sequence
         LIMIT $8"
    )))
    .bind(f.status.map(IncidentStatus::as_str))
    .bind(f.category.map(IncidentCategory::as_str))
    .bind(&f.case_number)
    .bind(f.from)
    .bind(f.to)
    .bind(f.after.map(|n| n.year))
    .bind(f.after.map(|n| n.sequence))
    .bind(f.limit.unwrap_or(100).clamp(1, 1_000))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| row.into_incident(Vec::new()))
        .collect()
}

/// How many sign-ins of `login` failed in `(from, to]`, by the recorded events.
#[tracing::instrument(skip_all)]
pub async fn failed_logins_count_in_txn(
    conn: &mut PgConnection,
    login: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_records
         WHERE event_type = $1 AND subject_login = $2 AND occurred_at > $3 AND occurred_at <= $4",
    )
    .bind(subjects::ACCOUNTS_LOGIN_FAILED)
    .bind(login)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await
}

/// Whether an incident of `category` about `login` is still open.
#[tracing::instrument(skip_all, fields(category = %category))]
pub async fn incident_open_exists_in_txn(
    conn: &mut PgConnection,
    category: IncidentCategory,
    login: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM incidents
                        WHERE category = $1 AND subject_login = $2 AND status <> 'closed')",
    )
    .bind(category.as_str())
    .bind(login)
    .fetch_one(conn)
    .await
}
