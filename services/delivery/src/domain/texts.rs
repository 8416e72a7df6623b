//! What the recipient reads: the e-mail that carries the encrypted letter (Polish, UTF-8,
//! nothing secret in it), the SMS that carries the cipher password (plain GSM-7 ASCII,
//! so that it stays one 160-character part), and the notice after a password change.

use contracts::forms::Procedure;
use secrecy::{ExposeSecret, SecretString};

use super::Package;

/// The facts an e-mail about one case states.
#[derive(Debug, Clone)]
pub struct MailFacts<'a> {
    pub procedure: Procedure,
    pub case_number: &'a str,
    pub institution_name: &'a str,
    /// Last digits of the director's mobile number, so he knows which phone to look at.
    pub mobile_ending: &'a str,
    pub package: Package,
    /// An earlier sending of this e-mail may have reached the mailbox (a try was
    /// interrupted after the relay took it): this one says it is the same letter again.
    pub repeats_earlier: bool,
}

fn account_phrase(procedure: Procedure) -> &'static str {
    match procedure {
        Procedure::Zszo05 => "konta ZSZO",
        Procedure::Pzo01 => "konta administratora PZO",
    }
}

/// E.g. `Dane dostępowe do konta ZSZO – sprawa ZSZO-05/2026/000001`.
pub fn mail_subject(procedure: Procedure, case_number: &str) -> String {
    format!(
        "Dane dostępowe do {} – sprawa {case_number}",
        account_phrase(procedure)
    )
}

pub fn mail_body(facts: &MailFacts<'_>) -> String {
    let MailFacts {
        procedure,
        case_number,
        institution_name,
        mobile_ending,
        package,
        repeats_earlier,
    } = facts;
    let file = match package {
        Package::Pdf => "Załączony plik PDF jest zaszyfrowany",
        Package::Zip => {
            "Załączone archiwum ZIP (z pismem w formacie PDF) jest zaszyfrowane algorytmem AES-256"
        }
    };
    let mut body = format!(
        "Dzień dobry,\n\
         \n\
         w załączniku przesyłamy pismo z danymi dostępowymi do {account} \
         w sprawie {case_number} ({institution_name}).\n\
         \n\
         {file}. Hasło do jego otwarcia wysłaliśmy osobno, SMS-em, na służbowy numer \
         telefonu komórkowego dyrektora placówki (numer kończący się cyframi {mobile_ending}). \
         Hasła nie przesyłamy pocztą elektroniczną.\n\
         \n\
         Prosimy przekazać dane użytkownikowi w bezpieczny sposób. Hasło startowe trzeba \
         zmienić przy pierwszym logowaniu w Portalu Dostępowym; jego termin ważności podaje pismo.\n",
        account = account_phrase(*procedure),
    );
    if *repeats_earlier {
        body.push_str(&format!(
            "\nUWAGA: jeżeli otrzymali Państwo już wiadomość w sprawie {case_number}, ta jest \
             jej ponownym wysłaniem: zawiera to samo pismo, a oba załączniki otwiera to samo \
             hasło z SMS-a.\n"
        ));
    }
    body.push_str(
        "\nJeżeli wiadomość trafiła do Państwa omyłkowo, prosimy ją usunąć i powiadomić \
         Wydział Edukacji.\n\
         \n\
         Wiadomość wysłana automatycznie – prosimy na nią nie odpowiadać.\n\
         \n\
         Wydział Edukacji\n",
    );
    body
}

/// `dane-dostepowe-ZSZO-05-2026-000001.pdf` (or `.zip`): plain ASCII, no path.
pub fn attachment_name(case_number: &str, extension: &str) -> String {
    let safe: String = case_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("dane-dostepowe-{safe}.{extension}")
}

/// The SMS with the cipher password, in GSM-7 ASCII (no Polish diacritics).
pub fn sms_text(case_number: &str, cipher_password: &SecretString) -> SecretString {
    SecretString::from(format!(
        "Haslo do pliku z danymi dostepowymi (sprawa {case_number}): {}. Nie udostepniaj go nikomu.",
        cipher_password.expose_secret()
    ))
}

/// Why uncollected credentials end: `delivery.dispatch.failed`'s reason (the contracts
/// have no event of their own for it), which SEOD shows the requester.
pub const UNCOLLECTED_REASON: &str = "Dane dostępowe nie zostały odebrane przed upływem \
     ważności hasła startowego; zostały zniszczone.";

/// E.g. `Zmiana hasła do konta lzak`.
pub fn notice_subject(login: &str) -> String {
    format!("Zmiana hasła do konta {login}")
}

/// The notice after a password change; `changed_at` as [`crate::letter::polish_date_time`]
/// writes it. It holds no secret: only the login and when.
pub fn notice_body(login: &str, changed_at: &str) -> String {
    automatic_message(&format!(
        "Hasło do konta {login} zostało zmienione {changed_at}. Jeśli to nie Ty, skontaktuj \
         się niezwłocznie z administratorem."
    ))
}

/// The e-mail that confirms a user's address; `expires_at` as `polish_date_time` writes it.
/// The link is the only secret in it, and works once.
pub fn confirmation_subject() -> String {
    "Potwierdź adres e-mail konta ZSZO".to_owned()
}

