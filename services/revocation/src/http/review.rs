//! "Rozpatrywanie" → "Cofnięcie", the authorising body's side: fetch the waiting requests
//! into this local database, mark the ticked ones "Przyjęty do rozpatrzenia" (a status
//! form for the panel), open one, and decide it (accept, reject, or withdraw: "cofnięcie
//! wniosku"), each confirmed; the decision goes to the panel as a form. A request is
//! decided once: a second decision, even a concurrent one, is refused with a conflict.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use contracts::Envelope;
use contracts::revocation::events::{
    FormKind, RefusalReason, RevocationDecided, RevocationDecision, RevocationFetched,
    RevocationReviewStarted,
};
use contracts::revocation::{RevocationMode, RevocationReason};
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    About, AppState, DatabaseNotFound, InDatabase, InvalidRequest, LIST_MAX, NotAnEmployee,
    bounded_ids, in_database, json_rejected, problem, refuse,
};
use crate::domain::refusal::Refusal;
use crate::domain::status;
use crate::store::requests::{self, Request};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fetch))
        .routes(routes!(list))
        .routes(routes!(start))
        .routes(routes!(detail))
        .routes(routes!(decide))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Fetched {
    pub fetched: usize,
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/review/fetch",
    tag = "review",
    operation_id = "review_fetch",
    summary = "Fetches the requests waiting for this authorising body into this local database",
    description = "Any active employee of the local database's unit: the requests the central \
        system received for the unit and no local database fetched yet.",
    params(super::DatabasePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "How many came", body = Fetched),
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn fetch(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let fetched = async {
        let mut tx = state.pool.begin().await?;
        let ids = requests::fetch_waiting(&mut tx, &here.database.id, &here.database.unit_id, now)
            .await?;
        for id in &ids {
            let event = Envelope::new(
                here.actor.clone(),
                now,
                RevocationFetched {
                    request_id: *id,
                    local_database_id: here.database.id.clone(),
                },
            );
            kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(ids.len())
    }
    .await;
    match fetched {
        Ok(fetched) => {
            state.outbox_wake.notify_one();
            Json(Fetched { fetched }).into_response()
        }
        Err(error) => problem(error),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    #[schema(value_type = String, format = "uuid")]
    pub request_id: Uuid,
    pub mode: RevocationMode,
    pub mode_label: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    /// The local database the request came from.
    pub from_local_database: String,
    pub reason: RevocationReason,
    pub reason_label: String,
    pub created_at: DateTime<Utc>,
    /// "Oczekuje na rozpatrzenie", "Przyjęty do rozpatrzenia", "Zaakceptowany",
    /// "Odrzucony" or "Wniosek cofnięty".
    pub status: String,
    pub review_started: bool,
    pub decision: Option<RevocationDecision>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewDetail {
    #[serde(flatten)]
    pub item: ReviewItem,
    pub authorisation_id: String,
    /// The local database that granted the authorisation.
    pub granted_in: String,
    pub created_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn item(r: &Request) -> ReviewItem {
    let mode = super::requests::mode_of(&r.mode);
    let reason =
        RevocationReason::parse(&r.reason).unwrap_or(RevocationReason::FalseOrOutdatedData);
    let decision = r.decision.as_deref().and_then(RevocationDecision::parse);
    ReviewItem {
        request_id: r.id,
        mode,
        mode_label: mode.label().to_owned(),
        first_name: r.first_name.clone(),
        last_name: r.last_name.clone(),
        pesel_masked: r.pesel_masked.clone(),
        unit_name: r.unit_name.clone(),
        from_local_database: r.local_database_name.clone(),
        reason,
        reason_label: reason.label().to_owned(),
        created_at: r.created_at,
        status: status::review_status(r.review_started_at.is_some(), decision).to_owned(),
        review_started: r.review_started_at.is_some(),
        decision,
    }
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/review",
    tag = "review",
    operation_id = "review_list",
    summary = "The requests fetched into this local database, undecided first",
    description = "Any active employee of the local database's unit; at most 500.",
    params(super::DatabasePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The requests", body = Vec<ReviewItem>),
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn list(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    match requests::fetched_into(&state.pool, &here.database.id, LIST_MAX).await {
        Ok(rows) => Json(rows.iter().map(item).collect::<Vec<_>>()).into_response(),
        Err(error) => problem(error),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TickedRequests {
    /// The ticked requests (at most 500).
    #[schema(value_type = Vec<String>)]
    pub request_ids: Vec<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/review/start",
    tag = "review",
    operation_id = "review_start",
    summary = "Marks the ticked requests \"Przyjęty do rozpatrzenia\"",
    description = "Any active employee of the local database's unit, for requests fetched into \
        it. Each marked request puts a status form in the panel's \"Do wysłania\"; one marked \
        before stays as it was.",
    params(super::DatabasePath),
    request_body = TickedRequests,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "What was marked", body = super::panel::Moved),
        InvalidRequest,
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn start(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
    body: Result<Json<TickedRequests>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return json_rejected(rejection),
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let ids = match bounded_ids(&body.request_ids) {
        Ok(ids) => ids,
        Err(response) => return *response,
    };
    let now = state.clock.now();
    let marked = async {
        let mut tx = state.pool.begin().await?;
        let marked =
            requests::start_review(&mut tx, &here.database.id, ids, actor.login(), now).await?;
        for id in &marked {
            let event = Envelope::new(
                here.actor.clone(),
                now,
                RevocationReviewStarted {
                    request_id: *id,
                    local_database_id: here.database.id.clone(),
                },
            );
            kit::outbox::outbox_insert_event(&mut tx, &event).await?;
            crate::communication::add_form(
                &mut tx,
                &here.database,
                *id,
                FormKind::ReviewStarted,
                &here.actor,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(marked.len())
    }
    .await;
    match marked {
        Ok(moved) => {
            state.outbox_wake.notify_one();
            Json(super::panel::Moved::of(ids, moved)).into_response()
        }
        Err(error) => problem(error),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "describes the path only")]
struct RequestPath {
    /// The local database's id.
    database: String,
    /// The request's id.
    #[param(value_type = String, format = "uuid")]
    request: Uuid,
}

/// No such request fetched into this local database (`request-not-found`)
#[derive(utoipa::IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
#[allow(
    dead_code,
    reason = "describes the answer only: request_not_found builds it"
)]
struct RequestNotFound(Problem);

fn request_not_found() -> Response {
    super::not_found(
        "request-not-found",
        "Nie ma takiego wniosku",
        "W tej lokalnej bazie danych nie ma pobranego wniosku o tym identyfikatorze.",
    )
}

/// The request, if it was fetched into this local database.
async fn fetched_here(state: &AppState, here: &InDatabase, id: &str) -> Result<Request, Response> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(request_not_found());
    };
    match requests::one(&state.pool, id).await {
        Ok(Some(r)) if r.review_local_database_id.as_deref() == Some(here.database.id.as_str()) => {
            Ok(r)
        }
        Ok(_) => Err(request_not_found()),
        Err(error) => Err(problem(error)),
    }
}

fn detail_of(r: &Request) -> ReviewDetail {
    ReviewDetail {
        item: item(r),
        authorisation_id: r.authorisation_id.clone(),
        granted_in: r.granted_in.clone(),
        created_by: r.created_by.clone(),
        decided_by: r.decided_by.clone(),
        decided_at: r.decided_at,
    }
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/review/{request}",
    tag = "review",
    operation_id = "review_detail",
    summary = "One fetched request's details, to verify before deciding",
    description = "Any active employee of the local database's unit.",
    params(RequestPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The request", body = ReviewDetail),
        kit::openapi::Unauthorized,
        NotAnEmployee,
        RequestNotFound,
        kit::openapi::Internal,
    )
)]
async fn detail(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path((database, request)): Path<(String, String)>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    match fetched_here(&state, &here, &request).await {
        Ok(r) => Json(detail_of(&r)).into_response(),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Decide {
    /// `accepted`, `rejected` or `withdrawn` ("cofnięcie wniosku").
    pub decision: RevocationDecision,
    /// The confirmation window's answer: the decision is recorded only when true.
    #[serde(default)]
    pub confirmed: bool,
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/review/{request}/decision",
    tag = "review",
    operation_id = "review_decide",
    summary = "Decides a request marked \"Przyjęty do rozpatrzenia\": accept, reject or withdraw",
    description = "Any active employee of the local database's unit but the one who made the \
        request, confirmed. The decision \
        puts a form in the panel's \"Do wysłania\"; an accepted request revokes the \
        authorisation once that form reaches the central system. Decided once: a second \
        decision is a conflict.",
    params(RequestPath),
    request_body = Decide,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Decided", body = ReviewDetail),
        InvalidRequest,
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an employee of the unit \
            (`not-an-employee-of-the-unit`), or the person who made the request \
            (`own-request`)", body = Problem, content_type = "application/problem+json"),
        RequestNotFound,
        (status = 409, description = "Decided already (`already-decided`), not marked \
            \"Przyjęty do rozpatrzenia\" (`not-under-review`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Not confirmed (`not-confirmed`)", body = Problem,
            content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn decide(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path((database, request)): Path<(String, String)>,
    body: Result<Json<Decide>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return json_rejected(rejection),
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let found = match fetched_here(&state, &here, &request).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let about = || About {
        mode: Some(super::requests::mode_of(&found.mode)),
        authorisation_id: Some(found.authorisation_id.clone()),
        request_id: Some(found.id),
    };
    // One person does not both ask and decide, even where he works for both units.
    if found.created_by == actor.login() {
        let refusal = Refusal::new(RefusalReason::OwnRequest);
        return refuse(&state, here.actor, &here.database.id, refusal, about()).await;
    }
    if !body.confirmed {
        let refusal = Refusal::new(RefusalReason::NotConfirmed);
        return refuse(&state, here.actor, &here.database.id, refusal, about()).await;
    }
    let reason =
        RevocationReason::parse(&found.reason).unwrap_or(RevocationReason::FalseOrOutdatedData);
    let now = state.clock.now();
    let decided = async {
        let mut tx = state.pool.begin().await?;
        let decided = requests::decide(
            &mut tx,
            found.id,
            &here.database.id,
            body.decision.code(),
            actor.login(),
            now,
        )
        .await?;
        if !decided {
            return Ok::<_, sqlx::Error>(false);
        }
        let event = Envelope::new(
            here.actor.clone(),
            now,
            RevocationDecided {
                request_id: found.id,
                decision: body.decision,
                reason,
                local_database_id: here.database.id.clone(),
                decided_at: now,
            },
        );
        kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        crate::communication::add_form(
            &mut tx,
            &here.database,
            found.id,
            FormKind::Decision,
            &here.actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await;
    match decided {
        Ok(true) => {
            state.outbox_wake.notify_one();
            match requests::one(&state.pool, found.id).await {
                Ok(Some(r)) => Json(detail_of(&r)).into_response(),
                Ok(None) => request_not_found(),
                Err(error) => problem(error),
            }
        }
        Ok(false) => {
            // Read again: a concurrent decision may have come first.
            let now_found = match requests::one(&state.pool, found.id).await {
                Ok(Some(r)) => r,
                Ok(None) => return request_not_found(),
                Err(error) => return problem(error),
            };
            let refusal = match now_found
                .decision
                .as_deref()
                .and_then(RevocationDecision::parse)
            {
                Some(earlier) => Refusal::with_detail(
                    RefusalReason::AlreadyDecided,
                    format!(
                        "Ten wniosek został już rozpatrzony: {}.",
                        status::decision_label(earlier)
                    ),
                ),
                None => Refusal::new(RefusalReason::NotUnderReview),
            };
            refuse(&state, here.actor, &here.database.id, refusal, about()).await
        }
        Err(error) => problem(error),
    }
}
