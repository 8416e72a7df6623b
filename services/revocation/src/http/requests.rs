//! "Wniosek" → "Cofnięcie" ("Moje wnioski"): the two modes' lists, the preview of an
//! authorisation's data, and the request, confirmed in its own step. Every check is the
//! register's: mode 1 only from the local database that granted the authorisation, for a
//! unit below its own; mode 2 only for the local database's administrator, for an active
//! employee of his unit. A refusal is recorded with its reason and changes nothing.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::Envelope;
use contracts::revocation::events::{FormKind, RefusalReason, RevocationRequested};
use contracts::revocation::{RevocationMode, RevocationReason};
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    About, AppState, DatabaseNotFound, InDatabase, InvalidRequest, LIST_MAX, NotAnEmployee,
    in_database, json_rejected, problem, refuse,
};
use crate::domain::refusal::Refusal;
use crate::domain::status;
use crate::store::register::{self, Authorisation};
use crate::store::requests::{self, NewRequest};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(subordinate))
        .routes(routes!(own_unit))
        .routes(routes!(preview))
        .routes(routes!(created, create))
        .routes(routes!(reasons))
}

/// A person a list offers, with the authorisation the request would revoke.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listed {
    pub authorisation_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    /// The unit the person represents.
    pub unit_id: String,
    pub unit_name: String,
    /// A request for this authorisation is under way already.
    pub open_request: bool,
}

impl From<Authorisation> for Listed {
    fn from(a: Authorisation) -> Self {
        Self {
            authorisation_id: a.id,
            first_name: a.first_name,
            last_name: a.last_name,
            pesel_masked: a.pesel_masked,
            unit_id: a.unit_id,
            unit_name: a.unit_name,
            open_request: a.open_request,
        }
    }
}

/// "podgląd danych z upoważnienia"
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub authorisation_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    /// The local database whose application granted it.
    pub granted_in: String,
    pub granted_in_name: String,
    pub approved_by: String,
    #[schema(value_type = String, format = "date")]
    pub approved_at: NaiveDate,
    pub scope: String,
}

impl From<Authorisation> for Preview {
    fn from(a: Authorisation) -> Self {
        Self {
            authorisation_id: a.id,
            first_name: a.first_name,
            last_name: a.last_name,
            pesel_masked: a.pesel_masked,
            unit_name: a.unit_name,
            granted_in: a.granted_in,
            granted_in_name: a.granted_in_name,
            approved_by: a.approved_by_name,
            approved_at: a.approved_at,
            scope: a.scope,
        }
    }
}

