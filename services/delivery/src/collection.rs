//! The collection desk: credentials delivered in person (procedure A step 5). A case
//! realised with `delivery = in_person` waits here, still sealed, until an operator hands
//! the printed letter to the requester, the user concerned, or a proxy with form F-01
//! (who shows an identity document); or until its starting password expires.
//!
//! # Once, and only once
//!
//! A collection is one transaction, on the case's row locked `FOR UPDATE`: the sealed copy
//! is opened and the letter rendered (before anything is written, so a failure changes
//! nothing), then the collection is recorded, the case becomes `collected`, its sealed
//! copy is wiped and `delivery.dispatch.completed` (`in_person`, the operator as actor)
//! goes into the outbox. Only after the commit is the letter handed back, unencrypted, for
//! printing. A second collection waits on the lock and then finds the case collected.
//! The letter is never stored or logged; a response lost after the commit cannot be
//! repeated (the copy is gone): a new starting password is then needed.
//!
//! # Expiry
//!
//! A worker marks letters nobody collected before their starting password expired as
//! `expired`, wipes their sealed copy and publishes `delivery.dispatch.failed` with
//! [`UNCOLLECTED_REASON`]: the contracts have no event of their own for it, and this one
//! makes intake fail the case and tell SEOD why.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::Actor;
use contracts::envelope::ActorKind;
use contracts::events::{CollectionRefused, DispatchCompleted, DispatchFailed};
use contracts::forms::DeliveryMode;
use kit::clock::Clock;
use kit::outbox::outbox_insert_event;
use secrecy::zeroize::Zeroizing;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::collection::Collection;
use crate::domain::collection::{Entitled, check_collector};
use crate::domain::status::DeliveryStatus;
use crate::domain::texts::{UNCOLLECTED_REASON, attachment_name};
use crate::error::Error;
use crate::events;
use crate::letter::{LetterError, polish_date_time, render_pdf};
use crate::preparation::letter_content;
use crate::store::collections::{
    AwaitingCollection, collection_find_in_txn, collection_record_in_txn, collections_awaiting,
    deliveries_expire_uncollected_in_txn, delivery_lock_in_txn,
};
use crate::store::deliveries::DeliveryRow;

fn conflict(message: impl Into<String>) -> Error {
    Error::Conflict(message.into())
}

/// The operator handing a letter over, from his signed token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub login: String,
    pub role: String,
}

/// The printable letter: the unencrypted PDF (wiped when dropped) and its file name.
pub struct PrintedLetter {
    pub file_name: String,
    pub pdf: Zeroizing<Vec<u8>>,
}

pub struct Desk {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    seal_key: crate::domain::credentials::SealKeys,
    outbox_wake: Arc<Notify>,
    /// How often the expiry worker looks, and how many cases it expires per transaction.
    poll_interval: Duration,
    batch: i64,
}

/// Whom `row`'s letter may go to (see `check_collector`).
fn entitled(row: &DeliveryRow) -> Entitled<'_> {
    Entitled {
        realised_by: row.realised_by.as_deref(),
        director_name: row.director_name.as_deref(),
        user_name: match (&row.first_name, &row.last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            _ => None,
        },
        proxy: row
            .proxy_name
            .as_deref()
            .zip(row.proxy_f01_reference.as_deref()),
    }
}

