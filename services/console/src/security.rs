//! What protects every page: the server-side session (HttpOnly, SameSite=Strict, Secure in
//! production, ended after idle time), cross-origin request refusal (tower-http's CSRF
//! layer, from `Sec-Fetch-Site` and `Origin`) plus a token in the session that each form
//! carries, and headers that keep pages out of frames, scripts to our own, and referrers
//! to ourselves.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::session_store::PgSessionStore;

const CSRF_KEY: &str = "csrf";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn with_sessions_and_headers(
    router: Router,
    store: PgSessionStore,
    idle_timeout_mins: u32,
    secure_cookies: bool,
) -> Router {
    let sessions = SessionManagerLayer::new(store)
        .with_name("klucznik")
        .with_http_only(true)
        .with_secure(secure_cookies)
        .with_same_site(SameSite::Strict)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            idle_timeout_mins,
        ))));
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
}

/// The session's form token, made on first use.
pub async fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY).await {
        return token;
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    if let Err(error) = session.insert(CSRF_KEY, &token).await {
        tracing::warn!(%error, "a form token could not be kept");
    }
    token
}

/// Whether a form carried its session's token.
pub async fn csrf_matches(session: &Session, sent: &str) -> bool {
    match session.get::<String>(CSRF_KEY).await {
        Ok(Some(token)) => !sent.is_empty() && constant_time_eq(token.as_bytes(), sent.as_bytes()),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
