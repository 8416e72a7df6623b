//! The envelope every internal event travels in, so audit can record who, what and when
//! without knowing each event's body.

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
