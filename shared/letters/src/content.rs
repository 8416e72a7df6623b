//! What a credentials letter says, and how its expiry is written for a Polish reader.

use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// Which account the credentials open; decides the title and the advice in the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A user's account in ZSZO (procedure ZSZO-05).
    ZszoUser,
    /// An institution's PZO administrator account, held by its director (procedure PZO-01).
    PzoAdministrator,
    /// A ZSZO account a local administrator just created (procedure C): the hand-over sheet.
    NewZszoAccount,
}

/// The first and last name of the person whose account it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub first_name: String,
    pub last_name: String,
}

/// Everything a credentials letter prints. `Debug` never shows the starting password
/// (`SecretString` prints as redacted).
#[derive(Debug)]
pub struct LetterContent {
    /// The institution's name, as registered.
    pub institution_name: String,
    /// The account holder; may be absent for an institution's PZO administrator account.
    pub person: Option<PersonName>,
    pub login: String,
    pub starting_password: SecretString,
    /// The access portal where the user logs in for the first time.
    pub portal_url: String,
    /// When the starting password stops working.
    pub expires_at: DateTime<Utc>,
    /// The case number, e.g. `ZSZO-05/2026/000001`; for a new account, when and by whom it
    /// was created.
    pub case_number: String,
    pub account: AccountKind,
}

pub use contracts::time::polish_date_time;

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_winter_time_is_one_hour_ahead_of_utc() {
        assert_eq!(
            polish_date_time(utc("2026-11-30T13:00:00Z")),
            "30.11.2026 r., godz. 14:00"
        );
    }

    #[test]
    fn a_summer_time_is_two_hours_ahead_of_utc() {
        assert_eq!(
            polish_date_time(utc("2026-07-01T06:05:00Z")),
            "01.07.2026 r., godz. 08:05"
        );
    }

    #[test]
    fn summer_time_starts_on_the_last_sunday_of_march_at_one_utc() {
        // 29 March 2026 is the last Sunday of March.
        assert_eq!(
            polish_date_time(utc("2026-03-29T00:59:00Z")),
            "29.03.2026 r., godz. 01:59"
        );
        assert_eq!(
            polish_date_time(utc("2026-03-29T01:00:00Z")),
            "29.03.2026 r., godz. 03:00"
        );
    }

    #[test]
    fn summer_time_ends_on_the_last_sunday_of_october_at_one_utc() {
        // 25 October 2026 is the last Sunday of October.
        assert_eq!(
            polish_date_time(utc("2026-10-25T00:59:00Z")),
            "25.10.2026 r., godz. 02:59"
        );
        assert_eq!(
            polish_date_time(utc("2026-10-25T01:00:00Z")),
            "25.10.2026 r., godz. 02:00"
        );
    }

    #[test]
    fn a_time_near_midnight_utc_moves_to_the_next_day() {
        assert_eq!(
            polish_date_time(utc("2026-12-31T23:30:00Z")),
            "01.01.2027 r., godz. 00:30"
        );
    }
}
