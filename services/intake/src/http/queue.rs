//! The administrators' queue: list, take, realise. Only EK-04 administrators.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::forms::DeliveryMode;
use kit::auth::Actor;
use kit::clock::{Clock, SystemClock};
use kit::problem::Problem;
use serde::Deserialize;
use sqlx::PgPool;

use crate::processing::{self, ProcessingError};

const ADMINISTRATOR: &[&str] = &["administrator"];

pub fn routes() -> Router<PgPool> {
    Router::new()
        .route("/api/queue", get(queue))
        .route("/api/cases/{procedure}/{year}/{sequence}/take", post(take))
        .route(
            "/api/cases/{procedure}/{year}/{sequence}/realise",
            post(realise),
        )
}

async fn queue(State(pool): State<PgPool>, actor: Actor) -> Response {
    if let Err(p) = actor.require(&["administrator", "operator"]) {
        return p.into_response();
    }
    match crate::store::cases::queue_list(&pool).await {
        Ok(entries) => Json(serde_json::json!({ "cases": entries })).into_response(),
        Err(error) => {
            tracing::error!(%error, "listing the queue failed");
            Problem::internal().into_response()
        }
    }
}

async fn take(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
) -> Response {
    if let Err(problem) = actor.require(ADMINISTRATOR) {
        return problem.into_response();
    }
    let case = format!("{p}/{y}/{s}");
    answer(
        processing::take(&pool, &case, actor.login(), SystemClock.now()).await,
        &case,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RealiseRequest {
    /// Electronic (default) or in person, when the parties agreed so.
    #[serde(default)]
    delivery: Option<DeliveryMode>,
}

async fn realise(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require(ADMINISTRATOR) {
        return problem.into_response();
    }
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        RealiseRequest::default()
    } else {
        match serde_json::from_slice::<RealiseRequest>(&body) {
            Ok(request) => request,
            Err(error) => {
                return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", "Niepoprawne żądanie")
                    .detail(format!(
                        "Oczekiwano {{\"delivery\": \"electronic\"}} lub {{\"delivery\": \"in_person\"}} ({error})."
                    ))
                    .into_response();
            }
        }
    };
    let case = format!("{p}/{y}/{s}");
    answer(
        processing::realise(
            &pool,
            &case,
            actor.login(),
            request.delivery,
            SystemClock.now(),
        )
        .await,
        &case,
    )
}

fn answer(result: Result<(), ProcessingError>, case: &str) -> Response {
    match result {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "case_number": case })),
        )
            .into_response(),
        Err(ProcessingError::NotFound(_)) => Problem::new(
            StatusCode::NOT_FOUND,
            "case-not-found",
            "Nie znaleziono sprawy",
        )
        .detail(format!("Nie ma sprawy o numerze {case}."))
        .into_response(),
        Err(ProcessingError::Conflict(message)) => Problem::new(
            StatusCode::CONFLICT,
            "case-conflict",
            "Nie można wykonać tej czynności",
        )
        .detail(message)
        .into_response(),
        Err(ProcessingError::Database(error)) => {
            tracing::error!(%error, "processing a case failed");
            Problem::internal().into_response()
        }
    }
}
