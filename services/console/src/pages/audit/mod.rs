//! The auditors' pages: the record of events searched and exported, the register of
//! security incidents, and the chain's verification with its checkpoints. audit owns all of
//! it and decides who may see and do what; these pages ask it with the signed-in person's
//! token and show its answer. A refusal that names what was sent wrong is shown next to the
//! field it names, with what was typed kept; any other refusal goes to `failure`.
//!
//! audit's problems name their parameter in the Polish `detail` („status”) more often than
//! in `field`; both are read, `field` first, so the pages keep working when audit names
//! fields in `field` everywhere.

mod incidents;
mod record;
mod verification;

pub use incidents::{change_status, incident, incidents, new_incident, open_incident};
pub use record::{record, record_csv};
pub use verification::{sign_checkpoint, verification};

use crate::upstream::UpstreamError;

pub use super::list::{Choice, choice};

/// What went wrong with one field of a form, in the service's words.
#[derive(Debug)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The message of the first error about `field`, if any.
pub fn error_of<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// A refusal that a form shows rather than a page of its own.
pub struct Refusal {
    pub status: u16,
    pub kind: String,
    /// The form's field at fault, when audit named one this form has.
    pub field: Option<&'static str>,
    pub message: String,
}

/// A field or parameter as audit names it, the form's field it is, and that field's label.
pub struct Name {
    pub theirs: &'static str,
    pub ours: &'static str,
    pub label: &'static str,
}

pub const fn name(theirs: &'static str, ours: &'static str, label: &'static str) -> Name {
    Name {
        theirs,
        ours,
        label,
    }
}

/// Reads audit's refusal of what a form sent, if its status is one of `statuses`; `names`
/// maps audit's names of fields and parameters to the form's. Anything else is handed back.
/// audit's words are kept, but the field they quote („title”) is called by its label.
pub fn form_refusal(
    error: UpstreamError,
    statuses: &[u16],
    names: &[Name],
) -> Result<Refusal, UpstreamError> {
    match error {
        UpstreamError::Refused {
            status,
            kind,
            title,
            detail,
            field,
        } if statuses.contains(&status) => {
            let mut message = detail.unwrap_or(title);
            let named = field_named(field.as_deref(), &message, names);
            if let Some(named) = named {
                message = message.replace(
                    &format!("„{}”", named.theirs),
                    &format!("„{}”", named.label),
                );
            }
            Ok(Refusal {
                status,
                field: named.map(|n| n.ours),
                kind,
                message,
            })
        }
        other => Err(other),
    }
}

/// The form's field that audit names: by the problem's `field`, else by the parameter its
/// detail quotes.
fn field_named<'a>(field: Option<&str>, detail: &str, names: &'a [Name]) -> Option<&'a Name> {
    if let Some(field) = field
        && let Some(named) = names.iter().find(|n| n.theirs == field)
    {
        return Some(named);
    }
    names
        .iter()
        .find(|n| detail.contains(&format!("„{}”", n.theirs)))
}

use super::{leave_notice, take_notice};

/// An incident's status as a Polish sentence names it ("incydent jest …").
pub fn status_label(status: &str) -> &str {
    STATUSES
        .iter()
        .find(|c| c.value == status)
        .map_or(status, |c| c.label)
}

pub fn category_label(category: &str) -> &str {
    CATEGORIES
        .iter()
        .find(|c| c.value == category)
        .map_or(category, |c| c.label)
}

pub const STATUSES: &[Choice] = &[
    choice("registered", "zarejestrowany"),
    choice("under_analysis", "w analizie"),
    choice("closed", "zamknięty"),
];

pub const CATEGORIES: &[Choice] = &[
    choice("starting_password_loss", "utrata hasła startowego"),
    choice(
        "repeated_failed_logins",
        "powtarzające się nieudane logowania",
    ),
    choice(
        "revocation_wrong_local_database",
        "cofnięcie upoważnienia z niewłaściwej lokalnej bazy danych",
    ),
    choice("other", "inny"),
];

/// `/sprawy/…` of a case number, the console's page of that case.
fn case_href(case_number: &str) -> String {
    format!("/sprawy/{case_number}")
}

/// `/audyt?after=…` showing the record at `position` first.
fn position_href(position: i64) -> String {
    format!("/audyt?after={}", position - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problems_field_wins_over_the_parameter_its_detail_quotes() {
        let names = [
            name("status", "status", "Nowy status"),
            name("note", "note", "Notatka"),
        ];
        let ours =
            |field: Option<&str>, detail: &str| field_named(field, detail, &names).map(|n| n.ours);
        assert_eq!(ours(Some("note"), "Pole „status”: nieznany"), Some("note"));
        assert_eq!(ours(None, "Pole „status”: nieznany status"), Some("status"));
        assert_eq!(ours(Some("by"), "Pole „by”"), None);
    }

    #[test]
    fn audits_words_call_the_field_by_its_label() {
        let refused = UpstreamError::Refused {
            status: 422,
            kind: "invalid-field".into(),
            title: "Niepoprawne dane żądania".into(),
            detail: Some("Pole „title” nie może być puste.".into()),
            field: None,
        };
        let refusal = form_refusal(refused, &[422], &[name("title", "title", "Tytuł")])
            .ok()
            .unwrap();
        assert_eq!(refusal.field, Some("title"));
        assert_eq!(refusal.message, "Pole „Tytuł” nie może być puste.");
    }

    #[test]
    fn labels_fall_back_to_the_code_audit_gave() {
        assert_eq!(status_label("under_analysis"), "w analizie");
        assert_eq!(category_label("fire"), "fire");
    }
}
