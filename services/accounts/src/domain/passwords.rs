//! Passwords: generated from the OS CSPRNG, kept only as argon2id hashes, and checked
//! against the policy when a user sets his own.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};

/// Letters and digits without look-alikes (0/O/o, 1/l/I) and a few unambiguous symbols.
pub const STARTING_ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789#%+=?";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP's minimum for argon2id.
    pub const OWASP: HashCost = HashCost {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };
}

pub struct Hasher {
    argon2: Argon2<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2: {0}")]
    Hash(String),
    #[error("the OS random generator failed: {0}")]
    Random(String),
}

impl Hasher {
    pub fn new(cost: HashCost) -> Result<Self, PasswordError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        })
    }

    pub fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
        self.argon2
            .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        self.argon2
            .verify_password(password.as_bytes(), hash)
            .is_ok()
    }
}

/// A fresh starting password of `length` characters from [`STARTING_ALPHABET`].
pub fn generate(length: usize) -> Result<SecretString, PasswordError> {
    let alphabet: Vec<char> = STARTING_ALPHABET.chars().collect();
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while out.len() < length {
        getrandom::fill(&mut buffer).map_err(|e| PasswordError::Random(e.to_string()))?;
        for b in buffer {
            if (b as usize) < limit && out.len() < length {
                out.push(alphabet[b as usize % alphabet.len()]);
            }
        }
    }
    Ok(SecretString::from(out))
}

/// The shortest new password accepted.
pub const MIN_LENGTH: usize = 12;

/// The policy as the portal explains it next to the field, rule by rule, in Polish.
pub const POLICY_RULES: &[&str] = &[
    "co najmniej 12 znaków (najwyżej 256); długie hasło złożone z kilku słów jest dobre i łatwe do zapamiętania",
    "inne niż login",
    "inne niż hasło startowe",
];

/// Why a new password is refused, in Polish for the user.
pub fn policy_violation(login: &str, new: &str, current: &str) -> Option<&'static str> {
    if new.chars().count() < MIN_LENGTH {
        Some("Nowe hasło musi mieć co najmniej 12 znaków.")
    } else if new.eq_ignore_ascii_case(login) {
        Some("Nowe hasło nie może być takie samo jak login.")
    } else if new == current {
        Some("Nowe hasło musi różnić się od hasła startowego.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_password_has_its_length_and_no_look_alikes() {
        let a = generate(14).unwrap();
        let b = generate(14).unwrap();
        assert_eq!(a.expose_secret().chars().count(), 14);
        assert!(
            a.expose_secret()
                .chars()
                .all(|c| STARTING_ALPHABET.contains(c))
        );
        assert!(!a.expose_secret().contains(['0', 'O', 'o', '1', 'l', 'I']));
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_is_argon2id_with_owasp_cost() {
        let hasher = Hasher::new(HashCost::OWASP).unwrap();
        let hash = hasher.hash(&SecretString::from("Tajne-Haslo-123")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("Tajne-Haslo-123", &hash));
        assert!(!hasher.verify("tajne-haslo-123", &hash));
    }

    #[test]
    fn the_policy_refuses_short_login_and_starting_passwords() {
        assert!(policy_violation("lzak", "krotkie", "x").is_some());
        assert!(policy_violation("lzakowalski12", "LZAKOWALSKI12", "x").is_some());
        assert!(policy_violation("lzak", "Start-Haslo-9x", "Start-Haslo-9x").is_some());
        assert_eq!(
            policy_violation("lzak", "Moje-Nowe-Haslo-2026", "Start-Haslo-9x"),
            None
        );
    }
}
