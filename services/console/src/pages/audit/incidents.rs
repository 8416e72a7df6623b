//! The register of security incidents: the list (by status, category and case, a page at a
//! time after the last number shown), one incident with its cases, records and history, the
//! form that moves its status, and the form that opens one by hand. audit checks every
//! change (which status may follow, who may close, what a closing needs) and says why not.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower_sessions::Session;

use super::{
    CATEGORIES, Choice, FieldError, Name, STATUSES, case_href, category_label, error_of,
    form_refusal, leave_notice, name, position_href, status_label, take_notice,
};
use crate::pages::list::query_string;
use crate::pages::{Frame, SignedIn, Staff, failure, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::Service;

/// Incidents a page of the list shows.
const PER_PAGE: u32 = 25;

#[derive(Debug, Deserialize)]
struct HistoryEntry {
    status: String,
    at: DateTime<Utc>,
    by: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Incident {
    number: String,
    year: i32,
    sequence: i64,
    category: String,
    status: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    subject_login: Option<String>,
    opened_at: DateTime<Utc>,
    opened_by: String,
    #[serde(default)]
    opened_automatically: bool,
    #[serde(default)]
    closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    closed_by: Option<String>,
    #[serde(default)]
    closing_note: Option<String>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    case_numbers: Vec<String>,
    #[serde(default)]
    record_positions: Vec<i64>,
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

impl Incident {
    fn href(&self) -> String {
        incident_href(self.year, self.sequence)
    }
}

fn incident_href(year: i32, sequence: i64) -> String {
    format!("/incydenty/{year}/{sequence:06}")
}

#[derive(Debug, Deserialize)]
struct IncidentList {
    incidents: Vec<Incident>,
    #[serde(default)]
    next_after: Option<String>,
}

pub struct Link {
    pub href: String,
    pub text: String,
}

pub struct ListRow {
    pub number: String,
    pub href: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub opened_at: String,
    pub opened_by: String,
    pub cases: Vec<Link>,
}

/// The list's filters, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ListFilters {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub case_number: String,
    /// The page starts after this incident.
    #[serde(default)]
    pub after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents.html")]
pub struct ListPage {
    pub frame: Frame,
    pub filters: ListFilters,
    pub statuses: &'static [Choice],
    pub categories: &'static [Choice],
    pub errors: Vec<FieldError>,
    pub refusal: Option<String>,
    pub rows: Vec<ListRow>,
    pub first_page: Option<String>,
    pub next_page: Option<String>,
}

impl ListPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.errors, field)
    }

    pub fn listed(&self) -> bool {
        self.errors.is_empty() && self.refusal.is_none()
    }
}

const LIST_NAMES: &[Name] = &[
    name("status", "status", "Status"),
    name("category", "category", "Kategoria"),
    name("case_number", "case_number", "Numer sprawy"),
    name("after", "after", "strona"),
];

/// `GET /incydenty`.
pub async fn incidents(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Query(filters): Query<ListFilters>,
) -> Response {
    let criteria = [
        ("status", filters.status.as_str()),
        ("category", filters.category.as_str()),
        ("case_number", filters.case_number.as_str()),
    ];
    let query = query_string(&criteria);
    let upstream_query = query_string(&[
        ("status", &filters.status),
        ("category", &filters.category),
        ("case_number", &filters.case_number),
        ("after", &filters.after),
        ("limit", &PER_PAGE.to_string()),
    ]);
    let mut errors = Vec::new();
    let mut refusal = None;
    let mut found = IncidentList {
        incidents: Vec::new(),
        next_after: None,
    };
    match state
        .upstream
        .get::<IncidentList>(
            Service::Audit,
            &format!("/api/incidents?{upstream_query}"),
            &staff.token,
        )
        .await
    {
        Ok(list) => found = list,
        Err(error) => match form_refusal(error, &[400, 422], LIST_NAMES) {
            // The page cursor is the console's own: a bad one is no field of the form.
            Ok(refused) => match refused.field.filter(|f| *f != "after") {
                Some(field) => errors.push(FieldError {
                    field,
                    message: refused.message,
                }),
                None => refusal = Some(refused.message),
            },
            Err(error) => return failure(&session, staff, error).await,
        },
    }
    let address = |extra: String| match (query.is_empty(), extra.is_empty()) {
        (true, true) => "/incydenty".to_owned(),
        (true, false) => format!("/incydenty?{extra}"),
        (false, true) => format!("/incydenty?{query}"),
        (false, false) => format!("/incydenty?{query}&{extra}"),
    };
    let next_page = found
        .next_after
        .as_deref()
        .map(|after| address(query_string(&[("after", after)])));
    let first_page = (!filters.after.trim().is_empty()).then(|| address(String::new()));
    let status = if errors.is_empty() && refusal.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ListPage {
        frame: Frame::at(&session, staff, "/incydenty").await,
        rows: found.incidents.into_iter().map(list_row).collect(),
        filters,
        statuses: STATUSES,
        categories: CATEGORIES,
        errors,
        refusal,
        first_page,
        next_page,
    };
    (status, page).into_response()
}

