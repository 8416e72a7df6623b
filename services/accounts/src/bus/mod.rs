//! accounts on the bus.

pub mod cases;
pub mod realise;
