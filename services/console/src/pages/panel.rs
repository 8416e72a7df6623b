//! The central admin panel ("Centralny Panel Administracyjny", seed 002) for local
//! administrators: "Pracownicy Placówki" with the search and the row's "⋯" menu, "Utwórz
//! konto" (its answer is the one hand-over sheet, passed to the browser and kept nowhere),
//! the employee's card with his permissions, the account's history and the forms F-02, F-03
//! and F-04; and, for the director, the local administrators he authorised. accounts decides
//! who may; these pages show what it answers.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::list::{Pager, query_string};
use super::{
    Frame, SignedIn, Staff, failure, leave_notice, next_to_field, stale_form, take_notice,
};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

/// The full titles of the institution's forms (seed 002, point 7).
pub const F02: &str = "F-02 Upoważnienie pracownika do przetwarzania danych osobowych";
pub const F03: &str = "F-03 Ewidencja osób upoważnionych do przetwarzania danych osobowych";
pub const F04: &str = "F-04 Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych";

#[derive(Debug, Clone, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub position: String,
    pub employment: String,
    pub login: Option<String>,
    pub account_status: Option<String>,
}

impl MemberRow {
    pub fn employment_label(&self) -> &'static str {
        match self.employment.as_str() {
            "employed" => "zatrudniony(-a)",
            "on_leave" => "na urlopie",
            "left" => "niezatrudniony(-a)",
            _ => "—",
        }
    }

    pub fn account_label(&self) -> String {
        match (&self.login, self.account_status.as_deref()) {
            (None, _) => "brak konta".to_owned(),
            (Some(login), status) => format!("{login} ({})", status_label(status.unwrap_or(""))),
        }
    }

    /// "Utwórz konto" is offered for an employee without an account who works here.
    pub fn may_get_account(&self) -> bool {
        self.login.is_none() && self.employment != "left"
    }

    pub fn card(&self) -> String {
        format!("/panel/pracownicy/{}", self.id)
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "czeka na potwierdzenie adresu e-mail",
        "active" => "aktywne",
        "locked" => "zablokowane",
        "disabled" => "wyłączone",
        _ => "nieznany stan",
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Activated {
    pub member_id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub activated_at: chrono::DateTime<chrono::Utc>,
}

impl Activated {
    pub fn when(&self) -> String {
        contracts::time::polish_date_time(self.activated_at)
    }
}

#[derive(Debug, Deserialize)]
struct StaffAnswer {
    institution_name: String,
    page: u64,
    per_page: u64,
    total: u64,
    members: Vec<MemberRow>,
    #[serde(default)]
    recently_activated: Vec<Activated>,
}

#[derive(Template, WebTemplate)]
#[template(path = "panel_staff.html")]
pub struct StaffPage {
    pub frame: Frame,
    pub notice: Option<String>,
    pub institution_name: String,
    pub q: String,
    pub error: Option<String>,
    pub rows: Vec<MemberRow>,
    pub activated: Vec<Activated>,
    pub pager: Pager,
}

#[derive(Deserialize)]
pub struct StaffFilters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

/// `GET /panel`: "Pracownicy Placówki".
pub async fn staff(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Query(filters): Query<StaffFilters>,
) -> Response {
    let q: String = filters.q.chars().take(200).collect();
    let page = filters.page.clone().unwrap_or_else(|| "1".to_owned());
    let query = query_string(&[("q", &q), ("page", &page)]);
    let path = if query.is_empty() {
        "/api/panel/staff".to_owned()
    } else {
        format!("/api/panel/staff?{query}")
    };
    let (answer, error) = match state
        .upstream
        .get::<StaffAnswer>(Service::Accounts, &path, &staff.token)
        .await
    {
        Ok(answer) => (answer, None),
        Err(UpstreamError::Refused {
            status: 400,
            title,
            detail,
            ..
        }) => {
            // The search is shown again with the reason; the list without the bad filter.
            let retry = state
                .upstream
                .get::<StaffAnswer>(Service::Accounts, "/api/panel/staff", &staff.token)
                .await;
            match retry {
                Ok(answer) => (answer, Some(next_to_field(&detail.unwrap_or(title)))),
                Err(error) => return failure(&session, staff, error).await,
            }
        }
        Err(error) => return failure(&session, staff, error).await,
    };
    let pager = Pager::new(
        "/panel",
        &[("q", &q)],
        answer.page,
        answer.per_page.max(1),
        answer.total,
    );
    StaffPage {
        notice: take_notice(&session).await,
        frame: Frame::at(&session, staff, "/panel").await,
        institution_name: answer.institution_name,
        q,
        error,
        rows: answer.members,
        activated: answer.recently_activated,
        pager,
    }
    .into_response()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Held {
    pub code: String,
    pub granted_by: String,
    pub granted_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryStep {
    pub at: chrono::DateTime<chrono::Utc>,
    pub label: String,
    pub actor: String,
    pub detail: Option<String>,
}

impl HistoryStep {
    pub fn when(&self) -> String {
        contracts::time::polish_date_time(self.at)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountView {
    pub login: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: Option<String>,
    pub email: Option<String>,
    pub email_pending: Option<String>,
    pub sheet_reissuable: bool,
    pub permissions: Vec<Held>,
    pub history: Vec<HistoryStep>,
    pub forms_due: bool,
}

impl AccountView {
    pub fn status_label(&self) -> &'static str {
        status_label(&self.status)
    }

    pub fn created(&self) -> String {
        format!(
            "{}{}",
            contracts::time::polish_date_time(self.created_at),
            self.created_by
                .as_ref()
                .map(|by| format!(", utworzył(a): {by}"))
                .unwrap_or_default()
        )
    }

    pub fn holds(&self, code: &str) -> bool {
        self.permissions.iter().any(|p| p.code == code)
    }

    /// Who granted a held permission and when, to show beside it.
    pub fn granted_note(&self, code: &str) -> Option<String> {
        let held = self.permissions.iter().find(|p| p.code == code)?;
        Some(format!(
            "nadał(a) {}, {}",
            held.granted_by,
            contracts::time::polish_date_time(held.granted_at)
        ))
    }
}

#[derive(Debug, Deserialize)]
struct MemberAnswer {
    member: MemberRow,
    account: Option<AccountView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Permission {
    pub code: String,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "panel_member.html")]
pub struct MemberPage {
    pub frame: Frame,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub member: MemberRow,
    pub account: Option<AccountView>,
    pub catalogue: Vec<Permission>,
    pub forms: [&'static str; 3],
}

async fn member_and_catalogue(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<(MemberAnswer, Vec<Permission>), UpstreamError> {
    let answer: MemberAnswer = state
        .upstream
        .get(
            Service::Accounts,
            &format!("/api/panel/staff/{id}"),
            &staff.token,
        )
        .await?;
    let catalogue = state
        .upstream
        .get(Service::Accounts, "/api/panel/permissions", &staff.token)
        .await?;
    Ok((answer, catalogue))
}

/// Only what an id is made of reaches a service's path (nothing left: an id that names no
/// one, which accounts answers as not found).
fn clean_id(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .take(36)
        .collect();
    if id.is_empty() { "0".to_owned() } else { id }
}

async fn member_page(
    state: &AppState,
    staff: Staff,
    session: &Session,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match member_and_catalogue(state, &staff, id).await {
        Ok((answer, catalogue)) => (
            status,
            MemberPage {
                notice: take_notice(session).await,
                frame: Frame::at(session, staff, "/panel").await,
                error,
                member: answer.member,
                account: answer.account,
                catalogue,
                forms: [F02, F03, F04],
            },
        )
            .into_response(),
        Err(error) => failure(session, staff, error).await,
    }
}

/// `GET /panel/pracownicy/{id}`: the employee's card.
pub async fn member(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
) -> Response {
    member_page(
        &state,
        staff,
        &session,
        &clean_id(&id),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "panel_new_account.html")]
pub struct NewAccountPage {
    pub frame: Frame,
    pub error: Option<String>,
    pub member: MemberRow,
    pub catalogue: Vec<Permission>,
    pub chosen: Vec<String>,
}

/// `GET /panel/pracownicy/{id}/konto`: "Utwórz konto", with the permissions to grant.
pub async fn new_account(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let id = clean_id(&id);
    new_account_page(
        &state,
        staff,
        &session,
        &id,
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn new_account_page(
    state: &AppState,
    staff: Staff,
    session: &Session,
    id: &str,
    error: Option<String>,
    chosen: Vec<String>,
    status: StatusCode,
) -> Response {
    match member_and_catalogue(state, &staff, id).await {
        Ok((answer, _)) if answer.account.is_some() => {
            // The account exists (a second tab, the back button): its card says so.
            leave_notice(
                session,
                format!(
                    "{} {} ma już konto ZSZO; drugiego konta się nie tworzy.",
                    answer.member.first_name, answer.member.last_name
                ),
            )
            .await;
            Redirect::to(&answer.member.card()).into_response()
        }
        Ok((answer, catalogue)) => (
            status,
            NewAccountPage {
                frame: Frame::at(session, staff, "/panel").await,
                error,
                member: answer.member,
                catalogue,
                chosen,
            },
        )
            .into_response(),
        Err(error) => failure(session, staff, error).await,
    }
}

/// A posted form's fields: the CSRF token and every ticked permission.
struct Ticked {
    csrf: String,
    permissions: Vec<String>,
}

fn ticked(body: &Bytes) -> Ticked {
    let mut csrf = String::new();
    let mut permissions = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "permission" if permissions.len() < 64 => {
                permissions.push(value.chars().take(64).collect())
            }
            _ => {}
        }
    }
    Ticked { csrf, permissions }
}

/// The hand-over sheet accounts answered, passed to the browser to print and kept nowhere;
/// an answer that is not one is a failure.
async fn sheet(session: &Session, staff: Staff, kind: &str, pdf: Vec<u8>) -> Response {
    if !kind.starts_with("application/pdf") {
        tracing::error!(%kind, "accounts answered with no hand-over sheet");
        let error = UpstreamError::Unavailable("no hand-over sheet".into());
        return failure(session, staff, error).await;
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"arkusz-przekazania.pdf\"".to_owned(),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf,
    )
        .into_response()
}

/// `POST /panel/pracownicy/{id}/konto`: creates the account; the answer is the hand-over
/// sheet, once.
pub async fn create_account(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = ticked(&body);
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let id = clean_id(&id);
    match state
        .upstream
        .post_raw(
            Service::Accounts,
            &format!("/api/panel/staff/{id}/account"),
            &staff.token,
            &json!({ "permissions": form.permissions }),
        )
        .await
    {
        Ok((kind, pdf)) => {
            tracing::info!(by = %staff.login, "a ZSZO account created; its sheet handed over");
            sheet(&session, staff, &kind, pdf).await
        }
        Err(UpstreamError::Refused {
            status: status @ (409 | 422),
            title,
            detail,
            ..
        }) => {
            let error = Some(next_to_field(&detail.unwrap_or(title)));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
            new_account_page(
                &state,
                staff,
                &session,
                &id,
                error,
                form.permissions,
                status,
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// `POST /panel/pracownicy/{id}/arkusz`: a new sheet with a new starting password, while the
/// employee has not signed in.
pub async fn reissue_sheet(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = ticked(&body);
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let id = clean_id(&id);
    match state
        .upstream
        .post_raw(
            Service::Accounts,
            &format!("/api/panel/staff/{id}/sheet"),
            &staff.token,
            &json!({}),
        )
        .await
    {
        Ok((kind, pdf)) => sheet(&session, staff, &kind, pdf).await,
        Err(UpstreamError::Refused {
            status: 409,
            title,
            detail,
            ..
        }) => {
            let error = Some(detail.unwrap_or(title));
            member_page(&state, staff, &session, &id, error, StatusCode::CONFLICT).await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// `POST /panel/pracownicy/{id}/uprawnienia`: the account holds exactly what is ticked.
pub async fn set_permissions(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = ticked(&body);
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let id = clean_id(&id);
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Accounts,
            &format!("/api/panel/staff/{id}/permissions"),
            &staff.token,
            &json!({ "permissions": form.permissions }),
        )
        .await
    {
        Ok(changed) => {
            let count = |key: &str| changed[key].as_array().map_or(0, Vec::len);
            let (granted, withdrawn) = (count("granted"), count("withdrawn"));
            let notice = if granted + withdrawn == 0 {
                "Uprawnienia bez zmian.".to_owned()
            } else {
                format!(
                    "Zapisano uprawnienia: nadane {granted}, odebrane {withdrawn}. Zaktualizuj \
                     formularz F-02 w placówce."
                )
            };
            leave_notice(&session, notice).await;
            Redirect::to(&format!("/panel/pracownicy/{id}")).into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (409 | 422),
            title,
            detail,
            ..
        }) => {
            let error = Some(detail.unwrap_or(title));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
            member_page(&state, staff, &session, &id, error, status).await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

async fn document(
    state: &AppState,
    staff: Staff,
    session: &Session,
    path: &str,
    filename: String,
) -> Response {
    match state
        .upstream
        .get_raw(Service::Accounts, path, &staff.token)
        .await
    {
        Ok((kind, body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, kind),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Err(error) => failure(session, staff, error).await,
    }
}

/// `GET /panel/pracownicy/{id}/f-02.pdf`.
pub async fn f02(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let id = clean_id(&id);
    let path = format!("/api/panel/staff/{id}/f-02");
    document(&state, staff, &session, &path, "F-02.pdf".into()).await
}

/// `GET /panel/pracownicy/{id}/f-03.csv`.
pub async fn f03(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let id = clean_id(&id);
    let path = format!("/api/panel/staff/{id}/f-03");
    document(&state, staff, &session, &path, "F-03.csv".into()).await
}

/// `GET /panel/f-04.pdf`.
pub async fn f04(State(state): State<AppState>, SignedIn(staff, session): SignedIn) -> Response {
    document(
        &state,
        staff,
        &session,
        "/api/panel/f-04",
        "F-04.pdf".into(),
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct Grant {
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub granted_by: String,
    pub granted_at: chrono::DateTime<chrono::Utc>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Grant {
    pub fn name(&self) -> String {
        match (&self.first_name, &self.last_name) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            _ => "—".to_owned(),
        }
    }

    pub fn granted(&self) -> String {
        format!(
            "{}, {}",
            contracts::time::polish_date_time(self.granted_at),
            self.granted_by
        )
    }

    pub fn withdrawn(&self) -> Option<String> {
        let at = self.withdrawn_at?;
        Some(format!(
            "{}, {}",
            contracts::time::polish_date_time(at),
            self.withdrawn_by.clone().unwrap_or_default()
        ))
    }
}

#[derive(Debug, Deserialize)]
struct GrantsAnswer {
    institution_name: String,
    grants: Vec<Grant>,
}

#[derive(Template, WebTemplate)]
#[template(path = "panel_admins.html")]
pub struct AdminsPage {
    pub frame: Frame,
    pub notice: Option<String>,
    pub institution_name: String,
    pub grants: Vec<Grant>,
    pub login: String,
    pub error: Option<String>,
}

async fn admins_page(
    state: &AppState,
    staff: Staff,
    session: &Session,
    login: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match state
        .upstream
        .get::<GrantsAnswer>(Service::Accounts, "/api/panel/local-admins", &staff.token)
        .await
    {
        Ok(answer) => (
            status,
            AdminsPage {
                notice: take_notice(session).await,
                frame: Frame::at(session, staff, "/panel/administratorzy").await,
                institution_name: answer.institution_name,
                grants: answer.grants,
                login,
                error,
            },
        )
            .into_response(),
        Err(error) => failure(session, staff, error).await,
    }
}

/// `GET /panel/administratorzy`: the director's local administrators.
pub async fn admins(State(state): State<AppState>, SignedIn(staff, session): SignedIn) -> Response {
    admins_page(&state, staff, &session, String::new(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /panel/administratorzy`: authorises a person as a local administrator.
pub async fn grant(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    axum::Form(form): axum::Form<GrantForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let login: String = form.login.trim().chars().take(128).collect();
    if login.is_empty() {
        let error = Some("Podaj login konta ZSZO osoby, którą upoważniasz.".to_owned());
        return admins_page(
            &state,
            staff,
            &session,
            login,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Accounts,
            "/api/panel/local-admins",
            &staff.token,
            &json!({ "login": login }),
        )
        .await
    {
        Ok(granted) => {
            let enrolment = if granted["totp_enrolment_until"].is_string() {
                " Nie miał(a) jeszcze aplikacji uwierzytelniającej: przy pierwszym logowaniu do \
                 konsoli hasłem zobaczy kod QR do jej zarejestrowania."
            } else {
                ""
            };
            leave_notice(
                &session,
                format!("Upoważniono {login} jako administratora lokalnego.{enrolment}"),
            )
            .await;
            Redirect::to("/panel/administratorzy").into_response()
        }
        Err(UpstreamError::Refused {
            status: status @ (400 | 404 | 409),
            title,
            detail,
            ..
        }) => {
            let error = Some(next_to_field(&detail.unwrap_or(title)));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
            admins_page(&state, staff, &session, login, error, status).await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /panel/administratorzy/{login}/odwolaj`: withdraws the authorisation.
pub async fn withdraw(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(login): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let login: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Accounts,
            &format!("/api/panel/local-admins/{login}/withdraw"),
            &staff.token,
            &json!({}),
        )
        .await
    {
        Ok(_) => {
            leave_notice(
                &session,
                format!("Odwołano upoważnienie {login}: od tej chwili nie ma dostępu do panelu."),
            )
            .await;
            Redirect::to("/panel/administratorzy").into_response()
        }
        Err(UpstreamError::Refused {
            status: 404,
            title,
            detail,
            ..
        }) => {
            let error = Some(detail.unwrap_or(title));
            admins_page(
                &state,
                staff,
                &session,
                String::new(),
                error,
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
