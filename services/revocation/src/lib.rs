//! revocation: SIO authorisations and their revocation requests, the communication
//! panel's outbox, and the review by the authorising body (procedure D). It follows the
//! accounts' events; the procedure itself comes with its own issue.

pub mod http;
pub mod startup;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "revocation";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
