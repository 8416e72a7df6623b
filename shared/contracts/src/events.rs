//! Bodies of the internal events; each travels inside an [`crate::Envelope`].

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::borrow::Cow;

use crate::envelope::{Event, event_types};
use crate::forms::{DeliveryMode, Procedure, RequestSource};
use crate::seod_status::{CaseStatus, Rejection};
use crate::subjects;

/// `intake.case.registered`: a valid request became a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRegistered {
    pub case_number: String,
    pub procedure: Procedure,
    pub document_id: String,
    pub institution_rspo_id: String,
    pub institution_name: String,
    pub requester_login: String,
    pub target_login: String,
    pub rspo_email: String,
    pub director_mobile: String,
    pub delivery: DeliveryMode,
    pub submitted_at: DateTime<Utc>,
    #[serde(default)]
    pub source: RequestSource,
    /// The sender of an e-mailed request (PZO-01): accounts checks it against the address
    /// registered in ODPN, and the outcome is confirmed to it by e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_email: Option<String>,
    /// How the starting password was lost, as the form said: the incident's kind.
    #[serde(default)]
    pub loss: crate::forms::LossKind,
}

/// `intake.reply.requested`: tell the requester of an e-mailed request the case's outcome by
/// e-mail (delivery sends it). Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReplyRequested {
    pub case_number: String,
    pub procedure: Procedure,
    pub institution_name: String,
    /// The account concerned (the PZO administrator account's identifier).
    pub target_login: String,
    /// The requester's address: the one the request came from.
    pub to: String,
    pub status: CaseStatus,
    pub delivery: DeliveryMode,
    /// Why, when the request was rejected or could not be completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub at: DateTime<Utc>,
}

/// `intake.form.rejected`: a form was refused and no case was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FormRejected {
    /// The document id or message id SEOD was answered on.
    pub correlation: String,
    pub subject: String,
    pub rejection: Rejection,
}

/// `intake.case.taken`: an administrator took a case from the queue to realise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseTaken {
    pub case_number: String,
    pub taken_by: String,
}

/// `intake.case.closed`: an administrator closed a failed, refused or expired case, saying
/// why in a note; SEOD (or the e-mail sender) is told the case is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosed {
    pub case_number: String,
    pub closed_by: String,
    /// The status it was closed from: failed, rejected or expired.
    pub from_status: crate::seod_status::CaseStatus,
    pub note: String,
}

/// `intake.case.realisation-requested`: generate a new starting password for this case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RealisationRequested {
    pub case_number: String,
    pub procedure: Procedure,
    pub institution_rspo_id: String,
    /// The ZSZO login or the PZO administrator account.
    pub target_login: String,
    pub delivery: DeliveryMode,
    /// The administrator who realised it, or `automatic-policy`.
    pub requested_by: String,
    /// For collection in person: the proxy the requester authorised with form F-01, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<AuthorisedProxy>,
}

/// `intake.case.delivery-agreed`: the requester agreed to collection in person; recorded by
/// someone other than the person who will realise the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryAgreed {
    pub case_number: String,
    pub delivery: DeliveryMode,
    /// How and when the requester agreed.
    pub how: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<AuthorisedProxy>,
    pub recorded_by: String,
}

/// A person the requester authorised in writing (form F-01) to collect the letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct AuthorisedProxy {
    /// First and last name, as on the F-01 form.
    pub name: String,
    /// The F-01 form's reference.
    pub f01_reference: String,
}

/// What delivery needs to reach the requester; nothing here is secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recipient {
    pub institution_name: String,
    /// The institution's official e-mail address in RSPO: the encrypted letter goes there.
    pub rspo_email: String,
    /// The director's official mobile number (MSISDN): the cipher password goes there.
    pub director_mobile: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The director's (the requester's) first and last name, for collection in person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director_name: Option<String>,
}

/// `accounts.credential.issued`: a new starting password exists. The login and the password
/// travel only in `sealed_credentials`, sealed to delivery's public key (see kit::seal; the
/// context is the case number); opened it is JSON `{"login": …, "starting_password": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CredentialIssued {
    pub case_number: String,
    pub procedure: Procedure,
    pub login: String,
    pub delivery: DeliveryMode,
    pub recipient: Recipient,
    /// Base64 of the sealed credentials; only delivery can open it. Present only on
    /// `credentials.sealed` (for delivery); the `accounts.credential.issued` announcement
    /// that everyone else reads carries none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sealed_credentials: String,
    /// The id of delivery's key it was sealed to (`kit::seal::key_id`), so a rotated key is
    /// kept only until the last credential sealed to it has expired.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub seal_key_id: String,
    pub expires_at: DateTime<Utc>,
    pub portal_url: String,
    /// For collection in person: the proxy authorised with F-01, if the requester named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<AuthorisedProxy>,
}

