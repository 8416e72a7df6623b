//! Procedure D's vocabulary (seeds 003 and 004), kept apart as the seeds keep it: the FIVE
//! reasons a revocation request gives ("powód cofnięcia", one mandatory field of the form),
//! the FOUR cases of art. 74 ust. 1 of the act in which an authorisation is revoked (quoted
//! in the seeds' introduction), and the two modes of creating a request. Codes are stable;
//! labels are the seeds' words, verbatim.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod events;

/// The reason a revocation request gives: exactly one of the form's five.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// "odwołanie upoważnienia do dostępu do bazy danych SIO w imieniu kierownika podmiotu"
    AccessOnBehalfOfHeadWithdrawn,
    /// "odwołanie upoważnienia do reprezentowania podmiotu udzielającego upoważnień"
    RepresentationWithdrawn,
    /// "odwołanie ze stanowiska, rozwiązanie umowy lub wygaśnięcia mandatu kierownika podmiotu"
    HeadDismissed,
    /// "stwierdzenie, w trybie nadzoru, potrzeby ponownego przeprowadzenia procedury dostępu
    /// do bazy danych SIO"
    SupervisionReview,
    /// "udzielenie upoważnienia na podstawie nieprawdziwych lub nieaktualnych danych"
    FalseOrOutdatedData,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 5] = [
        RevocationReason::AccessOnBehalfOfHeadWithdrawn,
        RevocationReason::RepresentationWithdrawn,
        RevocationReason::HeadDismissed,
        RevocationReason::SupervisionReview,
        RevocationReason::FalseOrOutdatedData,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RevocationReason::AccessOnBehalfOfHeadWithdrawn => "access_on_behalf_of_head_withdrawn",
            RevocationReason::RepresentationWithdrawn => "representation_withdrawn",
            RevocationReason::HeadDismissed => "head_dismissed",
            RevocationReason::SupervisionReview => "supervision_review",
            RevocationReason::FalseOrOutdatedData => "false_or_outdated_data",
        }
    }

    pub fn parse(code: &str) -> Option<RevocationReason> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The seeds' words for it, as the form's list shows them.
    pub fn label(self) -> &'static str {
        match self {
            RevocationReason::AccessOnBehalfOfHeadWithdrawn => {
                "odwołanie upoważnienia do dostępu do bazy danych SIO w imieniu kierownika podmiotu"
            }
            RevocationReason::RepresentationWithdrawn => {
                "odwołanie upoważnienia do reprezentowania podmiotu udzielającego upoważnień"
            }
            RevocationReason::HeadDismissed => {
                "odwołanie ze stanowiska, rozwiązanie umowy lub wygaśnięcia mandatu kierownika podmiotu"
            }
            RevocationReason::SupervisionReview => {
                "stwierdzenie, w trybie nadzoru, potrzeby ponownego przeprowadzenia procedury \
                 dostępu do bazy danych SIO"
            }
            RevocationReason::FalseOrOutdatedData => {
                "udzielenie upoważnienia na podstawie nieprawdziwych lub nieaktualnych danych"
            }
        }
    }
}

/// A case of art. 74 ust. 1 of the act on the education information system in which an
/// authorisation is revoked: the law's four, not the form's five reasons.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StatutoryCase {
    /// "gdy upoważnienie zostało udzielone na podstawie nieprawdziwych lub nieaktualnych danych"
    FalseOrOutdatedData,
    /// "gdy kierownik podmiotu zobowiązanego do przekazywania danych do bazy danych SIO
    /// zostaje odwołany z zajmowanego stanowiska (wniosek składany przez podmiot, który
    /// odwołał kierownika podmiotu)"
    HeadDismissed,
    /// "cofnięcie upoważnienia pracownikowi podmiotu zobowiązanego do przekazywania danych do
    /// bazy danych SIO na wniosek upoważnionego pracownika lub kierownika tego podmiotu"
    EmployeeOnRequest,
    /// "w przypadku stwierdzenia potrzeby ponownego przeprowadzenia procedury weryfikacji
    /// dostępu do bazy danych SIO w trybie nadzoru sprawowanego przez ministra właściwego do
    /// spraw oświaty i wychowania"
    SupervisionReview,
}

impl StatutoryCase {
    pub const ALL: [StatutoryCase; 4] = [
        StatutoryCase::FalseOrOutdatedData,
        StatutoryCase::HeadDismissed,
        StatutoryCase::EmployeeOnRequest,
        StatutoryCase::SupervisionReview,
    ];

    pub fn code(self) -> &'static str {
        match self {
            StatutoryCase::FalseOrOutdatedData => "false_or_outdated_data",
            StatutoryCase::HeadDismissed => "head_dismissed",
            StatutoryCase::EmployeeOnRequest => "employee_on_request",
            StatutoryCase::SupervisionReview => "supervision_review",
        }
    }

    /// The act's words, as the seeds quote them.
    pub fn label(self) -> &'static str {
        match self {
            StatutoryCase::FalseOrOutdatedData => {
                "gdy upoważnienie zostało udzielone na podstawie nieprawdziwych lub nieaktualnych danych"
            }
            StatutoryCase::HeadDismissed => {
                "gdy kierownik podmiotu zobowiązanego do przekazywania danych do bazy danych SIO \
                 zostaje odwołany z zajmowanego stanowiska (wniosek składany przez podmiot, który \
                 odwołał kierownika podmiotu)"
            }
            StatutoryCase::EmployeeOnRequest => {
                "cofnięcie upoważnienia pracownikowi podmiotu zobowiązanego do przekazywania danych \
                 do bazy danych SIO na wniosek upoważnionego pracownika lub kierownika tego podmiotu"
            }
            StatutoryCase::SupervisionReview => {
                "w przypadku stwierdzenia potrzeby ponownego przeprowadzenia procedury weryfikacji \
                 dostępu do bazy danych SIO w trybie nadzoru sprawowanego przez ministra \
                 właściwego do spraw oświaty i wychowania"
            }
        }
    }
}

/// How a revocation request is created: the first screen's two choices.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RevocationMode {
    /// Mode 1: an authorised employee of the supervising unit, for a person whose application
    /// was approved in this local database.
    SubordinateUnit,
    /// Mode 2: the local database's administrator, for an active employee of his own unit.
    OwnUnit,
}

impl RevocationMode {
    pub fn code(self) -> &'static str {
        match self {
            RevocationMode::SubordinateUnit => "subordinate_unit",
            RevocationMode::OwnUnit => "own_unit",
        }
    }

    /// The seeds' label of the choice.
    pub fn label(self) -> &'static str {
        match self {
            RevocationMode::SubordinateUnit => {
                "Cofnij uprawnienia użytkownikowi z podrzędnej jednostki na podstawie \
                 rozpatrzonych wniosków"
            }
            RevocationMode::OwnUnit => {
                "Wybierz użytkownika z listy aktywnych pracowników Twojej jednostki"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_reasons_and_four_statutory_cases_each_with_its_own_stable_code() {
        assert_eq!(RevocationReason::ALL.len(), 5);
        assert_eq!(StatutoryCase::ALL.len(), 4);
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(reason.code()), Some(reason));
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, reason.code());
        }
        assert_eq!(RevocationReason::parse("ground_3"), None);
    }

    #[test]
    fn reasons_and_cases_are_not_the_same_list() {
        for reason in RevocationReason::ALL {
            assert!(
                StatutoryCase::ALL
                    .iter()
                    .all(|c| c.label() != reason.label())
            );
        }
        // Five reasons, five different labels.
        let labels: std::collections::HashSet<_> =
            RevocationReason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), 5);
    }
}