fn case_links(cases: &[String]) -> Vec<Link> {
    cases
        .iter()
        .map(|case| Link {
            href: case_href(case),
            text: case.clone(),
        })
        .collect()
}

fn list_row(incident: Incident) -> ListRow {
    ListRow {
        href: incident.href(),
        category: category_label(&incident.category).to_owned(),
        status: status_label(&incident.status).to_owned(),
        opened_at: contracts::time::polish_short(incident.opened_at),
        cases: case_links(&incident.case_numbers),
        number: incident.number,
        title: incident.title,
        opened_by: incident.opened_by,
    }
}

pub struct HistoryRow {
    pub at: String,
    pub status: String,
    pub by: String,
    pub note: String,
}

/// The status form after a refusal: what was chosen and typed, and audit's word on it.
#[derive(Default)]
pub struct StatusForm {
    pub status: String,
    pub note: String,
    pub errors: Vec<FieldError>,
    /// A refusal that names neither field (who may close, for one).
    pub refusal: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident.html")]
pub struct DetailPage {
    pub frame: Frame,
    pub number: String,
    pub href: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub status: String,
    pub open: bool,
    pub opened_at: String,
    pub opened_by: String,
    pub opened_automatically: bool,
    pub subject_login: String,
    pub closed: Option<(String, String)>,
    pub closing_note: String,
    pub updated_at: String,
    pub cases: Vec<Link>,
    pub records: Vec<Link>,
    pub history: Vec<HistoryRow>,
    /// The statuses the form offers: all but the present one.
    pub next_statuses: Vec<&'static Choice>,
    pub form: StatusForm,
    pub notice: Option<String>,
}

impl DetailPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.form.errors, field)
    }
}

async fn render_detail(
    state: &AppState,
    staff: Staff,
    session: &Session,
    (year, sequence): (String, String),
    form: StatusForm,
    status: StatusCode,
) -> Response {
    let Some(number) = audit_number(&year, &sequence) else {
        return crate::pages::not_found(session.clone()).await;
    };
    let incident: Incident = match state
        .upstream
        .get(
            Service::Audit,
            &format!("/api/incidents/{number}"),
            &staff.token,
        )
        .await
    {
        Ok(incident) => incident,
        Err(error) => return failure(session, staff, error).await,
    };
    let notice = take_notice(session).await;
    let page = DetailPage {
        frame: Frame::at(session, staff, "/incydenty").await,
        href: incident.href(),
        category: category_label(&incident.category).to_owned(),
        status: status_label(&incident.status).to_owned(),
        open: incident.status != "closed",
        opened_at: contracts::time::polish_short(incident.opened_at),
        opened_automatically: incident.opened_automatically,
        subject_login: incident.subject_login.unwrap_or_default(),
        closed: incident.closed_at.map(|at| {
            (
                contracts::time::polish_short(at),
                incident.closed_by.unwrap_or_default(),
            )
        }),
        closing_note: incident.closing_note.unwrap_or_default(),
        updated_at: contracts::time::polish_short(incident.updated_at),
        cases: case_links(&incident.case_numbers),
        records: incident
            .record_positions
            .iter()
            .map(|p| Link {
                href: position_href(*p),
                text: format!("pozycja {p}"),
            })
            .collect(),
        history: incident
            .history
            .into_iter()
            .map(|h| HistoryRow {
                at: contracts::time::polish_short(h.at),
                status: status_label(&h.status).to_owned(),
                by: h.by,
                note: h.note.unwrap_or_default(),
            })
            .collect(),
        next_statuses: STATUSES
            .iter()
            .filter(|c| c.value != incident.status)
            .collect(),
        number: incident.number,
        title: incident.title,
        description: incident.description,
        opened_by: incident.opened_by,
        form,
        notice,
    };
    (status, page).into_response()
}

/// `year/sequence` of audit's address of an incident, when the console's address holds only
/// digits there: nothing else could name an incident, or be let into a path at audit.
fn audit_number(year: &str, sequence: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    (digits(year) && digits(sequence)).then(|| format!("{year}/{sequence}"))
}