impl CredentialIssued {
    /// What the sealed copy is bound to, as this event says it.
    pub fn binding(&self) -> SealBinding<'_> {
        SealBinding {
            case_number: &self.case_number,
            procedure: self.procedure.code(),
            login: &self.login,
            delivery: self.delivery.as_str(),
            rspo_email: &self.recipient.rspo_email,
            director_mobile: &self.recipient.director_mobile,
            expires_at: self.expires_at,
        }
    }
}

/// Whom sealed credentials are for. accounts seals with this as the associated data, and
/// delivery opens with it as it will act on it: an event republished with another
/// recipient, login, case, delivery mode or expiry opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealBinding<'a> {
    pub case_number: &'a str,
    /// `Procedure::code`.
    pub procedure: &'a str,
    pub login: &'a str,
    /// `DeliveryMode::as_str`.
    pub delivery: &'a str,
    pub rspo_email: &'a str,
    pub director_mobile: &'a str,
    /// Bound to the whole second (stored values lose sub-second precision).
    pub expires_at: DateTime<Utc>,
}

impl SealBinding<'_> {
    /// The associated data: a version tag, then each field length-prefixed.
    pub fn context(&self) -> Vec<u8> {
        let expires = self.expires_at.timestamp().to_string();
        let mut out = b"klucznik-credentials-v1".to_vec();
        for field in [
            self.case_number,
            self.procedure,
            self.login,
            self.delivery,
            self.rspo_email,
            self.director_mobile,
            expires.as_str(),
        ] {
            out.extend_from_slice(&(field.len() as u32).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }
}

/// `<service>.access.refused`: a request that would have changed something was refused
/// (401 or 403); nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccessRefused {
    /// The service that refused it.
    #[serde(default)]
    pub service: String,
    pub method: String,
    /// The path, without the query (at most 256 characters).
    pub path: String,
    pub status: u16,
    /// Who the token named, when it verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    pub address: String,
}

/// `accounts.sessions.ended`: these sessions of `login` ended; their tokens are refused
/// from now on, by every service, until they would have expired anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionsEnded {
    pub login: String,
    pub sessions: Vec<EndedSession>,
    /// `signed_out`, `password_changed`, `new_starting_password` or `account_locked`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EndedSession {
    pub sid: String,
    /// When its token would have expired: it need not be remembered after that.
    pub expires_at: DateTime<Utc>,
}

/// `accounts.login.failed`: a sign-in failed (audit counts them per login and opens an
/// incident past a threshold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LoginFailed {
    /// The account's login, or, when what was typed names no account, `nieznany:` and a
    /// keyed hash of it (a password typed into the login field is kept nowhere).
    pub login: String,
    /// The client's address (an IPv6 client as its /64).
    pub address: String,
    /// The access portal's sign-in (otherwise the staff's).
    pub portal: bool,
}

/// `delivery.collection.refused`: the desk refused to hand the letter over; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionRefused {
    pub case_number: String,
    /// `realiser_at_desk`, `collector_mismatch`, `no_proxy_authorised` or `f01_mismatch`.
    pub code: String,
    /// The reason, in Polish, as the operator saw it.
    pub reason: String,
}

/// `delivery.dispatch.failed`: delivery gave up; the case needs an administrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchFailed {
    pub case_number: String,
    pub reason: String,
}

/// `delivery.dispatch.completed`: the credentials reached the requester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DispatchCompleted {
    pub case_number: String,
    pub delivery: DeliveryMode,
    pub completed_at: DateTime<Utc>,
}

/// `audit.checkpoint.signed`: "the audit record at `position` has `hash`", signed with
/// audit's Ed25519 key over `klucznik-audit-checkpoint-v1\n{position}\n{hash}\n{signed_at as
/// Unix microseconds}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct AuditCheckpoint {
    pub position: i64,
    /// Hex of the record's SHA-256 chain hash.
    pub hash: String,
    pub signed_at: DateTime<Utc>,
    /// Hex of the Ed25519 public key.
    pub public_key: String,
    /// Hex of the Ed25519 signature.
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestOutcome {
    Verified,
    Refused,
}

/// `accounts.request.verified` / `accounts.request.refused`: whether the requester may ask
/// for this account (the current director of the account's own institution, and so on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestChecked {
    pub case_number: String,
    pub outcome: RequestOutcome,
    /// Why it was refused: the form's field at fault, a code and a Polish message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// Contact data the director corrected in the request (seeds 000 and 001, step 1): the
    /// request's data are what delivery uses, and accounts' copy now holds them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_updated: Vec<ContactUpdate>,
}

/// One contact datum of an institution, changed by a verified request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct ContactUpdate {
    /// The form's field: `contact.rspo_email` or `contact.director_mobile`.
    pub field: String,
    /// What accounts held before, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    pub current: String,
}

