//! The administrators' queue: list, take, realise. Only EK-04 administrators.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
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

fn invalid(field: &str, detail: impl Into<String>) -> Response {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-request",
        "Niepoprawne żądanie",
    )
    .detail(detail)
    .field(field)
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
            return invalid(
                "$",
                format!(
                    "Oczekiwano {{\"delivery\": \"in_person\", \"how\": \"…\", \"proxy\": \
                 {{\"name\": \"…\", \"f01_reference\": \"…\"}} (opcjonalnie)}} ({error})."
                ),
            );
        }
    };
    if request.delivery != DeliveryMode::InPerson {
        return invalid(
            "delivery",
            "Pole `delivery`: zgody wymaga tylko odbiór osobisty (`in_person`).",
        );
    }
    let how = request.how.trim();
    if how.is_empty() || how.chars().count() > AGREEMENT_MAX {
        return invalid(
            "how",
            format!(
                "Pole `how`: opisz, jak i kiedy wnioskodawca wyraził zgodę (od 1 do {AGREEMENT_MAX} znaków)."
            ),
        );
    }
    let proxy = match request.proxy {
        None => None,
        Some(proxy) => {
            let name = proxy.name.split_whitespace().collect::<Vec<_>>().join(" ");
            let f01 = proxy.f01_reference.trim().to_owned();
            if name.is_empty() || name.chars().count() > PROXY_FIELD_MAX {
                return invalid(
                    "proxy.name",
                    format!(
                        "Pole `proxy.name`: imię i nazwisko pełnomocnika z formularza F-01 (do {PROXY_FIELD_MAX} znaków)."
                    ),
                );
            }
            if f01.is_empty() || f01.chars().count() > PROXY_FIELD_MAX {
                return invalid(
                    "proxy.f01_reference",
                    format!(
                        "Pole `proxy.f01_reference`: sygnatura upoważnienia F-01 (do {PROXY_FIELD_MAX} znaków)."
                    ),
                );
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

/// The most cases one page of the queue holds.
const PAGE_MAX: u64 = 100;
const PAGE_DEFAULT: u64 = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueQuery {
    status: Option<String>,
    procedure: Option<String>,
    institution: Option<String>,
    older_than_days: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn field_error(field: &str, detail: &str) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-query",
        "Niepoprawne kryteria listy",
    )
    .detail(format!("Parametr `{field}`: {detail}"))
    .field(field)
}

fn number(field: &str, text: Option<&str>, min: u64, max: u64) -> Result<Option<u64>, Problem> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(field_error(
            field,
            &format!("liczba całkowita od {min} do {max}."),
        )),
    }
}

fn queue_filter(query: QueueQuery) -> Result<crate::store::cases::QueueFilter, Problem> {
    use crate::store::cases::{QueueFilter, QueueStatus};
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let status = match blank(&query.status) {
        None => QueueStatus::Open,
        Some(text) => QueueStatus::parse(&text).ok_or_else(|| {
            field_error(
                "status",
                "jedno z: open, waiting, taken, realised, failed, all.",
            )
        })?,
    };
    let procedure = match blank(&query.procedure) {
        None => None,
        Some(text) => Some(
            contracts::forms::Procedure::parse(&text)
                .ok_or_else(|| field_error("procedure", "ZSZO-05 albo PZO-01."))?,
        ),
    };
    let institution = blank(&query.institution);
    if institution
        .as_ref()
        .is_some_and(|i| i.chars().count() > 200)
    {
        return Err(field_error("institution", "najwyżej 200 znaków."));
    }
    let older_than_days =
        number("older_than_days", query.older_than_days.as_deref(), 0, 3650)?.map(|d| d as u32);
    let newest_first = match blank(&query.sort).as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => return Err(field_error("sort", "oldest albo newest.")),
    };
    let page = number("page", query.page.as_deref(), 1, 100_000)?.unwrap_or(1);
    let limit = number("per_page", query.per_page.as_deref(), 1, PAGE_MAX)?.unwrap_or(PAGE_DEFAULT);
    Ok(QueueFilter {
        status,
        procedure,
        institution,
        older_than_days,
        newest_first,
        offset: (page - 1) * limit,
        limit,
    })
}

/// `GET /api/queue?status=&procedure=&institution=&older_than_days=&sort=&page=&per_page=`:
/// a page of cases, the open ones oldest first unless asked otherwise.
async fn queue(
    State(pool): State<PgPool>,
    actor: Actor,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Response {
    if let Err(p) = actor.require(&[Role::Administrator, Role::Operator]) {
        return p.into_response();
    }
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-query",
                "Niepoprawne kryteria listy",
            )
            .detail(format!(
                "Dozwolone parametry: status, procedure, institution, older_than_days, sort, \
                 page, per_page ({rejection})."
            ))
            .into_response();
        }
    };
    let filter = match queue_filter(query) {
        Ok(filter) => filter,
        Err(problem) => return problem.into_response(),
    };
    match crate::store::cases::queue_list(&pool, &filter, SystemClock.now()).await {
        Ok((entries, total)) => Json(serde_json::json!({
            "cases": entries,
            "total": total,
            "page": filter.offset / filter.limit + 1,
            "per_page": filter.limit,
        }))
        .into_response(),
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
