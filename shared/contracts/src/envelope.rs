//! The envelope every internal event travels in, so audit can record who, what and when
//! without knowing each event's body.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A service acting on its own (automatic processing).
    System,
    /// SEOD, on behalf of the person who filed the form.
    Seod,
    /// A signed-in person (administrator, operator, director, auditor).
    Person,
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    pub kind: ActorKind,
    /// Login of the person, or the service's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Actor {
    pub fn system(service: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: Some(service.to_owned()),
            role: None,
        }
    }

    /// A signed-in person acting in `role`.
    pub fn person(login: &str, role: &str) -> Self {
        Self {
            kind: ActorKind::Person,
            id: Some(login.to_owned()),
            role: Some(role.to_owned()),
        }
    }

    pub fn seod(requester_login: &str) -> Self {
        Self {
            kind: ActorKind::Seod,
            id: Some(requester_login.to_owned()),
            role: Some("director".to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope<T> {
    /// Unique id of the event; also its `Nats-Msg-Id`.
    pub id: Uuid,
    /// The subject-like name of the event, e.g. `intake.case.registered`.
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_rspo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    pub data: T,
}

/// An event's body. It names its own type, which is also the subject it is published on,
/// so the two cannot disagree.
pub trait Event: Serialize {
    fn event_type(&self) -> Cow<'static, str>;
}

/// Implements [`Event`] for bodies that always travel under one type.
macro_rules! event_types {
    ($($body:ty => $subject:expr),* $(,)?) => {
        $(impl $crate::envelope::Event for $body {
            fn event_type(&self) -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($subject)
            }
        })*
    };
}
pub(crate) use event_types;

impl<T: Event> Envelope<T> {
    /// A new event (version 1) with a fresh id, its type taken from its body.
    pub fn new(actor: Actor, occurred_at: DateTime<Utc>, data: T) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: data.event_type().into_owned(),
            version: 1,
            occurred_at,
            actor,
            institution_rspo_id: None,
            case_number: None,
            data,
        }
    }

    pub fn institution(mut self, rspo_id: impl Into<String>) -> Self {
        self.institution_rspo_id = Some(rspo_id.into());
        self
    }

    pub fn case(mut self, case_number: impl Into<String>) -> Self {
        self.case_number = Some(case_number.into());
        self
    }

    /// The subject it is published on: its type.
    pub fn subject(&self) -> &str {
        &self.kind
    }
}

/// Why a message is not the event its subject promises.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a valid {subject} event: {error}")]
    Malformed {
        subject: String,
        error: serde_json::Error,
    },
    #[error("an event of type {kind} arrived on {subject}")]
    WrongType { kind: String, subject: String },
}

impl<T: serde::de::DeserializeOwned> Envelope<T> {
    /// Reads an event that arrived on `subject`; its type must be that subject, so that a
    /// body is never taken for more than its sender was allowed to publish.
    pub fn decode(subject: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        let envelope: Self =
            serde_json::from_slice(payload).map_err(|error| DecodeError::Malformed {
                subject: subject.to_owned(),
                error,
            })?;
        if envelope.kind != subject {
            return Err(DecodeError::WrongType {
                kind: envelope.kind,
                subject: subject.to_owned(),
            });
        }
        Ok(envelope)
    }
}

/// The envelope's fields without the body: what audit reads from any event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvelopeHeader {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(default)]
    pub institution_rspo_id: Option<String>,
    #[serde(default)]
    pub case_number: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{CaseTaken, RequestChecked, RequestOutcome};
    use crate::subjects;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000, 0).unwrap()
    }

    fn taken() -> Envelope<CaseTaken> {
        Envelope::new(
            Actor::person("akowalska", "administrator"),
            at(),
            CaseTaken {
                case_number: "ZSZO-05/2026/000001".into(),
                taken_by: "akowalska".into(),
            },
        )
        .case("ZSZO-05/2026/000001")
    }

    #[test]
    fn an_event_is_typed_and_published_by_its_body() {
        assert_eq!(taken().kind, subjects::INTAKE_CASE_TAKEN);
        let refused = RequestChecked {
            case_number: "X".into(),
            outcome: RequestOutcome::Refused,
            rejection: None,
            contact_updated: vec![],
        };
        let event = Envelope::new(Actor::system("accounts"), at(), refused);
        assert_eq!(event.subject(), subjects::ACCOUNTS_REQUEST_REFUSED);
    }

    #[test]
    fn an_event_decodes_only_on_the_subject_its_type_names() {
        let payload = serde_json::to_vec(&taken()).unwrap();
        let decoded = Envelope::<CaseTaken>::decode(subjects::INTAKE_CASE_TAKEN, &payload).unwrap();
        assert_eq!(decoded.data, taken().data);
        assert_eq!(decoded.case_number.as_deref(), Some("ZSZO-05/2026/000001"));
        let moved = Envelope::<CaseTaken>::decode(subjects::INTAKE_CASE_REGISTERED, &payload);
        assert!(
            matches!(moved, Err(DecodeError::WrongType { ref kind, .. }) if kind == subjects::INTAKE_CASE_TAKEN),
            "{moved:?}"
        );
        let garbage = Envelope::<CaseTaken>::decode(subjects::INTAKE_CASE_TAKEN, b"{}");
        assert!(matches!(garbage, Err(DecodeError::Malformed { .. })));
    }
}
