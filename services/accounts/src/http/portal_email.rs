//! The access portal's e-mail address (procedure C, seed 002 points 5 and 6): a signed-in
//! user who has set his own password gives an address; delivery e-mails it a single-use link
//! that expires; following the link confirms the address and activates an account waiting
//! for it. A changed address is confirmed again; until then the confirmed one stays.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::SubsecRound as _;
use contracts::events::{AccountStep, AccountStepRecorded, EmailConfirmationRequested};
use contracts::values::Email;
use contracts::{Actor, Envelope};
use kit::auth::PortalActor;
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, problem};
use crate::error::Error;
use crate::store::confirmations::{self, Followed};
use crate::store::{credentials, panel};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(give_email))
        .routes(routes!(confirm_email))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GivenEmail {
    #[schema(max_length = 254)]
    email: String,
}

/// The link was sent.
#[derive(Serialize, utoipa::ToSchema)]
struct LinkSent {
    email: String,
    /// The link stops working then.
    expires_at: chrono::DateTime<chrono::Utc>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[utoipa::path(
    post,
    path = "/api/portal/email",
    tag = "portal",
    operation_id = "portal_email_give",
    summary = "Give the signed-in user's e-mail address; a confirmation link is e-mailed to it",
    description = "A portal token, after the user set his own password. The link is single-use \
        and expires (`accounts.email_confirmation_hours`, 24 by default); an earlier link stops \
        working. At most 5 links an hour. Recorded: `accounts.account.email-given`; the link's \
        token travels only sealed to delivery (`credentials.email-confirmation`).",
    request_body = GivenEmail,
    security(("portal_token" = [])),
    responses(
        (status = 202, description = "The link is on its way", body = LinkSent),
        (status = 400, description = "The body is not `{email}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 409, description = "The starting password is still to be changed \
            (`password-first`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "Not an e-mail address (`invalid-email`); `field` is `email`",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many links in an hour (`too-many-links`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn give_email(
    State(state): State<AppState>,
    actor: PortalActor,
    body: axum::body::Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<GivenEmail>(&body) else {
        return super::invalid_request("Oczekiwano JSON z polem email.");
    };
    let login = actor.login().to_owned();
    let now = state.clock.now();
    let session_open = match Uuid::parse_str(&actor.0.sid) {
        Ok(session) => credentials::session_is_open(&state.pool, session, &login, now).await,
        Err(_) => Ok(false),
    };
    match session_open {
        Ok(true) => {}
        Ok(false) => return super::refused(),
        Err(error) => return problem(error),
    }
    let Ok(email) = Email::parse(&request.email) else {
        return Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-email",
            "Niepoprawny adres e-mail",
        )
        .detail("Podaj adres e-mail w postaci nazwa@domena.pl.")
        .field("email")
        .into_response();
    };
    let row = match credentials::sign_in_row(&state.pool, &login).await {
        Ok(Some(row)) => row,
        Ok(None) => return super::refused(),
        Err(error) => return problem(error),
    };
    if row.must_change {
        return Problem::new(
            StatusCode::CONFLICT,
            "password-first",
            "Najpierw ustaw własne hasło",
        )
        .detail("Adres e-mail podaje się po ustawieniu własnego hasła.")
        .into_response();
    }
    let mut token_bytes = zeroize::Zeroizing::new([0u8; 32]);
    if getrandom::fill(token_bytes.as_mut()).is_err() {
        return problem(Error::unavailable("the OS random generator failed"));
    }
    let token = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token_bytes.as_ref()),
    );
    let expires_at = (now + state.confirmation_ttl).trunc_subsecs(0);
    let result = async {
        let mut tx = state.pool.begin().await?;
        if confirmations::sent_within_hour(&mut tx, &login, now).await? >= confirmations::PER_HOUR {
            return Ok(Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-links",
                "Za dużo wiadomości",
            )
            .detail(format!(
                "W ciągu godziny można wysłać najwyżej {} odnośników. Spróbuj ponownie za godzinę.",
                confirmations::PER_HOUR
            ))
            .into_response()));
        }
        confirmations::confirmation_insert_in_txn(
            &mut tx,
            &login,
            email.as_str(),
            &token_hash(&token),
            expires_at,
            now,
        )
        .await?;
        panel::own_step_in_txn(
            &mut tx,
            &login,
            AccountStepRecorded::new(&login, AccountStep::EmailGiven),
            now,
        )
        .await?;
        let (_, person_name) = confirmations::activation_notice_facts(&mut tx, &login).await?;
        let mut request = EmailConfirmationRequested {
            login: login.clone(),
            email: email.to_string(),
            person_name: person_name.unwrap_or_else(|| login.clone()),
            confirm_url: format!("{}/potwierdz", state.portal_url.trim_end_matches('/')),
            expires_at,
            sealed_token: String::new(),
            seal_key_id: kit::seal::key_id(&state.delivery_key),
        };
        let sealed = kit::seal::seal(
            &state.delivery_key,
            token.as_bytes(),
            &request.seal_context(),
        )
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        request.sealed_token = base64::engine::general_purpose::STANDARD.encode(sealed);
        let mut event = Envelope::new(Actor::person(&login, &row.role), now, request);
        event.institution_rspo_id = row.institution_rspo_id.clone();
        // To delivery alone, on a stream it empties, from an outbox row deleted once published.
        kit::outbox::outbox_insert_transient_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(()))
    }
    .await;
    match result {
        Ok(Ok(())) => (
            StatusCode::ACCEPTED,
            Json(LinkSent {
                email: email.to_string(),
                expires_at,
            }),
        )
            .into_response(),
        Ok(Err(response)) => response,
        Err(error) => problem(error),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Confirmation {
    /// The token from the link (`?t=`).
    #[schema(max_length = 100)]
    token: String,
}

/// The address is confirmed.
#[derive(Serialize, utoipa::ToSchema)]
struct Confirmed {
    login: String,
    email: String,
    /// The account was waiting for it and is active now.
    activated: bool,
}

fn link_refused(status: StatusCode, kind: &str, title: &str, detail: &str) -> Response {
    Problem::new(status, kind, title)
        .detail(detail)
        .into_response()
}

#[utoipa::path(
    post,
    path = "/api/portal/email-confirmation",
    tag = "portal",
    operation_id = "portal_email_confirm",
    summary = "Follow an e-mail confirmation link: the address is confirmed, the account activated",
    description = "No token needed: the link's token is the proof. A link works once, before it \
        expires, and only while it is the newest of its account. Recorded: \
        `accounts.account.email-confirmed` and, for an account waiting for it, \
        `accounts.account.activated` (delivery then tells the local administrator).",
    request_body = Confirmation,
    responses(
        (status = 200, description = "Confirmed", body = Confirmed),
        (status = 400, description = "The body is not `{token}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such link (`confirmation-unknown`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link was used (`confirmation-used`), replaced by a \
            newer one (`confirmation-superseded`) or expired (`confirmation-expired`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        kit::openapi::Internal,
    )
)]
async fn confirm_email(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Confirmation>(&body) else {
        return super::invalid_request("Oczekiwano JSON z polem token.");
    };
    let token = request.token.trim();
    let unknown = || {
        link_refused(
            StatusCode::NOT_FOUND,
            "confirmation-unknown",
            "Nieznany odnośnik",
            "Ten odnośnik nie potwierdza żadnego adresu. Sprawdź, czy skopiowano go w całości, \
             albo zaloguj się w Portalu Dostępowym i wyślij nowy.",
        )
    };
    if token.is_empty() || token.len() > 100 {
        return unknown();
    }
    let now = state.clock.now();
    let result = async {
        let mut tx = state.pool.begin().await?;
        let followed = confirmations::follow_in_txn(&mut tx, &token_hash(token), now).await?;
        if let Followed::Confirmed {
            login, activated, ..
        } = &followed
        {
            let step = |step| AccountStepRecorded::new(login, step);
            panel::own_step_in_txn(&mut tx, login, step(AccountStep::EmailConfirmed), now).await?;
            if *activated {
                let (local_admin_email, person_name) =
                    confirmations::activation_notice_facts(&mut tx, login).await?;
                panel::own_step_in_txn(
                    &mut tx,
                    login,
                    AccountStepRecorded {
                        local_admin_email,
                        person_name,
                        ..step(AccountStep::Activated)
                    },
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(followed)
    }
    .await;
    match result {
        Ok(Followed::Confirmed {
            login,
            email,
            activated,
        }) => {
            tracing::info!(%login, activated, "an e-mail address confirmed");
            Json(Confirmed {
                login,
                email,
                activated,
            })
            .into_response()
        }
        Ok(Followed::Unknown) => unknown(),
        Ok(Followed::Used) => link_refused(
            StatusCode::GONE,
            "confirmation-used",
            "Odnośnik został już użyty",
            "Ten adres e-mail został już potwierdzony tym odnośnikiem. Zaloguj się w Portalu \
             Dostępowym.",
        ),
        Ok(Followed::Superseded) => link_refused(
            StatusCode::GONE,
            "confirmation-superseded",
            "Odnośnik zastąpiono nowszym",
            "Po tym odnośniku wysłano nowszy: użyj odnośnika z najnowszej wiadomości albo \
             zaloguj się w Portalu Dostępowym i wyślij nowy.",
        ),
        Ok(Followed::Expired) => link_refused(
            StatusCode::GONE,
            "confirmation-expired",
            "Odnośnik wygasł",
            "Ten odnośnik wygasł. Zaloguj się w Portalu Dostępowym i wyślij nowy odnośnik na \
             swój adres e-mail.",
        ),
        Err(error) => problem(error),
    }
}
