//! The record searched: by person, institution, case, document, revocation request, type
//! of event and period, a page at a time in audit's order (the chain's, oldest first: audit
//! sorts no other way), and exported as audit's CSV with the same criteria.
//!
//! The period is typed as days (`2026-11-23`) and sent to audit as instants of Polish
//! time: "from" is the day's first moment, "to" the next day's, which audit excludes, so the
//! day typed as "to" is searched whole. A person is one field: digits are a PESEL (audit
//! keeps only its keyed hash and finds by it), anything else a login.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kit::clock::{Clock, SystemClock};
use serde::Deserialize;
use serde_json::Value;

use super::{FieldError, Name, case_href, error_of, form_refusal, name};
use crate::pages::list::query_string;
use crate::pages::{Frame, SignedIn, failure};
use crate::startup::AppState;
use crate::upstream::Service;

/// Records a page shows.
const PER_PAGE: usize = 50;
/// audit's largest answer: an export holds at most this many records.
pub const EXPORT_MAX: usize = 10_000;
const SUMMARY_MAX_CHARS: usize = 160;

/// What the search form holds, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub institution: String,
    #[serde(default)]
    pub case_number: String,
    #[serde(default)]
    pub document: String,
    #[serde(default)]
    pub revocation: String,
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The page starts after this position of the chain.
    #[serde(default)]
    pub after: String,
    /// `newest` for newest first; oldest first otherwise (the chain's order).
    #[serde(default)]
    pub sort: String,
    /// Newest first, the page starts before this position.
    #[serde(default)]
    pub before: String,
}

impl Filters {
    /// The criteria as the console's own address carries them (without the page).
    fn query(&self) -> String {
        query_string(&[
            ("person", &self.person),
            ("institution", &self.institution),
            ("case_number", &self.case_number),
            ("document", &self.document),
            ("revocation", &self.revocation),
            ("event_type", &self.event_type),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", if self.newest() { "newest" } else { "" }),
        ])
    }

    fn newest(&self) -> bool {
        self.sort == "newest"
    }

    fn before(&self) -> Option<i64> {
        self.before.trim().parse().ok().filter(|p| *p > 0)
    }

    /// The criteria as audit's `/api/events` reads them, or what cannot be read.
    fn audit_query(&self) -> Result<String, Vec<FieldError>> {
        let person = self.person.trim();
        let (person_param, person) =
            if !person.is_empty() && person.bytes().all(|b| b.is_ascii_digit()) {
                ("pesel", person)
            } else {
                ("login", person)
            };
        let mut errors = Vec::new();
        let mut day = |field: &'static str, text: &str, next: bool| match polish_day(text, next) {
            Ok(instant) => instant,
            Err(message) => {
                errors.push(FieldError { field, message });
                String::new()
            }
        };
        let from = day("from", &self.from, false);
        let to = day("to", &self.to, true);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(query_string(&[
            (person_param, person),
            ("institution_rspo_id", &self.institution),
            ("case_number", &self.case_number),
            ("document_id", &self.document),
            ("revocation_request_id", &self.revocation),
            ("event_type", &self.event_type),
            ("from", &from),
            ("to", &to),
            ("order", if self.newest() { "newest" } else { "" }),
        ]))
    }

    fn after(&self) -> Option<i64> {
        self.after.trim().parse().ok().filter(|p| *p >= 0)
    }
}

/// Non-empty query parts joined, with a trailing `&` when there is any.
fn query_string_joined(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}&"))
        .collect()
}

