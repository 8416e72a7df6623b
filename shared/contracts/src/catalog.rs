//! Which message travels on which subject, who publishes it and who consumes it.
//! The AsyncAPI document and the JSON Schemas in `proto-schemas/` are generated from this.

use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::envelope::Envelope;
use crate::events::{
    AccessRefused, AuditCheckpoint, CaseClosed, CaseRegistered, CaseTaken, CollectionRefused,
    CredentialIssued, DeliveryAgreed, DispatchCompleted, DispatchFailed, FormRejected, LoginFailed,
    PasswordChanged, RealisationRequested, ReplyRequested, RequestChecked, RevocationDecided,
    SessionsEnded, TotpEnrolmentPrepared,
};
use crate::events::{
    AccountStepRecorded, EmailConfirmationRequested, LocalAdminChanged, StaffImported,
};
use crate::forms::{PzoPasswordResetForm, ZszoPasswordResetForm};
use crate::query::{CaseQuery, CaseQueryReply};
use crate::seod_status::SeodStatus;
use crate::subjects;

pub struct MessageSpec {
    /// Name of the message and of its schema file.
    pub name: &'static str,
    /// The subject, with `{document_id}` for a parameter.
    pub address: &'static str,
    pub summary: &'static str,
    pub publishers: &'static [&'static str],
    pub consumers: &'static [&'static str],
    pub schema: fn(&mut SchemaGenerator) -> Schema,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.root_schema_for::<T>()
}

pub const ALL_SERVICES: &[&str] = &["intake", "accounts", "delivery", "revocation", "audit"];

