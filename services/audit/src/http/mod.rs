//! audit's HTTP API: the events recorded, filtered.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kit::problem::Problem;
use sqlx::PgPool;

use crate::store::events::{EventFilter, events_list};

pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/api/events", get(events))
        .with_state(pool)
}

/// `GET /api/events?case_number=…&document_id=…&institution_rspo_id=…&event_type=…&after_id=…&limit=…`
async fn events(State(pool): State<PgPool>, Query(filter): Query<EventFilter>) -> Response {
    match events_list(&pool, &filter).await {
        Ok(rows) => {
            let next_after_id = rows.last().map(|r| r.id);
            Json(serde_json::json!({ "events": rows, "next_after_id": next_after_id }))
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "listing events failed");
            Problem::internal().into_response()
        }
    }
}
