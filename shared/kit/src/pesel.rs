//! A PESEL's index: its keyed hash, to find the same person again without keeping the
//! number. Without the key it cannot be reversed by trying every possible number.

use hmac::{KeyInit, Mac};

pub fn index(pesel: &str, key: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(b"pesel:");
    mac.update(pesel.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_number_gives_the_same_index_only_under_the_same_key() {
        let pesel = "44051401359";
        assert_eq!(index(pesel, &[1; 32]), index(pesel, &[1; 32]));
        assert_ne!(index(pesel, &[1; 32]), index(pesel, &[2; 32]));
        assert_ne!(index(pesel, &[1; 32]), index("02070803628", &[1; 32]));
        assert!(!index(pesel, &[1; 32]).contains(pesel));
    }
}
