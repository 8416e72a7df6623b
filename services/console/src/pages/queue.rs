//! The queue of cases waiting for the department, as intake lists it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Frame, SignedIn, message};
use crate::startup::AppState;
use crate::upstream::{QueueEntry, UpstreamError};

pub struct Row {
    pub case_number: String,
    pub procedure: String,
    pub status: &'static str,
    pub institution_name: String,
    pub requester_login: String,
    pub target_login: String,
    pub delivery: &'static str,
    pub registered_at: String,
    pub taken_by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub frame: Frame,
    pub rows: Vec<Row>,
}

fn status_name(status: &str) -> &'static str {
    match status {
        "registered" => "oczekuje",
        "taken" => "w realizacji",
        "realised" => "zrealizowana",
        "failed" => "niedoręczona",
        _ => "inny",
    }
}

fn delivery_name(mode: &str) -> &'static str {
    match mode {
        "in_person" => "odbiór osobisty",
        _ => "e-mail i SMS",
    }
}

fn row(entry: QueueEntry) -> Row {
    Row {
        status: status_name(&entry.status),
        delivery: delivery_name(&entry.delivery_mode),
        registered_at: contracts::time::polish_short(entry.registered_at),
        case_number: entry.case_number,
        procedure: entry.procedure,
        institution_name: entry.institution_name,
        requester_login: entry.requester_login,
        target_login: entry.target_login,
        taken_by: entry.taken_by.unwrap_or_default(),
    }
}

pub async fn page(State(state): State<AppState>, SignedIn(staff, session): SignedIn) -> Response {
    match state.upstream.queue(&staff.token).await {
        Ok(entries) => QueuePage {
            frame: Frame::of(&session, Some(staff)).await,
            rows: entries.into_iter().map(row).collect(),
        }
        .into_response(),
        Err(UpstreamError::Refused { status: 401, .. }) => {
            // The token ended (signed out elsewhere, locked): the session goes with it.
            let _ = session.flush().await;
            axum::response::Redirect::to("/zaloguj").into_response()
        }
        Err(UpstreamError::Refused {
            status,
            title,
            detail,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            message(
                &session,
                Some(staff),
                status,
                &title,
                &detail.unwrap_or_default(),
            )
            .await
        }
        Err(UpstreamError::Unavailable(error)) => {
            tracing::error!(%error, "intake did not answer the queue");
            message(
                &session,
                Some(staff),
                StatusCode::BAD_GATEWAY,
                "Kolejka jest chwilowo niedostępna",
                "Usługa przyjmowania wniosków nie odpowiada; spróbuj za chwilę.",
            )
            .await
        }
    }
}
