//! The login and starting password, opened from the copy accounts sealed to delivery's
//! key (kit::seal, the case number as context). Opened only for as long as a letter is
//! being made; never stored or logged opened.

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
    /// Wrong key, another case's copy, or altered bytes.
    #[error("the sealed credentials do not open with delivery's key for this case")]
    Unopenable,
    /// Opened, but not `{"login", "starting_password"}`. Only the position is named: the
    /// text may be the password.
    #[error("the opened credentials are not the expected JSON (line {line}, column {column})")]
    Malformed { line: usize, column: usize },
}

/// Opens `sealed` (raw bytes, not base64) with delivery's private key.
pub fn open_credentials(
    key: &[u8; 32],
    sealed: &[u8],
    case_number: &str,
) -> Result<Credentials, CredentialsError> {
    let opened = kit::seal::open(key, sealed, case_number.as_bytes())
        .map_err(|_| CredentialsError::Unopenable)?;
    serde_json::from_slice(&opened).map_err(|e| CredentialsError::Malformed {
        line: e.line(),
        column: e.column(),
    })
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const CASE: &str = "ZSZO-05/2026/000001";

    #[test]
    fn a_copy_sealed_to_delivery_for_this_case_opens() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let sealed = kit::seal::seal(
            &public,
            br#"{"login":"lukasz.zak","starting_password":"Xy7#kQ-2mP_9aZ"}"#,
            CASE.as_bytes(),
        )
        .unwrap();
        let credentials = open_credentials(&secret, &sealed, CASE).unwrap();
        assert_eq!(credentials.login, "lukasz.zak");
        assert_eq!(
            credentials.starting_password.expose_secret(),
            "Xy7#kQ-2mP_9aZ"
        );
        assert!(!format!("{credentials:?}").contains("Xy7#kQ"));
    }

    #[test]
    fn a_copy_sealed_for_another_case_does_not_open() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let sealed = kit::seal::seal(&public, b"{}", b"ZSZO-05/2026/000002").unwrap();
        assert_eq!(
            open_credentials(&secret, &sealed, CASE).unwrap_err(),
            CredentialsError::Unopenable
        );
    }

    #[test]
    fn a_malformed_copy_is_refused_without_quoting_it() {
        let (secret, public) = kit::seal::keypair().unwrap();
        let sealed = kit::seal::seal(
            &public,
            br#"{"login":"x","starting_password":12345}"#,
            CASE.as_bytes(),
        )
        .unwrap();
        let error = open_credentials(&secret, &sealed, CASE).unwrap_err();
        assert!(matches!(error, CredentialsError::Malformed { .. }));
        assert!(!error.to_string().contains("12345"));
    }
}
