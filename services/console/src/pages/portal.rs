//! The access portal (Portal Dostępowy), for users rather than staff: sign-in with the
//! login and the starting password from the letter, the forced change with the policy
//! explained next to the field, and the result. The address printed in letters leads here.
//! accounts decides everything; the portal keeps only the user's short-lived token.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{Frame, client_address, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

const PORTAL_KEY: &str = "portal";
const LOGIN_MAX: usize = 64;
const PASSWORD_MAX: usize = 256;

/// The signed-in user, as the session keeps them until the password is changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PortalUser {
    pub(super) login: String,
    pub(super) token: String,
    pub(super) must_change: bool,
    /// The account waits for its e-mail address (created in the panel, procedure C).
    #[serde(default)]
    pub(super) email_required: bool,
}

impl PortalUser {
    /// The page the user's next step is on.
    pub(super) fn next_page(&self) -> &'static str {
        if self.must_change {
            "/portal/haslo"
        } else if self.email_required {
            "/portal/email"
        } else {
            "/portal/gotowe"
        }
    }
}

#[derive(Default)]
pub struct Errors {
    pub form: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub repeat: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_sign_in.html")]
pub struct SignInPage {
    pub frame: Frame,
    pub login: String,
    pub errors: Errors,
    pub notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_change.html")]
pub struct ChangePage {
    pub frame: Frame,
    pub login: String,
    pub rules: Vec<String>,
    pub errors: Errors,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_done.html")]
pub struct DonePage {
    pub frame: Frame,
    pub changed: bool,
    pub login: String,
}

pub(super) async fn user(session: &Session) -> Option<PortalUser> {
    session.get::<PortalUser>(PORTAL_KEY).await.ok().flatten()
}

async fn sign_in_page(
    session: &Session,
    login: String,
    errors: Errors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let page = SignInPage {
        frame: Frame::of(session, None).await,
        login,
        errors,
        notice,
    };
    (status, page).into_response()
}

pub async fn form(session: Session) -> Response {
    if let Some(user) = user(&session).await {
        return Redirect::to(user.next_page()).into_response();
    }
    sign_in_page(
        &session,
        String::new(),
        Errors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn submit(
    State(state): State<AppState>,
    connect: ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, None).await;
    }
    let login: String = form.login.trim().chars().take(LOGIN_MAX * 2).collect();
    let mut errors = Errors::default();
    if login.is_empty() {
        errors.login = Some("Podaj login z listu.".into());
    } else if login.chars().count() > LOGIN_MAX {
        errors.login = Some(format!("Login ma najwyżej {LOGIN_MAX} znaki."));
    }
    if form.password.is_empty() {
        errors.password = Some("Podaj hasło startowe z listu.".into());
    } else if form.password.chars().count() > PASSWORD_MAX {
        errors.password = Some(format!("Hasło ma najwyżej {PASSWORD_MAX} znaków."));
    }
    if errors.login.is_none() && errors.password.is_none() {
        match state
            .upstream
            .portal_login(&login, &form.password, &client_address(&connect))
            .await
        {
            Ok(signed_in) => {
                if let Err(error) = session.cycle_id().await {
                    tracing::error!(%error, "the session could not be renewed");
                }
                let user = PortalUser {
                    login: login.clone(),
                    token: signed_in.token,
                    must_change: signed_in.must_change,
                    email_required: signed_in.email_required,
                };
                match session.insert(PORTAL_KEY, &user).await {
                    Ok(()) => return Redirect::to(user.next_page()).into_response(),
                    Err(error) => {
                        tracing::error!(%error, "the portal session could not be kept");
                        errors.form =
                            Some("Nie udało się zapamiętać logowania; spróbuj ponownie.".into());
                    }
                }
            }
            Err(UpstreamError::Refused { status: 401, .. }) => {
                errors.form = Some("Nieprawidłowy login lub hasło.".into());
            }
            Err(UpstreamError::Refused { title, detail, .. }) => {
                errors.form = Some(detail.unwrap_or(title));
            }
            Err(UpstreamError::Unavailable(error)) => {
                tracing::error!(%error, "accounts did not answer a portal sign-in");
                errors.form =
                    Some("Logowanie jest chwilowo niedostępne; spróbuj za chwilę.".into());
            }
        }
    }
    sign_in_page(
        &session,
        login,
        errors,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Deserialize)]
struct Policy {
    rules: Vec<String>,
}

async fn change_page(
    state: &AppState,
    session: &Session,
    login: String,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let rules = match state
        .upstream
        .get_anonymous::<Policy>(Service::Accounts, "/api/portal/password-policy")
        .await
    {
        Ok(policy) => policy.rules,
        Err(error) => {
            tracing::warn!(%error, "accounts did not give its password policy");
            Vec::new()
        }
    };
    let page = ChangePage {
        frame: Frame::of(session, None).await,
        login,
        rules,
        errors,
    };
    (status, page).into_response()
}

pub async fn change_form(State(state): State<AppState>, session: Session) -> Response {
    match user(&session).await {
        Some(user) if user.must_change => {
            change_page(
                &state,
                &session,
                user.login,
                Errors::default(),
                StatusCode::OK,
            )
            .await
        }
        Some(_) => Redirect::to("/portal/gotowe").into_response(),
        None => Redirect::to("/portal").into_response(),
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    csrf: String,
}

pub async fn change(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ChangeForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, None).await;
    }
    let Some(user) = user(&session).await.filter(|u| u.must_change) else {
        return Redirect::to("/portal").into_response();
    };
    let mut errors = Errors::default();
    if form.new_password.is_empty() {
        errors.password = Some("Podaj nowe hasło.".into());
    } else if form.new_password.chars().count() > PASSWORD_MAX {
        errors.password = Some(format!("Hasło ma najwyżej {PASSWORD_MAX} znaków."));
    } else if form.repeat != form.new_password {
        errors.repeat = Some("Powtórzone hasło różni się od nowego hasła.".into());
    }
    if errors.password.is_none() && errors.repeat.is_none() {
        let body = serde_json::json!({ "new_password": form.new_password });
        match state
            .upstream
            .post::<serde_json::Value>(
                Service::Accounts,
                "/api/portal/password",
                &user.token,
                &body,
            )
            .await
        {
            Ok(_) => {
                // The token is kept only for the e-mail address still to give; otherwise the
                // session keeps just the result.
                let done = PortalUser {
                    must_change: false,
                    token: if user.email_required {
                        user.token.clone()
                    } else {
                        String::new()
                    },
                    ..user
                };
                if let Err(error) = session.insert(PORTAL_KEY, &done).await {
                    tracing::error!(%error, "the portal session could not be kept");
                }
                return Redirect::to(done.next_page()).into_response();
            }
            Err(UpstreamError::Refused {
                status: 422,
                title,
                detail,
                ..
            }) => {
                errors.password = Some(detail.unwrap_or(title));
            }
            Err(UpstreamError::Refused {
                status: 401,
                detail,
                ..
            }) => {
                let _ = session.remove::<PortalUser>(PORTAL_KEY).await;
                let notice =
                    detail.unwrap_or_else(|| "Sesja zakończona. Zaloguj się ponownie.".into());
                return sign_in_page(
                    &session,
                    user.login,
                    Errors::default(),
                    Some(notice),
                    StatusCode::UNAUTHORIZED,
                )
                .await;
            }
            Err(UpstreamError::Refused { title, detail, .. }) => {
                errors.form = Some(detail.unwrap_or(title));
            }
            Err(UpstreamError::Unavailable(error)) => {
                tracing::error!(%error, "accounts did not answer a password change");
                errors.form =
                    Some("Zmiana hasła jest chwilowo niedostępna; spróbuj za chwilę.".into());
            }
        }
    }
    change_page(
        &state,
        &session,
        user.login,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn done(session: Session) -> Response {
    let Some(user) = user(&session).await else {
        return Redirect::to("/portal").into_response();
    };
    if user.must_change || user.email_required {
        return Redirect::to(user.next_page()).into_response();
    }
    // Shown once: the next visit starts at the sign-in again.
    let _ = session.remove::<PortalUser>(PORTAL_KEY).await;
    DonePage {
        frame: Frame::of(&session, None).await,
        changed: user.token.is_empty(),
        login: user.login,
    }
    .into_response()
}
