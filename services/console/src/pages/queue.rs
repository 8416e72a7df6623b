//! The queue of cases, as intake lists it: filtered by status, procedure, institution and
//! age, sorted by age, a page at a time. The filters are a GET form, so a filtered list is an
//! address one can bookmark or send.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::list::{Choice, Pager, choice, query_string};
use super::{Frame, SignedIn, failure};
use crate::startup::AppState;
use crate::upstream::QueueEntry;

pub struct Row {
    pub case_number: String,
    pub href: String,
    pub procedure: String,
    pub status: &'static str,
    pub institution_name: String,
    pub requester_login: String,
    pub target_login: String,
    pub delivery: &'static str,
    pub registered_at: String,
    pub taken_by: String,
}

/// What the filter form holds, as typed: sent on to intake, which checks it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub institution: String,
    #[serde(default)]
    pub older_than_days: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: String,
}

pub const STATUSES: &[Choice] = &[
    choice("open", "oczekujące i w realizacji"),
    choice("waiting", "oczekujące"),
    choice("taken", "w realizacji"),
    choice("realised", "zrealizowane"),
    choice("failed", "niedoręczone lub odrzucone"),
    choice("all", "wszystkie"),
];

pub const PROCEDURES: &[Choice] = &[
    choice("", "wszystkie"),
    choice("ZSZO-05", "ZSZO-05 (hasło do ZSZO)"),
    choice("PZO-01", "PZO-01 (hasło administratora PZO)"),
];

pub const SORTS: &[Choice] = &[
    choice("oldest", "od najstarszej"),
    choice("newest", "od najnowszej"),
];

#[derive(Template, WebTemplate)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub frame: Frame,
    pub rows: Vec<Row>,
    pub filters: Filters,
    pub pager: Pager,
    pub statuses: &'static [Choice],
    pub procedures: &'static [Choice],
    pub sorts: &'static [Choice],
    /// intake's word on a filter it would not take, and the field it names.
    pub filter_error: Option<(String, String)>,
}

impl QueuePage {
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.filter_error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }
}

fn delivery_name(mode: &str) -> &'static str {
    match mode {
        "in_person" => "odbiór osobisty",
        _ => "e-mail i SMS",
    }
}

fn status_name(status: &str) -> &'static str {
    contracts::seod_status::CaseStatus::parse(status).map_or("inny", |s| s.polish())
}

fn row(entry: QueueEntry) -> Row {
    Row {
        href: format!("/sprawy/{}", entry.case_number),
        status: status_name(&entry.status),
        delivery: delivery_name(&entry.delivery_mode),
        registered_at: contracts::time::polish_short(entry.registered_at),
        case_number: entry.case_number,
        procedure: entry.procedure,
        institution_name: entry.institution_name,
        requester_login: entry.requester_login,
        target_login: entry.target_login,
        taken_by: entry.taken_by.unwrap_or_default(),
    }
}

const PER_PAGE: u64 = 25;

pub async fn page(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Query(filters): Query<Filters>,
) -> Response {
    let mut filters = filters;
    filters.status = if filters.status.is_empty() {
        "open".into()
    } else {
        filters.status
    };
    let page: u64 = filters.page.trim().parse().unwrap_or(1).max(1);
    let params = [
        ("status", filters.status.as_str()),
        ("procedure", filters.procedure.as_str()),
        ("institution", filters.institution.as_str()),
        ("older_than_days", filters.older_than_days.as_str()),
        ("sort", filters.sort.as_str()),
    ];
    let upstream_query = format!("{}&page={page}&per_page={PER_PAGE}", query_string(&params));
    let (rows, total, filter_error) =
        match state.upstream.queue(&staff.token, &upstream_query).await {
            Ok(found) => (found.cases, found.total, None),
            Err(crate::upstream::UpstreamError::Refused {
                status: 422,
                detail,
                field,
                ..
            }) => (
                Vec::new(),
                0,
                Some((
                    field.unwrap_or_default(),
                    super::next_to_field(&detail.unwrap_or_default()),
                )),
            ),
            Err(error) => return failure(&session, staff, error).await,
        };
    QueuePage {
        frame: Frame::at(&session, staff, "/kolejka").await,
        rows: rows.into_iter().map(row).collect(),
        pager: Pager::new("/kolejka", &params, page, PER_PAGE, total),
        filters,
        statuses: STATUSES,
        procedures: PROCEDURES,
        sorts: SORTS,
        filter_error,
    }
    .into_response()
}
