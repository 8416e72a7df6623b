//! audit: the trusted record. Every message of every stream is recorded once, minimised,
//! in a hash chain whose head is signed periodically and kept outside the database too;
//! verification names the first record changed, removed or inserted. Some records open a
//! security incident in the register kept beside the chain.

pub mod bus;
pub mod checkpointer;
pub mod domain;
pub mod error;
pub mod http;
pub mod incidents;
pub mod ledger;
pub mod retention;
pub mod startup;
pub mod store;
pub mod verification;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "audit";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
