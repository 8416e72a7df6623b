//! The register of security incidents, without I/O: categories and statuses, how an
//! incident is numbered, which statuses may follow which, what an administrator must give,
//! and which audit records open an incident on their own.

use std::fmt;

use chrono::{DateTime, Utc};
use contracts::subjects;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::chain::StoredRecord;
use super::record::EventRecord;

/// Event type of the record audit writes into its own chain when an incident is opened.
pub const EVENT_INCIDENT_OPENED: &str = "audit.incident.opened";
/// Event type of the record written when an incident's status changes.
pub const EVENT_INCIDENT_STATUS_CHANGED: &str = "audit.incident.status-changed";
/// Who opens an incident automatically.
pub const SYSTEM_OPENER: &str = "audit";

/// `data.reason` of a refused revocation request that did not come from the local database
/// that granted the authorisation.
const REASON_WRONG_LOCAL_DATABASE: &str = "wrong_local_database";

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const NOTE_MAX_CHARS: usize = 10_000;
pub const PERSON_MAX_CHARS: usize = 128;
pub const CASE_NUMBER_MAX_CHARS: usize = 64;
pub const CASE_NUMBERS_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentCategory {
    /// A new starting password was issued: the previous one counts as lost.
    StartingPasswordLoss,
    /// Failed logins of one login reached the threshold within the window.
    RepeatedFailedLogins,
    /// A revocation was refused because it was not asked from the local database that
    /// granted the authorisation.
    RevocationWrongLocalDatabase,
    /// Opened by an administrator for anything else.
    Other,
}

impl IncidentCategory {
    pub const ALL: [Self; 4] = [
        Self::StartingPasswordLoss,
        Self::RepeatedFailedLogins,
        Self::RevocationWrongLocalDatabase,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartingPasswordLoss => "starting_password_loss",
            Self::RepeatedFailedLogins => "repeated_failed_logins",
            Self::RevocationWrongLocalDatabase => "revocation_wrong_local_database",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The title an automatically opened incident of this category gets.
    pub fn title(self) -> &'static str {
        match self {
            Self::StartingPasswordLoss => "Utrata hasła startowego",
            Self::RepeatedFailedLogins => "Powtarzające się nieudane logowania",
            Self::RevocationWrongLocalDatabase => {
                "Odmowa cofnięcia upoważnienia z niewłaściwej lokalnej bazy danych"
            }
            Self::Other => "Incydent bezpieczeństwa",
        }
    }
}

impl fmt::Display for IncidentCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Registered,
    UnderAnalysis,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [Self; 3] = [Self::Registered, Self::UnderAnalysis, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::UnderAnalysis => "under_analysis",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// As a Polish sentence names it ("incydent jest …").
    pub fn label(self) -> &'static str {
        match self {
            Self::Registered => "zarejestrowany",
            Self::UnderAnalysis => "w analizie",
            Self::Closed => "zamknięty",
        }
    }

    /// Statuses only move forward: registered → under analysis → closed, or straight
    /// from registered to closed. Staying put is not a change.
    pub fn allows(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Registered, Self::UnderAnalysis)
                | (Self::Registered, Self::Closed)
                | (Self::UnderAnalysis, Self::Closed)
        )
    }

    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `INC/2026/000042`: the year the incident was opened and a sequence that runs per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentNumber {
    pub year: i32,
    pub sequence: i64,
}

impl IncidentNumber {
    pub const PREFIX: &'static str = "INC";

    /// From the two parts of `/api/incidents/{year}/{sequence}`; the sequence may be given
    /// with or without its leading zeros.
    pub fn from_parts(year: &str, sequence: &str) -> Option<Self> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || year.len() != 4 || !digits(sequence) || sequence.len() > 18 {
            return None;
        }
        let number = Self {
            year: year.parse().ok()?,
            sequence: sequence.parse().ok()?,
        };
        (number.sequence >= 1).then_some(number)
    }

    /// Reads `INC/2026/000042`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('/');
        let (Some(Self::PREFIX), Some(year), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Self::from_parts(year, sequence)
    }
}

impl fmt::Display for IncidentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{:06}", Self::PREFIX, self.year, self.sequence)
    }
}

