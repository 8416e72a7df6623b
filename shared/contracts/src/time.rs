//! Times as people in the department read them: Warsaw's local time, Polish style.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

/// `expires_at` in Polish local time and style: `30.11.2026 r., godz. 14:00`.
pub fn polish_date_time(at: DateTime<Utc>) -> String {
    let local = at + warsaw_offset(at);
    local.format("%d.%m.%Y r., godz. %H:%M").to_string()
}

/// Europe/Warsaw's offset from UTC at `at`: CET (+1 h), or CEST (+2 h) between the last
/// Sundays of March and October at 01:00 UTC. This is the EU rule (Directive 2000/84/EC)
/// that Poland follows; written out here rather than pulling a whole time-zone database
/// into the build for one zone. Should the EU rule change, this is the place.
pub fn warsaw_offset(at: DateTime<Utc>) -> Duration {
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

/// A moment in a list, in Warsaw's time: `30.11.2026, 14:00`.
pub fn polish_short(at: DateTime<Utc>) -> String {
    (at + warsaw_offset(at))
        .format("%d.%m.%Y, %H:%M")
        .to_string()
}
