//! The access portal's e-mail step (procedure C, seed 002 points 5 and 6): after setting his
//! password, the user of an account created in the panel gives an e-mail address; the link
//! e-mailed to it is opened here, and a button (not the opening itself, which a mail
//! scanner may do) confirms the address and activates the account.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::portal::{PortalUser, user};
use super::{Frame, message, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

const PORTAL_KEY: &str = "portal";
const EMAIL_MAX: usize = 254;

#[derive(Template, WebTemplate)]
#[template(path = "portal_email.html")]
pub struct EmailPage {
    pub frame: Frame,
    pub login: String,
    pub email: String,
    pub error: Option<String>,
}

async fn email_page(
    session: &Session,
    login: String,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = EmailPage {
        frame: Frame::of(session, None).await,
        login,
        email,
        error,
    };
    (status, page).into_response()
}

/// `GET /portal/email`.
pub async fn form(session: Session) -> Response {
    match user(&session).await {
        Some(user) if !user.must_change && user.email_required => {
            email_page(&session, user.login, String::new(), None, StatusCode::OK).await
        }
        Some(user) => Redirect::to(user.next_page()).into_response(),
        None => Redirect::to("/portal").into_response(),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_email_sent.html")]
pub struct SentPage {
    pub frame: Frame,
    pub email: String,
    pub until: String,
}

/// `POST /portal/email`: accounts keeps the address and delivery e-mails the link.
pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<EmailForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, None).await;
    }
    let Some(user) = user(&session)
        .await
        .filter(|u| !u.must_change && u.email_required)
    else {
        return Redirect::to("/portal").into_response();
    };
    let email: String = form.email.trim().chars().take(EMAIL_MAX * 2).collect();
    let refuse = |error: &str| error.to_owned();
    if email.is_empty() {
        let error = Some(refuse("Podaj adres e-mail."));
        return email_page(
            &session,
            user.login,
            email,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Accounts,
            "/api/portal/email",
            &user.token,
            &json!({ "email": email }),
        )
        .await
    {
        Ok(sent) => {
            // The portal session ends here: the next step is in the mailbox.
            let _ = session.remove::<PortalUser>(PORTAL_KEY).await;
            let until = sent["expires_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| contracts::time::polish_date_time(t.with_timezone(&chrono::Utc)))
                .unwrap_or_default();
            SentPage {
                frame: Frame::of(&session, None).await,
                email: sent["email"].as_str().unwrap_or(&email).to_owned(),
                until,
            }
            .into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (409 | 422 | 429),
            title,
            detail,
            ..
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let error = Some(detail.unwrap_or(title));
            email_page(&session, user.login, email, error, status).await
        }
        Err(UpstreamError::Refused { status: 401, .. }) => {
            let _ = session.remove::<PortalUser>(PORTAL_KEY).await;
            message(
                &session,
                None,
                StatusCode::UNAUTHORIZED,
                "Sesja zakończona",
                "Sesja wygasła. Zaloguj się w Portalu Dostępowym ponownie (już własnym hasłem) i \
                 podaj adres e-mail.",
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "accounts did not take an e-mail address");
            email_page(
                &session,
                user.login,
                email,
                Some("Zapisanie adresu jest chwilowo niedostępne; spróbuj za chwilę.".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    t: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_confirm.html")]
pub struct ConfirmPage {
    pub frame: Frame,
    pub token: String,
}

/// Only what a token is made of (base64url), and no more than it can be long.
fn clean_token(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(100)
        .collect()
}

/// `GET /portal/potwierdz?t=…`: the link from the e-mail; nothing changes until the button.
pub async fn confirm_form(session: Session, Query(query): Query<LinkQuery>) -> Response {
    ConfirmPage {
        frame: Frame::of(&session, None).await,
        token: clean_token(&query.t),
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    t: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_confirmed.html")]
pub struct ConfirmedPage {
    pub frame: Frame,
    pub login: String,
    pub email: String,
    pub activated: bool,
}

/// A link that does not work: why, and the way to a new one.
#[derive(Template, WebTemplate)]
#[template(path = "portal_link_refused.html")]
pub struct RefusedPage {
    pub frame: Frame,
    pub title: String,
    pub detail: String,
}

/// `POST /portal/potwierdz`: follows the link at accounts.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, None).await;
    }
    let token = clean_token(&form.t);
    match state
        .upstream
        .post_anonymous::<serde_json::Value>(
            Service::Accounts,
            "/api/portal/email-confirmation",
            &json!({ "token": token }),
        )
        .await
    {
        Ok(confirmed) => ConfirmedPage {
            frame: Frame::of(&session, None).await,
            login: confirmed["login"].as_str().unwrap_or_default().to_owned(),
            email: confirmed["email"].as_str().unwrap_or_default().to_owned(),
            activated: confirmed["activated"].as_bool().unwrap_or(false),
        }
        .into_response(),
        Err(UpstreamError::Refused {
            status: status @ (400 | 404 | 410),
            title,
            detail,
            ..
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::GONE);
            let page = RefusedPage {
                frame: Frame::of(&session, None).await,
                title,
                detail: detail.unwrap_or_else(|| "Odnośnik nie działa.".into()),
            };
            (status, page).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "accounts did not answer an e-mail confirmation");
            message(
                &session,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "Potwierdzenie chwilowo niedostępne",
                "Nie udało się potwierdzić adresu. Otwórz odnośnik ponownie za chwilę: nadal działa.",
            )
            .await
        }
    }
}
