//! The register of security incidents over HTTP: list, read one, open one by hand, move
//! its status forward. Requests are decoded here, field by field, so every refusal names
//! the field at fault in a Polish problem+json.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kit::auth::Actor;
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::domain::incidents::{
    FieldError, Incident, IncidentCategory, IncidentNumber, IncidentStatus, NewIncident,
    StatusChange,
};
use crate::store::incidents::{IncidentFilter, incident_find, incidents_list};

const LIMIT_DEFAULT: i64 = 100;
const LIMIT_MAX: i64 = 1_000;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, open))
        .routes(routes!(one))
        .routes(routes!(change_status))
}

/// `INC/{year}/{sequence}` in a path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes the path only; handlers take its parts as text"
)]
struct IncidentNumberPath {
    #[param(example = "2026")]
    year: String,
    /// With or without its leading zeros.
    #[param(example = "000042")]
    sequence: String,
}

/// Query parameters as text, so each bad one is answered by name.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `registered`, `under_analysis` or `closed`.
    status: Option<String>,
    /// `starting_password_loss`, `repeated_failed_logins`, `revocation_wrong_local_database` or
    /// `other`.
    category: Option<String>,
    /// Incidents linked to this case.
    case_number: Option<String>,
    /// Opened at or after (RFC 3339).
    from: Option<String>,
    /// Opened before (RFC 3339).
    to: Option<String>,
    /// Incidents numbered after this one (`INC/2026/000042`): the previous page's `next_after`.
    after: Option<String>,
    /// At most this many, 1 to 1000 (100 by default).
    limit: Option<String>,
}

/// A page of the register.
#[derive(Serialize, utoipa::ToSchema)]
struct IncidentPage {
    /// In the order they were numbered, without their history.
    incidents: Vec<Incident>,
    /// The last number of a full page, for `after`; null when nothing follows.
    #[schema(value_type = Option<String>, example = "INC/2026/000042")]
    next_after: Option<IncidentNumber>,
}

/// An incident opened by hand.
// new_incident_of reads the body field by field, for answers naming the field; this only
// describes it.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "describes the body only; new_incident_of parses it"
)]
struct OpenIncident {
    category: IncidentCategory,
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(min_length = 1, max_length = 10000)]
    description: String,
    /// Cases the incident concerns, at most 100, each at most 64 characters.
    #[schema(max_items = 100)]
    case_numbers: Option<Vec<String>>,
    /// Who opens it: if given, the signed-in person's login; anyone else is refused.
    opened_by: Option<String>,
}

/// A move of an incident's status: forward only, and closing needs a note.
// status_change_of reads the body field by field; this only describes it.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "describes the body only; status_change_of parses it"
)]
struct ChangeStatus {
    /// `under_analysis` or `closed` (from `registered`), or `closed` (from `under_analysis`).
    status: IncidentStatus,
    /// Required to close.
    #[schema(max_length = 10000)]
    note: Option<String>,
    /// Who moves it: if given, the signed-in person's login; anyone else is refused.
    by: Option<String>,
}

/// `GET /api/incidents?status=&category=&case_number=&from=&to=&after=&limit=`: incidents in
/// the order they were numbered; `next_after` continues a full page.
#[utoipa::path(
    get,
    path = "/api/incidents",
    tag = "incidents",
    operation_id = "incidents_list",
    summary = "Incidents in the order they were numbered, filtered",
    description = "Roles: auditor, administrator.",
    params(ListQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "A page; `next_after` continues a full one",
            body = IncidentPage),
        (status = 400, description = "A parameter is wrong; `detail` names it (`invalid-query`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let filter = match query.map_err(|e| {
        bad_query("Niepoprawne parametry zapytania").detail(format!(
            "Nie udało się odczytać parametrów zapytania: {}.",
            e.body_text()
        ))
    }) {
        Ok(Query(query)) => filter_of(query),
        Err(problem) => Err(problem),
    };
    let filter = match filter {
        Ok(filter) => filter,
        Err(problem) => return problem.into_response(),
    };
    let limit = filter.limit.unwrap_or(LIMIT_DEFAULT);
    match incidents_list(&state.pool, &filter).await {
        Ok(incidents) => {
            let next_after = (incidents.len() as i64 >= limit)
                .then(|| incidents.last().map(|i| i.number))
                .flatten();
            Json(IncidentPage {
                incidents,
                next_after,
            })
            .into_response()
        }
        Err(error) => internal(error),
    }
}

