//! Registration of a PZO-01 request that did not come through SEOD: a director of a
//! non-city institution who came in person or wrote from the institution's registered
//! address (seed 000). intake checks it by the same rules as a SEOD form; its refusal is
//! shown next to the field it names, and what was typed stays.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::{Frame, SignedIn, Staff, failure, next_to_field, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

/// The form as typed; every field is text until intake has read it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Registration {
    #[serde(default)]
    pub institution_rspo_id: String,
    #[serde(default)]
    pub institution_name: String,
    #[serde(default)]
    pub requester_login: String,
    #[serde(default)]
    pub requester_first_name: String,
    #[serde(default)]
    pub requester_last_name: String,
    #[serde(default)]
    pub contact_rspo_email: String,
    #[serde(default)]
    pub contact_director_mobile: String,
    #[serde(default)]
    pub account_login: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub sender_email: String,
    #[serde(default)]
    pub loss: String,
    #[serde(default)]
    csrf: String,
}

/// A text field of the form: its name, label, what was typed, and its error.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub autocomplete: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "registration.html")]
pub struct RegistrationPage {
    pub frame: Frame,
    pub groups: Vec<(&'static str, Vec<Field>)>,
    pub delivery: String,
    pub channel: String,
    pub loss: String,
    pub sender_email: Field,
    pub form_error: Option<String>,
    pub errors_count: usize,
}

const LABELS: &[(&str, &str, &str, &str)] = &[
    (
        "Placówka",
        "institution_rspo_id",
        "Numer RSPO placówki",
        "off",
    ),
    (
        "Placówka",
        "institution_name",
        "Nazwa placówki",
        "organization",
    ),
    (
        "Wnioskodawca (dyrektor)",
        "requester_login",
        "Login dyrektora",
        "off",
    ),
    (
        "Wnioskodawca (dyrektor)",
        "requester_first_name",
        "Imię",
        "given-name",
    ),
    (
        "Wnioskodawca (dyrektor)",
        "requester_last_name",
        "Nazwisko",
        "family-name",
    ),
    (
        "Dane kontaktowe",
        "contact_rspo_email",
        "Adres e-mail placówki z RSPO",
        "email",
    ),
    (
        "Dane kontaktowe",
        "contact_director_mobile",
        "Służbowy telefon komórkowy dyrektora",
        "tel",
    ),
    (
        "Konto",
        "account_login",
        "Identyfikator konta administratora PZO",
        "off",
    ),
];

impl Registration {
    fn value(&self, name: &str) -> &str {
        match name {
            "institution_rspo_id" => &self.institution_rspo_id,
            "institution_name" => &self.institution_name,
            "requester_login" => &self.requester_login,
            "requester_first_name" => &self.requester_first_name,
            "requester_last_name" => &self.requester_last_name,
            "contact_rspo_email" => &self.contact_rspo_email,
            "contact_director_mobile" => &self.contact_director_mobile,
            "account_login" => &self.account_login,
            "sender_email" => &self.sender_email,
            _ => "",
        }
    }

    /// The fields left empty: each named at once, before anything is sent.
    fn missing(&self) -> BTreeMap<String, String> {
        let mut errors = BTreeMap::new();
        for (_, name, _, _) in LABELS {
            if self.value(name).trim().is_empty() {
                errors.insert((*name).to_owned(), "To pole jest wymagane.".to_owned());
            }
        }
        if self.channel == "email" && self.sender_email.trim().is_empty() {
            errors.insert(
                "sender_email".to_owned(),
                "Podaj adres, z którego przyszedł wniosek.".to_owned(),
            );
        }
        errors
    }

    fn body(&self) -> Value {
        let trimmed = |text: &str| text.trim().to_owned();
        let mut body = json!({
            "procedure": "PZO-01",
            "institution": { "rspo_id": trimmed(&self.institution_rspo_id), "name": trimmed(&self.institution_name) },
            "requester": {
                "login": trimmed(&self.requester_login),
                "first_name": trimmed(&self.requester_first_name),
                "last_name": trimmed(&self.requester_last_name),
            },
            "contact": {
                "rspo_email": trimmed(&self.contact_rspo_email),
                "director_mobile": trimmed(&self.contact_director_mobile),
            },
            "account_login": trimmed(&self.account_login),
            "delivery": if self.delivery == "in_person" { "in_person" } else { "electronic" },
            "channel": if self.channel == "email" { "email" } else { "in_person" },
            "loss": match self.loss.as_str() {
                "lost" | "forgotten" | "unauthorised_access" => self.loss.as_str(),
                _ => "not_stated",
            },
        });
        if self.channel == "email" {
            body["sender_email"] = json!(trimmed(&self.sender_email));
        }
        body
    }
}

async fn render(
    session: &Session,
    staff: Staff,
    form: &Registration,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut groups: Vec<(&'static str, Vec<Field>)> = Vec::new();
    for (group, name, label, autocomplete) in LABELS {
        let field = Field {
            name,
            label,
            value: form.value(name).to_owned(),
            error: errors.get(*name).cloned(),
            autocomplete,
        };
        match groups.last_mut() {
            Some((last, fields)) if last == group => fields.push(field),
            _ => groups.push((group, vec![field])),
        }
    }
    let page = RegistrationPage {
        frame: Frame::at(session, staff, "/rejestracja").await,
        groups,
        delivery: form.delivery.clone(),
        channel: form.channel.clone(),
        loss: form.loss.clone(),
        sender_email: Field {
            name: "sender_email",
            label: "Adres, z którego przyszedł wniosek (tylko wniosek e-mailem)",
            value: form.sender_email.clone(),
            error: errors.get("sender_email").cloned(),
            autocomplete: "email",
        },
        errors_count: errors.len() + usize::from(form_error.is_some()),
        form_error,
    };
    (status, page).into_response()
}

pub async fn form(SignedIn(staff, session): SignedIn) -> Response {
    render(
        &session,
        staff,
        &Registration::default(),
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// intake names a field by its JSON path; the form by the path with underscores.
fn form_field(path: &str) -> String {
    path.replace('.', "_")
}

pub async fn submit(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Form(form): Form<Registration>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let missing = form.missing();
    if !missing.is_empty() {
        return render(
            &session,
            staff,
            &form,
            missing,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .upstream
        .post::<Value>(Service::Intake, "/api/requests", &staff.token, &form.body())
        .await
    {
        Ok(created) => {
            let case = created["case_number"].as_str().unwrap_or_default();
            Redirect::to(&format!("/sprawy/{case}")).into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (409 | 422),
            title,
            detail,
            field,
            ..
        }) => {
            let message = next_to_field(&detail.unwrap_or(title));
            let known = field
                .as_deref()
                .map(form_field)
                .filter(|f| LABELS.iter().any(|(_, n, _, _)| n == f) || f == "sender_email");
            let (errors, form_error) = match known {
                Some(field) => (BTreeMap::from([(field, message)]), None),
                None => (BTreeMap::new(), Some(message)),
            };
            render(
                &session,
                staff,
                &form,
                errors,
                form_error,
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
