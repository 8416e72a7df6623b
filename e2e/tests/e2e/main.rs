//! One e2e test binary: every test starts its own NATS, databases and service processes.

mod audit;
mod bounds;
mod browser;
mod bus;
mod cli;
mod collection;
mod console;
mod console_audit;
mod console_flow;
mod duties;
mod faults;
mod forms;
mod helpers;
mod openapi;
mod panel;
mod procedure;
mod processing;
mod readiness;
mod realisation;
mod replicas;
mod requests;
mod revocation;
mod staff;
mod tokens;
mod tracing;
