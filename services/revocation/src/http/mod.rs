//! revocation's HTTP API: for now only what every service serves (the probes and its
//! OpenAPI document); its work arrives on the bus.

use axum::Router;
use utoipa::openapi::OpenApi;

pub fn router() -> Router {
    kit::openapi::routes(&openapi())
}

/// revocation's OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        OpenApi::default(),
    )
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
