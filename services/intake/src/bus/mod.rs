//! intake on the bus: SEOD forms in, case queries answered.

pub mod forms;
pub mod queries;
