//! TOTP (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), the second factor of the
//! department's administrators and operators.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const STEP: i64 = 30;
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text
        .trim_end_matches('=')
        .bytes()
        .filter(|c| !c.is_ascii_whitespace())
    {
        let value = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The code for the step that contains `unix_seconds`.
pub fn code(secret: &[u8], unix_seconds: i64) -> String {
    let counter = (unix_seconds.div_euclid(STEP)) as u64;
    let mut mac =
        <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// Whether `given` is the code of this step or of a neighbouring one (clock drift).
/// The time step (counter) whose code `given` is, allowing one step of clock drift either
/// way; `None` when it is none of them. A step is accepted once: the caller records it.
pub fn matching_step(secret_base32: &str, given: &str, unix_seconds: i64) -> Option<i64> {
    let secret = base32_decode(secret_base32)?;
    let given = given.trim();
    if given.len() != 6 {
        return None;
    }
    [-STEP, 0, STEP].iter().find_map(|d| {
        let at = unix_seconds + d;
        constant_time_eq(code(&secret, at).as_bytes(), given.as_bytes())
            .then(|| at.div_euclid(STEP))
    })
}

pub fn verify(secret_base32: &str, given: &str, unix_seconds: i64) -> bool {
    matching_step(secret_base32, given, unix_seconds).is_some()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_6238_test_vector_gives_its_codes() {
        let secret = b"12345678901234567890";
        assert_eq!(code(secret, 59), "287082");
        assert_eq!(code(secret, 1_111_111_109), "081804");
        assert_eq!(code(secret, 2_000_000_000), "279037");
    }

    #[test]
    fn base32_round_trips_and_a_neighbouring_step_is_accepted() {
        let secret = b"12345678901234567890";
        let text = base32_encode(secret);
        assert_eq!(text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode(&text).unwrap(), secret);
        assert!(verify(&text, "287082", 59 + 30));
        assert_eq!(matching_step(&text, "287082", 59), Some(1));
        assert_eq!(matching_step(&text, "287082", 59 + 30), Some(1));
        assert!(!verify(&text, "287082", 59 + 90));
        assert!(!verify(&text, "28708", 59));
    }
}
