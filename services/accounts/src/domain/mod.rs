//! accounts' rules, without I/O.

pub mod authority;
