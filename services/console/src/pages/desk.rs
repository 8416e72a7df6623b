//! The collection desk: the letters waiting, and the hand-over of one. The operator records
//! who collects (the requester, the user, or a proxy with the F-01 reference) and the
//! identity document shown; delivery checks it and gives the letter back once, which the
//! console passes straight to the browser for printing and never keeps.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{Frame, SignedIn, Staff, failure, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Debug, Deserialize)]
struct Waiting {
    case_number: String,
    procedure: String,
    institution_name: String,
    login: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct Collections {
    collections: Vec<Waiting>,
}

pub struct Row {
    pub case_number: String,
    pub href: String,
    pub procedure: String,
    pub institution_name: String,
    pub person: String,
    pub expires_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub frame: Frame,
    pub rows: Vec<Row>,
    pub filters: DeskFilters,
    pub pager: super::list::Pager,
}

/// What the desk's list is narrowed to: letters of a case, a login or an institution.
#[derive(Debug, Default, Deserialize)]
pub struct DeskFilters {
    #[serde(default)]
    pub q: String,
    /// `expiring` (soonest expiry first, delivery's order) or `newest`.
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: String,
}

const DESK_PAGE: u64 = 25;

/// Whether a waiting letter is the one looked for: its case, login, name or institution
/// holds the text, in any case.
fn matches(waiting: &Waiting, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || [
            waiting.case_number.as_str(),
            waiting.login.as_str(),
            waiting.institution_name.as_str(),
            waiting.first_name.as_deref().unwrap_or(""),
            waiting.last_name.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&q))
}

/// The hand-over form, as typed, with delivery's word on the field at fault.
#[derive(Debug, Default, Deserialize)]
pub struct HandOver {
    #[serde(default)]
    pub collected_by: String,
    #[serde(default)]
    pub person_name: String,
    #[serde(default)]
    pub f01_reference: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_last4: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_hand_over.html")]
pub struct HandOverPage {
    pub frame: Frame,
    pub case_number: String,
    pub href: String,
    pub person: String,
    pub institution_name: String,
    pub form: HandOver,
    pub error_field: String,
    pub error: String,
}

impl HandOverPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        (self.error_field == field).then_some(self.error.as_str())
    }
}

fn person(waiting: &Waiting) -> String {
    match (&waiting.first_name, &waiting.last_name) {
        (Some(first), Some(last)) => format!("{first} {last} ({})", waiting.login),
        _ => waiting.login.clone(),
    }
}

async fn waiting(state: &AppState, staff: &Staff) -> Result<Vec<Waiting>, UpstreamError> {
    state
        .upstream
        .get::<Collections>(Service::Delivery, "/api/collections", &staff.token)
        .await
        .map(|c| c.collections)
}

pub async fn page(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    axum::extract::Query(filters): axum::extract::Query<DeskFilters>,
) -> Response {
    let letters = match waiting(&state, &staff).await {
        Ok(letters) => letters,
        Err(error) => return failure(&session, staff, error).await,
    };
    let q: String = filters.q.chars().take(200).collect();
    let mut letters: Vec<Waiting> = letters.into_iter().filter(|w| matches(w, &q)).collect();
    if filters.sort == "newest" {
        letters.reverse();
    }
    let total = letters.len() as u64;
    let page = filters
        .page
        .trim()
        .parse::<u64>()
        .unwrap_or(1)
        .clamp(1, total.div_ceil(DESK_PAGE).max(1));
    let pager = super::list::Pager::new(
        "/odbior",
        &[("q", q.as_str()), ("sort", filters.sort.as_str())],
        page,
        DESK_PAGE,
        total,
    );
    DeskPage {
        frame: Frame::at(&session, staff, "/odbior").await,
        pager,
        filters: DeskFilters { q, ..filters },
        rows: letters
            .into_iter()
            .skip(((page - 1) * DESK_PAGE) as usize)
            .take(DESK_PAGE as usize)
            .map(|w| Row {
                href: format!("/odbior/{}", w.case_number),
                person: person(&w),
                expires_at: contracts::time::polish_short(w.expires_at),
                case_number: w.case_number,
                procedure: w.procedure,
                institution_name: w.institution_name,
            })
            .collect(),
    }
    .into_response()
}

async fn hand_over_page(
    state: &AppState,
    staff: Staff,
    session: &Session,
    case_number: String,
    form: HandOver,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let letters = match waiting(state, &staff).await {
        Ok(letters) => letters,
        Err(error) => return failure(session, staff, error).await,
    };
    let Some(letter) = letters.iter().find(|w| w.case_number == case_number) else {
        return super::message(
            session,
            Some(staff),
            StatusCode::NOT_FOUND,
            "Pismo nie czeka na odbiór",
            &format!(
                "Dla sprawy {case_number} nie ma pisma do wydania: zostało już wydane, \
                 hasło startowe wygasło albo sprawa nie była do odbioru osobistego."
            ),
        )
        .await;
    };
    let (error_field, error) = error.unwrap_or_default();
    let page = HandOverPage {
        href: format!("/odbior/{case_number}"),
        person: person(letter),
        institution_name: letter.institution_name.clone(),
        case_number,
        form,
        error_field,
        error,
        frame: Frame::at(session, staff, "/odbior").await,
    };
    (status, page).into_response()
}

pub async fn form(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((p, y, s)): Path<(String, String, String)>,
) -> Response {
    hand_over_page(
        &state,
        staff,
        &session,
        format!("{p}/{y}/{s}"),
        HandOver::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The form's field that delivery's field name (a JSON path) stands for.
fn form_field(field: &str) -> &'static str {
    match field {
        "collected_by" => "collected_by",
        "person_name" => "person_name",
        "f01_reference" => "f01_reference",
        "id_document.last4" => "id_last4",
        _ => "id_type",
    }
}

pub async fn hand_over(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((p, y, s)): Path<(String, String, String)>,
    Form(form): Form<HandOver>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let case_number = format!("{p}/{y}/{s}");
    let blank_as_none = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    };
    let body = json!({
        "collected_by": blank_as_none(&form.collected_by),
        "person_name": blank_as_none(&form.person_name),
        "f01_reference": blank_as_none(&form.f01_reference),
        "id_document": { "type": blank_as_none(&form.id_type), "last4": blank_as_none(&form.id_last4) },
    });
    match state
        .upstream
        .post_raw(
            Service::Delivery,
            &format!("/api/collections/{case_number}"),
            &staff.token,
            &body,
        )
        .await
    {
        Ok((kind, pdf)) if kind.starts_with("application/pdf") => {
            tracing::info!(%case_number, operator = %staff.login, "a letter handed over at the desk");
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    // Opened in the browser to print; nothing of it stays anywhere.
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "inline; filename=\"pismo-{}.pdf\"",
                            case_number.replace('/', "-")
                        ),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                pdf,
            )
                .into_response()
        }
        Ok((kind, _)) => {
            tracing::error!(%case_number, %kind, "delivery answered a hand-over with no letter");
            failure(
                &session,
                staff,
                UpstreamError::Unavailable(format!("a hand-over answered with {kind}")),
            )
            .await
        }
        Err(UpstreamError::Refused {
            status: status @ (403 | 422),
            kind,
            title,
            detail,
            field,
        }) if status == 422 || kind == "collection-refused" => {
            let message = super::next_to_field(&detail.unwrap_or(title));
            let field = field.as_deref().map_or("collected_by", form_field);
            hand_over_page(
                &state,
                staff,
                &session,
                case_number,
                form,
                Some((field.to_owned(), message)),
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
