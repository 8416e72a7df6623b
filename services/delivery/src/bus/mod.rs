//! Subjects delivery consumes: what arrives, what it changes, in the consumer's transaction.

pub mod credentials;

pub use credentials::CredentialsHandler;
