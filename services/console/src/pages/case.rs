//! A case's page: the form as received (PESEL masked, by intake), what accounts verified,
//! every step with who and when, the reason of a refusal or failure, what SEOD was told, the
//! linked incident; and the acts the case waits for (take, agree delivery in person,
//! realise), each a form that intake decides on.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::{Frame, SignedIn, Staff, failure, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Debug, Deserialize)]
struct Step {
    step: String,
    at: DateTime<Utc>,
    by: String,
    seod_told: bool,
}

#[derive(Debug, Deserialize)]
struct Reason {
    field: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct CaseDetail {
    case_number: String,
    procedure: String,
    document_id: String,
    status: String,
    institution_rspo_id: String,
    institution_name: String,
    target_login: String,
    requester_login: String,
    delivery_mode: String,
    rspo_email: String,
    director_mobile: String,
    source: String,
    #[serde(default)]
    reason: Option<Reason>,
    #[serde(default)]
    taken_by: Option<String>,
    #[serde(default)]
    delivery_agreement: Option<String>,
    #[serde(default)]
    proxy_name: Option<String>,
    #[serde(default)]
    proxy_f01_reference: Option<String>,
    form: Value,
    steps: Vec<Step>,
    #[serde(default)]
    contact_updates: Vec<ContactUpdate>,
    #[serde(default)]
    closed_by: Option<String>,
    #[serde(default)]
    closing_note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContactUpdate {
    field: String,
    #[serde(default)]
    previous: Option<String>,
    current: String,
}

#[derive(Debug, Deserialize)]
struct IncidentSummary {
    number: String,
    title: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct Incidents {
    incidents: Vec<IncidentSummary>,
}

pub struct StepRow {
    pub what: &'static str,
    pub at: String,
    pub by: String,
    pub seod: &'static str,
}

pub struct FormRow {
    pub field: String,
    pub value: String,
}

pub struct IncidentRow {
    pub number: String,
    pub href: String,
    pub title: String,
    pub status: String,
}

/// What the agreement form holds after a refusal: typed text kept, the error by its field.
#[derive(Default)]
pub struct AgreementForm {
    /// The closing note, kept when it was refused.
    pub note: String,
    pub how: String,
    pub proxy_name: String,
    pub proxy_f01: String,
    pub error_field: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
pub struct CasePage {
    pub frame: Frame,
    pub number: String,
    pub href: String,
    pub procedure: String,
    pub status: &'static str,
    pub document_id: String,
    pub source: &'static str,
    pub institution: String,
    pub requester_login: String,
    pub target_login: String,
    pub delivery: &'static str,
    pub in_person: bool,
    pub rspo_email: String,
    pub director_mobile: String,
    pub taken_by: String,
    pub agreement: String,
    pub proxy: String,
    pub reason: Option<(String, String)>,
    /// Contact data the request corrected: what, from, to.
    pub contact_updates: Vec<(&'static str, String, String)>,
    pub steps: Vec<StepRow>,
    pub form: Vec<FormRow>,
    /// None when the signed-in role may not read the register of incidents.
    pub incidents: Option<Vec<IncidentRow>>,
    pub can_take: bool,
    pub can_realise: bool,
    /// Realisation asked for, the new starting password not issued yet.
    pub realisation_pending: bool,
    /// A failed, refused or expired case, which an administrator closes with a note.
    pub can_close: bool,
    /// Who closed it and why, when it was closed with a note.
    pub closing: Option<(String, String)>,
    pub agreement_form: AgreementForm,
    /// What intake said of the last act, when it refused.
    pub refusal: Option<String>,
}

fn step_name(step: &str) -> &'static str {
    match step {
        "verified" => "zweryfikowana w ewidencji kont",
        "delivery_agreed" => "uzgodniono odbiór osobisty",
        "realisation_requested" => "zlecono realizację",
        other => {
            contracts::seod_status::CaseStatus::parse(other).map_or("inny krok", |s| s.polish())
        }
    }
}

/// Who took a step, as a person reads it: a staff login as it is, a service by its task.
fn party_name(by: String) -> String {
    match by.as_str() {
        "accounts" => "system (ewidencja kont)".into(),
        "delivery" => "system (doręczanie)".into(),
        "" => "—".into(),
        _ => by,
    }
}

fn source_name(source: &str) -> &'static str {
    match source {
        "seod" => "SEOD",
        "operator" => "zarejestrowany w Wydziale",
        _ => "inne",
    }
}

/// The form as rows `field: value`, nested fields named by their path.
fn form_rows(prefix: &str, value: &Value, rows: &mut Vec<FormRow>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                form_rows(&name, value, rows);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                form_rows(&format!("{prefix}[{}]", i + 1), item, rows);
            }
        }
        Value::String(text) => rows.push(FormRow {
            field: prefix.to_owned(),
            value: text.clone(),
        }),
        Value::Null => rows.push(FormRow {
            field: prefix.to_owned(),
            value: "—".into(),
        }),
        other => rows.push(FormRow {
            field: prefix.to_owned(),
            value: other.to_string(),
        }),
    }
}

