//! The central register's answer: does this person (by PESEL) hold authorisations to the
//! SIO database, and which were revoked, when and for what reason. The PESEL travels in the
//! body, never in an address or a log; it is looked up by its keyed index.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::revocation::RevocationReason;
use contracts::values::Pesel;
use kit::auth::Role;
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, InvalidRequest, json_rejected, problem};
use crate::store::register;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterQuestion {
    pub pesel: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Active,
    Revoked,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    pub authorisation_id: String,
    pub unit_name: String,
    pub granted_in_name: String,
    #[schema(value_type = String, format = "date")]
    pub approved_at: NaiveDate,
    pub scope: String,
    pub access: Access,
    /// "w mocy" or "cofnięte".
    pub access_label: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub reason: Option<RevocationReason>,
    pub reason_label: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterAnswer {
    pub pesel_masked: String,
    /// Empty when the register knows no authorisation of this person.
    pub authorisations: Vec<RegisterEntry>,
}

#[utoipa::path(
    post,
    path = "/api/register/check",
    tag = "register",
    operation_id = "register_check",
    summary = "The central register's answer for one person: active or revoked, when and why",
    description = "An active employee of any unit in the register, an auditor or an \
        administrator. The PESEL is given in the body.",
    request_body = RegisterQuestion,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The person's authorisations", body = RegisterAnswer),
        InvalidRequest,
        kit::openapi::Unauthorized,
        (status = 403, description = "Neither in the register nor an auditor or administrator \
            (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid PESEL (`invalid-pesel`, field `pesel`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn check(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    body: Result<Json<RegisterQuestion>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return json_rejected(rejection),
    };
    let staff = actor.require(&[Role::Auditor, Role::Administrator]).is_ok();
    if !staff {
        match register::is_known(&state.pool, actor.login()).await {
            Ok(true) => {}
            Ok(false) => {
                return Problem::new(StatusCode::FORBIDDEN, "forbidden", "Brak uprawnień")
                    .detail(
                        "Rejestr upoważnień sprawdza pracownik jednostki z rejestru SIO, \
                         audytor albo administrator.",
                    )
                    .into_response();
            }
            Err(error) => return problem(error),
        }
    }
    let pesel = match Pesel::parse(body.pesel.trim()) {
        Ok(pesel) => pesel,
        Err(e) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-pesel",
                "Niepoprawny PESEL",
            )
            .field("pesel")
            .detail(e.message)
            .into_response();
        }
    };
    let index = kit::pesel::index(pesel.as_str(), &state.pesel_key);
    let rows = match register::of_person(&state.pool, &index).await {
        Ok(rows) => rows,
        Err(error) => return problem(error),
    };
    let authorisations = rows
        .into_iter()
        .map(|a| {
            let revoked = a.status == "revoked";
            let reason = a
                .revoked_reason
                .as_deref()
                .and_then(RevocationReason::parse);
            RegisterEntry {
                authorisation_id: a.id,
                unit_name: a.unit_name,
                granted_in_name: a.granted_in_name,
                approved_at: a.approved_at,
                scope: a.scope,
                access: if revoked {
                    Access::Revoked
                } else {
                    Access::Active
                },
                access_label: if revoked { "cofnięte" } else { "w mocy" }.to_owned(),
                revoked_at: a.revoked_at,
                reason,
                reason_label: reason.map(|r| r.label().to_owned()),
            }
        })
        .collect();
    Json(RegisterAnswer {
        pesel_masked: pesel.masked(),
        authorisations,
    })
    .into_response()
}
