//! What a credentials letter says, and how its expiry is written for a Polish reader.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use secrecy::SecretString;

/// Which account the credentials open; decides the title and the advice in the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A user's account in ZSZO (procedure ZSZO-05).
    ZszoUser,
    /// An institution's PZO administrator account, held by its director (procedure PZO-01).
    PzoAdministrator,
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
    /// The case number, e.g. `ZSZO-05/2026/000001`.
    pub case_number: String,
    pub account: AccountKind,
}

/// `expires_at` in Polish local time and style: `30.11.2026 r., godz. 14:00`.
pub fn polish_date_time(at: DateTime<Utc>) -> String {
    let local = at + warsaw_offset(at);
    local.format("%d.%m.%Y r., godz. %H:%M").to_string()
}

/// Europe/Warsaw's offset from UTC at `at`: CET (+1 h), or CEST (+2 h) between the last
/// Sundays of March and October at 01:00 UTC. This is the EU rule (Directive 2000/84/EC)
/// that Poland follows; written out here rather than pulling a whole time-zone database
/// into the build for one zone. Should the EU rule change, this is the place.
fn warsaw_offset(at: DateTime<Utc>) -> Duration {
    let year = at.year();
    let summer_starts = last_sunday_at_one_utc(year, 3);
    let summer_ends = last_sunday_at_one_utc(year, 10);
    if (summer_starts..summer_ends).contains(&at) {
        Duration::hours(2)
    } else {
        Duration::hours(1)
    }
}

fn last_sunday_at_one_utc(year: i32, month: u32) -> DateTime<Utc> {
    // March and October both have 31 days; `year` comes from a valid `DateTime<Utc>`,
    // whose range is that of `NaiveDate`.
    let last_day = NaiveDate::from_ymd_opt(year, month, 31).expect("a valid 31st of the month");
    let back = i64::from(last_day.weekday().num_days_from_sunday());
    let sunday = last_day - Duration::days(back);
    Utc.from_utc_datetime(
        &sunday
            .and_hms_opt(1, 0, 0)
            .expect("01:00:00 is a valid time"),
    )
}

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