pub fn confirmation_body(person: &str, login: &str, link: &str, expires_at: &str) -> String {
    automatic_message(&format!(
        "{person}, ten adres e-mail podano w Portalu Dostępowym ZSZO dla konta {login}.\n\
         \n\
         Aby go potwierdzić i uruchomić konto, otwórz odnośnik:\n\
         {link}\n\
         \n\
         Odnośnik działa jeden raz, do {expires_at}. Jeśli to nie Ty podałeś(-aś) ten adres, \
         zignoruj tę wiadomość: bez potwierdzenia nic się nie zmieni."
    ))
}

/// To the local administrator who created an account: it is active; the institution's
/// forms are to be updated (seed 002, points 7 and 8), with their full titles.
pub fn activated_subject(login: &str) -> String {
    format!("Konto ZSZO {login} jest aktywne")
}

pub fn activated_body(person: &str, login: &str, activated_at: &str) -> String {
    automatic_message(&format!(
        "Konto użytkownika ZSZO {login} ({person}), utworzone przez Ciebie w Centralnym \
         Panelu Administracyjnym, jest aktywne od {activated_at}: pracownik potwierdził adres \
         e-mail.\n\
         \n\
         Zaktualizuj o nowe konto dokumenty zgodne z formularzami:\n\
         - F-02 Upoważnienie pracownika do przetwarzania danych osobowych,\n\
         - F-03 Ewidencja osób upoważnionych do przetwarzania danych osobowych,\n\
         - F-04 Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych.\n\
         \n\
         Wypełnione formularze przechowuje się w placówce; nie przesyła się ich do Wydziału \
         Edukacji. Wypełniony F-02 i nowy wiersz F-03 pobierzesz z karty pracownika w panelu."
    ))
}

/// A plain-text message the department sends without a person: greeting, `content`, and
/// the note not to reply.
pub fn automatic_message(content: &str) -> String {
    format!(
        "Dzień dobry,\n\
         \n\
         {content}\n\
         \n\
         Wiadomość wysłana automatycznie – prosimy na nią nie odpowiadać.\n\
         \n\
         Wydział Edukacji\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "ZSZO-05/2026/000001";

    fn facts(repeats_earlier: bool) -> MailFacts<'static> {
        MailFacts {
            procedure: Procedure::Zszo05,
            case_number: CASE,
            institution_name: "Szkoła Podstawowa nr 123 w Krakowie",
            mobile_ending: "289",
            package: Package::Pdf,
            repeats_earlier,
        }
    }

    #[test]
    fn the_subject_names_the_account_and_the_case() {
        assert_eq!(
            mail_subject(Procedure::Zszo05, CASE),
            "Dane dostępowe do konta ZSZO – sprawa ZSZO-05/2026/000001"
        );
        assert_eq!(
            mail_subject(Procedure::Pzo01, "PZO-01/2026/000042"),
            "Dane dostępowe do konta administratora PZO – sprawa PZO-01/2026/000042"
        );
    }

    #[test]
    fn the_body_says_the_letter_is_encrypted_and_the_password_comes_by_sms() {
        let body = mail_body(&facts(false));
        assert!(body.contains("zaszyfrowany"));
        assert!(body.contains("SMS-em"));
        assert!(body.contains("kończący się cyframi 289"));
        assert!(body.contains(CASE));
        assert!(!body.contains("ponownym wysłaniem"));
    }

    #[test]
    fn a_repeated_mail_says_it_is_the_same_letter_opened_by_the_same_sms() {
        let body = mail_body(&facts(true));
        assert!(body.contains("ponownym wysłaniem"), "{body}");
        assert!(body.contains("to samo hasło z SMS-a"), "{body}");
    }

    #[test]
    fn the_attachment_is_named_after_the_case_without_slashes() {
        assert_eq!(
            attachment_name(CASE, "pdf"),
            "dane-dostepowe-ZSZO-05-2026-000001.pdf"
        );
    }

    #[test]
    fn the_sms_is_plain_ascii_and_fits_one_part() {
        let cipher = SecretString::from("ABCDEFGHJKLMNPQR");
        let text = sms_text(CASE, &cipher);
        let text = text.expose_secret();
        assert!(text.is_ascii());
        assert!(text.len() <= 160, "{} characters", text.len());
        assert!(text.contains("ABCDEFGHJKLMNPQR"));
        // GSM-7's basic set has no `{}[]~\|^` (they take two septets) and no backtick.
        assert!(!text.contains(['{', '}', '[', ']', '~', '\\', '|', '^', '`']));
    }

    #[test]
    fn the_notice_names_the_account_and_the_time_and_nothing_else() {
        assert_eq!(notice_subject("lzak"), "Zmiana hasła do konta lzak");
        let body = notice_body("lzak", "30.11.2026 r., godz. 14:00");
        assert!(body.contains(
            "Hasło do konta lzak zostało zmienione 30.11.2026 r., godz. 14:00. Jeśli to nie \
             Ty, skontaktuj się niezwłocznie z administratorem."
        ));
    }

    #[test]
    fn the_reason_for_uncollected_credentials_is_the_agreed_sentence() {
        assert_eq!(
            UNCOLLECTED_REASON,
            "Dane dostępowe nie zostały odebrane przed upływem ważności hasła startowego; \
             zostały zniszczone."
        );
    }
}
