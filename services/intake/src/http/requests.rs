//! Requests that do not come through SEOD: an operator registers them (a director of a
//! non-city institution who came in person, or wrote from the institution's registered
//! address). They are checked by the same rules as SEOD forms.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kit::auth::{Actor, Role};
use kit::clock::{Clock, SystemClock};
use kit::problem::Problem;
use sqlx::PgPool;

pub fn routes() -> Router<PgPool> {
    Router::new().route("/api/requests", post(register))
}

/// `POST /api/requests` (an operator or administrator) → 201 `{case_number}`.
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
        Ok(Some(case_number)) => {
            tracing::info!(%case_number, operator = actor.login(), "request registered by an operator");
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "case_number": case_number })),
            )
                .into_response()
        }
        Ok(None) => Problem::new(
            StatusCode::CONFLICT,
            "duplicate",
            "Wniosek już zarejestrowano",
        )
        .into_response(),
        Err(error) => super::problem(error),
    }
}
