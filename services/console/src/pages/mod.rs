//! The pages. Each one asks a service and shows its answer; none decides who may do what.

mod audit;
mod case;
mod desk;
mod enrolment;
mod list;
mod panel;
mod portal;
mod portal_email;
mod queue;
mod registration;
mod sign_in;
mod sio;
mod staff;

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;

use crate::startup::AppState;
use crate::upstream::UpstreamError;

const STAFF_KEY: &str = "staff";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/zaloguj", get(sign_in::form).post(sign_in::submit))
        .route(
            "/zaloguj/aplikacja",
            get(enrolment::page).post(enrolment::confirm),
        )
        .route("/wyloguj", post(sign_in::sign_out))
        .route("/portal", get(portal::form).post(portal::submit))
        .route(
            "/portal/haslo",
            get(portal::change_form).post(portal::change),
        )
        .route("/portal/gotowe", get(portal::done))
        .route(
            "/portal/email",
            get(portal_email::form).post(portal_email::submit),
        )
        .route(
            "/portal/potwierdz",
            get(portal_email::confirm_form).post(portal_email::confirm),
        )
        .route("/kolejka", get(queue::page))
        .route(
            "/rejestracja",
            get(registration::form).post(registration::submit),
        )
        .route("/personel", get(staff::page).post(staff::prepare))
        .route("/odbior", get(desk::page))
        .route(
            "/odbior/{procedure}/{year}/{sequence}",
            get(desk::form).post(desk::hand_over),
        )
        .route("/sprawy/{procedure}/{year}/{sequence}", get(case::page))
        .route(
            "/sprawy/{procedure}/{year}/{sequence}/{act}",
            post(case::act),
        )
        .route("/panel", get(panel::staff))
        .route("/panel/pracownicy/{id}", get(panel::member))
        .route(
            "/panel/pracownicy/{id}/konto",
            get(panel::new_account).post(panel::create_account),
        )
        .route("/panel/pracownicy/{id}/arkusz", post(panel::reissue_sheet))
        .route(
            "/panel/pracownicy/{id}/uprawnienia",
            post(panel::set_permissions),
        )
        .route("/panel/pracownicy/{id}/f-02.pdf", get(panel::f02))
        .route("/panel/pracownicy/{id}/f-03.csv", get(panel::f03))
        .route("/panel/f-04.pdf", get(panel::f04))
        .route(
            "/panel/administratorzy",
            get(panel::admins).post(panel::grant),
        )
        .route(
            "/panel/administratorzy/{login}/odwolaj",
            post(panel::withdraw),
        )
        .route("/sio", get(sio::home))
        .route(
            "/sio/rejestr",
            get(sio::register::form).post(sio::register::ask),
        )
        .route(
            "/sio/{database}/cofniecie",
            get(sio::requests::mode).post(sio::requests::submit),
        )
        .route("/sio/{database}/cofniecie/lista", get(sio::requests::list))
        .route(
            "/sio/{database}/cofniecie/podglad",
            get(sio::requests::preview),
        )
        .route("/sio/{database}/wnioski", get(sio::requests::mine))
        .route("/sio/{database}/panel", get(sio::panel::page))
        .route("/sio/{database}/panel/wyslij", post(sio::panel::send))
        .route("/sio/{database}/panel/sprawdz", post(sio::panel::check))
        .route("/sio/{database}/rozpatrywanie", get(sio::review::page))
        .route(
            "/sio/{database}/rozpatrywanie/pobierz",
            post(sio::review::fetch),
        )
        .route(
            "/sio/{database}/rozpatrywanie/oznacz",
            post(sio::review::start),
        )
        .route(
            "/sio/{database}/rozpatrywanie/{request}",
            get(sio::review::detail),
        )
        .route(
            "/sio/{database}/rozpatrywanie/{request}/decyzja",
            post(sio::review::decide),
        )
        .route("/audyt", get(audit::record))
        .route("/audyt.csv", get(audit::record_csv))
        .route("/incydenty", get(audit::incidents))
        .route(
            "/incydenty/nowy",
            get(audit::new_incident).post(audit::open_incident),
        )
        .route("/incydenty/{year}/{sequence}", get(audit::incident))
        .route(
            "/incydenty/{year}/{sequence}/status",
            post(audit::change_status),
        )
        .route("/weryfikacja", get(audit::verification))
        .route("/weryfikacja/punkt-kontrolny", post(audit::sign_checkpoint))
        .route(crate::assets::CSS_PATH.as_str(), get(crate::assets::css))
        .fallback(not_found)
        .with_state(state)
}

