//! The only place with SQL.

pub mod case_detail;
pub mod cases;
