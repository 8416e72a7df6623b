//! Personal data minimised before anything is recorded: a PESEL becomes a keyed hash (for
//! look-up) and a masked form (for display); anything secret is removed.

use contracts::values::Pesel;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub struct Minimiser {
    pesel_key: Vec<u8>,
}

const REMOVED: &str = "[removed]";

impl Minimiser {
    pub fn new(pesel_key: Vec<u8>) -> Self {
        Self { pesel_key }
    }

    /// The keyed hash a PESEL is found by; without the key it cannot be reversed by trying
    /// every possible number.
    pub fn pesel_hash(&self, pesel: &Pesel) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.pesel_key)
            .expect("HMAC takes any key length");
        mac.update(pesel.as_str().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Minimises `body` in place; returns the hash of the first PESEL it held.
    pub fn minimise(&self, body: &mut Value) -> Option<String> {
        let mut first = None;
        self.walk(body, None, &mut first);
        first
    }

    fn walk(&self, value: &mut Value, key: Option<&str>, first: &mut Option<String>) {
        if let Some(key) = key
            && is_secret_key(key)
            && !value.is_null()
        {
            *value = Value::String(REMOVED.to_owned());
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k), first);
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.walk(v, key, first);
                }
            }
            Value::String(s) if key.is_some_and(is_pesel_key) => {
                *value = match Pesel::parse(s) {
                    Ok(pesel) => {
                        let hash = self.pesel_hash(&pesel);
                        first.get_or_insert_with(|| hash.clone());
                        json!({ "pesel_masked": pesel.masked(), "pesel_hash": hash })
                    }
                    Err(_) => json!({ "pesel_invalid": true }),
                };
            }
            _ => {}
        }
    }
}

/// A field that holds a PESEL; one that holds it masked already (`pesel_masked`) is kept.
fn is_pesel_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("pesel") && !key.ends_with("masked")
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "sealed",
        "cipher",
        "token",
        "totp",
        "private_key",
    ]
    .iter()
    .any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pesel_anywhere_becomes_a_mask_and_a_keyed_hash() {
        let m = Minimiser::new(b"key".to_vec());
        let mut body = json!({ "data": { "person": { "pesel": "44051401359", "name": "Jan" } } });
        let first = m.minimise(&mut body).unwrap();
        assert_eq!(
            body["data"]["person"]["pesel"]["pesel_masked"],
            "*********59"
        );
        assert_eq!(
            body["data"]["person"]["pesel"]["pesel_hash"],
            first.as_str()
        );
        assert!(!body.to_string().contains("44051401359"));
        let other_key = Minimiser::new(b"other".to_vec());
        assert_ne!(
            other_key.pesel_hash(&Pesel::parse("44051401359").unwrap()),
            first
        );
    }

    #[test]
    fn secrets_are_removed_whatever_their_shape() {
        let m = Minimiser::new(b"key".to_vec());
        let mut body = json!({
            "data": { "sealed_credentials": "AAAA", "starting_password": "x", "Token": {"a": 1}, "login": "lzak" }
        });
        assert_eq!(m.minimise(&mut body), None);
        assert_eq!(body["data"]["sealed_credentials"], REMOVED);
        assert_eq!(body["data"]["starting_password"], REMOVED);
        assert_eq!(body["data"]["Token"], REMOVED);
        assert_eq!(body["data"]["login"], "lzak");
    }

    #[test]
    fn only_fields_named_pesel_are_treated_as_pesel() {
        let m = Minimiser::new(b"key".to_vec());
        let mut body = json!({ "phone": "44051401359", "pesel": "44051401358" });
        assert_eq!(
            m.minimise(&mut body),
            None,
            "an invalid PESEL is not hashed"
        );
        assert_eq!(body["phone"], "44051401359");
        assert_eq!(body["pesel"], json!({ "pesel_invalid": true }), "nor kept");
    }
}
