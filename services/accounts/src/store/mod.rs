//! The only place with SQL.

pub mod directory;
pub mod requests;
