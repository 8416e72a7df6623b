//! Signed checkpoints: "the record at `position` has `hash`", signed with Ed25519 so that
//! cutting off the newest records, or rewriting the chain, shows.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

pub use contracts::events::AuditCheckpoint as Checkpoint;

/// Signing and checking, on the contract's type.
pub trait Signed: Sized {
    fn message(position: i64, hash_hex: &str, signed_at: DateTime<Utc>) -> String;
    fn sign(key: &SigningKey, position: i64, hash: &[u8], signed_at: DateTime<Utc>) -> Self;
    fn is_signed_by(&self, trusted: &VerifyingKey) -> bool;
}

impl Signed for Checkpoint {
    fn message(position: i64, hash_hex: &str, signed_at: DateTime<Utc>) -> String {
        format!(
            "klucznik-audit-checkpoint-v1\n{position}\n{hash_hex}\n{}",
            signed_at.timestamp_micros()
        )
    }

    fn sign(key: &SigningKey, position: i64, hash: &[u8], signed_at: DateTime<Utc>) -> Self {
        let signed_at = super::chain::to_stored_precision(signed_at);
        let hash = hex::encode(hash);
        let signature = key.sign(Self::message(position, &hash, signed_at).as_bytes());
        Self {
            position,
            hash,
            signed_at,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether `trusted` signed exactly this checkpoint.
    fn is_signed_by(&self, trusted: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let signature = Signature::from_bytes(&bytes);
        trusted
            .verify(
                Self::message(self.position, &self.hash, self.signed_at).as_bytes(),
                &signature,
            )
            .is_ok()
    }
}

/// Reads a 32-byte Ed25519 seed given as 64 hex characters.
pub fn signing_key_from_hex(text: &str) -> Result<SigningKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("expected 32 bytes (64 hex characters), got {}", bytes.len()))?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_checkpoint_verifies_with_its_key_only() {
        let cp = Checkpoint::sign(&key(1), 42, &[7; 32], DateTime::UNIX_EPOCH);
        assert!(cp.is_signed_by(&key(1).verifying_key()));
        assert!(!cp.is_signed_by(&key(2).verifying_key()));
    }

    #[test]
    fn a_changed_position_or_hash_breaks_the_signature() {
        let cp = Checkpoint::sign(&key(1), 42, &[7; 32], DateTime::UNIX_EPOCH);
        let trusted = key(1).verifying_key();
        let mut moved = cp.clone();
        moved.position = 41;
        assert!(!moved.is_signed_by(&trusted));
        let mut rehashed = cp;
        rehashed.hash = hex::encode([8; 32]);
        assert!(!rehashed.is_signed_by(&trusted));
    }

    #[test]
    fn a_key_must_be_64_hex_characters() {
        assert!(signing_key_from_hex(&"ab".repeat(32)).is_ok());
        assert!(signing_key_from_hex("abcd").is_err());
        assert!(signing_key_from_hex(&"zz".repeat(32)).is_err());
    }
}
