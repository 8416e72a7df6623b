//! What a service's error says about itself, without knowing HTTP or NATS: whether the
//! same attempt may succeed later. The consumer turns that into a retry or a dead letter
//! (`consumer::HandleError`), and each service's HTTP layer into a problem.

/// An error that knows whether trying again may help.
pub trait Retryable: std::error::Error {
    fn retryable(&self) -> bool;
}

/// A message that is not the event its subject promises stays so.
impl Retryable for contracts::envelope::DecodeError {
    fn retryable(&self) -> bool {
        false
    }
}

impl Retryable for sqlx::Error {
    /// A broken integrity constraint (SQLSTATE class 23: unique, foreign key, check, not
    /// null) fails the same way every time; anything else (a lost connection, a deadlock,
    /// a timeout) may pass.
    fn retryable(&self) -> bool {
        !self
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code.starts_with("23"))
    }
}