fn filter_of(q: ListQuery) -> Result<IncidentFilter, Problem> {
    let status = q
        .status
        .map(|s| {
            IncidentStatus::parse(&s).ok_or_else(|| {
                bad_query("Nieznany status incydentu").detail(format!(
                    "Parametr „status”: nieznany status „{s}”; dostępne: {}.",
                    statuses()
                ))
            })
        })
        .transpose()?;
    let category = q
        .category
        .map(|c| {
            IncidentCategory::parse(&c).ok_or_else(|| {
                bad_query("Nieznana kategoria incydentu").detail(format!(
                    "Parametr „category”: nieznana kategoria „{c}”; dostępne: {}.",
                    categories()
                ))
            })
        })
        .transpose()?;
    let time = |name: &str, value: Option<String>| {
        value
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        bad_query("Niepoprawna data").detail(format!(
                            "Parametr „{name}” musi być datą i godziną w formacie RFC 3339, \
                             np. 2026-11-23T10:00:00Z."
                        ))
                    })
            })
            .transpose()
    };
    let after = q
        .after
        .map(|a| {
            IncidentNumber::parse(&a).ok_or_else(|| {
                bad_query("Niepoprawny numer incydentu").detail(format!(
                    "Parametr „after” musi być numerem incydentu, np. INC/2026/000042 (podano „{a}”)."
                ))
            })
        })
        .transpose()?;
    let limit = q
        .limit
        .map(|l| {
            l.parse::<i64>()
                .ok()
                .filter(|l| (1..=LIMIT_MAX).contains(l))
                .ok_or_else(|| {
                    bad_query("Niepoprawny limit").detail(format!(
                        "Parametr „limit” musi być liczbą od 1 do {LIMIT_MAX}."
                    ))
                })
        })
        .transpose()?;
    Ok(IncidentFilter {
        status,
        category,
        case_number: q.case_number.filter(|c| !c.is_empty()),
        from: time("from", q.from)?,
        to: time("to", q.to)?,
        after,
        limit: Some(limit.unwrap_or(LIMIT_DEFAULT)),
    })
}

/// `GET /api/incidents/2026/000042`: one incident with its links and history.
#[utoipa::path(
    get,
    path = "/api/incidents/{year}/{sequence}",
    tag = "incidents",
    operation_id = "incident_get",
    summary = "One incident with its links and history",
    description = "Roles: auditor, administrator.",
    params(IncidentNumberPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The incident", body = Incident),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident (`incident-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn one(
    State(state): State<AppState>,
    Path((year, sequence)): Path<(String, String)>,
) -> Response {
    let Some(number) = IncidentNumber::from_parts(&year, &sequence) else {
        return not_found(&format!("INC/{year}/{sequence}"));
    };
    match incident_find(&state.pool, number).await {
        Ok(Some(incident)) => Json(incident).into_response(),
        Ok(None) => not_found(&number.to_string()),
        Err(error) => internal(error),
    }
}

/// `POST /api/incidents` with `{category, title, description, case_numbers?}`: the signed-in
/// auditor or administrator opens an incident; 201 with it.
#[utoipa::path(
    post,
    path = "/api/incidents",
    tag = "incidents",
    operation_id = "incident_open",
    summary = "Open an incident by hand, as the signed-in person",
    description = "Roles: auditor, administrator.",
    request_body = OpenIncident,
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Opened", body = Incident,
            headers(("Location" = String, description = "`/api/incidents/{year}/{sequence}`"))),
        (status = 400, description = "The body is not a JSON object (`invalid-json`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "A field is wrong; `detail` names it (`invalid-field`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn open(State(state): State<AppState>, actor: Actor, body: Bytes) -> Response {
    let new = match new_incident_of(&body, actor.login()) {
        Ok(new) => new,
        Err(problem) => return problem.into_response(),
    };
    match crate::incidents::open(&state.pool, &new, state.clock.now()).await {
        Ok(incident) => created(incident),
        Err(error) => internal(error),
    }
}

/// Who acts is who signed in; a body that names someone else is refused.
fn acting_person<'a>(
    fields: &Map<String, Value>,
    name: &str,
    signed_in: &'a str,
) -> Result<&'a str, Problem> {
    match optional_text(fields, name)? {
        Some(named) if named != signed_in => Err(invalid_field(format!(
            "Pole „{name}”: czynność zapisuje się na zalogowaną osobę ({signed_in}), nie na „{named}”."
        ))),
        _ => Ok(signed_in),
    }
}