/// The first moment of the day `text` names (of the day after, when `next`) in Polish time,
/// as RFC 3339; nothing for nothing typed.
fn polish_day(text: &str, next: bool) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| {
            format!("„{text}” nie jest datą; wpisz dzień jako RRRR-MM-DD, np. 2026-11-23.")
        })?;
    let date = if next {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    // The offset of the evening before: Poland changes its clocks at 01:00 UTC, never
    // between a day's Polish midnight and the two hours before it.
    let offset = contracts::time::warsaw_offset(midnight - Duration::hours(2));
    Ok((midnight - offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[derive(Debug, Deserialize)]
struct Event {
    position: i64,
    event_type: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    actor_kind: Option<String>,
    #[serde(default)]
    actor_id: Option<String>,
    #[serde(default)]
    institution_rspo_id: Option<String>,
    #[serde(default)]
    case_number: Option<String>,
    #[serde(default)]
    document_id: Option<String>,
    #[serde(default)]
    subject_login: Option<String>,
    #[serde(default)]
    revocation_request_id: Option<String>,
    #[serde(default)]
    body: Value,
}

#[derive(Debug, Deserialize)]
struct Events {
    events: Vec<Event>,
}

pub struct Row {
    pub position: i64,
    pub at: String,
    pub what: String,
    pub code: String,
    pub actor: String,
    pub institution: String,
    pub case_number: String,
    pub case_href: String,
    pub login: String,
    pub summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit_record.html")]
pub struct RecordPage {
    pub frame: Frame,
    pub filters: Filters,
    pub event_types: &'static [(&'static str, &'static str)],
    /// The type asked for when it is none of those the form offers.
    pub other_event_type: Option<String>,
    pub errors: Vec<FieldError>,
    /// audit's refusal that names no field of the form.
    pub refusal: Option<String>,
    pub rows: Vec<Row>,
    pub csv_href: String,
    pub first_page: Option<String>,
    pub next_page: Option<String>,
    pub export_max: String,
}

impl RecordPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.errors, field)
    }

    pub fn searched(&self) -> bool {
        self.errors.is_empty() && self.refusal.is_none()
    }
}

/// What audit names wrongly sent, as the form's fields.
const NAMES: &[Name] = &[
    name("pesel", "person", "Osoba"),
    name("login", "person", "Osoba"),
    name("institution_rspo_id", "institution", "Placówka"),
    name("case_number", "case_number", "Sprawa"),
    name("document_id", "document", "Dokument"),
    name("revocation_request_id", "revocation", "Wniosek o cofnięcie"),
    name("event_type", "event_type", "Rodzaj zdarzenia"),
    name("from", "from", "Od dnia"),
    name("to", "to", "Do dnia"),
];

/// `GET /audyt`: the search form and, when it can be read, what audit found.
pub async fn record(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Query(filters): Query<Filters>,
) -> Response {
    let mut errors = Vec::new();
    let mut refusal = None;
    let mut events = Vec::new();
    match filters.audit_query() {
        Err(found) => errors = found,
        Ok(query) => {
            let from = match (filters.newest(), filters.before()) {
                (true, Some(before)) => format!("before_position={before}"),
                (true, None) => String::new(),
                (false, _) => format!("after_position={}", filters.after().unwrap_or(0)),
            };
            // One more than a page, to know whether another page follows.
            let path = format!(
                "/api/events?{}limit={}",
                query_string_joined(&[&query, &from]),
                PER_PAGE + 1
            );
            match state
                .upstream
                .get::<Events>(Service::Audit, &path, &staff.token)
                .await
            {
                Ok(found) => events = found.events,
                Err(error) => match form_refusal(error, &[400, 422], NAMES) {
                    Ok(refused) => {
                        let field = refused
                            .field
                            .or_else(|| (refused.kind == "invalid-pesel").then_some("person"));
                        match field {
                            Some(field) => errors.push(FieldError {
                                field,
                                message: refused.message,
                            }),
                            None => refusal = Some(refused.message),
                        }
                    }
                    Err(error) => return failure(&session, staff, error).await,
                },
            }
        }
    }
    let query = filters.query();
    let with_query = |extra: &str| match (query.is_empty(), extra.is_empty()) {
        (true, true) => "/audyt".to_owned(),
        (true, false) => format!("/audyt?{extra}"),
        (false, true) => format!("/audyt?{query}"),
        (false, false) => format!("/audyt?{query}&{extra}"),
    };
    let next_page = (events.len() > PER_PAGE)
        .then(|| events.get(PER_PAGE - 1))
        .flatten()
        .map(|last| {
            let from = if filters.newest() { "before" } else { "after" };
            with_query(&format!("{from}={}", last.position))
        });
    let first_page = (filters.after().is_some_and(|a| a > 0) || filters.before().is_some())
        .then(|| with_query(""));
    events.truncate(PER_PAGE);
    let other_event_type = {
        let asked = filters.event_type.trim();
        (!asked.is_empty() && !EVENT_TYPES.iter().any(|(code, _)| *code == asked))
            .then(|| asked.to_owned())
    };
    let status = if errors.is_empty() && refusal.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RecordPage {
        frame: Frame::at(&session, staff, "/audyt").await,
        csv_href: if query.is_empty() {
            "/audyt.csv".to_owned()
        } else {
            format!("/audyt.csv?{query}")
        },
        filters,
        event_types: EVENT_TYPES,
        other_event_type,
        errors,
        refusal,
        rows: events.into_iter().map(row).collect(),
        first_page,
        next_page,
        export_max: "10 000".to_owned(),
    };
    (status, page).into_response()
}

/// `GET /audyt.csv`: audit's CSV of every record matching the criteria (up to audit's
/// limit), passed on as it comes; criteria that cannot be read lead back to the form, which
/// says why.
pub async fn record_csv(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Query(filters): Query<Filters>,
) -> Response {
    let back = || Redirect::to(&format!("/audyt?{}", filters.query())).into_response();
    let Ok(query) = filters.audit_query() else {
        return back();
    };
    let path = format!(
        "/api/events?{query}{}format=csv&limit={EXPORT_MAX}",
        if query.is_empty() { "" } else { "&" }
    );
    match state
        .upstream
        .get_stream(Service::Audit, &path, &staff.token)
        .await
    {
        Ok((kind, body)) => {
            let now = SystemClock.now();
            let today = (now + contracts::time::warsaw_offset(now)).format("%Y-%m-%d");
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"rejestr-zdarzen-{today}.csv\""),
                    ),
                    // Personal data: kept by no cache on the way.
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => match form_refusal(error, &[400, 422], NAMES) {
            Ok(_) => back(),
            Err(error) => failure(&session, staff, error).await,
        },
    }
}