impl Desk {
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        seal_key: crate::domain::credentials::SealKeys,
        outbox_wake: Arc<Notify>,
        poll_interval: Duration,
        batch: i64,
    ) -> Self {
        Self {
            pool,
            clock,
            seal_key,
            outbox_wake,
            poll_interval,
            batch,
        }
    }

    /// Letters waiting to be collected whose starting password is still valid.
    pub async fn awaiting(&self) -> Result<Vec<AwaitingCollection>, sqlx::Error> {
        collections_awaiting(&self.pool, self.clock.now()).await
    }

    /// Hands over `case_number`'s letter (see the module's documentation).
    pub async fn collect(
        &self,
        case_number: &str,
        collection: &Collection,
        operator: &Operator,
    ) -> Result<PrintedLetter, Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let row = delivery_lock_in_txn(&mut tx, case_number)
            .await?
            .ok_or_else(|| Error::NotFound(case_number.to_owned()))?;
        if let Some(refusal) = self.refusal(&mut tx, &row, now).await? {
            return Err(refusal);
        }
        let actor = Actor {
            kind: ActorKind::Person,
            id: Some(operator.login.clone()),
            role: Some(operator.role.clone()),
        };
        if let Err(refusal) = check_collector(&entitled(&row), collection, &operator.login) {
            // Nothing is handed over; the refusal itself is recorded (audit reads it).
            let event = events::about_case(
                actor,
                &row,
                now,
                CollectionRefused {
                    case_number: case_number.to_owned(),
                    code: refusal.code.to_owned(),
                    reason: refusal.reason.clone(),
                },
            );
            outbox_insert_event(&mut tx, &event).await?;
            tx.commit().await?;
            self.outbox_wake.notify_one();
            tracing::warn!(case_number, operator = %operator.login, code = refusal.code, "collection refused");
            return Err(Error::Refused(refusal.reason));
        }
        let pdf = self.render(&row).await?;
        if !collection_record_in_txn(&mut tx, case_number, collection, &operator.login, now).await?
        {
            return Err(conflict(format!(
                "Dane dostępowe w sprawie {case_number} przestały czekać na odbiór."
            )));
        }
        let event = events::about_case(
            actor,
            &row,
            now,
            DispatchCompleted {
                case_number: case_number.to_owned(),
                delivery: DeliveryMode::InPerson,
                completed_at: now,
            },
        );
        outbox_insert_event(&mut tx, &event).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        tracing::info!(
            case_number,
            operator = %operator.login,
            collected_by = collection.collected_by.as_str(),
            "letter collected in person; the sealed copy is wiped"
        );
        Ok(PrintedLetter {
            file_name: attachment_name(case_number, "pdf"),
            pdf,
        })
    }

    /// Why `row` cannot be collected now, if it cannot.
    async fn refusal(
        &self,
        tx: &mut sqlx::PgConnection,
        row: &DeliveryRow,
        now: DateTime<Utc>,
    ) -> Result<Option<Error>, sqlx::Error> {
        let case = &row.case_number;
        let expired = || {
            conflict(format!(
                "Hasło startowe w sprawie {case} wygasło ({}), zanim pismo zostało odebrane; \
                 dane dostępowe zostały zniszczone. Potrzebny jest nowy wniosek o hasło startowe.",
                polish_date_time(row.expires_at)
            ))
        };
        Ok(match row.status {
            _ if row.delivery_mode != DeliveryMode::InPerson => Some(conflict(format!(
                "Dane dostępowe w sprawie {case} są doręczane elektronicznie (zaszyfrowany \
                 e-mail i SMS); nie ma pisma do odbioru osobistego."
            ))),
            DeliveryStatus::AwaitingCollection if now >= row.expires_at => Some(expired()),
            DeliveryStatus::AwaitingCollection => None,
            DeliveryStatus::Collected => {
                let done = collection_find_in_txn(tx, case).await?;
                let when = done
                    .map(|d| {
                        format!(
                            " {} (wydał: {})",
                            polish_date_time(d.collected_at),
                            d.operator_login
                        )
                    })
                    .unwrap_or_default();
                Some(conflict(format!(
                    "Pismo z danymi dostępowymi w sprawie {case} zostało już odebrane{when}. \
                     Pismo wydaje się tylko raz; jeżeli zaginęło, potrzebny jest nowy wniosek \
                     o hasło startowe."
                )))
            }
            DeliveryStatus::Expired => Some(expired()),
            _ => Some(conflict(format!(
                "Dane dostępowe w sprawie {case} nie czekają na odbiór osobisty (stan: {}).",
                row.status.polish()
            ))),
        })
    }

    /// Opens the sealed copy and renders the plain letter; nothing is written.
    async fn render(&self, row: &DeliveryRow) -> Result<Zeroizing<Vec<u8>>, Error> {
        let case = row.case_number.as_str();
        let unusable = |why: &str| {
            tracing::error!(
                case_number = case,
                why,
                "the sealed credentials cannot be used"
            );
            conflict(format!(
                "Nie można otworzyć zapieczętowanych danych dostępowych w sprawie {case}, więc \
                 pisma nie można wydrukować; potrzebne jest nowe hasło startowe."
            ))
        };
        let content = letter_content(&self.seal_key, row).map_err(|e| unusable(&e.to_string()))?;
        // Rendering subsets fonts and compresses: kept off the async workers.
        let rendered =
            tokio::task::spawn_blocking(move || render_pdf(&content).map(Zeroizing::new))
                .await
                .map_err(|e| Error::Letter(format!("the rendering task failed: {e}")))?;
        rendered.map_err(|e: LetterError| Error::Letter(e.to_string()))
    }

    /// Expires the letters nobody collected in time; returns how many.
    pub async fn expire_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let rows = deliveries_expire_uncollected_in_txn(&mut tx, now, self.batch).await?;
        for row in &rows {
            let event = events::about_case(
                Actor::system(crate::SERVICE),
                row,
                now,
                DispatchFailed {
                    case_number: row.case_number.clone(),
                    reason: UNCOLLECTED_REASON.to_owned(),
                },
            );
            outbox_insert_event(&mut tx, &event).await?;
        }
        tx.commit().await?;
        if !rows.is_empty() {
            self.outbox_wake.notify_one();
        }
        for row in &rows {
            tracing::warn!(
                case_number = %row.case_number,
                expires_at = %row.expires_at,
                "the letter was not collected before the starting password expired; the sealed copy is wiped"
            );
        }
        Ok(rows.len())
    }

    /// Expires uncollected letters until `stop` fires.
    pub async fn run_expiry(self: Arc<Self>, stop: CancellationToken) {
        crate::dispatch::polling::poll_until_stopped(
            "collection expiry",
            self.poll_interval,
            self.batch,
            stop,
            || self.expire_due(),
        )
        .await;
    }
}
