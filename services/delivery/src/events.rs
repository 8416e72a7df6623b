//! The events delivery publishes about a case.

use chrono::{DateTime, Utc};
use contracts::{Actor, Envelope, Event};

use crate::store::deliveries::DeliveryRow;

/// An event about `row`'s case, caused by `actor`.
pub fn about_case<T: Event>(
    actor: Actor,
    row: &DeliveryRow,
    now: DateTime<Utc>,
    data: T,
) -> Envelope<T> {
    Envelope {
        institution_rspo_id: row.institution_rspo_id.clone(),
        ..Envelope::new(actor, now, data).case(&row.case_number)
    }
}

/// An event delivery caused on its own.
pub fn by_delivery<T: Event>(row: &DeliveryRow, now: DateTime<Utc>, data: T) -> Envelope<T> {
    about_case(Actor::system(crate::SERVICE), row, now, data)
}
