//! The hash chain. Each record's hash covers the previous record's hash, its position and
//! every stored field, each length-prefixed so no two different records encode alike.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub const GENESIS: Hash = [0; 32];

/// A record as stored: what the hash covers.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredRecord {
    pub position: i64,
    pub stream: String,
    pub stream_seq: i64,
    pub message_id: String,
    pub subject: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    pub institution_rspo_id: Option<String>,
    pub case_number: Option<String>,
    pub document_id: Option<String>,
    pub subject_login: Option<String>,
    pub pesel_hash: Option<String>,
    pub revocation_request_id: Option<String>,
    pub trace_id: Option<String>,
    pub body: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// PostgreSQL keeps microseconds: a time is hashed as it will be read back.
pub fn to_stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub fn record_hash(prev: &[u8], r: &StoredRecord) -> Hash {
    let mut h = Sha256::new();
    h.update(b"klucznik-audit-record-v1\n");
    h.update(prev);
    h.update(r.position.to_be_bytes());
    let text = |h: &mut Sha256, s: Option<&str>| match s {
        Some(s) => {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update(u64::MAX.to_be_bytes()),
    };
    text(&mut h, Some(&r.stream));
    h.update(r.stream_seq.to_be_bytes());
    text(&mut h, Some(&r.message_id));
    text(&mut h, Some(&r.subject));
    text(&mut h, Some(&r.event_type));
    h.update(r.occurred_at.timestamp_micros().to_be_bytes());
    h.update(r.recorded_at.timestamp_micros().to_be_bytes());
    for field in [
        &r.actor_kind,
        &r.actor_id,
        &r.institution_rspo_id,
        &r.case_number,
        &r.document_id,
        &r.subject_login,
        &r.pesel_hash,
        &r.revocation_request_id,
        &r.trace_id,
    ] {
        text(&mut h, field.as_deref());
    }
    text(&mut h, Some(&r.body));
    h.finalize().into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(position: i64) -> StoredRecord {
        StoredRecord {
            position,
            stream: "INTAKE".into(),
            stream_seq: position,
            message_id: format!("m{position}"),
            subject: "intake.case.registered".into(),
            event_type: "intake.case.registered".into(),
            occurred_at: DateTime::UNIX_EPOCH,
            recorded_at: DateTime::UNIX_EPOCH,
            actor_kind: Some("seod".into()),
            actor_id: None,
            institution_rspo_id: Some("12345".into()),
            case_number: None,
            document_id: None,
            subject_login: None,
            pesel_hash: None,
            revocation_request_id: None,
            trace_id: None,
            body: "{}".into(),
            prev_hash: Vec::new(),
            hash: Vec::new(),
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = sample(1);
        let h = record_hash(&GENESIS, &base);
        let mut other = base.clone();
        other.actor_id = Some(String::new());
        assert_ne!(record_hash(&GENESIS, &other), h, "None and empty differ");
        let mut other = base.clone();
        other.body = "{ }".into();
        assert_ne!(record_hash(&GENESIS, &other), h);
        let mut other = base.clone();
        other.position = 2;
        assert_ne!(record_hash(&GENESIS, &other), h);
        assert_ne!(record_hash(&[1; 32], &base), h);
    }

    #[test]
    fn adjacent_fields_cannot_trade_bytes() {
        let mut a = sample(1);
        a.stream = "AB".into();
        a.message_id = "C".into();
        let mut b = sample(1);
        b.stream = "A".into();
        b.message_id = "BC".into();
        assert_ne!(record_hash(&GENESIS, &a), record_hash(&GENESIS, &b));
    }
}