/// `accounts.totp.enrolment-prepared`: a staff member's TOTP enrolment was prepared; his
/// current secret stopped working and his next password sign-in shows him a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TotpEnrolmentPrepared {
    pub login: String,
    /// The administrator who prepared it, or `accounts-cli` from the command line.
    pub prepared_by: String,
    pub until: DateTime<Utc>,
}

/// `accounts.password.changed`: a user set his own password; his other sessions ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PasswordChanged {
    pub login: String,
    /// Where the notice goes, if the account has an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub sessions_ended: u32,
}

/// `accounts.staff.imported`: a staff file ("Pracownicy Placówki") was imported whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffImported {
    /// Rows in the file.
    pub rows: u32,
    /// Members of staff new to the system, and those already known (same institution and
    /// PESEL) whose data the file updated.
    pub created: u32,
    pub updated: u32,
    /// Institutions the file named.
    pub institutions: u32,
}

/// `accounts.local-admin.granted` / `accounts.local-admin.withdrawn`: a director authorised a
/// person of his institution as its local administrator ("Administrator lokalny"), or
/// withdrew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalAdminChanged {
    pub login: String,
    pub granted: bool,
    /// The director who decided.
    pub by: String,
}

/// A step in a ZSZO account's life as the central admin panel records it ("historia
/// utworzenia Konta"); `accounts.account.<step>` with `-` for `_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStep {
    /// The local administrator created the account.
    Created,
    /// The hand-over sheet with the login and starting password was given to him (once).
    SheetIssued,
    /// The user signed in on the access portal for the first time.
    FirstLogin,
    /// The user gave an e-mail address; its confirmation link was sent.
    EmailGiven,
    /// The user followed the link.
    EmailConfirmed,
    /// The account became active.
    Activated,
    /// The user set his own password.
    PasswordChanged,
    PermissionGranted,
    PermissionWithdrawn,
}

impl AccountStep {
    pub const ALL: [AccountStep; 9] = [
        AccountStep::Created,
        AccountStep::SheetIssued,
        AccountStep::FirstLogin,
        AccountStep::EmailGiven,
        AccountStep::EmailConfirmed,
        AccountStep::Activated,
        AccountStep::PasswordChanged,
        AccountStep::PermissionGranted,
        AccountStep::PermissionWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStep::Created => "created",
            AccountStep::SheetIssued => "sheet_issued",
            AccountStep::FirstLogin => "first_login",
            AccountStep::EmailGiven => "email_given",
            AccountStep::EmailConfirmed => "email_confirmed",
            AccountStep::Activated => "activated",
            AccountStep::PasswordChanged => "password_changed",
            AccountStep::PermissionGranted => "permission_granted",
            AccountStep::PermissionWithdrawn => "permission_withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<AccountStep> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How the panel and the audit record name it.
    pub fn label(self) -> &'static str {
        match self {
            AccountStep::Created => "Utworzenie konta",
            AccountStep::SheetIssued => "Wydruk arkusza przekazania danych dostępowych",
            AccountStep::FirstLogin => "Pierwsze logowanie w Portalu Dostępowym",
            AccountStep::EmailGiven => "Podanie adresu e-mail",
            AccountStep::EmailConfirmed => "Potwierdzenie adresu e-mail",
            AccountStep::Activated => "Aktywacja konta",
            AccountStep::PasswordChanged => "Zmiana hasła",
            AccountStep::PermissionGranted => "Nadanie uprawnienia",
            AccountStep::PermissionWithdrawn => "Odebranie uprawnienia",
        }
    }

    pub fn subject(self) -> String {
        format!("accounts.account.{}", self.as_str().replace('_', "-"))
    }
}

/// `accounts.account.<step>`: a step in a ZSZO account's creation or later life, the same
/// one the panel's history shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountStepRecorded {
    pub login: String,
    pub step: AccountStep,
    /// The member of staff whose account it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_member_id: Option<uuid::Uuid>,
    /// The permission granted or withdrawn (its catalogue code), for those steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Created: the permissions granted with the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Activated: the local administrator who created the account is told by e-mail at this
    /// address (when he has one), and reminded of F-02, F-03 and F-04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_admin_email: Option<String>,
    /// Activated: whose account it is, for that e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
}

impl AccountStepRecorded {
    /// The step alone; the other fields are for the steps that carry them.
    pub fn new(login: &str, step: AccountStep) -> Self {
        Self {
            login: login.to_owned(),
            step,
            staff_member_id: None,
            permission: None,
            permissions: Vec::new(),
            local_admin_email: None,
            person_name: None,
        }
    }
}

