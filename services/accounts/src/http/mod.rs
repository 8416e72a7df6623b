//! accounts' HTTP API: staff sign-in (password and TOTP) giving a short-lived signed token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::Duration;
use ed25519_dalek::SigningKey;
use kit::clock::Clock;
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::account::AccountStatus;
use crate::domain::passwords::Hasher;
use crate::domain::{sign_in, totp};
use crate::error::Error;
use crate::store::credentials;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub hasher: Arc<Hasher>,
    pub signing: SigningKey,
    pub clock: Arc<dyn Clock>,
    pub token_ttl: Duration,
    /// A hash to verify against when the login is unknown, so the answer takes as long.
    pub dummy_hash: Arc<String>,
    /// Opens the staff's TOTP secrets, which are stored encrypted.
    pub totp_key: Arc<kit::at_rest::AtRestKey>,
    /// Throttling and the bound on concurrent password hashes, for every sign-in.
    pub gate: Arc<gate::Gate>,
    /// The ZSZO permissions a local administrator may grant.
    pub catalogue: Arc<crate::domain::staff::Catalogue>,
    /// How a starting password is drawn and how long it lasts (procedure A's rule, also for
    /// an account created in the panel).
    pub starting: crate::startup::StartingPasswordSettings,
    /// The access portal's address, printed on the hand-over sheet.
    pub portal_url: String,
    /// delivery's public key: an e-mail confirmation's token is sealed to it.
    pub delivery_key: [u8; 32],
    /// How long an e-mail confirmation link works.
    pub confirmation_ttl: Duration,
}

mod enrolment;
pub mod gate;
mod panel;
mod portal;
mod portal_email;

pub fn router(state: AppState) -> Router {
    let (routes, operations) = api().split_for_parts();
    routes
        .with_state(state)
        .merge(kit::openapi::routes(&document(operations)))
}

/// accounts' OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi() -> OpenApi {
    document(api().into_openapi())
}

/// Every route with its description: routed and described from the same `#[utoipa::path]`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff_login))
        .routes(routes!(sign_out))
        .merge(portal::routes())
        .merge(enrolment::routes())
        .merge(panel::routes())
        .merge(portal_email::routes())
}

fn document(operations: OpenApi) -> OpenApi {
    kit::openapi::document(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        operations,
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
struct StaffLogin {
    #[schema(max_length = 64)]
    login: String,
    #[schema(max_length = 256)]
    password: String,
    /// The current code of the staff member's TOTP app; left out at an enrolment's first
    /// sign-in.
    #[serde(default)]
    #[schema(max_length = 10)]
    totp: Option<String>,
}

/// A staff session: its token for every service.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StaffSession {
    /// For `Authorization: Bearer`.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// `administrator`, `operator`, `auditor`, `director` or `user`.
    pub role: String,
    /// Granted the right to process requests (take and realise them) besides the role.
    pub processing: bool,
}

/// What a staff sign-in answers: a session, or, for a TOTP enrolment an administrator
/// prepared, the secret for the staff member's app.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "describes the answer only: staff_session and enrolment::start build its arms"
)]
enum StaffSignIn {
    Session(StaffSession),
    Enrolment(enrolment::EnrolmentStarted<'static>),
}

/// The session ended.
#[derive(Serialize, utoipa::ToSchema)]
struct SignedOut {
    signed_out: bool,
}

/// A body that is not what the endpoint reads: 400 with what it expected.
pub(crate) fn invalid_request(detail: &str) -> Response {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-request",
        "Niepoprawne żądanie",
    )
    .detail(detail)
    .into_response()
}

pub(crate) fn refused() -> Response {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "sign-in-failed",
        "Logowanie nieudane",
    )
    .detail("Nieprawidłowy login, hasło lub kod jednorazowy.")
    .into_response();
    // Recorded as accounts.login.failed by the gate, not again as an access refusal.
    response
        .extensions_mut()
        .insert(kit::refusals::AlreadyRecorded);
    response
}

