//! The administrators' queue: list, take, realise. Only EK-04 administrators.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::forms::DeliveryMode;
use kit::auth::{Actor, Role};
use kit::clock::{Clock, SystemClock};
use kit::problem::Problem;
use serde::Deserialize;
use sqlx::PgPool;

use crate::error::Error;
use crate::processing;

const ADMINISTRATOR: &[Role] = &[Role::Administrator];

pub fn routes() -> Router<PgPool> {
    Router::new()
        .route("/api/queue", get(queue))
        .route("/api/cases/{procedure}/{year}/{sequence}/take", post(take))
        .route(
            "/api/cases/{procedure}/{year}/{sequence}/realise",
            post(realise),
        )
        .route(
            "/api/cases/{procedure}/{year}/{sequence}/delivery-agreement",
            post(agree_delivery),
        )
}

/// Longest accepted note of how the requester agreed, and proxy's name or F-01 reference.
const AGREEMENT_MAX: usize = 500;
const PROXY_FIELD_MAX: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementRequest {
    /// Only `in_person`: electronic delivery needs no agreement.
    delivery: DeliveryMode,
    /// How and when the requester agreed.
    how: String,
    #[serde(default)]
    proxy: Option<contracts::events::AuthorisedProxy>,
}

fn invalid(detail: impl Into<String>) -> Response {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-request",
        "Niepoprawne żądanie",
    )
    .detail(detail)
    .into_response()
}

/// `POST …/delivery-agreement {"delivery": "in_person", "how", "proxy"?: {"name",
/// "f01_reference"}}`: an operator or administrator (not the one who took the case)
/// records that the requester agreed to collection in person.
async fn agree_delivery(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require(&[Role::Administrator, Role::Operator]) {
        return problem.into_response();
    }
    let request: AgreementRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return invalid(format!(
                "Oczekiwano {{\"delivery\": \"in_person\", \"how\": \"…\", \"proxy\": \
                 {{\"name\": \"…\", \"f01_reference\": \"…\"}} (opcjonalnie)}} ({error})."
            ));
        }
    };
    if request.delivery != DeliveryMode::InPerson {
        return invalid("Pole `delivery`: zgody wymaga tylko odbiór osobisty (`in_person`).");
    }
    let how = request.how.trim();
    if how.is_empty() || how.chars().count() > AGREEMENT_MAX {
        return invalid(format!(
            "Pole `how`: opisz, jak i kiedy wnioskodawca wyraził zgodę (od 1 do {AGREEMENT_MAX} znaków)."
        ));
    }
    let proxy = match request.proxy {
        None => None,
        Some(proxy) => {
            let name = proxy.name.split_whitespace().collect::<Vec<_>>().join(" ");
            let f01 = proxy.f01_reference.trim().to_owned();
            if name.is_empty() || name.chars().count() > PROXY_FIELD_MAX {
                return invalid(format!(
                    "Pole `proxy.name`: imię i nazwisko pełnomocnika z formularza F-01 (do {PROXY_FIELD_MAX} znaków)."
                ));
            }
            if f01.is_empty() || f01.chars().count() > PROXY_FIELD_MAX {
                return invalid(format!(
                    "Pole `proxy.f01_reference`: sygnatura upoważnienia F-01 (do {PROXY_FIELD_MAX} znaków)."
                ));
            }
            Some(contracts::events::AuthorisedProxy {
                name,
                f01_reference: f01,
            })
        }
    };
    let case = format!("{p}/{y}/{s}");
    let agreement = processing::DeliveryAgreement {
        how: how.to_owned(),
        proxy,
    };
    answer(
        processing::agree_delivery(&pool, &case, actor.login(), &agreement, SystemClock.now())
            .await,
        &case,
    )
}

async fn queue(State(pool): State<PgPool>, actor: Actor) -> Response {
    if let Err(p) = actor.require(&[Role::Administrator, Role::Operator]) {
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

fn answer(result: Result<(), Error>, case: &str) -> Response {
    match result {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "case_number": case })),
        )
            .into_response(),
        Err(error) => super::problem(error),
    }
}
