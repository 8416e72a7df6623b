//! Signing in (login, password and the TOTP code) and out. accounts decides; the page keeps
//! what was typed, except the password and the code, and names the field at fault.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

use super::{Frame, STAFF_KEY, SignedIn, Staff, client_address, message};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{StaffLoginAnswer, UpstreamError};

/// The longest login, password and code accepted (accounts' own limits are the same or lower).
const LOGIN_MAX: usize = 64;
const PASSWORD_MAX: usize = 256;

#[derive(Default)]
pub struct Errors {
    pub form: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub totp: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub frame: Frame,
    pub login: String,
    pub errors: Errors,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf: String,
}

pub async fn form(session: Session) -> Response {
    if let Ok(Some(_)) = session.get::<Staff>(STAFF_KEY).await {
        return Redirect::to("/").into_response();
    }
    SignInPage {
        frame: Frame::of(&session, None).await,
        login: String::new(),
        errors: Errors::default(),
    }
    .into_response()
}

fn checked(form: &SignInForm) -> Errors {
    let mut errors = Errors::default();
    let login = form.login.trim();
    if login.is_empty() {
        errors.login = Some("Podaj login.".into());
    } else if login.chars().count() > LOGIN_MAX {
        errors.login = Some(format!("Login ma najwyżej {LOGIN_MAX} znaki."));
    }
    if form.password.is_empty() {
        errors.password = Some("Podaj hasło.".into());
    } else if form.password.chars().count() > PASSWORD_MAX {
        errors.password = Some(format!("Hasło ma najwyżej {PASSWORD_MAX} znaków."));
    }
    // Empty is allowed: a staff member whose first app is not registered yet has no code.
    let code = form.totp.trim();
    if !code.is_empty() && (code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit())) {
        errors.totp = Some("Kod z aplikacji uwierzytelniającej ma 6 cyfr.".into());
    }
    errors
}

pub async fn submit(
    State(state): State<AppState>,
    connect: ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return message(
            &session,
            None,
            StatusCode::FORBIDDEN,
            "Formularz wygasł",
            "Formularz był otwarty zbyt długo albo nie pochodzi z tej strony. Otwórz stronę logowania ponownie.",
        )
        .await;
    }
    let login: String = form.login.trim().chars().take(LOGIN_MAX * 2).collect();
    let mut errors = checked(&form);
    if errors.login.is_none() && errors.password.is_none() && errors.totp.is_none() {
        match state
            .upstream
            .staff_login(
                &login,
                &form.password,
                form.totp.trim(),
                &client_address(&connect),
            )
            .await
        {
            Ok(StaffLoginAnswer::Signed(signed_in)) => {
                match signed_in_now(&session, &login, signed_in).await {
                    Ok(home) => return Redirect::to(home).into_response(),
                    Err(message) => errors.form = Some(message),
                }
            }
            Ok(StaffLoginAnswer::Enrolment { totp_enrolment }) => {
                if let Err(error) = session.cycle_id().await {
                    tracing::error!(%error, "the session could not be renewed");
                }
                let pending = super::enrolment::Pending {
                    login: login.clone(),
                    enrolment: totp_enrolment,
                };
                match session
                    .insert(super::enrolment::PENDING_KEY, &pending)
                    .await
                {
                    Ok(()) => return Redirect::to("/zaloguj/aplikacja").into_response(),
                    Err(error) => {
                        tracing::error!(%error, "the enrolment could not be kept");
                        errors.form =
                            Some("Nie udało się zapamiętać logowania; spróbuj ponownie.".into());
                    }
                }
            }
            Err(UpstreamError::Refused { status: 401, .. }) if form.totp.trim().is_empty() => {
                errors.totp = Some("Podaj kod z aplikacji uwierzytelniającej.".into());
            }
            Err(UpstreamError::Refused { status: 401, .. }) => {
                errors.form = Some(
                    "Nieprawidłowy login, hasło lub kod jednorazowy. Kod działa tylko raz; \
                     poczekaj na następny."
                        .into(),
                );
            }
            Err(UpstreamError::Refused { title, detail, .. }) => {
                errors.form = Some(detail.unwrap_or(title));
            }
            Err(UpstreamError::Unavailable(error)) => {
                tracing::error!(%error, "accounts did not answer a sign-in");
                errors.form =
                    Some("Usługa logowania jest chwilowo niedostępna; spróbuj za chwilę.".into());
            }
        }
    }
    let page = SignInPage {
        frame: Frame::of(&session, None).await,
        login,
        errors,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// Keeps the signed-in staff member in a session renewed for him; where he starts.
pub(super) async fn signed_in_now(
    session: &Session,
    login: &str,
    signed_in: crate::upstream::StaffSignIn,
) -> Result<&'static str, String> {
    // A new session id at sign-in: an id planted before cannot follow.
    if let Err(error) = session.cycle_id().await {
        tracing::error!(%error, "the session could not be renewed");
    }
    let staff = Staff {
        login: login.to_owned(),
        role: signed_in.role,
        token: signed_in.token,
        processing: signed_in.processing,
    };
    let home = staff.home();
    match session.insert(STAFF_KEY, &staff).await {
        Ok(()) => Ok(home),
        Err(error) => {
            tracing::error!(%error, "the session could not be kept");
            Err("Nie udało się zapamiętać logowania; spróbuj ponownie.".into())
        }
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Form(form): Form<SignOutForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return message(
            &session,
            Some(staff),
            StatusCode::FORBIDDEN,
            "Formularz wygasł",
            "Nie wylogowano: formularz nie pochodzi z tej strony. Spróbuj ponownie.",
        )
        .await;
    }
    if let Err(error) = state.upstream.sign_out(&staff.token).await {
        tracing::warn!(%error, login = %staff.login, "accounts did not confirm the sign-out");
    }
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "the session could not be ended");
    }
    Redirect::to("/zaloguj").into_response()
}
