//! The cipher password of a case's encrypted letter, kept sealed to delivery's own key
//! from the moment it is drawn until the SMS carrying it has gone.
//!
//! Keeping it is what makes a crash between the e-mail and the SMS harmless: whichever
//! replica takes the case next sends the SMS with the password the e-mail was encrypted
//! with, instead of a second letter with a new password. It is sealed (kit::seal, bound to
//! the case, its account and the credential event it belongs to), never stored open, and
//! wiped with the rest of the case's secrets when the case ends.

use secrecy::{ExposeSecret, SecretString};

use super::credentials::SealKeys;
use crate::letter::cipher_password;

/// What a sealed cipher password is bound to: it opens for this case's delivery only.
#[derive(Debug, Clone, Copy)]
pub struct CipherBinding<'a> {
    pub case_number: &'a str,
    pub login: &'a str,
    pub issued_event_id: uuid::Uuid,
}

impl CipherBinding<'_> {
    fn context(&self) -> Vec<u8> {
        format!(
            "klucznik/delivery/cipher-password/v1\0{}\0{}\0{}",
            self.case_number, self.login, self.issued_event_id
        )
        .into_bytes()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("no cipher password could be drawn: {0}")]
    Draw(String),
    #[error("the cipher password cannot be sealed")]
    Seal,
    #[error("the sealed cipher password does not open with delivery's keys for this case")]
    Unopenable,
}

/// A fresh cipher password and its sealed form.
pub fn draw_sealed(
    keys: &SealKeys,
    binding: &CipherBinding<'_>,
) -> Result<(SecretString, Vec<u8>), CipherError> {
    let cipher = cipher_password().map_err(|e| CipherError::Draw(e.to_string()))?;
    let sealed = keys
        .seal_to_self(cipher.expose_secret().as_bytes(), &binding.context())
        .ok_or(CipherError::Seal)?;
    Ok((cipher, sealed))
}

pub fn open(
    keys: &SealKeys,
    sealed: &[u8],
    binding: &CipherBinding<'_>,
) -> Result<SecretString, CipherError> {
    let opened = keys
        .open(sealed, &binding.context())
        .ok_or(CipherError::Unopenable)?;
    let text = std::str::from_utf8(&opened).map_err(|_| CipherError::Unopenable)?;
    Ok(SecretString::from(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use secrecy::zeroize::Zeroizing;

    use super::*;

    fn keys() -> SealKeys {
        let (secret, _) = kit::seal::keypair().unwrap();
        SealKeys::new(secret, Vec::new())
    }

    const BINDING: CipherBinding<'static> = CipherBinding {
        case_number: "ZSZO-05/2026/000001",
        login: "lukasz.zak",
        issued_event_id: uuid::Uuid::from_u128(7),
    };

    #[test]
    fn a_sealed_cipher_password_opens_for_its_case_only() {
        let keys = keys();
        let (cipher, sealed) = draw_sealed(&keys, &BINDING).unwrap();
        assert!(
            !sealed
                .windows(cipher.expose_secret().len())
                .any(|w| w == cipher.expose_secret().as_bytes()),
            "never open at rest"
        );
        let opened = open(&keys, &sealed, &BINDING).unwrap();
        assert_eq!(opened.expose_secret(), cipher.expose_secret());
        let other_case = CipherBinding {
            case_number: "ZSZO-05/2026/000002",
            ..BINDING
        };
        assert!(open(&keys, &sealed, &other_case).is_err());
        let other_event = CipherBinding {
            issued_event_id: uuid::Uuid::from_u128(8),
            ..BINDING
        };
        assert!(open(&keys, &sealed, &other_event).is_err());
    }

    #[test]
    fn a_cipher_sealed_before_a_key_rotation_still_opens() {
        let (old, _) = kit::seal::keypair().unwrap();
        let before = SealKeys::new(Zeroizing::new(*old), Vec::new());
        let (_, sealed) = draw_sealed(&before, &BINDING).unwrap();
        let (new, _) = kit::seal::keypair().unwrap();
        let after = SealKeys::new(new, vec![old]);
        assert!(open(&after, &sealed, &BINDING).is_ok());
        assert!(open(&keys(), &sealed, &BINDING).is_err());
    }
}
