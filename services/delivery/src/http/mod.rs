//! delivery's HTTP API: the collection desk (in-person delivery).

use std::sync::Arc;

use axum::Router;

use crate::collection::Desk;

mod collections;

pub fn router(desk: Arc<Desk>) -> Router {
    collections::routes().with_state(desk)
}