/// `credentials.email-confirmation`: a user gave an e-mail address on the access portal; the
/// link that confirms it goes to that address. Its token is sealed to delivery's key (on the
/// CREDENTIALS stream, which only delivery reads); accounts keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EmailConfirmationRequested {
    pub login: String,
    pub email: String,
    /// The name the e-mail greets.
    pub person_name: String,
    /// The access portal's confirmation page; the token is added as `?t=`.
    pub confirm_url: String,
    pub expires_at: DateTime<Utc>,
    /// Base64 of the token sealed to delivery's key (`kit::seal`), bound to
    /// [`EmailConfirmationRequested::seal_context`].
    pub sealed_token: String,
    pub seal_key_id: String,
}

impl EmailConfirmationRequested {
    /// What the seal is bound to: the token opens only for this login, address and expiry.
    pub fn seal_context(&self) -> Vec<u8> {
        let mut out = b"klucznik-email-confirmation-v1".to_vec();
        let expires = self.expires_at.timestamp().to_string();
        for field in [self.login.as_str(), self.email.as_str(), expires.as_str()] {
            out.extend_from_slice(&(field.len() as u32).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }
}

impl Event for AccountStepRecorded {
    fn event_type(&self) -> Cow<'static, str> {
        Cow::Owned(self.step.subject())
    }
}

event_types! {
    CaseRegistered => subjects::INTAKE_CASE_REGISTERED,
    ReplyRequested => subjects::INTAKE_REPLY_REQUESTED,
    FormRejected => subjects::INTAKE_FORM_REJECTED,
    CaseTaken => subjects::INTAKE_CASE_TAKEN,
    CaseClosed => subjects::INTAKE_CASE_CLOSED,
    RealisationRequested => subjects::INTAKE_CASE_REALISATION_REQUESTED,
    DeliveryAgreed => subjects::INTAKE_CASE_DELIVERY_AGREED,
    SessionsEnded => subjects::ACCOUNTS_SESSIONS_ENDED,
    LoginFailed => subjects::ACCOUNTS_LOGIN_FAILED,
    PasswordChanged => subjects::ACCOUNTS_PASSWORD_CHANGED,
    TotpEnrolmentPrepared => subjects::ACCOUNTS_TOTP_ENROLMENT_PREPARED,
    StaffImported => subjects::ACCOUNTS_STAFF_IMPORTED,
    EmailConfirmationRequested => subjects::CREDENTIALS_EMAIL_CONFIRMATION,
    CollectionRefused => subjects::DELIVERY_COLLECTION_REFUSED,
    DispatchFailed => subjects::DELIVERY_DISPATCH_FAILED,
    DispatchCompleted => subjects::DELIVERY_DISPATCH_COMPLETED,
}

impl Event for CredentialIssued {
    /// The sealed copy is for delivery alone; the announcement carries no seal.
    fn event_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(if self.sealed_credentials.is_empty() {
            subjects::ACCOUNTS_CREDENTIAL_ISSUED
        } else {
            subjects::CREDENTIALS_SEALED
        })
    }
}

impl Event for RequestChecked {
    fn event_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self.outcome {
            RequestOutcome::Verified => subjects::ACCOUNTS_REQUEST_VERIFIED,
            RequestOutcome::Refused => subjects::ACCOUNTS_REQUEST_REFUSED,
        })
    }
}

impl Event for LocalAdminChanged {
    fn event_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(if self.granted {
            subjects::ACCOUNTS_LOCAL_ADMIN_GRANTED
        } else {
            subjects::ACCOUNTS_LOCAL_ADMIN_WITHDRAWN
        })
    }
}

impl Event for AccessRefused {
    fn event_type(&self) -> Cow<'static, str> {
        Cow::Owned(subjects::access_refused(&self.service))
    }
}

#[cfg(test)]
mod binding_tests {
    use super::*;

    fn binding(email: &str) -> SealBinding<'_> {
        SealBinding {
            case_number: "ZSZO-05/2026/000001",
            procedure: "ZSZO-05",
            login: "lzak",
            delivery: "electronic",
            rspo_email: email,
            director_mobile: "48600100200",
            expires_at: DateTime::parse_from_rfc3339("2026-12-08T10:00:00.123456789Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn another_recipient_gives_another_context() {
        assert_ne!(
            binding("sp7@edu.krakow.pl").context(),
            binding("attacker@example.com").context()
        );
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let mut a = binding("x@y.pl");
        a.login = "lzakx";
        a.delivery = "@electronic";
        let mut b = binding("x@y.pl");
        b.login = "lzak";
        b.delivery = "x@electronic";
        assert_ne!(a.context(), b.context());
    }

    #[test]
    fn sub_second_precision_does_not_matter() {
        let mut stored = binding("x@y.pl");
        stored.expires_at = DateTime::parse_from_rfc3339("2026-12-08T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(binding("x@y.pl").context(), stored.context());
    }
}
