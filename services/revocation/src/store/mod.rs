//! revocation's tables: the register (units, local databases, people, employees,
//! authorisations), the requests, and the communication panel's forms.

pub mod panel;
pub mod register;
pub mod requests;