/// The console is alive when it answers and ready when its database does.
pub fn health(pool: PgPool) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "alive" })) }),
        )
        .route(
            "/readyz",
            get(move || {
                let pool = pool.clone();
                async move {
                    match sqlx::query("SELECT 1").execute(&pool).await {
                        Ok(_) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
                        Err(error) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            Json(serde_json::json!({ "status": "not ready", "reason": error.to_string() })),
                        ),
                    }
                }
            }),
        )
}

/// The signed-in staff member, as the session keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Staff {
    pub login: String,
    pub role: String,
    pub token: String,
    /// Granted the right to process requests (take and realise them) besides the role.
    #[serde(default)]
    pub processing: bool,
}

/// A place in the menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

const fn item(href: &'static str, label: &'static str) -> NavItem {
    NavItem { href, label }
}

impl Staff {
    /// The role as a person reads it.
    pub fn role_name(&self) -> &'static str {
        if self.processing && self.role == "operator" {
            return "operator uprawniony do realizacji wniosków";
        }
        match self.role.as_str() {
            "administrator" => "administrator",
            "operator" => "operator",
            "auditor" => "audytor",
            "director" => "dyrektor placówki, administrator lokalny",
            "local_administrator" => "administrator lokalny",
            "user" => "pracownik jednostki (SIO)",
            _ => "pracownik",
        }
    }

    /// Where the person works, as the header shows it.
    pub fn unit(&self) -> &'static str {
        match self.role.as_str() {
            "director" | "local_administrator" => "Centralny Panel Administracyjny",
            "user" => "System Informacji Oświatowej",
            _ => "Wydział Edukacji (EK-04)",
        }
    }

    /// What the menu offers this role: only what its services let it do (the services
    /// still decide; a page reached another way shows their refusal).
    pub fn navigation(&self) -> &'static [NavItem] {
        const ADMINISTRATOR: &[NavItem] = &[
            item("/kolejka", "Kolejka spraw"),
            item("/rejestracja", "Rejestracja wniosku"),
            item("/personel", "Pracownicy Wydziału"),
            item("/audyt", "Rejestr zdarzeń"),
            item("/incydenty", "Incydenty"),
            item("/weryfikacja", "Weryfikacja rejestru"),
        ];
        const OPERATOR: &[NavItem] = &[
            item("/kolejka", "Kolejka spraw"),
            item("/rejestracja", "Rejestracja wniosku"),
            item("/odbior", "Punkt odbioru"),
        ];
        const AUDITOR: &[NavItem] = &[
            item("/audyt", "Rejestr zdarzeń"),
            item("/incydenty", "Incydenty"),
            item("/weryfikacja", "Weryfikacja rejestru"),
        ];
        const DIRECTOR: &[NavItem] = &[
            item("/panel", "Pracownicy Placówki"),
            item("/panel/administratorzy", "Administratorzy lokalni"),
            item("/sio", "Upoważnienia SIO"),
        ];
        const SIO_USER: &[NavItem] = &[item("/sio", "Upoważnienia SIO")];
        const LOCAL_ADMINISTRATOR: &[NavItem] = &[item("/panel", "Pracownicy Placówki")];
        match self.role.as_str() {
            "administrator" => ADMINISTRATOR,
            "operator" => OPERATOR,
            "auditor" => AUDITOR,
            "director" => DIRECTOR,
            "local_administrator" => LOCAL_ADMINISTRATOR,
            "user" => SIO_USER,
            _ => &[],
        }
    }

    /// Where this role starts after signing in.
    pub fn home(&self) -> &'static str {
        self.navigation()
            .first()
            .map_or("/zaloguj", |item| item.href)
    }
}

/// A page that needs a signed-in staff member sends anyone else to the sign-in page.
pub struct SignedIn(pub Staff, pub Session);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(status, message)| (status, message).into_response())?;
        match session.get::<Staff>(STAFF_KEY).await {
            Ok(Some(staff)) => Ok(Self(staff, session)),
            _ => Err(Redirect::to("/zaloguj").into_response()),
        }
    }
}

/// The browser's address, as accounts should throttle it.
pub fn client_address(connect: &ConnectInfo<SocketAddr>) -> String {
    connect.0.ip().to_string()
}

/// What the header of every page shows.
pub struct Frame {
    pub css: &'static str,
    pub staff: Option<Staff>,
    pub csrf: String,
    /// The menu item of the page shown, marked for screen readers and the eye.
    pub current: &'static str,
}

impl Frame {
    pub async fn of(session: &Session, staff: Option<Staff>) -> Self {
        Self {
            css: crate::assets::CSS_PATH.as_str(),
            staff,
            csrf: crate::security::csrf_token(session).await,
            current: "",
        }
    }