/// `GET /incydenty/{year}/{sequence}`.
pub async fn incident(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(number): Path<(String, String)>,
) -> Response {
    render_detail(
        &state,
        staff,
        &session,
        number,
        StatusForm::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct StatusFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

const STATUS_NAMES: &[Name] = &[
    name("status", "status", "Nowy status"),
    name("note", "note", "Notatka"),
];

/// `POST /incydenty/{year}/{sequence}/status`: asks audit to move the status; back to the
/// incident either way, with audit's refusal next to the field it concerns.
pub async fn change_status(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((year, sequence)): Path<(String, String)>,
    Form(fields): Form<StatusFields>,
) -> Response {
    if !csrf_matches(&session, &fields.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    // Nothing chosen is sent as nothing, so audit says the status is missing.
    let mut body = Map::new();
    if !fields.status.trim().is_empty() {
        body.insert("status".into(), json!(fields.status.trim()));
    }
    body.insert("note".into(), json!(fields.note));
    let Some(number) = audit_number(&year, &sequence) else {
        return crate::pages::not_found(session).await;
    };
    let path = format!("/api/incidents/{number}/status");
    match state
        .upstream
        .post::<Value>(Service::Audit, &path, &staff.token, &Value::Object(body))
        .await
    {
        Ok(_) => {
            leave_notice(
                &session,
                format!(
                    "Zmieniono status incydentu na „{}”.",
                    status_label(fields.status.trim())
                ),
            )
            .await;
            // The notice is at the top; the form's own anchor would keep the page at the form.
            Redirect::to(&format!("/incydenty/{year}/{sequence}#tresc")).into_response()
        }
        Err(error) => match form_refusal(error, &[400, 403, 409, 422], STATUS_NAMES) {
            Ok(refused) => {
                let mut form = StatusForm {
                    status: fields.status,
                    note: fields.note,
                    ..StatusForm::default()
                };
                // A status that may not follow the present one is the chosen status's fault.
                let field = refused
                    .field
                    .or_else(|| (refused.status == 409).then_some("status"));
                match field {
                    Some(field) => form.errors.push(FieldError {
                        field,
                        message: refused.message,
                    }),
                    None => form.refusal = Some(refused.message),
                }
                let status = StatusCode::from_u16(refused.status)
                    .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                render_detail(&state, staff, &session, (year, sequence), form, status).await
            }
            Err(error) => failure(&session, staff, error).await,
        },
    }
}

/// The form that opens an incident by hand, as typed.
#[derive(Default, Deserialize)]
pub struct NewFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// One case number a line.
    #[serde(default)]
    pub case_numbers: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_new.html")]
pub struct NewPage {
    pub frame: Frame,
    pub categories: &'static [Choice],
    pub fields: NewFields,
    pub errors: Vec<FieldError>,
    pub refusal: Option<String>,
}

impl NewPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.errors, field)
    }
}

/// `GET /incydenty/nowy`.
pub async fn new_incident(SignedIn(staff, session): SignedIn) -> Response {
    NewPage {
        frame: Frame::at(&session, staff, "/incydenty").await,
        categories: CATEGORIES,
        fields: NewFields {
            category: "other".into(),
            ..NewFields::default()
        },
        errors: Vec::new(),
        refusal: None,
    }
    .into_response()
}

const NEW_NAMES: &[Name] = &[
    name("category", "category", "Kategoria"),
    name("title", "title", "Tytuł"),
    name("description", "description", "Opis"),
    name("case_numbers", "case_numbers", "Powiązane sprawy"),
];

/// `POST /incydenty/nowy`: audit opens the incident in the signed-in person's name.
pub async fn open_incident(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Form(fields): Form<NewFields>,
) -> Response {
    if !csrf_matches(&session, &fields.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let cases: Vec<&str> = fields
        .case_numbers
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let body = json!({
        "category": fields.category,
        "title": fields.title,
        "description": fields.description,
        "case_numbers": cases,
    });
    match state
        .upstream
        .post::<Incident>(Service::Audit, "/api/incidents", &staff.token, &body)
        .await
    {
        Ok(incident) => {
            leave_notice(
                &session,
                format!("Zarejestrowano incydent {}.", incident.number),
            )
            .await;
            Redirect::to(&incident.href()).into_response()
        }
        Err(error) => match form_refusal(error, &[400, 422], NEW_NAMES) {
            Ok(refused) => {
                let mut page = NewPage {
                    frame: Frame::at(&session, staff, "/incydenty").await,
                    categories: CATEGORIES,
                    fields,
                    errors: Vec::new(),
                    refusal: None,
                };
                match refused.field {
                    Some(field) => page.errors.push(FieldError {
                        field,
                        message: refused.message,
                    }),
                    None => page.refusal = Some(refused.message),
                }
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
            }
            Err(error) => failure(&session, staff, error).await,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incidents_page_is_addressed_by_year_and_six_digits() {
        assert_eq!(incident_href(2026, 42), "/incydenty/2026/000042");
    }

    #[test]
    fn only_digits_are_let_into_audits_address_of_an_incident() {
        assert_eq!(
            audit_number("2026", "000042").as_deref(),
            Some("2026/000042")
        );
        assert_eq!(audit_number("..", "verify"), None);
        assert_eq!(audit_number("2026", "%2E%2E"), None);
    }
}
