//! audit's HTTP API: verification, the record for auditors (JSON or CSV), checkpoints,
//! the register of security incidents.

mod csv;
mod incidents;
mod retention;

use std::sync::Arc;

use async_nats::jetstream;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use contracts::events::AuditCheckpoint;
use contracts::values::Pesel;
use ed25519_dalek::VerifyingKey;
use kit::clock::Clock;
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::checkpointer::Checkpointer;
use crate::domain::incidents::TransitionError;
use crate::domain::minimise::Minimiser;
use crate::domain::verify::Report;
use crate::error::Error;
use crate::store::records::{RecordFilter, RecordView, records_find};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub js: jetstream::Context,
    pub trusted: VerifyingKey,
    pub minimiser: Arc<Minimiser>,
    pub checkpointer: Arc<Checkpointer>,
    pub clock: Arc<dyn Clock>,
    pub retention: chrono::Duration,
}

/// Who may read the record, open and move incidents, sign checkpoints and prune.
pub(crate) const AUDIT_STAFF: &[kit::auth::Role] =
    &[kit::auth::Role::Auditor, kit::auth::Role::Administrator];

pub fn router(state: AppState) -> Router {
    let (routes, operations) = api().split_for_parts();
    routes
        .with_state(state)
        .merge(kit::openapi::routes(&document(operations)))
}

/// audit's OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    document(api().into_openapi())
}

/// Every route with its description: routed and described from the same `#[utoipa::path]`.
fn api() -> OpenApiRouter<AppState> {
    let staff_only = OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(accounts_created))
        .routes(routes!(revocations))
        .routes(routes!(sign_checkpoint))
        .merge(incidents::routes())
        .merge(retention::routes())
        .route_layer(axum::middleware::from_fn(audit_staff_only));
    // The chain's integrity and its newest checkpoint name no one: anyone may check them.
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(latest_checkpoint))
        .merge(staff_only)
}

fn document(operations: OpenApi) -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        operations,
    )
}

/// The record holds personal data: only an auditor or an administrator, signed in, gets in.
async fn audit_staff_only(
    actor: kit::auth::Actor,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match actor.require(AUDIT_STAFF) {
        Ok(()) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

/// `GET /verify`: 200 with the report when the chain is intact, 409 with it when not.
#[utoipa::path(
    get,
    path = "/verify",
    tag = "chain",
    operation_id = "chain_verify",
    summary = "Verify the whole chain against itself and every signed checkpoint",
    description = "No token needed: the report names no one.",
    responses(
        (status = 200, description = "The chain is intact", body = Report),
        (status = 409, description = "The chain is broken; `problem` says where and how",
            body = Report),
        kit::openapi::Internal,
    )
)]
async fn verify(State(state): State<AppState>) -> Response {
    match crate::verification::verify(&state.pool, &state.js, &state.trusted).await {
        Ok(report) => {
            let status = if report.valid {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            if let Some(problem) = &report.problem {
                tracing::error!(position = problem.position, kind = ?problem.kind, "audit chain verification failed");
            }
            (status, Json(report)).into_response()
        }
        Err(error) => internal(error),
    }
}

/// Query parameters, spelled out: `serde(flatten)` cannot read numbers from a query string.
/// Every criterion given must hold.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    #[param(example = "ZSZO-05/2026/000001")]
    case_number: Option<String>,
    /// The SEOD document id.
    document_id: Option<String>,
    institution_rspo_id: Option<String>,
    /// The event's subject, e.g. `intake.case.registered`.
    event_type: Option<String>,
    /// Who acted or whom the event is about.
    login: Option<String>,
    /// Whom the event is about, by PESEL (kept only as a keyed hash).
    pesel: Option<String>,
    revocation_request_id: Option<String>,
    /// Occurred at or after (RFC 3339).
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Occurred before (RFC 3339).
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// Only records after this chain position: the previous page's `next_after_position`.
    after_position: Option<i64>,
    /// `oldest` (chain order, the default) or `newest` (newest first).
    order: Option<String>,
    /// With `order=newest`: only records before this position, the previous page's
    /// `next_before_position`.
    before_position: Option<i64>,
    /// At most this many records, 1 to 10000 (100 by default; out of range is clamped).
    limit: Option<i64>,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// A page of the record.
#[derive(Serialize, utoipa::ToSchema)]
struct EventsPage {
    /// In chain order.
    events: Vec<RecordView>,
    /// The last position on this page, for `after_position`; null on an empty page or
    /// with `order=newest`.
    next_after_position: Option<i64>,
    /// With `order=newest`: the last position on this page, for `before_position`.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before_position: Option<i64>,
}

/// `GET /api/events?case_number=&document_id=&institution_rspo_id=&event_type=&login=&pesel=
/// &revocation_request_id=&from=&to=&after_position=&order=&before_position=&limit=&format=json|csv`
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "record",
    operation_id = "events_find",
    summary = "Records of the chain matching every criterion given, as JSON or CSV",
    description = "Roles: auditor, administrator.",
    params(EventsQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The records found", content(
            (EventsPage = "application/json"),
            (String = "text/csv"),
        ), headers(("Content-Disposition" = String,
            description = "With CSV: `attachment; filename=\"audit.csv\"`"))),
        (status = 400, description = "A parameter cannot be read (`invalid-query`), a wrong \
            PESEL (`invalid-pesel`) or format (`invalid-format`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn events(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(query)) => find(&state, query).await,
        Err(rejection) => bad_query(rejection),
    }
}

