//! Retention over HTTP: export the prunable segment, then prune it by proving the export.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use contracts::events::AuditCheckpoint;
use kit::problem::Problem;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::retention;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(segment))
        .routes(routes!(prune))
}

/// `GET /api/retention/segment`: every record older than the retention period, from the
/// start of the chain, as JSON lines; the headers name its end and its SHA-256.
#[utoipa::path(
    get,
    path = "/api/retention/segment",
    tag = "retention",
    operation_id = "retention_segment",
    summary = "Export every record older than the retention period, from the chain's start",
    description = "Roles: auditor, administrator. One record per line; keep the export, then \
        prove it with `POST /api/retention/prune`.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The segment, as JSON lines", content(("application/x-ndjson")),
            headers(
                ("klucznik-segment-upto" = i64, description = "The segment's last position"),
                ("klucznik-segment-records" = i64, description = "How many records it holds"),
                ("klucznik-segment-sha256" = String, description = "Hex SHA-256 of the export"),
            )),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No record is older than the retention period \
            (`nothing-to-prune`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The chain does not verify within the segment; nothing \
            exported (`chain-broken`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
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

/// Proof of a kept export: the segment's end and the export's SHA-256, from its headers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct PruneRequest {
    upto_position: i64,
    export_sha256: String,
}

/// `POST /api/retention/prune {"upto_position", "export_sha256"}`.
#[utoipa::path(
    post,
    path = "/api/retention/prune",
    tag = "retention",
    operation_id = "retention_prune",
    summary = "Remove an exported segment from the database, proving the export",
    description = "Roles: auditor, administrator. A checkpoint over the pruned end is signed \
        and answered.",
    request_body = PruneRequest,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Pruned; the checkpoint of its end", body = AuditCheckpoint),
        (status = 400, description = "The body is not a proof, or is over the size limit \
            (`invalid-request`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No record is older than the retention period \
            (`nothing-to-prune`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A record of the segment is not older than the retention \
            period (`too-recent`), or the chain does not verify (`chain-broken`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The SHA-256 is not the segment's export's \
            (`export-mismatch`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
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
