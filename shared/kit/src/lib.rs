//! The platform every Klucznik service stands on. A service brings its settings, its
//! migrations, its consumers' handlers and its routes; the kit does the rest the same way
//! for all five.

pub mod at_rest;
pub mod auth;
pub mod clock;
pub mod consumer;
pub mod db;
pub mod error;
pub mod http;
pub mod main_support;
pub mod metrics;
pub mod nats;
pub mod nats_auth;
pub mod openapi;
pub mod outbox;
pub mod pesel;
pub mod platform;
pub mod problem;
pub mod propagation;
pub mod refusals;
pub mod seal;
pub mod service;
pub mod sessions;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
pub mod totp;

pub use main_support::run_service;
pub use platform::{Platform, StartupError, Workers};
pub use settings::{PlatformSettings, ServiceSettings};
