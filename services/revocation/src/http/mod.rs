//! revocation's HTTP API, for people signed in to the console: what a person may do is
//! asked of the register at every request (the token names only who he is).

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::revocation::RevocationMode;
use contracts::revocation::events::RevocationRefused;
use contracts::{Actor, Envelope};
use kit::clock::Clock;
use kit::problem::Problem;
use sqlx::PgPool;
use tokio::sync::Notify;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::store::register::{self, Employment, LocalDatabase};

mod me;
mod panel;
mod register_check;
mod requests;
mod review;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    pub pesel_key: Arc<Vec<u8>>,
    pub outbox_wake: Arc<Notify>,
}

pub fn router(state: AppState) -> Router {
    let (routes, operations) = api().split_for_parts();
    routes
        .with_state(state)
        .merge(kit::openapi::routes(&document(operations)))
}

/// revocation's OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    document(api().into_openapi())
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(me::routes())
        .merge(requests::routes())
        .merge(panel::routes())
        .merge(review::routes())
        .merge(register_check::routes())
}

fn document(operations: OpenApi) -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        operations,
    )
}

/// Rows a list answers at most.
const LIST_MAX: i64 = 500;
/// Forms or requests one tick-and-click may name.
const IDS_MAX: usize = 500;

pub(crate) fn problem(error: impl Into<Error>) -> Response {
    let error = error.into();
    tracing::error!(%error, "a revocation request failed");
    Problem::internal().into_response()
}

pub(crate) fn invalid_request(detail: &str) -> Response {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-request",
        "Niepoprawne żądanie",
    )
    .detail(detail)
    .into_response()
}

pub(crate) fn json_rejected(rejection: JsonRejection) -> Response {
    invalid_request(&format!(
        "Treść żądania jest niepoprawna: {}",
        rejection.body_text()
    ))
}

fn not_found(kind: &str, title: &str, detail: &str) -> Response {
    Problem::new(StatusCode::NOT_FOUND, kind, title)
        .detail(detail)
        .into_response()
}

/// The signed-in person at work in one local database.
pub(crate) struct InDatabase {
    pub database: LocalDatabase,
    pub employment: Employment,
    pub actor: Actor,
}

/// What a refused step was about, for its event.
#[derive(Default)]
pub(crate) struct About {
    pub mode: Option<RevocationMode>,
    pub authorisation_id: Option<String>,
    pub request_id: Option<Uuid>,
}

/// Records the refusal (`revocation.request.refused`, for audit) and answers it; nothing
/// else changes.
pub(crate) async fn refuse(
    state: &AppState,
    actor: Actor,
    database: &str,
    refusal: Refusal,
    about: About,
) -> Response {
    let event = Envelope::new(
        actor,
        state.clock.now(),
        RevocationRefused {
            reason: refusal.reason,
            local_database_id: database.to_owned(),
            mode: about.mode,
            authorisation_id: about.authorisation_id,
            request_id: about.request_id,
            detail: refusal.detail.clone(),
        },
    );
    let recorded = async {
        let mut tx = state.pool.begin().await?;
        kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = recorded {
        return problem(error);
    }
    state.outbox_wake.notify_one();
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
    let mut response = Problem::new(status, &refusal.kind(), refusal.title())
        .detail(refusal.detail)
        .into_response();
    // Recorded above with its reason, not again as a bare access refusal.
    response
        .extensions_mut()
        .insert(kit::refusals::AlreadyRecorded);
    response
}

/// The local database and the signed-in person's employment in its unit, or the refusal.
pub(crate) async fn in_database(
    state: &AppState,
    actor: &kit::auth::Actor,
    database: &str,
) -> Result<InDatabase, Response> {
    if database.len() > 64 {
        return Err(database_not_found());
    }
    let db = match register::local_database(&state.pool, database).await {
        Ok(Some(db)) => db,
        Ok(None) => return Err(database_not_found()),
        Err(error) => return Err(problem(error)),
    };
    match register::employment(&state.pool, actor.login(), &db.unit_id).await {
        Ok(Some(employment)) => {
            let role = if employment.administrator {
                "local_database_administrator"
            } else {
                "employee"
            };
            Ok(InDatabase {
                actor: Actor::person(actor.login(), role),
                database: db,
                employment,
            })
        }
        Ok(None) => Err(refuse(
            state,
            Actor::person(actor.login(), actor.0.role.as_str()),
            &db.id,
            Refusal::new(contracts::revocation::events::RefusalReason::NotAnEmployeeOfTheUnit),
            About::default(),
        )
        .await),
        Err(error) => Err(problem(error)),
    }
}

fn database_not_found() -> Response {
    not_found(
        "local-database-not-found",
        "Nie ma takiej lokalnej bazy danych",
        "W rejestrze nie ma lokalnej bazy danych o tym identyfikatorze.",
    )
}

/// A local database path parameter.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "describes the path only")]
pub(crate) struct DatabasePath {
    /// The local database's id, e.g. `LBD-KRK-1`.
    pub database: String,
}

/// Not an active employee of the local database's unit (`not-an-employee-of-the-unit`)
#[derive(utoipa::IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
#[allow(dead_code, reason = "describes the answer only: in_database builds it")]
pub(crate) struct NotAnEmployee(Problem);

/// No such local database (`local-database-not-found`)
#[derive(utoipa::IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
#[allow(dead_code, reason = "describes the answer only: in_database builds it")]
pub(crate) struct DatabaseNotFound(Problem);

/// A body that cannot be read (`invalid-request`)
#[derive(utoipa::IntoResponses)]
#[response(status = 400, content_type = "application/problem+json")]
#[allow(
    dead_code,
    reason = "describes the answer only: invalid_request builds it"
)]
pub(crate) struct InvalidRequest(Problem);

/// Reads ids of forms or requests, bounded.
pub(crate) fn bounded_ids(ids: &[Uuid]) -> Result<&[Uuid], Box<Response>> {
    if ids.is_empty() {
        return Err(Box::new(invalid_request(
            "Zaznacz co najmniej jeden wiersz.",
        )));
    }
    if ids.len() > IDS_MAX {
        return Err(Box::new(invalid_request(&format!(
            "Jednorazowo można zaznaczyć najwyżej {IDS_MAX} wierszy."
        ))));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_openapi_document_is_what_the_handlers_describe() {
        if let Some(stale) = kit::openapi::stale(crate::SERVICE, &super::openapi()) {
            panic!("{stale}");
        }
    }
}
