//! The reply to a director who e-mailed his request (PZO-01): the case's outcome, in Polish,
//! to the address the request came from. It holds no secret: the credentials travel only in
//! the encrypted letter (or are collected in person).

use contracts::events::ReplyRequested;
use contracts::forms::{DeliveryMode, Procedure};
use contracts::seod_status::CaseStatus;

use super::texts::automatic_message;

fn account(procedure: Procedure, login: &str) -> String {
    match procedure {
        Procedure::Zszo05 => format!("konta ZSZO {login}"),
        Procedure::Pzo01 => format!("konta administratora PZO {login}"),
    }
}

fn outcome_word(reply: &ReplyRequested) -> &'static str {
    match reply.status {
        CaseStatus::Realised => "dane do odbioru osobiście",
        CaseStatus::Closed => "zrealizowany",
        CaseStatus::Rejected => "odrzucony",
        CaseStatus::Failed | CaseStatus::Expired => "niedoręczony",
        _ => "zmiana stanu",
    }
}

/// E.g. `Wniosek PZO-01/2026/000003: zrealizowany`.
pub fn reply_subject(reply: &ReplyRequested) -> String {
    format!("Wniosek {}: {}", reply.case_number, outcome_word(reply))
}

/// The body; `at` as [`crate::letter::polish_date_time`] writes it.
pub fn reply_body(reply: &ReplyRequested, at: &str) -> String {
    let request = format!(
        "wniosek o wygenerowanie nowego hasła do {} ({}), zarejestrowany jako sprawa {}",
        account(reply.procedure, &reply.target_login),
        reply.institution_name,
        reply.case_number
    );
    let reason = reply
        .rejection
        .as_ref()
        .map(|r| r.message.as_str())
        .unwrap_or("nie podano");
    let outcome = match (reply.status, reply.delivery) {
        (CaseStatus::Closed, DeliveryMode::Electronic) => format!(
            "Informujemy, że {request}, został zrealizowany {at}.\n\
             \n\
             Zaszyfrowane pismo z danymi dostępowymi wysłaliśmy na adres e-mail placówki \
             zarejestrowany w RSPO, a hasło do jego otwarcia – SMS-em na służbowy numer \
             telefonu komórkowego dyrektora. Hasło startowe trzeba zmienić przy pierwszym \
             logowaniu."
        ),
        (CaseStatus::Closed, DeliveryMode::InPerson) => format!(
            "Informujemy, że {request}, został zrealizowany: dane dostępowe odebrano osobiście \
             {at}. Hasło startowe trzeba zmienić przy pierwszym logowaniu."
        ),
        (CaseStatus::Realised, _) => format!(
            "Informujemy, że w odpowiedzi na {request}, {at} wygenerowano nowe hasło startowe.\n\
             \n\
             Dane dostępowe są do odbioru osobiście w Wydziale Edukacji. Odebrać je może \
             wnioskodawca, osoba, której sprawa dotyczy, albo pełnomocnik z pisemnym \
             upoważnieniem F-01; osoba odbierająca okazuje dokument tożsamości. Dane trzeba \
             odebrać, zanim hasło startowe straci ważność."
        ),
        (CaseStatus::Rejected, _) => format!(
            "Informujemy, że {request}, nie może zostać zrealizowany.\n\
             \n\
             Powód: {reason}"
        ),
        _ => format!(
            "Informujemy, że w sprawie {case} nie udało się doręczyć danych dostępowych \
             ({at}).\n\
             \n\
             Powód: {reason}\n\
             \n\
             Sprawą zajmie się administrator systemu.",
            case = reply.case_number
        ),
    };
    automatic_message(&outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::seod_status::Rejection;

    fn reply(status: CaseStatus, delivery: DeliveryMode) -> ReplyRequested {
        ReplyRequested {
            case_number: "PZO-01/2026/000003".into(),
            procedure: Procedure::Pzo01,
            institution_name: "Niepubliczna Szkoła Podstawowa „Żaczek” w Krakowie".into(),
            target_login: "pzo-admin-34567".into(),
            to: "dyrektor@zaczek.example.pl".into(),
            status,
            delivery,
            rejection: None,
            at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    const AT: &str = "30.11.2026 r., godz. 14:00";

    #[test]
    fn a_realised_request_says_where_the_credentials_went() {
        let r = reply(CaseStatus::Closed, DeliveryMode::Electronic);
        assert_eq!(
            reply_subject(&r),
            "Wniosek PZO-01/2026/000003: zrealizowany"
        );
        let body = reply_body(&r, AT);
        assert!(body.contains(
            "wniosek o wygenerowanie nowego hasła do konta administratora PZO pzo-admin-34567 \
             (Niepubliczna Szkoła Podstawowa „Żaczek” w Krakowie), zarejestrowany jako sprawa \
             PZO-01/2026/000003, został zrealizowany 30.11.2026 r., godz. 14:00."
        ));
        assert!(body.contains("SMS-em"));
    }

    #[test]
    fn an_in_person_collection_is_announced_with_the_rules_of_collection() {
        let body = reply_body(&reply(CaseStatus::Realised, DeliveryMode::InPerson), AT);
        assert!(body.contains("do odbioru osobiście w Wydziale Edukacji"));
        assert!(body.contains("F-01"));
        assert!(body.contains("dokument tożsamości"));
    }

    #[test]
    fn a_refusal_gives_its_reason() {
        let mut r = reply(CaseStatus::Rejected, DeliveryMode::Electronic);
        r.rejection = Some(Rejection {
            field: "requester.login".into(),
            code: "not_director".into(),
            message: "Wnioskodawca nie jest aktualnym dyrektorem tej placówki.".into(),
            detail: None,
        });
        assert_eq!(reply_subject(&r), "Wniosek PZO-01/2026/000003: odrzucony");
        let body = reply_body(&r, AT);
        assert!(body.contains("nie może zostać zrealizowany"));
        assert!(body.contains("Powód: Wnioskodawca nie jest aktualnym dyrektorem tej placówki."));
    }

    #[test]
    fn a_failed_delivery_says_an_administrator_takes_over() {
        let body = reply_body(&reply(CaseStatus::Failed, DeliveryMode::Electronic), AT);
        assert!(body.contains("nie udało się doręczyć"));
        assert!(body.contains("administrator systemu"));
    }
}
