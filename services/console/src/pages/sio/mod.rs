//! Procedure D's pages ("Upoważnienia SIO"): the person's local databases, "Wniosek" →
//! "Cofnięcie" in both modes with its preview and confirmation, "Moje wnioski", "Panel
//! komunikacji z systemem", "Rozpatrywanie" → "Cofnięcie" and the register's answer.
//! revocation decides who may; these pages show what it answers.

pub mod panel;
pub mod register;
pub mod requests;
pub mod review;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Frame, SignedIn, Staff, failure};
use crate::startup::AppState;
use crate::upstream::Service;

#[derive(Debug, Clone, Deserialize)]
pub struct MyDatabase {
    pub id: String,
    pub name: String,
    pub unit_name: String,
    pub position: String,
    pub administrator: bool,
    pub auto_send: bool,
    pub auto_check: bool,
}

impl MyDatabase {
    pub fn href(&self) -> String {
        format!("/sio/{}/cofniecie", self.id)
    }

    pub fn role_label(&self) -> &'static str {
        if self.administrator {
            "administrator lokalnej bazy danych"
        } else {
            "upoważniony pracownik jednostki"
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Me {
    pub local_databases: Vec<MyDatabase>,
}

/// The local database a page is about, as the header names it.
pub struct Here {
    pub id: String,
    pub name: String,
    pub unit_name: String,
}

/// Only what an id is made of reaches revocation's path (nothing left: an id that names
/// nothing, which revocation answers as not found).
pub fn clean(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if id.is_empty() { "0".to_owned() } else { id }
}

/// The header of a local database's pages; a database the person does not work in is
/// named by its id, and revocation's refusal follows.
pub async fn here(state: &AppState, staff: &Staff, database: &str) -> Here {
    let me = state
        .upstream
        .get::<Me>(Service::Revocation, "/api/me", &staff.token)
        .await
        .ok();
    let found = me.and_then(|me| me.local_databases.into_iter().find(|d| d.id == database));
    match found {
        Some(d) => Here {
            id: d.id,
            name: d.name,
            unit_name: d.unit_name,
        },
        None => Here {
            id: database.to_owned(),
            name: database.to_owned(),
            unit_name: String::new(),
        },
    }
}

#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "sio_home.html")]
pub struct HomePage {
    pub frame: Frame,
    pub databases: Vec<MyDatabase>,
}

/// `GET /sio`: the local databases the person works in.
pub async fn home(State(state): State<AppState>, SignedIn(staff, session): SignedIn) -> Response {
    match state
        .upstream
        .get::<Me>(Service::Revocation, "/api/me", &staff.token)
        .await
    {
        Ok(me) => HomePage {
            frame: Frame::at(&session, staff, "/sio").await,
            databases: me.local_databases,
        }
        .into_response(),
        Err(error) => failure(&session, staff, error).await,
    }
}

/// A posted form's fields, bounded: the CSRF token, every ticked row (`name`), the rows the
/// page listed (`listed`) and the rest by name.
pub struct Posted {
    pub csrf: String,
    pub ticked: Vec<String>,
    pub listed: Vec<String>,
    pub fields: std::collections::HashMap<String, String>,
}

const POSTED_ROWS_MAX: usize = 500;

pub fn posted(body: &[u8], row: &str) -> Posted {
    let mut out = Posted {
        csrf: String::new(),
        ticked: Vec::new(),
        listed: Vec::new(),
        fields: Default::default(),
    };
    for (name, value) in form_urlencoded::parse(body) {
        let value: String = value.chars().take(200).collect();
        match name.as_ref() {
            "csrf" => out.csrf = value,
            n if n == row && out.ticked.len() < POSTED_ROWS_MAX => out.ticked.push(value),
            "listed" if out.listed.len() < POSTED_ROWS_MAX => out.listed.push(value),
            n if out.fields.len() < 16 => {
                out.fields.insert(n.to_owned(), value);
            }
            _ => {}
        }
    }
    out
}

impl Posted {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The ticked rows; every listed row when the header's "all" box was ticked.
    pub fn chosen(&self) -> Vec<String> {
        let rows = if self.field("all") == "1" {
            &self.listed
        } else {
            &self.ticked
        };
        rows.iter()
            .map(|id| {
                id.chars()
                    .filter(|c| c.is_ascii_hexdigit() || *c == '-')
                    .take(36)
                    .collect()
            })
            .collect()
    }
}

/// A page's answer to a form that named no row.
pub const NOTHING_TICKED: &str = "Zaznacz co najmniej jeden wiersz tabeli.";

pub(crate) fn date_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    contracts::time::polish_date_time(*at)
}

pub(crate) async fn frame(session: &Session, staff: Staff) -> Frame {
    Frame::at(session, staff, "/sio").await
}
