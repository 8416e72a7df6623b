//! Subjects delivery consumes: what arrives, what it changes, in the consumer's transaction.

pub mod credentials;
pub mod password_changed;
pub mod replies;

pub use credentials::CredentialsHandler;
pub use password_changed::{DELIVERY_NOTICES, PasswordChangedHandler};
pub use replies::ReplyRequestedHandler;
