//! accounts' HTTP API: staff sign-in (password and TOTP) giving a short-lived signed token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
use ed25519_dalek::SigningKey;
use kit::clock::Clock;
use kit::problem::Problem;
use serde::Deserialize;
use sqlx::PgPool;

use crate::domain::account::{AccountKind, AccountStatus};
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
}

mod enrolment;
pub mod gate;
mod portal;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/staff-login", post(staff_login))
        .route("/api/auth/sign-out", post(sign_out))
        .merge(portal::routes())
        .merge(enrolment::routes())
        .with_state(state)
}

#[derive(Deserialize)]
struct StaffLogin {
    login: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
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
            .filter(|r| r.kind == AccountKind::Staff && r.status == AccountStatus::Active)
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
        if r.kind != AccountKind::Staff || r.status != AccountStatus::Active {
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
    staff_session(
        &state,
        &row.login,
        &row.role,
        row.institution_rspo_id.clone(),
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
        },
    );
    tracing::info!(%login, role = %role_name, "staff signed in");
    Json(serde_json::json!({ "token": token, "expires_at": expires_at, "role": role_name }))
        .into_response()
}

/// `POST /api/auth/sign-out` with a staff token: its session ends, and every service refuses
/// the token at once (`accounts.sessions.ended`).
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
            Json(serde_json::json!({ "signed_out": true })).into_response()
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
    tokio::task::spawn_blocking(move || match stored {
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