/// `POST /api/auth/staff-login {login, password, totp}` → `{token, expires_at, role}`.
#[utoipa::path(
    post,
    path = "/api/auth/staff-login",
    tag = "staff",
    operation_id = "staff_sign_in",
    summary = "Sign a staff member in with password and TOTP code",
    description = "No token needed. Attempts are throttled per account and per address (behind \
        a trusted proxy, the first `X-Forwarded-For` address); every failure is told to audit. \
        For an enrolment an administrator prepared, the right password alone answers the \
        secret for the staff member's app instead of a session.",
    request_body = StaffLogin,
    responses(
        (status = 200, description = "Signed in, or the enrolment started", body = StaffSignIn),
        (status = 400, description = "The body is not a sign-in (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login, password or code, or an account that may \
            not sign in here; one answer for all (`sign-in-failed`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "A field is longer than its limit (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; come back after `Retry-After` seconds \
            (`too-many-attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        kit::openapi::Internal,
        (status = 503, description = "Too many sign-ins at once (`busy`) or a passing failure \
            (`unavailable`); try again after `Retry-After`",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn staff_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<StaffLogin>, JsonRejection>,
) -> Response {
    if let Err(rejection) = &body
        && rejection.status() == StatusCode::PAYLOAD_TOO_LARGE
    {
        // Left to the platform's layer, which answers it as a problem document.
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let Ok(Json(request)) = body else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Niepoprawne żądanie",
        )
        .detail("Oczekiwano JSON z polami login, password i totp.")
        .into_response();
    };
    let now = state.clock.now();
    let login =
        match sign_in::checked_login(&request.login, &request.password, request.totp.as_deref()) {
            Ok(login) => login,
            Err(field) => return gate::too_long(&field),
        };
    let row = match credentials::sign_in_row(&state.pool, &login).await {
        Ok(row) => row,
        Err(error) => return problem(error),
    };
    let attempt = match gate::admit(&state, &login, row.is_some(), peer, &headers).await {
        Ok(attempt) => attempt,
        Err(response) => return response,
    };
    let password_ok = match gate::verify_password(
        &state,
        &request.password,
        row.as_ref().and_then(|r| r.password_hash.clone()),
    )
    .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    // A prepared enrolment: the right password draws the secret for the staff member's app.
    if password_ok
        && let Some(r) = row
            .as_ref()
            .filter(|r| r.console_role.is_some() && r.status == AccountStatus::Active)
    {
        match crate::store::enrolment::enrolment_prepared(&state.pool, &r.login, now).await {
            Ok(true) => {
                if let Err(response) = gate::succeeded(&state, &attempt).await {
                    return response;
                }
                return enrolment::start(&state, &r.login, now).await;
            }
            Ok(false) => {}
            Err(error) => return problem(error),
        }
    }
    let totp_step = row.as_ref().and_then(|r| {
        if r.console_role.is_none() || r.status != AccountStatus::Active {
            return None;
        }
        let (stored, code) = (r.totp_secret.as_ref()?, request.totp.as_ref()?);
        let secret = state.totp_key.decrypt(&r.login, stored).ok()?;
        let secret = zeroize::Zeroizing::new(String::from_utf8(secret.to_vec()).ok()?);
        totp::matching_step(&secret, code, now.timestamp())
    });
    // A code already used (seen over a shoulder, or replayed) is refused like a wrong one.
    let fresh_code = match (password_ok, totp_step, &row) {
        (true, Some(step), Some(r)) => {
            match credentials::totp_step_claim(&state.pool, &r.login, step).await {
                Ok(fresh) => fresh,
                Err(error) => return problem(error),
            }
        }
        _ => false,
    };
    let Some(row) = row.filter(|_| password_ok && fresh_code) else {
        if let Err(response) = gate::failed(&state, &attempt, false).await {
            return response;
        }
        return refused();
    };
    if let Err(response) = gate::succeeded(&state, &attempt).await {
        return response;
    }
    let Some(role) = row.console_role.as_deref() else {
        return refused();
    };
    staff_session(
        &state,
        &row.login,
        role,
        row.institution_rspo_id.clone(),
        row.may_process,
        now,
    )
    .await
}

/// Opens a staff session and answers with its signed token.
pub(crate) async fn staff_session(
    state: &AppState,
    login: &str,
    role_name: &str,
    institution: Option<String>,
    processing: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    // The database's CHECK allows only the roles there are.
    let Some(role) = kit::auth::Role::parse(role_name) else {
        return refused();
    };
    let expires_at = now + state.token_ttl;
    let session = match credentials::session_insert(&state.pool, login, now, expires_at).await {
        Ok(id) => id,
        Err(error) => return problem(error),
    };
    let token = kit::auth::sign(
        &state.signing,
        &kit::auth::Claims {
            sub: login.to_owned(),
            role,
            institution,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            sid: session.to_string(),
            aud: kit::auth::Audience::Staff,
            kid: String::new(),
            processing,
        },
    );
    tracing::info!(%login, role = %role_name, "staff signed in");
    Json(StaffSession {
        token,
        expires_at,
        role: role_name.to_owned(),
        processing,
    })
    .into_response()
}

/// `POST /api/auth/sign-out` with a staff token: its session ends, and every service refuses
/// the token at once (`accounts.sessions.ended`).
#[utoipa::path(
    post,
    path = "/api/auth/sign-out",
    tag = "staff",
    operation_id = "staff_sign_out",
    summary = "End the staff session; every service refuses its token from then on",
    description = "Any staff role. No body is read.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The session ended", body = SignedOut),
        kit::openapi::Unauthorized,
        kit::openapi::Internal,
        (status = 503, description = "A passing failure (`unavailable`); try again after \
            `Retry-After`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn sign_out(State(state): State<AppState>, actor: kit::auth::Actor) -> Response {
    let Ok(session) = uuid::Uuid::parse_str(&actor.0.sid) else {
        return refused();
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.pool.begin().await?;
        let ended = credentials::session_end_in_txn(&mut tx, session, actor.login(), now).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(ended)
    }
    .await;
    match result {
        Ok(_) => {
            tracing::info!(login = %actor.login(), "staff signed out");
            Json(SignedOut { signed_out: true }).into_response()
        }
        Err(error) => problem(error),
    }
}

/// Checks a password against a stored hash, or against a dummy hash when there is none, so
/// an unknown login costs the same time as a wrong password. argon2 runs off the async workers.
pub(crate) async fn verify_password(
    state: &AppState,
    password: &str,
    stored: Option<String>,
) -> bool {
    let hasher = Arc::clone(&state.hasher);
    let dummy = Arc::clone(&state.dummy_hash);
    let password = password.to_owned();
    crate::domain::hashing::off_thread(move || match stored {
        Some(hash) => hasher.verify(&password, &hash),
        None => {
            hasher.verify(&password, &dummy);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// The one place where accounts' error becomes a problem for the person who asked.
pub(crate) fn problem(error: impl Into<Error>) -> Response {
    let error = error.into();
    match error {
        Error::Unavailable(_) => {
            tracing::warn!(%error, "an accounts request met a passing failure");
            let busy = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Usługa jest chwilowo niedostępna",
            )
            .detail("Spróbuj ponownie za chwilę.")
            .into_response();
            gate::retry_after(busy, std::time::Duration::from_secs(1))
        }
        Error::Unusable(_) | Error::Undecodable(_) | Error::Database(_) => {
            tracing::error!(%error, "an accounts request failed");
            Problem::internal().into_response()
        }
    }
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
