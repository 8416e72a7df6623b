//! The access portal's sign-in: a user signs in with his password; a starting password works
//! only until it expires and only to set a new one. A wrong login and a wrong password get
//! the same answer after the same work; failures are limited per account and per address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use contracts::{Actor as EventActor, Envelope};
use kit::auth::{Audience, Claims, PortalActor, Role};
use kit::problem::Problem;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, gate, problem, refused};
use crate::domain::account::{AccountKind, AccountStatus};
use crate::domain::passwords::policy_violation;
use crate::error::Error;
use crate::store::credentials;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(change_password))
        .routes(routes!(password_policy))
}

/// The rules a new password must meet.
#[derive(Serialize, utoipa::ToSchema)]
struct PasswordPolicy {
    min_length: usize,
    max_length: usize,
    /// Each rule as a Polish sentence, to show next to the field.
    rules: &'static [&'static str],
}

/// `GET /api/portal/password-policy`: the rules a new password must meet, as the portal
/// shows them next to the field (anyone may read them).
#[utoipa::path(
    get,
    path = "/api/portal/password-policy",
    tag = "portal",
    operation_id = "portal_password_policy",
    summary = "The rules a new password must meet, to show next to the field",
    description = "No token needed.",
    responses((status = 200, description = "The policy", body = PasswordPolicy))
)]
async fn password_policy() -> Response {
    Json(PasswordPolicy {
        min_length: crate::domain::passwords::MIN_LENGTH,
        max_length: crate::domain::sign_in::PASSWORD_MAX,
        rules: crate::domain::passwords::POLICY_RULES,
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Login {
    #[schema(max_length = 64)]
    login: String,
    #[schema(max_length = 256)]
    password: String,
}

/// A portal session.
#[derive(Serialize, utoipa::ToSchema)]
struct PortalSession {
    /// For `Authorization: Bearer` at `POST /api/portal/password`.
    token: String,
    /// The password is a starting one: the session may only set a new one, within ten
    /// minutes.
    must_change: bool,
    /// The account waits for its e-mail address to be given and confirmed
    /// (`POST /api/portal/email`, after the password is set).
    email_required: bool,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// The password was changed.
#[derive(Serialize, utoipa::ToSchema)]
struct Changed {
    changed: bool,
}

/// `POST /api/portal/login {login, password}` → `{token, must_change}`.
#[utoipa::path(
    post,
    path = "/api/portal/login",
    tag = "portal",
    operation_id = "portal_sign_in",
    summary = "Sign a user in at the access portal",
    description = "No token needed. A starting password works only until it expires and only \
        to set a new one. Attempts are throttled per account and per address (behind a trusted \
        proxy, the first `X-Forwarded-For` address); every failure is told to audit.",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in", body = PortalSession),
        (status = 400, description = "The body is not a sign-in (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login or password, or an account that may not sign \
            in here; one answer for all (`sign-in-failed`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The starting password expired (`starting-password-expired`)",
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
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<Login>(&body) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Niepoprawne żądanie",
        )
        .detail("Oczekiwano JSON z polami login i password.")
        .into_response();
    };
    let now = state.clock.now();
    let login = match crate::domain::sign_in::checked_login(&request.login, &request.password, None)
    {
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
    // An account created in the panel signs in here while it waits for its e-mail address.
    let row = row.filter(|r| {
        matches!(r.kind, AccountKind::Zszo | AccountKind::PzoAdmin)
            && matches!(r.status, AccountStatus::Active | AccountStatus::Pending)
    });
    let ok = match gate::verify_password(
        &state,
        &request.password,
        row.as_ref().and_then(|r| r.password_hash.clone()),
    )
    .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let Some(row) = row.filter(|_| ok) else {
        if let Err(response) = gate::failed(&state, &attempt, true).await {
            return response;
        }
        return refused();
    };
    if let Err(response) = gate::succeeded(&state, &attempt).await {
        return response;
    }
    if row.must_change && row.starting_expires_at.is_none_or(|at| at <= now) {
        return Problem::new(StatusCode::FORBIDDEN, "starting-password-expired", "Hasło startowe wygasło")
            .detail("Hasło startowe wygasło. Poproś dyrektora placówki o wygenerowanie nowego hasła startowego.")
            .into_response();
    }
    let first_login = async {
        let mut tx = state.pool.begin().await?;
        crate::store::panel::first_login_in_txn(&mut tx, &row.login, now).await?;
        tx.commit().await
    };
    if let Err(error) = first_login.await {
        return problem(error);
    }
    let role = if row.must_change {
        Role::PasswordChange
    } else {
        match Role::parse(&row.role) {
            Some(role) => role,
            None => return refused(),
        }
    };
    let ttl = if row.must_change {
        Duration::minutes(10)
    } else {
        state.token_ttl
    };
    let expires_at = now + ttl;
    let session = match credentials::session_insert(&state.pool, &row.login, now, expires_at).await
    {
        Ok(id) => id,
        Err(error) => return problem(error),
    };
    let token = kit::auth::sign(
        &state.signing,
        &Claims {
            sub: row.login.clone(),
            role,
            institution: row.institution_rspo_id.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            sid: session.to_string(),
            aud: Audience::Portal,
            kid: String::new(),
            processing: false,
        },
    );
    Json(PortalSession {
        token,
        must_change: row.must_change,
        email_required: row.status == AccountStatus::Pending,
        expires_at,
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ChangePassword {
    #[schema(min_length = 12)]
    new_password: String,
}

fn session_ended() -> Response {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "session-ended",
        "Sesja zakończona",
    )
    .detail(
        "Sesja wygasła albo została zakończona (po zmianie hasła lub wygenerowaniu nowego \
             hasła startowego). Zaloguj się ponownie.",
    )
    .into_response()
}

/// `POST /api/portal/password {new_password}` with the token from the sign-in.
#[utoipa::path(
    post,
    path = "/api/portal/password",
    tag = "portal",
    operation_id = "portal_password_change",
    summary = "Set the signed-in user's new password",
    description = "A portal token, of any role (a starting password's session has the role \
        `password_change`). The user's other sessions end.",
    request_body = ChangePassword,
    security(("portal_token" = [])),
    responses(
        (status = 200, description = "Changed", body = Changed),
        (status = 400, description = "The body is not `{new_password}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "The starting password expired (`starting-password-expired`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "The password breaks the policy (`password-policy`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
        (status = 503, description = "Too many password hashes at once (`busy`) or a passing \
            failure (`unavailable`); try again after `Retry-After`",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    actor: PortalActor,
    body: axum::body::Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<ChangePassword>(&body) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Niepoprawne żądanie",
        )
        .detail("Oczekiwano JSON z polem new_password.")
        .into_response();
    };
    let now = state.clock.now();
    let login = actor.login().to_owned();
    let keep = Uuid::parse_str(&actor.0.sid).ok();
    match keep {
        Some(session) => {
            match credentials::session_is_open(&state.pool, session, &login, now).await {
                Ok(true) => {}
                Ok(false) => return session_ended(),
                Err(error) => return problem(error),
            }
        }
        None => return session_ended(),
    }
    let row = match credentials::sign_in_row(&state.pool, &login).await {
        Ok(Some(row))
            if matches!(row.status, AccountStatus::Active | AccountStatus::Pending)
                && matches!(row.kind, AccountKind::Zszo | AccountKind::PzoAdmin) =>
        {
            row
        }
        Ok(_) => return refused(),
        Err(error) => return problem(error),
    };
    if row.must_change && row.starting_expires_at.is_none_or(|at| at <= now) {
        return Problem::new(StatusCode::FORBIDDEN, "starting-password-expired", "Hasło startowe wygasło")
            .detail("Hasło startowe wygasło. Poproś dyrektora placówki o wygenerowanie nowego hasła startowego.")
            .into_response();
    }
    // argon2 reads the whole password: a longer one is refused before anything is hashed.
    if request.new_password.chars().count() > crate::domain::sign_in::PASSWORD_MAX {
        return Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password-policy",
            "Hasło nie spełnia zasad",
        )
        .detail(format!(
            "Nowe hasło może mieć najwyżej {} znaków.",
            crate::domain::sign_in::PASSWORD_MAX
        ))
        .field("new_password")
        .into_response();
    }
    let same_as_current =
        match gate::verify_password(&state, &request.new_password, row.password_hash.clone()).await
        {
            Ok(same) => same,
            Err(response) => return response,
        };
    let current = if same_as_current {
        request.new_password.as_str()
    } else {
        ""
    };
    if let Some(reason) = policy_violation(&login, &request.new_password, current) {
        return Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password-policy",
            "Hasło nie spełnia zasad",
        )
        .detail(reason)
        .into_response();
    }
    let hasher = Arc::clone(&state.hasher);
    let new = SecretString::from(request.new_password);
    let hash = match crate::domain::hashing::off_thread(move || hasher.hash(&new)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return problem(Error::unavailable(error)),
        Err(error) => return problem(Error::unavailable(error)),
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        credentials::password_changed_in_txn(&mut tx, &login, &hash, now).await?;
        let ended =
            credentials::sessions_end_in_txn(&mut tx, &login, keep, "password_changed", now)
                .await?;
        let mut event = Envelope::new(
            EventActor::person(&login, &row.role),
            now,
            contracts::events::PasswordChanged {
                login: login.clone(),
                email: credentials::account_email_in_txn(&mut tx, &login).await?,
                sessions_ended: ended as u32,
            },
        );
        event.institution_rspo_id = row.institution_rspo_id.clone();
        kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        crate::store::panel::own_step_in_txn(
            &mut tx,
            &login,
            contracts::events::AccountStepRecorded::new(
                &login,
                contracts::events::AccountStep::PasswordChanged,
            ),
            now,
        )
        .await?;
        tx.commit().await
    }
    .await;
    match result {
        Ok(()) => Json(Changed { changed: true }).into_response(),
        Err(error) => problem(error),
    }
}
