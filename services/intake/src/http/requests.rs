//! Requests that do not come through SEOD: an operator registers them (a director of a
//! non-city institution who came in person, or wrote from the institution's registered
//! address). They are checked by the same rules as SEOD forms.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::forms::OperatorRequest;
use kit::auth::{Actor, Role};
use kit::clock::{Clock, SystemClock};
use kit::problem::Problem;
use sqlx::PgPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::CaseNumber;

pub fn routes() -> OpenApiRouter<PgPool> {
    OpenApiRouter::new().routes(routes!(register))
}

/// `POST /api/requests` (an operator or administrator) → 201 `{case_number}`.
#[utoipa::path(
    post,
    path = "/api/requests",
    tag = "requests",
    operation_id = "request_register",
    summary = "Register a request that did not come through SEOD",
    description = "Roles: operator, administrator. Checked by the same rules as a SEOD form.",
    request_body = OperatorRequest,
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Registered as a new case", body = CaseNumber),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an operator or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not registered, e.g. a case for the account is still \
            open (`open-case-exists`); `field` names the field",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The request breaks a rule; `field` names the field at \
            fault (`invalid-request`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn register(State(pool): State<PgPool>, actor: Actor, body: axum::body::Bytes) -> Response {
    if let Err(problem) = actor.require(&[Role::Operator, Role::Administrator]) {
        return problem.into_response();
    }
    let now = SystemClock.now();
    let document_id = format!("OP-{}", uuid::Uuid::now_v7().simple());
    let request = match contracts::forms::parse_operator_request(&body, &document_id, now) {
        Ok(request) => request,
        Err(rejection) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "Niepoprawny wniosek",
            )
            .detail(format!("Pole `{}`: {}", rejection.field, rejection.message))
            .field(rejection.field)
            .into_response();
        }
    };
    let form: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let result = async {
        let mut tx = pool.begin().await?;
        let number =
            crate::registration::register(&mut tx, &request, &form, now, Some(actor.login()))
                .await?;
        tx.commit().await?;
        Ok::<_, crate::error::Error>(number)
    }
    .await;
    match result {
        Ok(crate::registration::Registered::Case(case_number)) => {
            tracing::info!(%case_number, operator = actor.login(), "request registered by an operator");
            (StatusCode::CREATED, Json(CaseNumber { case_number })).into_response()
        }
        Ok(crate::registration::Registered::Refused(rejection)) => Problem::new(
            StatusCode::CONFLICT,
            &rejection.code.replace('_', "-"),
            "Wniosku nie zarejestrowano",
        )
        .detail(rejection.message)
        .field(rejection.field)
        .into_response(),
        Err(error) => super::problem(error),
    }
}
