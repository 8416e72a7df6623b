//! The director's official mobile number as SMS gateways take it: `48` and nine digits
//! (MSISDN), whatever spacing or prefix it was registered with.

use std::fmt;

/// A Polish mobile number, `48XXXXXXXXX`.
#[derive(Clone, PartialEq, Eq)]
pub struct Msisdn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    #[error("no mobile number is registered")]
    Missing,
    #[error("the mobile number is not a Polish number of nine digits")]
    Invalid,
}

impl Msisdn {
    /// Accepts `600 100 200`, `600-100-200`, `+48 600 100 200`, `0048600100200` and
    /// `48600100200`; anything else is refused rather than guessed.
    pub fn parse(raw: &str) -> Result<Self, MsisdnError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{a0}'))
            .collect();
        if compact.is_empty() {
            return Err(MsisdnError::Missing);
        }
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest.to_owned()
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest.to_owned()
        } else if compact.len() == 9 {
            format!("48{compact}")
        } else {
            compact
        };
        let valid = digits.len() == 11
            && digits.starts_with("48")
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits[2..].starts_with('0');
        if valid {
            Ok(Self(digits))
        } else {
            Err(MsisdnError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last three digits, enough for the recipient to know which phone to look at.
    pub fn ending(&self) -> &str {
        &self.0[self.0.len() - 3..]
    }
}

/// Logs show only the ending: a phone number is personal data.
impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn(48******{})", self.ending())
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "48******{}", self.ending())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_written_in_any_usual_way_becomes_48_and_nine_digits() {
        for raw in [
            "600100200",
            "600 100 200",
            "600-100-200",
            "+48 600 100 200",
            "0048600100200",
            "48600100200",
            "(+48) 600.100.200",
        ] {
            assert_eq!(Msisdn::parse(raw).unwrap().as_str(), "48600100200", "{raw}");
        }
    }

    #[test]
    fn a_foreign_short_long_or_lettered_number_is_refused() {
        for raw in [
            "+49 600 100 200",
            "60010020",
            "6001002001",
            "48 600 100 20x",
            "+48 060 100 200",
        ] {
            assert_eq!(Msisdn::parse(raw), Err(MsisdnError::Invalid), "{raw}");
        }
        assert_eq!(Msisdn::parse("  "), Err(MsisdnError::Missing));
    }

    #[test]
    fn only_the_last_three_digits_are_shown() {
        let number = Msisdn::parse("600100289").unwrap();
        assert_eq!(number.to_string(), "48******289");
        assert_eq!(format!("{number:?}"), "Msisdn(48******289)");
        assert_eq!(number.ending(), "289");
    }
}
