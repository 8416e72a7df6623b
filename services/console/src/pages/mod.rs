//! The pages. Each one asks a service and shows its answer; none decides who may do what.

mod queue;
mod sign_in;

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

const STAFF_KEY: &str = "staff";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/kolejka") }))
        .route("/zaloguj", get(sign_in::form).post(sign_in::submit))
        .route("/wyloguj", post(sign_in::sign_out))
        .route("/kolejka", get(queue::page))
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
}

impl Staff {
    /// The role as a person reads it.
    pub fn role_name(&self) -> &'static str {
        match self.role.as_str() {
            "administrator" => "administrator",
            "operator" => "operator",
            "auditor" => "audytor",
            _ => "pracownik",
        }
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
}

impl Frame {
    pub async fn of(session: &Session, staff: Option<Staff>) -> Self {
        Self {
            css: crate::assets::CSS_PATH.as_str(),
            staff,
            csrf: crate::security::csrf_token(session).await,
        }
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

async fn not_found(session: Session) -> Response {
    message(
        &session,
        session.get::<Staff>(STAFF_KEY).await.ok().flatten(),
        StatusCode::NOT_FOUND,
        "Nie ma takiej strony",
        "Sprawdź adres albo wróć do kolejki spraw.",
    )
    .await
}