fn case_path(p: &str, y: &str, s: &str) -> String {
    format!("/api/cases/{p}/{y}/{s}")
}

async fn render(
    state: &AppState,
    staff: Staff,
    session: &Session,
    (p, y, s): (String, String, String),
    agreement_form: AgreementForm,
    refusal: Option<String>,
    status: StatusCode,
) -> Response {
    let detail: CaseDetail = match state
        .upstream
        .get(Service::Intake, &case_path(&p, &y, &s), &staff.token)
        .await
    {
        Ok(detail) => detail,
        Err(error) => return failure(session, staff, error).await,
    };
    let number = detail.case_number.clone();
    let incidents = match state
        .upstream
        .get::<Incidents>(
            Service::Audit,
            &format!(
                "/api/incidents?case_number={}",
                super::list::query_string(&[("x", &number)]).trim_start_matches("x=")
            ),
            &staff.token,
        )
        .await
    {
        Ok(found) => Some(
            found
                .incidents
                .into_iter()
                .map(|i| IncidentRow {
                    href: format!("/incydenty/{}", i.number.trim_start_matches("INC/")),
                    number: i.number,
                    title: i.title,
                    status: i.status,
                })
                .collect(),
        ),
        Err(UpstreamError::Refused { status: 403, .. }) => None,
        Err(error) => return failure(session, staff, error).await,
    };
    let case_status = contracts::seod_status::CaseStatus::parse(&detail.status);
    let mut form = Vec::new();
    form_rows("", &detail.form, &mut form);
    let page = CasePage {
        frame: Frame::at(session, staff, "/kolejka").await,
        href: format!("/sprawy/{p}/{y}/{s}"),
        number,
        procedure: detail.procedure,
        status: case_status.map_or("inny", |s| s.polish()),
        can_take: detail.status == "registered",
        can_close: matches!(detail.status.as_str(), "failed" | "rejected" | "expired"),
        closing: detail.closed_by.zip(detail.closing_note),
        can_realise: detail.status == "taken"
            && !detail
                .steps
                .iter()
                .any(|s| s.step == "realisation_requested"),
        realisation_pending: detail.status == "taken"
            && detail
                .steps
                .iter()
                .any(|s| s.step == "realisation_requested"),
        document_id: detail.document_id,
        source: source_name(&detail.source),
        institution: format!(
            "{} (RSPO {})",
            detail.institution_name, detail.institution_rspo_id
        ),
        requester_login: detail.requester_login,
        target_login: detail.target_login,
        in_person: detail.delivery_mode == "in_person",
        delivery: if detail.delivery_mode == "in_person" {
            "odbiór osobisty w Wydziale"
        } else {
            "list zaszyfrowany e-mailem, hasło SMS-em"
        },
        rspo_email: detail.rspo_email,
        director_mobile: detail.director_mobile,
        taken_by: detail.taken_by.unwrap_or_default(),
        agreement: detail.delivery_agreement.unwrap_or_default(),
        proxy: match (detail.proxy_name, detail.proxy_f01_reference) {
            (Some(name), Some(f01)) => format!("{name} (upoważnienie F-01: {f01})"),
            _ => String::new(),
        },
        reason: detail.reason.map(|r| (r.field, r.message)),
        contact_updates: detail
            .contact_updates
            .into_iter()
            .map(|u| {
                let what = if u.field == "contact.rspo_email" {
                    "adres e-mail placówki z RSPO"
                } else {
                    "służbowy telefon dyrektora"
                };
                (what, u.previous.unwrap_or_else(|| "—".into()), u.current)
            })
            .collect(),
        steps: detail
            .steps
            .into_iter()
            .map(|step| StepRow {
                what: step_name(&step.step),
                at: contracts::time::polish_short(step.at),
                by: party_name(step.by),
                seod: if step.seod_told { "tak" } else { "—" },
            })
            .collect(),
        form,
        incidents,
        agreement_form,
        refusal,
    };
    (status, page).into_response()
}

