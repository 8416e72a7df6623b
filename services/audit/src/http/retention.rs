//! Retention over HTTP: export the prunable segment, then prune it by proving the export.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kit::problem::Problem;
use serde::Deserialize;

use super::AppState;
use crate::retention;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/retention/segment", get(segment))
        .route("/api/retention/prune", post(prune))
}

/// `GET /api/retention/segment`: every record older than the retention period, from the
/// start of the chain, as JSON lines; the headers name its end and its SHA-256.
async fn segment(State(state): State<AppState>) -> Response {
    match retention::segment(&state.pool, state.retention, state.clock.now()).await {
        Ok(segment) => (
            [
                (
                    HeaderName::from_static("content-type"),
                    "application/x-ndjson".to_owned(),
                ),
                (
                    HeaderName::from_static("klucznik-segment-upto"),
                    segment.upto.to_string(),
                ),
                (
                    HeaderName::from_static("klucznik-segment-records"),
                    segment.records.to_string(),
                ),
                (
                    HeaderName::from_static("klucznik-segment-sha256"),
                    segment.sha256,
                ),
            ],
            segment.export,
        )
            .into_response(),
        Err(error) => super::problem(error),
    }
}

#[derive(Debug, Deserialize)]
struct PruneRequest {
    upto_position: i64,
    export_sha256: String,
}

/// `POST /api/retention/prune {"upto_position", "export_sha256"}`.
async fn prune(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    body: Result<Json<PruneRequest>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(request)) => request,
        Err(rejection) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "Niepoprawne żądanie",
            )
            .detail(rejection.body_text())
            .into_response();
        }
    };
    match retention::prune(
        &state.pool,
        &state.checkpointer.key,
        state.retention,
        state.clock.now(),
        request.upto_position,
        &request.export_sha256,
        actor.login(),
    )
    .await
    {
        Ok(checkpoint) => Json(checkpoint).into_response(),
        Err(error) => super::problem(error),
    }
}
