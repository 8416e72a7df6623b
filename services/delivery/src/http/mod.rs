//! delivery's HTTP API: the collection desk (in-person delivery).

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kit::problem::Problem;

use crate::collection::Desk;
use crate::error::Error;

mod collections;

pub fn router(desk: Arc<Desk>) -> Router {
    collections::routes().with_state(desk)
}

/// The one place where delivery's error becomes a problem for the operator at the desk.
pub(crate) fn problem(error: Error, case: &str) -> Response {
    match error {
        error @ Error::NotFound(_) => Problem::new(
            StatusCode::NOT_FOUND,
            "case-not-found",
            "Nie znaleziono danych do odbioru",
        )
        .detail(error.to_string()),
        Error::Refused(message) => Problem::new(
            StatusCode::FORBIDDEN,
            "collection-refused",
            "Pisma nie wydano",
        )
        .detail(message),
        Error::Conflict(message) => Problem::new(
            StatusCode::CONFLICT,
            "not-awaiting-collection",
            "Dane dostępowe nie czekają na odbiór",
        )
        .detail(message),
        Error::Letter(error) => {
            tracing::error!(case_number = %case, %error, "the letter could not be rendered; nothing changed");
            Problem::internal()
                .detail("Nie udało się przygotować pisma do wydruku; nic nie zostało zmienione.")
        }
        error @ (Error::Unusable(_) | Error::Undecodable(_) | Error::Database(_)) => {
            tracing::error!(case_number = %case, %error, "recording a collection failed; nothing changed");
            Problem::internal()
        }
    }
    .into_response()
}
