//! accounts on the bus.

pub mod cases;
