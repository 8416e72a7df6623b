//! Values parsed at the edge. Each `parse` either gives a valid value or a reason
//! written for the person who filled the form (in Polish).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a value was refused: a stable code for machines and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ValueError {
    pub code: &'static str,
    pub message: &'static str,
}

const fn invalid(code: &'static str, message: &'static str) -> ValueError {
    ValueError { code, message }
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    /// A SEOD document's identifier; also a subject token, so SEOD can follow its status.
    DocumentId
);
string_value!(
    /// An institution's identifier in the national register RSPO.
    RspoId
);
string_value!(
    /// A user identifier (login) in ZSZO or PZO.
    Login
);
string_value!(
    /// A first or last name.
    PersonName
);
string_value!(
    /// An e-mail address, lower-cased.
    Email
);
string_value!(
    /// A PESEL number: personal data, shown masked wherever the full number is not needed.
    Pesel
);
string_value!(
    /// A Polish mobile number as MSISDN: `48` followed by nine digits.
    PhoneNumber
);

impl DocumentId {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if crate::subjects::is_subject_token(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid(
                "invalid_document_id",
                "Identyfikator dokumentu SEOD może zawierać tylko litery, cyfry, '-' i '_' (od 1 do 64 znaków).",
            ))
        }
    }
}

impl RspoId {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let ok = (1..=9).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_digit())
            && !s.starts_with('0');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid(
                "invalid_rspo_id",
                "Numer RSPO musi składać się z 1–9 cyfr i nie może zaczynać się od zera.",
            ))
        }
    }
}

impl Login {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let first_is_letter = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let ok = (3..=64).contains(&s.len())
            && first_is_letter
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(invalid(
                "invalid_login",
                "Login musi mieć od 3 do 64 znaków, zaczynać się literą i zawierać tylko litery łacińskie, cyfry, '.', '_' lub '-'.",
            ))
        }
    }
}

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let trimmed = s.trim();
        let count = trimmed.chars().count();
        let ok = (1..=100).contains(&count)
            && trimmed.chars().next().is_some_and(char::is_alphabetic)
            && trimmed
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\''));
        if ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(invalid(
                "invalid_name",
                "Imię i nazwisko mogą zawierać tylko litery, spacje, '-' i apostrof (do 100 znaków).",
            ))
        }
    }
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let error = invalid(
            "invalid_email",
            "Adres e-mail jest niepoprawny (oczekiwano postaci nazwa@domena.pl).",
        );
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(error);
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(error);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(error);
        }
        Ok(Self(s.to_ascii_lowercase()))
    }
}

