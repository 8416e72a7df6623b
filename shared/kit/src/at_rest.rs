//! Secrets a service must keep and read back (a staff member's TOTP secret): encrypted with
//! ChaCha20-Poly1305 under the service's own key, bound to what they belong to (associated
//! data), so that a database dump gives nothing and a value copied to another row does not
//! open there. Stored as `v1:` + base64(nonce ‖ ciphertext ‖ tag).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use zeroize::Zeroizing;

const PREFIX: &str = "v1:";
const NONCE: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AtRestError {
    #[error("the OS random generator failed")]
    Random,
    #[error("the stored value is not one this key encrypted for this owner")]
    Unopenable,
}

pub struct AtRestKey(ChaCha20Poly1305);

impl AtRestKey {
    pub fn new(key: &[u8; 32]) -> Self {
        Self(ChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key"))
    }

    /// Encrypts `plaintext` for `owner` (a login, say) with a fresh random nonce.
    pub fn encrypt(&self, owner: &str, plaintext: &[u8]) -> Result<String, AtRestError> {
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).map_err(|_| AtRestError::Random)?;
        let sealed = self
            .0
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| AtRestError::Unopenable)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Opens what [`Self::encrypt`] stored for `owner`.
    pub fn decrypt(&self, owner: &str, stored: &str) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
        let bytes = stored
            .strip_prefix(PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|b| b.len() > NONCE)
            .ok_or(AtRestError::Unopenable)?;
        let (nonce, sealed) = bytes.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| AtRestError::Unopenable)?;
        self.0
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: owner.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| AtRestError::Unopenable)
    }

    /// Whether `stored` is in this module's form (and not, say, a value written before it).
    pub fn is_encrypted(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_with_its_key_and_for_its_owner() {
        let key = AtRestKey::new(&[7u8; 32]);
        let stored = key.encrypt("admin.ek04", b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(AtRestKey::is_encrypted(&stored));
        assert!(!stored.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.decrypt("admin.ek04", &stored).unwrap().as_slice(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            key.decrypt("operator.ek04", &stored),
            Err(AtRestError::Unopenable)
        );
        let other = AtRestKey::new(&[8u8; 32]);
        assert_eq!(
            other.decrypt("admin.ek04", &stored),
            Err(AtRestError::Unopenable)
        );
        assert_eq!(
            key.decrypt("admin.ek04", "JBSWY3DPEHPK3PXP"),
            Err(AtRestError::Unopenable)
        );
    }

    #[test]
    fn the_same_value_encrypts_differently_each_time() {
        let key = AtRestKey::new(&[7u8; 32]);
        assert_ne!(
            key.encrypt("a", b"x").unwrap(),
            key.encrypt("a", b"x").unwrap()
        );
    }
}
