//! Cases, their numbering, their status history, and refused forms.

use chrono::{DateTime, Utc};
use contracts::forms::{DeliveryMode, PasswordResetRequest, Procedure, RequestSource};
use contracts::query::{CaseView, StatusEntry};
use contracts::seod_status::{CaseStatus, Rejection};
use sqlx::{PgConnection, PgPool};

#[tracing::instrument(skip_all, fields(procedure = procedure))]
pub async fn case_counter_next_in_txn(
    conn: &mut PgConnection,
    procedure: &str,
    year: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO case_counters (procedure, year, last_value) VALUES ($1, $2, 1)
         ON CONFLICT (procedure, year) DO UPDATE SET last_value = case_counters.last_value + 1
         RETURNING last_value",
    )
    .bind(procedure)
    .bind(year)
    .fetch_one(conn)
    .await
}

/// The case already registered for a SEOD document: its number, form and status.
#[tracing::instrument(skip_all)]
pub async fn case_find_by_document_in_txn(
    conn: &mut PgConnection,
    document_id: &str,
) -> Result<Option<(String, serde_json::Value, String)>, sqlx::Error> {
    sqlx::query_as("SELECT case_number, form, status FROM cases WHERE document_id = $1")
        .bind(document_id)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(skip_all, fields(case_number = case_number))]
pub async fn case_insert_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    request: &PasswordResetRequest,
    form: &serde_json::Value,
    at: DateTime<Utc>,
    registered_by: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cases (case_number, procedure, source, document_id, institution_rspo_id,
            institution_name, requester_login, target_login, rspo_email, director_mobile,
            delivery_mode, status, form, submitted_at, registered_at, updated_at, reply_email,
            registered_by, form_trace_parent)
         VALUES ($1, $2, $15, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $16, $17,
                 $18)",
    )
    .bind(case_number)
    .bind(request.procedure.code())
    .bind(request.document_id.as_str())
    .bind(request.institution_rspo_id.as_str())
    .bind(&request.institution_name)
    .bind(request.requester_login.as_str())
    .bind(request.target_login.as_str())
    .bind(request.rspo_email.as_str())
    .bind(request.director_mobile.as_str())
    .bind(request.delivery.as_str())
    .bind(CaseStatus::Registered.as_str())
    .bind(form)
    .bind(request.submitted_at)
    .bind(at)
    .bind(request.source.as_str())
    .bind(request.reply_email.as_ref().map(|e| e.as_str()))
    .bind(registered_by)
    // Registered while handling the form (or an operator's request): its trace.
    .bind(kit::propagation::current_traceparent())
    .execute(&mut *conn)
    .await?;
    case_status_history_insert_in_txn(conn, case_number, CaseStatus::Registered, at).await
}

pub async fn case_status_history_insert_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    status: CaseStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO case_status_history (case_number, status, at) VALUES ($1, $2, $3)")
        .bind(case_number)
        .bind(status.as_str())
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn rejected_form_insert_in_txn(
    conn: &mut PgConnection,
    correlation: &str,
    subject: &str,
    rejection: &Rejection,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rejected_forms (correlation, subject, field, code, message, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(correlation)
    .bind(subject)
    .bind(&rejection.field)
    .bind(&rejection.code)
    .bind(&rejection.message)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    case_number: String,
    #[sqlx(try_from = "String")]
    procedure: Procedure,
    document_id: String,
    #[sqlx(try_from = "String")]
    status: CaseStatus,
    institution_rspo_id: String,
    target_login: String,
    registered_at: DateTime<Utc>,
    rejection: Option<sqlx::types::Json<Rejection>>,
}

#[tracing::instrument(skip_all)]
pub async fn case_view(pool: &PgPool, case_number: &str) -> Result<Option<CaseView>, sqlx::Error> {
    let Some(row): Option<CaseRow> = sqlx::query_as(
        "SELECT case_number, procedure, document_id, status, institution_rspo_id, target_login,
                registered_at, rejection
         FROM cases WHERE case_number = $1",
    )
    .bind(case_number)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let history: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT status, at FROM case_status_history WHERE case_number = $1 ORDER BY id",
    )
    .bind(case_number)
    .fetch_all(pool)
    .await?;
    Ok(Some(CaseView {
        status: row.status,
        case_number: row.case_number,
        procedure: row.procedure.code().to_owned(),
        document_id: row.document_id,
        institution_rspo_id: row.institution_rspo_id,
        target_login: row.target_login,
        registered_at: row.registered_at,
        reason: row.rejection.map(|r| r.0),
        history: history
            .into_iter()
            .filter_map(|(status, at)| {
                Some(StatusEntry {
                    status: CaseStatus::parse(&status)?,
                    at,
                })
            })
            .collect(),
    }))
}

/// The SEOD document and status of a case, locked for this transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct LockedCase {
    pub document_id: String,
    #[sqlx(try_from = "String")]
    pub status: CaseStatus,
}

