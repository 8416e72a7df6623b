//! The communication panel's moves, each written with its event in the caller's
//! transaction: a new form (sent at once where the local database sends by itself),
//! sending, and the status check.

use chrono::{DateTime, Utc};
use contracts::revocation::events::{FormCompleted, FormKind, FormSent, RevocationDecision};
use contracts::{Actor, Envelope};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::panel;
use crate::store::register::LocalDatabase;

/// Puts a form in the local database's "Do wysłania"; a database that sends by itself
/// sends it at once.
pub async fn add_form(
    conn: &mut PgConnection,
    database: &LocalDatabase,
    request: Uuid,
    kind: FormKind,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    panel::insert(conn, id, &database.id, request, kind.code(), at).await?;
    if database.auto_send {
        send(conn, &database.id, &[id], actor, at).await?;
    }
    Ok(id)
}

/// Sends the chosen forms of "Do wysłania"; returns how many left. The central system
/// reads them from the bus.
pub async fn send(
    conn: &mut PgConnection,
    database: &str,
    ids: &[Uuid],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let by = actor.id.clone().unwrap_or_default();
    let moved = panel::send(conn, database, ids, &by, at).await?;
    for id in &moved {
        let Some(form) = panel::one(conn, *id).await? else {
            continue;
        };
        let kind = FormKind::parse(&form.kind).unwrap_or(FormKind::Request);
        let decision = match kind {
            FormKind::Decision => form.decision.as_deref().and_then(RevocationDecision::parse),
            _ => None,
        };
        let event = Envelope::new(
            actor.clone(),
            at,
            FormSent {
                form_id: form.id,
                kind,
                request_id: form.request_id,
                local_database_id: database.to_owned(),
                decision,
            },
        );
        kit::outbox::outbox_insert_event(conn, &event).await?;
    }
    Ok(moved.len())
}

/// Checks the delivery status of the chosen forms of "Wysłane": those the central system
/// acknowledged move to "Zakończone" (a mode-2 request only once the authorising body's
/// decision is there too). Returns how many moved.
pub async fn check(
    conn: &mut PgConnection,
    database: &str,
    ids: &[Uuid],
    actor: &Actor,
    at: DateTime<Utc>,
    automatic: bool,
) -> Result<usize, sqlx::Error> {
    let done = panel::complete(conn, database, ids, at).await?;
    for (form_id, kind, request_id) in &done {
        let event = Envelope::new(
            actor.clone(),
            at,
            FormCompleted {
                form_id: *form_id,
                kind: FormKind::parse(kind).unwrap_or(FormKind::Request),
                request_id: *request_id,
                local_database_id: database.to_owned(),
                automatic,
            },
        );
        kit::outbox::outbox_insert_event(conn, &event).await?;
    }
    Ok(done.len())
}
