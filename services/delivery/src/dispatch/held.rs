//! The cipher passwords of e-mails this process sent and whose SMS is still owed, by case.
//! They live in this process's memory only (zeroised on drop), never at rest: a retry of
//! the SMS reuses the one its e-mail was encrypted with; after a restart there is none, and
//! the case gets a new e-mail and a new password.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::store::deliveries::DeliveryRow;

/// A held cipher password older than this is dropped (a guard against keeping one for a
/// case another replica finished); the case's next try then sends a new pair.
const HOLD_LIMIT: Duration = Duration::from_secs(6 * 60 * 60);

struct HeldCipher {
    message_id: String,
    cipher: SecretString,
    since: Instant,
}

#[derive(Default)]
pub(super) struct HeldCiphers(Mutex<HashMap<String, HeldCipher>>);

impl HeldCiphers {
    pub(super) fn hold(&self, case_number: &str, message_id: String, cipher: SecretString) {
        self.lock().insert(
            case_number.to_owned(),
            HeldCipher {
                message_id,
                cipher,
                since: Instant::now(),
            },
        );
    }

    /// The cipher password of the e-mail this row says went out, if this process sent it.
    pub(super) fn of(&self, row: &DeliveryRow) -> Option<SecretString> {
        self.lock()
            .get(&row.case_number)
            .filter(|h| Some(&h.message_id) == row.mail_message_id.as_ref())
            .map(|h| h.cipher.clone())
    }

    pub(super) fn forget(&self, case_number: &str) {
        self.lock().remove(case_number);
    }

    pub(super) fn forget_stale(&self) {
        self.lock().retain(|_, h| h.since.elapsed() < HOLD_LIMIT);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HeldCipher>> {
        self.0.lock().expect("held ciphers")
    }
}
