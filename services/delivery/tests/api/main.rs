//! delivery's API and its notices, end to end inside the service with real parts only
//! (PostgreSQL, nats-server, aiosmtpd, an HTTP stand-in for the SMS gateway): the
//! collection desk for credentials delivered in person, the notice e-mailed after a
//! password change, and the reply to the sender of an e-mailed request.

mod collection;
mod helpers;
mod notices;
mod replies;
#[path = "../support/mod.rs"]
mod support;
