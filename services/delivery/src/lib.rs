//! delivery: dispatches credentials: an encrypted letter by e-mail (SMTP) with the cipher
//! password by SMS (HTTP gateway), or a printed letter collected in person. It consumes
//! issued credentials (`bus`), keeps each case in `deliveries` (`store`) and sends them
//! from a worker of its own (`dispatch`) or hands them over at the desk (`collection`,
//! served by `http`). It also e-mails a notice after a password change.

pub mod bus;
pub mod collection;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
/// The letters are drawn by the shared `letters` crate (accounts draws the hand-over sheet).
pub use letters as letter;
pub mod preparation;
pub mod startup;
pub mod store;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "delivery";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");

/// rustls (used by lettre and reqwest here) is built without a bundled crypto provider, so
/// that aws-lc stays out of the build: ring is installed once per process. Called again
/// (or after another part installed ring) it does nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
