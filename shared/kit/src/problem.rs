//! RFC 9457 problem details: the one shape every HTTP error takes.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An RFC 9457 problem document (`application/problem+json`): how every service answers a
/// refusal or an error. `title` and `detail` are Polish, for the person who asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "https://klucznik.example/problems/forbidden",
    "title": "Brak uprawnień",
    "status": 403,
    "detail": "Ta czynność wymaga roli: administrator."
}))]
pub struct Problem {
    /// `https://klucznik.example/problems/<kind>`: what a client decides by.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request's field at fault, when one is: a form shows the detail next to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Self {
            kind: format!("https://klucznik.example/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            field: None,
        }
    }

    /// Names the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// An internal error: the caller learns nothing of what went wrong inside.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Wystąpił błąd wewnętrzny. Spróbuj ponownie później.",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}
