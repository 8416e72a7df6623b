//! intake's HTTP API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kit::auth::Role;
use kit::problem::Problem;

use crate::error::Error;
use sqlx::PgPool;

mod queue;
mod requests;

pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/api/cases/{procedure}/{year}/{sequence}", get(case))
        .merge(queue::routes())
        .merge(requests::routes())
        .with_state(pool)
}

/// `GET /api/cases/ZSZO-05/2026/000001`: a case, its form (PESEL masked) and every step
/// with who and when.
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
