//! intake's one error type. It knows nothing of HTTP or NATS: `http::problem` turns it into
//! a problem for a person, and the consumer into a retry or a dead letter (`retryable`).

use contracts::envelope::DecodeError;
use kit::error::Retryable;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Nie ma sprawy o numerze {0}.")]
    NotFound(String),
    /// The case is not in a state that allows this step (in Polish, for the person).
    #[error("{0}")]
    Conflict(String),
    /// The rule that duties are separated refuses this person this step.
    #[error("{0}")]
    Duty(String),
    /// A message that can never be handled as it is (it names no case, it is not what its
    /// subject promises): kept as a dead letter with this reason.
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Undecodable(#[from] DecodeError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Retryable for Error {
    fn retryable(&self) -> bool {
        match self {
            Error::Database(e) => e.retryable(),
            Error::NotFound(_)
            | Error::Conflict(_)
            | Error::Duty(_)
            | Error::Unusable(_)
            | Error::Undecodable(_) => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