impl Serialize for IncidentNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An incident about to be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub category: IncidentCategory,
    pub title: String,
    pub description: String,
    /// The account concerned, if any.
    pub subject_login: Option<String>,
    pub case_numbers: Vec<String>,
    pub record_positions: Vec<i64>,
    pub opened_by: String,
    pub opened_automatically: bool,
}

/// A field of a request that cannot be accepted, and why (in Polish, for the person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// `value` trimmed, or why it cannot be accepted: empty, or longer than `max` characters.
fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(
            field,
            format!("Pole „{field}” nie może być puste."),
        ));
    }
    optional_text(field, value, max)
}

fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Pole „{field}” może mieć najwyżej {max} znaków."),
        ));
    }
    Ok(value.to_owned())
}

impl NewIncident {
    /// An incident an administrator opens by hand, checked field by field.
    pub fn by_person(
        category: IncidentCategory,
        title: &str,
        description: &str,
        case_numbers: &[String],
        opened_by: &str,
    ) -> Result<Self, FieldError> {
        let title = required_text("title", title, TITLE_MAX_CHARS)?;
        let description = required_text("description", description, DESCRIPTION_MAX_CHARS)?;
        let opened_by = required_text("opened_by", opened_by, PERSON_MAX_CHARS)?;
        if case_numbers.len() > CASE_NUMBERS_MAX {
            return Err(FieldError::new(
                "case_numbers",
                format!("Można wskazać najwyżej {CASE_NUMBERS_MAX} spraw."),
            ));
        }
        let mut cases: Vec<String> = Vec::with_capacity(case_numbers.len());
        for case in case_numbers {
            let case = required_text("case_numbers", case, CASE_NUMBER_MAX_CHARS)?;
            if !cases.contains(&case) {
                cases.push(case);
            }
        }
        Ok(Self {
            category,
            title,
            description,
            subject_login: None,
            case_numbers: cases,
            record_positions: Vec::new(),
            opened_by,
            opened_automatically: false,
        })
    }

    fn automatic(category: IncidentCategory, description: String, record: &StoredRecord) -> Self {
        Self {
            category,
            title: category.title().to_owned(),
            description,
            subject_login: record.subject_login.clone(),
            case_numbers: record.case_number.iter().cloned().collect(),
            record_positions: vec![record.position],
            opened_by: SYSTEM_OPENER.to_owned(),
            opened_automatically: true,
        }
    }
}

/// What an audit record asks of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutomaticIncident {
    /// Open this incident.
    Open(NewIncident),
    /// Add the record to the case's starting-password-loss incident (the one its
    /// registration opened); when the case has none (registered before incidents were opened
    /// at registration), open `otherwise`, if given.
    AddToCase {
        case_number: String,
        position: i64,
        otherwise: Option<NewIncident>,
    },
    /// Count the login's failed sign-ins up to `at` (the store knows them); open
    /// `incident` when they reach the threshold and none of its kind is open for the login.
    CountFailedLogins {
        login: String,
        at: DateTime<Utc>,
        incident: NewIncident,
    },
}

