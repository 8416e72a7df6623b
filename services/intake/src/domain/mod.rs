//! Rules of cases, without I/O.

use chrono::{DateTime, Datelike, Utc};
use contracts::forms::Procedure;

/// `ZSZO-05/2026/000001`: the procedure, the year of registration, and a number that
/// runs per procedure and year.
pub fn case_number(procedure: Procedure, registered_at: DateTime<Utc>, sequence: i64) -> String {
    format!(
        "{}/{}/{:06}",
        procedure.code(),
        registered_at.year(),
        sequence
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_number_names_procedure_year_and_a_six_digit_sequence() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(case_number(Procedure::Zszo05, at, 1), "ZSZO-05/2026/000001");
        assert_eq!(
            case_number(Procedure::Pzo01, at, 1234567),
            "PZO-01/2026/1234567"
        );
    }
}
