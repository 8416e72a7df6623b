//! `GET /api/collections`: the letters waiting at the desk; `POST
//! /api/collections/{procedure}/{year}/{sequence}`: hand one over, recording who took it
//! and which identity document they showed, and get the printable letter back (once).
//! Operators only: administrators, who realise cases, are not on the desk.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kit::auth::{Actor, Role};
use kit::problem::Problem;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::collection::{Desk, Operator};
use crate::domain::collection::parse_collection;
use crate::store::collections::AwaitingCollection;

const DESK_ROLES: &[Role] = &[Role::Operator];

pub fn routes() -> OpenApiRouter<Arc<Desk>> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(collect))
}

/// The letters waiting at the desk.
#[derive(Serialize, utoipa::ToSchema)]
struct Collections {
    /// Soonest expiry first; only those whose starting password is still valid.
    collections: Vec<AwaitingCollection>,
}

/// A hand-over: who came for the letter and which identity document they showed. A fault is
/// answered naming its field, never repeating its value.
// domain::collection reads the body field by field, for those answers; this only describes it.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "describes the body only; domain::collection parses it"
)]
struct HandOver {
    collected_by: CollectedBy,
    /// The collecting person's first and last name.
    #[schema(min_length = 1, max_length = 200)]
    person_name: String,
    /// The F-01 authorisation's number or reference: required for a proxy, refused for
    /// anyone else.
    #[schema(min_length = 1, max_length = 100)]
    f01_reference: Option<String>,
    id_document: IdDocument,
}

/// Who came: the director who filed the request, the user whose account it is, or a proxy
/// authorised in writing (form F-01).
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "describes the body only; domain::collection parses it"
)]
enum CollectedBy {
    Requester,
    User,
    Proxy,
}

/// The identity document shown; of its number only the last four characters are kept.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "describes the body only; domain::collection parses it"
)]
struct IdDocument {
    #[serde(rename = "type")]
    kind: IdDocumentKind,
    /// The last four letters or digits of the document's number.
    #[schema(pattern = "^[A-Za-z0-9]{4}$")]
    last4: String,
}

#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "describes the body only; domain::collection parses it"
)]
enum IdDocumentKind {
    DowodOsobisty,
    Paszport,
    Other,
}

#[utoipa::path(
    get,
    path = "/api/collections",
    tag = "collections",
    operation_id = "collections_list",
    summary = "The letters waiting at the collection desk",
    description = "Role: operator.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The letters waiting", body = Collections),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an operator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn list(State(desk): State<Arc<Desk>>, actor: Actor) -> Response {
    if let Err(problem) = actor.require(DESK_ROLES) {
        return problem.into_response();
    }
    match desk.awaiting().await {
        Ok(collections) => Json(Collections { collections }).into_response(),
        Err(error) => {
            tracing::error!(%error, "listing the letters awaiting collection failed");
            Problem::internal().into_response()
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/collections/{procedure}/{year}/{sequence}",
    tag = "collections",
    operation_id = "collection_hand_over",
    summary = "Hand a letter over, recording who took it, and get the printable letter once",
    description = "Role: operator. The letter is answered once and never kept.",
    params(kit::openapi::CaseNumberPath),
    request_body = HandOver,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Handed over: the letter to print",
            content(("application/pdf")),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"…\"`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an operator (`forbidden`), or the letter may not be \
            handed over (`collection-refused`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nothing of this case is at the desk (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The letter is not waiting to be collected \
            (`not-awaiting-collection`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The hand-over is wrong; `field` names the field at fault \
            (`invalid-collection`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
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
