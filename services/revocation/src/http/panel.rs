//! "Panel komunikacji z systemem": the local database's forms in their three tabs, sending
//! the ticked ones of "Do wysłania", and checking the delivery status of the ticked ones of
//! "Wysłane". Sending publishes on the bus; checking reads what the central system
//! acknowledged. Ticking a form twice, or one of another tab or database, moves nothing.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use contracts::revocation::events::{FormKind, RevocationDecision};
use contracts::revocation::{RevocationMode, RevocationReason};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    AppState, DatabaseNotFound, InvalidRequest, LIST_MAX, NotAnEmployee, bounded_ids, in_database,
    invalid_request, json_rejected, problem,
};
use crate::domain::status;
use crate::store::panel;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forms))
        .routes(routes!(send))
        .routes(routes!(check))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// "Do wysłania"
    ToSend,
    /// "Wysłane"
    Sent,
    /// "Zakończone"
    Done,
}

impl Tab {
    fn code(self) -> &'static str {
        match self {
            Tab::ToSend => "to_send",
            Tab::Sent => "sent",
            Tab::Done => "done",
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TabQuery {
    /// `to_send` ("Do wysłania", the default), `sent` ("Wysłane") or `done` ("Zakończone").
    #[serde(default)]
    tab: Option<Tab>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PanelForm {
    #[schema(value_type = String, format = "uuid")]
    pub form_id: Uuid,
    pub kind: FormKind,
    pub kind_label: String,
    #[schema(value_type = String, format = "uuid")]
    pub request_id: Uuid,
    pub mode: RevocationMode,
    pub first_name: String,
    pub last_name: String,
    pub pesel_masked: String,
    pub reason_label: String,
    /// For a decision: `accepted`, `rejected` or `withdrawn`.
    pub decision: Option<RevocationDecision>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The central system acknowledged it.
    pub delivered: bool,
    /// A mode-2 request delivered but not yet processed by the authorising body: it stays
    /// in "Wysłane" with this tooltip.
    pub waiting_note: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

fn listed(f: panel::Form) -> PanelForm {
    let kind = FormKind::parse(&f.kind).unwrap_or(FormKind::Request);
    let mode = super::requests::mode_of(&f.mode);
    let waiting = f.tab == "sent"
        && kind == FormKind::Request
        && mode == RevocationMode::OwnUnit
        && f.delivered_at.is_some()
        && !f.decision_delivered;
    PanelForm {
        form_id: f.id,
        kind,
        kind_label: status::form_kind_label(kind).to_owned(),
        request_id: f.request_id,
        mode,
        first_name: f.first_name,
        last_name: f.last_name,
        pesel_masked: f.pesel_masked,
        reason_label: RevocationReason::parse(&f.reason)
            .map(|r| r.label().to_owned())
            .unwrap_or_default(),
        decision: match kind {
            FormKind::Decision => f.decision.as_deref().and_then(RevocationDecision::parse),
            _ => None,
        },
        created_at: f.created_at,
        sent_at: f.sent_at,
        delivered: f.delivered_at.is_some(),
        waiting_note: waiting.then(|| status::QUEUED_FOR_AUTHORISING_BODY.to_owned()),
        done_at: f.done_at,
    }
}

#[utoipa::path(
    get,
    path = "/api/local-databases/{database}/panel",
    tag = "panel",
    operation_id = "panel_forms",
    summary = "The communication panel's forms of one tab",
    description = "Any active employee of the local database's unit; oldest first, at most 500.",
    params(super::DatabasePath, TabQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The forms", body = Vec<PanelForm>),
        InvalidRequest,
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn forms(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
    query: Result<Query<TabQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return invalid_request("Nieznana zakładka: to_send, sent albo done.");
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let tab = query.tab.unwrap_or(Tab::ToSend);
    match panel::in_tab(&state.pool, &here.database.id, tab.code(), LIST_MAX).await {
        Ok(rows) => Json(rows.into_iter().map(listed).collect::<Vec<_>>()).into_response(),
        Err(error) => problem(error),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Ticked {
    /// The ticked forms (at most 500).
    #[schema(value_type = Vec<String>)]
    pub form_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Moved {
    /// Forms that moved to the next tab.
    pub moved: usize,
    /// Ticked forms that stayed where they were (not there, not acknowledged yet, or a
    /// mode-2 request the authorising body has not processed).
    pub stayed: usize,
}

impl Moved {
    /// `moved` of the ticked `ids`; a row ticked twice counts once.
    pub fn of(ids: &[Uuid], moved: usize) -> Self {
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        Self {
            moved,
            stayed: distinct.len().saturating_sub(moved),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/panel/send",
    tag = "panel",
    operation_id = "panel_send",
    summary = "Sends the ticked forms of \"Do wysłania\" to the central system",
    description = "Any active employee of the local database's unit. They move to \"Wysłane\"; \
        a form sent before is not sent again.",
    params(super::DatabasePath),
    request_body = Ticked,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "What moved", body = Moved),
        InvalidRequest,
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn send(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
    body: Result<Json<Ticked>, JsonRejection>,
) -> Response {
    move_forms(state, actor, database, body, Move::Send).await
}

#[utoipa::path(
    post,
    path = "/api/local-databases/{database}/panel/check",
    tag = "panel",
    operation_id = "panel_check",
    summary = "Checks the delivery status of the ticked forms of \"Wysłane\"",
    description = "Any active employee of the local database's unit. Those the central system \
        acknowledged move to \"Zakończone\"; a mode-2 request only once the authorising body \
        processed it.",
    params(super::DatabasePath),
    request_body = Ticked,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "What moved", body = Moved),
        InvalidRequest,
        kit::openapi::Unauthorized,
        NotAnEmployee,
        DatabaseNotFound,
        kit::openapi::Internal,
    )
)]
async fn check(
    State(state): State<AppState>,
    actor: kit::auth::Actor,
    Path(database): Path<String>,
    body: Result<Json<Ticked>, JsonRejection>,
) -> Response {
    move_forms(state, actor, database, body, Move::Check).await
}

enum Move {
    Send,
    Check,
}

async fn move_forms(
    state: AppState,
    actor: kit::auth::Actor,
    database: String,
    body: Result<Json<Ticked>, JsonRejection>,
    what: Move,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return json_rejected(rejection),
    };
    let here = match in_database(&state, &actor, &database).await {
        Ok(here) => here,
        Err(response) => return response,
    };
    let ids = match bounded_ids(&body.form_ids) {
        Ok(ids) => ids,
        Err(response) => return *response,
    };
    let now = state.clock.now();
    let moved = async {
        let mut tx = state.pool.begin().await?;
        let moved = match what {
            Move::Send => {
                crate::communication::send(&mut tx, &here.database.id, ids, &here.actor, now)
                    .await?
            }
            Move::Check => {
                crate::communication::check(
                    &mut tx,
                    &here.database.id,
                    ids,
                    &here.actor,
                    now,
                    false,
                )
                .await?
            }
        };
        tx.commit().await?;
        Ok::<_, sqlx::Error>(moved)
    }
    .await;
    match moved {
        Ok(moved) => {
            state.outbox_wake.notify_one();
            Json(Moved::of(ids, moved)).into_response()
        }
        Err(error) => problem(error),
    }
}