/// Whether `record` opens an incident: a registered password reset always does (the loss,
/// of the kind the form gives), and its realisation and delivery are added to it; a refused
/// revocation asked from another local database than the one that granted the authorisation; a failed login once there are enough.
pub fn rule_for(record: &StoredRecord) -> Option<AutomaticIncident> {
    match record.event_type.as_str() {
        subjects::INTAKE_CASE_REGISTERED => {
            let body: Value = serde_json::from_str(&record.body).ok()?;
            let data = body.get("data")?;
            let loss = data
                .get("loss")
                .cloned()
                .and_then(|v| serde_json::from_value::<contracts::forms::LossKind>(v).ok())
                .unwrap_or_default();
            let case = record.case_number.clone()?;
            let login = data
                .get("target_login")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let description = format!(
                "Wniosek o nowe hasło startowe dla konta {login} zarejestrowano jako sprawę \
                 {case}; rodzaj zdarzenia według wniosku: {}.",
                loss.polish()
            );
            let mut incident =
                NewIncident::automatic(IncidentCategory::StartingPasswordLoss, description, record);
            incident.subject_login = Some(login.to_owned()).filter(|l| l != "?");
            Some(AutomaticIncident::Open(incident))
        }
        subjects::DELIVERY_DISPATCH_COMPLETED | subjects::DELIVERY_DISPATCH_FAILED => {
            Some(AutomaticIncident::AddToCase {
                case_number: record.case_number.clone()?,
                position: record.position,
                otherwise: None,
            })
        }
        subjects::ACCOUNTS_CREDENTIAL_ISSUED => {
            let description = match (&record.case_number, &record.subject_login) {
                (Some(case), Some(login)) => format!(
                    "Wydano nowe hasło startowe dla konta {login} w sprawie {case}; \
                     poprzednie hasło startowe uznaje się za utracone."
                ),
                (Some(case), None) => format!(
                    "Wydano nowe hasło startowe w sprawie {case}; poprzednie hasło startowe \
                     uznaje się za utracone."
                ),
                (None, _) => "Wydano nowe hasło startowe; poprzednie hasło startowe uznaje się \
                              za utracone."
                    .to_owned(),
            };
            let otherwise =
                NewIncident::automatic(IncidentCategory::StartingPasswordLoss, description, record);
            match &record.case_number {
                Some(case) => Some(AutomaticIncident::AddToCase {
                    case_number: case.clone(),
                    position: record.position,
                    otherwise: Some(otherwise),
                }),
                None => Some(AutomaticIncident::Open(otherwise)),
            }
        }
        subjects::REVOCATION_REQUEST_REFUSED => {
            let body: Value = serde_json::from_str(&record.body).ok()?;
            let reason = body.pointer("/data/reason").and_then(Value::as_str);
            if reason != Some(REASON_WRONG_LOCAL_DATABASE) {
                return None;
            }
            // Not the local database that granted the authorisation: the rule of seeds 003
            // and 004 ("z tej samej lokalnej bazy danych, na której upoważnienie zostało
            // wydane").
            let text = |key: &str| {
                body.pointer(&format!("/data/{key}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let what = match (text("authorisation_id"), &record.revocation_request_id) {
                (Some(authorisation), _) => format!(" upoważnienia {authorisation}"),
                (None, Some(request)) => format!(" (wniosek {request})"),
                (None, None) => String::new(),
            };
            let from = text("local_database_id")
                .map(|db| format!(" z lokalnej bazy danych {db}"))
                .unwrap_or_default();
            let description = format!(
                "Odmówiono cofnięcia{what}{from}, ponieważ nie jest to lokalna baza danych, \
                 w której udzielono upoważnienia."
            );
            Some(AutomaticIncident::Open(NewIncident::automatic(
                IncidentCategory::RevocationWrongLocalDatabase,
                description,
                record,
            )))
        }
        subjects::ACCOUNTS_LOGIN_FAILED => {
            // Without a login there is nothing to count the failures against.
            let login = record.subject_login.clone()?;
            let description = format!("Powtarzające się nieudane logowania na konto {login}.");
            Some(AutomaticIncident::CountFailedLogins {
                at: record.occurred_at,
                incident: NewIncident::automatic(
                    IncidentCategory::RepeatedFailedLogins,
                    description,
                    record,
                ),
                login,
            })
        }
        _ => None,
    }
}

/// The description of a failed-logins incident, once the count is known.
pub fn failed_logins_description(login: &str, count: i64, window_secs: u64) -> String {
    let minutes = window_secs.div_ceil(60);
    // "Nieudane logowania: N" reads right for any N (Polish plurals depend on the number).
    format!("Nieudane logowania na konto {login}: {count} w ciągu {minutes} min.")
}

/// Why a status cannot be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The incident is closed; nothing follows.
    AlreadyClosed,
    /// The incident already has this status.
    Unchanged(IncidentStatus),
    /// Statuses only move forward.
    Backwards {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    /// Closing needs a note saying how the incident was resolved.
    ClosingNoteMissing,
}

impl TransitionError {
    /// What the person is told (the incident's number is said by the caller).
    pub fn message(&self) -> String {
        match self {
            Self::AlreadyClosed => {
                "Incydent jest już zamknięty; jego status nie może się zmienić.".to_owned()
            }
            Self::Unchanged(status) => format!("Incydent ma już status „{}”.", status.label()),
            Self::Backwards { from, to } => format!(
                "Status incydentu może się zmieniać tylko naprzód: ze statusu „{}” nie można \
                 wrócić do statusu „{}”.",
                from.label(),
                to.label()
            ),
            Self::ClosingNoteMissing => {
                "Zamknięcie incydentu wymaga notatki zamykającej (pole „note”).".to_owned()
            }
        }
    }
}

/// A status change, checked: who sets it and the note, trimmed (`None` when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: IncidentStatus,
    pub by: String,
    pub note: Option<String>,
}

impl StatusChange {
    /// Checks the fields of a request: `by` must name someone, a note must not be too long.
    pub fn new(status: IncidentStatus, by: &str, note: Option<&str>) -> Result<Self, FieldError> {
        let by = required_text("by", by, PERSON_MAX_CHARS)?;
        let note = match note {
            Some(note) => Some(optional_text("note", note, NOTE_MAX_CHARS)?),
            None => None,
        }
        .filter(|n| !n.is_empty());
        Ok(Self { status, by, note })
    }

    /// Whether the change may follow `current`.
    pub fn check(&self, current: IncidentStatus) -> Result<(), TransitionError> {
        if current == IncidentStatus::Closed {
            return Err(TransitionError::AlreadyClosed);
        }
        if current == self.status {
            return Err(TransitionError::Unchanged(current));
        }
        if !current.allows(self.status) {
            return Err(TransitionError::Backwards {
                from: current,
                to: self.status,
            });
        }
        if self.status == IncidentStatus::Closed && self.note.is_none() {
            return Err(TransitionError::ClosingNoteMissing);
        }
        Ok(())
    }
}

/// A status an incident reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub status: IncidentStatus,
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: Option<String>,
}