/// Only the local database's administrator (`not-local-database-administrator`)
#[derive(utoipa::IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
#[allow(dead_code, reason = "describes the answer only: refuse builds it")]
struct NotAdministrator(Problem);

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/subordinate-authorisations",
    tag = "requests",
    operation_id = "subordinate_authorisations",
    summary = "Mode 1's list: people whose applications were approved in this local database",
    description = "Any active employee of the local database's unit. First name, last name, \
        PESEL (masked) and the unit the person represents; only units below this one.",
    params(super::DatabasePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The people", body = Vec<Listed>),
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn subordinate(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    match register::approved_here(&state.pool, &here.database).await {
        Ok(rows) => Json(rows.into_iter().map(Listed::from).collect::<Vec<_>>()).into_response(),
        Err(error) => problem(error),
    }
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/own-unit-employees",
    tag = "requests",
    operation_id = "own_unit_employees",
    summary = "Mode 2's list: the unit's active employees with an authorisation",
    description = "Only the local database's administrator (a school's director, a JST's \
        mayor); anyone else is refused, and the refusal is recorded.",
    params(super::DatabasePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The employees", body = Vec<Listed>),
        kit::openapi::Unauthorized,
        NotAdministrator,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn own_unit(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    if !here.employment.administrator {
        return refuse(
            &state,
            here.actor,
            &here.database.id,
            Refusal::new(RefusalReason::NotLocalDatabaseAdministrator),
            About {
                mode: Some(RevocationMode::OwnUnit),
                ..About::default()
            },
        )
        .await;
    }
    match register::own_unit(
        &state.pool,
        &here.database.unit_id,
        &here.employment.person_id,
    )
    .await
    {
        Ok(rows) => Json(rows.into_iter().map(Listed::from).collect::<Vec<_>>()).into_response(),
        Err(error) => problem(error),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ModeQuery {
    /// `subordinate_unit` (mode 1) or `own_unit` (mode 2).
    mode: RevocationMode,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "describes the path only")]
struct AuthorisationPath {
    /// The local database's id.
    database: String,
    /// The authorisation's id, e.g. `UPW-2025-0001`.
    authorisation: String,
}

/// No such authorisation (`authorisation-not-found`)
#[derive(utoipa::IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
#[allow(
    dead_code,
    reason = "describes the answer only: authorisation_not_found builds it"
)]
struct AuthorisationNotFound(Problem);

fn authorisation_not_found() -> Response {
    super::not_found(
        "authorisation-not-found",
        "Nie ma takiego upoważnienia",
        "W rejestrze nie ma upoważnienia o tym identyfikatorze.",
    )
}

/// The authorisation, if this person may ask to revoke it from here in this mode; else the
/// recorded refusal.
async fn admissible(
    state: &AppState,
    here: &InDatabase,
    mode: RevocationMode,
    authorisation_id: &str,
) -> Result<Authorisation, Response> {
    let authorisation = match register::authorisation(&state.pool, authorisation_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(authorisation_not_found()),
        Err(error) => return Err(problem(error)),
    };
    let refused = |refusal: Refusal| {
        refuse(
            state,
            here.actor.clone(),
            &here.database.id,
            refusal,
            About {
                mode: Some(mode),
                authorisation_id: Some(authorisation.id.clone()),
                request_id: None,
            },
        )
    };
    let refusal = match mode {
        RevocationMode::SubordinateUnit => {
            if authorisation.granted_in != here.database.id {
                Some(Refusal::with_detail(
                    RefusalReason::WrongLocalDatabase,
                    format!(
                        "Upoważnienie można cofnąć tylko z tej lokalnej bazy danych, w której \
                         zostało udzielone: „{}”.",
                        authorisation.granted_in_name
                    ),
                ))
            } else {
                match register::is_below(
                    &state.pool,
                    &authorisation.unit_id,
                    &here.database.unit_id,
                )
                .await
                {
                    Ok(true) => None,
                    Ok(false) => Some(Refusal::new(RefusalReason::UnitNotSubordinate)),
                    Err(error) => return Err(problem(error)),
                }
            }
        }
        RevocationMode::OwnUnit => {
            if !here.employment.administrator {
                Some(Refusal::new(RefusalReason::NotLocalDatabaseAdministrator))
            } else if authorisation.unit_id != here.database.unit_id {
                Some(Refusal::new(RefusalReason::NotAnEmployeeOfOwnUnit))
            } else {
                match register::is_active_employee(
                    &state.pool,
                    &here.database.unit_id,
                    &authorisation.person_id,
                )
                .await
                {
                    Ok(true) => None,
                    Ok(false) => Some(Refusal::new(RefusalReason::NotAnEmployeeOfOwnUnit)),
                    Err(error) => return Err(problem(error)),
                }
            }
        }
    };
    if let Some(refusal) = refusal {
        return Err(refused(refusal).await);
    }
    if authorisation.status != "active" {
        return Err(refused(Refusal::new(RefusalReason::AuthorisationNotActive)).await);
    }
    Ok(authorisation)
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/authorisations/{authorisation}",
    tag = "requests",
    operation_id = "authorisation_preview",
    summary = "\"podgląd danych z upoważnienia\": the authorisation's data, if it may be revoked from here",
    description = "The same checks as the request's: mode 1 only from the local database that \
        granted it, for a unit below this one's; mode 2 only for the administrator, for an \
        active employee of his unit. A refusal is recorded.",
    params(AuthorisationPath, ModeQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The preview", body = Preview),
        InvalidRequest,
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an employee of the unit (`not-an-employee-of-the-unit`), \
            another local database granted it (`wrong-local-database`), a unit not below this one \
            (`unit-not-subordinate`), not the administrator (`not-local-database-administrator`), \
            not an employee of his unit (`not-an-employee-of-own-unit`)",
            body = Problem, content_type = "application/problem+json"),
        AuthorisationNotFound,
        (status = 409, description = "Revoked already (`authorisation-not-active`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn preview(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path((database, authorisation)): Path<(String, String)>,
    mode: Result<Query<ModeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(ModeQuery { mode })) = mode else {
        return super::invalid_request("Podaj tryb: mode=subordinate_unit albo mode=own_unit.");
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    match admissible(&state, &here, mode, &authorisation).await {
        Ok(a) => Json(Preview::from(a)).into_response(),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateRequest {
    pub mode: RevocationMode,
    pub authorisation_id: String,
    /// "powód cofnięcia": one of the five codes of `GET /api/revocation-reasons`. Mandatory.
    #[serde(default)]
    pub reason: Option<String>,
    /// The confirmation window's answer: the request is saved only when true.
    #[serde(default)]
    pub confirmed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    #[schema(value_type = String, format = "uuid")]
    pub request_id: Uuid,
    /// The reminder, in the seeds' words: where the request must go next.
    pub reminder: String,
    /// The local database sends by itself: the request is in "Wysłane" already.
    pub sent: bool,
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/revocation-requests",
    tag = "requests",
    operation_id = "revocation_request_create",
    summary = "Saves a confirmed revocation request in the local database's outbox",
    description = "The preview's checks, then the reason (mandatory, one of five) and the \
        confirmation. The request waits in the communication panel's \"Do wysłania\" (or is \
        sent at once where the local database sends by itself). One request under way per \
        authorisation. Every refusal is recorded with its reason.",
    params(super::DatabasePath),
    request_body = CreateRequest,
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Saved", body = Created),
        InvalidRequest,
        kit::openapi::Unauthorized,
        (status = 403, description = "As the preview's 403", body = Problem,
            content_type = "application/problem+json"),
        AuthorisationNotFound,
        (status = 409, description = "Revoked already (`authorisation-not-active`), a request \
            under way (`already-requested`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "No reason (`reason-required`), an unknown one \
            (`unknown-reason`), not confirmed (`not-confirmed`)", body = Problem,
            content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn create(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
    body: Result<Json<CreateRequest>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return json_rejected(rejection),
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    if body.authorisation_id.len() > 64 {
        return authorisation_not_found();
    }
    let authorisation = match admissible(&state, &here, body.mode, &body.authorisation_id).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let about = || About {
        mode: Some(body.mode),
        authorisation_id: Some(authorisation.id.clone()),
        request_id: None,
    };
    let reason = match body.reason.as_deref().map(str::trim) {
        None | Some("") => Err(RefusalReason::ReasonRequired),
        Some(code) => RevocationReason::parse(code).ok_or(RefusalReason::UnknownReason),
    };
    let reason = match reason {
        Ok(reason) => reason,
        Err(why) => {
            return refuse(
                &state,
                here.actor,
                &here.database.id,
                Refusal::new(why),
                about(),
            )
            .await;
        }
    };
    if !body.confirmed {
        return refuse(
            &state,
            here.actor,
            &here.database.id,
            Refusal::new(RefusalReason::NotConfirmed),
            about(),
        )
        .await;
    }
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let reviewer = here
        .database
        .parent_id
        .clone()
        .unwrap_or_else(|| here.database.unit_id.clone());
    let saved = async {
        let mut tx = state.pool.begin().await?;
        let new = NewRequest {
            id,
            mode: body.mode.code(),
            local_database_id: &here.database.id,
            reviewer_unit_id: &reviewer,
            authorisation_id: &authorisation.id,
            reason: reason.code(),
            created_by: actor.login(),
            created_at: now,
        };
        if !requests::insert(&mut tx, &new).await? {
            return Ok::<_, sqlx::Error>(false);
        }
        let event = Envelope::new(
            here.actor.clone(),
            now,
            RevocationRequested {
                request_id: id,
                mode: body.mode,
                local_database_id: here.database.id.clone(),
                reviewer_unit_id: reviewer.clone(),
                authorisation_id: authorisation.id.clone(),
                person_id: authorisation.person_id.clone(),
                pesel_masked: authorisation.pesel_masked.clone(),
                reason,
            },
        );
        kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        crate::communication::add_form(
            &mut tx,
            &here.database,
            id,
            FormKind::Request,
            &here.actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await;
    match saved {
        Ok(true) => {
            state.outbox_wake.notify_one();
            (
                StatusCode::CREATED,
                Json(Created {
                    request_id: id,
                    reminder: status::reminder(body.mode).to_owned(),
                    sent: here.database.auto_send,
                }),
            )
                .into_response()
        }
        Ok(false) => {
            refuse(
                &state,
                here.actor,
                &here.database.id,
                Refusal::new(RefusalReason::AlreadyRequested),
                about(),
            )
            .await
        }
        Err(error) => problem(error),
    }
}

/// A request as "Moje wnioski" lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyRequest {
    #[schema(value_type = String, format = "uuid")]
    pub request_id: Uuid,
    pub mode: RevocationMode,
    pub authorisation_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub reason: String,
    pub reason_label: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The authorising body's side, in Polish.
    pub status: String,
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/revocation-requests",
    tag = "requests",
    operation_id = "revocation_requests_created",
    summary = "\"Moje wnioski\": the revocation requests created in this local database",
    description = "Any active employee of the local database's unit; newest first, at most 500.",
    params(super::DatabasePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The requests", body = Vec<MyRequest>),
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn created(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
) -> Response {
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let rows = match requests::created_in(&state.pool, &here.database.id, LIST_MAX).await {
        Ok(rows) => rows,
        Err(error) => return problem(error),
    };
    let list: Vec<MyRequest> = rows
        .into_iter()
        .map(|r| {
            let reason = RevocationReason::parse(&r.reason);
            MyRequest {
                request_id: r.id,
                mode: mode_of(&r.mode),
                authorisation_id: r.authorisation_id,
                first_name: r.first_name,
                last_name: r.last_name,
                pesel_masked: r.pesel_masked,
                unit_name: r.unit_name,
                reason_label: reason.map(|r| r.label().to_owned()).unwrap_or_default(),
                reason: r.reason,
                created_by: r.created_by,
                created_at: r.created_at,
                status: status::review_status(
                    r.review_started_at.is_some(),
                    r.decision
                        .as_deref()
                        .and_then(contracts::revocation::events::RevocationDecision::parse),
                )
                .to_owned(),
            }
        })
        .collect();
    Json(list).into_response()
}

pub(crate) fn mode_of(code: &str) -> RevocationMode {
    if code == RevocationMode::OwnUnit.code() {
        RevocationMode::OwnUnit
    } else {
        RevocationMode::SubordinateUnit
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonOption {
    pub code: String,
    /// The seeds' words, verbatim.
    pub label: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Vocabulary {
    /// The form's five reasons ("powód cofnięcia").
    pub reasons: Vec<ReasonOption>,
    /// The two modes of the first screen, with their labels.
    pub modes: Vec<ReasonOption>,
}

#[utoipa::path(
    get,
    path = "/api/revocation-reasons",
    tag = "requests",
    operation_id = "revocation_reasons",
    summary = "The five reasons a request may give, and the two modes, with their labels",
    description = "Any signed-in person. The reasons are the form's five, not the four cases \
        of art. 74 ust. 1 of the act.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The reasons and modes", body = Vocabulary),
        kit::openapi::Unauthorized,
    )
)]
async fn reasons(_actor: kit::auth::Actor) -> Response {
    let option = |code: &str, label: &str| ReasonOption {
        code: code.to_owned(),
        label: label.to_owned(),
    };
    Json(Vocabulary {
        reasons: RevocationReason::ALL
            .iter()
            .map(|r| option(r.code(), r.label()))
            .collect(),
        modes: [RevocationMode::SubordinateUnit, RevocationMode::OwnUnit]
            .iter()
            .map(|m| option(m.code(), m.label()))
            .collect(),
    })
    .into_response()
}
