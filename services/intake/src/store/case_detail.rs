//! A case as the department's staff read it on its page: the form as received (PESEL
//! masked), who did what and when, and where its delivery stands.

use chrono::{DateTime, Utc};
use contracts::query::CaseView;
use contracts::seod_status::CaseStatus;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

/// One step of a case: a status, or an act that did not change it (the delivery agreement).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// The status reached, or `verified` / `delivery_agreed` / `realisation_requested`.
    pub step: String,
    pub at: DateTime<Utc>,
    /// Who: a staff login, or the party that acted (SEOD, accounts, delivery).
    pub by: String,
    /// Whether SEOD was told of it (every status of a case that came from SEOD).
    pub seod_told: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseView,
    pub source: String,
    pub institution_name: String,
    pub requester_login: String,
    pub delivery_mode: String,
    pub rspo_email: String,
    pub director_mobile: String,
    pub reply_email: Option<String>,
    pub registered_by: Option<String>,
    pub taken_by: Option<String>,
    pub delivery_agreement: Option<String>,
    pub proxy_name: Option<String>,
    pub proxy_f01_reference: Option<String>,
    /// The form as it was received, with every PESEL masked.
    #[schema(value_type = Object)]
    pub form: Value,
    /// Contact data the request corrected in accounts' copy.
    pub contact_updates: Vec<contracts::events::ContactUpdate>,
    /// Who closed a failed, refused or expired case, and his note.
    pub closed_by: Option<String>,
    pub closing_note: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    source: String,
    institution_name: String,
    requester_login: String,
    delivery_mode: String,
    rspo_email: String,
    director_mobile: String,
    reply_email: Option<String>,
    registered_by: Option<String>,
    verified_at: Option<DateTime<Utc>>,
    taken_by: Option<String>,
    delivery_agreed_by: Option<String>,
    delivery_agreed_at: Option<DateTime<Utc>>,
    delivery_agreement: Option<String>,
    proxy_name: Option<String>,
    proxy_f01_reference: Option<String>,
    realisation_requested_by: Option<String>,
    realisation_requested_at: Option<DateTime<Utc>>,
    form: sqlx::types::Json<Value>,
    contact_updates: sqlx::types::Json<Vec<contracts::events::ContactUpdate>>,
    closed_by: Option<String>,
    closing_note: Option<String>,
}

/// Replaces every PESEL in a form (a field whose name says so) by its masked form.
pub fn pesel_masked(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    if key.to_ascii_lowercase().contains("pesel") {
                        let masked = match &value {
                            Value::String(text) => Value::String(mask(text)),
                            Value::Null => Value::Null,
                            _ => Value::String("***".into()),
                        };
                        (key, masked)
                    } else {
                        (key, pesel_masked(value))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(pesel_masked).collect()),
        other => other,
    }
}

fn mask(text: &str) -> String {
    match contracts::values::Pesel::parse(text) {
        Ok(pesel) => pesel.masked(),
        // Not a valid PESEL still may be most of one: only its length shows.
        Err(_) => "*".repeat(text.chars().count().min(11)),
    }
}

pub async fn case_detail(
    pool: &PgPool,
    case_number: &str,
) -> Result<Option<CaseDetail>, sqlx::Error> {
    let Some(view) = super::cases::case_view(pool, case_number).await? else {
        return Ok(None);
    };
    let row: DetailRow = sqlx::query_as(
        "SELECT source, institution_name, requester_login, delivery_mode, rspo_email,
                director_mobile, reply_email, registered_by, verified_at, taken_by,
                delivery_agreed_by, delivery_agreed_at, delivery_agreement, proxy_name,
                proxy_f01_reference, realisation_requested_by, realisation_requested_at, form,
                contact_updates, closed_by, closing_note
         FROM cases WHERE case_number = $1",
    )
    .bind(case_number)
    .fetch_one(pool)
    .await?;
    let from_seod = row.source == "seod";
    let mut steps: Vec<Step> = view
        .history
        .iter()
        .map(|entry| Step {
            step: entry.status.as_str().to_owned(),
            at: entry.at,
            by: match entry.status {
                CaseStatus::Registered => row
                    .registered_by
                    .clone()
                    .unwrap_or_else(|| "SEOD".to_owned()),
                CaseStatus::Taken => row.taken_by.clone().unwrap_or_default(),
                CaseStatus::Realised | CaseStatus::Rejected => "accounts".to_owned(),
                CaseStatus::Closed if row.closed_by.is_some() => {
                    row.closed_by.clone().unwrap_or_default()
                }
                _ => "delivery".to_owned(),
            },
            seod_told: from_seod,
        })
        .collect();
    let mut acts = Vec::new();
    if let Some(at) = row.verified_at {
        acts.push(("verified", at, "accounts".to_owned()));
    }
    if let (Some(at), Some(by)) = (row.delivery_agreed_at, row.delivery_agreed_by.clone()) {
        acts.push(("delivery_agreed", at, by));
    }
    if let (Some(at), Some(by)) = (
        row.realisation_requested_at,
        row.realisation_requested_by.clone(),
    ) {
        acts.push(("realisation_requested", at, by));
    }
    steps.extend(acts.into_iter().map(|(step, at, by)| Step {
        step: step.to_owned(),
        at,
        by,
        seod_told: false,
    }));
    steps.sort_by_key(|step| step.at);
    Ok(Some(CaseDetail {
        view,
        source: row.source,
        institution_name: row.institution_name,
        requester_login: row.requester_login,
        delivery_mode: row.delivery_mode,
        rspo_email: row.rspo_email,
        director_mobile: row.director_mobile,
        reply_email: row.reply_email,
        registered_by: row.registered_by,
        taken_by: row.taken_by,
        delivery_agreement: row.delivery_agreement,
        proxy_name: row.proxy_name,
        proxy_f01_reference: row.proxy_f01_reference,
        form: pesel_masked(row.form.0),
        contact_updates: row.contact_updates.0,
        closed_by: row.closed_by,
        closing_note: row.closing_note,
        steps,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_pesel_in_a_form_is_masked_wherever_it_sits() {
        let form = json!({
            "user": { "pesel": "44051401359", "first_name": "Anna" },
            "proxies": [{ "proxy_pesel": "0207080362" }],
            "director_pesel": null,
        });
        let masked = pesel_masked(form);
        assert_eq!(masked["user"]["pesel"], "*********59");
        assert_eq!(masked["user"]["first_name"], "Anna");
        assert_eq!(masked["proxies"][0]["proxy_pesel"], "**********");
        assert_eq!(masked["director_pesel"], Value::Null);
        assert!(!masked.to_string().contains("440514"));
    }
}
