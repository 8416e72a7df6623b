//! What audit keeps of a message, decided without I/O.

use chrono::{DateTime, Utc};
use contracts::envelope::EnvelopeHeader;
use contracts::subjects;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub stream: String,
    pub stream_seq: i64,
    pub message_id: String,
    pub subject: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub trace_id: Option<String>,
    pub body: Value,
}

/// The parts of a message audit needs, as they came off the bus.
pub struct Observed<'a> {
    pub stream: &'a str,
    pub stream_seq: u64,
    pub message_id: &'a str,
    pub subject: &'a str,
    pub payload: &'a [u8],
    pub published: DateTime<Utc>,
    pub traceparent: Option<&'a str>,
    pub dead_letter_error: Option<&'a str>,
}

pub fn record_of(m: &Observed<'_>) -> EventRecord {
    let parsed: Option<Value> = serde_json::from_slice(m.payload).ok();
    let mut record = EventRecord {
        stream: m.stream.to_owned(),
        stream_seq: m.stream_seq as i64,
        message_id: m.message_id.to_owned(),
        subject: m.subject.to_owned(),
        event_type: m.subject.to_owned(),
        occurred_at: m.published,
        actor_kind: None,
        actor_id: None,
        institution_rspo_id: None,
        case_number: None,
        document_id: None,
        trace_id: m
            .traceparent
            .and_then(kit::propagation::trace_id_of)
            .map(str::to_owned),
        body: parsed
            .clone()
            .unwrap_or_else(|| json!({ "unparseable": true, "bytes": m.payload.len() })),
    };
    let Some(body) = parsed else { return record };
    let text = |v: &Value, path: &[&str]| -> Option<String> {
        path.iter()
            .try_fold(v, |v, k| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if m.subject.starts_with("seod.forms.") {
        record.event_type = "seod.form.received".to_owned();
        record.actor_kind = Some("seod".to_owned());
        record.actor_id = text(&body, &["requester", "login"]);
        record.institution_rspo_id = text(&body, &["institution", "rspo_id"]);
        record.document_id = text(&body, &["document_id"]);
    } else if m.subject.starts_with("seod.status.") {
        record.event_type = "seod.status.published".to_owned();
        record.actor_kind = Some("system".to_owned());
        record.actor_id = Some("intake".to_owned());
        record.case_number = text(&body, &["case_number"]);
        record.document_id = text(&body, &["document_id"]);
    } else if m.subject.starts_with(subjects::DEAD_LETTER_PREFIX) {
        record.event_type = "deadletter".to_owned();
        record.body = json!({ "error": m.dead_letter_error, "message": body });
    } else if let Ok(header) = serde_json::from_value::<EnvelopeHeader>(body.clone()) {
        record.event_type = header.kind;
        record.occurred_at = header.occurred_at;
        record.actor_kind = serde_json::to_value(&header.actor.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        record.actor_id = header.actor.id;
        record.institution_rspo_id = header.institution_rspo_id;
        record.case_number = header.case_number;
        record.document_id =
            text(&body, &["data", "document_id"]).or_else(|| text(&body, &["data", "correlation"]));
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed<'a>(subject: &'a str, payload: &'a [u8]) -> Observed<'a> {
        Observed {
            stream: "S",
            stream_seq: 7,
            message_id: "m",
            subject,
            payload,
            published: DateTime::UNIX_EPOCH,
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            dead_letter_error: None,
        }
    }

    #[test]
    fn an_enveloped_event_gives_its_actor_institution_and_case() {
        let body = br#"{"id":"0192f1c0-0000-7000-8000-000000000000","type":"intake.case.registered","version":1,
            "occurred_at":"2026-11-23T10:00:00Z","actor":{"kind":"seod","id":"jkowalski"},
            "institution_rspo_id":"12345","case_number":"ZSZO-05/2026/000001","data":{"document_id":"D1"}}"#;
        let r = record_of(&observed("intake.case.registered", body));
        assert_eq!(r.event_type, "intake.case.registered");
        assert_eq!(r.actor_id.as_deref(), Some("jkowalski"));
        assert_eq!(r.case_number.as_deref(), Some("ZSZO-05/2026/000001"));
        assert_eq!(r.document_id.as_deref(), Some("D1"));
        assert_eq!(
            r.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn an_unparseable_form_is_recorded_by_size_only() {
        let r = record_of(&observed("seod.forms.zszo.password-reset", b"not json"));
        assert_eq!(r.body, json!({"unparseable": true, "bytes": 8}));
        assert_eq!(r.event_type, "seod.forms.zszo.password-reset");
    }
}
