//! The only place with SQL.

pub mod confirmations;
pub mod credentials;
pub mod directory;
pub mod enrolment;
pub mod panel;
pub mod requests;
pub mod throttle;
