//! accounts' one error type. It knows nothing of HTTP or NATS: `http::problem` turns it
//! into a problem for the person who asked, and the consumer into a retry or a dead letter.

use contracts::envelope::DecodeError;
use kit::error::Retryable;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A message that can never be handled as it is (a realisation accounts did not
    /// verify, or a second one): kept as a dead letter with this reason.
    #[error("{0}")]
    Unusable(String),
    /// Something needed now was briefly unavailable (the random generator, the hashing
    /// pool, the sealing): the same attempt may pass later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Undecodable(#[from] DecodeError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Error {
    pub fn unavailable(error: impl std::fmt::Display) -> Self {
        Error::Unavailable(error.to_string())
    }
}

impl Retryable for Error {
    fn retryable(&self) -> bool {
        match self {
            Error::Database(e) => e.retryable(),
            Error::Unavailable(_) => true,
            Error::Unusable(_) | Error::Undecodable(_) => false,
        }
    }
}
