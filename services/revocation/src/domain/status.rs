//! What a person reads of a request's state and of a panel form.

use contracts::revocation::events::{FormKind, RevocationDecision};

/// The authorising body's side of a request, in the seeds' words where they have them.
pub fn review_status(started: bool, decision: Option<RevocationDecision>) -> &'static str {
    match (decision, started) {
        (Some(RevocationDecision::Accepted), _) => "Zaakceptowany",
        (Some(RevocationDecision::Rejected), _) => "Odrzucony",
        (Some(RevocationDecision::Withdrawn), _) => "Wniosek cofnięty",
        (None, true) => "Przyjęty do rozpatrzenia",
        (None, false) => "Oczekuje na rozpatrzenie",
    }
}

pub fn form_kind_label(kind: FormKind) -> &'static str {
    match kind {
        FormKind::Request => "Wniosek o cofnięcie upoważnienia",
        FormKind::ReviewStarted => "Zmiana statusu: Przyjęty do rozpatrzenia",
        FormKind::Decision => "Decyzja w sprawie wniosku",
    }
}

pub fn decision_label(decision: RevocationDecision) -> &'static str {
    match decision {
        RevocationDecision::Accepted => "akceptacja wniosku",
        RevocationDecision::Rejected => "odrzucenie wniosku",
        RevocationDecision::Withdrawn => "cofnięcie wniosku",
    }
}

/// A mode-2 request the central system has but the authorising body has not decided:
/// it stays in "Wysłane" with this tooltip (seed 004).
pub const QUEUED_FOR_AUTHORISING_BODY: &str =
    "Wysłane do kolejki powiadomień (do organu prowadzącego)";

/// The reminder after a request was confirmed (seed 004 for mode 1; seeds 003 and 004 for
/// mode 2).
pub fn reminder(mode: contracts::revocation::RevocationMode) -> &'static str {
    match mode {
        contracts::revocation::RevocationMode::SubordinateUnit => {
            "Pamiętaj o potrzebie przetworzenia formularza w Panelu komunikacji, aż formularz \
             znajdzie się w zakładce Zakończone."
        }
        contracts::revocation::RevocationMode::OwnUnit => {
            "Pamiętaj o konieczności wysłania danych do bazy danych SIO: wyślij wniosek \
             w Panelu komunikacji."
        }
    }
}