impl Pesel {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        if !(s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()) && pesel_checksum_ok(s)) {
            return Err(invalid(
                "invalid_pesel",
                "Numer PESEL musi mieć 11 cyfr i poprawną cyfrę kontrolną.",
            ));
        }
        if pesel_birth_date(s).is_none() {
            return Err(invalid(
                "invalid_pesel_birth_date",
                "Numer PESEL zawiera niemożliwą datę urodzenia (cyfry 1–6).",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The date of birth its first six digits encode.
    pub fn birth_date(&self) -> chrono::NaiveDate {
        pesel_birth_date(&self.0).expect("checked when parsed")
    }

    /// Only the last two digits. Four would not do: with the birth date (the first six
    /// digits) known, the last four serial digits give the whole number, check digit included.
    pub fn masked(&self) -> String {
        format!("*********{}", &self.0[9..])
    }
}

/// YYMMDD, the century in the month: +80 for the 1800s, +0 the 1900s, +20 the 2000s, +40
/// the 2100s, +60 the 2200s.
fn pesel_birth_date(digits: &str) -> Option<chrono::NaiveDate> {
    let number = |range: std::ops::Range<usize>| digits.get(range)?.parse::<u32>().ok();
    let (yy, mm, dd) = (number(0..2)?, number(2..4)?, number(4..6)?);
    let (century, month) = match mm {
        81..=92 => (1800, mm - 80),
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(century + yy as i32, month, dd)
}

fn pesel_checksum_ok(digits: &str) -> bool {
    const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
    (10 - sum % 10) % 10 == d[10]
}

impl PhoneNumber {
    /// Accepts `600100200`, `+48 600 100 200`, `48-600-100-200` and the like.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let error = invalid(
            "invalid_phone",
            "Numer telefonu komórkowego musi mieć 9 cyfr, opcjonalnie poprzedzonych prefiksem +48.",
        );
        if !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'))
            || s.matches('+').count() > 1
            || s.chars()
                .take_while(|c| !c.is_ascii_digit())
                .all(|c| c != '+')
                && s.contains('+')
        {
            return Err(error);
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let national = match digits.len() {
            9 => digits.as_str(),
            11 if digits.starts_with("48") => &digits[2..],
            _ => return Err(error),
        };
        if national.starts_with('0') {
            return Err(error);
        }
        Ok(Self(format!("48{national}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_is_normalised_to_msisdn() {
        for input in [
            "600100200",
            "+48 600 100 200",
            "48-600-100-200",
            "(+48) 600100200",
        ] {
            assert_eq!(PhoneNumber::parse(input).unwrap().as_str(), "48600100200");
        }
    }

    #[test]
    fn a_phone_number_with_wrong_length_or_letters_is_refused() {
        for input in [
            "60010020",
            "6001002001",
            "+49600100200",
            "600-1OO-200",
            "",
            "60+0100200",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).unwrap_err().code,
                "invalid_phone",
                "{input}"
            );
        }
    }

    #[test]
    fn a_pesel_needs_its_check_digit_and_masks_all_but_two_digits() {
        let p = Pesel::parse("44051401359").unwrap();
        assert_eq!(p.masked(), "*********59");
        // With the birth date known, at least three serial digits stay unknown.
        assert_eq!(p.masked().matches('*').count(), 9);
        assert_eq!(
            Pesel::parse("44051401358").unwrap_err().code,
            "invalid_pesel"
        );
        assert!(Pesel::parse("4405140135").is_err());
        assert_eq!(
            p.birth_date(),
            chrono::NaiveDate::from_ymd_opt(1944, 5, 14).unwrap()
        );
        assert!(Pesel::parse("4405140135a").is_err());
    }

    fn with_check_digit(first_ten: &str) -> String {
        const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
        let sum: u32 = first_ten
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        format!("{first_ten}{}", (10 - sum % 10) % 10)
    }

    #[test]
    fn a_pesel_with_an_impossible_birth_date_is_refused_even_with_its_check_digit() {
        // 30 February 1944; the 13th month; 29 February of 2023, not a leap year.
        for ten in ["4402300135", "4413140135", "2322290135"] {
            assert_eq!(
                Pesel::parse(&with_check_digit(ten)).unwrap_err().code,
                "invalid_pesel_birth_date",
                "{ten}"
            );
        }
        // 29 February 2024, born in the 2000s (month + 20).
        let leap = Pesel::parse(&with_check_digit("2422290135")).unwrap();
        assert_eq!(
            leap.birth_date(),
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
    }

    #[test]
    fn an_rspo_id_is_digits_without_a_leading_zero() {
        assert!(RspoId::parse("12345").is_ok());
        for bad in ["", "012", "12a", "1234567890"] {
            assert!(RspoId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_login_is_lowercased_and_must_start_with_a_letter() {
        assert_eq!(Login::parse("ANowak").unwrap().as_str(), "anowak");
        for bad in ["1abc", "ab", "a b c", "anna@x", "łukasz"] {
            assert!(Login::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_polish_name_with_diacritics_is_accepted() {
        assert_eq!(PersonName::parse(" Łukasz ").unwrap().as_str(), "Łukasz");
        assert!(PersonName::parse("Żak-Źdźbło").is_ok());
        assert!(PersonName::parse("R2D2").is_err());
        assert!(PersonName::parse("").is_err());
    }

    #[test]
    fn an_email_needs_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            Email::parse("SP1@Edu.Krakow.PL").unwrap().as_str(),
            "sp1@edu.krakow.pl"
        );
        for bad in [
            "", "a@b", "@b.pl", "a b@c.pl", "a@b..pl", "a@.b.pl", "a@@b.pl",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