pub async fn page(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(number): Path<(String, String, String)>,
) -> Response {
    render(
        &state,
        staff,
        &session,
        number,
        AgreementForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    how: String,
    #[serde(default)]
    proxy_name: String,
    #[serde(default)]
    proxy_f01: String,
    #[serde(default)]
    note: String,
}

/// Takes the case, realises it, or records the delivery agreement, as `act` names; intake
/// decides, and its refusal is shown on the case's page.
pub async fn act(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path((p, y, s, act)): Path<(String, String, String, String)>,
    Form(form): Form<ActForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let base = case_path(&p, &y, &s);
    let (path, body) = match act.as_str() {
        "przyjmij" => (format!("{base}/take"), json!({})),
        "realizuj" => {
            let delivery = if form.delivery == "in_person" {
                "in_person"
            } else {
                "electronic"
            };
            (format!("{base}/realise"), json!({ "delivery": delivery }))
        }
        "zamknij" => (format!("{base}/close"), json!({ "note": form.note })),
        "zgoda" => {
            let mut body = json!({ "delivery": "in_person", "how": form.how });
            if !form.proxy_name.trim().is_empty() || !form.proxy_f01.trim().is_empty() {
                body["proxy"] = json!({ "name": form.proxy_name, "f01_reference": form.proxy_f01 });
            }
            (format!("{base}/delivery-agreement"), body)
        }
        _ => return super::not_found(session).await,
    };
    match state
        .upstream
        .post::<Value>(Service::Intake, &path, &staff.token, &body)
        .await
    {
        Ok(_) => Redirect::to(&format!("/sprawy/{p}/{y}/{s}")).into_response(),
        Err(UpstreamError::Refused {
            status: status @ (409 | 422 | 403),
            title,
            detail,
            field,
            ..
        }) => {
            let message = detail.unwrap_or(title);
            let mut agreement = AgreementForm {
                how: form.how,
                proxy_name: form.proxy_name,
                proxy_f01: form.proxy_f01,
                ..AgreementForm::default()
            };
            let refusal = if act == "zgoda" && status == 422 {
                agreement.error_field = agreement_field(field.as_deref()).to_owned();
                agreement.error = super::next_to_field(&message);
                None
            } else if act == "zamknij" && status == 422 {
                agreement.note = form.note;
                agreement.error_field = "note".to_owned();
                agreement.error = super::next_to_field(&message);
                None
            } else {
                Some(message)
            };
            render(
                &state,
                staff,
                &session,
                (p, y, s),
                agreement,
                refusal,
                StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT),
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// The agreement form's field that intake's field stands for.
fn agreement_field(field: Option<&str>) -> &'static str {
    match field {
        Some("proxy.name") => "proxy_name",
        Some("proxy.f01_reference") => "proxy_f01",
        _ => "how",
    }
}
