//! Audit's rules, without I/O: what is kept of a message, how records are chained and
//! signed, and how a chain is verified.

pub mod chain;
pub mod checkpoint;
pub mod minimise;
pub mod record;
pub mod verify;

pub use record::{EventRecord, Observed, record_of};