fn row(event: Event) -> Row {
    let actor = match (&event.actor_id, event.actor_kind.as_deref()) {
        (Some(id), Some(kind)) => format!("{id} ({})", actor_kind_label(kind)),
        (Some(id), None) => id.clone(),
        (None, Some(kind)) => actor_kind_label(kind).to_owned(),
        (None, None) => "—".to_owned(),
    };
    Row {
        position: event.position,
        at: contracts::time::polish_short(event.occurred_at),
        what: event_label(&event.event_type),
        summary: summary(&event),
        code: event.event_type,
        actor,
        institution: event.institution_rspo_id.unwrap_or_default(),
        case_href: event
            .case_number
            .as_deref()
            .map(case_href)
            .unwrap_or_default(),
        case_number: event.case_number.unwrap_or_default(),
        login: event.subject_login.unwrap_or_default(),
    }
}

fn actor_kind_label(kind: &str) -> &str {
    match kind {
        "person" => "osoba",
        "system" => "system",
        "seod" => "SEOD",
        other => other,
    }
}

/// The few facts of a record that its columns do not show, cut to a line.
fn summary(event: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(document) = &event.document_id {
        parts.push(format!("dokument {document}"));
    }
    if let Some(request) = &event.revocation_request_id {
        parts.push(format!("wniosek {request}"));
    }
    let body = &event.body;
    let data = body.get("data").unwrap_or(body);
    for (key, label) in [
        ("number", "incydent"),
        ("title", "tytuł"),
        ("status", "stan"),
        ("from", "z"),
        ("to", "na"),
        ("reason", "powód"),
        ("delivery", "doręczenie"),
        ("error", "błąd"),
    ] {
        if let Some(value) = data
            .get(key)
            .or_else(|| body.get(key))
            .and_then(Value::as_str)
        {
            parts.push(format!("{label}: {}", value_label(key, value)));
        }
    }
    let summary = parts.join("; ");
    if summary.chars().count() > SUMMARY_MAX_CHARS {
        let cut: String = summary.chars().take(SUMMARY_MAX_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        summary
    }
}

/// A value audit recorded as a code, as a person reads it; any other as it was recorded.
fn value_label<'a>(key: &str, value: &'a str) -> &'a str {
    match (key, value) {
        ("delivery", "electronic") => "e-mail i SMS",
        ("delivery", "in_person") => "odbiór osobisty",
        ("status", _) => contracts::seod_status::CaseStatus::parse(value)
            .map_or_else(|| super::status_label(value), |s| s.polish()),
        ("from" | "to", _) => super::status_label(value),
        _ => value,
    }
}

