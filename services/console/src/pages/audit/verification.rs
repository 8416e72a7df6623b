//! The chain's verification as audit reports it (intact, or the first problem and where),
//! the newest signed checkpoint, and a button that asks audit to sign one now. audit
//! refuses to sign a chain that does not extend the checkpoint kept outside its database;
//! that refusal is the page's message.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{leave_notice, position_href, take_notice};
use crate::pages::{Frame, SignedIn, Staff, failure, stale_form};
use crate::security::csrf_matches;
use crate::startup::AppState;
use crate::upstream::{Service, UpstreamError};

#[derive(Debug, Deserialize)]
struct Problem {
    position: i64,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Report {
    valid: bool,
    records_checked: u64,
    #[serde(default)]
    first_position: Option<i64>,
    #[serde(default)]
    last_position: Option<i64>,
    checkpoints_checked: u64,
    #[serde(default)]
    newest_checkpoint: Option<i64>,
    #[serde(default)]
    problem: Option<Problem>,
}

#[derive(Debug, Deserialize)]
struct Checkpoint {
    position: i64,
    hash: String,
    signed_at: DateTime<Utc>,
    public_key: String,
}

pub struct Broken {
    pub position: i64,
    pub href: String,
    pub what: &'static str,
}

pub struct CheckpointView {
    pub position: i64,
    pub href: String,
    pub hash: String,
    pub signed_at: String,
    pub public_key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "verification.html")]
pub struct VerificationPage {
    pub frame: Frame,
    pub valid: bool,
    pub broken: Option<Broken>,
    pub records_checked: u64,
    pub range: String,
    pub checkpoints_checked: u64,
    pub newest_checkpoint: String,
    pub checkpoint: Option<CheckpointView>,
    pub notice: Option<String>,
    /// audit's refusal to sign, with its title.
    pub refusal: Option<(String, String)>,
}

/// What a problem of the chain means, as an auditor reads it.
fn problem_label(kind: &str) -> &'static str {
    match kind {
        "changed" => "treść rekordu nie odpowiada jego skrótowi: rekord został zmieniony",
        "removed" => "w łańcuchu brakuje rekordów: zostały usunięte",
        "inserted" => {
            "rekord nie wynika z poprzedniego: został wstawiony lub przestawiony albo \
             poprzedni rekord przepisano"
        }
        "checkpoint_mismatch" => {
            "łańcuch do podpisanego punktu kontrolnego nie jest tym, który podpisano"
        }
        "bad_signature" => "punkt kontrolny nie jest podpisany kluczem audytu",
        "truncated" => {
            "odcięto najnowsze rekordy: punkt kontrolny obejmuje rekordy, których nie ma"
        }
        _ => "łańcuch się nie weryfikuje",
    }
}

async fn render(
    state: &AppState,
    staff: Staff,
    session: &Session,
    refusal: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let report: Report = match state
        .upstream
        .get_with_status::<Report>(Service::Audit, "/verify", &staff.token)
        .await
    {
        Ok((_, report)) => report,
        Err(error) => return failure(session, staff, error).await,
    };
    let checkpoint = match state
        .upstream
        .get::<Checkpoint>(Service::Audit, "/api/checkpoints/latest", &staff.token)
        .await
    {
        Ok(cp) => Some(CheckpointView {
            position: cp.position,
            href: position_href(cp.position),
            hash: cp.hash,
            signed_at: contracts::time::polish_short(cp.signed_at),
            public_key: cp.public_key,
        }),
        Err(UpstreamError::Refused { status: 404, .. }) => None,
        Err(error) => return failure(session, staff, error).await,
    };
    let range = match (report.first_position, report.last_position) {
        (Some(first), Some(last)) => format!("od {first} do {last}"),
        _ => "—".to_owned(),
    };
    let notice = take_notice(session).await;
    let page = VerificationPage {
        frame: Frame::at(session, staff, "/weryfikacja").await,
        valid: report.valid,
        broken: report.problem.map(|p| Broken {
            href: position_href(p.position),
            position: p.position,
            what: problem_label(&p.kind),
        }),
        records_checked: report.records_checked,
        range,
        checkpoints_checked: report.checkpoints_checked,
        newest_checkpoint: report
            .newest_checkpoint
            .map_or_else(|| "—".to_owned(), |p| p.to_string()),
        checkpoint,
        notice,
        refusal,
    };
    (status, page).into_response()
}

/// `GET /weryfikacja`.
pub async fn verification(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
) -> Response {
    render(&state, staff, &session, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct SignFields {
    #[serde(default)]
    csrf: String,
}

/// `POST /weryfikacja/punkt-kontrolny`: audit signs the present head, unless it is
/// signed already or the chain does not extend the last checkpoint.
pub async fn sign_checkpoint(
    State(state): State<AppState>,
    SignedIn(staff, session): SignedIn,
    Form(fields): Form<SignFields>,
) -> Response {
    if !csrf_matches(&session, &fields.csrf).await {
        return stale_form(&session, Some(staff)).await;
    }
    match state
        .upstream
        .post_optional::<Checkpoint>(Service::Audit, "/api/checkpoints", &staff.token, &json!({}))
        .await
    {
        Ok(signed) => {
            let notice = match signed {
                Some(cp) => format!("Podpisano punkt kontrolny na pozycji {}.", cp.position),
                None => "Nie podpisano nowego punktu kontrolnego: od ostatniego nie przybyło \
                         żadnego zdarzenia."
                    .to_owned(),
            };
            leave_notice(&session, notice).await;
            // The notice is at the top; the form's own anchor would keep the page at the form.
            Redirect::to("/weryfikacja#tresc").into_response()
        }
        Err(UpstreamError::Refused {
            status: 409,
            title,
            detail,
            ..
        }) => {
            let refusal = (title, detail.unwrap_or_default());
            render(&state, staff, &session, Some(refusal), StatusCode::CONFLICT).await
        }
        Err(error) => failure(&session, staff, error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_audit_names_reads_as_polish() {
        for kind in [
            "changed",
            "removed",
            "inserted",
            "checkpoint_mismatch",
            "bad_signature",
            "truncated",
        ] {
            assert_ne!(problem_label(kind), problem_label("unknown"), "{kind}");
        }
    }
}
