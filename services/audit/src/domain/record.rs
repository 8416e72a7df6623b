//! What audit keeps of a message: who, what, when, which institution, case and person,
//! which trace, and the body minimised.

use chrono::{DateTime, Utc};
use contracts::envelope::EnvelopeHeader;
use contracts::subjects;
use serde_json::{Value, json};

use super::chain::{StoredRecord, record_hash, to_stored_precision};
use super::minimise::Minimiser;

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
    pub subject_login: Option<String>,
    pub pesel_hash: Option<String>,
    pub revocation_request_id: Option<String>,
    pub trace_id: Option<String>,
    pub body: Value,
}

/// A record audit writes about itself (its incident register, a prune), on its own stream:
/// read from no stream, so its stream sequence is 0 and its message id names it.
pub fn own_record(
    message_id: String,
    event_type: &str,
    at: DateTime<Utc>,
    body: Value,
) -> EventRecord {
    EventRecord {
        stream: contracts::streams::AUDIT.name.to_owned(),
        stream_seq: 0,
        message_id,
        subject: event_type.to_owned(),
        event_type: event_type.to_owned(),
        occurred_at: at,
        actor_kind: None,
        actor_id: None,
        institution_rspo_id: None,
        case_number: None,
        document_id: None,
        subject_login: None,
        pesel_hash: None,
        revocation_request_id: None,
        trace_id: None,
        body,
    }
}

impl EventRecord {
    /// The record as the chain stores it, at `position` after a record hashed `prev`.
    pub fn chain(self, position: i64, prev: &[u8], recorded_at: DateTime<Utc>) -> StoredRecord {
        let mut stored = StoredRecord {
            position,
            stream: self.stream,
            stream_seq: self.stream_seq,
            message_id: self.message_id,
            subject: self.subject,
            event_type: self.event_type,
            occurred_at: to_stored_precision(self.occurred_at),
            recorded_at: to_stored_precision(recorded_at),
            actor_kind: self.actor_kind,
            actor_id: self.actor_id,
            institution_rspo_id: self.institution_rspo_id,
            case_number: self.case_number,
            document_id: self.document_id,
            subject_login: self.subject_login,
            pesel_hash: self.pesel_hash,
            revocation_request_id: self.revocation_request_id,
            trace_id: self.trace_id,
            body: self.body.to_string(),
            prev_hash: prev.to_vec(),
            hash: Vec::new(),
        };
        stored.hash = record_hash(prev, &stored).to_vec();
        stored
    }
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

fn text(v: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub fn record_of(m: &Observed<'_>, minimiser: &Minimiser) -> EventRecord {
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
        subject_login: None,
        pesel_hash: None,
        revocation_request_id: None,
        trace_id: m
            .traceparent
            .and_then(kit::propagation::trace_id_of)
            .map(str::to_owned),
        body: json!({ "unparseable": true, "bytes": m.payload.len() }),
    };
    let Some(mut body) = parsed else {
        return record;
    };
    if m.subject.starts_with("seod.forms.") {
        record.event_type = "seod.form.received".to_owned();
        record.actor_kind = Some("seod".to_owned());
        record.actor_id = text(&body, &["requester", "login"]);
        record.institution_rspo_id = text(&body, &["institution", "rspo_id"]);
        record.document_id = text(&body, &["document_id"]);
        record.subject_login = text(&body, &["account", "login"])
            .or_else(|| text(&body, &["account", "pzo_identifier"]));
    } else if m.subject.starts_with("seod.status.") {
        record.event_type = "seod.status.published".to_owned();
        record.actor_kind = Some("system".to_owned());
        record.actor_id = Some("intake".to_owned());
        record.case_number = text(&body, &["case_number"]);
        record.document_id = text(&body, &["document_id"]);
    } else if m.subject.starts_with(subjects::DEAD_LETTER_PREFIX) {
        record.event_type = "deadletter".to_owned();
        body = json!({ "error": m.dead_letter_error, "message": body });
    } else if let Ok(header) = serde_json::from_value::<EnvelopeHeader>(body.clone()) {
        // The event's own id, not the transport's: an event published again under another
        // message id is still recorded once.
        record.message_id = header.id.to_string();
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
        record.subject_login = ["target_login", "login", "subject_login"]
            .iter()
            .find_map(|k| text(&body, &["data", k]));
        if m.subject.starts_with("revocation.") {
            record.revocation_request_id = text(&body, &["data", "request_id"]);
        }
    }
    record.pesel_hash = minimiser.minimise(&mut body);
    record.body = body;
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

    fn minimiser() -> Minimiser {
        Minimiser::new(b"test".to_vec())
    }

    #[test]
    fn an_enveloped_event_gives_its_actor_institution_case_and_person() {
        let body = br#"{"id":"0192f1c0-0000-7000-8000-000000000000","type":"intake.case.registered","version":1,
            "occurred_at":"2026-11-23T10:00:00Z","actor":{"kind":"seod","id":"jkowalski"},
            "institution_rspo_id":"12345","case_number":"ZSZO-05/2026/000001",
            "data":{"document_id":"D1","target_login":"lzak"}}"#;
        let r = record_of(&observed("intake.case.registered", body), &minimiser());
        assert_eq!(r.event_type, "intake.case.registered");
        assert_eq!(r.actor_id.as_deref(), Some("jkowalski"));
        assert_eq!(r.case_number.as_deref(), Some("ZSZO-05/2026/000001"));
        assert_eq!(r.document_id.as_deref(), Some("D1"));
        assert_eq!(r.subject_login.as_deref(), Some("lzak"));
        assert_eq!(
            r.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn a_revocation_event_is_found_by_its_request_and_its_pesel_only_hashed() {
        let body = br#"{"id":"0192f1c0-0000-7000-8000-000000000000","type":"revocation.request.decided","version":1,
            "occurred_at":"2026-11-23T10:00:00Z","actor":{"kind":"person","id":"organ1"},
            "data":{"request_id":"R-7","pesel":"44051401359","ground":3}}"#;
        let r = record_of(&observed("revocation.request.decided", body), &minimiser());
        assert_eq!(r.revocation_request_id.as_deref(), Some("R-7"));
        assert!(r.pesel_hash.is_some());
        assert!(!r.body.to_string().contains("44051401359"));
    }

    #[test]
    fn an_unparseable_form_is_recorded_by_size_only() {
        let r = record_of(
            &observed("seod.forms.zszo.password-reset", b"not json"),
            &minimiser(),
        );
        assert_eq!(r.body, json!({"unparseable": true, "bytes": 8}));
        assert_eq!(r.event_type, "seod.forms.zszo.password-reset");
    }
}
