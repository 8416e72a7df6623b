//! "Rozpatrywanie" → "Cofnięcie", for the authorising body: fetch the waiting requests,
//! mark the ticked ones "Przyjęty do rozpatrzenia", open one, and decide it (accept, reject
//! or withdraw, each confirmed on a page of its own).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Here, NOTHING_TICKED, clean, frame, here, posted};
use crate::pages::{
    Frame, SignedIn, Staff, failure, leave_notice, message, stale_form, take_notice,
};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub request_id: String,
    pub mode_label: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub from_local_database: String,
    pub reason_label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub status: String,
    pub review_started: bool,
    pub decision: Option<String>,
}

impl Item {
    pub fn when(&self) -> String {
        super::date_time(&self.created_at)
    }

    pub fn markable(&self) -> bool {
        !self.review_started && self.decision.is_none()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_review.html")]
pub struct ReviewPage {
    pub frame: Frame,
    pub here: Here,
    pub notice: Option<String>,
    pub rows: Vec<Item>,
}

/// `GET /sio/{db}/rozpatrywanie`: the requests fetched into this local database.
pub async fn page(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
) -> Response {
    let database = clean(&database);
    match state
        .upstream
        .get::<Vec<Item>>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/review"),
            &staff.token,
        )
        .await
    {
        Ok(rows) => {
            let here = here(&state, &staff, &database).await;
            ReviewPage {
                notice: take_notice(&session).await,
                frame: frame(&session, staff).await,
                here,
                rows,
            }
            .into_response()
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// `POST /sio/{db}/rozpatrywanie/pobierz`: fetches the waiting requests.
pub async fn fetch(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    body: Bytes,
) -> Response {
    let form = posted(&body, "");
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let database = clean(&database);
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/review/fetch"),
            &staff.token,
            &json!({}),
        )
        .await
    {
        Ok(answer) => {
            let n = answer["fetched"].as_u64().unwrap_or(0);
            let notice = if n == 0 {
                "Nie ma nowych wniosków do rozpatrzenia.".to_owned()
            } else {
                format!("Pobrano wnioski do rozpatrzenia: {n}.")
            };
            leave_notice(&session, notice).await;
            Redirect::to(&format!("/sio/{database}/rozpatrywanie")).into_response()
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// `POST /sio/{db}/rozpatrywanie/oznacz`: marks the ticked requests "Przyjęty do
/// rozpatrzenia".
pub async fn start(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    body: Bytes,
) -> Response {
    let form = posted(&body, "request");
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let database = clean(&database);
    let chosen = form.chosen();
    if chosen.is_empty() {
        leave_notice(&session, NOTHING_TICKED.to_owned()).await;
        return Redirect::to(&format!("/sio/{database}/rozpatrywanie")).into_response();
    }
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/review/start"),
            &staff.token,
            &json!({ "request_ids": chosen }),
        )
        .await
    {
        Ok(answer) => {
            let n = answer["moved"].as_u64().unwrap_or(0);
            leave_notice(
                &session,
                format!(
                    "Oznaczono jako „Przyjęty do rozpatrzenia”: {n}. Wyślij zmianę statusu \
                     w Panelu komunikacji z systemem."
                ),
            )
            .await;
            Redirect::to(&format!("/sio/{database}/rozpatrywanie")).into_response()
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Detail {
    #[serde(flatten)]
    pub item: Item,
    pub authorisation_id: String,
    pub granted_in: String,
    pub created_by: String,
    pub decided_by: Option<String>,
}

pub struct Decision {
    pub code: &'static str,
    pub label: &'static str,
    pub question: &'static str,
}

const DECISIONS: [Decision; 3] = [
    Decision {
        code: "accepted",
        label: "Akceptuj wniosek",
        question: "Czy na pewno akceptujesz wniosek? Po wysłaniu decyzji upoważnienie zostanie \
                   cofnięte w rejestrze centralnym.",
    },
    Decision {
        code: "rejected",
        label: "Odrzuć wniosek",
        question: "Czy na pewno odrzucasz wniosek? Upoważnienie pozostanie w mocy.",
    },
    Decision {
        code: "withdrawn",
        label: "Cofnij wniosek",
        question: "Czy na pewno cofasz wniosek (nie nadajesz mu biegu)? Upoważnienie pozostanie \
                   w mocy.",
    },
];

#[derive(Template, WebTemplate)]
#[template(path = "sio_review_detail.html")]
pub struct DetailPage {
    pub frame: Frame,
    pub here: Here,
    pub notice: Option<String>,
    pub detail: Detail,
    pub decisions: &'static [Decision; 3],
    /// The decision to confirm, on the confirmation page.
    pub confirming: Option<&'static Decision>,
    pub error: Option<String>,
}

async fn detail_page(
    state: &AppState,
    staff: Staff,
    session: &tower_sessions::Session,
    (database, id): (&str, &str),
    confirming: Option<&'static Decision>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match state
        .upstream
        .get::<Detail>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/review/{id}"),
            &staff.token,
        )
        .await
    {
        Ok(detail) => {
            let here = here(state, &staff, database).await;
            (
                status,
                DetailPage {
                    notice: take_notice(session).await,
                    frame: frame(session, staff).await,
                    here,
                    detail,
                    decisions: &DECISIONS,
                    confirming,
                    error,
                },
            )
                .into_response()
        }
        Err(error) => failure(session, staff, error).await,
    }
}

fn clean_uuid(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .take(36)
        .collect();
    if id.is_empty() { "0".to_owned() } else { id }
}

/// `GET /sio/{db}/rozpatrywanie/{id}`: one request's details and the three decisions.
pub async fn detail(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((database, id)): Path<(String, String)>,
) -> Response {
    let (database, id) = (clean(&database), clean_uuid(&id));
    detail_page(
        &state,
        staff,
        &session,
        (&database, &id),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /sio/{db}/rozpatrywanie/{id}/decyzja`: without `potwierdzam`, the confirmation
/// window; with it, the decision.
pub async fn decide(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((database, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = posted(&body, "");
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let (database, id) = (clean(&database), clean_uuid(&id));
    let Some(decision) = DECISIONS.iter().find(|d| d.code == form.field("decyzja")) else {
        return message(
            &session,
            Some(staff),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nieznana decyzja",
            "Wybierz akceptację, odrzucenie albo cofnięcie wniosku.",
        )
        .await;
    };
    if form.field("potwierdzam") != "tak" {
        return detail_page(
            &state,
            staff,
            &session,
            (&database, &id),
            Some(decision),
            None,
            StatusCode::OK,
        )
        .await;
    }
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/review/{id}/decision"),
            &staff.token,
            &json!({ "decision": decision.code, "confirmed": true }),
        )
        .await
    {
        Ok(_) => {
            leave_notice(
                &session,
                "Decyzja została zapisana. Wyślij ją w Panelu komunikacji z systemem i sprawdź \
                 status doręczenia."
                    .to_owned(),
            )
            .await;
            Redirect::to(&format!("/sio/{database}/rozpatrywanie/{id}")).into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (409 | 422),
            title,
            detail,
            ..
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
            let error = Some(detail.unwrap_or(title));
            detail_page(
                &state,
                staff,
                &session,
                (&database, &id),
                None,
                error,
                status,
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
