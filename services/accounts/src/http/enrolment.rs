//! First-time TOTP enrolment for staff. An administrator prepares it (`accounts enroll-totp
//! LOGIN --console`), so that no one but the staff member ever sees the secret: at his next
//! sign-in with the password, a secret is drawn and given to him alone (the console shows it
//! as a QR code) with a short-lived confirmation token; the first code from his app confirms
//! it and signs him in.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, problem};
use crate::domain::totp;
use crate::store::enrolment;

/// How long a drawn secret waits for its confirming code.
const CONFIRM_WITHIN_MINUTES: i64 = 10;
/// Wrong codes a pending secret survives; then a new sign-in draws another.
const WRONG_CODES_MAX: i32 = 5;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(confirm))
        .routes(routes!(prepare))
}

/// Whose enrolment to prepare.
#[derive(Deserialize, utoipa::ToSchema)]
struct Preparation {
    /// A staff member's login.
    #[schema(max_length = 64)]
    login: String,
}

/// A prepared enrolment.
#[derive(Serialize, utoipa::ToSchema)]
struct Prepared {
    login: String,
    /// The next password sign-in before this shows the new secret.
    until: DateTime<Utc>,
}

#[utoipa::path(
    post,
    path = "/api/staff/totp-enrolment",
    tag = "staff",
    operation_id = "staff_totp_enrolment_prepare",
    summary = "Prepare a staff member's TOTP enrolment (a first app, or a lost phone)",
    description = "Role: administrator. The staff member's current secret stops working; at his \
        next password sign-in (within 72 hours) he alone is shown a new one. Recorded for audit \
        (`accounts.totp.enrolment-prepared`).",
    request_body = Preparation,
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Prepared", body = Prepared),
        (status = 400, description = "The body is not `{login}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff account of that login (`staff-not-found`); \
            `field` is `login`", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        kit::openapi::Internal,
    )
)]
async fn prepare(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    body: axum::body::Bytes,
) -> Response {
    if let Err(problem) = actor.require(&[kit::auth::Role::Administrator]) {
        return problem.into_response();
    }
    let Ok(request) = serde_json::from_slice::<Preparation>(&body) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Niepoprawne żądanie",
        )
        .detail("Oczekiwano JSON z polem login.")
        .into_response();
    };
    let login = request.login.trim().to_ascii_lowercase();
    let not_found = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "staff-not-found",
            "Nie ma takiego pracownika",
        )
        .detail(format!(
            "Nie ma konta pracownika Wydziału o loginie „{login}”."
        ))
        .field("login")
        .into_response()
    };
    if login.is_empty() || login.chars().count() > crate::domain::sign_in::LOGIN_MAX {
        return not_found();
    }
    match enrolment::enrolment_prepare_recorded(
        &state.pool,
        &login,
        actor.login(),
        state.clock.now(),
    )
    .await
    {
        Ok(Some(until)) => {
            tracing::info!(%login, by = %actor.login(), "a TOTP enrolment prepared");
            (StatusCode::ACCEPTED, Json(Prepared { login, until })).into_response()
        }
        Ok(None) => not_found(),
        Err(error) => problem(error),
    }
}

/// A drawn secret, for the staff member's app alone.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct EnrolmentStarted<'a> {
    totp_enrolment: TotpEnrolment<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TotpEnrolment<'a> {
    /// Confirms the secret with its first code (`POST /api/auth/totp-enrolment`).
    token: &'a str,
    /// The secret, base32.
    secret: &'a str,
    /// The secret as an `otpauth://totp/…` URI, for a QR code.
    otpauth: &'a str,
    confirm_by: DateTime<Utc>,
}

/// The owner a pending secret is encrypted for: never the same as the confirmed secret's,
/// so neither opens as the other.
fn pending_owner(login: &str) -> String {
    format!("{login}#pending")
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(format!("klucznik-totp-enrolment:{token}")))
}

