//! The register of security incidents at work: opening one automatically from a newly
//! recorded event, opening one by hand, and moving its status forward. Each of these is
//! itself recorded in the chain, in the same transaction.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use kit::auth::Role;
use sqlx::{PgConnection, PgPool};

use crate::domain::chain::StoredRecord;
use crate::domain::incidents::{
    self, AutomaticIncident, Incident, IncidentNumber, IncidentStatus, NewIncident, StatusChange,
};
use crate::error::Error;
use crate::ledger;
use crate::store::incidents as store;
use crate::store::records;

/// When failed logins open an incident (`audit.failed_login_threshold` and
/// `audit.failed_login_window_secs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentRules {
    /// This many failed logins of one login within the window open an incident.
    pub failed_login_threshold: u32,
    pub failed_login_window_secs: u64,
}

impl Default for IncidentRules {
    fn default() -> Self {
        Self {
            failed_login_threshold: 5,
            failed_login_window_secs: 900,
        }
    }
}

/// Applies the automatic rules to a record just appended in this transaction. Call it only
/// for a record that was appended now (not for a redelivered one), so a message opens at
/// most one incident.
pub async fn on_record_in_txn(
    conn: &mut PgConnection,
    record: &StoredRecord,
    rules: &IncidentRules,
    now: DateTime<Utc>,
) -> Result<Option<IncidentNumber>, sqlx::Error> {
    let Some(rule) = incidents::rule_for(record) else {
        return Ok(None);
    };
    let new = match rule {
        AutomaticIncident::Open(new) => new,
        AutomaticIncident::AddToCase {
            case_number,
            position,
            otherwise,
        } => {
            let category = incidents::IncidentCategory::StartingPasswordLoss;
            match store::incident_of_case_in_txn(conn, category, &case_number).await? {
                Some(number) => {
                    store::incident_record_link_in_txn(conn, number, position, now).await?;
                    return Ok(Some(number));
                }
                None => match otherwise {
                    Some(new) => new,
                    None => return Ok(None),
                },
            }
        }
        AutomaticIncident::CountFailedLogins {
            login,
            at,
            mut incident,
        } => {
            let window = TimeDelta::try_seconds(
                i64::try_from(rules.failed_login_window_secs).unwrap_or(i64::MAX),
            )
            .unwrap_or(TimeDelta::MAX);
            let from = at
                .checked_sub_signed(window)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let count = store::failed_logins_count_in_txn(conn, &login, from, at).await?;
            if count < i64::from(rules.failed_login_threshold) {
                return Ok(None);
            }
            // One open incident per login is enough: further failures add nothing new
            // until it is closed.
            if store::incident_open_exists_in_txn(conn, incident.category, &login).await? {
                return Ok(None);
            }
            incident.description =
                incidents::failed_logins_description(&login, count, rules.failed_login_window_secs);
            incident
        }
    };
    open_in_txn(conn, &new, now).await.map(Some)
}

/// Numbers and registers `new`, and records the opening in the chain.
pub async fn open_in_txn(
    conn: &mut PgConnection,
    new: &NewIncident,
    now: DateTime<Utc>,
) -> Result<IncidentNumber, sqlx::Error> {
    // The chain head first, as every append takes it: an incident opened by hand and one
    // opened by a consumer then never wait for each other's locks in opposite order.
    records::chain_head_lock_in_txn(conn).await?;
    let year = now.year();
    let sequence = store::incident_counter_next_in_txn(conn, year).await?;
    let number = IncidentNumber { year, sequence };
    store::incident_insert_in_txn(conn, number, new, now).await?;
    ledger::append_in_txn(conn, incidents::opened_record(number, new, now), now).await?;
    tracing::info!(%number, category = %new.category, "security incident opened");
    Ok(number)
}

/// Opens an incident by hand and returns it as registered.
pub async fn open(
    pool: &PgPool,
    new: &NewIncident,
    now: DateTime<Utc>,
) -> Result<Incident, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let number = open_in_txn(&mut tx, new, now).await?;
    let incident = store::incident_find_in_txn(&mut tx, number)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(incident)
}

/// Moves the incident's status forward, records the change in the chain, and returns the
/// incident as it now is.
pub async fn change_status_in_txn(
    conn: &mut PgConnection,
    number: IncidentNumber,
    change: &StatusChange,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Incident, Error> {
    records::chain_head_lock_in_txn(conn).await?;
    let current = store::incident_status_lock_in_txn(conn, number)
        .await?
        .ok_or(Error::IncidentNotFound(number))?;
    change
        .check(current)
        .map_err(|refusal| Error::Refused { number, refusal })?;
    if change.status == IncidentStatus::Closed {
        refuse_closing_by_a_party(conn, number, &change.by, role).await?;
    }
    store::incident_status_update_in_txn(conn, number, change, now).await?;
    let incident = store::incident_find_in_txn(conn, number)
        .await?
        .ok_or(Error::IncidentNotFound(number))?;
    ledger::append_in_txn(
        conn,
        incidents::status_changed_record(&incident, current, change, now),
        now,
    )
    .await?;
    tracing::info!(%number, from = %current, to = %change.status, "security incident status changed");
    Ok(incident)
}

/// An incident opened automatically for a case (a realised password reset) is closed by an
/// auditor who did not act on the case: whoever took part cannot close his own incident.
async fn refuse_closing_by_a_party(
    conn: &mut PgConnection,
    number: IncidentNumber,
    by: &str,
    role: Role,
) -> Result<(), Error> {
    let incident = store::incident_find_in_txn(conn, number)
        .await?
        .ok_or(Error::IncidentNotFound(number))?;
    if !incident.opened_automatically || incident.case_numbers.is_empty() {
        return Ok(());
    }
    if role != Role::Auditor {
        return Err(Error::Duty(format!(
            "Incydent {number} otwarty automatycznie dla sprawy {} zamyka audytor.",
            incident.case_numbers.join(", ")
        )));
    }
    if records::actor_in_cases_in_txn(conn, by, &incident.case_numbers).await? {
        return Err(Error::Duty(format!(
            "{by} brał(a) udział w sprawie {}; incydent {number} musi zamknąć audytor, który \
             w niej nie uczestniczył.",
            incident.case_numbers.join(", ")
        )));
    }
    Ok(())
}

/// [`change_status_in_txn`] in a transaction of its own.
pub async fn change_status(
    pool: &PgPool,
    number: IncidentNumber,
    change: &StatusChange,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Incident, Error> {
    let mut tx = pool.begin().await?;
    let incident = change_status_in_txn(&mut tx, number, change, role, now).await?;
    tx.commit().await?;
    Ok(incident)
}
