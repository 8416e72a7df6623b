//! delivery's HTTP API: the collection desk (in-person delivery).

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kit::problem::Problem;
use utoipa::openapi::OpenApi;

use crate::collection::Desk;
use crate::error::Error;

mod collections;

pub fn router(desk: Arc<Desk>) -> Router {
    let (routes, operations) = collections::routes().split_for_parts();
    routes
        .with_state(desk)
        .merge(kit::openapi::routes(&document(operations)))
}

/// delivery's OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    document(collections::routes().into_openapi())
}

fn document(operations: OpenApi) -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        operations,
    )
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
        error @ (Error::Unusable(_)
        | Error::Undecodable(_)
        | Error::Crypto(_)
        | Error::Database(_)) => {
            tracing::error!(case_number = %case, %error, "recording a collection failed; nothing changed");
            Problem::internal()
        }
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_openapi_document_is_what_the_handlers_describe() {
        if let Some(stale) = kit::openapi::stale(crate::SERVICE, &super::openapi()) {
            panic!("{stale}");
        }
    }
}
