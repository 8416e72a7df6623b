//! The only place with SQL.

pub mod checkpoints;
pub mod records;