/// The types of event the form offers, as a person reads them.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("seod.form.received", "wniosek z SEOD"),
    ("seod.status.published", "stan przekazany do SEOD"),
    ("intake.case.registered", "sprawa zarejestrowana"),
    ("intake.form.rejected", "formularz odrzucony"),
    ("intake.case.taken", "sprawa przyjęta do realizacji"),
    ("intake.case.delivery-agreed", "uzgodniono odbiór osobisty"),
    ("intake.case.realisation-requested", "zlecono realizację"),
    ("intake.reply.requested", "zlecono odpowiedź e-mailem"),
    (
        "accounts.request.verified",
        "wniosek zweryfikowany w ewidencji kont",
    ),
    (
        "accounts.request.refused",
        "wniosek odrzucony w ewidencji kont",
    ),
    ("accounts.account.created", "utworzono konto"),
    (
        "accounts.account.sheet-issued",
        "wydano arkusz przekazania danych dostępowych",
    ),
    (
        "accounts.account.first-login",
        "pierwsze logowanie w Portalu Dostępowym",
    ),
    ("accounts.account.email-given", "podano adres e-mail"),
    (
        "accounts.account.email-confirmed",
        "potwierdzono adres e-mail",
    ),
    ("accounts.account.activated", "aktywowano konto"),
    ("accounts.account.password-changed", "zmieniono hasło konta"),
    ("accounts.account.permission-granted", "nadano uprawnienie"),
    (
        "accounts.account.permission-withdrawn",
        "odebrano uprawnienie",
    ),
    (
        "accounts.local-admin.granted",
        "upoważniono administratora lokalnego",
    ),
    (
        "accounts.local-admin.withdrawn",
        "odwołano administratora lokalnego",
    ),
    (
        "accounts.staff.imported",
        "zaimportowano pracowników placówek",
    ),
    (
        "accounts.totp.enrolment-prepared",
        "przygotowano rejestrację aplikacji uwierzytelniającej",
    ),
    ("accounts.credential.issued", "wydano hasło startowe"),
    ("accounts.login.failed", "nieudane logowanie"),
    ("accounts.password.changed", "zmieniono hasło"),
    ("accounts.sessions.ended", "zakończono sesje"),
    ("credentials.sealed", "zapieczętowano hasło do doręczenia"),
    ("delivery.dispatch.completed", "doręczono"),
    ("delivery.dispatch.failed", "nie doręczono"),
    (
        "delivery.collection.refused",
        "odmowa wydania w punkcie odbioru",
    ),
    (
        "revocation.request.created",
        "zapisano wniosek o cofnięcie upoważnienia",
    ),
    (
        "revocation.request.refused",
        "odmówiono czynności w sprawie cofnięcia upoważnienia",
    ),
    (
        "revocation.request.fetched",
        "pobrano wniosek do rozpatrzenia",
    ),
    (
        "revocation.request.review-started",
        "przyjęto wniosek do rozpatrzenia",
    ),
    (
        "revocation.request.decided",
        "rozpatrzono wniosek o cofnięcie upoważnienia",
    ),
    (
        "revocation.form.sent",
        "wysłano formularz z panelu komunikacji",
    ),
    (
        "revocation.form.delivered",
        "system centralny potwierdził doręczenie formularza",
    ),
    (
        "revocation.form.completed",
        "sprawdzono status: formularz zakończony",
    ),
    (
        "revocation.authorisation.revoked",
        "cofnięto upoważnienie w rejestrze centralnym",
    ),
    (
        "revocation.register.imported",
        "zaimportowano rejestr upoważnień SIO",
    ),
    ("audit.incident.opened", "otwarto incydent"),
    (
        "audit.incident.status-changed",
        "zmieniono status incydentu",
    ),
    ("audit.segment.pruned", "usunięto stary odcinek rejestru"),
    ("deadletter", "wiadomość, której nie przetworzono"),
];

