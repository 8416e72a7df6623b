//! "Panel komunikacji z systemem": tabs "Do wysłania", "Wysłane", "Zakończone"; the ticked
//! rows (or, with the header's box, every row listed) are sent, or their delivery status
//! checked. Works without JavaScript: the header's box is a field of the form.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Here, NOTHING_TICKED, clean, frame, here, posted};
use crate::pages::{Frame, SignedIn, failure, leave_notice, stale_form, take_notice};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::Service;

pub struct Tab {
    pub slug: &'static str,
    pub code: &'static str,
    pub label: &'static str,
}

pub const TABS: [Tab; 3] = [
    Tab {
        slug: "do-wyslania",
        code: "to_send",
        label: "Do wysłania",
    },
    Tab {
        slug: "wyslane",
        code: "sent",
        label: "Wysłane",
    },
    Tab {
        slug: "zakonczone",
        code: "done",
        label: "Zakończone",
    },
];

#[derive(Debug, Clone, Deserialize)]
pub struct Form {
    pub form_id: String,
    pub kind_label: String,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub reason_label: String,
    pub decision: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered: bool,
    pub waiting_note: Option<String>,
    pub done_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Form {
    pub fn created(&self) -> String {
        super::date_time(&self.created_at)
    }

    pub fn sent(&self) -> String {
        self.sent_at
            .as_ref()
            .map(super::date_time)
            .unwrap_or_else(|| "—".into())
    }

    pub fn done(&self) -> String {
        self.done_at
            .as_ref()
            .map(super::date_time)
            .unwrap_or_else(|| "—".into())
    }

    pub fn decision_label(&self) -> &'static str {
        match self.decision.as_deref() {
            Some("accepted") => "akceptacja",
            Some("rejected") => "odrzucenie",
            Some("withdrawn") => "cofnięcie wniosku",
            _ => "",
        }
    }

    pub fn delivery_label(&self) -> &'static str {
        if self.delivered {
            "doręczono do systemu centralnego"
        } else {
            "czeka na potwierdzenie doręczenia"
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sio_panel.html")]
pub struct PanelPage {
    pub frame: Frame,
    pub here: Here,
    pub notice: Option<String>,
    pub tabs: &'static [Tab; 3],
    pub tab: &'static Tab,
    pub rows: Vec<Form>,
}

#[derive(Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    zakladka: String,
}

fn tab_of(slug: &str) -> &'static Tab {
    TABS.iter().find(|t| t.slug == slug).unwrap_or(&TABS[0])
}

/// `GET /sio/{db}/panel?zakladka=`: one tab of the panel.
pub async fn page(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    Query(query): Query<TabQuery>,
) -> Response {
    let database = clean(&database);
    let tab = tab_of(&query.zakladka);
    match state
        .upstream
        .get::<Vec<Form>>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/panel?tab={}", tab.code),
            &staff.token,
        )
        .await
    {
        Ok(rows) => {
            let here = here(&state, &staff, &database).await;
            PanelPage {
                notice: take_notice(&session).await,
                frame: frame(&session, staff).await,
                here,
                tabs: &TABS,
                tab,
                rows,
            }
            .into_response()
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

/// `POST /sio/{db}/panel/wyslij`: sends the ticked forms of "Do wysłania".
pub async fn send(
    state: State<AppState>,
    signed_in: SignedIn,
    database: Path<String>,
    body: Bytes,
) -> Response {
    act(state, signed_in, database, body, Act::Send).await
}

/// `POST /sio/{db}/panel/sprawdz`: checks the delivery status of the ticked forms of
/// "Wysłane".
pub async fn check(
    state: State<AppState>,
    signed_in: SignedIn,
    database: Path<String>,
    body: Bytes,
) -> Response {
    act(state, signed_in, database, body, Act::Check).await
}

enum Act {
    Send,
    Check,
}

async fn act(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Path(database): Path<String>,
    body: Bytes,
    act: Act,
) -> Response {
    let form = posted(&body, "form");
    if !csrf_matches(&session, &form.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    let database = clean(&database);
    let (path, back) = match act {
        Act::Send => ("send", "do-wyslania"),
        Act::Check => ("check", "wyslane"),
    };
    let chosen = form.chosen();
    if chosen.is_empty() {
        leave_notice(&session, NOTHING_TICKED.to_owned()).await;
        return Redirect::to(&format!("/sio/{database}/panel?zakladka={back}")).into_response();
    }
    match state
        .upstream
        .post::<serde_json::Value>(
            Service::Revocation,
            &format!("/api/local-databases/{database}/panel/{path}"),
            &staff.token,
            &json!({ "form_ids": chosen }),
        )
        .await
    {
        Ok(moved) => {
            let n = moved["moved"].as_u64().unwrap_or(0);
            let stayed = moved["stayed"].as_u64().unwrap_or(0);
            let notice = match act {
                Act::Send => format!("Wysłano formularze: {n}. Są w zakładce Wysłane."),
                Act::Check if stayed == 0 => {
                    format!(
                        "Sprawdzono status: {n} formularzy przeniesiono do zakładki Zakończone."
                    )
                }
                Act::Check => format!(
                    "Sprawdzono status: {n} formularzy przeniesiono do zakładki Zakończone; \
                     {stayed} czeka jeszcze na system centralny albo na organ prowadzący."
                ),
            };
            leave_notice(&session, notice).await;
            Redirect::to(&format!("/sio/{database}/panel?zakladka={back}")).into_response()
        }
        Err(error) => failure(&session, staff, error).await,
    }
}
