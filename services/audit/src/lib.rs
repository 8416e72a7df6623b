//! audit: records every message of every stream once, with who, what, when, which
//! institution and case, and the trace it belongs to; answers questions about them.

pub mod bus;
pub mod domain;
pub mod http;
pub mod startup;
pub mod store;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "audit";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