/// An incident as the register shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Incident {
    #[schema(value_type = String, example = "INC/2026/000042")]
    pub number: IncidentNumber,
    pub year: i32,
    pub sequence: i64,
    pub category: IncidentCategory,
    pub status: IncidentStatus,
    pub title: String,
    pub description: String,
    pub subject_login: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub opened_automatically: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closing_note: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub case_numbers: Vec<String>,
    pub record_positions: Vec<i64>,
    /// Oldest first; empty in a list of incidents.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// The chain's record of an incident being opened. Its message id is derived from the
/// number, which is never handed out twice.
pub fn opened_record(number: IncidentNumber, new: &NewIncident, at: DateTime<Utc>) -> EventRecord {
    let actor_kind = if new.opened_automatically {
        "system"
    } else {
        "person"
    };
    EventRecord {
        actor_kind: Some(actor_kind.to_owned()),
        actor_id: Some(new.opened_by.clone()),
        case_number: new.case_numbers.first().cloned(),
        subject_login: new.subject_login.clone(),
        ..super::record::own_record(
            format!("{number}:opened"),
            EVENT_INCIDENT_OPENED,
            at,
            json!({
                "number": number,
                "category": new.category,
                "status": IncidentStatus::Registered,
                "title": new.title,
                "opened_automatically": new.opened_automatically,
                "case_numbers": new.case_numbers,
                "record_positions": new.record_positions,
            }),
        )
    }
}

