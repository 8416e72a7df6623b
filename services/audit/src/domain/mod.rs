//! Audit's rules, without I/O: what is kept of a message, how records are chained and
//! signed, how a chain is verified, and the register of security incidents.

pub mod chain;
pub mod checkpoint;
pub mod incidents;
pub mod minimise;
pub mod record;
pub mod verify;

pub use record::{EventRecord, Observed, record_of};
