//! Every service's OpenAPI 3.1 document. A service's own operations are described by
//! `#[utoipa::path]` on its handlers and collected by utoipa-axum's `OpenApiRouter`, which
//! routes from the same attribute, so a path cannot be routed one way and described another.
//! This module adds what all services share: the health probes, the document's own route,
//! the two token schemes and the problem document. One text is served at
//! `/api/openapi.json`, printed by `<service> openapi` (what `make schemas` writes) and
//! committed as `proto-schemas/openapi/<service>.json`, which a test in each service keeps
//! fresh; the console checks every call it makes against the committed documents.

use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi};

/// The security scheme of a staff member's token.
pub const STAFF_TOKEN: &str = "staff_token";
/// The security scheme of an access portal user's token.
pub const PORTAL_TOKEN: &str = "portal_token";
/// Where every service serves its document.
pub const PATH: &str = "/api/openapi.json";

/// `{procedure}/{year}/{sequence}`: a case number such as `ZSZO-05/2026/000001`, in a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CaseNumberPath {
    /// `ZSZO-05` or `PZO-01`.
    #[param(example = "ZSZO-05")]
    pub procedure: String,
    /// The year the case was registered in.
    #[param(example = "2026")]
    pub year: String,
    /// The case's number within its year, six digits.
    #[param(example = "000001")]
    pub sequence: String,
}

/// No valid token: none, not signed by accounts, expired, for the other audience, or of a
/// session that ended.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 401,
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`"))
)]
pub struct Unauthorized(pub crate::problem::Problem);

/// The body is longer than the service's limit (`body-too-large`).
#[derive(utoipa::IntoResponses)]
#[response(status = 413, content_type = "application/problem+json")]
pub struct TooLarge(pub crate::problem::Problem);

/// An internal error; the problem says nothing of what went wrong.
#[derive(utoipa::IntoResponses)]
#[response(status = 500, content_type = "application/problem+json")]
pub struct Internal(pub crate::problem::Problem);

/// `service`'s document: its `operations` with the shared parts.
pub fn document(service: &str, version: &str, description: &str, operations: OpenApi) -> OpenApi {
    let mut document = operations;
    document.info = InfoBuilder::new()
        .title(format!("Klucznik {service}"))
        .version(version)
        .description(Some(format!(
            "{description}. Every refusal and error is an RFC 9457 problem document \
             (`application/problem+json`, schema `Problem`); a request that takes longer than \
             the service's request timeout is answered 408 with no body, and a body over \
             its limit 413."
        )))
        .license(Some(
            LicenseBuilder::new()
                .name("EUPL-1.2")
                .identifier(Some("EUPL-1.2"))
                .build(),
        ))
        .build();
    document.merge(crate::http::HealthApi::openapi());
    document.merge(DocumentApi::openapi());
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        STAFF_TOKEN,
        bearer(
            "A staff member's token from accounts (`POST /api/auth/staff-login` or \
             `POST /api/auth/totp-enrolment`): `kt1.<claims>.<Ed25519 signature>`, short-lived, \
             verified by every service with accounts' public key and refused (401) once its \
             session ended. An operation names the roles it admits; any other role gets 403.",
        ),
    );
    components.add_security_scheme(
        PORTAL_TOKEN,
        bearer(
            "An access portal user's token from accounts (`POST /api/portal/login`), \
             for that user's own password only.",
        ),
    );
    document
}

fn bearer(description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("kt1")
            .description(Some(description))
            .build(),
    )
}

/// The document as it is served and committed: pretty JSON ending with a new line.
pub fn render(document: &OpenApi) -> String {
    let mut text = document
        .to_pretty_json()
        .expect("an OpenAPI document renders as JSON");
    text.push('\n');
    text
}

/// `GET /api/openapi.json`, answering `document`.
pub fn routes(document: &OpenApi) -> Router {
    Router::new()
        .route(PATH, get(served))
        .with_state(Bytes::from(render(document)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(served))]
struct DocumentApi;

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "openapi",
    operation_id = "openapi_document",
    summary = "This document",
    description = "Anyone may read it. It is the same text as `proto-schemas/openapi/<service>.json`.",
    responses((status = 200, description = "The service's OpenAPI 3.1 document",
        body = serde_json::Value, content_type = "application/json"))
)]
async fn served(State(text): State<Bytes>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// `<service> openapi` prints the service's document; `None` when the binary was asked for
/// anything else.
pub fn command(document: impl FnOnce() -> OpenApi) -> Option<ExitCode> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("openapi"), None) => {
            print!("{}", render(&document()));
            Some(ExitCode::SUCCESS)
        }
        _ => None,
    }
}

/// Where `make schemas` writes `service`'s document in this repository.
pub fn committed_path(service: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../proto-schemas/openapi")
        .join(format!("{service}.json"))
}

/// Why the committed document of `service` is not `document`, if it is not: for the test
/// that keeps `proto-schemas/openapi/` fresh.
pub fn stale(service: &str, document: &OpenApi) -> Option<String> {
    let expected = render(document);
    let file = format!("proto-schemas/openapi/{service}.json");
    match std::fs::read_to_string(committed_path(service)) {
        Ok(committed) if committed == expected => None,
        Ok(committed) => {
            let line = committed
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(expected.lines().count()));
            Some(format!(
                "{file} is stale (it differs from what the handlers describe from line {}); \
                 run `make schemas` and commit the result",
                line + 1
            ))
        }
        Err(error) => Some(format!(
            "{file} cannot be read ({error}); run `make schemas` and commit the result"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_openapi_3_1_named_after_its_service_with_the_shared_parts() {
        let document = document("intake", "1.2.3", "Cases", OpenApi::default());
        let json: serde_json::Value = serde_json::from_str(&render(&document)).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(json["info"]["title"], "Klucznik intake");
        assert_eq!(json["info"]["version"], "1.2.3");
        for path in ["/healthz", "/readyz", PATH] {
            assert!(json["paths"][path]["get"].is_object(), "{path}");
        }
        let schemes = &json["components"]["securitySchemes"];
        assert_eq!(schemes[STAFF_TOKEN]["scheme"], "bearer");
        assert_eq!(schemes[PORTAL_TOKEN]["scheme"], "bearer");
        assert!(json["components"]["schemas"]["Problem"].is_object());
    }
}