pub async fn case_lock_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<LockedCase>, sqlx::Error> {
    sqlx::query_as("SELECT document_id, status FROM cases WHERE case_number = $1 FOR UPDATE")
        .bind(case_number)
        .fetch_optional(conn)
        .await
}

pub async fn case_verified_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET verified_at = $2, updated_at = $2 WHERE case_number = $1 AND verified_at IS NULL")
        .bind(case_number)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a case as `rejected` or `failed`, keeping the reason for whoever looks it up.
pub async fn case_ended_with_reason_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    status: CaseStatus,
    reason: &Rejection,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET status = $2, rejection = $3, updated_at = $4 WHERE case_number = $1",
    )
    .bind(case_number)
    .bind(status.as_str())
    .bind(sqlx::types::Json(reason))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    case_status_history_insert_in_txn(conn, case_number, status, at).await
}

/// Closes a failed, refused or expired case with the administrator's note.
pub async fn case_closed_with_note_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    by: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET closed_by = $2, closing_note = $3 WHERE case_number = $1")
        .bind(case_number)
        .bind(by)
        .bind(note)
        .execute(&mut *conn)
        .await?;
    case_status_set_in_txn(conn, case_number, CaseStatus::Closed, at).await
}

/// The contact data accounts updated from this case's request.
pub async fn case_contact_updates_set_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    updates: &[contracts::events::ContactUpdate],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET contact_updates = $2 WHERE case_number = $1")
        .bind(case_number)
        .bind(sqlx::types::Json(updates))
        .execute(conn)
        .await?;
    Ok(())
}

/// Serialises registrations for one account until this transaction ends.
pub async fn account_lock_in_txn(
    conn: &mut PgConnection,
    procedure: Procedure,
    target_login: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("open-case:{}:{target_login}", procedure.code()))
        .execute(conn)
        .await?;
    Ok(())
}

/// The case still open for an account, if any: its number and status.
pub async fn case_open_for_account_in_txn(
    conn: &mut PgConnection,
    procedure: Procedure,
    target_login: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT case_number, status FROM cases
         WHERE procedure = $1 AND target_login = $2
           AND status NOT IN ('closed', 'rejected', 'expired', 'failed')
         ORDER BY registered_at LIMIT 1",
    )
    .bind(procedure.code())
    .bind(target_login)
    .fetch_optional(conn)
    .await
}

/// Moves a case to `status` and records it in the history.
pub async fn case_status_set_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    status: CaseStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET status = $2, updated_at = $3 WHERE case_number = $1")
        .bind(case_number)
        .bind(status.as_str())
        .bind(at)
        .execute(&mut *conn)
        .await?;
    case_status_history_insert_in_txn(conn, case_number, status, at).await
}

#[derive(Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QueueEntry {
    pub case_number: String,
    #[sqlx(try_from = "String")]
    pub procedure: Procedure,
    #[sqlx(try_from = "String")]
    pub status: CaseStatus,
    pub institution_rspo_id: String,
    pub institution_name: String,
    pub requester_login: String,
    pub target_login: String,
    #[sqlx(try_from = "String")]
    pub delivery_mode: DeliveryMode,
    pub registered_at: DateTime<Utc>,
    pub taken_by: Option<String>,
}

/// Which cases a list shows: the open ones (verified, waiting or taken) by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueStatus {
    #[default]
    Open,
    Waiting,
    Taken,
    /// Realised and everything after it: delivered, collected, closed.
    Realised,
    /// Failed, expired or refused.
    Failed,
    All,
}

impl QueueStatus {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => Self::Open,
            "waiting" => Self::Waiting,
            "taken" => Self::Taken,
            "realised" => Self::Realised,
            "failed" => Self::Failed,
            "all" => Self::All,
            _ => return None,
        })
    }

    fn condition(self) -> &'static str {
        match self {
            Self::Open => "status IN ('registered', 'taken') AND verified_at IS NOT NULL",
            Self::Waiting => "status = 'registered' AND verified_at IS NOT NULL",
            Self::Taken => "status = 'taken'",
            Self::Realised => "status IN ('realised', 'delivered', 'collected', 'closed')",
            Self::Failed => "status IN ('failed', 'expired', 'rejected')",
            Self::All => "TRUE",
        }
    }
}

/// What a page of the queue is chosen by.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: QueueStatus,
    pub procedure: Option<Procedure>,
    /// An RSPO number, or a part of the institution's name (any case).
    pub institution: Option<String>,
    /// Only cases registered at least this many days ago.
    pub older_than_days: Option<u32>,
    pub newest_first: bool,
    pub offset: u64,
    pub limit: u64,
}