/// An event type as a person reads it; one the console does not know, as audit wrote it.
fn event_label(code: &str) -> String {
    if let Some((_, label)) = EVENT_TYPES.iter().find(|(c, _)| *c == code) {
        return (*label).to_owned();
    }
    if let Some(service) = code.strip_suffix(".access.refused") {
        return format!("odmowa dostępu ({service})");
    }
    code.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_searched_from_the_first_polish_moment_to_the_end_of_its_last_day() {
        // Winter: CET, one hour ahead of UTC.
        assert_eq!(
            polish_day("2026-11-23", false).unwrap(),
            "2026-11-22T23:00:00Z"
        );
        assert_eq!(
            polish_day("2026-11-23", true).unwrap(),
            "2026-11-23T23:00:00Z"
        );
        // Summer: CEST, two hours ahead; and the day the clocks go forward.
        assert_eq!(
            polish_day("2026-07-01", false).unwrap(),
            "2026-06-30T22:00:00Z"
        );
        assert_eq!(
            polish_day("2026-03-29", false).unwrap(),
            "2026-03-28T23:00:00Z"
        );
        assert_eq!(
            polish_day("2026-03-29", true).unwrap(),
            "2026-03-29T22:00:00Z"
        );
        assert_eq!(polish_day(" ", false).unwrap(), "");
    }

    #[test]
    fn a_day_not_typed_as_a_date_is_named_with_the_form_it_needs() {
        for bad in ["23.11.2026", "2026-13-01", "2026-2-3", "wczoraj"] {
            let message = polish_day(bad, false).unwrap_err();
            assert!(message.contains("RRRR-MM-DD"), "{bad}: {message}");
        }
    }

    #[test]
    fn digits_are_searched_as_a_pesel_and_anything_else_as_a_login() {
        let pesel = Filters {
            person: " 44051401359 ".into(),
            ..Filters::default()
        };
        assert_eq!(pesel.audit_query().unwrap(), "pesel=44051401359");
        let login = Filters {
            person: "lzak".into(),
            case_number: "ZSZO-05/2026/000001".into(),
            ..Filters::default()
        };
        assert_eq!(
            login.audit_query().unwrap(),
            "login=lzak&case_number=ZSZO-05%2F2026%2F000001"
        );
        let bad = Filters {
            from: "jutro".into(),
            to: "2026-11-31".into(),
            ..Filters::default()
        };
        let errors = bad.audit_query().unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["from", "to"]
        );
    }

    #[test]
    fn a_summary_says_what_the_columns_do_not_and_stays_short() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "position": 7, "event_type": "audit.incident.status-changed",
            "occurred_at": "2026-11-23T10:00:00Z", "document_id": "SEOD-1",
            "body": { "number": "INC/2026/000001", "from": "registered", "to": "closed",
                      "note": "x".repeat(500) }
        }))
        .unwrap();
        assert_eq!(
            summary(&event),
            "dokument SEOD-1; incydent: INC/2026/000001; z: zarejestrowany; na: zamknięty"
        );
        let mut long = event;
        long.body = serde_json::json!({ "data": { "reason": "y".repeat(500) } });
        assert_eq!(summary(&long).chars().count(), SUMMARY_MAX_CHARS);
    }

    #[test]
    fn an_unknown_event_type_is_shown_as_audit_wrote_it() {
        assert_eq!(
            event_label("intake.case.taken"),
            "sprawa przyjęta do realizacji"
        );
        assert_eq!(
            event_label("intake.access.refused"),
            "odmowa dostępu (intake)"
        );
        assert_eq!(event_label("new.kind"), "new.kind");
    }
}
