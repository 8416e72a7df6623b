//! The department's own staff: an administrator prepares a colleague's TOTP enrolment (a
//! first app, or a lost phone). accounts decides and records it; the colleague alone sees
//! the new secret, at his next sign-in.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::{
    Frame, SignedIn, Staff, failure, leave_notice, next_to_field, stale_form, take_notice,
};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Template, WebTemplate)]
#[template(path = "staff.html")]
pub struct StaffPage {
    pub frame: Frame,
    pub login: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

async fn render(
    session: &Session,
    staff: Staff,
    login: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = StaffPage {
        notice: take_notice(session).await,
        frame: Frame::at(session, staff, "/personel").await,
        login,
        error,
    };
    (status, page).into_response()
}

pub async fn page(SignedIn(staff, session): SignedIn) -> Response {
    render(&session, staff, String::new(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PrepareForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    csrf: String,
}

pub async fn prepare(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Form(form): Form<PrepareForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let login: String = form.login.trim().chars().take(128).collect();
    if login.is_empty() {
        let error = Some("Podaj login pracownika.".to_owned());
        return render(
            &session,
            staff,
            login,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .upstream
        .post::<Value>(
            Service::Accounts,
            "/api/staff/totp-enrolment",
            &staff.token,
            &json!({ "login": login }),
        )
        .await
    {
        Ok(prepared) => {
            let until = prepared["until"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| contracts::time::polish_date_time(t.with_timezone(&chrono::Utc)))
                .unwrap_or_default();
            leave_notice(
                &session,
                format!(
                    "Przygotowano rejestrację aplikacji dla {login}: dotychczasowy kod tego \
                     konta przestał działać; przy najbliższym logowaniu hasłem (do {until}) \
                     jego właściciel zobaczy nowy klucz jako kod QR."
                ),
            )
            .await;
            Redirect::to("/personel").into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (400 | 404),
            title,
            detail,
            ..
        }) => {
            let error = Some(next_to_field(&detail.unwrap_or(title)));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            render(&session, staff, login, error, status).await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
