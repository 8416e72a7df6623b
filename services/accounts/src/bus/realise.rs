//! Realising a case: a new starting password from the OS CSPRNG, stored only as its argon2id
//! hash, to be changed at the first login and expiring if unused; the account's sessions end;
//! the login and password leave accounts only sealed to delivery's public key.

use std::sync::Arc;

use crate::error::Error;
use base64::Engine;
use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use contracts::events::{CredentialIssued, RealisationRequested};
use contracts::{Actor, Envelope};
use kit::auth::Role;
use kit::outbox::outbox_insert_event;
use secrecy::ExposeSecret;
use sqlx::PgConnection;

use crate::domain::passwords::{self, Hasher};
use crate::startup::StartingPasswordSettings;
use crate::store::requests::NotRealisable;
use crate::store::{credentials, directory, requests};

pub struct Issuer {
    pub hasher: Arc<Hasher>,
    pub delivery_key: [u8; 32],
    pub starting: StartingPasswordSettings,
    pub portal_url: String,
}

impl Issuer {
    pub async fn realise_in_txn(
        &self,
        conn: &mut PgConnection,
        request: &RealisationRequested,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let case = &request.case_number;
        let verified =
            match requests::case_request_realise_in_txn(conn, case, &request.requested_by, now)
                .await?
            {
                Ok(verified) => verified,
                Err(why) => {
                    return Err(Error::Unusable(format!(
                        "case {case} {}; refusing to realise it",
                        match why {
                            NotRealisable::Unknown => "is not known to accounts",
                            NotRealisable::Refused => "was refused by accounts",
                            NotRealisable::AlreadyRealised => "was already realised",
                        }
                    )));
                }
            };
        // The event is trusted for nothing accounts verified itself: a realisation naming
        // another account, institution or procedure than the verified request is refused.
        if verified.target_login != request.target_login
            || verified.institution_rspo_id != request.institution_rspo_id
            || verified.procedure != request.procedure.code()
        {
            return Err(Error::Unusable(format!(
                "case {case}: the realisation names another account, institution or procedure \
                 than accounts verified; refusing to realise it"
            )));
        }
        let Some(recipient) = directory::recipient_in_txn(
            conn,
            &verified.institution_rspo_id,
            &verified.target_login,
        )
        .await?
        else {
            return Err(Error::Unusable(format!(
                "no account {} at institution {}",
                request.target_login, request.institution_rspo_id
            )));
        };
        let password = passwords::generate(self.starting.length).map_err(Error::unavailable)?;
        let hasher = Arc::clone(&self.hasher);
        let to_hash = password.clone();
        // argon2 takes tens of milliseconds of CPU: off the async workers.
        let hash = crate::domain::hashing::off_thread(move || hasher.hash(&to_hash))
            .await
            .map_err(Error::unavailable)?
            .map_err(Error::unavailable)?;
        // Whole seconds: the expiry is bound into the seal and kept by delivery's database.
        let expires_at = (now + Duration::days(self.starting.expiry_days)).trunc_subsecs(0);
        credentials::starting_password_set_in_txn(
            conn,
            &request.target_login,
            &hash,
            expires_at,
            now,
        )
        .await?;
        let ended = credentials::sessions_end_in_txn(
            conn,
            &request.target_login,
            None,
            "new_starting_password",
            now,
        )
        .await?;
        let data = CredentialIssued {
            case_number: request.case_number.clone(),
            procedure: request.procedure,
            login: request.target_login.clone(),
            delivery: request.delivery,
            recipient,
            sealed_credentials: String::new(),
            seal_key_id: String::new(),
            expires_at,
            portal_url: self.portal_url.clone(),
            proxy: request.proxy.clone(),
        };
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&serde_json::json!({
                "login": request.target_login,
                "starting_password": password.expose_secret(),
            }))
            .map_err(|e| Error::Unusable(e.to_string()))?,
        );
        let sealed = kit::seal::seal(&self.delivery_key, &plain, &data.binding().context())
            .map_err(Error::unavailable)?;
        let envelope = |data: CredentialIssued| {
            Envelope::new(
                Actor::person(&request.requested_by, Role::Administrator.as_str()),
                now,
                data,
            )
            .institution(&request.institution_rspo_id)
            .case(&request.case_number)
        };
        // The sealed copy goes to delivery alone, on a stream it empties, from an outbox row
        // deleted once published; everyone else hears of the issue without it.
        let sealed = envelope(CredentialIssued {
            sealed_credentials: base64::engine::general_purpose::STANDARD.encode(sealed),
            seal_key_id: kit::seal::key_id(&self.delivery_key),
            ..data.clone()
        });
        kit::outbox::outbox_insert_transient_event(conn, &sealed).await?;
        outbox_insert_event(conn, &envelope(data)).await?;
        tracing::info!(case_number = %request.case_number, sessions_ended = ended, "new starting password issued");
        Ok(())
    }
}
