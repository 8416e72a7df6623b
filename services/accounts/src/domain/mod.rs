//! accounts' rules, without I/O.

pub mod authority;
pub mod passwords;
pub mod totp;
