//! intake's HTTP API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use kit::auth::Role;
use kit::problem::Problem;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::store::case_detail::CaseDetail;
use sqlx::PgPool;

mod queue;
mod requests;

pub fn router(pool: PgPool) -> Router {
    let (routes, operations) = api().split_for_parts();
    routes
        .with_state(pool)
        .merge(kit::openapi::routes(&document(operations)))
}

/// intake's OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    document(api().into_openapi())
}

/// Every route with its description: routed and described from the same `#[utoipa::path]`.
fn api() -> OpenApiRouter<PgPool> {
    OpenApiRouter::new()
        .routes(routes!(case))
        .merge(queue::routes())
        .merge(requests::routes())
}

fn document(operations: OpenApi) -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        operations,
    )
}

/// `GET /api/cases/ZSZO-05/2026/000001`: a case, its form (PESEL masked) and every step
/// with who and when.
#[utoipa::path(
    get,
    path = "/api/cases/{procedure}/{year}/{sequence}",
    tag = "cases",
    operation_id = "case_get",
    summary = "A case: its form as received (PESEL masked) and every step with who and when",
    description = "Roles: administrator, operator, auditor.",
    params(kit::openapi::CaseNumberPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The case", body = CaseDetail),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator, operator or auditor (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn case(
    State(pool): State<PgPool>,
    actor: kit::auth::Actor,
    Path((procedure, year, sequence)): Path<(String, String, String)>,
) -> Response {
    // A case names a school and a person's login: for the department's staff only.
    if let Err(problem) = actor.require(&[Role::Administrator, Role::Operator, Role::Auditor]) {
        return problem.into_response();
    }
    let number = format!("{procedure}/{year}/{sequence}");
    match crate::store::case_detail::case_detail(&pool, &number).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => Problem::new(
            StatusCode::NOT_FOUND,
            "case-not-found",
            "Nie znaleziono sprawy",
        )
        .detail(format!("Nie ma sprawy o numerze {number}."))
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "reading a case failed");
            Problem::internal().into_response()
        }
    }
}

/// The case a request registered or acted on.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseNumber {
    #[schema(example = "ZSZO-05/2026/000001")]
    case_number: String,
}

/// The one place where intake's error becomes a problem for the person who asked.
pub(crate) fn problem(error: Error) -> Response {
    match error {
        Error::NotFound(case) => Problem::new(
            StatusCode::NOT_FOUND,
            "case-not-found",
            "Nie znaleziono sprawy",
        )
        .detail(format!("Nie ma sprawy o numerze {case}.")),
        Error::Conflict(message) => Problem::new(
            StatusCode::CONFLICT,
            "case-conflict",
            "Nie można wykonać tej czynności",
        )
        .detail(message),
        Error::Duty(message) => Problem::new(
            StatusCode::FORBIDDEN,
            "separation-of-duties",
            "Tę czynność musi wykonać inna osoba",
        )
        .detail(message),
        Error::Unusable(_) | Error::Undecodable(_) | Error::Database(_) => {
            tracing::error!(%error, "an intake request failed");
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
