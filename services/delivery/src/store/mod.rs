//! The only place with SQL.

pub mod collections;
pub mod deliveries;
pub mod notices;
