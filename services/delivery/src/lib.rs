//! delivery: dispatches credentials: an encrypted letter by e-mail (SMTP) with the cipher
//! password by SMS (HTTP gateway), or a printed letter collected in person. It consumes
//! issued credentials; dispatching them comes with procedures A and B.

pub mod letter;
pub mod startup;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "delivery";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
