//! The only place with SQL.

pub mod deliveries;
