//! The published contract of Klucznik: subjects, streams, consumers and every message
//! that crosses the bus. Services depend on this crate and on nothing of each other.

pub mod catalog;
pub mod envelope;
pub mod events;
pub mod forms;
pub mod permissions;
pub mod query;
pub mod revocation;
pub mod schemas;
pub mod seod_status;
pub mod streams;
pub mod subjects;
pub mod time;
pub mod values;

pub use envelope::{Actor, Envelope, Event};
