//! Sealing a secret to one recipient's public key, so that only the holder of the matching
//! private key can open it: an ephemeral X25519 key agreement, HKDF-SHA-256, and
//! ChaCha20-Poly1305. Used for the starting password on its way from accounts to delivery:
//! the bus, the outbox and audit only ever see the sealed bytes.
//!
//! Format: `ephemeral public key (32) || ciphertext with its 16-byte tag`.

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the OS random generator failed")]
    Random,
    #[error("the sealed bytes are too short")]
    Truncated,
    #[error("the sealed bytes do not open with this key (wrong key, or altered)")]
    Unopenable,
}

fn key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
    context: &[u8],
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let hkdf = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut info = b"klucznik-seal-v1/".to_vec();
    info.extend_from_slice(context);
    let mut okm = Zeroizing::new([0u8; 32]);
    hkdf.expand(&info, okm.as_mut())
        .expect("32 bytes is a valid HKDF length");
    okm
}

/// A new recipient key pair: (private, public).
pub fn keypair() -> Result<(Zeroizing<[u8; 32]>, [u8; 32]), SealError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut()).map_err(|_| SealError::Random)?;
    let public = PublicKey::from(&StaticSecret::from(*secret)).to_bytes();
    Ok((secret, public))
}

/// A recipient key's id: the first 16 hex digits of the SHA-256 of its public key.
pub fn key_id(public: &[u8; 32]) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(public)[..8])
}

pub fn public_of(secret: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
}

/// Seals `plaintext` to `recipient`; `context` (e.g. the case number) must match on opening.
pub fn seal(recipient: &[u8; 32], plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut ephemeral_secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(ephemeral_secret.as_mut()).map_err(|_| SealError::Random)?;
    let ephemeral = StaticSecret::from(*ephemeral_secret);
    let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
    let shared = ephemeral.diffie_hellman(&PublicKey::from(*recipient));
    let key = key(shared.as_bytes(), &ephemeral_public, recipient, context);
    // The key is used once (the ephemeral key is new every time), so a fixed nonce is safe.
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_slice()).expect("a 32-byte key");
    let sealed = cipher
        .encrypt(
            &[0u8; 12].into(),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .map_err(|_| SealError::Unopenable)?;
    let mut out = ephemeral_public.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

pub fn open(
    secret: &[u8; 32],
    sealed: &[u8],
    context: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.len() < 32 + 16 {
        return Err(SealError::Truncated);
    }
    let (ephemeral_public, ciphertext) = sealed.split_at(32);
    let ephemeral_public: [u8; 32] = ephemeral_public
        .try_into()
        .map_err(|_| SealError::Truncated)?;
    let recipient_secret = StaticSecret::from(*secret);
    let recipient_public = PublicKey::from(&recipient_secret).to_bytes();
    let shared = recipient_secret.diffie_hellman(&PublicKey::from(ephemeral_public));
    let key = key(
        shared.as_bytes(),
        &ephemeral_public,
        &recipient_public,
        context,
    );
    let cipher = ChaCha20Poly1305::new_from_slice(key.as_slice()).expect("a 32-byte key");
    cipher
        .decrypt(
            &[0u8; 12].into(),
            Payload {
                msg: ciphertext,
                aad: context,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::Unopenable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recipient_opens_what_was_sealed_to_it() {
        let (secret, public) = keypair().unwrap();
        let sealed = seal(&public, b"Start-Haslo-9x", b"ZSZO-05/2026/000001").unwrap();
        assert!(!sealed.windows(14).any(|w| w == b"Start-Haslo-9x"));
        assert_eq!(
            open(&secret, &sealed, b"ZSZO-05/2026/000001")
                .unwrap()
                .as_slice(),
            b"Start-Haslo-9x"
        );
        let (other, _) = keypair().unwrap();
        assert_eq!(
            open(&other, &sealed, b"ZSZO-05/2026/000001").unwrap_err(),
            SealError::Unopenable
        );
    }

    #[test]
    fn a_sealed_box_opens_only_in_its_context_and_unaltered() {
        let (secret, public) = keypair().unwrap();
        let mut sealed = seal(&public, b"x", b"case-1").unwrap();
        assert_eq!(
            open(&secret, &sealed, b"case-2").unwrap_err(),
            SealError::Unopenable
        );
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(
            open(&secret, &sealed, b"case-1").unwrap_err(),
            SealError::Unopenable
        );
        assert_eq!(
            open(&secret, &sealed[..40], b"case-1").unwrap_err(),
            SealError::Truncated
        );
    }

    #[test]
    fn two_seals_of_the_same_secret_differ() {
        let (_, public) = keypair().unwrap();
        assert_ne!(
            seal(&public, b"x", b"c").unwrap(),
            seal(&public, b"x", b"c").unwrap()
        );
    }
}
