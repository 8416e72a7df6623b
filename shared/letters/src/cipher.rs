//! Cipher passwords: the one-time password that opens an encrypted letter, sent by SMS.
//!
//! Drawn from the operating system's CSPRNG over an alphabet that survives being read
//! aloud, typed from a phone screen and sent as plain GSM-7: ASCII letters and digits
//! without the look-alikes 0/O/o and 1/l/I. 56 symbols, so 16 of them carry about
//! 93 bits.

use secrecy::SecretString;
use secrecy::zeroize::Zeroize;

use crate::LetterError;

/// Letters and digits without 0, O, o, 1, l, I: nothing one can mistake for another.
pub const CIPHER_ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// Length of a cipher password unless asked otherwise.
pub const CIPHER_PASSWORD_LEN: usize = 16;

/// A fresh random cipher password of [`CIPHER_PASSWORD_LEN`] characters.
pub fn cipher_password() -> Result<SecretString, LetterError> {
    cipher_password_of_len(CIPHER_PASSWORD_LEN)
}

/// A fresh random cipher password of `len` characters from [`CIPHER_ALPHABET`].
pub fn cipher_password_of_len(len: usize) -> Result<SecretString, LetterError> {
    let alphabet = CIPHER_ALPHABET.as_bytes();
    // Bytes at or above the largest multiple of the alphabet's size are thrown away,
    // so that every symbol is equally likely (no modulo bias).
    let limit = 256 - 256 % alphabet.len();
    let mut password = String::with_capacity(len);
    let mut pool = [0u8; 64];
    while password.len() < len {
        getrandom::fill(&mut pool).map_err(LetterError::Random)?;
        for &byte in &pool {
            if password.len() == len {
                break;
            }
            if usize::from(byte) < limit {
                password.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
            }
        }
    }
    pool.zeroize();
    Ok(SecretString::from(password))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_alphabet_has_no_look_alikes_and_no_repeats() {
        for c in ['0', 'O', 'o', '1', 'l', 'I'] {
            assert!(!CIPHER_ALPHABET.contains(c), "{c} is in the alphabet");
        }
        let unique: HashSet<char> = CIPHER_ALPHABET.chars().collect();
        assert_eq!(unique.len(), CIPHER_ALPHABET.len());
        assert!(CIPHER_ALPHABET.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn a_cipher_password_has_the_asked_length() {
        for len in [1, 12, 16, 100] {
            assert_eq!(
                cipher_password_of_len(len).unwrap().expose_secret().len(),
                len
            );
        }
    }

    #[test]
    fn every_symbol_of_the_alphabet_turns_up() {
        let drawn = cipher_password_of_len(5_000).unwrap();
        let seen: HashSet<char> = drawn.expose_secret().chars().collect();
        assert_eq!(seen.len(), CIPHER_ALPHABET.len());
    }
}