fn bad_query(rejection: QueryRejection) -> Response {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-query",
        "Niepoprawne parametry zapytania",
    )
    .detail(rejection.body_text())
    .into_response()
}

/// Who created which accounts.
#[utoipa::path(
    get,
    path = "/api/reports/accounts-created",
    tag = "record",
    operation_id = "report_accounts_created",
    summary = "Who created which accounts: `/api/events` of `accounts.account.created`",
    description = "Roles: auditor, administrator. `event_type` is ignored.",
    params(EventsQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The records found", content(
            (EventsPage = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A parameter cannot be read (`invalid-query`), a wrong \
            PESEL (`invalid-pesel`) or format (`invalid-format`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn accounts_created(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    of_type(&state, query, contracts::subjects::ACCOUNTS_ACCOUNT_CREATED).await
}

/// Which authorisations the central register revoked, when, and for which reason.
#[utoipa::path(
    get,
    path = "/api/reports/revocations",
    tag = "record",
    operation_id = "report_revocations",
    summary = "Which authorisations the central register revoked, when, and for which reason",
    description = "Roles: auditor, administrator. `/api/events` of \
        `revocation.authorisation.revoked` (its request, found by `revocation_request_id`, \
        says who asked and who decided); \
        `event_type` is ignored.",
    params(EventsQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The records found", content(
            (EventsPage = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A parameter cannot be read (`invalid-query`), a wrong \
            PESEL (`invalid-pesel`) or format (`invalid-format`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn revocations(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    of_type(
        &state,
        query,
        contracts::subjects::REVOCATION_AUTHORISATION_REVOKED,
    )
    .await
}

async fn of_type(
    state: &AppState,
    query: Result<Query<EventsQuery>, QueryRejection>,
    event_type: &str,
) -> Response {
    match query {
        Ok(Query(mut query)) => {
            query.event_type = Some(event_type.to_owned());
            find(state, query).await
        }
        Err(rejection) => bad_query(rejection),
    }
}

async fn find(state: &AppState, query: EventsQuery) -> Response {
    let mut filter = RecordFilter {
        case_number: query.case_number,
        document_id: query.document_id,
        institution_rspo_id: query.institution_rspo_id,
        event_type: query.event_type,
        login: query.login,
        pesel_hash: None,
        revocation_request_id: query.revocation_request_id,
        from: query.from,
        to: query.to,
        after_position: query.after_position,
        newest_first: false,
        before_position: query.before_position,
        limit: query.limit,
    };
    filter.newest_first = match query.order.as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(other) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "Niepoprawne parametry zapytania",
            )
            .detail(format!(
                "Parametr „order”: `{other}` nie jest obsługiwany; dostępne: oldest, newest."
            ))
            .field("order")
            .into_response();
        }
    };
    if let Some(pesel) = query.pesel {
        match Pesel::parse(&pesel) {
            Ok(pesel) => filter.pesel_hash = Some(state.minimiser.pesel_hash(&pesel)),
            Err(e) => {
                return Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-pesel",
                    "Niepoprawny PESEL",
                )
                .detail(e.message)
                .into_response();
            }
        }
    }
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-format",
                "Nieobsługiwany format",
            )
            .detail(format!(
                "Format `{other}` nie jest obsługiwany; dostępne: json, csv."
            ))
            .into_response();
        }
    };
    match records_find(&state.pool, &filter).await {
        Ok(rows) if csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
            ],
            csv::render(&rows),
        )
            .into_response(),
        Ok(events) => {
            let last = events.last().map(|r| r.position);
            let (next_after_position, next_before_position) = if filter.newest_first {
                (None, last)
            } else {
                (last, None)
            };
            Json(EventsPage {
                events,
                next_after_position,
                next_before_position,
            })
            .into_response()
        }
        Err(error) => internal(error),
    }
}

