//! The only place with SQL.

pub mod credentials;
pub mod directory;
pub mod requests;
pub mod throttle;