/// The chain's record of a status change. Statuses only move forward, so each status is
/// reached once and names the record.
pub fn status_changed_record(
    incident: &Incident,
    from: IncidentStatus,
    change: &StatusChange,
    at: DateTime<Utc>,
) -> EventRecord {
    EventRecord {
        actor_kind: Some("person".to_owned()),
        actor_id: Some(change.by.clone()),
        case_number: incident.case_numbers.first().cloned(),
        subject_login: incident.subject_login.clone(),
        ..super::record::own_record(
            format!("{}:{}", incident.number, change.status),
            EVENT_INCIDENT_STATUS_CHANGED,
            at,
            json!({
                "number": incident.number,
                "category": incident.category,
                "from": from,
                "to": change.status,
                "note": change.note,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chain::tests::sample;

    fn record(event_type: &str, body: &str) -> StoredRecord {
        let mut r = sample(41);
        r.event_type = event_type.to_owned();
        r.subject = event_type.to_owned();
        r.case_number = Some("ZSZO-05/2026/000007".to_owned());
        r.subject_login = Some("lzak".to_owned());
        r.body = body.to_owned();
        r
    }

    #[test]
    fn an_incident_number_names_the_year_and_a_six_digit_sequence() {
        let n = IncidentNumber {
            year: 2026,
            sequence: 42,
        };
        assert_eq!(n.to_string(), "INC/2026/000042");
        assert_eq!(IncidentNumber::parse("INC/2026/000042"), Some(n));
        assert_eq!(IncidentNumber::from_parts("2026", "42"), Some(n));
        assert_eq!(
            serde_json::to_value(n).unwrap(),
            serde_json::json!("INC/2026/000042")
        );
    }

    #[test]
    fn a_malformed_incident_number_is_not_read() {
        for bad in [
            "INC/2026/",
            "INC/26/000001",
            "INC/2026/000000",
            "INC/2026/-1",
            "ZSZO-05/2026/000001",
            "INC/2026/000001/x",
            "INC/2026/00000a",
        ] {
            assert_eq!(IncidentNumber::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn categories_and_statuses_are_spelled_in_snake_case() {
        for c in IncidentCategory::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
            assert_eq!(IncidentCategory::parse(c.as_str()), Some(c));
        }
        assert_eq!(
            IncidentStatus::parse("under_analysis"),
            Some(IncidentStatus::UnderAnalysis)
        );
        assert_eq!(IncidentCategory::parse("Other"), None);
    }

    #[test]
    fn statuses_only_move_forward() {
        use IncidentStatus::*;
        assert!(Registered.allows(UnderAnalysis));
        assert!(Registered.allows(Closed));
        assert!(UnderAnalysis.allows(Closed));
        for (from, to) in [
            (UnderAnalysis, Registered),
            (Closed, Registered),
            (Closed, UnderAnalysis),
            (Registered, Registered),
            (Closed, Closed),
        ] {
            assert!(!from.allows(to), "{from} -> {to}");
        }
    }

    #[test]
    fn closing_needs_a_note_and_a_blank_note_is_no_note() {
        let close = StatusChange::new(IncidentStatus::Closed, "admin", Some("   ")).unwrap();
        assert_eq!(close.note, None);
        assert_eq!(
            close.check(IncidentStatus::Registered),
            Err(TransitionError::ClosingNoteMissing)
        );
        let close =
            StatusChange::new(IncidentStatus::Closed, "admin", Some(" wyjaśniono ")).unwrap();
        assert_eq!(close.note.as_deref(), Some("wyjaśniono"));
        assert_eq!(close.check(IncidentStatus::UnderAnalysis), Ok(()));
    }

    #[test]
    fn a_closed_incident_refuses_every_change_before_the_note_is_looked_at() {
        let close = StatusChange::new(IncidentStatus::Closed, "admin", None).unwrap();
        assert_eq!(
            close.check(IncidentStatus::Closed),
            Err(TransitionError::AlreadyClosed)
        );
        let back = StatusChange::new(IncidentStatus::Registered, "admin", None).unwrap();
        assert_eq!(
            back.check(IncidentStatus::UnderAnalysis),
            Err(TransitionError::Backwards {
                from: IncidentStatus::UnderAnalysis,
                to: IncidentStatus::Registered
            })
        );
        assert!(
            back.check(IncidentStatus::UnderAnalysis)
                .unwrap_err()
                .message()
                .contains("„w analizie”")
        );
    }

    #[test]
    fn a_status_change_names_whoever_makes_it() {
        let err = StatusChange::new(IncidentStatus::UnderAnalysis, "  ", None).unwrap_err();
        assert_eq!(err.field, "by");
    }

    #[test]
    fn an_administrator_must_give_a_title_a_description_and_who_opens_it() {
        let err =
            NewIncident::by_person(IncidentCategory::Other, " ", "d", &[], "admin").unwrap_err();
        assert_eq!(err.field, "title");
        let err = NewIncident::by_person(IncidentCategory::Other, "Zgubiony laptop", "", &[], "a")
            .unwrap_err();
        assert_eq!(err.field, "description");
        let err = NewIncident::by_person(IncidentCategory::Other, "Zgubiony laptop", "d", &[], "")
            .unwrap_err();
        assert_eq!(err.field, "opened_by");
        let err = NewIncident::by_person(
            IncidentCategory::Other,
            &"x".repeat(TITLE_MAX_CHARS + 1),
            "d",
            &[],
            "admin",
        )
        .unwrap_err();
        assert_eq!(err.field, "title");
    }

    #[test]
    fn an_administrators_incident_keeps_each_case_once() {
        let cases = vec![
            "ZSZO-05/2026/000001".to_owned(),
            " ZSZO-05/2026/000001 ".to_owned(),
            "PZO-01/2026/000002".to_owned(),
        ];
        let incident = NewIncident::by_person(
            IncidentCategory::Other,
            "Zgubiony laptop",
            "Laptop z dostępem do SIO",
            &cases,
            "admin",
        )
        .unwrap();
        assert_eq!(
            incident.case_numbers,
            ["ZSZO-05/2026/000001", "PZO-01/2026/000002"]
        );
        assert!(!incident.opened_automatically);
        let err =
            NewIncident::by_person(IncidentCategory::Other, "t", "d", &["".to_owned()], "admin")
                .unwrap_err();
        assert_eq!(err.field, "case_numbers");
    }

    #[test]
    fn a_registered_request_opens_a_loss_of_its_kind_and_what_follows_is_added_to_it() {
        let r = record(
            subjects::INTAKE_CASE_REGISTERED,
            r#"{"data":{"target_login":"lzak","loss":"forgotten"}}"#,
        );
        let Some(AutomaticIncident::Open(incident)) = rule_for(&r) else {
            panic!("expected an incident");
        };
        assert_eq!(incident.category, IncidentCategory::StartingPasswordLoss);
        assert!(
            incident.description.contains("zapomnienie"),
            "{}",
            incident.description
        );
        assert_eq!(incident.subject_login.as_deref(), Some("lzak"));
        assert_eq!(incident.case_numbers, ["ZSZO-05/2026/000007"]);
        let unstated = record(subjects::INTAKE_CASE_REGISTERED, r#"{"data":{}}"#);
        let Some(AutomaticIncident::Open(incident)) = rule_for(&unstated) else {
            panic!("expected an incident");
        };
        assert!(incident.description.contains("nie podano"));
        for (subject, otherwise) in [
            (subjects::ACCOUNTS_CREDENTIAL_ISSUED, true),
            (subjects::DELIVERY_DISPATCH_COMPLETED, false),
        ] {
            let Some(AutomaticIncident::AddToCase {
                case_number,
                position,
                otherwise: fallback,
            }) = rule_for(&record(subject, "{}"))
            else {
                panic!("{subject} adds to the case's incident");
            };
            assert_eq!(
                (case_number.as_str(), position),
                ("ZSZO-05/2026/000007", 41)
            );
            assert_eq!(fallback.is_some(), otherwise, "{subject}");
        }
    }

    #[test]
    fn an_issued_credential_of_a_case_without_an_incident_opens_one() {
        let r = record(subjects::ACCOUNTS_CREDENTIAL_ISSUED, "{}");
        let Some(AutomaticIncident::AddToCase {
            otherwise: Some(incident),
            ..
        }) = rule_for(&r)
        else {
            panic!("expected an incident");
        };
        assert_eq!(incident.category, IncidentCategory::StartingPasswordLoss);
        assert_eq!(incident.title, "Utrata hasła startowego");
        assert_eq!(incident.case_numbers, ["ZSZO-05/2026/000007"]);
        assert_eq!(incident.record_positions, [41]);
        assert_eq!(incident.opened_by, SYSTEM_OPENER);
        assert!(incident.opened_automatically);
    }

    #[test]
    fn only_a_refusal_from_the_wrong_local_database_opens_an_incident() {
        let wrong = record(
            subjects::REVOCATION_REQUEST_REFUSED,
            r#"{"data":{"reason":"wrong_local_database","request_id":"R-1"}}"#,
        );
        let Some(AutomaticIncident::Open(incident)) = rule_for(&wrong) else {
            panic!("expected an incident");
        };
        assert_eq!(
            incident.category,
            IncidentCategory::RevocationWrongLocalDatabase
        );
        assert_eq!(
            incident.title,
            "Odmowa cofnięcia upoważnienia z niewłaściwej lokalnej bazy danych"
        );
        assert!(
            incident
                .description
                .contains("nie jest to lokalna baza danych, w której udzielono upoważnienia"),
            "{}",
            incident.description
        );
        let named = record(
            subjects::REVOCATION_REQUEST_REFUSED,
            r#"{"data":{"reason":"wrong_local_database","authorisation_id":"UPW-1","local_database_id":"LBD-2"}}"#,
        );
        let Some(AutomaticIncident::Open(incident)) = rule_for(&named) else {
            panic!("expected an incident");
        };
        assert!(
            incident.description.starts_with(
                "Odmówiono cofnięcia upoważnienia UPW-1 z lokalnej bazy danych LBD-2,"
            ),
            "{}",
            incident.description
        );
        for body in [
            r#"{"data":{"reason":"incomplete"}}"#,
            r#"{"data":{}}"#,
            r#"{"reason":"wrong_local_database"}"#,
            "not json",
        ] {
            let r = record(subjects::REVOCATION_REQUEST_REFUSED, body);
            assert_eq!(rule_for(&r), None, "{body}");
        }
    }

    #[test]
    fn a_failed_login_asks_for_the_count_of_that_logins_failures() {
        let r = record(subjects::ACCOUNTS_LOGIN_FAILED, "{}");
        let Some(AutomaticIncident::CountFailedLogins {
            login,
            at,
            incident,
        }) = rule_for(&r)
        else {
            panic!("expected a count");
        };
        assert_eq!(login, "lzak");
        assert_eq!(at, r.occurred_at);
        assert_eq!(incident.category, IncidentCategory::RepeatedFailedLogins);
        assert_eq!(incident.subject_login.as_deref(), Some("lzak"));
        let mut anonymous = r.clone();
        anonymous.subject_login = None;
        assert_eq!(rule_for(&anonymous), None);
    }

    #[test]
    fn other_records_open_nothing() {
        for event_type in [
            subjects::INTAKE_CASE_REGISTERED,
            subjects::REVOCATION_REQUEST_DECIDED,
            EVENT_INCIDENT_OPENED,
            EVENT_INCIDENT_STATUS_CHANGED,
        ] {
            assert_eq!(rule_for(&record(event_type, "{}")), None, "{event_type}");
        }
    }

    #[test]
    fn a_failed_logins_description_gives_the_window_in_minutes() {
        assert_eq!(
            failed_logins_description("lzak", 5, 900),
            "Nieudane logowania na konto lzak: 5 w ciągu 15 min."
        );
    }

    #[test]
    fn opening_and_closing_are_recorded_under_ids_that_never_repeat() {
        let number = IncidentNumber {
            year: 2026,
            sequence: 3,
        };
        let r = record(subjects::INTAKE_CASE_REGISTERED, r#"{"data":{}}"#);
        let Some(AutomaticIncident::Open(new)) = rule_for(&r) else {
            panic!("expected an incident");
        };
        let opened = opened_record(number, &new, DateTime::UNIX_EPOCH);
        assert_eq!(opened.stream, "AUDIT");
        assert_eq!(opened.message_id, "INC/2026/000003:opened");
        assert_eq!(opened.event_type, EVENT_INCIDENT_OPENED);
        assert_eq!(opened.actor_kind.as_deref(), Some("system"));
        assert_eq!(opened.actor_id.as_deref(), Some("audit"));
        assert_eq!(opened.case_number.as_deref(), Some("ZSZO-05/2026/000007"));
        assert_eq!(opened.body["number"], "INC/2026/000003");
        assert_eq!(opened.body["category"], "starting_password_loss");
        assert_eq!(opened.body["title"], "Utrata hasła startowego");

        let incident = Incident {
            number,
            year: 2026,
            sequence: 3,
            category: new.category,
            status: IncidentStatus::Closed,
            title: new.title.clone(),
            description: new.description.clone(),
            subject_login: new.subject_login.clone(),
            opened_at: DateTime::UNIX_EPOCH,
            opened_by: new.opened_by.clone(),
            opened_automatically: true,
            closed_at: None,
            closed_by: None,
            closing_note: None,
            updated_at: DateTime::UNIX_EPOCH,
            case_numbers: new.case_numbers.clone(),
            record_positions: new.record_positions.clone(),
            history: Vec::new(),
        };
        let change =
            StatusChange::new(IncidentStatus::Closed, "admin", Some("wyjaśniono")).unwrap();
        let changed = status_changed_record(
            &incident,
            IncidentStatus::Registered,
            &change,
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(changed.message_id, "INC/2026/000003:closed");
        assert_eq!(changed.event_type, EVENT_INCIDENT_STATUS_CHANGED);
        assert_eq!(changed.actor_kind.as_deref(), Some("person"));
        assert_eq!(changed.actor_id.as_deref(), Some("admin"));
        assert_eq!(changed.body["from"], "registered");
        assert_eq!(changed.body["to"], "closed");
        assert_eq!(changed.body["note"], "wyjaśniono");
    }
}