fn new_incident_of(body: &[u8], signed_in: &str) -> Result<NewIncident, Problem> {
    let fields = json_object(body)?;
    let category = required_text(&fields, "category")?;
    let category = IncidentCategory::parse(category).ok_or_else(|| {
        invalid_field(format!(
            "Pole „category”: nieznana kategoria „{category}”; dostępne: {}.",
            categories()
        ))
    })?;
    NewIncident::by_person(
        category,
        required_text(&fields, "title")?,
        required_text(&fields, "description")?,
        &text_list(&fields, "case_numbers")?,
        acting_person(&fields, "opened_by", signed_in)?,
    )
    .map_err(field_problem)
}

/// `POST /api/incidents/2026/000042/status` with `{status, note?}`, by the signed-in person.
#[utoipa::path(
    post,
    path = "/api/incidents/{year}/{sequence}/status",
    tag = "incidents",
    operation_id = "incident_status_change",
    summary = "Move an incident's status forward, as the signed-in person",
    description = "Roles: auditor, administrator. An incident opened automatically for a case \
        is closed by an auditor who took no part in that case.",
    params(IncidentNumberPath),
    request_body = ChangeStatus,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Moved; the incident with its history", body = Incident),
        (status = 400, description = "The body is not a JSON object (`invalid-json`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not an auditor or administrator (`forbidden`), or one who \
            may not close this incident (`separation-of-duties`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident (`incident-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already, unchanged or backwards \
            (`incident-status-conflict`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "A field is wrong, or closing without a note; `detail` \
            names it (`invalid-field`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn change_status(
    State(state): State<AppState>,
    actor: Actor,
    Path((year, sequence)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(number) = IncidentNumber::from_parts(&year, &sequence) else {
        return not_found(&format!("INC/{year}/{sequence}"));
    };
    let change = match status_change_of(&body, actor.login()) {
        Ok(change) => change,
        Err(problem) => return problem.into_response(),
    };
    let role = actor.0.role;
    match crate::incidents::change_status(&state.pool, number, &change, role, state.clock.now())
        .await
    {
        Ok(incident) => Json(incident).into_response(),
        Err(error) => super::problem(error),
    }
}

fn status_change_of(body: &[u8], signed_in: &str) -> Result<StatusChange, Problem> {
    let fields = json_object(body)?;
    let status = required_text(&fields, "status")?;
    let status = IncidentStatus::parse(status).ok_or_else(|| {
        invalid_field(format!(
            "Pole „status”: nieznany status „{status}”; dostępne: {}.",
            statuses()
        ))
    })?;
    StatusChange::new(
        status,
        acting_person(&fields, "by", signed_in)?,
        optional_text(&fields, "note")?,
    )
    .map_err(field_problem)
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    let invalid = |detail: String| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "Niepoprawna treść żądania",
        )
        .detail(detail)
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(invalid("Treść żądania musi być obiektem JSON.".to_owned())),
        Err(e) => Err(invalid(format!(
            "Treść żądania nie jest poprawnym JSON-em (wiersz {}, kolumna {}).",
            e.line(),
            e.column()
        ))),
    }
}

fn optional_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Problem> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_field(format!("Pole „{name}” musi być tekstem."))),
    }
}

fn required_text<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, Problem> {
    optional_text(fields, name)?
        .ok_or_else(|| invalid_field(format!("Brak wymaganego pola „{name}”.")))
}

fn text_list(fields: &Map<String, Value>, name: &str) -> Result<Vec<String>, Problem> {
    let not_a_list = || invalid_field(format!("Pole „{name}” musi być listą tekstów."));
    match fields.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(not_a_list))
            .collect(),
        Some(_) => Err(not_a_list()),
    }
}

fn statuses() -> String {
    IncidentStatus::ALL.map(IncidentStatus::as_str).join(", ")
}

fn categories() -> String {
    IncidentCategory::ALL
        .map(IncidentCategory::as_str)
        .join(", ")
}

fn invalid_field(detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
        "Niepoprawne dane żądania",
    )
    .detail(detail)
}

fn field_problem(e: FieldError) -> Problem {
    invalid_field(e.message)
}

fn bad_query(title: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid-query", title)
}

