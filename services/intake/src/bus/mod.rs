//! intake on the bus: SEOD forms in, accounts' checks of who asked, case queries answered.

pub mod deliveries;
pub mod forms;
pub mod queries;
pub mod request_checks;
