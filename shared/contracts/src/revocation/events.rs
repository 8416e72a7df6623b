//! The events of procedure D. A person is named by revocation's own id and a masked PESEL,
//! never the number itself; ids are revocation's.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RevocationMode, RevocationReason};
use crate::envelope::event_types;
use crate::subjects;

/// `revocation.request.created`: a request was saved in a local database's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationRequested {
    pub request_id: Uuid,
    pub mode: RevocationMode,
    /// The local database it was created in.
    pub local_database_id: String,
    /// The authorising body that reviews it.
    pub reviewer_unit_id: String,
    pub authorisation_id: String,
    pub person_id: String,
    pub pesel_masked: String,
    pub reason: RevocationReason,
}

/// Why a request or a review step was refused; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Mode 1 from a local database other than the one that granted the authorisation.
    WrongLocalDatabase,
    /// Mode 2 by someone who is not the local database's administrator.
    NotLocalDatabaseAdministrator,
    /// The person acting is not an active employee of the local database's unit.
    NotAnEmployeeOfTheUnit,
    /// Mode 1 for a person whose unit is not subordinate to the local database's unit.
    UnitNotSubordinate,
    /// Mode 2 for a person who is not an active employee of the administrator's unit.
    NotAnEmployeeOfOwnUnit,
    ReasonRequired,
    UnknownReason,
    /// The request was not confirmed in its own step.
    NotConfirmed,
    /// The authorisation is revoked already.
    AuthorisationNotActive,
    /// A request for this authorisation is still under way.
    AlreadyRequested,
    /// The request was decided already.
    AlreadyDecided,
    /// A decision on a request not marked "Przyjęty do rozpatrzenia" in this local database.
    NotUnderReview,
    /// The person who made the request may not decide it.
    OwnRequest,
}

impl RefusalReason {
    pub fn code(self) -> &'static str {
        match self {
            RefusalReason::WrongLocalDatabase => "wrong_local_database",
            RefusalReason::NotLocalDatabaseAdministrator => "not_local_database_administrator",
            RefusalReason::NotAnEmployeeOfTheUnit => "not_an_employee_of_the_unit",
            RefusalReason::UnitNotSubordinate => "unit_not_subordinate",
            RefusalReason::NotAnEmployeeOfOwnUnit => "not_an_employee_of_own_unit",
            RefusalReason::ReasonRequired => "reason_required",
            RefusalReason::UnknownReason => "unknown_reason",
            RefusalReason::NotConfirmed => "not_confirmed",
            RefusalReason::AuthorisationNotActive => "authorisation_not_active",
            RefusalReason::AlreadyRequested => "already_requested",
            RefusalReason::AlreadyDecided => "already_decided",
            RefusalReason::NotUnderReview => "not_under_review",
            RefusalReason::OwnRequest => "own_request",
        }
    }
}

/// `revocation.request.refused`: a request, or a step of its review, was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationRefused {
    pub reason: RefusalReason,
    /// The local database the refused step was asked in.
    pub local_database_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RevocationMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Uuid>,
    /// The refusal as the person read it (Polish).
    pub detail: String,
}

/// `revocation.request.fetched`: the authorising body fetched a waiting request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationFetched {
    pub request_id: Uuid,
    pub local_database_id: String,
}

/// `revocation.request.review-started`: marked "Przyjęty do rozpatrzenia".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationReviewStarted {
    pub request_id: Uuid,
    pub local_database_id: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RevocationDecision {
    /// The authorisation is revoked once the decision reaches the central system.
    Accepted,
    Rejected,
    /// "cofnięcie wniosku": the request is not given course.
    Withdrawn,
}

impl RevocationDecision {
    pub fn code(self) -> &'static str {
        match self {
            RevocationDecision::Accepted => "accepted",
            RevocationDecision::Rejected => "rejected",
            RevocationDecision::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Accepted, Self::Rejected, Self::Withdrawn]
            .into_iter()
            .find(|d| d.code() == code)
    }
}

/// `revocation.request.decided`: the authorising body decided a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevocationDecided {
    pub request_id: Uuid,
    pub decision: RevocationDecision,
    /// The request's reason, one of the form's five (not a case of art. 74 ust. 1).
    pub reason: RevocationReason,
    pub local_database_id: String,
    pub decided_at: DateTime<Utc>,
}

/// What a form of the communication panel carries to the central system.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// A new revocation request.
    Request,
    /// The status "Przyjęty do rozpatrzenia".
    ReviewStarted,
    /// The authorising body's decision.
    Decision,
}

impl FormKind {
    pub fn code(self) -> &'static str {
        match self {
            FormKind::Request => "request",
            FormKind::ReviewStarted => "review_started",
            FormKind::Decision => "decision",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Request, Self::ReviewStarted, Self::Decision]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// `revocation.form.sent`: a form left its local database for the central system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FormSent {
    pub form_id: Uuid,
    pub kind: FormKind,
    pub request_id: Uuid,
    pub local_database_id: String,
    /// Set for a decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<RevocationDecision>,
}

/// `revocation.form.delivered`: the central system acknowledged a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FormDelivered {
    pub form_id: Uuid,
    pub kind: FormKind,
    pub request_id: Uuid,
    pub local_database_id: String,
}

/// `revocation.form.completed`: a status check moved a form to "Zakończone".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FormCompleted {
    pub form_id: Uuid,
    pub kind: FormKind,
    pub request_id: Uuid,
    pub local_database_id: String,
    /// The local database checks automatically (no one ticked it).
    pub automatic: bool,
}

/// `revocation.authorisation.revoked`: the central register revoked an authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuthorisationRevoked {
    pub authorisation_id: String,
    pub request_id: Uuid,
    pub person_id: String,
    pub pesel_masked: String,
    pub reason: RevocationReason,
    /// The local database that granted it.
    pub granted_in: String,
    pub revoked_at: DateTime<Utc>,
}

/// `revocation.register.imported`: a register file was imported whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegisterImported {
    pub rows: u32,
    pub units: u32,
    pub local_databases: u32,
    pub people: u32,
    pub employees: u32,
    pub authorisations: u32,
}

event_types! {
    RevocationRequested => subjects::REVOCATION_REQUEST_CREATED,
    RevocationRefused => subjects::REVOCATION_REQUEST_REFUSED,
    RevocationFetched => subjects::REVOCATION_REQUEST_FETCHED,
    RevocationReviewStarted => subjects::REVOCATION_REQUEST_REVIEW_STARTED,
    RevocationDecided => subjects::REVOCATION_REQUEST_DECIDED,
    FormSent => subjects::REVOCATION_FORM_SENT,
    FormDelivered => subjects::REVOCATION_FORM_DELIVERED,
    FormCompleted => subjects::REVOCATION_FORM_COMPLETED,
    AuthorisationRevoked => subjects::REVOCATION_AUTHORISATION_REVOKED,
    RegisterImported => subjects::REVOCATION_REGISTER_IMPORTED,
}
