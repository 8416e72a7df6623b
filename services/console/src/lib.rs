//! console: the department staff's web pages, server-rendered in Polish. It owns no domain
//! data and decides nothing: each page asks the service that owns the data, with the
//! signed-in person's token, and shows what that service answered. Its own database keeps
//! the sessions (`session_store`), so they survive a restart and are shared by replicas.

pub mod assets;
pub mod pages;
pub mod security;
pub mod session_store;
pub mod startup;
pub mod upstream;

pub use startup::{Service, Settings};

pub const SERVICE: &str = "console";
pub const BASE_CONFIG: &str = include_str!("../config/base.yaml");