#[utoipa::path(
    get,
    path = "/api/checkpoints/latest",
    tag = "chain",
    operation_id = "checkpoint_latest",
    summary = "The newest signed checkpoint",
    description = "No token needed: a checkpoint names no one.",
    responses(
        (status = 200, description = "The newest checkpoint", body = AuditCheckpoint),
        (status = 404, description = "None was signed yet (`no-checkpoint`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn latest_checkpoint(State(state): State<AppState>) -> Response {
    match crate::store::checkpoints::checkpoint_newest(&state.pool).await {
        Ok(Some(cp)) => Json(cp).into_response(),
        Err(error) => internal(error),
        Ok(None) => Problem::new(
            StatusCode::NOT_FOUND,
            "no-checkpoint",
            "Brak punktu kontrolnego",
        )
        .detail("Nie podpisano jeszcze żadnego punktu kontrolnego.")
        .into_response(),
    }
}

/// Signs the current head now (e.g. before an export or an inspection).
#[utoipa::path(
    post,
    path = "/api/checkpoints",
    tag = "chain",
    operation_id = "checkpoint_sign",
    summary = "Sign a checkpoint of the chain's head now, e.g. before an export",
    description = "Roles: auditor, administrator. No body is read.",
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Signed", body = AuditCheckpoint),
        (status = 204, description = "The head is signed already; nothing to do"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The chain does not extend the newest checkpoint kept \
            outside the database; nothing signed (`chain-does-not-extend-checkpoint`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn sign_checkpoint(State(state): State<AppState>) -> Response {
    match state.checkpointer.checkpoint().await {
        Ok(Some(cp)) => (StatusCode::CREATED, Json(cp)).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => problem(error),
    }
}

fn internal(error: sqlx::Error) -> Response {
    tracing::error!(%error, "audit request failed");
    Problem::internal().into_response()
}

/// The one place where audit's error becomes a problem for the auditor.
pub(crate) fn problem(error: Error) -> Response {
    let (status, kind, title, detail) = match &error {
        Error::IncidentNotFound(number) => (
            StatusCode::NOT_FOUND,
            "incident-not-found",
            "Nie znaleziono incydentu",
            format!("Nie ma incydentu o numerze {number}."),
        ),
        Error::Refused {
            refusal: TransitionError::ClosingNoteMissing,
            ..
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Niepoprawne dane żądania",
            TransitionError::ClosingNoteMissing.message(),
        ),
        Error::Refused { number, refusal } => (
            StatusCode::CONFLICT,
            "incident-status-conflict",
            "Niedozwolona zmiana statusu incydentu",
            format!("{number}: {}", refusal.message()),
        ),
        Error::Duty(message) => (
            StatusCode::FORBIDDEN,
            "separation-of-duties",
            "Ten incydent musi zamknąć inna osoba",
            message.clone(),
        ),
        Error::NothingToPrune => (
            StatusCode::NOT_FOUND,
            "nothing-to-prune",
            "Brak rekordów do usunięcia",
            "Żaden rekord nie jest starszy niż okres przechowywania.".to_owned(),
        ),
        Error::TooRecent(p) => (
            StatusCode::CONFLICT,
            "too-recent",
            "Rekordy są zbyt nowe",
            format!("Rekord {p} nie jest starszy niż okres przechowywania."),
        ),
        Error::ExportMismatch(p) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "export-mismatch",
            "Eksport nie zgadza się z segmentem",
            format!(
                "Skrót SHA-256 eksportu nie odpowiada segmentowi do rekordu {p}; pobierz go ponownie."
            ),
        ),
        Error::ChainBroken(p) => (
            StatusCode::CONFLICT,
            "chain-broken",
            "Łańcuch audytu jest naruszony",
            format!("Łańcuch nie weryfikuje się przy rekordzie {p}; nic nie usunięto."),
        ),
        Error::ChainDoesNotExtend { outside, .. } => (
            StatusCode::CONFLICT,
            "chain-does-not-extend-checkpoint",
            "Łańcuch nie przedłuża ostatniego punktu kontrolnego",
            format!(
                "Łańcuch w bazie danych nie przedłuża punktu kontrolnego na pozycji {outside}, przechowywanego poza bazą. Nowego punktu nie podpisano; sprawdź łańcuch (/verify)."
            ),
        ),
        Error::Database(_) => {
            tracing::error!(%error, "an audit request failed");
            return Problem::internal().into_response();
        }
    };
    Problem::new(status, kind, title)
        .detail(detail)
        .into_response()
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
