//! accounts' rules, without I/O.

pub mod authority;
pub mod passwords;
pub mod sign_in;
pub mod totp;
