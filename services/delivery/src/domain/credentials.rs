//! The login and starting password, opened from the copy accounts sealed to delivery's
//! key (kit::seal, bound to the case, the account, the delivery mode, the recipient and the
//! expiry: `contracts::events::SealBinding`). Opened only for as long as a letter is being
//! made; never stored or logged opened.

use contracts::events::SealBinding;
use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;
use serde::Deserialize;

/// What the sealed copy holds. `Debug` shows the password as redacted.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub login: String,
    pub starting_password: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// Wrong key, a copy sealed for another case, account, delivery mode or recipient, or
    /// altered bytes.
    #[error(
        "the sealed credentials do not open with delivery's key for this case, account, \
         delivery mode and recipient"
    )]
    Unopenable,
    /// Opened, but not `{"login", "starting_password"}`. Only the position is named: the
    /// text may be the password.
    #[error("the opened credentials are not the expected JSON (line {line}, column {column})")]
    Malformed { line: usize, column: usize },
}

/// delivery's private sealing keys: the current one, and after a rotation the previous
/// ones, kept only until the last credential sealed to them has expired (the starting
/// password's expiry, 7 days by default).
#[derive(Clone)]
pub struct SealKeys {
    keys: Vec<Zeroizing<[u8; 32]>>,
}

impl SealKeys {
    pub fn new(current: Zeroizing<[u8; 32]>, previous: Vec<Zeroizing<[u8; 32]>>) -> Self {
        let mut keys = vec![current];
        keys.extend(previous);
        Self { keys }
    }

    /// Opens `sealed` for `context` with whichever key sealed it.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.keys
            .iter()
            .find_map(|key| kit::seal::open(key, sealed, context).ok())
    }

    /// Seals `plaintext` to the current key, for delivery itself to open later.
    pub fn seal_to_self(&self, plaintext: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        kit::seal::seal(&kit::seal::public_of(&self.keys[0]), plaintext, context).ok()
    }

    /// The current public key's id, as accounts names it in `seal_key_id`.
    pub fn current_id(&self) -> String {
        kit::seal::key_id(&kit::seal::public_of(&self.keys[0]))
    }
}

impl std::fmt::Debug for SealKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealKeys({} keys, current {})",
            self.keys.len(),
            self.current_id()
        )
    }
}

/// Opens `sealed` (raw bytes, not base64) with delivery's private keys, for `binding` only;
/// the sealed login must be the bound one. Each key is tried (the seal's tag tells the
/// right one; a wrong key opens nothing).
pub fn open_credentials(
    keys: &SealKeys,
    sealed: &[u8],
    binding: &SealBinding<'_>,
) -> Result<Credentials, CredentialsError> {
    let context = binding.context();
    let opened = keys
        .open(sealed, &context)
        .ok_or(CredentialsError::Unopenable)?;
    let credentials: Credentials =
        serde_json::from_slice(&opened).map_err(|e| CredentialsError::Malformed {
            line: e.line(),
            column: e.column(),
        })?;
    if credentials.login != binding.login {
        return Err(CredentialsError::Unopenable);
    }
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const CASE: &str = "ZSZO-05/2026/000001";

    fn binding<'a>(case_number: &'a str, rspo_email: &'a str) -> SealBinding<'a> {
        SealBinding {
            case_number,
            procedure: "ZSZO-05",
            login: "lukasz.zak",
            delivery: "electronic",
            rspo_email,
            director_mobile: "48600100200",
            expires_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }
    const EMAIL: &str = "sp7@edu.krakow.pl";

    #[test]
    fn a_copy_sealed_to_delivery_for_this_case_opens() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let secret = SealKeys::new(secret, Vec::new());
        let sealed = kit::seal::seal(
            &public,
            br#"{"login":"lukasz.zak","starting_password":"Xy7#kQ-2mP_9aZ"}"#,
            &binding(CASE, EMAIL).context(),
        )
        .unwrap();
        let credentials = open_credentials(&secret, &sealed, &binding(CASE, EMAIL)).unwrap();
        assert_eq!(credentials.login, "lukasz.zak");
        assert_eq!(
            credentials.starting_password.expose_secret(),
            "Xy7#kQ-2mP_9aZ"
        );
        assert!(!format!("{credentials:?}").contains("Xy7#kQ"));
    }

    #[test]
    fn a_copy_sealed_for_another_case_or_recipient_does_not_open() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let secret = SealKeys::new(secret, Vec::new());
        let plain = br#"{"login":"lukasz.zak","starting_password":"Xy7#kQ-2mP_9aZ"}"#;
        let sealed = kit::seal::seal(
            &public,
            plain,
            &binding("ZSZO-05/2026/000002", EMAIL).context(),
        )
        .unwrap();
        assert_eq!(
            open_credentials(&secret, &sealed, &binding(CASE, EMAIL)).unwrap_err(),
            CredentialsError::Unopenable
        );
        let sealed = kit::seal::seal(&public, plain, &binding(CASE, EMAIL).context()).unwrap();
        assert_eq!(
            open_credentials(&secret, &sealed, &binding(CASE, "attacker@example.com")).unwrap_err(),
            CredentialsError::Unopenable
        );
    }

    #[test]
    fn a_copy_whose_login_is_not_the_bound_one_does_not_open() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let secret = SealKeys::new(secret, Vec::new());
        let sealed = kit::seal::seal(
            &public,
            br#"{"login":"dyrektor","starting_password":"Xy7#kQ-2mP_9aZ"}"#,
            &binding(CASE, EMAIL).context(),
        )
        .unwrap();
        assert_eq!(
            open_credentials(&secret, &sealed, &binding(CASE, EMAIL)).unwrap_err(),
            CredentialsError::Unopenable
        );
    }

    #[test]
    fn a_malformed_copy_is_refused_without_quoting_it() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let secret = SealKeys::new(secret, Vec::new());
        let sealed = kit::seal::seal(
            &public,
            br#"{"login":"x","starting_password":12345}"#,
            &binding(CASE, EMAIL).context(),
        )
        .unwrap();
        let error = open_credentials(&secret, &sealed, &binding(CASE, EMAIL)).unwrap_err();
        assert!(matches!(error, CredentialsError::Malformed { .. }));
        assert!(!error.to_string().contains("12345"));
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;

    #[test]
    fn a_copy_sealed_to_the_previous_key_still_opens_after_a_rotation() {
        let (old_secret, old_public) = kit::seal::keypair().unwrap();
        let (new_secret, _) = kit::seal::keypair().unwrap();
        let binding = SealBinding {
            case_number: "ZSZO-05/2026/000001",
            procedure: "ZSZO-05",
            login: "lzak",
            delivery: "electronic",
            rspo_email: "sp7@edu.krakow.pl",
            director_mobile: "48600100200",
            expires_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let sealed = kit::seal::seal(
            &old_public,
            br#"{"login":"lzak","starting_password":"Xy7#kQ-2mP_9aZ"}"#,
            &binding.context(),
        )
        .unwrap();
        let rotated = SealKeys::new(new_secret.clone(), vec![old_secret]);
        assert!(open_credentials(&rotated, &sealed, &binding).is_ok());
        let retired = SealKeys::new(new_secret, Vec::new());
        assert_eq!(
            open_credentials(&retired, &sealed, &binding).unwrap_err(),
            CredentialsError::Unopenable
        );
    }
}
