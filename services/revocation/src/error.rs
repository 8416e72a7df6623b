//! revocation's one error type. It knows nothing of HTTP or NATS: `http::problem` turns it
//! into a problem for the person who asked, and the consumer into a retry or a dead letter.

use contracts::envelope::DecodeError;
use kit::error::Retryable;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A message that can never be handled as it is (a form the register never sent).
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
            Error::Unusable(_) | Error::Undecodable(_) => false,
        }
    }
}
