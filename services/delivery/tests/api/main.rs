//! delivery's API and its notices, end to end inside the service with real parts only
//! (PostgreSQL, nats-server, aiosmtpd, an HTTP stand-in for the SMS gateway): the
//! collection desk for credentials delivered in person, and the notice e-mailed after a
//! password change.

mod collection;
mod helpers;
mod notices;
