//! Procedure D's rules that are not a query: refusals with their Polish words, and the
//! statuses a person reads.

pub mod refusal;
pub mod status;