/// Draws a secret for `login`, whose password was just right and whose enrolment is
/// prepared; the answer carries it for the staff member's app and the token to confirm it.
pub(super) async fn start(state: &AppState, login: &str, now: DateTime<Utc>) -> Response {
    let mut secret = zeroize::Zeroizing::new([0u8; 20]);
    let mut token = [0u8; 32];
    if getrandom::fill(secret.as_mut()).is_err() || getrandom::fill(&mut token).is_err() {
        return Problem::internal().into_response();
    }
    let encoded = zeroize::Zeroizing::new(totp::base32_encode(secret.as_ref()));
    let Ok(sealed) = state
        .totp_key
        .encrypt(&pending_owner(login), encoded.as_bytes())
    else {
        return Problem::internal().into_response();
    };
    let token = hex::encode(token);
    if let Err(error) =
        enrolment::enrolment_start(&state.pool, login, &sealed, &token_hash(&token)).await
    {
        return problem(error);
    }
    tracing::info!(%login, "a TOTP enrolment started");
    let otpauth = format!(
        "otpauth://totp/Klucznik:{login}?secret={}&issuer=Klucznik&algorithm=SHA1&digits=6&period=30",
        encoded.as_str()
    );
    Json(EnrolmentStarted {
        totp_enrolment: TotpEnrolment {
            token: &token,
            secret: encoded.as_str(),
            otpauth: &otpauth,
            confirm_by: now + Duration::minutes(CONFIRM_WITHIN_MINUTES),
        },
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Confirmation {
    /// The sign-in's `totp_enrolment.token`.
    token: String,
    /// The app's first code.
    totp: String,
}

fn not_confirmed(detail: &str) -> Response {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "totp-enrolment-failed",
        "Nie potwierdzono aplikacji",
    )
    .detail(detail)
    .field("totp")
    .into_response()
}

/// `POST /api/auth/totp-enrolment {token, totp}` → the staff sign-in's answer.
#[utoipa::path(
    post,
    path = "/api/auth/totp-enrolment",
    tag = "staff",
    operation_id = "staff_totp_enrolment_confirm",
    summary = "Confirm a new TOTP app with its first code, and sign in",
    description = "No token needed: the enrolment's token stands for the password just given. \
        Five wrong codes end the enrolment; a new sign-in draws another secret.",
    request_body = Confirmation,
    responses(
        (status = 200, description = "Confirmed and signed in", body = super::StaffSession),
        (status = 400, description = "The body is not a confirmation (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A wrong code, or an enrolment expired, confirmed or out of \
            tries; `field` is `totp` (`totp-enrolment-failed`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        kit::openapi::Internal,
        (status = 503, description = "A passing failure (`unavailable`); try again after \
            `Retry-After`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn confirm(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Confirmation>(&body) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Niepoprawne żądanie",
        )
        .detail("Oczekiwano JSON z polami token i totp.")
        .into_response();
    };
    if request.token.len() != 64 || request.totp.chars().count() > 10 {
        return not_confirmed("Rejestracja aplikacji wygasła; zaloguj się ponownie hasłem.");
    }
    let now = state.clock.now();
    let pending =
        match enrolment::enrolment_by_token(&state.pool, &token_hash(&request.token), now).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return not_confirmed(
                    "Rejestracja aplikacji wygasła albo została już potwierdzona; zaloguj się \
                     ponownie hasłem.",
                );
            }
            Err(error) => return problem(error),
        };
    let Ok(secret) = state
        .totp_key
        .decrypt(&pending_owner(&pending.login), &pending.pending_secret)
    else {
        return Problem::internal().into_response();
    };
    let Ok(secret) = String::from_utf8(secret.to_vec()).map(zeroize::Zeroizing::new) else {
        return Problem::internal().into_response();
    };
    let Some(step) = totp::matching_step(&secret, request.totp.trim(), now.timestamp()) else {
        if let Err(error) =
            enrolment::enrolment_wrong_code(&state.pool, &pending.login, WRONG_CODES_MAX).await
        {
            return problem(error);
        }
        let left = WRONG_CODES_MAX - pending.attempts - 1;
        return not_confirmed(&if left > 0 {
            format!(
                "Kod nie pasuje do zeskanowanego klucza. Sprawdź czas w telefonie i wpisz \
                 bieżący kod (pozostałe próby: {left})."
            )
        } else {
            "Kod nie pasuje do klucza, a prób już nie ma; zaloguj się ponownie hasłem, \
             aby otrzymać nowy klucz."
                .to_owned()
        });
    };
    let Ok(sealed) = state.totp_key.encrypt(&pending.login, secret.as_bytes()) else {
        return Problem::internal().into_response();
    };
    if let Err(error) =
        enrolment::enrolment_complete(&state.pool, &pending.login, &sealed, step, now).await
    {
        return problem(error);
    }
    tracing::info!(login = %pending.login, "a TOTP app confirmed");
    super::staff_session(
        &state,
        &pending.login,
        &pending.role,
        pending.institution_rspo_id.clone(),
        pending.may_process,
        now,
    )
    .await
}
