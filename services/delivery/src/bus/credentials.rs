//! `accounts.credential.issued`: a case delivery must deliver. In the consumer's
//! transaction it is only stored (with the credentials still sealed), never sent: sending
//! is the dispatcher's work, after this commit, so a redelivered or replayed event finds
//! the case already there and changes nothing.
//!
//! Before it is stored, the sealed copy must open for what the event says (case, account,
//! delivery mode, recipient, expiry): an event republished with another e-mail address or
//! mobile number is refused for good (dead-lettered with the reason, so audit records it),
//! and nothing is ever sent to an address the seal does not name.

use std::sync::Arc;

use base64::Engine as _;
use contracts::Envelope;
use contracts::events::{CredentialIssued, EmailConfirmationRequested};
use contracts::forms::DeliveryMode;
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};
use sqlx::PgConnection;

use crate::domain::cipher::{self, CipherBinding};
use crate::domain::credentials::open_credentials;
use crate::domain::status::DeliveryStatus;
use crate::error::Error;
use crate::store::deliveries::{NewDelivery, delivery_insert_in_txn};
use crate::store::notices::{NewNotice, NoticeKind, notice_insert_in_txn};

pub struct CredentialsHandler {
    clock: Arc<dyn Clock>,
    seal_key: crate::domain::credentials::SealKeys,
}

impl CredentialsHandler {
    pub fn new(clock: Arc<dyn Clock>, seal_key: crate::domain::credentials::SealKeys) -> Self {
        Self { clock, seal_key }
    }
}

impl CredentialsHandler {
    /// `credentials.email-confirmation`: the link is recorded as a notice with its token
    /// still sealed, once the seal is seen to open for the login, address and expiry the
    /// event names; the notice worker opens it again only to send it.
    async fn confirmation(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let envelope: Envelope<EmailConfirmationRequested> = message.decode()?;
        let request = &envelope.data;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(request.sealed_token.as_bytes())
            .map_err(|_| {
                Error::Unusable(format!(
                    "the confirmation link of {} is not sealed base64",
                    request.login
                ))
            })?;
        if self
            .seal_key
            .open(&sealed, &request.seal_context())
            .is_none()
        {
            return Err(Error::Unusable(format!(
                "the confirmation link of {} does not open for the address and expiry the event                  names; nothing is sent",
                request.login
            )));
        }
        if request.email.parse::<lettre::Address>().is_err() {
            return Err(Error::Unusable(format!(
                "the address given for {} is not a valid e-mail address",
                request.login
            )));
        }
        let facts = EmailConfirmationRequested {
            sealed_token: String::new(),
            ..request.clone()
        };
        let inserted = notice_insert_in_txn(
            conn,
            &NewNotice {
                event_id: envelope.id,
                kind: NoticeKind::EmailConfirmation,
                login: &request.login,
                email: &request.email,
                occurred_at: envelope.occurred_at,
                case_outcome: None,
                sealed: Some(&sealed),
                facts: serde_json::to_value(&facts).ok(),
                now: self.clock.now(),
            },
        )
        .await?;
        tracing::info!(login = %request.login, inserted, "an e-mail confirmation link recorded");
        Ok(())
    }
}

impl Handler for CredentialsHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        if message.subject == contracts::subjects::CREDENTIALS_EMAIL_CONFIRMATION {
            return self.confirmation(conn, message).await;
        }
        let envelope: Envelope<CredentialIssued> = message.decode()?;
        let issued = &envelope.data;
        if issued.case_number.trim().is_empty() {
            return Err(Error::Unusable(
                "the credentials were issued without a case number".into(),
            ));
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(issued.sealed_credentials.as_bytes())
            .map_err(|_| {
                Error::Unusable(format!(
                    "the sealed credentials of case {} are not base64",
                    issued.case_number
                ))
            })?;
        if let Err(error) = open_credentials(&self.seal_key, &sealed, &issued.binding()) {
            return Err(Error::Unusable(format!(
                "case {}: {error}; the event's recipient or account is not the one accounts \
                 sealed the credentials for, so nothing is stored or sent",
                issued.case_number
            )));
        }
        // In-person collection is not dispatched: the case waits at the desk.
        let status = match issued.delivery {
            DeliveryMode::Electronic => DeliveryStatus::Pending,
            DeliveryMode::InPerson => DeliveryStatus::AwaitingCollection,
        };
        // Drawn now, so that every try of this case, on any replica, uses the same one.
        let sealed_cipher = match issued.delivery {
            DeliveryMode::Electronic => {
                let binding = CipherBinding {
                    case_number: &issued.case_number,
                    login: &issued.login,
                    issued_event_id: envelope.id,
                };
                let (_, sealed) = cipher::draw_sealed(&self.seal_key, &binding)
                    .map_err(|e| Error::Crypto(e.to_string()))?;
                Some(sealed)
            }
            DeliveryMode::InPerson => None,
        };
        let recipient = &issued.recipient;
        let inserted = delivery_insert_in_txn(
            conn,
            &NewDelivery {
                case_number: &issued.case_number,
                procedure: issued.procedure.code(),
                login: &issued.login,
                delivery_mode: issued.delivery.as_str(),
                institution_rspo_id: envelope.institution_rspo_id.as_deref(),
                institution_name: &recipient.institution_name,
                rspo_email: &recipient.rspo_email,
                director_mobile: &recipient.director_mobile,
                first_name: recipient.first_name.as_deref(),
                last_name: recipient.last_name.as_deref(),
                sealed_credentials: &sealed,
                sealed_cipher: sealed_cipher.as_deref(),
                trace_parent: kit::propagation::current_traceparent().as_deref(),
                expires_at: issued.expires_at,
                portal_url: &issued.portal_url,
                status,
                issued_event_id: envelope.id,
                now: self.clock.now(),
                realised_by: envelope.actor.id.as_deref(),
                director_name: recipient.director_name.as_deref(),
                proxy_name: issued.proxy.as_ref().map(|p| p.name.as_str()),
                proxy_f01_reference: issued.proxy.as_ref().map(|p| p.f01_reference.as_str()),
            },
        )
        .await?;
        if inserted {
            tracing::info!(
                case_number = %issued.case_number,
                status = status.as_str(),
                "credentials accepted for delivery"
            );
        } else {
            // A replay of the same event, or a second issue for a case delivery already
            // holds: the first one stands (re-issuing is an administrator's decision).
            tracing::info!(case_number = %issued.case_number, "case already known; nothing changes");
        }
        Ok(())
    }
}
