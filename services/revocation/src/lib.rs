//! revocation: the register of authorisations to the SIO database, revocation requests in
//! both modes, the communication panel's outbox of every local database, the authorising
//! body's review, and the central register that revokes (procedure D, seeds 003 and 004).

pub mod central;
pub mod communication;
pub mod domain;
pub mod error;
pub mod http;
pub mod import;
pub mod startup;
pub mod store;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "revocation";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