pub fn messages() -> Vec<MessageSpec> {
    vec![
        MessageSpec {
            name: "ZszoPasswordResetForm",
            address: subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            summary: "SEOD form ZSZO-05: a new starting password for a ZSZO user",
            publishers: &["seod"],
            consumers: &["intake", "audit"],
            schema: schema_of::<ZszoPasswordResetForm>,
        },
        MessageSpec {
            name: "PzoPasswordResetForm",
            address: subjects::SEOD_FORM_PZO_PASSWORD_RESET,
            summary: "SEOD form PZO-01: a new password for the institution's PZO administrator account",
            publishers: &["seod"],
            consumers: &["intake", "audit"],
            schema: schema_of::<PzoPasswordResetForm>,
        },
        MessageSpec {
            name: "SeodStatus",
            address: "seod.status.{document_id}",
            summary: "The status of a SEOD document's case, or its rejection with the field and reason",
            publishers: &["intake"],
            consumers: &["seod", "audit"],
            schema: schema_of::<SeodStatus>,
        },
        MessageSpec {
            name: "CaseRegistered",
            address: subjects::INTAKE_CASE_REGISTERED,
            summary: "A valid request became a numbered case",
            publishers: &["intake"],
            consumers: &["accounts", "audit"],
            schema: schema_of::<Envelope<CaseRegistered>>,
        },
        MessageSpec {
            name: "FormRejected",
            address: subjects::INTAKE_FORM_REJECTED,
            summary: "A form was refused; nothing was recorded as a case",
            publishers: &["intake"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<FormRejected>>,
        },
        MessageSpec {
            name: "RealisationRequested",
            address: subjects::INTAKE_CASE_REALISATION_REQUESTED,
            summary: "Generate a new starting password for a case (an administrator realised it)",
            publishers: &["intake"],
            consumers: &["accounts", "audit"],
            schema: schema_of::<Envelope<RealisationRequested>>,
        },
        MessageSpec {
            name: "CaseTaken",
            address: subjects::INTAKE_CASE_TAKEN,
            summary: "An administrator took a case from the queue to realise it",
            publishers: &["intake"],
            consumers: &["accounts", "audit"],
            schema: schema_of::<Envelope<CaseTaken>>,
        },
        MessageSpec {
            name: "CaseClosed",
            address: subjects::INTAKE_CASE_CLOSED,
            summary: "An administrator closed a failed, refused or expired case with a note",
            publishers: &["intake"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<CaseClosed>>,
        },
        MessageSpec {
            name: "DeliveryAgreed",
            address: subjects::INTAKE_CASE_DELIVERY_AGREED,
            summary: "The requester agreed to collection in person (recorded by someone other than the realiser)",
            publishers: &["intake"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<DeliveryAgreed>>,
        },
        MessageSpec {
            name: "ReplyRequested",
            address: subjects::INTAKE_REPLY_REQUESTED,
            summary: "Confirm a case's outcome by e-mail to the requester of an e-mailed request",
            publishers: &["intake"],
            consumers: &["delivery", "audit"],
            schema: schema_of::<Envelope<ReplyRequested>>,
        },
        MessageSpec {
            name: "RequestVerified",
            address: subjects::ACCOUNTS_REQUEST_VERIFIED,
            summary: "The requester may ask for this account: the case may be realised",
            publishers: &["accounts"],
            consumers: &["intake", "audit"],
            schema: schema_of::<Envelope<RequestChecked>>,
        },
        MessageSpec {
            name: "RequestRefused",
            address: subjects::ACCOUNTS_REQUEST_REFUSED,
            summary: "The requester may not ask for this account; the reason names the field",
            publishers: &["accounts"],
            consumers: &["intake", "audit"],
            schema: schema_of::<Envelope<RequestChecked>>,
        },
        MessageSpec {
            name: "CredentialIssued",
            address: subjects::ACCOUNTS_CREDENTIAL_ISSUED,
            summary: "New credentials were issued for a case (the announcement: no sealed copy)",
            publishers: &["accounts"],
            consumers: &["intake", "revocation", "audit"],
            schema: schema_of::<Envelope<CredentialIssued>>,
        },
        MessageSpec {
            name: "CredentialsSealed",
            address: subjects::CREDENTIALS_SEALED,
            summary: "The new credentials sealed to delivery's public key, bound to their recipient; on a work-queue stream, gone once delivery has them",
            publishers: &["accounts"],
            consumers: &["delivery"],
            schema: schema_of::<Envelope<CredentialIssued>>,
        },
        MessageSpec {
            name: "AccessRefused",
            address: "{service}.access.refused",
            summary: "A service refused (401 or 403) a request that would have changed something",
            publishers: &["intake", "accounts", "delivery", "revocation", "audit"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<AccessRefused>>,
        },
        MessageSpec {
            name: "SessionsEnded",
            address: subjects::ACCOUNTS_SESSIONS_ENDED,
            summary: "Sessions ended (sign-out, password change, locked account): their tokens are refused at once",
            publishers: &["accounts"],
            consumers: &["intake", "delivery", "revocation", "audit"],
            schema: schema_of::<Envelope<SessionsEnded>>,
        },
        MessageSpec {
            name: "LoginFailed",
            address: subjects::ACCOUNTS_LOGIN_FAILED,
            summary: "A sign-in failed; an unknown login is kept only as a keyed hash",
            publishers: &["accounts"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<LoginFailed>>,
        },
        MessageSpec {
            name: "TotpEnrolmentPrepared",
            address: subjects::ACCOUNTS_TOTP_ENROLMENT_PREPARED,
            summary: "A staff member's TOTP enrolment was prepared; his old secret stopped working",
            publishers: &["accounts"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<TotpEnrolmentPrepared>>,
        },
        MessageSpec {
            name: "StaffImported",
            address: subjects::ACCOUNTS_STAFF_IMPORTED,
            summary: "A staff file (Pracownicy Placówki) was imported whole; no PESEL travels",
            publishers: &["accounts"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<StaffImported>>,
        },
        MessageSpec {
            name: "LocalAdminGranted",
            address: subjects::ACCOUNTS_LOCAL_ADMIN_GRANTED,
            summary: "A director authorised a person of his institution as its local administrator",
            publishers: &["accounts"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<LocalAdminChanged>>,
        },
        MessageSpec {
            name: "LocalAdminWithdrawn",
            address: subjects::ACCOUNTS_LOCAL_ADMIN_WITHDRAWN,
            summary: "A director withdrew a local administrator's authorisation",
            publishers: &["accounts"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<LocalAdminChanged>>,
        },
        MessageSpec {
            name: "AccountStepRecorded",
            address: "accounts.account.{step}",
            summary: "A step of a ZSZO account's history (created, hand-over sheet issued, first login, e-mail given and confirmed, activated, password changed, a permission granted or withdrawn), the same the central admin panel shows; delivery reads `activated` to tell the local administrator",
            publishers: &["accounts"],
            consumers: &["delivery", "audit"],
            schema: schema_of::<Envelope<AccountStepRecorded>>,
        },
        MessageSpec {
            name: "EmailConfirmationRequested",
            address: subjects::CREDENTIALS_EMAIL_CONFIRMATION,
            summary: "A user gave an e-mail address on the access portal: delivery e-mails the link that confirms it; the link's token is sealed to delivery's key",
            publishers: &["accounts"],
            consumers: &["delivery"],
            schema: schema_of::<Envelope<EmailConfirmationRequested>>,
        },
        MessageSpec {
            name: "PasswordChanged",
            address: subjects::ACCOUNTS_PASSWORD_CHANGED,
            summary: "A user set his own password; a notice without any secret goes to his e-mail",
            publishers: &["accounts"],
            consumers: &["delivery", "audit"],
            schema: schema_of::<Envelope<PasswordChanged>>,
        },
        MessageSpec {
            name: "DispatchCompleted",
            address: subjects::DELIVERY_DISPATCH_COMPLETED,
            summary: "Credentials delivered or collected",
            publishers: &["delivery"],
            consumers: &["intake", "audit"],
            schema: schema_of::<Envelope<DispatchCompleted>>,
        },
        MessageSpec {
            name: "DispatchFailed",
            address: subjects::DELIVERY_DISPATCH_FAILED,
            summary: "Delivery gave up; the case needs an administrator",
            publishers: &["delivery"],
            consumers: &["intake", "audit"],
            schema: schema_of::<Envelope<DispatchFailed>>,
        },
        MessageSpec {
            name: "CollectionRefused",
            address: subjects::DELIVERY_COLLECTION_REFUSED,
            summary: "The desk refused to hand a letter over, with the reason; nothing was handed over",
            publishers: &["delivery"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<CollectionRefused>>,
        },
        MessageSpec {
            name: "RevocationDecided",
            address: subjects::REVOCATION_REQUEST_DECIDED,
            summary: "The authorising body accepted or rejected a revocation request",
            publishers: &["revocation"],
            consumers: &["audit"],
            schema: schema_of::<Envelope<RevocationDecided>>,
        },
        MessageSpec {
            name: "AuditCheckpoint",
            address: subjects::AUDIT_CHECKPOINT_SIGNED,
            summary: "A signed checkpoint of the audit chain's head, kept outside audit's database",
            publishers: &["audit"],
            consumers: &["audit", "auditors"],
            schema: schema_of::<AuditCheckpoint>,
        },
        MessageSpec {
            name: "CaseQuery",
            address: subjects::QUERY_INTAKE_CASE,
            summary: "Request (core NATS request/reply): the current state of a case; answered with CaseQueryReply",
            publishers: &["klucznikctl"],
            consumers: &["intake"],
            schema: schema_of::<CaseQuery>,
        },
        MessageSpec {
            name: "CaseQueryReply",
            address: "_INBOX.{reply}",
            summary: "Reply to CaseQuery",
            publishers: &["intake"],
            consumers: &["klucznikctl"],
            schema: schema_of::<CaseQueryReply>,
        },
    ]
}
