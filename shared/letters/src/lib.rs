//! The credentials letter of procedures ZSZO-05 and PZO-01: a one-page Polish PDF with the
//! login, the starting password, the access portal's address and the rule that the
//! password is changed at the first login.
//!
//! Electronic delivery encrypts the letter with a fresh cipher password (AES-256, either
//! the PDF itself or an AES ZIP around it) and sends the cipher password by SMS; in-person
//! delivery prints the unencrypted letter. Everything here is pure: no clock, no I/O
//! besides the operating system's random numbers.

mod cipher;
mod content;
mod error;
mod fonts;
mod forms;
mod protect;
mod render;

pub use cipher::{CIPHER_ALPHABET, CIPHER_PASSWORD_LEN, cipher_password, cipher_password_of_len};
pub use content::{AccountKind, LetterContent, PersonName, polish_date_time};
pub use error::LetterError;
pub use forms::{F02Content, render_f02, render_f04};
pub use protect::{MIN_CIPHER_PASSWORD_LEN, encrypt_pdf, zip_aes};
pub use render::render_pdf;
