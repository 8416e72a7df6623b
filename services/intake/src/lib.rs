//! intake: receives SEOD forms from the bus, validates them, records valid ones as
//! numbered cases, and tells SEOD each case's status (or why a form was refused).

pub mod announce;
pub mod bus;
pub mod domain;
pub mod error;
pub mod http;
pub mod processing;
pub mod registration;
pub mod startup;
pub mod store;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "intake";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
