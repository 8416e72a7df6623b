//! accounts: institutions, people, accounts and roles; starting passwords (hash only);
//! the access portal. It consumes registered cases; realising them comes with procedures
//! A and B.

pub mod bus;
pub mod domain;
pub mod error;
pub mod http;
pub mod import;
pub mod import_staff;
pub mod startup;
pub mod store;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "accounts";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
