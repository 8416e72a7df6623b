//! audit's one error type. It knows nothing of HTTP or NATS: `http::problem` turns it into
//! a problem for the auditor, and the consumer into a retry or a dead letter.

use kit::error::Retryable;

use crate::domain::incidents::{IncidentNumber, TransitionError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no incident {0}")]
    IncidentNotFound(IncidentNumber),
    /// The incident's status may not move this way.
    #[error("incident {number}: {}", refusal.message())]
    Refused {
        number: IncidentNumber,
        refusal: TransitionError,
    },
    /// Duties are separated: this person may not close this incident (the reason, in Polish).
    #[error("{0}")]
    Duty(String),
    #[error("nothing is old enough to prune")]
    NothingToPrune,
    #[error("record {0} is not older than the retention period")]
    TooRecent(i64),
    #[error("the export's SHA-256 does not match the segment up to record {0}")]
    ExportMismatch(i64),
    #[error("the chain up to record {0} does not verify; nothing is pruned")]
    ChainBroken(i64),
    /// No checkpoint is signed over a chain that does not extend the newest one kept outside
    /// the database.
    #[error(
        "the chain no longer extends the checkpoint kept outside the database at position {outside}: {why}"
    )]
    ChainDoesNotExtend { outside: i64, why: &'static str },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Retryable for Error {
    fn retryable(&self) -> bool {
        match self {
            Error::Database(e) => e.retryable(),
            _ => false,
        }
    }
}