fn created(incident: Incident) -> Response {
    let location = format!(
        "/api/incidents/{}/{:06}",
        incident.number.year, incident.number.sequence
    );
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(incident),
    )
        .into_response()
}

fn not_found(number: &str) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "incident-not-found",
        "Nie znaleziono incydentu",
    )
    .detail(format!("Nie ma incydentu o numerze {number}."))
    .into_response()
}

fn internal(error: sqlx::Error) -> Response {
    tracing::error!(%error, "incident request failed");
    Problem::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_detail(p: Problem) -> (u16, String) {
        (p.status, p.detail.unwrap_or_default())
    }

    #[test]
    fn an_incident_is_opened_by_whoever_signed_in_and_by_no_one_else() {
        let body = br#"{"category":"other","title":"Zgubiony laptop","description":"d"}"#;
        assert_eq!(new_incident_of(body, "admin").unwrap().opened_by, "admin");
        let same = br#"{"category":"other","title":"t","description":"d","opened_by":"admin"}"#;
        assert!(new_incident_of(same, "admin").is_ok());
        let other = br#"{"category":"other","title":"t","description":"d","opened_by":"kto-inny"}"#;
        let (status, detail) = field_detail(new_incident_of(other, "admin").unwrap_err());
        assert_eq!(status, 422);
        assert!(detail.contains("„opened_by”"), "{detail}");
    }

    #[test]
    fn an_unknown_category_is_refused_with_the_ones_there_are() {
        let body = br#"{"category":"fire","title":"t","description":"d","opened_by":"admin"}"#;
        let (status, detail) = field_detail(new_incident_of(body, "admin").unwrap_err());
        assert_eq!(status, 422);
        assert!(detail.contains("„category”") && detail.contains("starting_password_loss"));
    }

    #[test]
    fn case_numbers_must_be_a_list_of_texts() {
        let body = br#"{"category":"other","title":"t","description":"d","opened_by":"a","case_numbers":[1]}"#;
        let (status, detail) = field_detail(new_incident_of(body, "admin").unwrap_err());
        assert_eq!(status, 422);
        assert!(detail.contains("„case_numbers”"));
    }

    #[test]
    fn a_body_that_is_not_json_is_a_bad_request() {
        assert_eq!(new_incident_of(b"{", "admin").unwrap_err().status, 400);
        assert_eq!(status_change_of(b"[]", "admin").unwrap_err().status, 400);
    }

    #[test]
    fn a_status_change_reads_status_and_an_optional_note_by_the_signed_in_person() {
        let change = status_change_of(br#"{"status":"closed","note":"ok"}"#, "admin").unwrap();
        assert_eq!(change.status, IncidentStatus::Closed);
        assert_eq!(change.by, "admin");
        assert_eq!(change.note.as_deref(), Some("ok"));
        let (status, detail) =
            field_detail(status_change_of(br#"{"status":"open"}"#, "admin").unwrap_err());
        assert_eq!(status, 422);
        assert!(detail.contains("„status”"));
        let (status, detail) = field_detail(
            status_change_of(br#"{"status":"closed","by":"ktos"}"#, "admin").unwrap_err(),
        );
        assert_eq!(status, 422);
        assert!(detail.contains("„by”"));
    }

    #[test]
    fn list_parameters_are_checked_one_by_one() {
        let bad = |q: ListQuery| filter_of(q).unwrap_err().detail.unwrap_or_default();
        assert!(
            bad(ListQuery {
                status: Some("open".into()),
                ..Default::default()
            })
            .contains("„status”")
        );
        assert!(
            bad(ListQuery {
                from: Some("yesterday".into()),
                ..Default::default()
            })
            .contains("„from”")
        );
        assert!(
            bad(ListQuery {
                after: Some("42".into()),
                ..Default::default()
            })
            .contains("„after”")
        );
        assert!(
            bad(ListQuery {
                limit: Some("0".into()),
                ..Default::default()
            })
            .contains("„limit”")
        );
        let f = filter_of(ListQuery {
            status: Some("under_analysis".into()),
            after: Some("INC/2026/000002".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(f.status, Some(IncidentStatus::UnderAnalysis));
        assert_eq!(
            f.after,
            Some(IncidentNumber {
                year: 2026,
                sequence: 2
            })
        );
        assert_eq!(f.limit, Some(LIMIT_DEFAULT));
    }
}
