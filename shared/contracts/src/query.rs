//! Request/reply queries served over core NATS.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::seod_status::{CaseStatus, Rejection};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseQuery {
    pub case_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct StatusEntry {
    pub status: CaseStatus,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct CaseView {
    pub case_number: String,
    pub procedure: String,
    pub document_id: String,
    pub status: CaseStatus,
    pub institution_rspo_id: String,
    pub target_login: String,
    pub registered_at: DateTime<Utc>,
    pub history: Vec<StatusEntry>,
    /// Why the case was rejected or failed: the field, a code and a Polish message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CaseQueryReply {
    Found { case: Box<CaseView> },
    NotFound { message: String },
    Invalid { message: String },
}