    /// The frame of a page that the menu item `href` leads to.
    pub async fn at(session: &Session, staff: Staff, href: &'static str) -> Self {
        Self {
            current: href,
            ..Self::of(session, Some(staff)).await
        }
    }
}

/// What a page shows when a service refused or did not answer: a sign-in again when the
/// token ended, the refusal page when the role may not, else the service's own words.
pub async fn failure(session: &Session, staff: Staff, error: UpstreamError) -> Response {
    match error {
        UpstreamError::Refused { status: 401, .. } => {
            // The token ended (signed out elsewhere, locked): the session goes with it.
            let _ = session.flush().await;
            Redirect::to("/zaloguj").into_response()
        }
        UpstreamError::Refused {
            status: 403,
            detail,
            ..
        } => {
            let detail = detail.unwrap_or_else(|| {
                "Twoja rola nie pozwala otworzyć tej strony ani wykonać tej czynności.".into()
            });
            message(
                session,
                Some(staff),
                StatusCode::FORBIDDEN,
                "Brak uprawnień",
                &detail,
            )
            .await
        }
        UpstreamError::Refused {
            status,
            title,
            detail,
            ..
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            message(
                session,
                Some(staff),
                status,
                &title,
                &detail.unwrap_or_default(),
            )
            .await
        }
        UpstreamError::Unavailable(error) => {
            tracing::error!(%error, "a service did not answer the console");
            message(
                session,
                Some(staff),
                StatusCode::BAD_GATEWAY,
                "Usługa jest chwilowo niedostępna",
                "Usługa, która prowadzi te dane, nie odpowiada; spróbuj za chwilę.",
            )
            .await
        }
    }
}

/// A service's words on a field, shown next to that field: without the "Pole `x`: " that
/// names it for an API client, and starting with a capital.
pub fn next_to_field(detail: &str) -> String {
    let rest = ["Pole `", "Parametr `"]
        .iter()
        .find_map(|prefix| detail.strip_prefix(prefix))
        .and_then(|rest| rest.split_once("`: "))
        .map_or(detail, |(_, message)| message);
    let mut chars = rest.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const NOTICE_KEY: &str = "notice";

/// Leaves a word for the page a POST redirects to ("the status was changed").
pub(crate) async fn leave_notice(session: &Session, notice: String) {
    if let Err(error) = session.insert(NOTICE_KEY, notice).await {
        tracing::warn!(%error, "a notice for the next page could not be kept");
    }
}

/// The word left by the POST that led here, once.
pub(crate) async fn take_notice(session: &Session) -> Option<String> {
    session.remove::<String>(NOTICE_KEY).await.ok().flatten()
}

/// The page a form from another page or an old session gets: nothing was done.
pub async fn stale_form(session: &Session, staff: Option<Staff>) -> Response {
    message(
        session,
        staff,
        StatusCode::FORBIDDEN,
        "Formularz wygasł",
        "Nic nie zostało zmienione: formularz był otwarty zbyt długo albo nie pochodzi z tej \
         strony. Otwórz stronę ponownie i spróbuj jeszcze raz.",
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_field_error_loses_the_name_an_api_client_needs() {
        assert_eq!(
            super::next_to_field("Pole `f01_reference`: pełnomocnik musi okazać F-01."),
            "Pełnomocnik musi okazać F-01."
        );
        assert_eq!(
            super::next_to_field("Parametr `page`: liczba całkowita od 1 do 9."),
            "Liczba całkowita od 1 do 9."
        );
        assert_eq!(super::next_to_field("Bez nazwy."), "Bez nazwy.");
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub frame: Frame,
    pub title: String,
    pub message: String,
}

pub async fn message(
    session: &Session,
    staff: Option<Staff>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let page = MessagePage {
        frame: Frame::of(session, staff).await,
        title: title.to_owned(),
        message: message.to_owned(),
    };
    (status, page).into_response()
}

/// The start page of whoever is signed in.
async fn home(session: Session) -> Response {
    match session.get::<Staff>(STAFF_KEY).await {
        Ok(Some(staff)) => Redirect::to(staff.home()).into_response(),
        _ => Redirect::to("/zaloguj").into_response(),
    }
}

pub(crate) async fn not_found(session: Session) -> Response {
    message(
        &session,
        session.get::<Staff>(STAFF_KEY).await.ok().flatten(),
        StatusCode::NOT_FOUND,
        "Nie ma takiej strony",
        "Sprawdź adres albo wróć do strony głównej.",
    )
    .await
}
