//! The central register's answer for one person: by PESEL (posted, never in an address),
//! which authorisations are in force and which were revoked, when and why.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{frame, posted};
use crate::pages::{Frame, SignedIn, failure, next_to_field, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub authorisation_id: String,
    pub unit_name: String,
    pub granted_in_name: String,
    pub scope: String,
    pub access_label: String,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reason_label: Option<String>,
}

impl Entry {
    pub fn revoked(&self) -> String {
        self.revoked_at
            .as_ref()
            .map(super::date_time)
            .unwrap_or_else(|| "—".into())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub pesel_masked: String,
    pub authorisations: Vec<Entry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_register.html")]
pub struct RegisterPage {
    pub frame: Frame,
    pub error: Option<String>,
    pub answer: Option<Answer>,
}

/// `GET /sio/rejestr`: the question.
pub async fn form(SignedIn(staff, session): SignedIn) -> Response {
    RegisterPage {
        frame: frame(&session, staff).await,
        error: None,
        answer: None,
    }
    .into_response()
}

/// `POST /sio/rejestr`: the register's answer.
pub async fn ask(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    body: Bytes,
) -> Response {
    let form = posted(&body, "");
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let pesel: String = form.field("pesel").chars().take(20).collect();
    match state
        .upstream
        .post::<Answer>(
            Service::Revocation,
            "/api/register/check",
            &staff.token,
            &json!({ "pesel": pesel }),
        )
        .await
    {
        Ok(answer) => RegisterPage {
            frame: frame(&session, staff).await,
            error: None,
            answer: Some(answer),
        }
        .into_response(),
        Err(UpstreamError::Refused {
            status: 422,
            title,
            detail,
            ..
        }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            RegisterPage {
                frame: frame(&session, staff).await,
                error: Some(next_to_field(&detail.unwrap_or(title))),
                answer: None,
            },
        )
            .into_response(),
        Err(error) => failure(&session, staff, error).await,
    }
}