/// A page of the cases `filter` chooses, oldest first unless asked otherwise, and how many
/// there are in all.
pub async fn queue_list(
    pool: &PgPool,
    filter: &QueueFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<QueueEntry>, u64), sqlx::Error> {
    let mut query = sqlx::QueryBuilder::new(
        "SELECT case_number, procedure, status, institution_rspo_id, institution_name, requester_login,
                target_login, delivery_mode, registered_at, taken_by, count(*) OVER () AS total
         FROM cases WHERE ",
    );
    query.push(filter.status.condition());
    if let Some(procedure) = filter.procedure {
        query.push(" AND procedure = ").push_bind(procedure.code());
    }
    if let Some(institution) = &filter.institution {
        let pattern = format!(
            "%{}%",
            institution
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query
            .push(" AND (institution_rspo_id = ")
            .push_bind(institution.clone())
            .push(" OR institution_name ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    if let Some(days) = filter.older_than_days {
        query
            .push(" AND registered_at <= ")
            .push_bind(now - chrono::Duration::days(i64::from(days)));
    }
    query.push(if filter.newest_first {
        " ORDER BY registered_at DESC, case_number DESC"
    } else {
        " ORDER BY registered_at, case_number"
    });
    query
        .push(" LIMIT ")
        .push_bind(filter.limit as i64)
        .push(" OFFSET ")
        .push_bind(filter.offset as i64);
    let rows: Vec<QueueRow> = query.build_query_as().fetch_all(pool).await?;
    let total = rows.first().map_or(0, |row| row.total as u64);
    Ok((rows.into_iter().map(|row| row.entry).collect(), total))
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    #[sqlx(flatten)]
    entry: QueueEntry,
    total: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ProcessingRow {
    pub document_id: String,
    #[sqlx(try_from = "String")]
    pub status: CaseStatus,
    #[sqlx(try_from = "String")]
    pub procedure: Procedure,
    pub institution_rspo_id: String,
    pub target_login: String,
    #[sqlx(try_from = "String")]
    pub delivery_mode: DeliveryMode,
    pub verified: bool,
    pub taken_by: Option<String>,
    pub realisation_requested: bool,
    pub registered_by: Option<String>,
    pub delivery_agreed_by: Option<String>,
    pub proxy_name: Option<String>,
    pub proxy_f01_reference: Option<String>,
    /// The trace of the form that opened the case.
    pub form_trace_parent: Option<String>,
}

pub async fn case_for_processing_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<ProcessingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT document_id, status, procedure, institution_rspo_id, target_login, delivery_mode,
                verified_at IS NOT NULL AS verified, taken_by,
                realisation_requested_at IS NOT NULL AS realisation_requested,
                registered_by, delivery_agreed_by, proxy_name, proxy_f01_reference,
                form_trace_parent
         FROM cases WHERE case_number = $1 FOR UPDATE",
    )
    .bind(case_number)
    .fetch_optional(conn)
    .await
}

/// Records that the requester agreed to collection in person, who recorded it and how.
#[tracing::instrument(skip_all, fields(case_number))]
pub async fn case_delivery_agreement_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    recorded_by: &str,
    how: &str,
    proxy: Option<(&str, &str)>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET delivery_agreed_by = $2, delivery_agreement = $3, delivery_agreed_at = $4,
            proxy_name = $5, proxy_f01_reference = $6, updated_at = $4
         WHERE case_number = $1",
    )
    .bind(case_number)
    .bind(recorded_by)
    .bind(how)
    .bind(at)
    .bind(proxy.map(|p| p.0))
    .bind(proxy.map(|p| p.1))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn case_taken_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET taken_by = $2, taken_at = $3 WHERE case_number = $1")
        .bind(case_number)
        .bind(by)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    case_status_set_in_txn(conn, case_number, CaseStatus::Taken, at).await
}

pub async fn case_realisation_requested_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
    by: &str,
    delivery_mode: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET realisation_requested_by = $2, realisation_requested_at = $3, delivery_mode = $4,
            updated_at = $3 WHERE case_number = $1",
    )
    .bind(case_number)
    .bind(by)
    .bind(at)
    .bind(delivery_mode)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct CaseOrigin {
    #[sqlx(try_from = "String")]
    pub procedure: Procedure,
    #[sqlx(try_from = "String")]
    pub source: RequestSource,
}

pub async fn case_procedure_and_source_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<CaseOrigin>, sqlx::Error> {
    sqlx::query_as("SELECT procedure, source FROM cases WHERE case_number = $1")
        .bind(case_number)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct ReplyTarget {
    pub reply_email: String,
    #[sqlx(try_from = "String")]
    pub procedure: Procedure,
    pub institution_rspo_id: String,
    pub institution_name: String,
    pub target_login: String,
    #[sqlx(try_from = "String")]
    pub delivery_mode: DeliveryMode,
}

/// What the confirmation e-mail of an e-mailed request needs; `None` for other requests.
pub async fn case_reply_target_in_txn(
    conn: &mut PgConnection,
    case_number: &str,
) -> Result<Option<ReplyTarget>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reply_email, procedure, institution_rspo_id, institution_name, target_login,
                delivery_mode
         FROM cases WHERE case_number = $1 AND reply_email IS NOT NULL",
    )
    .bind(case_number)
    .fetch_optional(conn)
    .await
}
