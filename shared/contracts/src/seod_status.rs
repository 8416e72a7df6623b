//! What SEOD is told about its documents, on `seod.status.<document_id>`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Registered,
    Taken,
    Realised,
    Delivered,
    Collected,
    Closed,
    Rejected,
    Expired,
    Failed,
}

impl CaseStatus {
    /// A case in a terminal status changes no more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Closed | Self::Rejected | Self::Expired | Self::Failed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Taken => "taken",
            Self::Realised => "realised",
            Self::Delivered => "delivered",
            Self::Collected => "collected",
            Self::Closed => "closed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The status as a person reads it, in a sentence ("sprawa ma status …").
    pub fn polish(self) -> &'static str {
        match self {
            Self::Registered => "zarejestrowana",
            Self::Taken => "przyjęta do realizacji",
            Self::Realised => "zrealizowana",
            Self::Delivered => "doręczona",
            Self::Collected => "odebrana osobiście",
            Self::Closed => "zamknięta",
            Self::Rejected => "odrzucona",
            Self::Expired => "wygasła",
            Self::Failed => "niedoręczona",
        }
    }
}

/// Why something was refused: the field (a JSON path, `$` for the whole document),
/// a stable code, and a message for the person who filed it, in Polish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct Rejection {
    pub field: String,
    pub code: String,
    pub message: String,
    /// Technical detail for an integrator (e.g. the parser's own words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeodStatus {
    /// The SEOD document this is about (or, for a document without a usable id,
    /// the `Nats-Msg-Id` it was published with).
    pub document_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    pub status: CaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub at: DateTime<Utc>,
}
