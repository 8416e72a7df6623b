//! The HTTP side every service shares: `/healthz`, `/readyz`, request tracing and timeouts,
//! and graceful shutdown.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sqlx::PgPool;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::problem::Problem;

#[derive(Clone)]
pub struct Health {
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub js: async_nats::jetstream::Context,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

pub fn health_routes(health: Health) -> Router {
    Router::new()
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(health)
}

/// Adds the common layers to a service's routes. Every request body is limited to
/// `body_limit` bytes (a route may set a lower `DefaultBodyLimit`, not a higher one); a
/// longer one is refused with 413 and a problem document before any handler reads it, and
/// one announced longer by its `Content-Length` is refused before a byte of it is read.
pub fn with_layers(router: Router, request_timeout: Duration, body_limit: usize) -> Router {
    router
        .layer(axum::middleware::map_response(
            move |response: Response| async move { too_large_as_problem(response, body_limit) },
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                if announced_length(&request).is_some_and(|length| length > body_limit as u64) {
                    return too_large(body_limit);
                }
                next.run(request).await
            },
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Every request a server span of the route's template (`POST /api/cases/{…}/realise`),
/// continuing the caller's trace when the request carries a `traceparent`.
pub async fn server_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use tracing::Instrument;
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!(
        "http request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    crate::propagation::adopt_http_parent(&span, request.headers());
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}

/// axum answers an over-long body with a plain-text 413; every refusal here is problem+json.
fn too_large_as_problem(response: Response, body_limit: usize) -> Response {
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_none_or(|t| t.as_bytes() != b"application/problem+json");
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || !plain {
        return response;
    }
    too_large(body_limit)
}

fn announced_length(request: &axum::extract::Request) -> Option<u64> {
    request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(body_limit: usize) -> Response {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Żądanie jest za duże",
    )
    .detail(format!(
        "Treść żądania może mieć najwyżej {body_limit} bajtów."
    ))
    .into_response()
}

/// What `/healthz` and `/readyz` answer when all is well.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `alive` or `ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
}

/// The probes, as every service's OpenAPI document describes them.
#[derive(utoipa::OpenApi)]
#[openapi(paths(alive, ready, metrics))]
pub(crate) struct HealthApi;

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "health_alive",
    summary = "Liveness: the process answers",
    description = "Anyone may call it; it checks nothing but that the HTTP server runs.",
    responses((status = 200, description = "Alive", body = HealthStatus))
)]
async fn alive() -> Json<HealthStatus> {
    Json(HealthStatus { status: "alive" })
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    operation_id = "health_metrics",
    summary = "Prometheus metrics: requests, dead letters, outbox backlog, consumer lag",
    description = "Anyone the network lets in (operators' scrapers); no personal data: routes \
        are labelled by their template.",
    responses((status = 200, description = "Prometheus text exposition", body = String,
        content_type = "text/plain; version=0.0.4"))
)]
async fn metrics(State(health): State<Health>) -> Response {
    let text = health.metrics.render(&health.pool, &health.js).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "health_ready",
    summary = "Readiness: NATS is connected and the database answers",
    description = "Anyone may call it.",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "Not ready; `detail` says why (NATS or the database)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ready(State(health): State<Health>) -> Response {
    let nats_state = health.nats.connection_state();
    if nats_state != async_nats::connection::State::Connected {
        return not_ready(format!("NATS is not connected ({nats_state})"));
    }
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&health.pool);
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => Json(HealthStatus { status: "ready" }).into_response(),
        Ok(Err(error)) => not_ready(format!("the database is not usable: {error}")),
        Err(_) => not_ready("the database did not answer within 2 s".to_owned()),
    }
}

fn not_ready(reason: String) -> Response {
    tracing::warn!(%reason, "not ready");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Service not ready",
    )
    .detail(reason)
    .into_response()
}
