//! accounts' rules, without I/O.

pub mod account;
pub mod authority;
pub mod hashing;
pub mod passwords;
pub mod sign_in;
pub mod staff;
/// TOTP lives in kit, where the tests' support reaches it too.
pub use kit::totp;
