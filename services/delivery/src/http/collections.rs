//! `GET /api/collections`: the letters waiting at the desk; `POST
//! /api/collections/{procedure}/{year}/{sequence}`: hand one over, recording who took it
//! and which identity document they showed, and get the printable letter back (once).
//! Operators only: administrators, who realise cases, are not on the desk.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kit::auth::{Actor, Role};
use kit::problem::Problem;

use crate::collection::{Desk, Operator};
use crate::domain::collection::parse_collection;

const DESK_ROLES: &[Role] = &[Role::Operator];

pub fn routes() -> Router<Arc<Desk>> {
    Router::new().route("/api/collections", get(list)).route(
        "/api/collections/{procedure}/{year}/{sequence}",
        post(collect),
    )
}

async fn list(State(desk): State<Arc<Desk>>, actor: Actor) -> Response {
    if let Err(problem) = actor.require(DESK_ROLES) {
        return problem.into_response();
    }
    match desk.awaiting().await {
        Ok(waiting) => Json(serde_json::json!({ "collections": waiting })).into_response(),
        Err(error) => {
            tracing::error!(%error, "listing the letters awaiting collection failed");
            Problem::internal().into_response()
        }
    }
}

async fn collect(
    State(desk): State<Arc<Desk>>,
    actor: Actor,
    Path((procedure, year, sequence)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require(DESK_ROLES) {
        return problem.into_response();
    }
    let collection = match parse_collection(&body) {
        Ok(collection) => collection,
        Err(fault) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-collection",
                "Niepoprawne dane odbioru",
            )
            .detail(fault.to_string())
            .field(fault.field)
            .into_response();
        }
    };
    let case = format!("{procedure}/{year}/{sequence}");
    let operator = Operator {
        login: actor.login().to_owned(),
        role: actor.0.role.to_string(),
    };
    match desk.collect(&case, &collection, &operator).await {
        Ok(mut letter) => {
            // Handed to the server as is: from here the bytes are the response's.
            let pdf = std::mem::take(&mut *letter.pdf);
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}\"", letter.file_name),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                pdf,
            )
                .into_response()
        }
        Err(error) => super::problem(error, &case),
    }
}
