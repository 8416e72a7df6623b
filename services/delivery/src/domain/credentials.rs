//! The login and starting password, opened from the copy accounts sealed to delivery's
//! key (kit::seal, bound to the case, the account, the delivery mode, the recipient and the
//! expiry: `contracts::events::SealBinding`). Opened only for as long as a letter is being
//! made; never stored or logged opened.

use contracts::events::SealBinding;
use secrecy::SecretString;
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

/// Opens `sealed` (raw bytes, not base64) with delivery's private key, for `binding` only;
/// the sealed login must be the bound one.
pub fn open_credentials(
    key: &[u8; 32],
    sealed: &[u8],
    binding: &SealBinding<'_>,
) -> Result<Credentials, CredentialsError> {
    let opened = secrecy::zeroize::Zeroizing::new(
        kit::seal::open(key, sealed, &binding.context())
            .map_err(|_| CredentialsError::Unopenable)?,
    );
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
