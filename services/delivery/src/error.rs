//! delivery's one error type. It knows nothing of HTTP or NATS: `http::problem` turns it
//! into a problem for the operator, and the consumer into a retry or a dead letter.

use contracts::envelope::DecodeError;
use kit::error::Retryable;

/// Why a letter was not handed over, or a message not handled. The desk's messages are
/// Polish, for the operator; none holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// delivery holds no credentials for this case.
    #[error(
        "Nie ma danych dostępowych do odbioru w sprawie {0}: sprawa nie istnieje albo hasło \
         startowe nie zostało jeszcze wygenerowane."
    )]
    NotFound(String),
    /// The case is not waiting for collection (collected, expired, electronic, …).
    #[error("{0}")]
    Conflict(String),
    /// The collector is not whom the case names, or the operator realised the case.
    #[error("{0}")]
    Refused(String),
    /// The letter could not be made (a character no font has, …): nothing changed.
    #[error("the letter cannot be rendered: {0}")]
    Letter(String),
    /// A message that can never be handled as it is (its seal opens nothing, it names no
    /// case): kept as a dead letter with this reason.
    #[error("{0}")]
    Unusable(String),
    /// The system's randomness or sealing failed: worth another try.
    #[error("{0}")]
    Crypto(String),
    #[error(transparent)]
    Undecodable(#[from] DecodeError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Retryable for Error {
    fn retryable(&self) -> bool {
        match self {
            Error::Database(e) => e.retryable(),
            Error::Crypto(_) => true,
            Error::NotFound(_)
            | Error::Conflict(_)
            | Error::Refused(_)
            | Error::Letter(_)
            | Error::Unusable(_)
            | Error::Undecodable(_) => false,
        }
    }
}
