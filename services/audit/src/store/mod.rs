//! The only place with SQL.

pub mod checkpoints;
pub mod incidents;
pub mod records;
pub mod retention;
