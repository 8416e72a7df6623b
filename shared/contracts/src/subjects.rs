//! Subject names. Every subject the system uses is spelled here and nowhere else.

/// SEOD publishes a ZSZO-05 form ("Wygenerowanie hasła ZSZO") here.
pub const SEOD_FORM_ZSZO_PASSWORD_RESET: &str = "seod.forms.zszo.password-reset";
/// SEOD publishes a PZO-01 form (new password of an institution's PZO administrator account) here.
pub const SEOD_FORM_PZO_PASSWORD_RESET: &str = "seod.forms.pzo.password-reset";
/// Every SEOD form subject.
pub const SEOD_FORMS_ALL: &str = "seod.forms.>";

/// Status of a SEOD document back to SEOD: `seod.status.<document_id>`.
pub const SEOD_STATUS_PREFIX: &str = "seod.status";
pub const SEOD_STATUS_ALL: &str = "seod.status.>";

pub fn seod_status(correlation: &str) -> String {
    format!("{SEOD_STATUS_PREFIX}.{correlation}")
}

pub const INTAKE_CASE_REGISTERED: &str = "intake.case.registered";
pub const INTAKE_FORM_REJECTED: &str = "intake.form.rejected";
/// An administrator took a case from the queue.
pub const INTAKE_CASE_TAKEN: &str = "intake.case.taken";
/// An administrator closed a failed, refused or expired case with a note.
pub const INTAKE_CASE_CLOSED: &str = "intake.case.closed";
/// Someone other than the realiser recorded the requester's agreement to collection in person.
pub const INTAKE_CASE_DELIVERY_AGREED: &str = "intake.case.delivery-agreed";
/// An administrator (or the configured automatic policy) asks accounts to realise a case.
pub const INTAKE_CASE_REALISATION_REQUESTED: &str = "intake.case.realisation-requested";
/// intake asks delivery to confirm a case's outcome by e-mail to the requester of an
/// e-mailed request.
pub const INTAKE_REPLY_REQUESTED: &str = "intake.reply.requested";
pub const INTAKE_ALL: &str = "intake.>";

pub const ACCOUNTS_CREDENTIAL_ISSUED: &str = "accounts.credential.issued";
/// accounts checked who asked and for which account, and found it right.
pub const ACCOUNTS_REQUEST_VERIFIED: &str = "accounts.request.verified";
/// accounts checked who asked and for which account, and refused, with the reason.
pub const ACCOUNTS_REQUEST_REFUSED: &str = "accounts.request.refused";
pub const ACCOUNTS_REQUEST_ALL: &str = "accounts.request.>";
/// A sign-in to the access portal failed; audit counts them per login.
pub const ACCOUNTS_LOGIN_FAILED: &str = "accounts.login.failed";
/// A user set his own password (a notice, without any secret, goes to his e-mail address).
pub const ACCOUNTS_PASSWORD_CHANGED: &str = "accounts.password.changed";
/// An administrator prepared a staff member's TOTP enrolment (his old secret stopped working).
pub const ACCOUNTS_TOTP_ENROLMENT_PREPARED: &str = "accounts.totp.enrolment-prepared";
/// accounts ended sessions (sign-out, password change, new starting password, a locked
/// account): their tokens stop working at once in every service.
pub const ACCOUNTS_SESSIONS_ENDED: &str = "accounts.sessions.ended";
/// A staff file ("Pracownicy Placówki") was imported.
pub const ACCOUNTS_STAFF_IMPORTED: &str = "accounts.staff.imported";
/// A director authorised a local administrator, or withdrew it.
pub const ACCOUNTS_LOCAL_ADMIN_GRANTED: &str = "accounts.local-admin.granted";
pub const ACCOUNTS_LOCAL_ADMIN_WITHDRAWN: &str = "accounts.local-admin.withdrawn";
/// A step of a ZSZO account's history: `accounts.account.created`, `.sheet-issued`, …
pub const ACCOUNTS_ACCOUNT_ALL: &str = "accounts.account.>";
pub const ACCOUNTS_ACCOUNT_CREATED: &str = "accounts.account.created";
pub const ACCOUNTS_ACCOUNT_ACTIVATED: &str = "accounts.account.activated";
pub const ACCOUNTS_ALL: &str = "accounts.>";

/// accounts' sealed credentials for delivery (on the CREDENTIALS stream only).
pub const CREDENTIALS_SEALED: &str = "credentials.sealed";
/// An e-mail address's confirmation link, its token sealed for delivery (CREDENTIALS only).
pub const CREDENTIALS_EMAIL_CONFIRMATION: &str = "credentials.email-confirmation";
pub const CREDENTIALS_ALL: &str = "credentials.>";

