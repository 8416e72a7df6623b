//! A staff member's first TOTP app: after the password, the secret accounts drew for him is
//! shown as a QR code (and as text, for typing), and the app's first code confirms it and
//! signs him in. The secret stays in his session only until then.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{Frame, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{TotpEnrolment, UpstreamError};

pub const PENDING_KEY: &str = "totp_enrolment";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub login: String,
    pub enrolment: TotpEnrolment,
}

#[derive(Template, WebTemplate)]
#[template(path = "enrolment.html")]
pub struct EnrolmentPage {
    pub frame: Frame,
    pub login: String,
    pub qr_svg: String,
    /// The secret in groups of four, easier to type.
    pub secret_groups: String,
    pub error: Option<String>,
}

/// The otpauth address as an SVG QR code, drawn on the server (no script, no image request).
fn qr_svg(otpauth: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(otpauth, qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(error) => {
            tracing::error!(%error, "the QR code could not be drawn");
            String::new()
        }
    }
}

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn render(
    session: &Session,
    pending: Pending,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = EnrolmentPage {
        frame: Frame::of(session, None).await,
        qr_svg: qr_svg(&pending.enrolment.otpauth),
        secret_groups: grouped(&pending.enrolment.secret),
        login: pending.login,
        error,
    };
    let mut response = (status, page).into_response();
    // A secret on the page: no cache keeps it.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

pub async fn page(session: Session) -> Response {
    match session.get::<Pending>(PENDING_KEY).await {
        Ok(Some(pending)) => render(&session, pending, None, StatusCode::OK).await,
        _ => Redirect::to("/zaloguj").into_response(),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, None).await;
    }
    let Ok(Some(pending)) = session.get::<Pending>(PENDING_KEY).await else {
        return Redirect::to("/zaloguj").into_response();
    };
    let code = form.totp.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        let error = Some("Wpisz 6 cyfr kodu, który pokazuje aplikacja.".into());
        return render(&session, pending, error, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match state
        .upstream
        .confirm_enrolment(&pending.enrolment.token, code)
        .await
    {
        Ok(signed_in) => {
            let _ = session.remove::<Pending>(PENDING_KEY).await;
            match super::sign_in::signed_in_now(&session, &pending.login, signed_in).await {
                Ok(home) => Redirect::to(home).into_response(),
                Err(message) => {
                    super::message(
                        &session,
                        None,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Logowanie nieudane",
                        &message,
                    )
                    .await
                }
            }
        }
        Err(UpstreamError::Refused {
            status: 401,
            title,
            detail,
            ..
        }) => {
            let message = detail.unwrap_or(title);
            render(
                &session,
                pending,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(UpstreamError::Refused { title, detail, .. }) => {
            let message = detail.unwrap_or(title);
            render(
                &session,
                pending,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(UpstreamError::Unavailable(error)) => {
            tracing::error!(%error, "accounts did not answer an enrolment");
            let message =
                Some("Usługa logowania jest chwilowo niedostępna; spróbuj za chwilę.".into());
            render(&session, pending, message, StatusCode::BAD_GATEWAY).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_qr_code_is_an_svg_without_style_attributes() {
        let svg =
            super::qr_svg("otpauth://totp/Klucznik:a?secret=JBSWY3DPEHPK3PXP&issuer=Klucznik");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(
            !svg.contains("style="),
            "the CSP allows no inline style: {svg}"
        );
        assert_eq!(super::grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
    }
}
