//! "Wniosek" → "Cofnięcie": the choice of mode, the mode's list, "podgląd danych
//! z upoważnienia" with the reason, the confirmation window (a page of its own), and
//! "Moje wnioski" with the reminder the seeds give after confirming.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use contracts::revocation::{RevocationMode, RevocationReason};
use serde::Deserialize;
use serde_json::json;

use super::{Here, clean, frame, here, posted};
use crate::pages::{Frame, SignedIn, failure, leave_notice, stale_form, take_notice};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

pub struct ModeOption {
    pub code: &'static str,
    pub label: &'static str,
}

fn modes() -> Vec<ModeOption> {
    [RevocationMode::SubordinateUnit, RevocationMode::OwnUnit]
        .into_iter()
        .map(|m| ModeOption {
            code: m.code(),
            label: m.label(),
        })
        .collect()
}

fn mode_of(code: &str) -> Option<RevocationMode> {
    [RevocationMode::SubordinateUnit, RevocationMode::OwnUnit]
        .into_iter()
        .find(|m| m.code() == code)
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_mode.html")]
pub struct ModePage {
    pub frame: Frame,
    pub here: Here,
    pub modes: Vec<ModeOption>,
    pub error: Option<String>,
}

/// `GET /sio/{db}/cofniecie`: the first screen, the two modes.
pub async fn mode(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
) -> Response {
    let here = here(&state, &staff, &clean(&database)).await;
    ModePage {
        frame: frame(&session, staff).await,
        here,
        modes: modes(),
        error: None,
    }
    .into_response()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Listed {
    pub authorisation_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub open_request: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_list.html")]
pub struct ListPage {
    pub frame: Frame,
    pub here: Here,
    pub mode: &'static str,
    pub mode_label: &'static str,
    pub subordinate: bool,
    pub rows: Vec<Listed>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    tryb: String,
    #[serde(default)]
    upowaznienie: String,
}

/// `GET /sio/{db}/cofniecie/lista?tryb=`: the mode's list of people.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let database = clean(&database);
    let Some(mode) = mode_of(&query.tryb) else {
        let here = here(&state, &staff, &database).await;
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            ModePage {
                frame: frame(&session, staff).await,
                here,
                modes: modes(),
                error: Some("Wybierz jeden z dwóch sposobów cofnięcia upoważnienia.".into()),
            },
        )
            .into_response();
    };
    list_page(
        &state,
        staff,
        &session,
        &database,
        mode,
        None,
        StatusCode::OK,
    )
    .await
}

async fn list_page(
    state: &AppState,
    staff: crate::pages::Staff,
    session: &tower_sessions::Session,
    database: &str,
    mode: RevocationMode,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let path = match mode {
        RevocationMode::SubordinateUnit => {
            format!("/api/local-databases/{database}/subordinate-authorisations")
        }
        RevocationMode::OwnUnit => format!("/api/local-databases/{database}/own-unit-employees"),
    };
    match state
        .upstream
        .get::<Vec<Listed>>(Service::Revocation, &path, &staff.token)
        .await
    {
        Ok(rows) => {
            let here = here(state, &staff, database).await;
            (
                status,
                ListPage {
                    frame: frame(session, staff).await,
                    here,
                    mode: mode.code(),
                    mode_label: mode.label(),
                    subordinate: mode == RevocationMode::SubordinateUnit,
                    rows,
                    error,
                },
            )
                .into_response()
        }
        Err(error) => failure(session, staff, error).await,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Preview {
    pub authorisation_id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub granted_in_name: String,
    pub approved_by: String,
    pub approved_at: String,
    pub scope: String,
}

pub struct ReasonOption {
    pub code: &'static str,
    pub label: &'static str,
}

fn reasons() -> Vec<ReasonOption> {
    RevocationReason::ALL
        .into_iter()
        .map(|r| ReasonOption {
            code: r.code(),
            label: r.label(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_preview.html")]
pub struct PreviewPage {
    pub frame: Frame,
    pub here: Here,
    pub mode: &'static str,
    pub preview: Preview,
    pub reasons: Vec<ReasonOption>,
    pub chosen: String,
    pub error: Option<String>,
}

/// Which authorisation a preview is of, from where, in which mode.
struct Target<'a> {
    database: &'a str,
    mode: RevocationMode,
    authorisation: &'a str,
}

async fn preview_page(
    state: &AppState,
    staff: crate::pages::Staff,
    session: &tower_sessions::Session,
    target: Target<'_>,
    chosen: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Target {
        database,
        mode,
        authorisation,
    } = target;
    let path = format!(
        "/api/local-databases/{database}/authorisations/{authorisation}?mode={}",
        mode.code()
    );
    match state
        .upstream
        .get::<Preview>(Service::Revocation, &path, &staff.token)
        .await
    {
        Ok(preview) => {
            let here = here(state, &staff, database).await;
            (
                status,
                PreviewPage {
                    frame: frame(session, staff).await,
                    here,
                    mode: mode.code(),
                    preview,
                    reasons: reasons(),
                    chosen,
                    error,
                },
            )
                .into_response()
        }
        Err(error) => failure(session, staff, error).await,
    }
}

/// `GET /sio/{db}/cofniecie/podglad?tryb=&upowaznienie=`: the preview and the reason.
pub async fn preview(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let database = clean(&database);
    let Some(mode) = mode_of(&query.tryb) else {
        return Redirect::to(&format!("/sio/{database}/cofniecie")).into_response();
    };
    if query.upowaznienie.is_empty() {
        let error = Some("Wskaż osobę, której ma zostać cofnięte upoważnienie.".to_owned());
        return list_page(
            &state,
            staff,
            &session,
            &database,
            mode,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let authorisation = clean(&query.upowaznienie);
    preview_page(
        &state,
        staff,
        &session,
        Target {
            database: &database,
            mode,
            authorisation: &authorisation,
        },
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_confirm_request.html")]
pub struct ConfirmPage {
    pub frame: Frame,
    pub here: Here,
    pub mode: &'static str,
    pub preview: Preview,
    pub reason: String,
    pub reason_label: &'static str,
}

/// `POST /sio/{db}/cofniecie`: without `potwierdzam`, the confirmation window; with it,
/// the request to revocation.
pub async fn submit(
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
    let Some(mode) = mode_of(form.field("tryb")) else {
        return Redirect::to(&format!("/sio/{database}/cofniecie")).into_response();
    };
    let authorisation = clean(form.field("upowaznienie"));
    let reason = form.field("powod").to_owned();
    let Some(known) = RevocationReason::parse(&reason) else {
        let error = if reason.is_empty() {
            "Wybierz powód cofnięcia upoważnienia: pole jest obligatoryjne."
        } else {
            "Nieznany powód cofnięcia upoważnienia: wybierz jeden z listy."
        };
        return preview_page(
            &state,
            staff,
            &session,
            Target {
                database: &database,
                mode,
                authorisation: &authorisation,
            },
            reason,
            Some(error.to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if form.field("potwierdzam") != "tak" {
        let path = format!(
            "/api/local-databases/{database}/authorisations/{authorisation}?mode={}",
            mode.code()
        );
        return match state
            .upstream
            .get::<Preview>(Service::Revocation, &path, &staff.token)
            .await
        {
            Ok(preview) => {
                let here = here(&state, &staff, &database).await;
                ConfirmPage {
                    frame: frame(&session, staff).await,
                    here,
                    mode: mode.code(),
                    preview,
                    reason,
                    reason_label: known.label(),
                }
                .into_response()
            }
            Err(error) => failure(&session, staff, error).await,
        };
    }
    let body = json!({ "mode": mode.code(), "authorisation_id": authorisation,
                       "reason": reason, "confirmed": true });
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/revocation-requests"),
            &staff.token,
            &body,
        )
        .await
    {
        Ok(created) => {
            let reminder = created["reminder"].as_str().unwrap_or_default();
            leave_notice(
                &session,
                format!("Wniosek o cofnięcie upoważnienia został zapisany. {reminder}"),
            )
            .await;
            Redirect::to(&format!("/sio/{database}/wnioski")).into_response()
        }
        Err(UpstreamError::Refused {
            status: 422,
            title,
            detail,
            ..
        }) => {
            preview_page(
                &state,
                staff,
                &session,
                Target {
                    database: &database,
                    mode,
                    authorisation: &authorisation,
                },
                reason,
                Some(detail.unwrap_or(title)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MyRequest {
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub unit_name: String,
    pub reason_label: String,
    pub mode: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub status: String,
}

impl MyRequest {
    pub fn when(&self) -> String {
        super::date_time(&self.created_at)
    }

    pub fn mode_name(&self) -> &'static str {
        if self.mode == "own_unit" {
            "pracownik Twojej jednostki"
        } else {
            "użytkownik z podrzędnej jednostki"
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_requests.html")]
pub struct MinePage {
    pub frame: Frame,
    pub here: Here,
    pub notice: Option<String>,
    pub rows: Vec<MyRequest>,
}

/// `GET /sio/{db}/wnioski`: "Moje wnioski".
pub async fn mine(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
) -> Response {
    let database = clean(&database);
    match state
        .upstream
        .get::<Vec<MyRequest>>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/revocation-requests"),
            &staff.token,
        )
        .await
    {
        Ok(rows) => {
            let here = here(&state, &staff, &database).await;
            MinePage {
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