pub const DELIVERY_DISPATCH_COMPLETED: &str = "delivery.dispatch.completed";
/// Delivery could not deliver for good (the reason says why); an administrator must act.
pub const DELIVERY_DISPATCH_FAILED: &str = "delivery.dispatch.failed";
/// The desk refused to hand a letter over (the collector is not whom the case names, or the
/// operator realised the case); nothing was handed over.
pub const DELIVERY_COLLECTION_REFUSED: &str = "delivery.collection.refused";
pub const DELIVERY_ALL: &str = "delivery.>";

/// A revocation request was saved in a local database ("Wniosek" → "Cofnięcie").
pub const REVOCATION_REQUEST_CREATED: &str = "revocation.request.created";
/// A revocation request was refused before it was saved (`data.reason` says why, e.g.
/// `wrong_local_database` when it did not come from the local database that granted the
/// authorisation); nothing changed.
pub const REVOCATION_REQUEST_REFUSED: &str = "revocation.request.refused";
/// The authorising body fetched a waiting request into its local database.
pub const REVOCATION_REQUEST_FETCHED: &str = "revocation.request.fetched";
/// The authorising body marked a request "Przyjęty do rozpatrzenia".
pub const REVOCATION_REQUEST_REVIEW_STARTED: &str = "revocation.request.review-started";
/// The authorising body accepted, rejected or withdrew a request.
pub const REVOCATION_REQUEST_DECIDED: &str = "revocation.request.decided";
/// A form of the communication panel was sent to the central system ("Do wysłania" →
/// "Wysłane"); the central register consumes it.
pub const REVOCATION_FORM_SENT: &str = "revocation.form.sent";
/// The central system acknowledged a sent form.
pub const REVOCATION_FORM_DELIVERED: &str = "revocation.form.delivered";
/// A status check moved a delivered form to "Zakończone".
pub const REVOCATION_FORM_COMPLETED: &str = "revocation.form.completed";
/// The central register revoked an authorisation (an accepted request was delivered).
pub const REVOCATION_AUTHORISATION_REVOKED: &str = "revocation.authorisation.revoked";
/// Units, local databases, people and authorisations were imported whole.
pub const REVOCATION_REGISTER_IMPORTED: &str = "revocation.register.imported";
pub const REVOCATION_ALL: &str = "revocation.>";

/// audit's signed checkpoints of its chain head, kept outside its database.
pub const AUDIT_CHECKPOINT_SIGNED: &str = "audit.checkpoint.signed";
pub const AUDIT_ALL: &str = "audit.>";

/// A service refused (401 or 403) a request that would have changed something:
/// `<service>.access.refused`.
pub fn access_refused(service: &str) -> String {
    format!("{service}.access.refused")
}

/// A message that kept failing is kept here: `deadletter.<service>.<original subject>`.
pub const DEAD_LETTER_PREFIX: &str = "deadletter";
pub const DEAD_LETTER_ALL: &str = "deadletter.>";

pub fn dead_letter(service: &str, original_subject: &str) -> String {
    format!("{DEAD_LETTER_PREFIX}.{service}.{original_subject}")
}

/// Core NATS request/reply: the current state of a case, answered by intake.
pub const QUERY_INTAKE_CASE: &str = "klucznik.query.intake.case";

/// Headers carried on dead-lettered messages.
pub mod headers {
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const DEAD_LETTER_ERROR: &str = "Klucznik-Error";
    pub const DEAD_LETTER_SERVICE: &str = "Klucznik-Service";
    pub const DEAD_LETTER_SUBJECT: &str = "Klucznik-Original-Subject";
    pub const DEAD_LETTER_STREAM_SEQ: &str = "Klucznik-Original-Stream-Seq";
    pub const DEAD_LETTER_DELIVERIES: &str = "Klucznik-Deliveries";
    /// The dead-lettered message's own id (its `Nats-Msg-Id`, or `<stream>:<sequence>`).
    pub const DEAD_LETTER_MESSAGE_ID: &str = "Klucznik-Original-Msg-Id";
    /// On a replayed dead letter: the id of the message it repeats. Consumers take it as the
    /// message's id, so each one that handled the original skips the replay (its inbox).
    pub const REPLAY_OF: &str = "Klucznik-Replay-Of";
}

/// A token is safe inside a subject when it is a plain, non-empty identifier.
pub fn is_subject_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_token_rejects_wildcards_dots_and_spaces() {
        assert!(is_subject_token("SEOD-2026-0001"));
        for bad in ["", "a.b", "a*", ">", "a b", &"x".repeat(65)] {
            assert!(!is_subject_token(bad), "{bad}");
        }
    }
}
