//! `GET /api/me`: the local databases the signed-in person works in, with his role in
//! each, so the console offers only what applies (the answer decides nothing: every
//! request is asked of the register again).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, problem};
use crate::store::register;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyDatabase {
    pub id: String,
    pub name: String,
    pub unit_id: String,
    pub unit_name: String,
    /// `ministry`, `jst` or `school`.
    pub unit_kind: String,
    pub position: String,
    /// The local database's administrator (a school's director, a JST's mayor): mode 2.
    pub administrator: bool,
    pub auto_send: bool,
    pub auto_check: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Empty for a person the register does not know as an active employee.
    pub local_databases: Vec<MyDatabase>,
}

#[utoipa::path(
    get,
    path = "/api/me",
    tag = "register",
    operation_id = "me",
    summary = "The local databases the signed-in person works in, with his role in each",
    description = "Any signed-in person; empty for one the register does not know.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The person's local databases", body = Me),
        kit::openapi::Unauthorized,
        kit::openapi::Internal,
    )
)]
async fn me(State(state): State<AppState>, actor: kit::auth::Actor) -> Response {
    let rows = match register::my_databases(&state.pool, actor.login()).await {
        Ok(rows) => rows,
        Err(error) => return problem(error),
    };
    Json(Me {
        first_name: rows.first().map(|r| r.first_name.clone()),
        last_name: rows.first().map(|r| r.last_name.clone()),
        local_databases: rows
            .into_iter()
            .map(|r| MyDatabase {
                id: r.database.id,
                name: r.database.name,
                unit_id: r.database.unit_id,
                unit_name: r.database.unit_name,
                unit_kind: r.database.unit_kind,
                position: r.position,
                administrator: r.administrator,
                auto_send: r.database.auto_send,
                auto_check: r.database.auto_check,
            })
            .collect(),
    })
    .into_response()
}
