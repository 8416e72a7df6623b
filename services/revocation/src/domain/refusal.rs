//! A refusal of a request or of a review step: its reason (stable code, recorded on the bus
//! for audit), the HTTP status and the Polish words the person reads. Nothing changes.

use contracts::revocation::events::RefusalReason;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub detail: String,
}

impl Refusal {
    pub fn new(reason: RefusalReason) -> Self {
        Self {
            reason,
            detail: detail(reason).to_owned(),
        }
    }

    pub fn with_detail(reason: RefusalReason, detail: String) -> Self {
        Self { reason, detail }
    }

    /// 403 where the person may not, 422 where the form is incomplete, 409 where the
    /// state of the request forbids it.
    pub fn status(&self) -> u16 {
        match self.reason {
            RefusalReason::WrongLocalDatabase
            | RefusalReason::NotLocalDatabaseAdministrator
            | RefusalReason::NotAnEmployeeOfTheUnit
            | RefusalReason::UnitNotSubordinate
            | RefusalReason::NotAnEmployeeOfOwnUnit
            | RefusalReason::OwnRequest => 403,
            RefusalReason::ReasonRequired
            | RefusalReason::UnknownReason
            | RefusalReason::NotConfirmed => 422,
            RefusalReason::AuthorisationNotActive
            | RefusalReason::AlreadyRequested
            | RefusalReason::AlreadyDecided
            | RefusalReason::NotUnderReview => 409,
        }
    }

    /// The problem's type: the code, kebab-case.
    pub fn kind(&self) -> String {
        self.reason.code().replace('_', "-")
    }

    pub fn title(&self) -> &'static str {
        match self.status() {
            403 => "Brak uprawnień",
            422 => "Wniosek jest niekompletny",
            _ => "Nie można wykonać tej czynności",
        }
    }
}

fn detail(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::WrongLocalDatabase => {
            "Upoważnienie można cofnąć tylko z tej lokalnej bazy danych, w której zostało \
             udzielone."
        }
        RefusalReason::NotLocalDatabaseAdministrator => {
            "Listę aktywnych pracowników jednostki widzi i cofa z niej upoważnienia tylko \
             administrator lokalnej bazy danych (dyrektor szkoły, wójt lub burmistrz)."
        }
        RefusalReason::NotAnEmployeeOfTheUnit => {
            "Nie jesteś aktywnym pracownikiem jednostki, do której należy ta lokalna baza danych."
        }
        RefusalReason::UnitNotSubordinate => {
            "Osoba reprezentuje jednostkę, która nie jest podrzędna wobec jednostki tej lokalnej \
             bazy danych."
        }
        RefusalReason::NotAnEmployeeOfOwnUnit => {
            "Osoba nie jest aktywnym pracownikiem Twojej jednostki."
        }
        RefusalReason::ReasonRequired => {
            "Wybierz powód cofnięcia upoważnienia: pole jest obligatoryjne."
        }
        RefusalReason::UnknownReason => {
            "Nieznany powód cofnięcia upoważnienia: wybierz jeden z pięciu z listy."
        }
        RefusalReason::NotConfirmed => {
            "Wniosek nie został potwierdzony: potwierdź chęć cofnięcia upoważnienia."
        }
        RefusalReason::AuthorisationNotActive => "To upoważnienie zostało już cofnięte.",
        RefusalReason::AlreadyRequested => {
            "Dla tego upoważnienia jest już wniosek o cofnięcie w toku."
        }
        RefusalReason::AlreadyDecided => "Ten wniosek został już rozpatrzony.",
        RefusalReason::OwnRequest => {
            "Wniosku nie rozpatruje osoba, która go złożyła: decyzję podejmuje inny pracownik \
             organu upoważniającego."
        }
        RefusalReason::NotUnderReview => {
            "Wniosek nie jest oznaczony w tej lokalnej bazie danych jako „Przyjęty do \
             rozpatrzenia”."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_kind_and_polish_words() {
        let all = [
            RefusalReason::WrongLocalDatabase,
            RefusalReason::NotLocalDatabaseAdministrator,
            RefusalReason::NotAnEmployeeOfTheUnit,
            RefusalReason::UnitNotSubordinate,
            RefusalReason::NotAnEmployeeOfOwnUnit,
            RefusalReason::ReasonRequired,
            RefusalReason::UnknownReason,
            RefusalReason::NotConfirmed,
            RefusalReason::AuthorisationNotActive,
            RefusalReason::AlreadyRequested,
            RefusalReason::AlreadyDecided,
            RefusalReason::NotUnderReview,
            RefusalReason::OwnRequest,
        ];
        let kinds: std::collections::HashSet<_> =
            all.iter().map(|r| Refusal::new(*r).kind()).collect();
        assert_eq!(kinds.len(), all.len());
        assert_eq!(
            Refusal::new(RefusalReason::WrongLocalDatabase).kind(),
            "wrong-local-database"
        );
        for r in all {
            let refusal = Refusal::new(r);
            assert!(refusal.detail.ends_with('.'), "{}", refusal.detail);
            assert!([403, 409, 422].contains(&refusal.status()));
        }
    }
}
