//! The department's queue: list (administrators and operators), take and realise (an
//! administrator or a staff member granted the right to process requests), the requester's
//! agreement to collection in person (an administrator or operator other than the one who
//! took the case), closing a failed case with a note (an administrator).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::forms::DeliveryMode;
use kit::auth::{Actor, Role};
use kit::clock::{Clock, SystemClock};
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::CaseNumber;
use crate::error::Error;
use crate::processing;
use crate::store::cases::QueueEntry;

const ADMINISTRATOR: &[Role] = &[Role::Administrator];

pub fn routes() -> OpenApiRouter<PgPool> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(take))
        .routes(routes!(realise))
        .routes(routes!(agree_delivery))
        .routes(routes!(close))
}

/// A failed, refused or expired case closed with a note (1 to 1000 characters).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    /// Why it is closed: what was done instead, what the requester was told.
    #[schema(min_length = 1, max_length = 1000)]
    note: String,
}

#[utoipa::path(
    post,
    path = "/api/cases/{procedure}/{year}/{sequence}/close",
    tag = "queue",
    operation_id = "case_close",
    summary = "Close a failed, refused or expired case with a note",
    description = "Role: administrator. SEOD (or the sender of an e-mailed request) is told \
        the case is closed; audit records the note.",
    params(kit::openapi::CaseNumberPath),
    request_body = CloseRequest,
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Closed", body = CaseNumber),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is not failed, refused or expired \
            (`case-conflict`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "No note, or a note too long; `field` is `note` \
            (`invalid-request`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn close(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require(ADMINISTRATOR) {
        return problem.into_response();
    }
    let note = match serde_json::from_slice::<CloseRequest>(&body) {
        Ok(request) => request.note.trim().to_owned(),
        Err(error) => {
            return invalid("$", format!("Oczekiwano {{\"note\": \"…\"}} ({error})."));
        }
    };
    if note.is_empty() || note.chars().count() > processing::CLOSING_NOTE_MAX {
        return invalid(
            "note",
            format!(
                "Pole `note`: napisz, dlaczego sprawa jest zamykana i co przekazano \
                 wnioskodawcy (od 1 do {} znaków).",
                processing::CLOSING_NOTE_MAX
            ),
        );
    }
    let case = format!("{p}/{y}/{s}");
    answer(
        processing::close_with_note(&pool, &case, actor.login(), &note, SystemClock.now()).await,
        &case,
    )
}

/// Longest accepted note of how the requester agreed, and proxy's name or F-01 reference.
const AGREEMENT_MAX: usize = 500;
const PROXY_FIELD_MAX: usize = 200;

/// The requester's agreement to collect the letter in person; a proxy's name and F-01
/// reference have at most 200 characters each.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AgreementRequest {
    /// Only `in_person`: electronic delivery needs no agreement.
    delivery: DeliveryMode,
    /// How and when the requester agreed.
    #[schema(min_length = 1, max_length = 500)]
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
#[utoipa::path(
    post,
    path = "/api/cases/{procedure}/{year}/{sequence}/delivery-agreement",
    tag = "queue",
    operation_id = "case_delivery_agreement",
    summary = "Record that the requester agreed to collect the letter in person",
    description = "Roles: administrator, operator; not the person who took the case.",
    params(kit::openapi::CaseNumberPath),
    request_body = AgreementRequest,
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Recorded; the case goes on", body = CaseNumber),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator or operator (`forbidden`), or the \
            person who took the case (`separation-of-duties`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is past the point where an agreement is recorded \
            (`case-conflict`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The body is not an agreement; `field` names the one at \
            fault (`invalid-request`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
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

/// Read as text, so that each bad one is answered by name; a blank one counts as absent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct QueueQuery {
    /// `open` (the default: verified, waiting or taken), `waiting`, `taken`, `realised` (and
    /// everything after it), `failed` (failed, expired or refused) or `all`.
    status: Option<String>,
    /// `ZSZO-05` or `PZO-01`.
    procedure: Option<String>,
    /// Part of the institution's name or its RSPO id, at most 200 characters.
    institution: Option<String>,
    /// Only cases registered more than this many days ago, 0 to 3650.
    older_than_days: Option<String>,
    /// `oldest` (the default) or `newest` first.
    sort: Option<String>,
    /// The page, from 1.
    page: Option<String>,
    /// Cases on a page, 1 to 100 (25 by default).
    per_page: Option<String>,
}

/// A page of the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct QueuePage {
    cases: Vec<QueueEntry>,
    /// How many cases match, on every page.
    total: u64,
    page: u64,
    per_page: u64,
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
#[utoipa::path(
    get,
    path = "/api/queue",
    tag = "queue",
    operation_id = "queue_list",
    summary = "A page of cases, the open ones oldest first unless asked otherwise",
    description = "Roles: administrator, operator.",
    params(QueueQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The page", body = QueuePage),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator or operator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is unknown or wrong; `field` names a wrong one \
            (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
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
        Ok((cases, total)) => Json(QueuePage {
            cases,
            total,
            page: filter.offset / filter.limit + 1,
            per_page: filter.limit,
        })
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "listing the queue failed");
            Problem::internal().into_response()
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/cases/{procedure}/{year}/{sequence}/take",
    tag = "queue",
    operation_id = "case_take",
    summary = "Take a case: the signed-in administrator will realise it",
    description = "Role: administrator, or a staff member granted the right to process \
        requests. No body is read.",
    params(kit::openapi::CaseNumberPath),
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Taken", body = CaseNumber),
        kit::openapi::Unauthorized,
        (status = 403, description = "Neither an administrator nor granted the right to process \
            requests (`forbidden`), or the person who \
            registered the request (`separation-of-duties`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already taken, not waiting in the queue, or not yet \
            verified (`case-conflict`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn take(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
) -> Response {
    if let Err(problem) = actor.require_processing() {
        return problem.into_response();
    }
    let case = format!("{p}/{y}/{s}");
    answer(
        processing::take(
            &pool,
            &case,
            actor.login(),
            actor.0.role.as_str(),
            SystemClock.now(),
        )
        .await,
        &case,
    )
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RealiseRequest {
    /// Electronic (default) or in person, when the parties agreed so.
    #[serde(default)]
    delivery: Option<DeliveryMode>,
}

#[utoipa::path(
    post,
    path = "/api/cases/{procedure}/{year}/{sequence}/realise",
    tag = "queue",
    operation_id = "case_realise",
    summary = "Realise a taken case: a new starting password is issued and delivered",
    description = "Role: administrator, or a staff member granted the right to process requests; the one who took the case.",
    params(kit::openapi::CaseNumberPath),
    request_body(
        content = Option<RealiseRequest>,
        description = "May be left empty: electronic delivery"
    ),
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Realisation requested", body = CaseNumber),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator (`forbidden`); or the person who \
            registered the request or recorded the in-person agreement (`separation-of-duties`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case (`case-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not taken, taken by someone else, already being realised, \
            or in person without the requester's agreement (`case-conflict`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The body is not `{\"delivery\": …}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn realise(
    State(pool): State<PgPool>,
    actor: Actor,
    Path((p, y, s)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require_processing() {
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
            actor.0.role.as_str(),
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
            Json(CaseNumber {
                case_number: case.to_owned(),
            }),
        )
            .into_response(),
        Err(error) => super::problem(error),
    }
}
