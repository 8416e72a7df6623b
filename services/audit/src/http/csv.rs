//! CSV export of records (RFC 4180: quoted when needed, quotes doubled). A cell that a
//! spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return: OWASP's CSV injection) gets a leading apostrophe, so it is shown as text. A login
//! typed at sign-in or a form's field can carry such a value into the record.

use crate::store::records::RecordView;

const HEADER: &[&str] = &[
    "position",
    "occurred_at",
    "recorded_at",
    "event_type",
    "subject",
    "actor_kind",
    "actor_id",
    "institution_rspo_id",
    "case_number",
    "document_id",
    "subject_login",
    "revocation_request_id",
    "trace_id",
    "body",
];

pub fn render(rows: &[RecordView]) -> String {
    let mut out = String::new();
    line(&mut out, HEADER.iter().map(|s| (*s).to_owned()));
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        line(
            &mut out,
            [
                r.position.to_string(),
                r.occurred_at.to_rfc3339(),
                r.recorded_at.to_rfc3339(),
                r.event_type.clone(),
                r.subject.clone(),
                opt(&r.actor_kind),
                opt(&r.actor_id),
                opt(&r.institution_rspo_id),
                opt(&r.case_number),
                opt(&r.document_id),
                opt(&r.subject_login),
                opt(&r.revocation_request_id),
                opt(&r.trace_id),
                r.body.0.to_string(),
            ]
            .into_iter(),
        );
    }
    out
}

fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&escape(&field));
    }
    out.push_str("\r\n");
}

fn escape(field: &str) -> String {
    let neutral;
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutral = format!("'{field}");
        neutral.as_str()
    } else {
        field
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn fields_with_commas_quotes_or_newlines_are_quoted() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_made_text() {
        assert_eq!(
            escape("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(escape("+48600100200"), "'+48600100200");
        assert_eq!(escape("-1+1"), "'-1+1");
        assert_eq!(escape("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape("\tcmd"), "'\tcmd");
        assert_eq!(escape("2026-12-01"), "2026-12-01");
    }
}
