//! Locks a letter for electronic delivery: AES-256 inside the PDF (security handler
//! revision 6, PDF 2.0), or an AES-256 ZIP around it. Either opens in ordinary software
//! once the cipher password from the SMS is typed in, and not without it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Cursor, Write as _};
use std::sync::Arc;

use lopdf::encryption::crypt_filters::{Aes256CryptFilter, CryptFilter};
use lopdf::{Document, EncryptionState, EncryptionVersion, Permissions};
use secrecy::zeroize::Zeroizing;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::LetterError;

/// The shortest cipher password a letter is locked with: an SMS-borne password is all
/// that protects the attachment, so a short one is refused rather than used.
pub const MIN_CIPHER_PASSWORD_LEN: usize = 12;

/// PDF (revision 6) and WinZip AES readers both take at most 127 bytes of password; a
/// longer one would be cut silently by one reader and not by another.
const MAX_CIPHER_PASSWORD_BYTES: usize = 127;

/// The letter, encrypted with AES-256 (PDF 2.0 standard security handler, revision 6).
/// `cipher_password` is the user password; the owner password is random and thrown away,
/// so nobody can lift the permissions (print and copy stay allowed).
pub fn encrypt_pdf(pdf: &[u8], cipher_password: &str) -> Result<Vec<u8>, LetterError> {
    check_cipher_password(cipher_password)?;
    let mut doc = Document::load_mem(pdf)?;

    let mut file_key = Zeroizing::new([0u8; 32]);
    getrandom::fill(file_key.as_mut()).map_err(LetterError::Random)?;
    // 128 random bits: out of reach of guessing, and short, because revision 6 hashes the
    // owner password (64 times over, in rounds of at least 64) for /O and /OE.
    let mut owner_seed = Zeroizing::new([0u8; 16]);
    getrandom::fill(owner_seed.as_mut()).map_err(LetterError::Random)?;
    let mut owner_password = Zeroizing::new(String::with_capacity(32));
    for byte in owner_seed.iter() {
        let _ = write!(owner_password, "{byte:02x}");
    }

    let filter: Arc<dyn CryptFilter> = Arc::new(Aes256CryptFilter);
    let state = EncryptionState::try_from(EncryptionVersion::V5 {
        encrypt_metadata: true,
        crypt_filters: BTreeMap::from([(b"StdCF".to_vec(), filter)]),
        file_encryption_key: file_key.as_ref(),
        stream_filter: b"StdCF".to_vec(),
        string_filter: b"StdCF".to_vec(),
        owner_password: &owner_password,
        user_password: cipher_password,
        permissions: Permissions::PRINTABLE
            | Permissions::PRINTABLE_IN_HIGH_QUALITY
            | Permissions::COPYABLE
            | Permissions::COPYABLE_FOR_ACCESSIBILITY,
    })?;
    // AES-256 with revision 6 is PDF 2.0's security handler.
    doc.version = "2.0".to_owned();
    doc.encrypt(&state)?;

    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).map_err(lopdf::Error::from)?;
    Ok(bytes)
}

/// The letter as the only file of a ZIP encrypted with AES-256 (WinZip AE-2), for
/// institutions whose mail filters or readers do not take encrypted PDFs. The file is
/// stored, not deflated: a PDF's streams are compressed already.
pub fn zip_aes(pdf: &[u8], file_name: &str, cipher_password: &str) -> Result<Vec<u8>, LetterError> {
    check_cipher_password(cipher_password)?;
    check_file_name(file_name)?;

    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .with_aes_encryption(AesMode::Aes256, cipher_password);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(file_name, options)?;
    zip.write_all(pdf).map_err(zip::result::ZipError::from)?;
    Ok(zip.finish()?.into_inner())
}

fn check_cipher_password(password: &str) -> Result<(), LetterError> {
    if password.chars().count() < MIN_CIPHER_PASSWORD_LEN {
        return Err(LetterError::CipherPasswordTooShort {
            min: MIN_CIPHER_PASSWORD_LEN,
        });
    }
    if password.len() > MAX_CIPHER_PASSWORD_BYTES {
        return Err(LetterError::CipherPasswordTooLong {
            max: MAX_CIPHER_PASSWORD_BYTES,
        });
    }
    Ok(())
}

/// The name is visible without the password (ZIP does not encrypt names) and lands on
/// the recipient's disk: one plain name, no path, nothing secret.
fn check_file_name(name: &str) -> Result<(), LetterError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':'])
        && !name.chars().any(char::is_control);
    if plain {
        Ok(())
    } else {
        Err(LetterError::InvalidFileName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_cipher_password_is_refused() {
        let err = encrypt_pdf(b"%PDF-1.7", "short").unwrap_err();
        assert!(matches!(
            err,
            LetterError::CipherPasswordTooShort { min: 12 }
        ));
        let err = zip_aes(b"x", "a.pdf", "short").unwrap_err();
        assert!(matches!(err, LetterError::CipherPasswordTooShort { .. }));
    }

    #[test]
    fn a_cipher_password_longer_than_127_bytes_is_refused() {
        let long = "ż".repeat(64);
        assert!(matches!(
            zip_aes(b"x", "a.pdf", &long),
            Err(LetterError::CipherPasswordTooLong { max: 127 })
        ));
    }

    #[test]
    fn a_file_name_with_a_path_is_refused() {
        for name in [
            "",
            ".",
            "..",
            "../a.pdf",
            "dir/a.pdf",
            "c:\\a.pdf",
            "a\n.pdf",
        ] {
            assert!(
                matches!(
                    zip_aes(b"x", name, "Xy7#kQ-2mP_9aZ"),
                    Err(LetterError::InvalidFileName)
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn something_that_is_not_a_pdf_is_not_encrypted() {
        assert!(matches!(
            encrypt_pdf(b"not a pdf", "Xy7#kQ-2mP_9aZ"),
            Err(LetterError::Pdf(_))
        ));
    }
}
